/**
 * A build step of the web app (web/vite.config.ts): the components' messages as @lit/localize's
 * own extractor would emit them, keyed by the hash of their source text, without the ids.
 *
 * In the source, every message has a readable id, `msg('…', { id: 'unlock.title' })`, and the
 * English templates are keyed by it (src/components/locales/en.ts and the modules it spreads):
 * that is what people read and edit, and what the library ships. The ids cost about 1 KB gzipped
 * on a flow page, though, and @lit/localize does not need them: without an id, its runtime looks a
 * message up under `generateMsgId` of the source text (an FNV-1a hash, the id its extractor
 * writes into generated translations). So the build
 * - reads every `msg(…, { id })` of src/components first (TypeScript's parser), giving each id
 *   the hash of its source text (one id, one text: anything else stops the build);
 * - drops the `{ id }` argument of each such call in the components' modules;
 * - keys the English templates by those hashes instead of the ids (an English template whose id
 *   no message uses, a message whose id the scan did not see, or two ids of one source text with
 *   different English templates stop the build: one source text has one translation).
 * Build only: the dev server serves the sources, ids and all. test/browser/visit-size.test.ts
 * reads an English page of a production build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { generateMsgId } from '@lit/localize/internal/id-generation.js';
import type { Plugin } from 'vite';

/** The text `msg` hashes: a plain string, or the static parts of a `str` template. */
type Source = string | string[];

/** The id and source text of one `msg(…, { id: '…' })` call of a TypeScript module, or undefined for any other call. */
function messageOf(call: ts.CallExpression): { id: string; source: Source } | undefined {
  if (!ts.isIdentifier(call.expression) || call.expression.text !== 'msg' || call.arguments.length !== 2) return undefined;
  const [template, options] = call.arguments as unknown as [ts.Expression, ts.Expression];
  if (!ts.isObjectLiteralExpression(options)) return undefined;
  const id = options.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'id');
  if (!id || !ts.isStringLiteral(id.initializer)) return undefined;
  let source: Source | undefined;
  if (ts.isStringLiteral(template) || ts.isNoSubstitutionTemplateLiteral(template)) source = template.text;
  else if (ts.isTaggedTemplateExpression(template) && ts.isIdentifier(template.tag) && template.tag.text === 'str') {
    const t = template.template;
    source = ts.isNoSubstitutionTemplateLiteral(t) ? [t.text] : [t.head.text, ...t.templateSpans.map((s) => s.literal.text)];
  }
  return source === undefined ? undefined : { id: id.initializer.text, source };
}

/** Every message id of the `.ts` modules under `dir` (tests aside) with the @lit/localize id of its source text. */
export function messageHashes(dir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (!text.includes('msg(')) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const m = messageOf(node);
        if (m) {
          const hash = generateMsgId(m.source, false);
          const known = hashes.get(m.id);
          if (known !== undefined && known !== hash) throw new Error(`localize-ids: the id ${m.id} is used with two different texts (${file})`);
          hashes.set(m.id, hash);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  }
  return hashes;
}

type Node = { type?: string; start: number; end: number; [key: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';

function walk(node: Node, visit: (node: Node) => void): void {
  visit(node);
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const v of value) if (isNode(v)) walk(v, visit);
    } else if (isNode(value)) {
      walk(value, visit);
    }
  }
}

/**
 * `code` (a module, as JavaScript; `parse` gives its ESTree) with the `{ id }` argument of every
 * `msg` call removed, and, when `english` is given, the string keys of its object literals
 * replaced by their hashes. Undefined when nothing changes. Throws for an id `hashes` does not
 * have, and for two ids of one source text (one hash) whose English templates differ: `english`
 * holds the templates seen so far (hash -> id and the template's code), across modules.
 */
export function rewriteMessageIds(
  code: string,
  parse: (code: string) => unknown,
  hashes: ReadonlyMap<string, string>,
  english?: Map<string, { id: string; template: string }>,
): string | undefined {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  walk(parse(code) as Node, (node) => {
    if (node.type === 'CallExpression') {
      const callee = node['callee'] as Node;
      const args = node['arguments'] as Node[];
      const props = args[1]?.type === 'ObjectExpression' ? (args[1]['properties'] as Node[]) : [];
      const key = props[0]?.['key'] as Node | undefined;
      const value = props[0]?.['value'] as Node | undefined;
      if (callee.type !== 'Identifier' || callee['name'] !== 'msg' || args.length !== 2 || props.length !== 1) return;
      if (key?.type !== 'Identifier' || key['name'] !== 'id' || value?.type !== 'Literal' || typeof value['value'] !== 'string') return;
      if (!hashes.has(value['value'])) throw new Error(`localize-ids: msg id ${value['value']} was not found by the scan of the sources`);
      edits.push({ start: args[0]!.end, end: args[1]!.end, text: '' });
    } else if (english && node.type === 'Property') {
      const key = node['key'] as Node;
      if (key.type !== 'Literal' || typeof key['value'] !== 'string' || node['computed'] === true) return;
      const id = key['value'];
      const hash = hashes.get(id);
      if (hash === undefined) throw new Error(`localize-ids: no message uses the English template ${id}`);
      const value = node['value'] as Node;
      const template = code.slice(value.start, value.end);
      const other = english.get(hash);
      if (other && other.template !== template) throw new Error(`localize-ids: ${id} and ${other.id} have one source text but different English templates`);
      english.set(hash, { id, template });
      edits.push({ start: key.start, end: key.end, text: JSON.stringify(hash) });
    }
  });
  if (edits.length === 0) return undefined;
  let out = code;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The English templates modules: src/components/locales/en.ts, en-shared.ts and each component's locale-en.ts. */
const ENGLISH = /[\\/]src[\\/]components[\\/](?:locales[\\/]en(?:-shared)?|[\w-]+[\\/]locale-en)\.ts$/;

/** The Vite plugin (see the module comment); `componentsDir` is src/components. */
export function localizeIds(componentsDir: string): Plugin {
  let hashes = new Map<string, string>();
  let english = new Map<string, { id: string; template: string }>();
  return {
    name: 'webccid-localize-ids',
    apply: 'build',
    enforce: 'post',
    buildStart() {
      hashes = messageHashes(componentsDir);
      english = new Map();
    },
    transform(code, id) {
      if (!/[\\/]src[\\/]components[\\/][^?]*\.ts$/.test(id)) return null;
      const templates = ENGLISH.test(id) ? english : undefined;
      if (!templates && !code.includes('msg(')) return null;
      const out = rewriteMessageIds(code, (text) => this.parse(text), hashes, templates);
      return out === undefined ? null : { code: out, map: null };
    },
  };
}
