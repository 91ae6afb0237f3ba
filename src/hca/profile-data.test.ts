/**
 * The profile's values (what the card operations read, ./profile-data.ts) and the profile with its
 * evidence (./profile.ts) are one profile: the values are the evidence-carrying profile without
 * its sources and middleware facts, every field of the latter has a source, and each card class
 * opens with the candidates it is meant to (`HcaCardBase` the values, `HcaCard` the profiles
 * with their evidence).
 */
import { describe, expect, it } from 'vitest';
import { MemoryCardChannel } from '../card/memory.js';
import { createVirtualHcaCard } from '../virtual/hca-card.js';
import { HcaCard, HcaCardBase } from './card.js';
import { checkProfile } from './check-profile.js';
import { HcaError } from './errors.js';
import { HCA_GPKI_SIBLING_PROFILE, HCA_PROFILE, HCA_PROFILE_CANDIDATES, type HcaProfile } from './profile.js';
import { HCA_GPKI_SIBLING_VALUES, HCA_PROFILE_CANDIDATE_VALUES, HCA_PROFILE_VALUES, type HcaProfileValues } from './profile-data.js';

/** `profile` without its evidence: no `source` in any field, no middleware facts. */
function valuesOf(profile: HcaProfile): unknown {
  const strip = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    const o = node as Record<string, unknown>;
    if ('status' in o) {
      const { source: _source, ...rest } = o;
      return rest;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, strip(v)]));
  };
  const { middleware: _middleware, ...rest } = profile;
  return strip(rest);
}

/** The `{ value, status, source }` fields (and the flat `pinRule`) of a profile, by path. */
function fields(node: unknown, path: string[] = []): Array<{ path: string; field: Record<string, unknown> }> {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [];
  const o = node as Record<string, unknown>;
  if ('status' in o) return [{ path: path.join('.'), field: o }];
  return Object.entries(o).flatMap(([k, v]) => fields(v, [...path, k]));
}

describe('HCA profile: values and evidence', () => {
  it('the values are the profile without its sources and middleware facts, candidate by candidate', () => {
    expect(HCA_PROFILE_VALUES).toEqual(valuesOf(HCA_PROFILE));
    expect(HCA_GPKI_SIBLING_VALUES).toEqual(valuesOf(HCA_GPKI_SIBLING_PROFILE));
    expect(HCA_PROFILE_CANDIDATE_VALUES.map((p) => p.id)).toEqual(HCA_PROFILE_CANDIDATES.map((p) => p.id));
    for (const [i, p] of HCA_PROFILE_CANDIDATES.entries()) expect(HCA_PROFILE_CANDIDATE_VALUES[i]).toEqual(valuesOf(p));
  });

  it('every field of the profiles with their evidence has a source, and the values carry none', () => {
    for (const profile of HCA_PROFILE_CANDIDATES) {
      const all = fields(profile);
      expect(all.length).toBeGreaterThan(30);
      for (const { path, field } of all) expect(typeof field['source'] === 'string' && field['source'].length > 0, `${profile.id} ${path}`).toBe(true);
      expect(profile.middleware.cardTypes.value.personnel.name).toBe('HPC');
    }
    for (const values of HCA_PROFILE_CANDIDATE_VALUES) {
      for (const { path, field } of fields(values)) expect('source' in field, `${values.id} ${path}`).toBe(false);
      expect((values as HcaProfileValues).middleware).toBeUndefined();
    }
  });

  it('without a profile, HcaCardBase opens with the values and HcaCard with the profiles and their evidence', async () => {
    const base = await HcaCardBase.open(new MemoryCardChannel(await createVirtualHcaCard()));
    expect(base.profile).toBe(HCA_PROFILE_VALUES);
    const full = await HcaCard.open(new MemoryCardChannel(await createVirtualHcaCard()));
    expect(full.profile).toBe(HCA_PROFILE);
    expect(full.profile.aid.source.length).toBeGreaterThan(0);
  });
});

describe('the built-in profiles: checked here, not again when a card is opened with them', () => {
  const builtIn: HcaProfileValues[] = [...HCA_PROFILE_CANDIDATE_VALUES, ...HCA_PROFILE_CANDIDATES];

  it('each passes the profile check', () => {
    for (const p of builtIn) expect(() => checkProfile(p), p.id).not.toThrow();
  });

  it('each is frozen to the last field, so nothing changes it after this check', () => {
    const objects = (node: unknown): object[] =>
      node !== null && typeof node === 'object' ? [node, ...Object.values(node).flatMap(objects)] : [];
    for (const p of builtIn) {
      for (const o of objects(p)) expect(Object.isFrozen(o), p.id).toBe(true);
      expect(() => {
        (p.pin.minLength as { value: number }).value = 1;
      }).toThrow(TypeError);
      expect(() => {
        (p.atrs.value as unknown[]).push({ hex: '3B 00', description: '' });
      }).toThrow(TypeError);
    }
    expect(Object.isFrozen(HCA_PROFILE_CANDIDATE_VALUES) && Object.isFrozen(HCA_PROFILE_CANDIDATES)).toBe(true);
  });

  it("a caller's candidates and a changed copy of a built-in profile are checked before anything is sent", async () => {
    const card = await createVirtualHcaCard();
    const channel = new MemoryCardChannel(card);
    const bad = { ...HCA_PROFILE_VALUES, commandClass: { value: 0xff, status: 'assumed' as const } };
    for (const options of [{ candidates: [HCA_PROFILE_VALUES, bad] }, { profile: bad }]) {
      const e = await HcaCardBase.open(channel, options).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toBeInstanceOf(HcaError);
      expect((e as HcaError).code).toBe('hca/bad-profile');
      expect((e as HcaError).message).toMatch(/commandClass/);
    }
    expect(card.apduCount).toBe(0);
  });
});
