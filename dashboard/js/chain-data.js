// Reading the chain: every storage item, subscription and event the dashboard shows, turned
// into plain objects (bigints for balances and footprints) for the views. Names are the
// node's metadata's (no custom types): jobQueue, vmProof, vrfLottery, session, system.
(function chainDataModule(PovmDash) {
  'use strict';

  /** How a job can end, as JobQueue events: the page's "verdicts". */
  const ENDINGS = ['JobCompleted', 'JobDisputed', 'JobExpired', 'JobUnrunnable', 'JobCancelled'];
  /** The state each ending leaves the job in (the JobState variant). */
  const ENDING_STATE = {
    JobCompleted: 'Completed', JobDisputed: 'Disputed', JobExpired: 'Expired',
    JobUnrunnable: 'Unrunnable', JobCancelled: 'Cancelled',
  };
  /** A job's lifecycle before its ending, as JobQueue events, and the state each gives. */
  const PROGRESS_STATE = {
    JobSubmitted: 'Queued', JobAssigned: 'Assigned', JobReassigned: 'Assigned', JobRevealing: 'Revealing',
  };

  async function readChainInfo(api) {
    const [chain, nodeName, nodeVersion] = await Promise.all([
      api.rpc.system.chain(), api.rpc.system.name(), api.rpc.system.version(),
    ]);
    return {
      chain: chain.toString(),
      node: `${nodeName} ${nodeVersion}`,
      runtime: `${api.runtimeVersion.specName} v${api.runtimeVersion.specVersion}`,
    };
  }

  /**
   * Calls `onHead({ best })`, `onHead({ finalised })` and `onHead({ session })` as each
   * changes. Resolves with a function that unsubscribes all three.
   */
  async function subscribeHead(api, onHead) {
    const unsubs = await Promise.all([
      api.rpc.chain.subscribeNewHeads((h) => onHead({ best: h.number.toNumber(), bestHash: h.hash.toHex() })),
      api.rpc.chain.subscribeFinalizedHeads((h) => onHead({ finalised: h.number.toNumber() })),
      api.query.session.currentIndex((i) => onHead({ session: i.toNumber() })),
    ]);
    return () => unsubs.forEach((u) => u());
  }

  async function readValidators(api) {
    return (await api.query.session.validators()).map((v) => v.toString());
  }

  /** Queued jobs the queue table shows at most: the first ones the chain will try. */
  const QUEUE_SHOWN = 20;

  /**
   * The queue: how many jobs it holds (`jobQueue.counters`' `queued`) and the first `QUEUE_SHOWN`
   * ready jobs in the order the chain tries them: price levels highest first
   * (`jobQueue.readyLevels`, one bit per level), each level's line from its head
   * (`jobQueue.levels`, `jobQueue.levelEntries`), with each job's price and expiry. A fixed
   * number of reads per refresh, however many jobs are queued.
   */
  async function readQueue(api) {
    const [counters, mask] = await Promise.all([api.query.jobQueue.counters(), api.query.jobQueue.readyLevels()]);
    const count = counters.queued;
    // The mask's SCALE bytes: sixteen little-endian u64 words, so level L is bit L % 8 of
    // byte L / 8 (read from the bytes, whichever wrapper the metadata gives the words).
    const bytes = mask.toU8a();
    const levels = [];
    for (let level = bytes.length * 8 - 1; level >= 0; level--) {
      if ((bytes[level >> 3] >> (level & 7)) & 1) levels.push(level);
    }
    const ids = [];
    for (const level of levels) {
      if (ids.length >= QUEUE_SHOWN) break;
      const bounds = await api.query.jobQueue.levels(level);
      if (bounds.isNone) continue;
      const { head, tail } = bounds.unwrap();
      const last = head.toBigInt() + BigInt(Math.min(QUEUE_SHOWN - ids.length, 64));
      const places = [];
      for (let p = head.toBigInt(); p < tail.toBigInt() && p < last; p++) places.push([level, p]);
      const entries = places.length ? await api.query.jobQueue.levelEntries.multi(places) : [];
      for (const e of entries) if (e.isSome) ids.push(e.unwrap().toBigInt());
    }
    const records = ids.length ? await api.query.jobQueue.jobs.multi(ids) : [];
    const entries = records
      .map((opt, i) => [ids[i], opt])
      .filter(([, opt]) => opt.isSome)
      .map(([job, opt]) => {
        const j = opt.unwrap();
        return { job, price: j.spec.pricePerSecond.toBigInt(), expiresAt: j.expiresAt.toNumber() };
      });
    return { count: count.toNumber(), entries };
  }

  /** Jobs the jobs table shows at most: the newest ids. */
  const JOBS_SHOWN = 50;

  /**
   * The newest `JOBS_SHOWN` job ids' records (`jobQueue.jobs`, those not yet reaped), newest
   * first, with completed jobs' outputs: a fixed number of reads per refresh, however many
   * jobs the chain holds.
   */
  async function readJobs(api) {
    const next = (await api.query.jobQueue.counters()).nextJobId.toBigInt();
    const first = next > BigInt(JOBS_SHOWN) ? next - BigInt(JOBS_SHOWN) : 0n;
    const ids = [];
    for (let id = first; id < next; id++) ids.push(id);
    const records = ids.length ? await api.query.jobQueue.jobs.multi(ids) : [];
    const jobs = records
      .map((opt, i) => [ids[i], opt])
      .filter(([, opt]) => opt.isSome)
      .map(([id, opt]) => {
        const j = opt.unwrap();
        return {
          id,
          owner: j.owner.toString(),
          state: j.state.type,
          budget: j.budget.toBigInt(),
          submittedAt: j.submittedAt.toNumber(),
          providers: j.providers.map((p) => p.toString()),
          image: `sha256:${j.spec.image.id.toHex().slice(2)}`,
          command: PovmDash.format.bytes(j.spec.command),
          args: j.spec.args.map((a) => PovmDash.format.bytes(a)),
          output: null,
        };
      })
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    const completed = jobs.filter((j) => j.state === 'Completed');
    if (completed.length) {
      const results = await api.query.jobQueue.results.multi(completed.map((j) => j.id));
      results.forEach((opt, i) => {
        if (opt.isSome) completed[i].output = PovmDash.format.bytes(opt.unwrap().output);
      });
    }
    return jobs;
  }

  /** One job's record (`jobQueue.jobs`) and result (`jobQueue.results`), or null if none. */
  async function readJob(api, id) {
    const [job, result] = await Promise.all([api.query.jobQueue.jobs(id), api.query.jobQueue.results(id)]);
    if (job.isNone) return null;
    const j = job.unwrap();
    const r = result.isSome ? result.unwrap() : null;
    return {
      id: BigInt(id),
      state: j.state.type,
      providers: j.providers.map((p) => p.toString()),
      result: r && {
        output: PovmDash.format.bytes(r.output),
        resultDigest: r.resultDigest.toHex(),
        energyUwh: r.footprint.energyUwh.toBigInt(),
        carbonUg: r.footprint.carbonUg.toBigInt(),
        payments: r.payments.map(([who, amount]) => ({ who: who.toString(), amount: amount.toBigInt() })),
        refunded: r.refunded.toBigInt(),
      },
    };
  }

  /** `vmProof.providers` with reputation (agreed / total) and trust points. */
  async function readProviders(api) {
    const entries = (await api.query.vmProof.providers.entries()).filter(([, opt]) => opt.isSome);
    const who = entries.map(([key]) => key.args[0].toString());
    const trust = api.query.vmProof.trust ? await api.query.vmProof.trust.multi(who) : [];
    return entries
      .map(([, opt], i) => {
        const p = opt.unwrap();
        const o = p.offer;
        const agreed = p.agreed.toNumber();
        const total = p.total.toNumber();
        return {
          who: who[i],
          status: p.status.isUnbonding ? `Unbonding until #${p.status.asUnbonding.until.toNumber()}` : p.status.type,
          bond: p.bond.toBigInt(),
          agreed,
          total,
          reputation: total ? agreed / total : null,
          trust: trust[i] ? trust[i].toNumber() : null,
          lastHeartbeat: p.lastHeartbeat.toNumber(),
          offer: {
            millicores: o.millicores.toNumber(), memoryMib: o.memoryMib.toNumber(), arch: o.arch.type,
            slots: o.slots.toNumber(), gridIntensity: o.gridIntensity.toNumber(),
            puePermille: o.puePermille.toNumber(), coreMilliwatts: o.coreMilliwatts.toNumber(),
            maxSeconds: o.maxSeconds.toNumber(),
          },
        };
      })
      .sort((a, b) => a.who.localeCompare(b.who));
  }

  /**
   * `vmProof.epochFootprint` of the last `count` epochs (sessions) up to the current one:
   * energy (µWh) and carbon (µg CO2e), oldest first, epochs without work left out. One read
   * per epoch shown, however long the chain (the map is never pruned).
   */
  async function readEpochFootprints(api, count) {
    const currentEpoch = (await api.query.session.currentIndex()).toNumber();
    const first = Math.max(0, currentEpoch - count + 1);
    const epochs = Array.from({ length: currentEpoch - first + 1 }, (_, i) => first + i);
    const values = await api.query.vmProof.epochFootprint.multi(epochs);
    return epochs
      .map((epoch, i) => ({ epoch, energyUwh: values[i].energyUwh.toBigInt(), carbonUg: values[i].carbonUg.toBigInt() }))
      .filter((f) => f.energyUwh > 0n || f.carbonUg > 0n);
  }

  /** The open lottery draw, its tickets and ranking, and the last closed draw's outcome. */
  async function readLottery(api) {
    const [drawOpt, outcomeOpt, ranking] = await Promise.all([
      api.query.vrfLottery.currentDraw(), api.query.vrfLottery.lastOutcome(), api.query.vrfLottery.ranking(),
    ]);
    let draw = null;
    let tickets = [];
    if (drawOpt.isSome) {
      const d = drawOpt.unwrap();
      draw = {
        epoch: d.epoch.toNumber(), workEpoch: d.workEpoch.toNumber(), seed: d.seed.toHex(),
        totalTickets: d.totalTickets.toBigInt(), providers: d.providers.toNumber(),
        expectedWinners: d.expectedWinners.toNumber(), winners: d.winners.toNumber(),
        openedAt: d.openedAt.toNumber(),
      };
      tickets = (await api.query.vrfLottery.tickets.entries(draw.epoch))
        .filter(([, t]) => t.isSome)
        .map(([key, t]) => ({ who: key.args[1].toString(), tickets: t.unwrap().toBigInt() }))
        .sort((a, b) => (a.tickets < b.tickets ? 1 : -1));
    }
    let outcome = null;
    if (outcomeOpt.isSome) {
      const o = outcomeOpt.unwrap();
      outcome = {
        epoch: o.epoch.toNumber(), winners: o.winners.map((w) => w.toString()), payout: o.payout.toBigInt(),
        validators: o.validators.isSome ? o.validators.unwrap().map((v) => v.toString()) : null,
      };
    }
    return {
      draw, tickets, outcome,
      ranking: ranking.map((c) => ({ who: c.who.toString(), output: c.output.toHex(), threshold: c.threshold.toBigInt() })),
    };
  }

  /**
   * The JobQueue events of one block (in session `epoch`) as plain objects: `{ kind:
   * 'ending' | 'progress', name, job, state, block, epoch, … }`, with the ending's result, footprint and payments where it has them.
   */
  function jobEventsIn(api, records, block, epoch) {
    const out = [];
    for (const { event } of records) {
      if (event.section !== 'jobQueue') continue;
      const name = event.method;
      const d = event.data;
      if (!d.job) continue;
      const base = { name, job: d.job.toBigInt(), block, epoch };
      if (ENDINGS.includes(name)) {
        const e = { ...base, kind: 'ending', state: ENDING_STATE[name] };
        if (name === 'JobCompleted') {
          e.output = PovmDash.format.bytes(d.output);
          e.resultDigest = d.resultDigest.toHex();
          e.energyUwh = d.energyUwh.toBigInt();
          e.carbonUg = d.carbonUg.toBigInt();
        }
        if (d.payments) e.payments = d.payments.map(([who, amount]) => ({ who: who.toString(), amount: amount.toBigInt() }));
        if (d.refunded) e.refunded = d.refunded.toBigInt();
        if (d.firstDivergence && d.firstDivergence.isSome) e.firstDivergence = d.firstDivergence.unwrap().toNumber();
        out.push(e);
      } else if (PROGRESS_STATE[name]) {
        out.push({ ...base, kind: 'progress', state: PROGRESS_STATE[name] });
      }
    }
    return out;
  }

  /** Failed reads of one block after which the follower skips to the finalised head. */
  const MAX_BLOCK_TRIES = 3;

  /**
   * Follows finalised blocks from the one finalised now, every block (gaps between
   * notifications filled), calling `onBlock(number, hash, records, session)` in order, with
   * the session index (epoch) the block ends in. Resolves with an unsubscribe function; a
   * failed read goes to `onError` and the next head retries. A block that fails
   * `MAX_BLOCK_TRIES` times (a node keeps the state of its last 256 blocks by default, so a
   * page that was asleep longer cannot read the blocks it missed) is given up with those
   * after it up to the new head: `onSkip(from, to)` says which, and following goes on.
   */
  async function followFinalisedEvents(api, onBlock, onError, onSkip) {
    let next = null;
    let failures = 0;
    let busy = Promise.resolve();
    return api.rpc.chain.subscribeFinalizedHeads((head) => {
      const upTo = head.number.toNumber();
      if (next === null) next = upTo;
      busy = busy
        .then(async () => {
          while (next <= upTo) {
            const hash = await api.rpc.chain.getBlockHash(next);
            const at = await api.at(hash);
            const [records, session] = await Promise.all([at.query.system.events(), at.query.session.currentIndex()]);
            onBlock(next, hash.toHex(), records, session.toNumber());
            next += 1;
            failures = 0;
          }
        })
        .catch((err) => {
          failures += 1;
          if (failures >= MAX_BLOCK_TRIES && next < upTo) {
            onSkip(next, upTo - 1);
            next = upTo;
            failures = 0;
          }
          onError(err);
        });
    });
  }

  PovmDash.chainData = {
    ENDINGS, readChainInfo, subscribeHead, readValidators, readQueue, readJobs, readJob,
    readProviders, readEpochFootprints, readLottery, jobEventsIn, followFinalisedEvents,
  };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
