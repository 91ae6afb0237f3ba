/**
 * The build step that minifies the components' `css` templates and folds the line breaks of
 * `html` templates (web/minify-templates.ts): it removes only white space and comments CSS does
 * not read, and keeps what separates words and what stands beside an expression. The rules it
 * must keep apart are CSS Syntax Level 3's: white space is insignificant around `{`, `}`, `;`,
 * `,`, the child combinator `>` and after a declaration's `:`, and significant inside values and
 * between compound selectors (the descendant combinator); and HTML's: a run of white space in
 * text or between attributes reads as one space, except in `<pre>` and `<textarea>`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAst } from 'vite';
import { describe, expect, it } from 'vitest';
import { minifyCssText, minifyHtmlText, minifyTemplatesIn } from '../../web/minify-templates.js';

/** The declarations of a style sheet as [selector, property, value] (white space folded), to compare meaning. */
function declarations(css: string): string[] {
  const out: string[] = [];
  const body = css.replace(/\/\*[^]*?\*\//g, '');
  for (const m of body.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const selector = m[1]!.replace(/\s+/g, ' ').replace(/ ?([,>]) ?/g, '$1').trim();
    for (const d of m[2]!.split(';')) {
      const [prop, ...value] = d.split(':');
      if (!prop?.trim()) continue;
      out.push(`${selector} | ${prop.trim()} | ${value.join(':').replace(/\s+/g, ' ').replace(/ ?, ?/g, ',').trim()}`);
    }
  }
  return out;
}

describe('minifyCssText', () => {
  it('drops comments and the white space around punctuation, keeps the spaces between words', () => {
    expect(minifyCssText('\n  /* note */\n  .a > b,\n  .c   d {\n    margin: 0 auto;\n    width: calc(100% - 2rem);\n  }\n')).toBe(
      ' .a>b,.c d{margin:0 auto;width:calc(100% - 2rem)}',
    );
    expect(minifyCssText(':host([kiosk]) *::before {\n  content: "a  b";\n}')).toBe(':host([kiosk]) *::before{content:"a b"}');
  });
});

describe('minifyHtmlText', () => {
  it('folds each run of white space holding a line break to one line break, and leaves the rest', () => {
    expect(minifyHtmlText('<div>\n      <p class="a  b">x  y</p>\n\n    </div>\n  ')).toBe('<div>\n<p class="a  b">x  y</p>\n</div>\n');
  });
});

describe('minifyTemplatesIn', () => {
  it('minifies css templates (one space kept beside an expression), folds html ones, leaves other templates', () => {
    const code = 'const w = 1;\nconst a = css`\n  .x {\n    margin: ${w}px auto;\n  }\n`;\nconst b = html`<p>\n  keep   this\n</p>`;\nconst c = `\n  x  `;\n';
    const out = minifyTemplatesIn(code, (c) => parseAst(c));
    expect(out).toBe('const w = 1;\nconst a = css`.x{margin:${w}px auto}`;\nconst b = html`<p>\nkeep   this\n</p>`;\nconst c = `\n  x  `;\n');
    expect(minifyTemplatesIn('const x = `a  {  }`;', (c) => parseAst(c))).toBeUndefined();
  });

  it('leaves an html template with a <pre> or a <textarea> as it is', () => {
    const code = 'const a = html`<pre>\n  ${log}\n</pre>`;\nconst b = html`<textarea>\n</textarea>`;';
    expect(minifyTemplatesIn(code, (c) => parseAst(c))).toBeUndefined();
  });

  it("the components' style sheets keep every declaration", () => {
    const dir = fileURLToPath(new URL('../../src/components/', import.meta.url));
    for (const file of ['shared/styles.ts', 'shared/pin-flow-styles.ts', 'hca-reader-status/styles.ts', 'hca-steps/styles.ts', 'hca-pin-pad/styles.ts', 'hca-bind-card/styles.ts']) {
      const source = readFileSync(dir + file, 'utf8');
      // The TypeScript of these files is plain JavaScript past their imports and type annotations.
      const sheets = [...source.matchAll(/css`([^`]*)`/g)].map((m) => m[1]!).filter((s) => s.includes('{'));
      expect(sheets.length, file).toBeGreaterThan(0);
      for (const sheet of sheets) {
        const min = minifyTemplatesIn(`css\`${sheet}\``, (c) => parseAst(c))!.slice(4, -1);
        expect(min.length, file).toBeLessThan(sheet.length * 0.8);
        expect(declarations(min), file).toEqual(declarations(sheet));
      }
    }
  });
});
