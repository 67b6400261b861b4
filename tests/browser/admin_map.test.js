// The admin page in a real browser: its live map (a WebSocket subscription to the zone) shows
// as many entities as the server reports for the zone in /metrics.
'use strict';
const { env, run, waitFor } = require('./browser');

async function reported(zone) {
  const r = await fetch(`${env('QUAY_OPERATOR_URL')}/metrics`, {
    headers: { Authorization: `Bearer ${env('QUAY_TOKEN')}` },
  });
  if (!r.ok) throw new Error(`expected /metrics to answer 200, got ${r.status}`);
  const text = await r.text();
  const value = (name) => {
    const m = text.match(new RegExp(`^${name}\\{zone="${zone}"[^}]*\\} (\\S+)$`, 'm'));
    if (!m) throw new Error(`expected ${name}{zone="${zone}"} in /metrics`);
    return Number(m[1]);
  };
  return value('quay_zone_players') + value('quay_zone_npcs');
}

run('admin_map', async (_browser, page) => {
  // Zone 1 (tests/scenarios/zones/testland.toml) has NPCs, so the count is not trivially 0.
  await page.goto(`${env('QUAY_OPERATOR_URL')}/admin?token=${env('QUAY_TOKEN')}&zone=1`, { waitUntil: 'load' });
  await waitFor(page, 'the zone table filled from /api/zones', () => window.quayAdmin.zones.length > 0);
  const zone = await page.evaluate(() => window.quayAdmin.mapZone);
  await waitFor(page, 'three ZoneMap updates pushed over the WebSocket',
    () => window.quayAdmin.mapUpdates >= 3, undefined, 5000);
  if (zone !== 1) throw new Error(`expected the map on zone 1 (?zone=1), it shows zone ${zone}`);
  const expected = await reported(zone);
  if (expected === 0) throw new Error('expected zone 1 to report NPCs in /metrics, it reports 0 entities');
  await waitFor(page, `the map to show ${expected} entities (zone ${zone}: players + NPCs in /metrics)`,
    (n) => window.quayAdmin.mapEntities === n &&
      document.getElementById('map-entities').textContent === String(n), expected, 5000);
  // A wrong token is refused: the figures stay unreadable.
  const r = await fetch(`${env('QUAY_OPERATOR_URL')}/api/zones?token=wrong`);
  if (r.status !== 401) throw new Error(`expected 401 for a wrong token, got ${r.status}`);
});
