/** The situations of the demo panel (kept apart from demo-env.ts so pages can name them without loading the virtual hardware). */
export const DEMO_STATES = [
  'normal',
  'locked',
  'puk-blocked',
  'wrong-puk',
  'pinpad',
  'slow',
  'not-hca',
  'version1',
  'institution',
  'expired',
  'nhi',
] as const;
export type DemoState = (typeof DEMO_STATES)[number];

export function isDemoState(value: unknown): value is DemoState {
  return typeof value === 'string' && (DEMO_STATES as readonly string[]).includes(value);
}
