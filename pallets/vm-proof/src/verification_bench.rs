//! Verification benchmark (issue 11, "How it is measured"): populations of providers run
//! thousands of jobs through the real pallets on the mock runtime, and the figures are saved in
//! `bench/verification.md` and `bench/verification.json` at the repository root.
//!
//! Nothing here stands in for the protocol: jobs are submitted with `submit_job`, assigned by
//! the job queue's `on_initialize` (its weighted draw over `ProviderRegistry::candidates`),
//! committed and revealed with the real calls, judged by `verdict.rs`, slashed, paid and
//! refunded by the pallets; deadlines pass through vm-proof's hook. Only the providers are
//! simulated: each acts once per block on what `assignments_of` shows it, as the worker does.
//!
//! Run it with (about a minute in release; ignored by the default `cargo test`):
//!
//! ```text
//! cargo test --release -p pallet-vm-proof --features runtime-benchmarks verification_bench -- --ignored --nocapture
//! ```
//!
//! Trust is the pallet's: [`ANCHORS`] honest providers are appointed anchors with
//! `set_anchor` before the first job, and every other provider earns (or never earns) trust
//! through the pallet's own vouching (`trust.rs`). One row runs without anchors, as plain
//! iterative redundancy, for comparison.

use crate::{mock::*, pallet::*, types::*, verdict::merkle_root};
use codec::Encode;
use frame_support::{assert_ok, traits::fungible::Mutate, BoundedVec};
use pallet_job_queue::{Jobs, Params};
use povm_primitives::{JobSpec, RedundancyPolicy};
use std::{
	collections::{BTreeMap, BTreeSet},
	fmt::Write as _,
	time::Instant,
};

/// The command that writes the bench files (named in `docs/testing.md`).
const COMMAND: &str = "cargo test --release -p pallet-vm-proof --features runtime-benchmarks \
	verification_bench -- --ignored --nocapture";
/// Jobs per row.
const JOBS: u32 = 3_000;
/// Jobs in the long row: enough for a 95 % upper bound of 3e-4 when none is accepted wrong.
const LONG_JOBS: u32 = 10_000;
/// Providers in the pool.
const POOL: u64 = 100;
/// The first provider account.
const FIRST: AccountId = 1_000;
/// Each provider's bond: twice the mock's `MinBond` (1,000), so that a provider leaves the pool
/// (bond below `MinBond`, no longer drawn) after seven 10 % slashes (2,000 × 0.9⁷ ≈ 957).
const BOND: u64 = 2_000;
/// Job slots per provider.
const SLOTS: u32 = 2;
/// Price per second of every job.
const PRICE: u64 = 10;
/// Resources of every job: one core, 256 MiB, at most 60 s.
const RESOURCES: Resources = Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 };
/// What an honest replica's run takes, in ms (plus up to 2 s of jitter).
const HONEST_WALL_MS: u64 = 30_000;
/// Honest providers appointed anchors (with `set_anchor`) in every row but the baseline: a
/// tenth of the pool, reference hosts run by parties the network already relies on.
const ANCHORS: u64 = 10;
/// Jobs submitted per block (the mock's queue holds 16; 8 are assigned per block).
const SUBMIT_PER_BLOCK: u32 = 8;

/// The redundancy policy a typical customer asks for.
const TYPICAL: RedundancyPolicy = RedundancyPolicy { min_replicas: 2, max_replicas: 5, margin: 2 };
/// The strongest policy the mock allows short of five fixed replicas: three must agree.
const STRICT: RedundancyPolicy = RedundancyPolicy { min_replicas: 3, max_replicas: 5, margin: 3 };

/// How a provider behaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
	/// Runs every job and reveals what it computed.
	Honest,
	/// Returns a wrong result of its own (distinct per cheater and job) on every job.
	RandomCheater,
	/// Returns one wrong result shared by all colluders of the job, on every job.
	Colluder,
	/// A colluder that cheats only when every member drawn so far is a colluder (it sees the
	/// assignment events), and otherwise works honestly to keep its reputation.
	SmartColluder,
	/// Never runs a job. Before committing it copies the leading revealed result when the
	/// chain shows one (a post-reveal wave), otherwise it guesses (right half the time: the
	/// job's output is binary, the most favourable case for a guesser); it claims the job's
	/// whole `max_seconds`, and withholds its reveal when it would dissent from what the others
	/// revealed.
	Lazy,
}

/// What an honest run of a job gives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Determinism {
	/// The same result on every honest replica.
	Deterministic,
	/// A different result on every replica (a random number, the host's CPU model).
	AllDiffer,
	/// One of two results at random (a coin flip).
	CoinFlip,
}

/// One row of the benchmark.
struct Scenario {
	name: &'static str,
	adversary: Kind,
	/// Adversaries in the pool (of [`POOL`]).
	adversaries: u64,
	/// Honest providers appointed anchors before the first job.
	anchors: u64,
	/// Jobs in the row (at least [`JOBS`]).
	jobs: u32,
	determinism: Determinism,
	policy: RedundancyPolicy,
	/// Each provider's bond.
	bond: u64,
	seed: u64,
}

/// A small deterministic generator (splitmix64) for the providers' choices.
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
}

type Leaves = BoundedVec<Digest, <Test as crate::Config>::MaxCheckpoints>;

/// The result variant an honest deterministic run gives.
const TRUE: u64 = 0;
/// The wrong result colluders share (and a lazy guesser's wrong guess).
const SHARED_WRONG: u64 = 1;

/// The reveal of result `variant` of `job` by `who`, with usage `wall_ms`.
fn reveal_for(job: JobId, who: AccountId, variant: u64, wall_ms: u64) -> (Reveal, Leaves) {
	let result = sp_io::hashing::blake2_256(&(b"bench/result", job, variant).encode());
	let leaves = vec![result];
	let usage = Usage {
		cpu_ms: wall_ms,
		memory_mib_s: (RESOURCES.memory_mib as u64).saturating_mul(wall_ms) / 1000,
		wall_ms,
	};
	(
		Reveal {
			result_digest: result,
			checkpoints_root: merkle_root(&leaves),
			salt: sp_io::hashing::blake2_256(&(b"bench/salt", job, who).encode()),
			output: BoundedVec::truncate_from((job, variant).encode()),
			usage,
		},
		BoundedVec::truncate_from(leaves),
	)
}

fn true_digest(job: JobId) -> Digest {
	sp_io::hashing::blake2_256(&(b"bench/result", job, TRUE).encode())
}

/// Per kind: replicas drawn, paid, slashed.
#[derive(Default, Clone, Copy)]
struct Ledger {
	providers: u64,
	drawn: u64,
	paid: u64,
	slashed: u64,
	slashes: u64,
	left_pool: u64,
}

impl Ledger {
	fn per_replica(&self, x: u64) -> f64 {
		if self.drawn == 0 {
			0.0
		} else {
			x as f64 / self.drawn as f64
		}
	}
}

/// The figures of one row.
struct Figures {
	name: &'static str,
	adversary: Kind,
	determinism: Determinism,
	policy: RedundancyPolicy,
	bond: u64,
	/// Anchors appointed.
	anchors: u64,
	/// Trusted providers per kind when the row ends (anchors included).
	trusted_at_end: BTreeMap<&'static str, u64>,
	jobs: u64,
	accepted: u64,
	disputed: u64,
	expired: u64,
	/// `None` when the jobs have no single right result.
	wrong_accepted: Option<u64>,
	replicas_accepted: u64,
	replicas_disputed: u64,
	committed_accepted: u64,
	honest_slashes: u64,
	honest_slashed_amount: u64,
	customer_paid: u64,
	honest_reveals: u64,
	honest_reveals_paid: u64,
	kinds: BTreeMap<&'static str, Ledger>,
	/// Jobs settled when the last adversary left the pool (if all did).
	last_exit_at: Option<u64>,
	blocks: u64,
	seconds: f64,
}

fn kind_name(k: Kind) -> &'static str {
	match k {
		Kind::Honest => "honest",
		Kind::RandomCheater => "random_cheater",
		Kind::Colluder => "colluder",
		Kind::SmartColluder => "smart_colluder",
		Kind::Lazy => "lazy",
	}
}

fn spec(policy: RedundancyPolicy) -> JobSpec<Balance> {
	JobSpec {
		image: povm_primitives::ImageRef::local([0xaa; 32]),
		command: BoundedVec::truncate_from(b"run".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources: RESOURCES,
		price_per_second: PRICE,
		redundancy: policy,
		checkpoint_interval: 5,
	}
}

/// Run one row through the pallets.
fn run(s: &Scenario) -> Figures {
	let started = Instant::now();
	let mut ext = ExtBuilder::default().build();
	ext.execute_with(|| {
		MaxProviders::set(POOL as u32 + 28);
		MaxCandidates::set(POOL as u32 + 28);
		let mut rng = Rng(s.seed);
		let mut p = Params::<Test>::get();
		// 60 s jobs + 30 s start margin fit 5 blocks of the mock's 20 s; reveals are quick.
		p.commit_window = 5;
		p.reveal_window = 2;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		assert_ok!(<Balances as Mutate<_>>::mint_into(&CUSTOMER, 1_000_000_000_000));

		// The pool: adversaries at random places in registration order.
		let mut kinds: BTreeMap<AccountId, Kind> = BTreeMap::new();
		let mut order: Vec<AccountId> = (FIRST..FIRST + POOL).collect();
		for i in (1..order.len()).rev() {
			order.swap(i, rng.below(i as u64 + 1) as usize);
		}
		for (i, who) in order.iter().enumerate() {
			let k = if (i as u64) < s.adversaries { s.adversary } else { Kind::Honest };
			kinds.insert(*who, k);
		}
		let offer = VmOffer {
			millicores: 2000,
			memory_mib: 2048,
			arch: Arch::X86_64,
			slots: SLOTS,
			grid_intensity: 400,
			pue_permille: 1200,
			core_milliwatts: 10_000,
			max_seconds: 3_600,
		};
		for who in FIRST..FIRST + POOL {
			assert_ok!(<Balances as Mutate<_>>::mint_into(&who, 1_000_000));
			assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who), offer, s.bond));
		}
		// Anchors: the first honest providers in the shuffled order.
		for who in order.iter().skip(s.adversaries as usize).take(s.anchors as usize) {
			assert_ok!(VmProof::set_anchor(RuntimeOrigin::root(), *who, true));
		}

		let mut f = Figures {
			name: s.name,
			adversary: s.adversary,
			determinism: s.determinism,
			policy: s.policy,
			bond: s.bond,
			anchors: s.anchors,
			trusted_at_end: BTreeMap::new(),
			jobs: s.jobs as u64,
			accepted: 0,
			disputed: 0,
			expired: 0,
			wrong_accepted: (s.determinism == Determinism::Deterministic).then_some(0),
			replicas_accepted: 0,
			replicas_disputed: 0,
			committed_accepted: 0,
			honest_slashes: 0,
			honest_slashed_amount: 0,
			customer_paid: 0,
			honest_reveals: 0,
			honest_reveals_paid: 0,
			kinds: BTreeMap::new(),
			last_exit_at: None,
			blocks: 0,
			seconds: 0.0,
		};
		for k in kinds.values() {
			f.kinds.entry(kind_name(*k)).or_default().providers += 1;
		}

		let mut submitted = 0u32;
		let mut settled = 0u64;
		// What each member committed to, to reveal it later.
		let mut planned: BTreeMap<(JobId, AccountId), (Reveal, Leaves)> = BTreeMap::new();
		// Members drawn per job (all waves), and who committed.
		let mut members: BTreeMap<JobId, Vec<AccountId>> = BTreeMap::new();
		let mut committed: BTreeMap<JobId, u64> = BTreeMap::new();
		let mut gone: BTreeSet<AccountId> = BTreeSet::new();
		let adversaries: BTreeSet<AccountId> =
			kinds.iter().filter(|(_, k)| **k != Kind::Honest).map(|(w, _)| *w).collect();

		while settled < s.jobs as u64 {
			assert!(f.blocks < 40 * s.jobs as u64, "the run does not settle");
			for _ in 0..SUBMIT_PER_BLOCK {
				if submitted >= s.jobs || pallet_job_queue::Counters::<Test>::get().queued >= 16 {
					break;
				}
				let sp = spec(s.policy);
				let budget = JobQueue::max_cost(&sp).expect("budget computes");
				assert_ok!(JobQueue::submit_job(
					RuntimeOrigin::signed(CUSTOMER),
					Box::new(sp),
					budget
				));
				submitted += 1;
			}
			run_to_block(System::block_number() + 1);
			f.blocks += 1;

			// Commits: every provider acts on what the chain shows it.
			for who in FIRST..FIRST + POOL {
				let kind = kinds[&who];
				for a in VmProof::assignments_of(&who) {
					if a.phase != povm_primitives::AssignmentPhase::Commit {
						continue;
					}
					let job = a.job;
					let wall = HONEST_WALL_MS + rng.below(2_000);
					let honest_variant = match s.determinism {
						Determinism::Deterministic => TRUE,
						Determinism::AllDiffer => 1_000 + who,
						Determinism::CoinFlip => rng.below(2),
					};
					let drawn: Vec<AccountId> = Jobs::<Test>::get(job)
						.map(|j| j.providers.into_inner())
						.unwrap_or_default();
					let (variant, wall) = match kind {
						Kind::Honest => (honest_variant, wall),
						Kind::RandomCheater => (2_000 + who, wall),
						Kind::Colluder => (SHARED_WRONG, wall),
						Kind::SmartColluder => {
							let all_colluders =
								drawn.iter().all(|p| kinds[p] == Kind::SmartColluder);
							if all_colluders {
								(SHARED_WRONG, wall)
							} else {
								(honest_variant, wall)
							}
						},
						Kind::Lazy => {
							let max_wall = RESOURCES.max_seconds as u64 * 1000;
							match leading_reveal(job) {
								Some(r) => {
									// Copy the leading revealed result, with its own salt.
									let (mut mine, _) = reveal_for(job, who, 0, max_wall);
									mine.result_digest = r.reveal.result_digest;
									mine.checkpoints_root = r.reveal.checkpoints_root;
									mine.output = r.reveal.output.clone();
									let c = VmProof::commitment_of(job, a.wave, &mine, &who);
									assert_ok!(VmProof::commit_result(
										RuntimeOrigin::signed(who),
										job,
										c
									));
									planned.insert((job, who), (mine, r.leaves.clone()));
									*committed.entry(job).or_default() += 1;
									continue;
								},
								None =>
									(if rng.below(2) == 0 { TRUE } else { SHARED_WRONG }, max_wall),
							}
						},
					};
					let (r, l) = reveal_for(job, who, variant, wall);
					let c = VmProof::commitment_of(job, a.wave, &r, &who);
					assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(who), job, c));
					planned.insert((job, who), (r, l));
					*committed.entry(job).or_default() += 1;
				}
			}
			// Reveals: everyone but the lazy reveal at once; the lazy look first.
			for lazy_pass in [false, true] {
				for who in FIRST..FIRST + POOL {
					let kind = kinds[&who];
					if (kind == Kind::Lazy) != lazy_pass {
						continue;
					}
					for a in VmProof::assignments_of(&who) {
						if a.phase != povm_primitives::AssignmentPhase::Reveal {
							continue;
						}
						let Some((r, l)) = planned.get(&(a.job, who)).cloned() else { continue };
						if kind == Kind::Lazy {
							if let Some(lead) = leading_reveal(a.job) {
								if lead.reveal.result_digest != r.result_digest ||
									lead.reveal.output != r.output
								{
									continue; // withhold: it would dissent
								}
							}
						}
						if kind == Kind::Honest {
							f.honest_reveals += 1;
						}
						assert_ok!(VmProof::reveal_result(
							RuntimeOrigin::signed(who),
							a.job,
							r,
							l,
							None
						));
					}
				}
			}

			// Read what happened in this block.
			for e in System::events().into_iter().map(|r| r.event) {
				match e {
					RuntimeEvent::JobQueue(pallet_job_queue::Event::JobAssigned {
						job,
						providers,
						..
					}) => {
						for p in providers.iter() {
							f.kinds.get_mut(kind_name(kinds[p])).expect("kind").drawn += 1;
						}
						members.entry(job).or_default().extend(providers.iter().copied());
					},
					RuntimeEvent::JobQueue(pallet_job_queue::Event::JobReassigned {
						job,
						added,
						..
					}) => {
						for p in added.iter() {
							f.kinds.get_mut(kind_name(kinds[p])).expect("kind").drawn += 1;
						}
						members.entry(job).or_default().extend(added.iter().copied());
					},
					RuntimeEvent::JobQueue(pallet_job_queue::Event::JobCompleted {
						job,
						result_digest,
						payments,
						..
					}) => {
						settled += 1;
						f.accepted += 1;
						let m = members.remove(&job).unwrap_or_default();
						f.replicas_accepted += m.len() as u64;
						f.committed_accepted += committed.remove(&job).unwrap_or(0);
						if let Some(w) = f.wrong_accepted.as_mut() {
							if result_digest != true_digest(job) {
								*w += 1;
							}
						}
						for (who, amount) in payments.iter() {
							f.customer_paid += amount;
							f.kinds.get_mut(kind_name(kinds[who])).expect("kind").paid += amount;
							if kinds[who] == Kind::Honest {
								f.honest_reveals_paid += 1;
							}
						}
					},
					RuntimeEvent::JobQueue(pallet_job_queue::Event::JobDisputed {
						job,
						payments,
						..
					}) => {
						settled += 1;
						f.disputed += 1;
						f.replicas_disputed +=
							members.remove(&job).unwrap_or_default().len() as u64;
						committed.remove(&job);
						for (who, amount) in payments.iter() {
							f.customer_paid += amount;
							f.kinds.get_mut(kind_name(kinds[who])).expect("kind").paid += amount;
							if kinds[who] == Kind::Honest {
								f.honest_reveals_paid += 1;
							}
						}
					},
					RuntimeEvent::JobQueue(pallet_job_queue::Event::JobExpired { job, .. }) => {
						settled += 1;
						f.expired += 1;
						members.remove(&job);
					},
					RuntimeEvent::VmProof(crate::Event::ProviderFaulted {
						who, slashed, ..
					}) => {
						let k = kinds[&who];
						let l = f.kinds.get_mut(kind_name(k)).expect("kind");
						l.slashes += 1;
						l.slashed += slashed;
						if k == Kind::Honest {
							f.honest_slashes += 1;
							f.honest_slashed_amount += slashed;
						}
						let bond = Providers::<Test>::get(who).map(|i| i.bond).unwrap_or(0);
						if bond < <Test as crate::Config>::MinBond::get() && gone.insert(who) {
							f.kinds.get_mut(kind_name(k)).expect("kind").left_pool += 1;
							if gone.is_superset(&adversaries) && !adversaries.is_empty() {
								f.last_exit_at = Some(settled);
							}
						}
					},
					_ => {},
				}
			}
			System::reset_events();
			planned.retain(|(job, _), _| Jobs::<Test>::get(job).is_some_and(|j| j.state.is_open()));
		}
		for (who, k) in kinds.iter() {
			if VmProof::is_trusted(who) {
				*f.trusted_at_end.entry(kind_name(*k)).or_default() += 1;
			}
		}
		VmProof::do_try_state().expect("vm-proof invariants hold after the run");
		JobQueue::do_try_state().expect("job-queue invariants hold after the run");
		f.seconds = started.elapsed().as_secs_f64();
		f
	})
}

use frame_support::traits::Get;

/// The revealed record with the most votes on `job` so far (the first on a tie), if any.
fn leading_reveal(job: JobId) -> Option<RevealRecord<Test>> {
	let all: Vec<RevealRecord<Test>> = Reveals::<Test>::iter_prefix(job).map(|(_, r)| r).collect();
	let votes = |x: &RevealRecord<Test>| {
		all.iter()
			.filter(|y| {
				y.reveal.result_digest == x.reveal.result_digest &&
					y.reveal.output == x.reveal.output
			})
			.count()
	};
	let mut best: Option<(usize, &RevealRecord<Test>)> = None;
	for r in all.iter() {
		let v = votes(r);
		if best.is_none_or(|(b, _)| v > b) {
			best = Some((v, r));
		}
	}
	best.map(|(_, r)| r.clone())
}

/// One-sided 95 % upper confidence bound of a binomial proportion, exact (Clopper–Pearson):
/// the `p` at which seeing at most `x` in `n` has probability 5 %. For `x = 0` this is
/// `1 − 0.05^(1/n)`, which the rule of three (`3 / n`) approximates.
pub(crate) fn clopper_pearson_upper(x: u64, n: u64) -> f64 {
	if n == 0 {
		return 1.0;
	}
	if x >= n {
		return 1.0;
	}
	let ln_fact: Vec<f64> = core::iter::once(0.0)
		.chain((1..=n).scan(0.0f64, |acc, i| {
			*acc += (i as f64).ln();
			Some(*acc)
		}))
		.collect();
	let cdf = |p: f64| -> f64 {
		(0..=x)
			.map(|k| {
				let lc = ln_fact[n as usize] - ln_fact[k as usize] - ln_fact[(n - k) as usize];
				(lc + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
			})
			.sum()
	};
	let (mut lo, mut hi) = (x as f64 / n as f64, 1.0f64);
	for _ in 0..200 {
		let mid = (lo + hi) / 2.0;
		if cdf(mid) > 0.05 {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	hi
}

fn policy_str(p: &RedundancyPolicy) -> String {
	format!("min {} / max {} / margin {}", p.min_replicas, p.max_replicas, p.margin)
}

fn ratio(a: u64, b: u64) -> f64 {
	if b == 0 {
		0.0
	} else {
		a as f64 / b as f64
	}
}

/// The nominal pay of one honest replica (the customer's unit of cost).
fn replica_pay() -> f64 {
	(PRICE * (HONEST_WALL_MS + 1_000) / 1000) as f64
}

/// Whether a row meets the issue's goal, and the goal's wording.
fn goal(f: &Figures) -> (bool, String) {
	let upper = f.wrong_accepted.map(|w| clopper_pearson_upper(w, f.jobs));
	let rpj = ratio(f.replicas_accepted, f.accepted);
	let honest = f.kinds.get("honest").copied().unwrap_or_default();
	match (f.adversary, f.determinism) {
		(Kind::RandomCheater, _) => {
			let ok = f.wrong_accepted == Some(0) && rpj <= 2.2;
			(
				ok,
				format!(
					"0 wrong and ≤ 2.2 replicas/job: {} wrong, {:.2} replicas",
					f.wrong_accepted.unwrap_or(0),
					rpj
				),
			)
		},
		(Kind::Colluder | Kind::SmartColluder, _) => {
			let u = upper.unwrap_or(1.0);
			(u <= 1e-3, format!("upper95 ≤ 1e-3: {:.2e}", u))
		},
		(Kind::Lazy, _) => {
			let lazy = f.kinds.get("lazy").copied().unwrap_or_default();
			let net = |l: &Ledger| l.per_replica(l.paid) - l.per_replica(l.slashed);
			// Judged on what a replica is paid (a lazy one runs nothing, so equal pay is
			// already a gain); the net of slashes is given beside it.
			let ok = lazy.per_replica(lazy.paid) <= honest.per_replica(honest.paid);
			(
				ok,
				format!(
					"lazy paid ≤ honest paid per replica: {:.1} vs {:.1} (net of slashes {:.1} vs {:.1})",
					lazy.per_replica(lazy.paid),
					honest.per_replica(honest.paid),
					net(&lazy),
					net(&honest)
				),
			)
		},
		(Kind::Honest, Determinism::Deterministic) =>
			(f.honest_slashes == 0, format!("0 honest slashes: {}", f.honest_slashes)),
		(Kind::Honest, _) => {
			let ok = f.honest_slashes == 0 && f.honest_reveals_paid == f.honest_reveals;
			(
				ok,
				format!(
					"every honest reveal paid, 0 honest slashes: {} of {} paid, {} slashed",
					f.honest_reveals_paid, f.honest_reveals, f.honest_slashes
				),
			)
		},
	}
}

fn row_json(f: &Figures) -> String {
	let upper = f.wrong_accepted.map(|w| clopper_pearson_upper(w, f.jobs));
	let opt_u = |x: Option<u64>| x.map_or("null".to_string(), |v| v.to_string());
	let opt_f = |x: Option<f64>| x.map_or("null".to_string(), |v| format!("{:.6e}", v));
	let (ok, goal_text) = goal(f);
	let mut kinds = String::new();
	for (i, (name, l)) in f.kinds.iter().enumerate() {
		let _ = write!(
			kinds,
			"{}\"{}\": {{\"providers\": {}, \"replicas_drawn\": {}, \"paid\": {}, \"slashed\": {}, \"slashes\": {}, \"left_pool\": {}, \"paid_per_replica\": {:.2}, \"slashed_per_replica\": {:.2}}}",
			if i > 0 { ", " } else { "" },
			name,
			l.providers,
			l.drawn,
			l.paid,
			l.slashed,
			l.slashes,
			l.left_pool,
			l.per_replica(l.paid),
			l.per_replica(l.slashed)
		);
	}
	let trusted: Vec<String> =
		f.trusted_at_end.iter().map(|(k, n)| format!("\"{k}\": {n}")).collect();
	format!(
		"    {{\"population\": \"{}\", \"policy\": {{\"min_replicas\": {}, \"max_replicas\": {}, \"margin\": {}}}, \"anchors\": {}, \"trusted_at_end\": {{{}}}, \"bond\": {}, \"jobs\": {}, \"accepted\": {}, \"disputed\": {}, \"expired\": {}, \"wrong_accepted\": {}, \"wrong_rate\": {}, \"wrong_rate_upper95\": {}, \"upper95_method\": \"one-sided exact Clopper-Pearson\", \"replicas_per_job\": {:.4}, \"replicas_per_disputed_job\": {:.4}, \"replicas_per_job_all\": {:.4}, \"committed_per_accepted_job\": {:.4}, \"honest_slashes\": {}, \"honest_slashed_amount\": {}, \"customer_cost\": {}, \"customer_cost_per_job\": {:.2}, \"customer_cost_per_job_in_replicas\": {:.3}, \"honest_reveals\": {}, \"honest_reveals_paid\": {}, \"adversaries_all_left_after_jobs\": {}, \"providers\": {{{}}}, \"goal\": \"{}\", \"goal_met\": {}, \"blocks\": {}, \"seconds\": {:.2}}}",
		f.name,
		f.policy.min_replicas,
		f.policy.max_replicas,
		f.policy.margin,
		f.anchors,
		trusted.join(", "),
		f.bond,
		f.jobs,
		f.accepted,
		f.disputed,
		f.expired,
		opt_u(f.wrong_accepted),
		opt_f(f.wrong_accepted.map(|w| ratio(w, f.jobs))),
		opt_f(upper),
		ratio(f.replicas_accepted, f.accepted),
		ratio(f.replicas_disputed, f.disputed),
		ratio(f.replicas_accepted + f.replicas_disputed, f.accepted + f.disputed),
		ratio(f.committed_accepted, f.accepted),
		f.honest_slashes,
		f.honest_slashed_amount,
		f.customer_paid,
		ratio(f.customer_paid, f.jobs),
		ratio(f.customer_paid, f.jobs) / replica_pay(),
		f.honest_reveals,
		f.honest_reveals_paid,
		opt_u(f.last_exit_at),
		kinds,
		goal_text.replace('"', "'"),
		ok,
		f.blocks,
		f.seconds,
	)
}

fn row_md(f: &Figures) -> String {
	let upper = f.wrong_accepted.map(|w| clopper_pearson_upper(w, f.jobs));
	let (ok, goal_text) = goal(f);
	format!(
		"| {} | {} | {} | {} | {} | {} | {:.2} ({:.2} disputed) | {} / {} | {} | {:.1} ({:.2} replicas) | {} {} |\n",
		f.name,
		policy_str(&f.policy),
		f.jobs,
		f.wrong_accepted.map_or("n/a".into(), |w| w.to_string()),
		f.wrong_accepted.map_or("n/a".into(), |w| format!("{:.2e}", ratio(w, f.jobs))),
		upper.map_or("n/a".into(), |u| format!("{:.2e}", u)),
		ratio(f.replicas_accepted, f.accepted),
		ratio(f.replicas_disputed, f.disputed),
		f.accepted,
		f.disputed,
		f.honest_slashes,
		ratio(f.customer_paid, f.jobs),
		ratio(f.customer_paid, f.jobs) / replica_pay(),
		if ok { "met:" } else { "**missed**:" },
		goal_text,
	)
}

fn pay_line(f: &Figures) -> String {
	let mut s = String::new();
	for (name, l) in f.kinds.iter() {
		let _ = write!(
			s,
			"{name}: {} providers, {} replicas drawn, paid {:.1} and slashed {:.1} per replica, {} slashes, {} left the pool; ",
			l.providers,
			l.drawn,
			l.per_replica(l.paid),
			l.per_replica(l.slashed),
			l.slashes,
			l.left_pool
		);
	}
	s.trim_end_matches("; ").to_string()
}

/// The benchmark's entry point: every row through the pallets, then the files.
#[test]
#[ignore = "verification benchmark: run with --ignored (see docs/testing.md)"]
fn verification_bench() {
	let started = Instant::now();
	let scenarios = [
		Scenario {
			name: "20 % random cheaters",
			adversary: Kind::RandomCheater,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 1,
		},
		Scenario {
			name: "20 % colluders",
			adversary: Kind::Colluder,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 2,
		},
		Scenario {
			name: "20 % lazy copiers / selective revealers",
			adversary: Kind::Lazy,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 3,
		},
		Scenario {
			name: "honest providers, deterministic jobs",
			adversary: Kind::Honest,
			adversaries: 0,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 4,
		},
		Scenario {
			name: "non-deterministic jobs (every replica differs)",
			adversary: Kind::Honest,
			adversaries: 0,
			determinism: Determinism::AllDiffer,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 5,
		},
		Scenario {
			name: "non-deterministic jobs (coin flip, 50/50)",
			adversary: Kind::Honest,
			adversaries: 0,
			determinism: Determinism::CoinFlip,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 6,
		},
		Scenario {
			name: "20 % smart colluders (cheat only when all drawn are colluders)",
			adversary: Kind::SmartColluder,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 7,
		},
		Scenario {
			name: "20 % random cheaters",
			adversary: Kind::RandomCheater,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: STRICT,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 8,
		},
		Scenario {
			name: "20 % colluders",
			adversary: Kind::Colluder,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: STRICT,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 9,
		},
		Scenario {
			name: "20 % smart colluders (cheat only when all drawn are colluders)",
			adversary: Kind::SmartColluder,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: STRICT,
			bond: BOND,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 10,
		},
		Scenario {
			name: "20 % random cheaters, bond 20 × MinBond",
			adversary: Kind::RandomCheater,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: 20 * BOND / 2,
			anchors: ANCHORS,
			jobs: JOBS,
			seed: 11,
		},
		Scenario {
			name: "20 % colluders, bond 20 × MinBond (they stay the whole run)",
			adversary: Kind::Colluder,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: 20 * BOND / 2,
			anchors: ANCHORS,
			jobs: LONG_JOBS,
			seed: 12,
		},
		Scenario {
			name: "20 % colluders, no anchors (plain iterative redundancy)",
			adversary: Kind::Colluder,
			adversaries: 20,
			determinism: Determinism::Deterministic,
			policy: TYPICAL,
			bond: BOND,
			anchors: 0,
			jobs: JOBS,
			seed: 2,
		},
	];
	let mut rows = Vec::new();
	for s in scenarios.iter() {
		let f = run(s);
		println!("{}", row_md(&f).trim_end());
		println!("    {} ({} blocks, {:.1} s)", pay_line(&f), f.blocks, f.seconds);
		rows.push(f);
	}
	let wall = started.elapsed().as_secs_f64();
	println!("verification bench: {} rows, {:.1} s wall time", rows.len(), wall);

	let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
	let bench = root.join("bench");
	std::fs::create_dir_all(&bench).expect("bench directory");
	std::fs::write(bench.join("verification.json"), json(&rows, wall))
		.expect("write verification.json");
	std::fs::write(bench.join("verification.md"), markdown(&rows, wall))
		.expect("write verification.md");
}

fn json(rows: &[Figures], wall: f64) -> String {
	let body: Vec<String> = rows.iter().map(row_json).collect();
	format!(
		"{{\n  \"generated_by\": \"{}\",\n  \"policy\": {{\"typical\": {{\"min_replicas\": {}, \"max_replicas\": {}, \"margin\": {}}}, \"strict\": {{\"min_replicas\": {}, \"max_replicas\": {}, \"margin\": {}}}, \"note\": \"the pallet's policy: iterative redundancy with the customer's RedundancyPolicy; once anchors are appointed a result is accepted only with a trusted provider (an anchor, or vouched for TrustThreshold times beside a trusted one) in its agreeing group; clear-majority slashing of untrusted dissenters; a trusted dissenter is not slashed and loses half its trust points; reveal no-show slashed like a wrong result; each row names the policy its jobs asked for\", \"trust_threshold\": {}, \"trust_cap\": {}}},\n  \"setup\": {{\"pool\": {}, \"jobs_per_row\": {}, \"bond\": {}, \"min_bond\": 1000, \"slots\": {}, \"price_per_second\": {}, \"honest_wall_ms\": \"{}..{}\", \"max_seconds\": {}, \"wrong_result_slash\": \"10%\", \"no_show_slash\": \"1% (reveal no-show 10%)\", \"anchors\": {}}},\n  \"wall_seconds\": {:.1},\n  \"rows\": [\n{}\n  ]\n}}\n",
		COMMAND,
		TYPICAL.min_replicas,
		TYPICAL.max_replicas,
		TYPICAL.margin,
		STRICT.min_replicas,
		STRICT.max_replicas,
		STRICT.margin,
		<<Test as crate::Config>::TrustThreshold as Get<u32>>::get(),
		<<Test as crate::Config>::TrustCap as Get<u32>>::get(),
		POOL,
		JOBS,
		BOND,
		SLOTS,
		PRICE,
		HONEST_WALL_MS,
		HONEST_WALL_MS + 2_000,
		RESOURCES.max_seconds,
		ANCHORS,
		wall,
		body.join(",\n"),
	)
}

fn markdown(rows: &[Figures], wall: f64) -> String {
	let mut md = String::new();
	let _ = writeln!(md, "# Verification benchmark (issue 11)\n");
	let _ = writeln!(
		md,
		"Generated by `{COMMAND}` (`pallets/vm-proof/src/verification_bench.rs`) in {wall:.0} s of wall time. \
		Do not edit by hand.\n"
	);
	let _ = writeln!(
		md,
		"**Setup.** The real job-queue and vm-proof pallets on vm-proof's mock runtime: jobs are submitted with \
		`submit_job`, drawn by the job queue's `on_initialize` (over every eligible provider, each pick \
		weighted by the provider's free slots, not by reputation, since issue 12; the mock's `MaxCandidates` \
		covers the pool), committed and revealed with the real calls, judged, slashed and paid by the \
		pallets; deadlines pass through vm-proof's hook. Each row: {JOBS} jobs ({LONG_JOBS} in the long row), a pool of {POOL} providers, each \
		with {SLOTS} slots and a bond of {BOND} = 2 × the mock's `MinBond` (1,000), so a provider slashed 10 % \
		seven times falls below `MinBond` and is never drawn again. Jobs: {} s at most, price {PRICE} per s; an \
		honest run takes 30–32 s (an honest replica is paid about {:.0}). Slashes: wrong result 10 % (only \
		against a clear majority), commit no-show 1 %, reveal no-show 10 %. Reputation and bonds evolve over the \
		run. Draw randomness: the mock's `TestRandomness` (blake2 of the job, wave and index), a different \
		draw for every job. The typical policy is min 2 / max 5 / margin 2; the strict one min 3 / max 5 / \
		margin 3 (three must agree). **Trust** (`trust.rs`): before the first job {ANCHORS} honest providers are \
		appointed anchors with `set_anchor` (all rows but the baseline); a result is then accepted only when \
		its agreeing group holds a trusted provider (an anchor, or a provider vouched for {} times by agreeing \
		beside a trusted one), otherwise one more replica is drawn; a trusted dissenter is not slashed and \
		loses half its points (cap {}).\n",
		RESOURCES.max_seconds,
		replica_pay(),
		<<Test as crate::Config>::TrustThreshold as Get<u32>>::get(),
		<<Test as crate::Config>::TrustCap as Get<u32>>::get(),
	);
	let _ = writeln!(
		md,
		"`replicas/job` counts every replica drawn for an accepted job, in every wave (in parentheses: for \
		disputed jobs). `upper95` is the one-sided exact Clopper–Pearson 95 % upper bound of the wrong rate over \
		all jobs of the row (for 0 wrong: 1 − 0.05^(1/n) ≈ 3/n, the rule of three). `cost/job` is what the \
		customer paid per submitted job, and in honest replica-pays.\n"
	);
	let _ = writeln!(
		md,
		"| population | policy | jobs | wrong accepted | wrong rate | upper95 | replicas/job | accepted / disputed | honest slashes | cost/job | goal |"
	);
	let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
	for f in rows {
		md.push_str(&row_md(f));
	}
	let _ = writeln!(md, "\n## Rows\n");
	for f in rows {
		let _ = writeln!(md, "**{} ({})**. {}\n", f.name, policy_str(&f.policy), paragraph(f));
		let _ = writeln!(md, "Per kind: {}.\n", pay_line(f));
	}
	md
}

fn paragraph(f: &Figures) -> String {
	let rpj = ratio(f.replicas_accepted, f.accepted);
	let exit = f.last_exit_at.map_or("not every adversary left the pool".to_string(), |n| {
		format!("the last adversary left the pool after {n} jobs")
	});
	let honest = f.kinds.get("honest").copied().unwrap_or_default();
	match (f.adversary, f.determinism) {
		(Kind::RandomCheater, _) => format!(
			"Every cheater's result is its own, so it never leads by the margin: {} wrong results \
			accepted, {} disputed. Accepted jobs cost {:.2} replicas on average ({:.2} committed): every \
			job starts with {} replicas and a cheater among them costs further waves until the honest \
			result leads by {} (a 1 : 1 split takes two more replicas, and 3 : 1 slashes the cheater). \
			With bonds of {} (MinBond 1,000) {exit}. The draw does not weigh reputation (since issue \
			12 it weighs free slots), so a cheater is drawn at its slots' share until its slashes push \
			its bond below MinBond (cheaters were drawn for {} replicas in all); jobs then cost {} \
			replicas: a row meets 2.2 when the cheaters leave the pool early, not because a job with a \
			cheater is cheap.",
			f.wrong_accepted.unwrap_or(0),
			f.disputed,
			rpj,
			ratio(f.committed_accepted, f.accepted),
			f.policy.min_replicas,
			f.policy.margin,
			f.bond,
			f.kinds.get("random_cheater").map_or(0, |l| l.drawn),
			f.policy.min_replicas,
		),
		(Kind::Colluder, _) if f.anchors == 0 => format!(
			"No anchors: plain iterative redundancy. Colluders share one wrong result, so it is \
			accepted whenever colluders lead by the margin before honest replicas do ({} of {} jobs, \
			rate {:.2e}, upper bound {:.2e}); their clear-majority slashes push them out of the pool \
			({exit}), so the wrong results all come from the first few hundred jobs.",
			f.wrong_accepted.unwrap_or(0),
			f.jobs,
			ratio(f.wrong_accepted.unwrap_or(0), f.jobs),
			clopper_pearson_upper(f.wrong_accepted.unwrap_or(0), f.jobs),
		),
		(Kind::Colluder, _) => format!(
			"Colluders share one wrong result and lead by the margin as often as without anchors, but \
			their group never holds a trusted provider (they never agree with an anchor, so nobody \
			vouches for them: {} colluders trusted at the end), so their lead only draws another replica: \
			{} of {} jobs accepted wrong (upper bound {:.2e}), {} disputed ({:.2} replicas per accepted \
			job). {exit}.",
			f.trusted_at_end.get("colluder").copied().unwrap_or(0),
			f.wrong_accepted.unwrap_or(0),
			f.jobs,
			clopper_pearson_upper(f.wrong_accepted.unwrap_or(0), f.jobs),
			f.disputed,
			rpj,
		),
		(Kind::SmartColluder, _) => format!(
			"Colluders that work honestly unless every member drawn so far is one of them: {} wrong \
			results accepted (rate {:.2e}, upper bound {:.2e}), {} honest slashes. Working honestly \
			beside trusted providers, they are vouched for like anyone else ({} of {} trusted at the \
			end), so when a wave holds only them, one of them carries the verdict. Trust does not stop \
			this adversary: only a draw that rarely gives a ring the whole wave does (see \
			docs/protocol.md).",
			f.wrong_accepted.unwrap_or(0),
			ratio(f.wrong_accepted.unwrap_or(0), f.jobs),
			clopper_pearson_upper(f.wrong_accepted.unwrap_or(0), f.jobs),
			f.honest_slashes,
			f.trusted_at_end.get("smart_colluder").copied().unwrap_or(0),
			f.kinds.get("smart_colluder").map_or(0, |l| l.providers),
		),
		(Kind::Lazy, _) => {
			let lazy = f.kinds.get("lazy").copied().unwrap_or_default();
			format!(
				"Lazy providers never run a job: they copy a revealed result when a post-reveal wave lets them, \
				guess otherwise (right half the time), claim the whole 60 s, and withhold a reveal that would \
				dissent (10 % slash, like a wrong result). A lazy replica earned {:.1} and lost {:.1} per \
				replica drawn, an honest one earned {:.1} and lost {:.1}; {} wrong results were accepted (two \
				lazy replicas guessing the same wrong value agree).",
				lazy.per_replica(lazy.paid),
				lazy.per_replica(lazy.slashed),
				honest.per_replica(honest.paid),
				honest.per_replica(honest.slashed),
				f.wrong_accepted.unwrap_or(0),
			)
		},
		(Kind::Honest, Determinism::Deterministic) => format!(
			"All honest: {} honest slashes, {} disputes, {:.2} replicas per job; the customer pays {:.2} replica-pays per job.",
			f.honest_slashes,
			f.disputed,
			rpj,
			ratio(f.customer_paid, f.jobs) / replica_pay(),
		),
		(Kind::Honest, _) => format!(
			"Honest providers, a job whose replicas {}: {} accepted, {} disputed ({:.2} replicas per disputed \
			job); {} of {} honest reveals were paid, {} honest slashes (amount {}), {} honest providers \
			slashed out of the pool; the customer paid {:.2} replica-pays per job.{}",
			if f.determinism == Determinism::AllDiffer { "all differ" } else { "flip a coin" },
			f.accepted,
			f.disputed,
			ratio(f.replicas_disputed, f.disputed),
			f.honest_reveals_paid,
			f.honest_reveals,
			f.honest_slashes,
			f.honest_slashed_amount,
			honest.left_pool,
			ratio(f.customer_paid, f.jobs) / replica_pay(),
			if f.determinism == Determinism::CoinFlip {
				" A coin flip under min 2 / max 5 / margin 2 goes 1 : 1, 2 : 1, then 3 : 1 in about one \
				job in four. 3 : 1 is a clear majority (`clear_majority(3, 1)`): an untrusted replica \
				that flipped the other side is slashed 10 %; a trusted one (vouched for by the anchors) \
				is not, it loses half its trust points. The slashes left are of providers not yet \
				trusted, or whose points coin flips had already halved below the threshold. The minority \
				of an accepted job is never paid: the chain cannot tell it from a wrong result."
			} else {
				""
			},
		),
	}
}

#[test]
fn clopper_pearson_upper_matches_known_values() {
	// x = 0: 1 − 0.05^(1/n).
	let u = clopper_pearson_upper(0, 3_000);
	assert!((u - (1.0 - 0.05f64.powf(1.0 / 3_000.0))).abs() < 1e-9, "{u}");
	assert!((u - 1e-3).abs() < 1e-5, "close to the rule of three");
	// x = 1, n = 10: the one-sided 95 % bound is 0.3942.
	assert!((clopper_pearson_upper(1, 10) - 0.3942).abs() < 1e-3);
	assert_eq!(clopper_pearson_upper(5, 5), 1.0);
}
