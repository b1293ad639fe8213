// Block throughput of a real node (issue 13, "How it is measured"): how many `submitJob` a
// block includes against how many `transferKeepAlive`, when the pool holds more of each than
// a block takes. Run by scripts/bench-throughput.sh against a fresh dev node:
//   POVM_WS     the node's WebSocket URL
//   TXS         transactions of each kind (default 6,000)
//   OUT         the JSON file to merge the figures into (bench/scale.json)
//
// Every transaction is signed here (immortal, explicit nonces, round-robin over the six dev
// accounts). All of one kind are sent with each sender's first nonce last, so they wait in the
// pool's future queue and become ready together; the blocks that include them are counted. A
// block is full when the pool still held transactions of the kind after it: every block but
// the last that included any. The figure per kind is the median over its full blocks.

import { readFileSync, writeFileSync } from 'node:fs';

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const WS = process.env.POVM_WS ?? 'ws://127.0.0.1:9944';
const TXS = Number(process.env.TXS ?? 6000);
const OUT = process.env.OUT;
const SENDERS = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];

await cryptoWaitReady();
const api = await ApiPromise.create({ provider: new WsProvider(WS), noInitWarn: true, throwOnConnect: true });
const keyring = new Keyring({ type: 'sr25519' });
const senders = SENDERS.map((uri) => keyring.addFromUri(uri));
const dest = keyring.addFromUri('//Ferdie//stash').address;

/** A small job nobody runs here (no provider on the dev node): one replica, ten seconds. */
const spec = {
  image: { id: `0x${'ab'.repeat(32)}`, registry: null, arch: 'X86_64' },
  command: '/coinflip',
  args: ['--flips', '1000'],
  env: [],
  inputs: [],
  resources: { millicores: 500, memoryMib: 64, maxSeconds: 10 },
  pricePerSecond: 1_000_000n,
  redundancy: { minReplicas: 1, maxReplicas: 1, margin: 1 },
  checkpointInterval: 0,
};
const BUDGET = 10_000_000n;

const KINDS = {
  transfer: { method: 'balances.transferKeepAlive', make: () => api.tx.balances.transferKeepAlive(dest, 10n ** 10n) },
  submitJob: { method: 'jobQueue.submitJob', make: () => api.tx.jobQueue.submitJob(spec, BUDGET) },
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : 0;
}

async function flood(kind) {
  const { method, make } = KINDS[kind];
  const nonces = await Promise.all(senders.map((s) => api.rpc.system.accountNextIndex(s.address)));
  const signed = [];
  for (let i = 0; i < TXS; i++) {
    const k = i % senders.length;
    const nonce = nonces[k].toNumber() + Math.floor(i / senders.length);
    signed.push((await make().signAsync(senders[k], { nonce, era: 0 })).toHex());
  }
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  // Every sender's first transaction last: the others wait in the pool's future queue (the
  // pool validates them while blocks stay empty), and the first ones make them all ready at
  // once, so the blocks that follow are full. A few hundred requests in flight.
  const later = signed.slice(senders.length);
  for (let i = 0; i < later.length; i += 300) {
    await Promise.all(later.slice(i, i + 300).map((tx) => api.rpc.author.submitExtrinsic(tx)));
  }
  await Promise.all(signed.slice(0, senders.length).map((tx) => api.rpc.author.submitExtrinsic(tx)));
  const released = (await api.rpc.chain.getHeader()).number.toNumber();
  if (released > start + 1) console.log(`${kind}: sent over blocks ${start + 1}..${released}`);
  const perBlock = [];
  let included = 0;
  let number = start + 1;
  const deadline = Date.now() + 600_000;
  while (included < TXS && Date.now() < deadline) {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    if (number > best) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const hash = await api.rpc.chain.getBlockHash(number);
    const block = await api.rpc.chain.getBlock(hash);
    const n = block.block.extrinsics.filter((x) => `${x.method.section}.${x.method.method}` === method).length;
    perBlock.push({ number, n });
    included += n;
    number++;
  }
  const withAny = perBlock.filter((b) => b.n > 0);
  const full = withAny.slice(0, -1).map((b) => b.n);
  const result = { kind, sent: TXS, included, blocks: withAny.length, perBlock: withAny.map((b) => b.n), fullBlockMedian: median(full), fullBlockMax: Math.max(0, ...full) };
  console.log(JSON.stringify(result));
  return result;
}

const transfer = await flood('transfer');
const submitJob = await flood('submitJob');
const ratio = transfer.fullBlockMedian ? submitJob.fullBlockMedian / transfer.fullBlockMedian : 0;
console.log(`submitJob ${submitJob.fullBlockMedian} per full block against transferKeepAlive ${transfer.fullBlockMedian}: ${(100 * ratio).toFixed(1)} %`);
if (OUT) {
  let json = {};
  try {
    json = JSON.parse(readFileSync(OUT, 'utf8'));
  } catch {
    // A new file.
  }
  json.submit_job_per_block = submitJob.fullBlockMedian;
  json.transfer_per_block = transfer.fullBlockMedian;
  json.throughput = {
    generated_by: 'bash scripts/bench-throughput.sh',
    node: 'povm-node --dev (fast-runtime: 3 s blocks), one validator, no provider',
    submit_job_to_transfer: Number(ratio.toFixed(3)),
    transfer,
    submitJob,
    note: 'median of the full blocks (every block but the last that included the kind); each kind sent alone, all signed before sending',
  };
  const nulls = Object.keys(json).filter((k) => json[k] === null).sort();
  if (nulls.length) {
    json.not_measured = `null: not measured yet (${nulls.join(', ')}); see the benchmarks named in docs/testing.md`;
  } else {
    delete json.not_measured;
  }
  writeFileSync(OUT, `${JSON.stringify(json, null, 2)}\n`);
}
if (process.env.OUT_MD) {
  const row = (r) => `| ${KINDS[r.kind].method} | ${r.sent} | ${r.included} | ${r.blocks} | ${r.fullBlockMedian} | ${r.fullBlockMax} | ${r.perBlock.join(', ')} |`;
  const md = [
    '# Block throughput on a real node (issue 13)',
    '',
    'Generated by `bash scripts/bench-throughput.sh` on a fresh `povm-node --dev` (fast-runtime:',
    '3 s blocks; one validator, no provider). Each kind is signed in full first (immortal, six dev',
    'accounts, explicit nonces), then sent with each account\'s first nonce last (the rest wait in',
    'the future queue and become ready together); a full block is every block but the last that',
    'included the kind.',
    '',
    '| call | sent | included | blocks | median per full block | max | per block |',
    '|---|---:|---:|---:|---:|---:|---|',
    row(transfer),
    row(submitJob),
    '',
    `\`submitJob\` per full block against \`transferKeepAlive\`: **${(100 * ratio).toFixed(1)} %** (goal ≥ 75 %; before spec 110: 1,085 against 1,974, 55 %, for the first 1,000 jobs only: the queue was then full and every \`submitJob\` refused).`,
    '',
  ].join('\n');
  writeFileSync(process.env.OUT_MD, md);
}
await api.disconnect();
