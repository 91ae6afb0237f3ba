/**
 * The build step that keys the components' messages by @lit/localize's hash of their source text
 * (web/localize-ids.ts). What it must agree with is @lit/localize's runtime: a `msg` call without
 * an id is looked up under `generateMsgId` of its source text (a plain string, or the static
 * parts of a `str` template). test/browser/visit-size.test.ts reads an English page of a
 * production build.
 */
import { fileURLToPath } from 'node:url';
import { parseAst } from 'vite';
import { generateMsgId } from '@lit/localize/internal/id-generation.js';
import { describe, expect, it } from 'vitest';
import { messageHashes, rewriteMessageIds } from '../../web/localize-ids.js';
import { templates } from '../../src/components/locales/en.js';

const hashes = messageHashes(fileURLToPath(new URL('../../src/components/', import.meta.url)));

describe('messageHashes (the sources)', () => {
  it("gives each id the hash @lit/localize's runtime computes for its source text", () => {
    expect(hashes.get('unlock.title')).toBe(generateMsgId('解鎖卡', false));
    // msg(str`讀卡機「${name}」中沒有卡片`, { id: 'status.no-card' }): the static parts, in order.
    expect(hashes.get('status.no-card')).toBe(generateMsgId(['讀卡機「', '」中沒有卡片'], false));
  });

  it('every English template belongs to a message; ids of one source text have one English template', () => {
    const byHash = new Map<string, unknown>();
    for (const [id, template] of Object.entries(templates)) {
      const hash = hashes.get(id);
      expect(hash, id).toBeDefined();
      if (byHash.has(hash!)) expect(template, id).toEqual(byHash.get(hash!));
      byHash.set(hash!, template);
    }
  });
});

describe('rewriteMessageIds', () => {
  const known = new Map([
    ['a.one', 'sH1'],
    ['a.two', 'sH2'],
  ]);
  const parse = (code: string) => parseAst(code);

  it('drops the id of msg calls and keys the English templates by hash', () => {
    expect(rewriteMessageIds("x = msg('一', { id: 'a.one' }); y = msg(str`二${n}`, { id: 'a.two' }); z = f('一', { id: 'a.one' });", parse, known)).toBe(
      "x = msg('一'); y = msg(str`二${n}`); z = f('一', { id: 'a.one' });",
    );
    expect(rewriteMessageIds("export const templates = { 'a.one': 'One', 'a.two': str`Two ${0}` };", parse, known, new Map())).toBe(
      'export const templates = { "sH1": \'One\', "sH2": str`Two ${0}` };',
    );
    expect(rewriteMessageIds('const x = 1;', parse, known)).toBeUndefined();
  });

  it('stops the build for an id it does not know, in a message or an English template', () => {
    expect(() => rewriteMessageIds("msg('三', { id: 'a.three' })", parse, known)).toThrow(/a\.three/);
    expect(() => rewriteMessageIds("export const templates = { 'a.three': 'Three' };", parse, known, new Map())).toThrow(/a\.three/);
  });

  it('stops the build for one source text with two English templates, in one module or across modules', () => {
    const same = new Map([
      ['a.one', 'sH1'],
      ['b.one', 'sH1'],
    ]);
    expect(() => rewriteMessageIds("export const templates = { 'a.one': 'One', 'b.one': 'Un' };", parse, same, new Map())).toThrow(/b\.one and a\.one/);
    const seen = new Map<string, { id: string; template: string }>();
    expect(rewriteMessageIds("export const templates = { 'a.one': 'One' };", parse, same, seen)).toBeDefined();
    expect(rewriteMessageIds("export const templates = { 'b.one': 'One' };", parse, same, seen)).toBeDefined();
    expect(() => rewriteMessageIds("export const templates = { 'b.one': 'Un' };", parse, same, seen)).toThrow(/different English templates/);
  });
});
