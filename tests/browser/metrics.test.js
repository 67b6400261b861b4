// /metrics read through the browser (so a screenshot shows it), then parsed by the real
// Prometheus parser (python3-prometheus-client, tests/net/prometheus_parse.py).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { env, run } = require('./browser');

run('metrics', async (_browser, page) => {
  const url = `${env('QUAY_OPERATOR_URL')}/metrics?token=${env('QUAY_TOKEN')}`;
  const res = await page.goto(url, { waitUntil: 'load' });
  if (res.status() !== 200) throw new Error(`expected /metrics to answer 200, got ${res.status()}`);
  const type = res.headers()['content-type'];
  if (!type.startsWith('text/plain; version=0.0.4')) throw new Error(`expected the 0.0.4 text format, got ${type}`);
  const text = await res.text();
  const parser = path.join(__dirname, '..', 'net', 'prometheus_parse.py');
  let dump;
  try {
    dump = execFileSync('/usr/bin/python3', [parser], { input: text, timeout: 10000 }).toString();
  } catch (e) {
    throw new Error(`expected /metrics to parse with prometheus_client: ${e.stderr}`);
  }
  for (const family of ['quay_zone_players gauge', 'quay_zone_tick_seconds histogram',
    'quay_sessions_closed counter', 'quay_actor_mailbox_depth gauge',
    'quay_run_queue_delay_seconds histogram', 'quay_persistence_write_seconds histogram',
    'quay_ready gauge']) {
    if (!dump.includes(`family ${family}`)) throw new Error(`expected the family ${family} in /metrics`);
  }
  if (!/^sample quay_ready  1\.0$/m.test(dump)) throw new Error('expected quay_ready 1 while serving');
  const r = await fetch(`${env('QUAY_OPERATOR_URL')}/readyz`);
  if (r.status !== 200) throw new Error(`expected /readyz 200 while serving, got ${r.status}`);
});
