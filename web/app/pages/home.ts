/** index.html: the three flows, the language switch and a link to the driver console. */
import { html } from 'lit';
import { startPage, type PageContext } from '../shell.js';
import { words } from '../i18n.js';
import { homeWords } from '../home-words.js';

function card(ctx: PageContext, target: 'unlock' | 'change-pin' | 'bind' | 'nhi', title: string, text: string) {
  const hw = homeWords();
  return html`<li class="flow-card">
    <h2><a href=${ctx.href(target)} data-testid=${`go-${target}`}>${title}</a></h2>
    <p>${text}</p>
    <span class="go" aria-hidden="true">${hw.open} →</span>
  </li>`;
}

startPage(
  'home',
  (ctx) => {
    const w = words();
    const hw = homeWords();
    return html`<h1>${w.appName}</h1>
      <p class="lead">${hw.homeIntro}</p>
      <ul class="flows">
        ${card(ctx, 'unlock', w.unlock, hw.unlockDesc)} ${card(ctx, 'change-pin', w.changePin, hw.changePinDesc)} ${card(ctx, 'bind', w.bind, hw.bindDesc)} ${card(ctx, 'nhi', w.nhi, hw.nhiDesc)}
      </ul>
      <p class="demo-data"><strong>${hw.demoData}：</strong>${hw.demoDataText}</p>
      ${ctx.kiosk
        ? ''
        : html`<p class="driver-link"><a href=${ctx.href('probe')} data-testid="go-probe">${w.probe}</a> — ${hw.probeDesc}</p>
            <p class="driver-link"><a href=${ctx.href('driver')} data-testid="go-driver">${w.driver}</a> — ${hw.driverDesc}</p>`}`;
  },
  () => words().appName,
);
