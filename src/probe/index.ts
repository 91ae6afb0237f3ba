/**
 * The probe (platform-independent): the engine behind `npx webccid probe` and the field kit page.
 */
export { listReaders, probeReaders, mayBeCcid, describeQuirks } from './engine.js';
export { probeHcaCard } from './card.js';
export type {
  ListOptions,
  PinConsent,
  ProbeCertificate,
  ProbeHcaReport,
  ProbeNhiReport,
  ProbeOptions,
  ProbePinReport,
  ProbeReaderReport,
  ProbeReport,
  ProbeSlotReport,
  ProbeError,
} from './types.js';
export { discoverCard, aidsInEfDir, CANDIDATE_AIDS } from './discovery.js';
export type { DiscoveryReport, DiscoveryStep } from './discovery.js';
export { createProbeReportFile, findingsOf, formatFindings, redactReaders, summarizeProbe } from './summary.js';
export type { CardFindings, FieldFinding, ProbeReportFile, Verdict } from './summary.js';
