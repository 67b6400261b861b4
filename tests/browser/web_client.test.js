// The web client in a real browser: it logs in, walks, sees the Lua bot that joined the zone
// (peer_bot.lua) and exchanges zone chat with it.
'use strict';
const { env, run, waitFor } = require('./browser');

// Clicks the canvas where world position (x, y) is drawn.
async function clickAtWorld(page, x, y) {
  const at = await page.evaluate((wx, wy) => {
    const c = document.getElementById('view');
    const r = c.getBoundingClientRect();
    const k = window.quayGameScale();
    return { x: r.left + wx * k, y: r.top + wy * k };
  }, x, y);
  await page.mouse.click(at.x, at.y);
}

async function clickAtEntity(page, pick, what) {
  const pos = await page.evaluate((src) => {
    const f = eval(src);
    const e = [...window.quayGame.entities.values()].find(f);
    return e ? { x: e.x, y: e.y } : null;
  }, pick.toString());
  if (!pos) throw new Error(`expected ${what} in view to click on`);
  await clickAtWorld(page, pos.x, pos.y);
}

run('web_client', async (_browser, page) => {
  await page.goto(env('QUAY_GAME_URL'), { waitUntil: 'load' });
  await page.type('#name', 'webby');
  await page.click('#login button');
  await waitFor(page, 'status "playing" after logging in as webby',
    () => document.getElementById('status').textContent === 'playing');
  await waitFor(page, 'the zone name after EnterZone',
    () => window.quayGame.selfId !== 0 && window.quayGame.zone !== '');
  const start = await page.evaluate(() => {
    const me = window.quayGame.entities.get(window.quayGame.selfId);
    return { x: me.x, y: me.y };
  });
  // Walk right for 0.6 s with the arrow key: the position moves and the server keeps it.
  await page.keyboard.down('ArrowRight');
  await waitFor(page, `webby to move right of x=${start.x.toFixed(1)} by 2 m`,
    (x0) => window.quayGame.entities.get(window.quayGame.selfId).x > x0 + 2, start.x, 5000);
  await page.keyboard.up('ArrowRight');
  await waitFor(page, 'the Lua bot "luabot" in view',
    () => [...window.quayGame.entities.values()].some((e) => e.name === 'luabot'));
  await page.type('#chat-text', '/z hello luabot');
  await page.keyboard.press('Enter');
  await waitFor(page, 'the chat line "hello webby" from luabot',
    () => window.quayGame.chat.some((c) => c.from === 'luabot' && c.text === 'hello webby'));
  // Fight: a click on the rabbit (tests/scenarios/zones/testland.toml, near the spawn) walks
  // into range and attacks; the hit comes back in CombatEvents.
  await clickAtEntity(page, (e) => e.name === 'Test Rabbit' && e.hp > 0, 'the Test Rabbit');
  await waitFor(page, 'a combat line "webby hits Test Rabbit"',
    () => window.quayGame.chat.some((c) => c.channel === 'combat' && c.text.startsWith('webby hits Test Rabbit')),
    undefined, 8000);
  // A portal: walk into the ring (a click on it) and press P: EnterZone of the other zone.
  await clickAtWorld(page, 50, 6);
  await waitFor(page, 'webby to reach the portal at (50, 5)', () => {
    const me = window.quayGame.entities.get(window.quayGame.selfId);
    return Math.hypot(me.x - 50, me.y - 6) < 0.5;
  }, undefined, 10000);
  await page.keyboard.press('p');
  await waitFor(page, 'the zone to become Otherland after the portal',
    () => window.quayGame.zone === 'Otherland', undefined, 5000);
  const error = await page.evaluate(() => window.quayGame.lastError);
  if (error) throw new Error(`expected no game error on the page, got ${error}`);
});
