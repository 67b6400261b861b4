// The web client in a real browser: it logs in, walks, sees the Lua bot that joined the zone
// (peer_bot.lua) and exchanges zone chat with it.
'use strict';
const { env, run, waitFor } = require('./browser');

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
  const error = await page.evaluate(() => window.quayGame.lastError);
  if (error) throw new Error(`expected no game error on the page, got ${error}`);
});
