/**
 * The pieces every error message is made of: what a description holds, its actions, the
 * context a caller gives, and small readers of an error's counts. Used by messages.ts and
 * pin-messages.ts.
 */
import { msg } from '@lit/localize';
import type { WebUsbSupport } from '../../session/card-session.js';

/** What the error display offers the user. */
export type ErrorActionKind = 'unlock' | 'retry' | 'choose-reader' | 'deployment-guide' | 'field-report';

export interface ErrorAction {
  kind: ErrorActionKind;
  /** The button / link text, localised. */
  label: string;
  /** For `deployment-guide` / `field-report`: the page's address when the context gave one. */
  href?: string;
}

/** A failure as a component shows it (data-testid "error", `data-code` = `code`). */
export interface ErrorDescription {
  /** The error code (shown small for support): the WebCcidError code, or `unknown`. */
  code: string;
  title: string;
  detail: string;
  action?: ErrorAction;
  /** Tries left after a wrong PIN / PUK / user code, when known. */
  retriesLeft?: number;
}

/** Operating systems with their own advice for `transport/os-held`. */
export type OsName = 'windows' | 'linux' | 'macos' | 'chromeos' | 'android' | 'other';

export interface DescribeContext {
  /** The card was held by a flow when this happened: a removal / unplug then means "start again". */
  inFlow?: boolean;
  /** The PIN / PUK was keyed on the reader's pinpad (changes the PUK message). */
  pinpad?: boolean;
  /** Tries left, when the error does not carry them. */
  retriesLeft?: number;
  /** WebUSB support (default: `detectWebUsb()`). */
  webUsb?: WebUsbSupport;
  /** The user's OS for `transport/os-held` (default: from `navigator`). */
  os?: OsName;
  /** Address of the deployment guide, put on `deployment-guide` actions. */
  deploymentGuideUrl?: string;
  /** Address of the field report page (the probe page, or docs/field-test.md), put on `field-report` actions. Default `DEFAULT_FIELD_REPORT_URL`. */
  fieldReportUrl?: string;
}

/** Where the `field-report` action points by default: the field kit page served next to the demo. */
export const DEFAULT_FIELD_REPORT_URL = 'probe.html';

/** A count carried by the error (`retriesLeft`, `attemptsLeft`, `retryAfterSeconds`), when valid. */
export function countOf(error: unknown, key: 'retriesLeft' | 'attemptsLeft' | 'retryAfterSeconds'): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const v = (error as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

// ---- actions -----------------------------------------------------------------------------------

export function retryAction(): ErrorAction {
  return { kind: 'retry', label: msg('再試一次', { id: 'err.action.retry' }) };
}

export function unlockAction(): ErrorAction {
  return { kind: 'unlock', label: msg('前往解鎖卡', { id: 'err.action.unlock' }) };
}

export function chooseReaderAction(): ErrorAction {
  return { kind: 'choose-reader', label: msg('選擇讀卡機', { id: 'err.action.choose-reader' }) };
}

export function guideAction(context: DescribeContext): ErrorAction {
  return {
    kind: 'deployment-guide',
    label: msg('查看部署說明', { id: 'err.action.deployment-guide' }),
    ...(context.deploymentGuideUrl ? { href: context.deploymentGuideUrl } : {}),
  };
}

export function fieldReportAction(context: DescribeContext): ErrorAction {
  return { kind: 'field-report', label: msg('傳送現場回報', { id: 'err.action.field-report' }), href: context.fieldReportUrl ?? DEFAULT_FIELD_REPORT_URL };
}


/** Whole hours (>= 1 h) or whole minutes (>= 1), rounded up; undefined when unknown. */
export function waitOf(seconds: number | undefined): { hours: number } | { minutes: number } | undefined {
  if (seconds === undefined) return undefined;
  if (seconds >= 3600) return { hours: Math.ceil(seconds / 3600) };
  return { minutes: Math.max(1, Math.ceil(seconds / 60)) };
}


/** What a code is told with: the code (as `codeOf` found it), the error, the caller's context. */
export type Describer = (code: string, error: unknown, context: DescribeContext) => ErrorDescription;
