// Starts the dashboard: connects to the node (?rpc=…), then keeps every section live. Head
// and session come from subscriptions; the storage-backed sections are re-read on each new
// best block (one refresh at a time); verdicts come from every finalised block's events.
// Each section's failure is a named error on the page; the others keep going.
(function main(PovmDash) {
  'use strict';

  const { chainData, views, status, format } = PovmDash;
  const MAX_VERDICTS = 20;

  /** Recent endings, newest first, and the head as last seen. */
  const verdicts = [];
  const head = { session: undefined };

  async function refreshSections(api) {
    await Promise.all([
      status.guarded('job queue', async () => {
        const [queue, jobs] = await Promise.all([chainData.readQueue(api), chainData.readJobs(api)]);
        views.queue(queue);
        views.jobs(jobs);
      }),
      status.guarded('providers', async () => views.providers(await chainData.readProviders(api))),
      status.guarded('energy and CO2', async () =>
        views.energy(await chainData.readEpochFootprints(api, PovmDash.energyChart.MAX_EPOCHS), head.session)),
      status.guarded('lottery', async () => views.lottery(await chainData.readLottery(api))),
      status.guarded('validators', async () => views.validators(await chainData.readValidators(api))),
      status.guarded('tracked job', () => PovmDash.jobForm.refresh()),
    ]);
  }

  /** Re-reads the sections on each new best block; a block arriving mid-refresh queues one more. */
  function refreshOnEachBlock(api) {
    let running = false;
    let again = false;
    return async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      do {
        again = false;
        await refreshSections(api);
      } while (again);
      running = false;
      document.body.dataset.refreshed = String(Date.now());
    };
  }

  function onFinalisedBlock(api, number, hash, records, session) {
    const events = chainData.jobEventsIn(api, records, number, session);
    for (const e of events) PovmDash.jobForm.onJobEvent(e);
    const endings = events.filter((e) => e.kind === 'ending');
    if (endings.length) {
      verdicts.unshift(...endings.reverse());
      verdicts.length = Math.min(verdicts.length, MAX_VERDICTS);
      views.verdicts(verdicts);
    }
  }

  /** Whether `url` names this machine (a remote node supplies the metadata signers sign against). */
  function isLocal(url) {
    try {
      return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
    } catch (_) {
      return false;
    }
  }

  async function start() {
    // Framed by another site, a click could submit a job as a dev account (clickjacking).
    if (window.top !== window.self) {
      status.connection('error', 'framed');
      status.error('page', 'the dashboard does not run inside a frame: open it in its own tab');
      return;
    }
    const url = PovmDash.connection.rpcUrl();
    if (!isLocal(url)) {
      status.error('remote node', `${url} is not this machine: it supplies what you sign (metadata, genesis), so connect only to a node you trust`);
    }
    document.getElementById('rpc-url').value = url;
    let api;
    try {
      api = await PovmDash.connection.connect(url);
    } catch (err) {
      status.connection('error', 'not connected');
      status.error('connection', err);
      return;
    }
    format.useChainProperties(api);
    document.body.dataset.connected = 'true';
    await status.guarded('chain info', async () => views.chainInfo(await chainData.readChainInfo(api), url));
    views.verdicts(verdicts);
    const refresh = refreshOnEachBlock(api);
    await status.guarded('chain head', () =>
      chainData.subscribeHead(api, (h) => {
        if (h.session !== undefined) head.session = h.session;
        views.head(h);
        if (h.best !== undefined) refresh();
      }));
    await status.guarded('verdicts', () =>
      chainData.followFinalisedEvents(api, (n, hash, records, session) => onFinalisedBlock(api, n, hash, records, session),
        (err) => status.error('verdicts', err),
        (from, to) => status.error('missed blocks',
          `verdicts of finalised blocks #${from}–#${to} were skipped: the node no longer has their state (the page was away too long)`)));
    await status.guarded('job form', () => PovmDash.jobForm.init(api, api.registry.chainSS58));
  }

  window.addEventListener('error', (e) => status.error('page', e.error || e.message));
  window.addEventListener('unhandledrejection', (e) => status.error('page', e.reason));
  if (!globalThis.polkadotApi) {
    status.connection('error', 'not loaded');
    status.error('libraries', '@polkadot/api is not loaded: run `npm ci` in dashboard/ and serve that folder');
    return;
  }
  start();
})(globalThis.PovmDash);
