/**
 * A build step of the web app (web/vite.config.ts): minifies the text of Lit's `css` and `html`
 * tagged templates, which the JavaScript minifier leaves as it is, so the indentation and line
 * breaks of every style rule and every line of markup reached the pages (about 320 B gzipped on a
 * flow page for the styles, 100 B for the markup). Build only: the dev server serves the sources
 * as they are.
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

/**
 * One piece of static text of an `html` template with each run of white space that holds a line
 * break folded to one line break. HTML reads any such run as one space where it reads white space
 * at all (text, attribute lists), so the page is the same; a run within a line stays as written.
 * Not used on a template with a `<pre>` or a `<textarea>`, where white space is the content.
 */
export function minifyHtmlText(text: string): string {
  return text.replace(/[ \t\r\n]*\n[ \t\r\n]*/g, '\n');
}

type Node = { type?: string; start: number; end: number; [key: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';

/**
 * `code` (a module, as JavaScript) with the static text of each `css` tagged template minified
 * (`minifyCssText`; the template's first and last piece also trimmed at its outer end) and that
 * of each `html` tagged template folded (`minifyHtmlText`); `parse` gives the module's ESTree with
 * source offsets. Undefined when there is nothing to change.
 */
export function minifyTemplatesIn(code: string, parse: (code: string) => unknown): string | undefined {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const walk = (node: Node): void => {
    const tag = node['tag'] as Node | undefined;
    const kind = node.type === 'TaggedTemplateExpression' && tag?.type === 'Identifier' ? tag['name'] : undefined;
    if (kind === 'css' || kind === 'html') {
      const quasis = (node['quasi'] as Node)['quasis'] as Node[];
      const texts = quasis.map((q) => code.slice(q.start, q.end));
      const keep = kind === 'html' && texts.some((t) => /<(?:pre|textarea)\b/i.test(t));
      for (const [i, q] of keep ? [] : quasis.entries()) {
        let text = kind === 'css' ? minifyCssText(texts[i]!) : minifyHtmlText(texts[i]!);
        if (kind === 'css' && i === 0) text = text.trimStart();
        if (kind === 'css' && i === quasis.length - 1) text = text.trimEnd();
        if (text !== texts[i]) edits.push({ start: q.start, end: q.end, text });
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

/** The Vite plugin: `minifyTemplatesIn` on the repository's own modules (src/, web/) that have a `css` or `html` template. */
export function minifyTemplates(): Plugin {
  return {
    name: 'webccid-minify-templates',
    apply: 'build',
    enforce: 'post',
    transform(code, id) {
      if (!/[\\/](?:src|web)[\\/][^?]*\.ts$/.test(id) || !/\b(?:css|html)`/.test(code)) return null;
      const out = minifyTemplatesIn(code, (text) => this.parse(text));
      return out === undefined ? null : { code: out, map: null };
    },
  };
}
