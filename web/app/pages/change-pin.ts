/** change-pin.html: <hca-change-pin>; a blocked PIN leads to the unlock page. */
import { html } from 'lit';
import { startPage } from '../shell.js';
import { words } from '../i18n.js';
import { changePinWords } from '../change-pin-words.js';
import { loadHardware } from '../hardware.js';
import { HcaChangePin } from '../../../src/components/hca-change-pin/hca-change-pin.js';
import { defineElements } from '../elements.js';

defineElements(['hca-change-pin', HcaChangePin]);


startPage(
  'change-pin',
  (c) => {
    const p = changePinWords();
    return html`<h1 class="flow-title">${p.title}</h1>
      <p class="lead">${p.intro}</p>
      <div class="flow">
        <hca-change-pin .session=${c.session} .profile=${c.profile} ?kiosk=${c.kiosk} .idleSeconds=${c.idleSeconds}
          @hca-unlock-requested=${() => location.assign(c.href('unlock'))}></hca-change-pin>
      </div>`;
  },
  () => `${words().changePin} — ${words().appName}`,
  loadHardware,
);

