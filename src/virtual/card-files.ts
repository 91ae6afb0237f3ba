/**
 * The virtual card's file system (ISO/IEC 7816-4 files and commands): a tree of
 * DFs and transparent EFs from a `VirtualDfSpec`, the current DF and EF,
 * SELECT with its FCI / FCP answer, and READ BINARY.
 */
import { bytesEqual, concatBytes } from '../bytes.js';
import type { ParsedApdu } from '../iso7816/apdu.js';
import { SW } from './card-status.js';

/** A transparent elementary file. */
export interface VirtualEfSpec {
  type: 'ef';
  fid: number;
  /** Short EF identifier (1..30) for READ BINARY with P1 = 100xxxxx. */
  sfi?: number;
  data: Uint8Array;
  /** PIN reference that must be verified to read the file. */
  readPin?: number;
  /** What the file is, for documentation and traces. */
  description?: string;
}

/** A dedicated file (the MF is the root DF, FID 3F00). */
export interface VirtualDfSpec {
  type: 'df';
  fid: number;
  /** DF name (application identifier). */
  aid?: Uint8Array;
  description?: string;
  children: Array<VirtualDfSpec | VirtualEfSpec>;
}

type Node = DfNode | EfNode;
interface DfNode {
  kind: 'df';
  fid: number;
  aid?: Uint8Array;
  parent?: DfNode;
  children: Node[];
}
interface EfNode {
  kind: 'ef';
  fid: number;
  sfi?: number;
  data: Uint8Array;
  readPin?: number;
  parent: DfNode;
}

function buildTree(spec: VirtualDfSpec, parent?: DfNode): DfNode {
  const df: DfNode = { kind: 'df', fid: spec.fid, children: [] };
  if (spec.aid) df.aid = spec.aid.slice();
  if (parent) df.parent = parent;
  for (const c of spec.children) {
    if (c.type === 'df') df.children.push(buildTree(c, df));
    else {
      const ef: EfNode = { kind: 'ef', fid: c.fid, data: c.data.slice(), parent: df };
      if (c.sfi !== undefined) ef.sfi = c.sfi;
      if (c.readPin !== undefined) ef.readPin = c.readPin;
      df.children.push(ef);
    }
  }
  return df;
}

/** Tag-length-value with a short or long (81 / 82) length. */
function tlv(tag: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  const len = n < 0x80 ? Uint8Array.of(n) : n < 0x100 ? Uint8Array.of(0x81, n) : Uint8Array.of(0x82, n >> 8, n & 0xff);
  return concatBytes(Uint8Array.of(tag), len, value);
}

/** The card's files and its current DF / EF. */
export class CardFileSystem {
  private readonly mf: DfNode;
  private currentDf: DfNode;
  private currentEf: EfNode | undefined;

  constructor(spec: VirtualDfSpec) {
    this.mf = buildTree(spec);
    this.currentDf = this.mf;
  }

  /** After a reset: the MF is the current DF, no current EF. */
  reset(): void {
    this.currentDf = this.mf;
    this.currentEf = undefined;
  }

  /** SELECT (A4): see the command list in card.ts. */
  select(cmd: ParsedApdu): [Uint8Array, number] {
    const none = new Uint8Array(0);
    const data = cmd.data ?? none;
    const fids: number[] = [];
    for (let i = 0; i + 1 < data.length; i += 2) fids.push((data[i]! << 8) | data[i + 1]!);
    let target: Node | undefined;
    switch (cmd.p1) {
      case 0x00:
        if (data.length === 0 || (data.length === 2 && fids[0] === 0x3f00)) target = this.mf;
        else if (data.length === 2) target = this.findByFid(fids[0]!);
        else return [none, SW.WRONG_DATA];
        break;
      case 0x01:
        if (data.length !== 2) return [none, SW.WRONG_DATA];
        target = this.currentDf.children.find((c) => c.kind === 'df' && c.fid === fids[0]);
        break;
      case 0x02:
        if (data.length !== 2) return [none, SW.WRONG_DATA];
        target = this.currentDf.children.find((c) => c.kind === 'ef' && c.fid === fids[0]);
        break;
      case 0x03:
        if (data.length !== 0) return [none, SW.WRONG_DATA];
        target = this.currentDf.parent;
        break;
      case 0x04:
        if (data.length === 0 || data.length > 16) return [none, SW.WRONG_DATA];
        target = this.findByAid(this.mf, data);
        break;
      case 0x08:
      case 0x09: {
        if (data.length === 0 || data.length % 2 !== 0) return [none, SW.WRONG_DATA];
        let node: Node | undefined = cmd.p1 === 0x08 ? this.mf : this.currentDf;
        for (const fid of fids) {
          if (!node || node.kind !== 'df') {
            node = undefined;
            break;
          }
          node = node.children.find((c: Node) => c.fid === fid);
        }
        target = node;
        break;
      }
      default:
        return [none, SW.WRONG_P1P2];
    }
    const answer = cmd.p2 & 0xf3;
    if (answer !== 0x00) return [none, SW.WRONG_P1P2];
    if (!target) return [none, SW.NOT_FOUND];
    if (target.kind === 'df') {
      this.currentDf = target;
      this.currentEf = undefined;
    } else {
      this.currentDf = target.parent;
      this.currentEf = target;
    }
    const kind = cmd.p2 & 0x0c;
    if (kind === 0x0c) return [none, SW.OK];
    const fcp = this.fcp(target);
    return [tlv(kind === 0x04 ? 0x62 : 0x6f, fcp), SW.OK];
  }

  private fcp(node: Node): Uint8Array {
    const parts: Uint8Array[] = [];
    if (node.kind === 'ef') {
      parts.push(tlv(0x80, Uint8Array.of(node.data.length >> 8, node.data.length & 0xff)));
      parts.push(tlv(0x82, Uint8Array.of(0x01)));
    } else {
      parts.push(tlv(0x82, Uint8Array.of(0x38)));
    }
    parts.push(tlv(0x83, Uint8Array.of(node.fid >> 8, node.fid & 0xff)));
    if (node.kind === 'df' && node.aid) parts.push(tlv(0x84, node.aid));
    if (node.kind === 'ef' && node.sfi !== undefined) parts.push(tlv(0x88, Uint8Array.of(node.sfi << 3)));
    parts.push(tlv(0x8a, Uint8Array.of(0x05)));
    return concatBytes(...parts);
  }

  private findByFid(fid: number): Node | undefined {
    const df = this.currentDf;
    if (df.fid === fid) return df;
    const child = df.children.find((c) => c.fid === fid);
    if (child) return child;
    const parent = df.parent;
    if (parent) {
      if (parent.fid === fid) return parent;
      return parent.children.find((c) => c.fid === fid);
    }
    return undefined;
  }

  private findByAid(df: DfNode, name: Uint8Array): DfNode | undefined {
    if (df.aid && df.aid.length >= name.length && bytesEqual(df.aid.subarray(0, name.length), name)) return df;
    for (const c of df.children) {
      if (c.kind !== 'df') continue;
      const hit = this.findByAid(c, name);
      if (hit) return hit;
    }
    return undefined;
  }

  /** READ BINARY (B0); `isVerified` says whether a PIN reference is verified in this session. */
  readBinary(cmd: ParsedApdu, isVerified: (reference: number) => boolean): [Uint8Array, number] {
    const none = new Uint8Array(0);
    let ef = this.currentEf;
    let offset: number;
    if (cmd.p1 & 0x80) {
      if (cmd.p1 & 0x60) return [none, SW.WRONG_P1P2];
      const sfi = cmd.p1 & 0x1f;
      const found = this.currentDf.children.find((c): c is EfNode => c.kind === 'ef' && c.sfi === sfi);
      if (!found) return [none, SW.NOT_FOUND];
      ef = found;
      this.currentEf = found;
      offset = cmd.p2;
    } else {
      offset = (cmd.p1 << 8) | cmd.p2;
    }
    if (!ef) return [none, SW.NO_CURRENT_EF];
    if (ef.readPin !== undefined && !isVerified(ef.readPin)) return [none, SW.SECURITY];
    const ne = cmd.le ?? 0;
    if (ne === 0) return [none, SW.WRONG_LENGTH];
    if (offset >= ef.data.length) return [none, SW.OFFSET_OUTSIDE];
    const out = ef.data.slice(offset, offset + ne);
    return [out, out.length < ne ? SW.END_OF_FILE : SW.OK];
  }
}
