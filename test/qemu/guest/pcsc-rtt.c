/*
 * Runs INSIDE the QEMU guest, for `npm run bench:qemu` (test/qemu/guest/bench-rtt.mjs starts pcscd,
 * runs this client, stops pcscd) and for `npm run test:qemu-browser` (test/qemu-browser/guest/
 * browser-run.mjs, on the VSCard card). A minimal PC/SC client on Debian's libpcsclite: it connects
 * to the first reader (shared, T=0), sends the same APDU WARMUP + N times with SCardTransmit and
 * prints one JSON object on stdout: the answer of the last APDU and the round trip of each timed APDU
 * in ms (CLOCK_MONOTONIC around SCardTransmit alone: the pcscd socket round trip, libccid and the USB
 * transfers). Built on the host by scripts/qemu/bench.ts:
 *   cc -O2 -o pcsc-rtt pcsc-rtt.c $(pkg-config --cflags --libs libpcsclite)
 *   pcsc-rtt [--get-response] N WARMUP APDU-HEX
 * --get-response: does what an application on PC/SC does with a T=0 card, since neither pcsc-lite
 * nor libccid does it (ISO/IEC 7816-3 §12.2.2 / 7816-4 §5.3.4): an answer 61xx is followed by GET
 * RESPONSE (00 C0 00 00 xx), again while it says 61xx, and 6Cxx by the same command with Le = xx;
 * the timed figure of an APDU then covers all its SCardTransmit calls, and "transmits" in the output
 * counts them (timed APDUs only). Without the option (what bench:qemu uses) one SCardTransmit each.
 */
#include <PCSC/winscard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(const char *what, LONG rv) {
  printf("{\"ok\":false,\"error\":\"%s: %s (0x%08lx)\"}\n", what, pcsc_stringify_error(rv), (unsigned long)rv);
  return 1;
}

int main(int argc, char **argv) {
  int getResponse = argc > 1 && strcmp(argv[1], "--get-response") == 0;
  if (getResponse) {
    argv++;
    argc--;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: %s [--get-response] N WARMUP APDU-HEX\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]), warmup = atoi(argv[2]);
  const char *hex = argv[3];
  BYTE apdu[261];
  DWORD apduLen = strlen(hex) / 2;
  if (n <= 0 || warmup < 0 || apduLen == 0 || apduLen > sizeof apdu) return 2;
  for (DWORD i = 0; i < apduLen; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return 2;
    apdu[i] = (BYTE)v;
  }
  double *times = calloc(n, sizeof *times);
  if (!times) return 2;

  SCARDCONTEXT ctx;
  LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
  if (rv != SCARD_S_SUCCESS) return fail("SCardEstablishContext", rv);
  char readers[1024];
  DWORD readersLen = sizeof readers;
  /* pcscd has just been started: wait (up to 20 s) for it to find the reader and the card */
  for (int tries = 0;; tries++) {
    readersLen = sizeof readers;
    rv = SCardListReaders(ctx, NULL, readers, &readersLen);
    if (rv != SCARD_E_NO_READERS_AVAILABLE || tries >= 200) break;
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
  }
  if (rv != SCARD_S_SUCCESS) return fail("SCardListReaders", rv);
  SCARDHANDLE card;
  DWORD protocol;
  for (int tries = 0;; tries++) {
    rv = SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &protocol);
    if ((rv != SCARD_E_NO_SMARTCARD && rv != SCARD_W_REMOVED_CARD && rv != SCARD_E_SHARING_VIOLATION) || tries >= 200) break;
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
  }
  if (rv != SCARD_S_SUCCESS) return fail("SCardConnect", rv);
  const SCARD_IO_REQUEST *pci = protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;

  BYTE answer[258];
  DWORD answerLen = 0;
  long transmits = 0;
  for (int i = 0; i < warmup + n; i++) {
    answerLen = sizeof answer;
    double t = now_ms();
    rv = SCardTransmit(card, pci, apdu, apduLen, NULL, answer, &answerLen);
    int calls = 1;
    /* --get-response: 61xx -> GET RESPONSE xx (repeated while 61xx); 6Cxx -> the command again with Le = xx */
    while (getResponse && rv == SCARD_S_SUCCESS && answerLen == 2 && (answer[0] == 0x61 || answer[0] == 0x6c) && calls < 64) {
      BYTE again[261];
      DWORD againLen;
      if (answer[0] == 0x61) {
        const BYTE get[5] = {apdu[0] & 0x03, 0xc0, 0x00, 0x00, answer[1]};
        memcpy(again, get, sizeof get);
        againLen = sizeof get;
      } else {
        /* the command header, its data if any, Le = xx (a case 2 command's Le replaced) */
        againLen = apduLen == 5 ? 4 : apduLen;
        memcpy(again, apdu, againLen);
        if (againLen == apduLen && apduLen > 5 && apduLen == 5u + apdu[4] + 1u) againLen--;
        if (againLen >= sizeof again) return 2;
        again[againLen++] = answer[1];
      }
      answerLen = sizeof answer;
      rv = SCardTransmit(card, pci, again, againLen, NULL, answer, &answerLen);
      calls++;
    }
    double dt = now_ms() - t;
    if (rv != SCARD_S_SUCCESS) return fail("SCardTransmit", rv);
    if (i >= warmup) {
      times[i - warmup] = dt;
      transmits += calls;
    }
  }
  SCardDisconnect(card, SCARD_UNPOWER_CARD);
  SCardReleaseContext(ctx);

  printf("{\"ok\":true,\"reader\":\"%s\",\"protocol\":%lu,\"answer\":\"", readers, (unsigned long)protocol);
  for (DWORD i = 0; i < answerLen; i++) printf("%02x", answer[i]);
  printf("\",\"transmits\":%ld,\"times\":[", transmits);
  for (int i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", times[i]);
  printf("]}\n");
  free(times);
  return 0;
}
