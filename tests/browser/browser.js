// Shared by the browser tests: Debian's chromium, headless, driven by puppeteer-core; every
// wait bounded; a failure says what was expected on the page, with a screenshot of it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through run_browser.sh)`);
  return v;
};

async function launch() {
  return puppeteer.launch({
    executablePath: process.env.QUAY_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: 15000,
  });
}

/** Runs `body(browser, page)`, saves `<name>.png` under QUAY_SHOTS, exits 0 or 1. */
async function run(name, body) {
  const shots = env('QUAY_SHOTS');
  fs.mkdirSync(shots, { recursive: true });
  const started = Date.now();
  let browser = null;
  let page = null;
  let failed = null;
  try {
    browser = await launch();
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 720 });
    page.setDefaultTimeout(10000);
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await body(browser, page);
  } catch (e) {
    failed = e;
  }
  const shot = path.join(shots, `${name}.png`);
  if (page) await page.screenshot({ path: shot }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (failed) {
    console.error(`FAIL ${name} (${secs} s): ${failed.message}\nscreenshot: ${shot}`);
    process.exit(1);
  }
  console.log(`PASS ${name} (${secs} s); screenshot: ${shot}`);
}

/** Waits (bounded) until `fn(arg)` is truthy in the page; else fails naming `expected`. */
async function waitFor(page, expected, fn, arg, timeoutMs = 10000) {
  try {
    return await page.waitForFunction(fn, { timeout: timeoutMs, polling: 100 }, arg);
  } catch (e) {
    const shown = await page
      .evaluate(() => document.body.innerText.replace(/\s+/g, ' ').slice(0, 400))
      .catch(() => '(unreadable)');
    throw new Error(`expected ${expected} within ${timeoutMs} ms; the page showed: ${shown}`);
  }
}

module.exports = { env, run, waitFor };
