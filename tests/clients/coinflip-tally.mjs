// What the coin-flip job (`jobs/coinflip`) writes to `tally.json`, computed independently: the
// JavaScript twin of coinflip.py, shared by the @polkadot/api test (polkadot-js/job.test.mjs)
// and the dashboard's browser test (dashboard/test/dashboard.test.mjs).

/** splitmix64, as in jobs/coinflip/src/main.rs. */
export function* splitmix64(seed) {
  let state = seed;
  for (;;) {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    yield z ^ (z >> 31n);
  }
}

/** The `tally.json` the coin-flip job writes: what the chain stores as the job's output. */
export function expectedTally(seed, flips) {
  const rng = splitmix64(seed);
  let heads = 0n;
  for (let i = 0n; i < flips; i++) heads += rng.next().value & 1n;
  return `{"seed":${seed},"flips":${flips},"heads":${heads},"tails":${flips - heads}}\n`;
}
