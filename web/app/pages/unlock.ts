/** unlock.html: <hca-unlock-card> (解鎖卡作業). */
import { html } from 'lit';
import { startPage } from '../shell.js';
import { words } from '../i18n.js';
import { unlockWords } from '../unlock-words.js';
import { loadHardware } from '../hardware.js';
import { HcaUnlockCard } from '../../../src/components/hca-unlock-card/hca-unlock-card.js';
import { defineElements } from '../elements.js';

defineElements(['hca-unlock-card', HcaUnlockCard]);


startPage(
  'unlock',
  (c) => {
    const p = unlockWords();
    return html`<h1 class="flow-title">${p.title}</h1>
      <p class="lead">${p.intro}</p>
      <div class="flow">
        <hca-unlock-card .session=${c.session} .profile=${c.profile} ?kiosk=${c.kiosk} .idleSeconds=${c.idleSeconds}></hca-unlock-card>
      </div>`;
  },
  () => `${words().unlock} — ${words().appName}`,
  loadHardware,
);

