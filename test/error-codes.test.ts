/**
 * docs/errors.md and the code agree: every error code that src/ can produce is documented
 * (one table row per code, first cell `code`, second cell naming the class), and every
 * documented code is still produced.
 *
 * The codes are found with the TypeScript parser, not by matching text:
 * - `new X('code', ...)` where X is WebCcidError or any class that extends it (found by walking
 *   `class ... extends` in src/);
 * - classes whose constructor fixes the code (`super('apdu/pin-incorrect', ...)`);
 * - code tables read by a `new X(<expression>, ...)`: such a call must be registered in
 *   CODE_TABLES below, otherwise the test fails and names the call.
 * src/virtual is scanned too (it throws WebCcidError with `virtual/*` codes).
 *
 * The `WebCcidErrorCode` union (src/error-codes.ts) is read the same way (its string literal
 * members) and must be exactly the codes found, so the compiler's checks that rest on it (the
 * exhaustive `describeError`) cover every code.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERROR_TEXT, englishErrorText, templateFacts } from '../src/error-text-all.js';
import { HCA_ERROR_TEXT } from '../src/hca/error-text.js';
import { SESSION_ERROR_TEXT } from '../src/session/error-text.js';
import { COMPONENTS_ERROR_TEXT } from '../src/components/error-text.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const DOC = join(ROOT, 'docs', 'errors.md');

/**
 * Constructor calls whose code is not a literal but read from a table in the same file, by file
 * and the first argument's source text. The table's codes are the string literals of that file
 * that are a `code:` property value, the value of a numeric key (`{ 0xfe: 'ccid/icc-mute' }`) or
 * the first element of an array literal (`['ccid/x', 'text']`).
 */
const CODE_TABLES: Record<string, string[]> = {
  'src/ccid/messages.ts': ['known'],
  'src/iso7816/status.ts': ['code'],
};

/** Codes the scan must find (one of each way a code can be written). */
const KNOWN_CODES = [
  'transport/timeout', // literal
  'transport/os-held', // literal on the line after `new TransportError(`
  'protocol/t1-resynchronised', // literal inside a helper method
  'ccid/icc-mute', // slotErrorFrom's table
  'ccid/card-absent',
  'apdu/file-not-found', // status.ts's table
  'apdu/status',
  'apdu/pin-incorrect', // fixed by PinIncorrectError
  'apdu/pin-blocked', // fixed by PinBlockedError
  'aborted', // fixed by AbortError
  'bytes/bad-hex', // base class
];
const MIN_CODES = 70;

/**
 * The driver layers build their errors from facts (src/errors.ts); their English sentences are in
 * src/error-text.ts.
 */
const DRIVER_LAYERS = ['src/ccid/', 'src/iso7816/', 'src/usb/', 'src/bytes.ts', 'src/mutex.ts', 'src/errors.ts'];

/**
 * The modules above the driver whose errors are built from facts too: the HCA layer and every
 * module the unlock page loads (their sentences in src/hca/error-text.ts, src/session/error-text.ts,
 * src/components/error-text.ts, part of src/error-text.ts's table). Checked like the driver layers,
 * but for FROM_MESSAGE.
 */
const UPPER_FROM_FACTS = [
  'src/hca/',
  'src/session/',
  'src/components/',
];

/** Errors of those modules still built from a message, `file code`, each with its reason. */
const FROM_MESSAGE = [
  // The status word's own sentence (6982: security status not satisfied) would not say what to do.
  'src/hca/card.ts apdu/security-not-satisfied',
];

const CODE_SHAPE = /^(aborted|[a-z][a-z0-9]*\/[a-z0-9][a-z0-9-]*)$/;

interface Site {
  file: string;
  line: number;
  cls: string;
}

/**
 * An error built at a site, as to its message: from named facts (`keys`: the property names of the
 * object literal passed instead of a message, one list for each set of facts the site can give when
 * some are there only when known) or from a message text (`keys` undefined).
 */
interface Built extends Site {
  codes: string[];
  keys: string[][] | undefined;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

/**
 * The keys of the object literal `node` is or contains (`message ?? { retriesLeft }`), for each
 * set of facts it can give; undefined: none. A fact given only when known,
 * `...(sw === undefined ? {} : { sw: swHex(sw) })`, makes two sets, one with it and one without.
 */
function detailKeys(node: ts.Node | undefined, sf: ts.SourceFile): string[][] | undefined {
  if (!node) return undefined;
  if (ts.isObjectLiteralExpression(node)) {
    let variants: string[][] = [[]];
    for (const p of node.properties) {
      if ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
        const name = p.name.text;
        variants = variants.map((v) => [...v, name]);
        continue;
      }
      const spread = ts.isSpreadAssignment(p) ? p.expression : undefined;
      const inner = spread && ts.isParenthesizedExpression(spread) ? spread.expression : spread;
      if (inner && ts.isConditionalExpression(inner) && ts.isObjectLiteralExpression(inner.whenTrue) && ts.isObjectLiteralExpression(inner.whenFalse)) {
        const branches = [...detailKeys(inner.whenTrue, sf)!, ...detailKeys(inner.whenFalse, sf)!];
        variants = variants.flatMap((v) => branches.map((b) => [...v, ...b]));
        continue;
      }
      throw new Error(`${sf.fileName}: facts must be plain named properties (or \`...(c ? {} : { fact })\`), not \`${p.getText(sf)}\``);
    }
    return variants;
  }
  let found: string[][] | undefined;
  node.forEachChild((c) => {
    found ??= ts.isFunctionLike(c) ? undefined : detailKeys(c, sf);
  });
  return found;
}

function literalText(node: ts.Node | undefined): string | undefined {
  if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) return node.text;
  return undefined;
}

interface Scan {
  files: number;
  /** code -> where it is produced, and by which class. */
  produced: Map<string, Site[]>;
  /** Constructor calls whose code the scan cannot see. */
  unresolved: string[];
  /** CODE_TABLES entries that matched no call. */
  unusedTables: string[];
  /** Code-shaped string literals anywhere in src (comparisons, tables), with where. */
  literals: Map<string, string[]>;
  classes: Set<string>;
  /** Every constructor call (and every super call fixing a code), with its facts or its message. */
  built: Built[];
}

function scanSources(): Scan {
  const sources = listSources(SRC).map((full) => {
    const file = relative(ROOT, full).split(sep).join('/');
    return { file, sf: ts.createSourceFile(file, readFileSync(full, 'utf8'), ts.ScriptTarget.Latest, true) };
  });
  const lineOf = (sf: ts.SourceFile, n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;

  // Our error classes: WebCcidError and everything that extends it, anywhere in src.
  const declarations = new Map<string, { parent: string; decl: ts.ClassDeclaration; file: string; sf: ts.SourceFile }>();
  for (const { file, sf } of sources) {
    walk(sf, (n) => {
      if (!ts.isClassDeclaration(n) || !n.name) return;
      const ext = n.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
      if (ext && ts.isIdentifier(ext)) declarations.set(n.name.text, { parent: ext.text, decl: n, file, sf });
    });
  }
  const classes = new Set(['WebCcidError']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, d] of declarations) {
      if (!classes.has(name) && classes.has(d.parent)) {
        classes.add(name);
        grew = true;
      }
    }
  }

  const produced = new Map<string, Site[]>();
  const built: Built[] = [];
  const add = (code: string, site: Site) => {
    const sites = produced.get(code) ?? [];
    sites.push(site);
    produced.set(code, sites);
  };

  // Classes whose constructor fixes the code: super('code', ...).
  const fixedCode = new Map<string, string>();
  for (const name of classes) {
    const d = declarations.get(name);
    const ctor = d?.decl.members.find(ts.isConstructorDeclaration);
    if (!d || !ctor?.body) continue;
    walk(ctor.body, (n) => {
      if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.SuperKeyword) {
        const code = literalText(n.arguments[0]);
        if (code !== undefined) {
          fixedCode.set(name, code);
          add(code, { file: d.file, line: lineOf(d.sf, n), cls: name });
          built.push({ file: d.file, line: lineOf(d.sf, n), cls: name, codes: [code], keys: detailKeys(n.arguments[1], d.sf) });
        }
      }
    });
  }
  const codeOf = (name: string): string | undefined => {
    for (let c: string | undefined = name; c && c !== 'WebCcidError'; c = declarations.get(c)?.parent) {
      const fixed = fixedCode.get(c);
      if (fixed !== undefined) return fixed;
      if (declarations.get(c)?.decl.members.some(ts.isConstructorDeclaration)) return undefined;
    }
    return undefined;
  };

  const unresolved: string[] = [];
  const tableUsers = new Map<string, { sf: ts.SourceFile; classes: Set<string>; used: Set<string>; sites: Built[] }>();
  const literals = new Map<string, string[]>();
  for (const { file, sf } of sources) {
    walk(sf, (n) => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) {
        if (CODE_SHAPE.test(n.text) && n.text.includes('/')) {
          const at = literals.get(n.text) ?? [];
          at.push(`${file}:${lineOf(sf, n)}`);
          literals.set(n.text, at);
        }
        return;
      }
      if (!ts.isNewExpression(n) || !ts.isIdentifier(n.expression) || !classes.has(n.expression.text)) return;
      const cls = n.expression.text;
      const site = { file, line: lineOf(sf, n), cls };
      const fixed = codeOf(cls);
      if (fixed !== undefined) {
        add(fixed, site);
        return;
      }
      const arg = n.arguments?.[0];
      const code = literalText(arg);
      const keys = detailKeys(n.arguments?.[1], sf);
      if (code !== undefined) {
        add(code, site);
        built.push({ ...site, codes: [code], keys });
        return;
      }
      const text = arg ? arg.getText(sf) : '<no argument>';
      if (CODE_TABLES[file]?.includes(text)) {
        const t = tableUsers.get(file) ?? { sf, classes: new Set<string>(), used: new Set<string>(), sites: [] };
        t.classes.add(cls);
        t.used.add(text);
        t.sites.push({ ...site, codes: [], keys });
        tableUsers.set(file, t);
      } else {
        unresolved.push(`${file}:${site.line}: new ${cls}(${text}, ...)`);
      }
    });
  }

  // Read the registered tables.
  for (const [file, t] of tableUsers) {
    walk(t.sf, (n) => {
      let code: string | undefined;
      if (ts.isPropertyAssignment(n) && ((ts.isIdentifier(n.name) && n.name.text === 'code') || ts.isNumericLiteral(n.name))) code = literalText(n.initializer);
      if (ts.isArrayLiteralExpression(n) && n.elements.length >= 2) code = literalText(n.elements[0]);
      if (code === undefined || !CODE_SHAPE.test(code)) return;
      for (const cls of t.classes) add(code, { file, line: lineOf(t.sf, n), cls });
      for (const site of t.sites) site.codes.push(code);
    });
    built.push(...t.sites);
  }
  const unusedTables = Object.entries(CODE_TABLES).flatMap(([file, texts]) =>
    texts.filter((text) => !tableUsers.get(file)?.used.has(text)).map((text) => `${file}: new X(${text}, ...)`),
  );

  return { files: sources.length, produced, unresolved, unusedTables, literals, classes, built };
}

/** The string literal members of `type WebCcidErrorCode = ...` in src/error-codes.ts. */
function readUnion(): string[] {
  const file = join(SRC, 'error-codes.ts');
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const alias = sf.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'WebCcidErrorCode');
  if (!alias) throw new Error('src/error-codes.ts has no `type WebCcidErrorCode`');
  const members = ts.isUnionTypeNode(alias.type) ? alias.type.types : [alias.type];
  return members.map((m) => {
    const text = ts.isLiteralTypeNode(m) ? literalText(m.literal) : undefined;
    if (text === undefined) throw new Error(`WebCcidErrorCode member is not a string literal: ${m.getText(sf)}`);
    return text;
  });
}

/** The codes written in src/error-text.ts's own `ERROR_TEXT` literal (the driver's; the other tables are spread into it). */
function driverTableCodes(): string[] {
  const file = join(SRC, 'error-text.ts');
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const codes: string[] = [];
  walk(sf, (n) => {
    if (!ts.isVariableDeclaration(n) || !ts.isIdentifier(n.name) || n.name.text !== 'ERROR_TEXT' || !n.initializer) return;
    if (!ts.isObjectLiteralExpression(n.initializer)) throw new Error('ERROR_TEXT is not an object literal');
    for (const p of n.initializer.properties) {
      if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) codes.push(p.name.text);
    }
  });
  return codes;
}

interface DocRow {
  code: string;
  classCell: string;
  line: number;
}

/** Table rows of docs/errors.md whose first cell is one backticked code. */
function readDocRows(): DocRow[] {
  const rows: DocRow[] = [];
  readFileSync(DOC, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /^\|\s*`([^`]+)`\s*\|([^|]*)\|/.exec(text);
      if (m && CODE_SHAPE.test(m[1]!)) rows.push({ code: m[1]!, classCell: m[2]!, line: i + 1 });
    });
  return rows;
}

function describeSites(sites: Site[] | undefined): string {
  return (sites ?? []).map((s) => `${s.file}:${s.line} (${s.cls})`).join(', ');
}

describe('error codes: src/ and docs/errors.md', () => {
  const scan = scanSources();
  const rows = readDocRows();
  const documented = new Map(rows.map((r) => [r.code, r]));

  it('the scan finds the codes (sanity)', () => {
    expect(scan.files).toBeGreaterThan(20);
    for (const cls of ['TransportError', 'CcidError', 'SlotError', 'ProtocolError', 'ApduError', 'PinIncorrectError', 'PinBlockedError', 'AbortError']) {
      expect(scan.classes.has(cls), `class ${cls} not found in src/`).toBe(true);
    }
    const missing = KNOWN_CODES.filter((c) => !scan.produced.has(c));
    expect(missing, `The scan did not find these known codes: ${missing.join(', ')}`).toEqual([]);
    expect(scan.produced.size, `only ${scan.produced.size} codes found: ${[...scan.produced.keys()].sort().join(', ')}`).toBeGreaterThanOrEqual(MIN_CODES);
    expect(rows.length).toBeGreaterThanOrEqual(MIN_CODES);
  });

  it('every error constructor gets a literal code or reads a registered code table', () => {
    expect(
      scan.unresolved,
      'These constructor calls pass a code the scan cannot read. Pass a string literal, or register the table in CODE_TABLES in test/error-codes.test.ts:\n' +
        scan.unresolved.join('\n'),
    ).toEqual([]);
    expect(scan.unusedTables, `CODE_TABLES entries that match no constructor call any more:\n${scan.unusedTables.join('\n')}`).toEqual([]);
  });

  it('every code produced in src/ is documented in docs/errors.md', () => {
    const missing = [...scan.produced.keys()].filter((c) => !documented.has(c)).sort();
    expect(
      missing,
      'Codes thrown in src/ but missing from docs/errors.md (add a table row: | `code` | Class | When | What to do | Afterwards |):\n' +
        missing.map((c) => `  ${c}  <- ${describeSites(scan.produced.get(c))}`).join('\n'),
    ).toEqual([]);
  });

  it('every code documented in docs/errors.md is still produced in src/', () => {
    const stale = rows.filter((r) => !scan.produced.has(r.code));
    expect(
      stale.map((r) => r.code),
      'Codes documented in docs/errors.md that src/ no longer produces (remove or fix the rows):\n' +
        stale.map((r) => `  ${r.code}  (docs/errors.md:${r.line})`).join('\n'),
    ).toEqual([]);
  });

  it('the WebCcidErrorCode union (src/error-codes.ts) is exactly the codes produced in src/', () => {
    const union = readUnion();
    const inUnion = new Set(union);
    const missing = [...scan.produced.keys()].filter((c) => !inUnion.has(c)).sort();
    const stale = union.filter((c) => !scan.produced.has(c));
    const twice = union.filter((c, i) => union.indexOf(c) !== i);
    expect(
      { missing, stale, twice },
      'src/error-codes.ts: add the codes in `missing` to WebCcidErrorCode (then give them a message or a place in src/components/shared/messages.ts), remove the `stale` ones, and list each code once:\n' +
        missing.map((c) => `  ${c}  <- ${describeSites(scan.produced.get(c))}`).join('\n'),
    ).toEqual({ missing: [], stale: [], twice: [] });
  });

  it('each code has one row', () => {
    const seen = new Set<string>();
    const twice = rows.filter((r) => (seen.has(r.code) ? true : (seen.add(r.code), false))).map((r) => `${r.code} (docs/errors.md:${r.line})`);
    expect(twice, `Codes with more than one row in docs/errors.md:\n${twice.join('\n')}`).toEqual([]);
  });

  it('each row names every class that throws its code', () => {
    const wrong: string[] = [];
    for (const [code, sites] of scan.produced) {
      const row = documented.get(code);
      if (!row) continue; // reported above
      for (const cls of new Set(sites.map((s) => s.cls))) {
        if (!new RegExp(`\\b${cls}\\b`).test(row.classCell)) {
          wrong.push(`  ${code}: thrown as ${cls} at ${describeSites(sites.filter((s) => s.cls === cls))}; docs/errors.md:${row.line} says "${row.classCell.trim()}"`);
        }
      }
    }
    expect(wrong, `Rows of docs/errors.md whose Class cell does not name the class used in src/:\n${wrong.join('\n')}`).toEqual([]);
  });

  it('every code-shaped string in src/ (comparisons such as e.code === ...) is a produced code', () => {
    const prefixes = new Set([...scan.produced.keys()].filter((c) => c.includes('/')).map((c) => c.split('/')[0]!));
    const unknown = [...scan.literals]
      .filter(([code]) => prefixes.has(code.split('/')[0]!) && !scan.produced.has(code))
      .map(([code, at]) => `  ${code}  at ${at.join(', ')}`);
    expect(unknown, `String literals that look like error codes but no error is ever created with them (typo?):\n${unknown.join('\n')}`).toEqual([]);
  });

  describe('the English sentences (src/error-text.ts)', () => {
    const fromFacts = scan.built.filter((b) => b.keys !== undefined);
    const inDriver = (file: string) => DRIVER_LAYERS.some((l) => file.startsWith(l));
    const inUpper = (file: string) => UPPER_FROM_FACTS.some((l) => file.startsWith(l));

    it('the scan finds errors built from facts (sanity)', () => {
      expect(fromFacts.length).toBeGreaterThan(40);
      const lengthMismatch = fromFacts.filter((b) => b.codes.includes('ccid/length-mismatch')).flatMap((b) => b.keys!.map((k) => [...k].sort().join()));
      expect(lengthMismatch).toContain('carried,dwLength');
    });

    it('every code of the table is documented in docs/errors.md', () => {
      const missing = Object.keys(ERROR_TEXT).filter((c) => !documented.has(c));
      expect(missing, 'src/error-text.ts has sentences for codes that docs/errors.md does not list').toEqual([]);
    });

    it('every code built from facts has an entry', () => {
      const missing = fromFacts.flatMap((b) => b.codes.filter((c) => ERROR_TEXT[c] === undefined).map((c) => `  ${c}  <- ${b.file}:${b.line}`));
      expect(missing, `Codes built from facts with no sentence in src/error-text.ts:\n${missing.join('\n')}`).toEqual([]);
    });

    it('the driver layers build their errors from facts', () => {
      const fromText = scan.built.filter((b) => b.keys === undefined && inDriver(b.file));
      expect(
        fromText.map((b) => `${b.file}:${b.line}: ${b.cls}(${b.codes.join(' | ')})`),
        'Driver errors built from a message text: pass the facts instead and put the sentence in src/error-text.ts',
      ).toEqual([]);
      // The scan tells the two apart: other modules (server, cli, virtual, ...) build theirs from a message.
      expect(scan.built.some((b) => b.keys === undefined && b.file.startsWith('src/server/'))).toBe(true);
    });

    it("the unlock page's modules above the driver build their errors from facts", () => {
      const excused = (b: Built) => b.codes.every((c) => FROM_MESSAGE.includes(`${b.file} ${c}`));
      const fromText = scan.built.filter((b) => b.keys === undefined && inUpper(b.file) && !excused(b));
      const stale = FROM_MESSAGE.filter((e) => !scan.built.some((b) => b.keys === undefined && b.codes.some((c) => `${b.file} ${c}` === e)));
      expect(stale, 'FROM_MESSAGE entries that no longer build an error from a message').toEqual([]);
      expect(
        fromText.map((b) => `${b.file}:${b.line}: ${b.cls}(${b.codes.join(' | ')})`),
        'Errors built from a message text: pass the facts instead and put the sentence in the layer\'s error-text.ts',
      ).toEqual([]);
      // The list names modules that build errors (sanity: a renamed module is not silently skipped).
      for (const m of ['src/hca/errors.ts', 'src/hca/card-base.ts', 'src/hca/format.ts', 'src/session/card-session.ts', 'src/session/puk-service.ts', 'src/components/locale.ts']) {
        expect(scan.built.some((b) => b.file === m && b.keys !== undefined), m).toBe(true);
      }
      for (const m of ['src/hca/card-pin-guard.ts', 'src/components/hca-unlock-card/unlock-flow.ts']) {
        expect(scan.produced.size > 0 && [...scan.produced.values()].flat().some((s) => s.file === m), m).toBe(true);
      }
    });

    it('the tables of the layers share no code (a later table would hide an entry)', () => {
      const tables = { driver: driverTableCodes(), hca: Object.keys(HCA_ERROR_TEXT), session: Object.keys(SESSION_ERROR_TEXT), components: Object.keys(COMPONENTS_ERROR_TEXT) };
      const seen = new Map<string, string>();
      const twice: string[] = [];
      for (const [layer, codes] of Object.entries(tables)) {
        for (const c of codes) {
          if (seen.has(c)) twice.push(`${c}: ${seen.get(c)} and ${layer}`);
          seen.set(c, layer);
        }
      }
      expect(twice).toEqual([]);
      expect(seen.size).toBe(Object.keys(ERROR_TEXT).length);
    });

    it("each site's facts fill one of its code's templates exactly: no placeholder left, none missing", () => {
      const wrong: string[] = [];
      for (const b of fromFacts) {
        for (const keys of b.keys!) {
          const detail = Object.fromEntries(keys.map((k) => [k, 7]));
          for (const code of b.codes) {
            const entry = ERROR_TEXT[code];
            if (entry === undefined) continue; // reported above
            const at = `${b.file}:${b.line} ${code} {${keys.join(', ')}}`;
            if (typeof entry !== 'function') {
              const templates = typeof entry === 'string' ? [entry] : entry;
              const same = templates.filter((t) => [...new Set(templateFacts(t))].sort().join() === [...keys].sort().join());
              if (same.length !== 1) wrong.push(`  ${at}: ${same.length} templates with exactly these placeholders`);
            }
            const text = englishErrorText(code, detail);
            if (text === undefined || /\{\w+\}/.test(text)) wrong.push(`  ${at}: "${text}"`);
          }
        }
      }
      expect(wrong, `Throw sites whose facts do not match the sentence's placeholders:\n${wrong.join('\n')}`).toEqual([]);
    });

    it('every template is used by a site (no sentence left behind)', () => {
      const unused: string[] = [];
      for (const [code, entry] of Object.entries(ERROR_TEXT)) {
        if (typeof entry === 'function') continue;
        for (const t of typeof entry === 'string' ? [entry] : entry) {
          const facts = [...new Set(templateFacts(t))].sort().join();
          const used = fromFacts.some((b) => b.codes.includes(code) && b.keys!.some((k) => [...k].sort().join() === facts));
          if (!used) unused.push(`  ${code}: ${t}`);
        }
      }
      expect(unused, `Templates no throw site fills:\n${unused.join('\n')}`).toEqual([]);
    });
  });
});
