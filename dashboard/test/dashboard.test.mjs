// The dashboard in a real headless Chromium against a real PoVM network.
//
// Serves dashboard/ over HTTP (test/static-server.mjs), opens it with ?rpc=<POVM_WS>, checks
// that the head, validators and providers fill from the chain, submits a coin-flip job from
// the page's form as //Alice, waits for its verdict on the page (Completed, with the tally the
// coin-flip job gives for its seed, computed here), waits for the energy chart to show the
// epoch the job's work was verified in (the job holds 32 MiB for 3 s so that its footprint
// is measurable), and saves a full-page screenshot. Then, on pages of their own: a stand-in
// for the polkadot.js browser extension signs a job the chain refuses (a named error on the
// page), and a page pointed at a node that is down names the connection error.
//
// Needs a network with two providers (//Bob and //Charlie) serving the coin-flip image:
//   POVM_WS              the node's WebSocket URL, e.g. ws://127.0.0.1:9944
//   POVM_COINFLIP_IMAGE  the coin-flip image digest, sha256:<hex>
//   POVM_CHROMIUM        the browser (default /usr/bin/chromium, Debian's `chromium`)
//   POVM_ARTEFACTS       where the screenshot goes (else $CARGO_TARGET_DIR/tmp/dashboard,
//                        else a temporary directory)
// `pytest tests/clients/test_dashboard.py` starts the network and runs this file.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import puppeteer from 'puppeteer-core';

import { serveFolder } from './static-server.mjs';
import { expectedTally } from '../../tests/clients/coinflip-tally.mjs';

const WS = process.env.POVM_WS;
const IMAGE = process.env.POVM_COINFLIP_IMAGE;
const CHROMIUM = process.env.POVM_CHROMIUM || '/usr/bin/chromium';
const DASHBOARD = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEED = 31415n;
const FLIPS = 1_000_000n;
// Held for the run's length so that the worker's usage samples (about one a second) measure a
// footprint: 1M flips alone take milliseconds, and an epoch of zero energy draws no bar.
const ALLOC_MIB = 32;
const SLEEP_SECS = 3;
// Generous waits, not timings: a job takes about half a minute on the fast-runtime build.
const LOAD_MS = 60_000;
const VERDICT_MS = 300_000;
const CHART_MS = 120_000;

/** Where the screenshot goes. */
function artefactsDir() {
  let dir;
  if (process.env.POVM_ARTEFACTS) dir = process.env.POVM_ARTEFACTS;
  else if (process.env.CARGO_TARGET_DIR) dir = join(process.env.CARGO_TARGET_DIR, 'tmp', 'dashboard');
  else return mkdtempSync(join(tmpdir(), 'povm-dashboard-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

let server;
let browser;
let page;
let alice, bob, charlie;
let jobId;
const pageErrors = [];

before(async () => {
  assert.ok(WS, 'set POVM_WS to the node URL (pytest tests/clients does)');
  assert.match(IMAGE ?? '', /^sha256:[0-9a-f]{64}$/, 'set POVM_COINFLIP_IMAGE to sha256:<hex>');
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  [alice, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((uri) => keyring.addFromUri(uri).address);
  server = await serveFolder(DASHBOARD);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: no sandbox; a small /dev/shm: none.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(LOAD_MS);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  await page.setViewport({ width: 1400, height: 1000 });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The page's named errors (#error-list), for assertion messages. */
async function shownErrors() {
  return page.$$eval('#error-list li', (items) => items.map((li) => li.textContent));
}

const text = (selector) => page.$eval(selector, (el) => el.textContent.trim());

test('the page connects and fills the head, validators and providers from the chain', async () => {
  await page.goto(`${server.url}/index.html?rpc=${encodeURIComponent(WS)}`, { waitUntil: 'load' });
  await page.waitForSelector('#connection-status[data-state="connected"]');
  assert.equal(await page.$eval('#rpc-url', (el) => el.value), WS, 'the node field shows ?rpc=');
  await page.waitForFunction(
    () => ['head-best', 'head-finalised', 'head-session'].every((id) => /\d/.test(document.getElementById(id).textContent)),
  );
  const best = Number((await text('#head-best')).replace(/[#,]/g, ''));
  const finalised = Number((await text('#head-finalised')).replace(/[#,]/g, ''));
  assert.ok(best >= 1 && finalised <= best + 1, `best #${best}, finalised #${finalised}`);
  assert.match(await text('#head-session'), /^\d+$/);
  assert.match(await text('#head-runtime'), /^povm v\d+$/);

  await page.waitForFunction(() => Number(document.getElementById('validator-rows').dataset.count) >= 1);
  const validators = await page.$$eval('#validator-rows tr', (rows) => rows.map((r) => r.dataset.account));
  // Alice validates on a --dev chain (the providers have no session keys, so no seat).
  assert.ok(validators.includes(alice), `validators: ${validators.join(', ')}`);

  await page.waitForFunction(() => Number(document.getElementById('provider-rows').dataset.count) >= 2);
  const providers = await page.$$eval('#provider-rows tr', (rows) =>
    rows.map((r) => ({ who: r.dataset.account, status: r.dataset.status, cells: [...r.cells].map((c) => c.textContent) })));
  assert.deepEqual(providers.map((p) => p.who).sort(), [bob, charlie].sort(), 'both providers listed');
  for (const p of providers) {
    assert.equal(p.status, 'Active', `${p.who} active`);
    assert.equal(p.cells[2], '1,000 POVM', `${p.who}'s bond`);
  }
  await page.waitForSelector('#job-submit:not([disabled])');
  // The queue section reads the queue's count and levels (storage version 3).
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('queue-count').textContent));
  assert.deepEqual(await shownErrors(), [], 'no error on the page');
});

test('a coin-flip job submitted from the page completes, and the page shows its verdict', async () => {
  await page.type('#job-image', IMAGE);
  await page.$eval('#job-seed', (el, v) => { el.value = v; }, `${SEED}`);
  await page.$eval('#job-flips', (el, v) => { el.value = v; }, `${FLIPS}`);
  await page.$eval('#job-alloc-mib', (el, v) => { el.value = v; }, `${ALLOC_MIB}`);
  await page.$eval('#job-sleep', (el, v) => { el.value = v; }, `${SLEEP_SECS}`);
  await page.select('#job-account', 'dev://Alice');
  await page.click('#job-submit');

  await page.waitForFunction(
    () => document.getElementById('tracked-job-id').textContent !== '' ||
      document.getElementById('job-submit-status').dataset.state === 'error',
  );
  const submitStatus = await text('#job-submit-status');
  assert.match(submitStatus, /^job \d+ submitted in block #\d+$/, `${submitStatus}; errors: ${await shownErrors()}`);
  jobId = await text('#tracked-job-id');

  const endings = ['Completed', 'Disputed', 'Expired', 'Unrunnable', 'Cancelled'];
  await page.waitForFunction(
    (ends) => ends.includes(document.getElementById('tracked-job').dataset.state),
    { timeout: VERDICT_MS },
    endings,
  );
  const state = await text('#tracked-job-state');
  const log = await page.$$eval('#tracked-job-log li', (items) => items.map((li) => li.textContent));
  assert.equal(state, 'Completed', `job ${jobId}: ${state}; log: ${log.join(' | ')}`);
  const output = await page.$eval('#tracked-job-output', (el) => el.textContent);
  assert.equal(output, expectedTally(SEED, FLIPS), 'the tally the coin-flip job gives');
  assert.match(await text('#tracked-job-digest'), /^0x[0-9a-f]{64}$/);
  assert.match(await text('#tracked-job-payments'), /refunded/);
  assert.ok(log.some((l) => l.endsWith('JobAssigned')), `log: ${log.join(' | ')}`);
  assert.ok(log.at(-1).endsWith('JobCompleted'), `log: ${log.join(' | ')}`);

  // The same verdict in the recent verdicts and, once re-read, in the jobs table.
  const verdict = await page.$eval(`#verdict-rows tr[data-job="${jobId}"]`, (r) => r.dataset.state);
  assert.equal(verdict, 'Completed');
  await page.waitForSelector(`#job-rows tr[data-job="${jobId}"][data-state="Completed"]`);
});

test('the energy chart shows the epoch the job was verified in, and a screenshot is saved', async () => {
  assert.ok(jobId, 'the job test ran first');
  // The epoch the verdict fell in and the job's energy, as the page shows them.
  const epoch = await text('#tracked-job-epoch');
  assert.match(epoch, /^\d+$/, 'the verdict\'s epoch is shown');
  const jobEnergy = BigInt(await page.$eval('#tracked-job-footprint', (el) => el.dataset.energyUwh));
  assert.ok(jobEnergy > 0n, 'the job used energy (it holds memory and sleeps)');
  // EpochFootprint is written with the verdict; the chart is re-read on the next block. The
  // bar of that epoch holds at least this job's energy (other jobs may share the epoch).
  await page.waitForFunction(
    (e, min) => [...document.querySelectorAll('#energy-chart [data-testid="energy-bar"]')]
      .some((bar) => bar.dataset.epoch === e && BigInt(bar.dataset.energyUwh) >= BigInt(min)),
    { timeout: CHART_MS },
    epoch, String(jobEnergy),
  );
  const bars = (await page.$$eval('#energy-chart [data-testid="energy-bar"]', (items) =>
    items.map((b) => ({ epoch: b.dataset.epoch, energyUwh: b.dataset.energyUwh, height: b.getAttribute('height') }))))
    .map((b) => ({ epoch: Number(b.epoch), energyUwh: BigInt(b.energyUwh), height: Number(b.height) }));
  const withWork = bars.filter((b) => b.energyUwh > 0n);
  assert.ok(withWork.length >= 1, `bars: ${JSON.stringify(bars, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
  assert.ok(withWork.every((b) => b.height > 0), 'an epoch with work has a visible bar');
  const points = await page.$$eval('#energy-chart [data-testid="carbon-point"]', (items) => items.length);
  assert.equal(points, bars.length, 'one CO2 point per epoch');
  assert.deepEqual(await shownErrors(), [], 'no error on the page');

  // The tracked job and the chart, both on screen, in the test's artefacts.
  const file = join(artefactsDir(), 'dashboard.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
  assert.deepEqual(pageErrors.filter((e) => !/favicon/.test(e)), [], 'no error in the browser console');
});

/**
 * Stands in for a polkadot.js-compatible browser extension (`window.injectedWeb3`), with the
 * interface the real one has: `enable(app)` gives `{ accounts, signer }`. Its one account is
 * //Dave (no provider); its signer signs raw payloads with //Dave's key from the page's
 * keyring bundle, hashing payloads over 256 bytes as the chain expects, and counts its
 * signatures in `window.fakeExtensionSigned`.
 */
function injectFakeExtension() {
  window.fakeExtensionSigned = 0;
  const dave = async () => {
    await window.polkadotUtilCrypto.cryptoWaitReady();
    return new window.polkadotKeyring.Keyring({ type: 'sr25519' }).addFromUri('//Dave');
  };
  window.injectedWeb3 = {
    'fake-extension': {
      version: '0.0.1',
      enable: async (app) => {
        window.fakeExtensionEnabledBy = app;
        const pair = await dave();
        return {
          accounts: { get: async () => [{ address: pair.address, name: 'Dave (extension)' }] },
          signer: {
            signRaw: async ({ data }) => {
              const { hexToU8a, u8aToHex } = window.polkadotUtil;
              const bytes = hexToU8a(data);
              const message = bytes.length > 256 ? window.polkadotUtilCrypto.blake2AsU8a(bytes, 256) : bytes;
              window.fakeExtensionSigned += 1;
              return { id: 1, signature: u8aToHex(pair.sign(message, { withType: true })) };
            },
          },
        };
      },
    },
  };
}

test('with a browser extension, its account signs; a failed dispatch is a named error', async () => {
  const other = await browser.newPage();
  try {
    await other.evaluateOnNewDocument(injectFakeExtension);
    await other.goto(`${server.url}/?rpc=${encodeURIComponent(WS)}`, { waitUntil: 'load' });
    await other.waitForSelector('#extension-connect:not([hidden])');
    await other.click('#extension-connect');
    const daveOption = await other.waitForSelector('#job-account option[value^="ext:fake-extension:"]');
    const value = await daveOption.evaluate((o) => o.value);
    assert.equal(await other.evaluate(() => window.fakeExtensionEnabledBy), 'PoVM dashboard');
    await other.type('#job-image', IMAGE);
    // A budget below max_replicas × max_seconds × price: signed and included, refused on chain.
    await other.$eval('#job-budget', (el) => { el.value = '0.00000001'; });
    await other.select('#job-account', value);
    await other.click('#job-submit');
    await other.waitForSelector('#job-submit-status[data-state="error"]', { timeout: LOAD_MS });
    assert.equal(await other.evaluate(() => window.fakeExtensionSigned), 1, 'the extension signed');
    const shown = await other.$eval('#error-list li[data-error-name="job submission"]', (li) => li.textContent);
    assert.match(shown, /^job submission: jobQueue\.submitJob failed: jobQueue\.BudgetTooLow: /);
  } finally {
    await other.close();
  }
});

/** A port nothing listens on (taken from the OS, then released). */
async function closedPort() {
  const srv = createServer();
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

test('pointed at a node that is down, the page names the error', async () => {
  const down = `ws://127.0.0.1:${await closedPort()}`;
  const other = await browser.newPage();
  try {
    await other.goto(`${server.url}/?rpc=${encodeURIComponent(down)}`, { waitUntil: 'load' });
    await other.waitForSelector('#error-list li[data-error-name="connection"]');
    const shown = await other.$eval('#error-list li[data-error-name="connection"]', (li) => li.textContent);
    assert.match(shown, new RegExp(`^connection: cannot reach the node at ${down}`));
    assert.equal(await other.$eval('#error-list', (el) => el.hidden), false, 'the error list is visible');
    assert.equal(await other.$eval('#connection-status', (el) => el.dataset.state), 'error');
    assert.equal(await other.$eval('#job-submit', (el) => el.disabled), true, 'no job form without a node');
  } finally {
    await other.close();
  }
});
