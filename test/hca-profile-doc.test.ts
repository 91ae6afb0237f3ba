/**
 * docs/hca-profile.md and HCA_PROFILE agree: every profile field (every `{ value, status, source }`
 * in the profile object, and the flat `pinRule`) has exactly one row in the doc's field table, with the same status and a
 * value cell that shows every number (decimal or 0x hex) and string of the field's value; the table
 * has no row for a field the profile does not have.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HCA_PROFILE } from '../src/hca/profile.js';

const DOC = readFileSync(new URL('../docs/hca-profile.md', import.meta.url), 'utf8');

interface Field {
  path: string;
  value: unknown;
  status: string;
  source: string;
}

function profileFields(node: unknown, path: string[] = []): Field[] {
  if (node === null || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  if ('value' in o && 'status' in o && 'source' in o) {
    return [{ path: path.join('.'), value: o.value, status: String(o.status), source: String(o.source) }];
  }
  // A flat field (`pinRule`): its own status and source beside the values.
  if ('status' in o && 'source' in o && (o.status === 'confirmed' || o.status === 'assumed')) {
    const { status, source, ...value } = o;
    return [{ path: path.join('.'), value, status: String(status), source: String(source) }];
  }
  return Object.entries(o).flatMap(([k, v]) => profileFields(v, [...path, k]));
}

/** Cells of the rows of the table under "## The profile fields" (split on unescaped pipes). */
function tableRows(): string[][] {
  const start = DOC.indexOf('## The profile fields');
  expect(start, 'section "## The profile fields" is missing').toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n## ', start + 1);
  const section = DOC.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .slice(1, l.trimEnd().length - 1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

function leaves(value: unknown): Array<number | string> {
  if (typeof value === 'number' || typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [];
}

function numbersIn(cell: string): Set<number> {
  const out = new Set<number>();
  for (const m of cell.matchAll(/0x([0-9a-f]+)/gi)) out.add(parseInt(m[1]!, 16));
  for (const m of cell.matchAll(/(?<![0-9a-fx.])(\d+)(?![0-9.])/gi)) out.add(Number(m[1]));
  return out;
}

const FIELDS = profileFields(HCA_PROFILE);
const ROWS = tableRows();

describe('docs/hca-profile.md documents HCA_PROFILE', () => {
  it('finds the profile fields and the table', () => {
    expect(FIELDS.length).toBeGreaterThanOrEqual(20);
    expect(ROWS.length).toBeGreaterThanOrEqual(20);
    expect(DOC).toContain(HCA_PROFILE.id);
  });

  it.each(FIELDS.map((f) => [f.path, f] as const))('%s: one row, same status, the value shown', (path, field) => {
    const rows = ROWS.filter((r) => r[0] === `\`${path}\``);
    expect(rows, `no single row for ${path}`).toHaveLength(1);
    const [, valueCell, statusCell, sourceCell] = rows[0]!;
    expect(statusCell).toBe(field.status);
    expect(sourceCell!.length).toBeGreaterThan(10);
    const numbers = numbersIn(valueCell!);
    const text = valueCell!.replace(/\\\|/g, '|').replace(/\s+/g, ' ');
    for (const leaf of leaves(field.value)) {
      if (typeof leaf === 'number') expect(numbers.has(leaf), `${path}: ${leaf} (0x${leaf.toString(16)}) not in "${valueCell}"`).toBe(true);
      else expect(text, `${path}: "${leaf}" not in the value cell`).toContain(leaf.replace(/\s+/g, ' '));
    }
  });

  it('has no row for a field the profile does not have', () => {
    const paths = new Set(FIELDS.map((f) => `\`${f.path}\``));
    expect(ROWS.map((r) => r[0]).filter((c) => !paths.has(c!))).toEqual([]);
  });
});
