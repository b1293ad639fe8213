// The page's tables and fields, filled from chain-data's plain objects. Each render function
// replaces one section's content; rows carry data-* attributes (job id, account) for tests.
(function viewsModule(PovmDash) {
  'use strict';

  const $ = (id) => document.getElementById(id);

  function text(id, value) {
    $(id).textContent = value;
  }

  /** Fills <tbody id=`bodyId`> with one row per item (`cells(item)` gives the cells' text). */
  function rows(bodyId, items, cells, rowData = () => ({}), emptyText = 'none') {
    const body = $(bodyId);
    const columns = body.closest('table').querySelectorAll('thead th').length || 1;
    const trs = items.map((item) => {
      const tr = document.createElement('tr');
      Object.assign(tr.dataset, rowData(item));
      for (const c of cells(item)) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      return tr;
    });
    if (!trs.length) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = columns;
      td.className = 'empty';
      td.textContent = emptyText;
      tr.appendChild(td);
      trs.push(tr);
    }
    body.replaceChildren(...trs);
    body.dataset.count = String(items.length);
  }

  function chainInfo(info, url) {
    text('head-chain', info.chain);
    text('head-runtime', info.runtime);
    text('head-node', `${info.node} at ${url}`);
  }

  function head({ best, finalised, session }) {
    if (best !== undefined) text('head-best', `#${best.toLocaleString('en')}`);
    if (finalised !== undefined) text('head-finalised', `#${finalised.toLocaleString('en')}`);
    if (session !== undefined) text('head-session', String(session));
  }

  function validators(list) {
    const { format } = PovmDash;
    rows('validator-rows', list, (v) => [v, format.account(v)], (v) => ({ account: v }));
    text('validator-count', String(list.length));
  }

  /** The queue's length and its first ready jobs, in the order the chain tries them. */
  function queue({ count, entries }) {
    const { format } = PovmDash;
    rows('queue-rows', entries, (e) => [String(e.job), format.balance(e.price), `#${e.expiresAt}`],
      (e) => ({ job: String(e.job) }), 'the queue is empty');
    text('queue-count', String(count));
  }

  function jobs(list) {
    const { format } = PovmDash;
    rows('job-rows', list.slice(0, 50), (j) => [
      String(j.id), j.state, format.account(j.owner), `#${j.submittedAt}`,
      j.providers.map(format.account).join(', ') || '–',
      [j.command, ...j.args].join(' '), j.output ?? '',
    ], (j) => ({ job: String(j.id), state: j.state }), 'no jobs on chain');
  }

  function verdicts(list) {
    const { format } = PovmDash;
    rows('verdict-rows', list, (v) => [
      String(v.job), v.state, `#${v.block}`,
      v.output ?? (v.refunded !== undefined ? `refunded ${format.balance(v.refunded)}` : ''),
      v.energyUwh !== undefined ? `${format.energy(v.energyUwh)}, ${format.carbon(v.carbonUg)}` : '',
    ], (v) => ({ job: String(v.job), state: v.state }), 'no job has ended since the page opened');
  }

  function providers(list) {
    const { format } = PovmDash;
    rows('provider-rows', list, (p) => [
      format.account(p.who), p.status, format.balance(p.bond),
      `${p.agreed}/${p.total}${p.reputation === null ? '' : ` (${Math.round(p.reputation * 100)} %)`}`,
      p.trust === null ? '–' : String(p.trust),
      `${p.offer.slots} × ${p.offer.millicores} mcores, ${p.offer.memoryMib} MiB, ${p.offer.arch}, ≤ ${p.offer.maxSeconds} s`,
      `${p.offer.gridIntensity} g/kWh, PUE ${(p.offer.puePermille / 1000).toFixed(2)}, ${p.offer.coreMilliwatts / 1000} W/core`,
      String(p.lastHeartbeat),
    ], (p) => ({ account: p.who, status: p.status }), 'no provider registered');
  }

  function energy(footprints, currentEpoch) {
    const { format } = PovmDash;
    PovmDash.energyChart.draw($('energy-chart'), footprints, currentEpoch);
    rows('energy-rows', [...footprints].reverse(), (f) => [String(f.epoch), format.energy(f.energyUwh), format.carbon(f.carbonUg)],
      (f) => ({ epoch: String(f.epoch) }), 'no verified work yet');
  }

  function lottery({ draw, tickets, ranking, outcome }) {
    const { format } = PovmDash;
    text('lottery-draw', draw
      ? `epoch ${draw.epoch} (tickets from epoch ${draw.workEpoch}), opened at #${draw.openedAt}: ` +
        `${draw.totalTickets} tickets over ${draw.providers} provider(s), ${draw.winners} of ${draw.expectedWinners} expected winner(s) so far`
      : 'no draw open');
    text('lottery-outcome', outcome
      ? `epoch ${outcome.epoch}: ${outcome.winners.length} winner(s) (${outcome.winners.map(format.account).join(', ') || 'none'}), ` +
        `${format.balance(outcome.payout)} each; ${outcome.validators ? `planned validators: ${outcome.validators.map(format.account).join(', ')}` : 'the validator set stayed'}`
      : 'no draw closed yet');
    rows('ticket-rows', tickets, (t) => [format.account(t.who), String(t.tickets)], (t) => ({ account: t.who }), 'no tickets in the open draw');
    rows('ranking-rows', ranking, (c, i) => [format.account(c.who), format.digest(c.output)], (c) => ({ account: c.who }), 'no claims yet');
  }

  PovmDash.views = { chainInfo, head, validators, queue, jobs, verdicts, providers, energy, lottery };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
