// The job form: builds a coin-flip job spec from the form (as
// tests/clients/polkadot-js/job.test.mjs does; with the defaults, the same spec but for the
// seed, and `--alloc-mib` / `--sleep` appended when asked for), submits `jobQueue.submitJob(spec, budget)`
// signed by the chosen account, takes the job id from `JobQueue.JobSubmitted`, and follows
// the job on the page (#tracked-job) to its verdict: its state from storage as blocks come,
// and its ending (JobCompleted, JobDisputed, …) from the finalised blocks' events.
(function jobFormModule(PovmDash) {
  'use strict';

  const $ = (id) => document.getElementById(id);
  let api = null;
  /** The job followed on the page: { id, state, ended, log: [] } or null. */
  let tracked = null;

  function intField(id, min = 0) {
    const raw = $(id).value.trim();
    if (!/^\d+$/.test(raw) || BigInt(raw) < BigInt(min)) {
      throw new Error(`${$(id).labels[0]?.textContent.trim() || id}: expected a whole number ≥ ${min}, got "${raw}"`);
    }
    return BigInt(raw);
  }

  /** The spec and budget the form describes: plain objects; the metadata gives the types. */
  function specFromForm() {
    const image = $('job-image').value.trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(image)) {
      throw new Error(`image digest: expected sha256:<64 lowercase hex digits>, got "${image}"`);
    }
    const seed = intField('job-seed');
    const flips = intField('job-flips', 1);
    const checkpointEvery = intField('job-checkpoint-every', 1);
    const args = ['--seed', `${seed}`, '--flips', `${flips}`, '--checkpoint-every', `${checkpointEvery}`];
    // Optional, after the flips: memory held and a sleep, so that the run lasts long enough
    // for the worker's usage samples (they do not change the tally).
    const allocMib = intField('job-alloc-mib');
    const sleepSecs = intField('job-sleep');
    if (allocMib > 0n) args.push('--alloc-mib', `${allocMib}`);
    if (sleepSecs > 0n) args.push('--sleep', `${sleepSecs}`);
    const spec = {
      // By image ID; no registry: the providers hold the coin-flip image already.
      image: { id: `0x${image.slice('sha256:'.length)}`, registry: null, arch: 'X86_64' },
      command: '/coinflip',
      args,
      env: [],
      inputs: [],
      resources: {
        millicores: Number(intField('job-millicores', 1)),
        memoryMib: Number(intField('job-memory-mib', 1)),
        maxSeconds: Number(intField('job-max-seconds', 1)),
      },
      pricePerSecond: PovmDash.format.parseTokens($('job-price').value),
      redundancy: {
        minReplicas: Number(intField('job-min-replicas', 1)),
        maxReplicas: Number(intField('job-max-replicas', 1)),
        margin: Number(intField('job-margin', 1)),
      },
      checkpointInterval: 0,
    };
    return { spec, budget: PovmDash.format.parseTokens($('job-budget').value) };
  }

  /** A failed dispatch as "section.Name: docs", from the metadata's error list. */
  function dispatchErrorText(dispatchError) {
    if (dispatchError.isModule) {
      const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
      return `${section}.${name}: ${docs.join(' ')}`;
    }
    return dispatchError.toString();
  }

  /** Signs and sends `tx`; resolves with the block's events once it is in a block. */
  function send(tx, signer) {
    return new Promise((resolve, reject) => {
      let unsub;
      const stop = () => unsub?.();
      tx.signAndSend(signer.account, signer.options, ({ status, events, dispatchError }) => {
        if (dispatchError) {
          stop();
          reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${dispatchErrorText(dispatchError)}`));
        } else if (status.isInBlock) {
          stop();
          resolve({ blockHash: status.asInBlock.toHex(), events });
        } else if (status.isDropped || status.isInvalid || status.isUsurped) {
          stop();
          reject(new Error(`${tx.method.section}.${tx.method.method}: ${status.type}`));
        } else {
          setSubmitStatus(`transaction ${status.type.toLowerCase()}…`);
        }
      })
        .then((u) => {
          unsub = u;
        })
        .catch(reject);
    });
  }

  function setSubmitStatus(text, state = 'busy') {
    const s = $('job-submit-status');
    s.textContent = text;
    s.dataset.state = state;
  }

  function logLine(text) {
    const li = document.createElement('li');
    li.textContent = text;
    $('tracked-job-log').appendChild(li);
  }

  function showState(state) {
    tracked.state = state;
    $('tracked-job-state').textContent = state;
    $('tracked-job').dataset.state = state;
  }

  async function onSubmit(event) {
    event.preventDefault();
    const { status } = PovmDash;
    const button = $('job-submit');
    button.disabled = true;
    try {
      const { spec, budget } = specFromForm();
      const signer = PovmDash.accounts.signerFor($('job-account').value);
      setSubmitStatus(`signing as ${PovmDash.format.account(signer.address)}…`);
      const { blockHash, events } = await send(api.tx.jobQueue.submitJob(spec, budget), signer);
      const submitted = events.find(({ event: e }) => api.events.jobQueue.JobSubmitted.is(e));
      if (!submitted) throw new Error(`no JobQueue.JobSubmitted in block ${blockHash}`);
      const id = submitted.event.data.job.toBigInt();
      const number = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
      track(id, spec, number);
      status.clear('job submission');
      setSubmitStatus(`job ${id} submitted in block #${number}`, 'done');
    } catch (err) {
      status.error('job submission', err);
      setSubmitStatus(`not submitted: ${status.messageOf(err)}`, 'error');
    } finally {
      button.disabled = false;
    }
  }

  function track(id, spec, block) {
    tracked = { id, ended: false };
    $('tracked-job').hidden = false;
    $('tracked-job').dataset.job = String(id);
    $('tracked-job-id').textContent = String(id);
    $('tracked-job-command').textContent = [spec.command, ...spec.args].join(' ');
    for (const f of ['providers', 'output', 'digest', 'footprint', 'payments']) $(`tracked-job-${f}`).textContent = '–';
    $('tracked-job-log').replaceChildren();
    showState('Queued');
    logLine(`#${block}: submitted`);
  }

  /** A JobQueue event from a finalised block (chain-data's jobEventsIn): moves the tracked job. */
  function onJobEvent(e) {
    if (!tracked || e.job !== tracked.id || tracked.ended) return;
    logLine(`#${e.block}: ${e.name}`);
    if (e.kind === 'ending') {
      showVerdict(e.state, e);
    } else {
      showState(e.state);
    }
  }

  function showVerdict(state, r) {
    const { format } = PovmDash;
    tracked.ended = true;
    showState(state);
    if (r.output !== undefined) $('tracked-job-output').textContent = r.output;
    if (r.resultDigest) $('tracked-job-digest').textContent = r.resultDigest;
    if (r.epoch !== undefined) $('tracked-job-epoch').textContent = String(r.epoch);
    if (r.energyUwh !== undefined) {
      $('tracked-job-footprint').textContent = `${format.energy(r.energyUwh)}, ${format.carbon(r.carbonUg)}`;
      $('tracked-job-footprint').dataset.energyUwh = String(r.energyUwh);
    }
    if (r.payments) {
      $('tracked-job-payments').textContent = r.payments.map((p) => `${format.account(p.who)}: ${format.balance(p.amount)}`).join('; ') +
        (r.refunded !== undefined ? `; refunded ${format.balance(r.refunded)}` : '');
    }
  }

  /** On a new block: the tracked job's state and providers from storage, while it is open. */
  async function refresh() {
    if (!tracked || tracked.ended) return;
    const job = await PovmDash.chainData.readJob(api, tracked.id);
    if (!job || tracked.ended) return;
    $('tracked-job-providers').textContent = job.providers.map(PovmDash.format.account).join(', ') || '–';
    // The verdict itself comes from the finalised events; storage only shows the way there.
    if (!['Completed', 'Disputed', 'Expired', 'Cancelled', 'Unrunnable'].includes(job.state)) showState(job.state);
  }

  /** Wires the form to `api_`; `ss58Format` is the chain's address format. */
  async function init(api_, ss58Format) {
    api = api_;
    const select = $('job-account');
    // Dev keys are public: offered only on a development or local chain.
    const chainType = await api.rpc.system.chainType();
    if (chainType.isDevelopment || chainType.isLocal) {
      await PovmDash.accounts.loadDevAccounts(select, ss58Format);
    }
    if (PovmDash.accounts.extensionPresent()) {
      const button = $('extension-connect');
      button.hidden = false;
      button.addEventListener('click', () =>
        PovmDash.status.guarded('browser extension', async () => {
          const n = await PovmDash.accounts.enableExtensions(select, ss58Format);
          button.textContent = `extension: ${n} account(s)`;
          button.disabled = true;
        }));
    }
    $('job-form').addEventListener('submit', onSubmit);
    $('job-submit').disabled = false;
  }

  PovmDash.jobForm = { init, onJobEvent, refresh, specFromForm };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
