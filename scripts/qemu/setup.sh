#!/bin/bash
# Prepare the QEMU USB lab used by test/qemu: a Debian kernel, an initramfs (busybox + USB host
# controller + virtio/9p modules + scripts/qemu/init) and an NSS database for QEMU's emulated card.
# Idempotent and fast when everything is cached. Never writes into the repository.
#
#   bash scripts/qemu/setup.sh            # prepare (installs missing Debian packages when root)
#   bash scripts/qemu/setup.sh --check    # only report what is missing; exit 1 if anything is
#
# Environment: WEBCCID_QEMU_DIR (work dir, default /tmp/webccid-qemu),
#              WEBCCID_QEMU_KERNEL_PKG (force a kernel package, e.g. linux-image-6.1.0-56-amd64).
set -euo pipefail

WORK=${WEBCCID_QEMU_DIR:-/tmp/webccid-qemu}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1
log() { echo "[qemu-setup] $*" >&2; }
export PATH=$PATH:/usr/sbin:/sbin

# ---- 1. Debian packages -------------------------------------------------------------------
# command -> package that provides it
declare -A NEED=(
  [qemu-system-x86_64]=qemu-system-x86
  [cpio]=cpio
  [modprobe]=kmod
  [depmod]=kmod
  [certutil]=libnss3-tools
  [xz]=xz-utils
  [zstd]=zstd
  [dpkg-deb]=dpkg
)
missing_pkgs() {
  local cmd
  for cmd in "${!NEED[@]}"; do command -v "$cmd" >/dev/null 2>&1 || echo "${NEED[$cmd]}"; done
  # the initramfs needs a statically linked busybox (the dynamic one has no libc in there)
  if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then echo busybox-static; fi
}
MISSING=$(missing_pkgs | sort -u | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$MISSING" ]; then
  if [ "$CHECK_ONLY" = 1 ]; then echo "missing Debian packages: $MISSING"; exit 1; fi
  if [ "$(id -u)" = 0 ]; then
    log "installing: $MISSING"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $MISSING >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends $MISSING >&2; }
  else
    echo "missing Debian packages (run as root: apt-get install -y $MISSING)" >&2
    exit 1
  fi
fi

# ---- 1b. pcscd + libccid for `npm run bench:qemu` (optional: the tests do not need them) ---------
# pcscd and libccid run inside the guest (from the host's root over 9p); the bench's PC/SC client is
# compiled on the host against libpcsclite. Missing ones are installed when root, never fatal.
PCSC_MISSING=$( {
  command -v pcscd >/dev/null 2>&1 || echo pcscd
  [ -e /usr/lib/pcsc/drivers/ifd-ccid.bundle ] || echo libccid
  pkg-config --exists libpcsclite 2>/dev/null || echo "libpcsclite-dev pkg-config"
  command -v cc >/dev/null 2>&1 || echo gcc
} | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$PCSC_MISSING" ]; then
  if [ "$CHECK_ONLY" = 0 ] && [ "$(id -u)" = 0 ]; then
    log "installing for bench:qemu: $PCSC_MISSING"
    # shellcheck disable=SC2086
    { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PCSC_MISSING >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PCSC_MISSING >&2; }; } \
      || log "could not install $PCSC_MISSING: bench:qemu will not measure pcscd + libccid"
  else
    log "bench:qemu will not measure pcscd + libccid without: $PCSC_MISSING"
  fi
fi

if [ "$CHECK_ONLY" = 0 ]; then
  mkdir -p "$WORK"
  exec 9>"$WORK/.setup.lock"
  flock 9   # one setup at a time (several test workers / engineers)
fi

# ---- 2. kernel ----------------------------------------------------------------------------
# Cached: $WORK/kernel.env names the unpacked kernel. Otherwise choose the newest
# linux-image-<version>-amd64[-unsigned] that is a real kernel (not a meta package, not cloud/rt).
if [ -f "$WORK/kernel.env" ] && [ -z "${WEBCCID_QEMU_KERNEL_PKG:-}" ]; then
  # shellcheck disable=SC1091
  . "$WORK/kernel.env"
fi
if [ -n "${WEBCCID_QEMU_KERNEL_PKG:-}" ] && [ "${KPKG:-}" != "$WEBCCID_QEMU_KERNEL_PKG" ]; then KPKG=""; fi
if [ -z "${KPKG:-}" ] || [ ! -f "${KIMAGE:-/nonexistent}" ]; then
  if [ "$CHECK_ONLY" = 1 ]; then echo "no kernel unpacked in $WORK (run scripts/qemu/setup.sh)"; exit 1; fi
  pick_kernel() {
    apt-cache search --names-only '^linux-image-[0-9][^ ]*-amd64(-unsigned)?$' \
      | grep -v -E 'meta-package|cloud|-rt-|-dbg' | awk '{print $1}' | sort -V | tail -1
  }
  KPKG=${WEBCCID_QEMU_KERNEL_PKG:-$(pick_kernel)}
  if [ -z "$KPKG" ] && [ "$(id -u)" = 0 ]; then apt-get update >&2; KPKG=$(pick_kernel); fi
  [ -n "$KPKG" ] || { echo "no linux-image-*-amd64 package found by apt-cache (apt-get update?)" >&2; exit 1; }
  log "kernel package: $KPKG"
  DL="$WORK/dl"; rm -rf "$DL"; mkdir -p "$DL"
  (cd "$DL" && apt-get download "$KPKG" >&2)
  KROOT="$WORK/kernel/$KPKG"
  rm -rf "$KROOT"; mkdir -p "$KROOT"
  dpkg-deb -x "$DL"/*.deb "$KROOT"
  rm -rf "$DL"
  KIMAGE=$(ls "$KROOT"/boot/vmlinuz-* | head -1)
  KVER=${KIMAGE##*/vmlinuz-}
  [ -d "$KROOT/lib/modules/$KVER" ] || { echo "kernel package $KPKG has no modules for $KVER" >&2; exit 1; }
  depmod -b "$KROOT" "$KVER"   # the package ships no modules.dep (its postinst makes it)
  printf 'KPKG=%s\nKROOT=%s\nKVER=%s\nKIMAGE=%s\n' "$KPKG" "$KROOT" "$KVER" "$KIMAGE" > "$WORK/kernel.env"
fi

# ---- 3. initramfs -------------------------------------------------------------------------
MODULES="xhci-pci ehci-pci uhci-hcd virtio_pci 9p 9pnet_virtio"
STAMP=$( { echo "$KPKG $MODULES"; cat "$HERE/init" /bin/busybox | sha256sum; } | sha256sum | cut -c1-16)
INITRD="$WORK/initramfs.cpio.gz"
if [ ! -f "$INITRD" ] || [ "$(cat "$WORK/initramfs.stamp" 2>/dev/null)" != "$STAMP" ]; then
  if [ "$CHECK_ONLY" = 1 ]; then echo "initramfs missing or stale in $WORK (run scripts/qemu/setup.sh)"; exit 1; fi
  log "building initramfs for $KVER"
  OUT="$WORK/initramfs.d"; rm -rf "$OUT"
  MD="$OUT/lib/modules/$KVER"
  mkdir -p "$OUT"/{bin,sbin,proc,sys,dev,tmp,host,etc} "$MD"
  cp /bin/busybox "$OUT/bin/busybox"
  SRC="$KROOT/lib/modules/$KVER"
  for m in $MODULES; do
    modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
  done | sort -u | while read -r f; do
    rel=${f#"$SRC"/}; mkdir -p "$MD/$(dirname "$rel")"
    # busybox modprobe cannot read compressed modules: store them plain
    case "$f" in
      *.ko.xz) xz -dc "$f" > "$MD/${rel%.xz}";;
      *.ko.zst) zstd -qdc "$f" > "$MD/${rel%.zst}";;
      *.ko.gz) gzip -dc "$f" > "$MD/${rel%.gz}";;
      *) cp "$f" "$MD/$rel";;
    esac
  done
  for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$SRC/$f" ] && sed -E 's/\.ko\.(xz|zst|gz)$/.ko/' "$SRC/$f" > "$MD/$f"
  done
  depmod -b "$OUT" "$KVER"
  cp "$HERE/init" "$OUT/init"; chmod +x "$OUT/init"
  (cd "$OUT" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"; echo "$STAMP" > "$WORK/initramfs.stamp"
  rm -rf "$OUT"
fi

# ---- 4. NSS database for ccid-card-emulated,backend=certificates -------------------------
NSSDB="$WORK/nssdb"
if ! certutil -L -d "sql:$NSSDB" -n encryption-cert >/dev/null 2>&1; then
  if [ "$CHECK_ONLY" = 1 ]; then echo "NSS database missing in $NSSDB (run scripts/qemu/setup.sh)"; exit 1; fi
  log "creating NSS database $NSSDB"
  rm -rf "$NSSDB"; mkdir -p "$NSSDB"
  certutil -N -d "sql:$NSSDB" --empty-password
  head -c 2048 /dev/urandom > "$WORK/noise"
  certutil -S -d "sql:$NSSDB" -z "$WORK/noise" -n webccid-ca -s "CN=webccid test CA" -x -t "CT,C,C" -k rsa -g 2048 -v 240 >/dev/null
  serial=10
  for n in id-cert signing-cert encryption-cert; do
    head -c 2048 /dev/urandom > "$WORK/noise"
    certutil -S -d "sql:$NSSDB" -z "$WORK/noise" -n "$n" -s "CN=webccid $n" -c webccid-ca -t ",," -k rsa -g 2048 -v 240 -m $((serial++)) >/dev/null
  done
  rm -f "$WORK/noise"
fi

LAB_ENV=$(printf 'WEBCCID_QEMU_DIR=%s\nKERNEL=%s\nINITRD=%s\nNSSDB=%s\n' "$WORK" "$KIMAGE" "$INITRD" "$NSSDB")
if [ "$CHECK_ONLY" = 0 ]; then
  echo "$LAB_ENV" > "$WORK/lab.env"
elif [ "$(cat "$WORK/lab.env" 2>/dev/null)" != "$LAB_ENV" ]; then
  echo "$WORK/lab.env is stale (run scripts/qemu/setup.sh)"; exit 1
fi
log "ready: $(echo "$LAB_ENV" | tr '\n' ' ')"
