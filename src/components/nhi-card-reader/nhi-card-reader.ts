/**
 * `<nhi-card-reader>`: reads the NHI card (健保卡) in the reader and shows what it holds: card
 * number, name, ID number, birth date, sex, issue date. No PIN; the card's public SELECT and
 * basic-data read only (webccid/nhi). Also the field kit's first step: a card read here shows
 * that the reader and this driver work with a real card.
 *
 * The data is shown on this screen only (nothing is sent anywhere) and cleared when the card
 * leaves the reader, or with 「清除」.
 *
 * Event `nhi-card-read` (bubbles, composed; `detail` = `NhiCardData`) after a successful read.
 *
 * Test hooks: `read-nhi`, `nhi-result`, `nhi-card-number`, `nhi-name`, `nhi-id-number`,
 * `nhi-birth-date`, `nhi-sex`, `nhi-issue-date`, `nhi-works`, `clear-nhi`, `error` (with `data-code`).
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { updateWhenLocaleChanges, msg, str } from '@lit/localize';
import type { CardSession } from '../../session/card-session.js';
import { CardSessionController } from '../shared/card-session-controller.js';
import { describeError, type ErrorDescription } from '../shared/messages.js';
import { renderError } from '../shared/error-view.js';
import { sharedStyles } from '../shared/styles.js';
import { readNhiCard, type NhiCardData } from '../../nhi/card.js';

/** What the component says about a failure: the NHI codes here, the rest from `describeError`. */
export function describeNhiError(error: unknown): ErrorDescription {
  const code = (error as { code?: unknown } | null)?.code;
  const sw = (error as { sw?: unknown } | null)?.sw;
  const swText = typeof sw === 'number' && sw >= 0 ? sw.toString(16).toUpperCase().padStart(4, '0') : '';
  switch (code) {
    case 'nhi/not-nhi-card':
      return {
        code,
        title: msg('這不是健保卡', { id: 'nhi.err.not-nhi.title' }),
        detail: msg(str`卡片沒有健保卡的應用程式（卡片回應 ${swText}）。請插入健保卡，晶片朝內、朝上。`, { id: 'nhi.err.not-nhi.detail' }),
      };
    case 'nhi/read-failed':
      return {
        code,
        title: msg('無法讀取健保卡資料', { id: 'nhi.err.read-failed.title' }),
        detail: msg(str`卡片拒絕讀取基本資料（卡片回應 ${swText}）。請拔出卡片再插入一次；若仍失敗，請回報錯誤代碼。`, { id: 'nhi.err.read-failed.detail' }),
      };
    case 'nhi/bad-data':
      return {
        code,
        title: msg('健保卡資料格式不符', { id: 'nhi.err.bad-data.title' }),
        detail: msg('卡片的基本資料不是公開的健保卡格式。請回報錯誤代碼與讀卡機型號。', { id: 'nhi.err.bad-data.detail' }),
      };
    case 'nhi/no-big5':
      return {
        code,
        title: msg('這個瀏覽器無法顯示姓名', { id: 'nhi.err.no-big5.title' }),
        detail: msg('瀏覽器沒有 Big5 中文解碼器。請改用 Chrome 或 Edge。', { id: 'nhi.err.no-big5.detail' }),
      };
    case 'ccid/card-absent':
      return {
        code,
        title: msg('讀卡機中沒有卡片', { id: 'nhi.err.card-absent.title' }),
        detail: msg('請將健保卡插入讀卡機（晶片朝內、朝上），再按「讀取健保卡」。', { id: 'nhi.err.card-absent.detail' }),
      };
    default:
      return describeError(error);
  }
}

/** See the module comment. */
export class NhiCardReader extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      h2 {
        font-size: 1.35em;
        margin: 0 0 0.5rem;
      }
      .intro {
        color: var(--hca-muted);
        margin: 0.25rem 0 0.75rem;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin: 0.75rem 0;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.35rem 1rem;
        margin: 0.75rem 0;
        padding: 0.75rem 1rem;
        border: 1px solid var(--hca-border);
        border-radius: var(--hca-radius);
        background: var(--hca-surface);
      }
      dt {
        font-weight: 600;
        color: var(--hca-muted);
      }
      dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .works {
        padding: 0.6rem 0.9rem;
        border-radius: var(--hca-radius);
        background: var(--hca-ok-surface);
        color: var(--hca-ok);
        font-weight: 600;
      }
      .privacy {
        color: var(--hca-muted);
        font-size: 0.9em;
      }
    `,
  ];

  /** The reactive properties (public) and the internal state (`state: true`), declared below. */
  static override properties = {
    session: { attribute: false },
    data: { state: true },
    error: { state: true },
    busy: { state: true },
  };

  constructor() {
    super();
    updateWhenLocaleChanges(this); // re-rendered on a language switch
  }

  /** The card session the component gets its card from (required). */
  session: CardSession | undefined;

  private data: NhiCardData | undefined;
  private error: ErrorDescription | undefined;
  private busy = false;
  readonly #cardSession = new CardSessionController(this, {
    onState: (state) => {
      // The holder's data leaves the screen with the card.
      if (state.kind === 'no-card' || state.kind === 'no-reader') this.data = undefined;
    },
    onRelease: () => {
      this.data = undefined;
    },
  });

  /** Reads the card now (what 「讀取健保卡」 does). */
  async read(): Promise<void> {
    const session = this.session;
    if (!session || this.busy) return;
    this.busy = true;
    this.error = undefined;
    this.data = undefined;
    try {
      const { channel } = await session.connect();
      try {
        this.data = await readNhiCard(channel);
      } finally {
        await session.release();
      }
      this.dispatchEvent(new CustomEvent<NhiCardData>('nhi-card-read', { detail: { ...this.data }, bubbles: true, composed: true }));
    } catch (e) {
      this.error = describeNhiError(e);
    } finally {
      this.busy = false;
    }
  }

  /** Takes the data off the screen. */
  clear(): void {
    this.data = undefined;
    this.error = undefined;
  }

  #sexText(sex: 'M' | 'F'): string {
    return sex === 'M' ? msg('男', { id: 'nhi.sex.m' }) : msg('女', { id: 'nhi.sex.f' });
  }

  override render(): TemplateResult {
    const d = this.data;
    const canRead = !this.busy && this.session !== undefined && (this.#cardSession.state?.kind === 'card' || this.#cardSession.state?.kind === 'no-card');
    return html`<section aria-labelledby="nhi-title">
      <h2 id="nhi-title">${msg('健保卡基本資料', { id: 'nhi.title' })}</h2>
      <p class="intro">${msg('不需要 PIN 碼：只讀取健保卡公開的基本資料，資料只顯示在這個畫面，不會傳送到任何地方。', { id: 'nhi.intro' })}</p>
      <hca-reader-status .session=${this.session} no-pin></hca-reader-status>
      <div class="actions">
        <button type="button" data-testid="read-nhi" ?disabled=${!canRead} @click=${() => void this.read()}>
          ${this.busy ? msg('正在讀取…', { id: 'nhi.reading' }) : msg('讀取健保卡', { id: 'nhi.read' })}
        </button>
        ${d
          ? html`<button type="button" class="secondary" data-testid="clear-nhi" @click=${() => this.clear()}>${msg('清除', { id: 'nhi.clear' })}</button>`
          : nothing}
      </div>
      <div aria-live="assertive">${this.error ? renderError(this.error) : nothing}</div>
      <div aria-live="polite">
        ${d
          ? html`<p class="works" data-testid="nhi-works">
                ${msg('讀卡成功：您的讀卡機與這個驅動程式可以和實體卡片正常運作。', { id: 'nhi.works' })}
              </p>
              <dl data-testid="nhi-result">
                <dt>${msg('卡號', { id: 'nhi.field.card-number' })}</dt>
                <dd data-testid="nhi-card-number">${d.cardNumber}</dd>
                <dt>${msg('姓名', { id: 'nhi.field.name' })}</dt>
                <dd data-testid="nhi-name" lang="zh-Hant">${d.name}</dd>
                <dt>${msg('身分證號', { id: 'nhi.field.id-number' })}</dt>
                <dd data-testid="nhi-id-number">${d.idNumber}</dd>
                <dt>${msg('出生日期', { id: 'nhi.field.birth-date' })}</dt>
                <dd data-testid="nhi-birth-date"><time datetime=${d.birthDate}>${d.birthDate}</time></dd>
                <dt>${msg('性別', { id: 'nhi.field.sex' })}</dt>
                <dd data-testid="nhi-sex">${this.#sexText(d.sex)}</dd>
                <dt>${msg('發卡日期', { id: 'nhi.field.issue-date' })}</dt>
                <dd data-testid="nhi-issue-date"><time datetime=${d.issueDate}>${d.issueDate}</time></dd>
              </dl>
              <p class="privacy">${msg('拔出卡片或按「清除」後，資料就會從畫面上移除。', { id: 'nhi.privacy' })}</p>`
          : nothing}
      </div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'nhi-card-reader': NhiCardReader;
  }
  interface HTMLElementEventMap {
    'nhi-card-read': CustomEvent<NhiCardData>;
  }
}
