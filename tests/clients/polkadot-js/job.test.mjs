// @polkadot/api against a real PoVM network, with no custom type definitions: every type
// comes from the node's metadata (runtime APIs included).
//
// Alice submits a coin-flip job with `jobQueue.submitJob(spec, budget)`; the test follows
// the finalised blocks' events until the JobQueue pallet gives the verdict, reads the job
// through the runtime API `api.call.povmJobsApi.job(id)`, checks the result against the
// tally the coin-flip job gives for its seed (computed here), and reaps the job.
//
// Needs a network with two providers (//Bob and //Charlie) serving the coin-flip image:
//   POVM_WS              the node's WebSocket URL, e.g. ws://127.0.0.1:9944
//   POVM_COINFLIP_IMAGE  the coin-flip image digest, sha256:<hex>
// `pytest tests/clients` starts one and runs this file; `python3 tests/clients/network.py`
// starts one by hand (see ../README.md).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import { expectedTally, splitmix64 } from '../coinflip-tally.mjs';

const WS = process.env.POVM_WS;
const IMAGE = process.env.POVM_COINFLIP_IMAGE;
const SEED = 2718n;
const FLIPS = 1_000_000n;
const MAX_SECONDS = 30; // + the pallet's 30 s start margin fits the 120 s commit window
const PRICE_PER_SECOND = 10n ** 9n; // 0.001 POVM per VM-second
const BUDGET = 10n ** 12n; // 1 POVM: covers max_replicas × max_seconds × price = 0.06 POVM
const WITHIN_MS = 300_000;

let api;
let alice, bob, charlie;

before(async () => {
  assert.ok(WS, 'set POVM_WS to the node URL (pytest tests/clients does)');
  assert.match(IMAGE ?? '', /^sha256:[0-9a-f]{64}$/, 'set POVM_COINFLIP_IMAGE to sha256:<hex>');
  await cryptoWaitReady();
  api = await ApiPromise.create({ provider: new WsProvider(WS), noInitWarn: true, throwOnConnect: true });
  const keyring = new Keyring({ type: 'sr25519' });
  [alice, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((uri) => keyring.addFromUri(uri));
});

after(async () => {
  await api?.disconnect();
});

test('splitmix64 gives the reference values of jobs/coinflip', () => {
  const rng = splitmix64(1234567n);
  assert.equal(rng.next().value, 6457827717110365317n);
  assert.equal(rng.next().value, 3203168211198807973n);
});

test('the metadata has the PoVM runtime API and calls', () => {
  assert.ok(api.runtimeMetadata.version >= 15, `metadata v${api.runtimeMetadata.version}`);
  assert.equal(typeof api.call.povmJobsApi?.job, 'function', 'api.call.povmJobsApi.job');
  assert.equal(typeof api.call.povmJobsApi?.providerAssignments, 'function');
  assert.equal(typeof api.call.povmJobsApi?.quote, 'function', 'api.call.povmJobsApi.quote');
  assert.equal(typeof api.tx.jobQueue?.submitJob, 'function', 'api.tx.jobQueue.submitJob');
  assert.ok(api.events.jobQueue?.JobCompleted, 'api.events.jobQueue.JobCompleted');
});

/** Signs and sends `tx` as `signer`; resolves with the block hash and events once in a block. */
function send(tx, signer) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        unsub?.();
        const why = dispatchError.isModule
          ? (({ section, name, docs }) => `${section}.${name}: ${docs.join(' ')}`)(
              api.registry.findMetaError(dispatchError.asModule),
            )
          : dispatchError.toString();
        reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${why}`));
      } else if (status.isInBlock) {
        unsub?.();
        resolve({ blockHash: status.asInBlock, events });
      } else if (status.isDropped || status.isInvalid || status.isUsurped) {
        unsub?.();
        reject(new Error(`${tx.method.section}.${tx.method.method}: ${status.type}`));
      }
    })
      .then((u) => {
        unsub = u;
      })
      .catch(reject);
  });
}

/**
 * Follows finalised blocks (every one, filling gaps between notifications) and hands each
 * block's events to `onEvents(number, hash, events)` until it returns a value.
 */
function followFinalised(fromNumber, onEvents, withinMs) {
  return new Promise((resolve, reject) => {
    let next = fromNumber;
    let busy = Promise.resolve();
    let unsub;
    let done = false;
    const finish = (f) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsub?.();
      f();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no verdict within ${withinMs / 1000} s (followed up to block ${next - 1})`))),
      withinMs,
    );
    api.rpc.chain
      .subscribeFinalizedHeads((head) => {
        const upTo = head.number.toNumber();
        busy = busy
          .then(async () => {
            for (; !done && next <= upTo; next++) {
              const hash = await api.rpc.chain.getBlockHash(next);
              const events = await (await api.at(hash)).query.system.events();
              const out = onEvents(next, hash, events);
              if (out !== undefined) finish(() => resolve(out));
            }
          })
          .catch((e) => finish(() => reject(e)));
      })
      .then((u) => {
        unsub = u;
        if (done) u();
      })
      .catch((e) => finish(() => reject(e)));
  });
}

test('a job submitted with @polkadot/api completes, and the runtime API gives its result', async () => {
  const expectedOutput = expectedTally(SEED, FLIPS);
  const args = ['--seed', `${SEED}`, '--flips', `${FLIPS}`, '--checkpoint-every', '250000'];
  // Plain objects and strings only: the metadata gives the types (JobSpec, Bytes, …).
  const spec = {
    // The image by ID (32 bytes, hex); no registry: the providers hold it already.
    image: { id: `0x${IMAGE.replace(/^sha256:/, '')}`, registry: null, arch: 'X86_64' },
    command: '/coinflip',
    args,
    env: [],
    inputs: [],
    resources: { millicores: 500, memoryMib: 64, maxSeconds: MAX_SECONDS },
    pricePerSecond: PRICE_PER_SECOND,
    // Two replicas, and both must agree (2 votes to 0).
    redundancy: { minReplicas: 2, maxReplicas: 2, margin: 2 },
    checkpointInterval: 0,
  };

  // The quote before submitting: accepted, the least budget and the deposit, the place.
  const quote = await api.call.povmJobsApi.quote(spec);
  assert.ok(quote.refusal.isNone, `quote refusal ${JSON.stringify(quote.refusal.toHuman())}`);
  assert.equal(quote.minBudget.toBigInt(), 2n * BigInt(MAX_SECONDS) * PRICE_PER_SECOND);
  assert.ok(quote.minBudget.toBigInt() <= BUDGET);
  assert.equal(quote.neededProviders.toNumber(), 2);
  assert.ok(quote.eligibleProviders.toNumber() >= 2, `eligible ${quote.eligibleProviders}`);
  assert.equal(quote.queueFull.isTrue, false);
  // A spec `submitJob` would refuse is quoted with the pallet's error.
  const refused = await api.call.povmJobsApi.quote({ ...spec, pricePerSecond: 0 });
  assert.ok(refused.refusal.isSome && refused.refusal.unwrap().isModule, 'a module error');
  assert.equal(api.registry.findMetaError(refused.refusal.unwrap().asModule).name, 'ZeroPrice');

  // Submit, and take the job id from JobSubmitted.
  const { blockHash, events } = await send(api.tx.jobQueue.submitJob(spec, BUDGET), alice);
  const submitted = events.filter(({ event }) => api.events.jobQueue.JobSubmitted.is(event));
  assert.equal(submitted.length, 1, 'one JobSubmitted event');
  const sub = submitted[0].event.data;
  const jobId = sub.job.toBigInt();
  assert.equal(sub.owner.toString(), alice.address);
  assert.equal(sub.budget.toBigInt(), BUDGET);
  assert.ok(sub.deposit.toBigInt() > 0n, 'a storage deposit is held');
  assert.equal(sub.deposit.toBigInt(), quote.deposit.toBigInt(), 'the quoted deposit');
  const submittedAt = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();

  // Follow the job's events until the JobQueue pallet gives the verdict.
  const seen = { assigned: [], committed: [], revealed: new Map(), accepted: null };
  const isOurs = (data) => data.job.toBigInt() === jobId;
  const verdict = await followFinalised(
    submittedAt,
    (number, hash, records) => {
      // The whole block: vm-proof's ResultAccepted follows the JobQueue verdict.
      let verdict;
      for (const { event } of records) {
        const { data } = event;
        if (api.events.jobQueue.JobAssigned.is(event) && isOurs(data)) {
          seen.assigned.push(...data.providers.map((p) => p.toString()));
        } else if (api.events.vmProof.ResultCommitted.is(event) && isOurs(data)) {
          seen.committed.push(data.who.toString());
        } else if (api.events.vmProof.ResultRevealed.is(event) && isOurs(data)) {
          seen.revealed.set(data.who.toString(), data.resultDigest.toHex());
        } else if (api.events.vmProof.ResultAccepted.is(event) && isOurs(data)) {
          seen.accepted = data;
        } else if (
          (api.events.jobQueue.JobCompleted.is(event) ||
            api.events.jobQueue.JobDisputed.is(event) ||
            api.events.jobQueue.JobExpired.is(event)) &&
          isOurs(data)
        ) {
          verdict = { name: event.method, data, number, hash };
        }
      }
      return verdict;
    },
    WITHIN_MS,
  );
  assert.equal(verdict.name, 'JobCompleted', `job ${jobId}: ${verdict.name} ${JSON.stringify(verdict.data.toHuman())}`);

  const providers = [bob.address, charlie.address].sort();
  assert.deepEqual([...seen.assigned].sort(), providers, 'JobAssigned drew both providers');
  assert.deepEqual([...seen.committed].sort(), providers, 'both providers committed');
  assert.deepEqual([...seen.revealed.keys()].sort(), providers, 'both providers revealed');
  const completed = verdict.data;
  const digest = completed.resultDigest.toHex();
  for (const [who, d] of seen.revealed) assert.equal(d, digest, `${who} revealed the accepted digest`);
  assert.ok(seen.accepted, 'VmProof.ResultAccepted');
  assert.equal(seen.accepted.resultDigest.toHex(), digest);
  assert.deepEqual(seen.accepted.agreeing.map((p) => p.toString()).sort(), providers);
  assert.equal(seen.accepted.dissenting.length, 0, 'no dissent');
  assert.equal(new TextDecoder().decode(completed.output.toU8a(true)), expectedOutput, 'event output');
  assert.ok(completed.firstDivergence.isNone);

  // The job through the runtime API, at the verdict's block and now.
  const atVerdict = await (await api.at(verdict.hash)).call.povmJobsApi.job(jobId);
  const now = await api.call.povmJobsApi.job(jobId);
  for (const [when, opt] of [['at the verdict', atVerdict], ['now', now]]) {
    assert.ok(opt.isSome, `povmJobsApi.job(${jobId}) ${when} is Some`);
    const view = opt.unwrap();
    assert.equal(view.id.toBigInt(), jobId);
    assert.equal(view.owner.toString(), alice.address);
    assert.ok(view.state.isCompleted, `state ${view.state.type} ${when}`);
    assert.equal(view.budget.toBigInt(), 0n, 'the escrow was settled');
    assert.deepEqual(view.providers.map((p) => p.toString()).sort(), providers);
    assert.equal(view.spec.image.id.toHex(), `0x${IMAGE.replace(/^sha256:/, '')}`);
    // `registry` is also every polkadot.js codec's own property (its type registry), so
    // @polkadot/types names the field `registry_` (its RESERVED names); input objects may
    // still say `registry`.
    assert.ok(view.spec.image.registry_.isNone);
    assert.equal(view.spec.image.arch.type, 'X86_64');
    assert.equal(view.spec.inputs.length, 0);
    assert.equal(view.spec.command.toUtf8(), '/coinflip');
    assert.deepEqual(view.spec.args.map((a) => a.toUtf8()), args);
    assert.equal(view.spec.resources.maxSeconds.toNumber(), MAX_SECONDS);
    assert.equal(view.spec.redundancy.minReplicas.toNumber(), 2);
    assert.equal(view.spec.pricePerSecond.toBigInt(), PRICE_PER_SECOND);
    assert.ok(view.result.isSome, `a result ${when}`);
    const r = view.result.unwrap();
    assert.equal(r.resultDigest.toHex(), digest);
    assert.equal(r.checkpointsRoot.toHex(), completed.checkpointsRoot.toHex());
    assert.notEqual(r.checkpointsRoot.toHex(), `0x${'00'.repeat(32)}`, 'checkpoints were committed to');
    assert.equal(r.output.toUtf8(), expectedOutput, 'the tally the coin-flip job gives');
    assert.ok(r.usage.wallMs.toBigInt() > 0n);
    const paid = new Map(r.payments.map(([who, amount]) => [who.toString(), amount.toBigInt()]));
    assert.deepEqual([...paid.keys()].sort(), providers, 'both agreeing providers were paid');
    for (const [who, amount] of paid) assert.ok(amount > 0n, `${who} paid ${amount}`);
    const total = [...paid.values()].reduce((a, b) => a + b, 0n);
    assert.equal(total + r.refunded.toBigInt(), BUDGET, 'escrow = payments + refund');
    assert.deepEqual(r.payments.toJSON(), completed.payments.toJSON(), 'the same payments as JobCompleted');
  }
  // The same record in storage.
  const stored = await api.query.jobQueue.jobs(jobId);
  assert.ok(stored.isSome && stored.unwrap().state.isCompleted, 'JobQueue.Jobs says Completed');

  // The owner reaps the finished job: the deposit is released and the record is gone.
  const reaped = await send(api.tx.jobQueue.reapJob(jobId), alice);
  const reapedEvent = reaped.events.find(({ event }) => api.events.jobQueue.JobReaped.is(event));
  assert.ok(reapedEvent, 'JobReaped');
  assert.equal(reapedEvent.event.data.deposit.toBigInt(), sub.deposit.toBigInt());
  const gone = await (await api.at(reaped.blockHash)).call.povmJobsApi.job(jobId);
  assert.ok(gone.isNone, 'povmJobsApi.job is None after the reap');
});
