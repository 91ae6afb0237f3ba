/** nhi.html: <nhi-card-reader> (讀取健保卡), the virtual reader holding the virtual NHI card by default. */
import { html } from 'lit';
import { startPage } from '../shell.js';
import { words } from '../i18n.js';
import { nhiWords } from '../nhi-words.js';
import { loadHardware } from '../hardware.js';
import { NhiCardReader } from '../../../src/components/nhi-card-reader/nhi-card-reader.js';
import { defineElements } from '../elements.js';

defineElements(['nhi-card-reader', NhiCardReader]);

startPage(
  'nhi',
  (c) => {
    const w = words();
    const p = nhiWords();
    return html`<h1>${p.title}</h1>
      <p class="lead">${p.intro}</p>
      <div class="flow">
        <nhi-card-reader .session=${c.session}></nhi-card-reader>
      </div>
      ${c.kiosk ? '' : html`<p class="driver-link"><a href=${c.href('probe')} data-testid="go-probe">${w.probe}</a> — ${p.probeDesc}</p>`}`;
  },
  () => `${nhiWords().title} — ${words().appName}`,
  loadHardware,
);
