/**
 * A build step of the web app (web/vite.config.ts): minifies the style sheets the components
 * write in Lit's `css` tagged templates. The JavaScript minifier leaves template text as it is, so
 * the indentation and line breaks of every rule reached the pages (about 320 B gzipped on a flow
 * page). Build only: the dev server serves the sources as they are.
 */
import type { Plugin } from 'vite';

/**
 * One piece of static text of a `css` template without what CSS does not read: comments go, runs
 * of white space become one space, and none is left around `{ } ; , >`, after `:` or before a
 * `}` (`;}` becomes `}`). Spaces that separate words (`0 auto`, `calc(100% - 1rem)`, a
 * descendant selector) stay, and so does a space at either end (beside an expression `${…}`).
 */
export function minifyCssText(text: string): string {
  return text
    .replace(/\/\*[^]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/ ?([{};,>]) ?/g, '$1')
    .replace(/: /g, ':')
    .replace(/;}/g, '}');
}

type Node = { type?: string; start: number; end: number; [key: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';

/**
 * `code` (a module, as JavaScript) with the static text of each `css` tagged template minified
 * (`minifyCssText`; the template's first and last piece also trimmed at its outer end); `parse`
 * gives the module's ESTree with source offsets. Undefined when there is nothing to change.
 */
export function minifyCssTemplatesIn(code: string, parse: (code: string) => unknown): string | undefined {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const walk = (node: Node): void => {
    const tag = node['tag'] as Node | undefined;
    if (node.type === 'TaggedTemplateExpression' && tag?.type === 'Identifier' && tag['name'] === 'css') {
      const quasis = (node['quasi'] as Node)['quasis'] as Node[];
      for (const [i, q] of quasis.entries()) {
        let text = minifyCssText(code.slice(q.start, q.end));
        if (i === 0) text = text.trimStart();
        if (i === quasis.length - 1) text = text.trimEnd();
        edits.push({ start: q.start, end: q.end, text });
      }
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.filter(isNode).forEach(walk);
      else if (isNode(value)) walk(value);
    }
  };
  walk(parse(code) as Node);
  if (edits.length === 0) return undefined;
  let out = code;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The Vite plugin: `minifyCssTemplatesIn` on the repository's own modules (src/, web/) that have a `css` template. */
export function minifyCssTemplates(): Plugin {
  return {
    name: 'webccid-minify-css-templates',
    apply: 'build',
    enforce: 'post',
    transform(code, id) {
      if (!/[\\/](?:src|web)[\\/][^?]*\.ts$/.test(id) || !code.includes('css`')) return null;
      const out = minifyCssTemplatesIn(code, (text) => this.parse(text));
      return out === undefined ? null : { code: out, map: null };
    },
  };
}
