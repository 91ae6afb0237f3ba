/** index.html: the three flows, the language switch and a link to the driver console. */
import { html } from 'lit';
import { startPage, type PageContext } from '../shell.js';
import { words } from '../i18n.js';

function card(ctx: PageContext, target: 'unlock' | 'change-pin' | 'bind' | 'nhi', title: string, text: string) {
  const w = words();
  return html`<li class="flow-card">
    <h2><a href=${ctx.href(target)} data-testid=${`go-${target}`}>${title}</a></h2>
    <p>${text}</p>
    <span class="go" aria-hidden="true">${w.open} →</span>
  </li>`;
}

startPage(
  'home',
  (ctx) => {
    const w = words();
    return html`<h1>${w.appName}</h1>
      <p class="lead">${w.homeIntro}</p>
      <ul class="flows">
        ${card(ctx, 'unlock', w.unlock, w.unlockDesc)} ${card(ctx, 'change-pin', w.changePin, w.changePinDesc)} ${card(ctx, 'bind', w.bind, w.bindDesc)} ${card(ctx, 'nhi', w.nhi, w.nhiDesc)}
      </ul>
      <p class="demo-data"><strong>${w.demoData}：</strong>${w.demoDataText}</p>
      ${ctx.kiosk
        ? ''
        : html`<p class="driver-link"><a href=${ctx.href('probe')} data-testid="go-probe">${w.probe}</a> — ${w.probeDesc}</p>
            <p class="driver-link"><a href=${ctx.href('driver')} data-testid="go-driver">${w.driver}</a> — ${w.driverDesc}</p>`}`;
  },
  () => words().appName,
);
