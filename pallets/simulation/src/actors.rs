//! Providers and customers, honest or not, acting block by block through the pallets' calls.
//!
//! Every provider acts on what `assignments_of` shows it, as the worker does: it runs a job for
//! [`RUN_BLOCKS`] blocks and commits when the run is over, reveals when the reveal phase opens,
//! sends a heartbeat each session, and claims when its VRF output wins the open draw. An
//! honest customer keeps the queue full, so that every slot is busy and verified work follows
//! the slots. The attacker owns a share of the slots and plays one [`Strategy`].

use crate::{runtime::*, stats::Rng};
use codec::Encode;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use pallet_vm_proof::{Arch, Resources, Reveal, Usage, VmOffer};
use pallet_vrf_lottery::{vrf, CurrentDraw, Tickets, VrfKeys};
use povm_primitives::{AssignmentPhase, JobId, JobSpec, RedundancyPolicy};
use sp_core::{sr25519, Pair};
use std::collections::{BTreeMap, BTreeSet};

/// Genesis validators: honest, with session keys, no provider of their own.
pub const INCUMBENTS: [AccountId; 4] = [1, 2, 3, 4];
/// The honest customer.
pub const HONEST_CUSTOMER: AccountId = 100;
/// Provider accounts start here.
pub const FIRST_PROVIDER: AccountId = 1_000;
/// The attacker's customer accounts (a fresh one per job) start here.
pub const FIRST_ATTACKER_CUSTOMER: AccountId = 10_000_000;
/// Each provider's bond: twice `MinBond`.
pub const BOND: Balance = 200_000;
/// Blocks an honest run takes (6 s at 6 s a block): short against a session, so that every
/// provider settles work in every session, as hour-long production sessions with minute-long
/// jobs do.
pub const RUN_BLOCKS: u64 = 1;
/// Milliseconds an honest run reports.
pub const RUN_MILLIS: u64 = RUN_BLOCKS * MILLIS_PER_BLOCK;
/// Price per second of the honest customer's jobs.
pub const PRICE: Balance = 10;
/// Price per second of the attacker's own jobs: twice the honest price, so that the queue
/// serves them first.
pub const ATTACKER_PRICE: Balance = 20;
/// Jobs the honest customer keeps queued.
pub const QUEUE_TARGET: u32 = 24;
/// Jobs a customer submits per block at most.
pub const SUBMIT_PER_BLOCK: u32 = 8;
/// The block of a session (0 = the rotation that opens the draw) at which honest winners claim.
pub const HONEST_CLAIM_OFFSET: u64 = SESSION_BLOCKS - 3;

/// The most slots an offer may declare (vm-proof's `MaxSlots` in the mock).
const MAX_SLOTS: u32 = 64;

/// Resources of every job: one core, 256 MiB, at most 12 s.
pub const RESOURCES: Resources = Resources { millicores: 1000, memory_mib: 256, max_seconds: 12 };

/// Who a provider works for.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Party {
	/// Runs what it is assigned and claims what it wins.
	Honest,
	/// Plays the row's strategy.
	Attacker,
}

/// What the attacker does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Strategy {
	/// Nothing special: its providers behave as the honest ones (the control row).
	None,
	/// Self-dealing with unlimited customer accounts: it submits its own jobs (a fresh customer
	/// account each, at twice the honest price, two replicas, margin 2: the cheapest policy
	/// that can earn verified time) and, whenever every replica drawn for one of them is its
	/// own, commits at once an invented result claiming the job's longest run; with an honest
	/// replica beside it, it runs the job like anyone.
	SelfDealing,
	/// Grinding: its slots are spread over one-slot accounts with VRF keys; at each session
	/// start it evaluates every account's VRF on the randomness it can read and keeps the best
	/// quarter as favourites; the others decline every job of the session, so that its verified
	/// work (and tickets) go to the accounts it expects to win.
	Grinding,
	/// Sybil providers: the same slots spread over one-slot accounts, otherwise honest.
	Sybil,
	/// Claiming first: its winners claim in the block the draw opens; honest winners claim
	/// [`HONEST_CLAIM_OFFSET`] blocks later.
	ClaimFirst,
}

impl Strategy {
	/// The name in the benchmark's files.
	pub fn name(self) -> &'static str {
		match self {
			Strategy::None => "none",
			Strategy::SelfDealing => "self_dealing",
			Strategy::Grinding => "grinding",
			Strategy::Sybil => "sybil",
			Strategy::ClaimFirst => "claim_first",
		}
	}

	/// Whether the attacker's slots are spread over one-slot accounts.
	pub fn splits_accounts(self) -> bool {
		matches!(self, Strategy::Grinding | Strategy::Sybil)
	}
}

/// A provider of the simulation.
#[derive(Clone, Debug)]
pub struct Provider {
	/// Whose it is.
	pub party: Party,
	/// Its slots.
	pub slots: u32,
}

/// What a member will commit and reveal.
struct Plan {
	commit_at: u64,
	reveal: Reveal,
	leaves: BoundedVec<[u8; 32], <Sim as pallet_vm_proof::Config>::MaxCheckpoints>,
	committed: bool,
	revealed: bool,
}

/// What one session showed.
#[derive(Clone, Debug, Default)]
pub struct SessionRecord {
	/// Seats of the validator set in this session.
	pub seats: u32,
	/// Of which the attacker's.
	pub attacker_seats: u32,
	/// Issuance minted at this session's boundary.
	pub minted: Balance,
	/// Of which to the attacker.
	pub attacker_minted: Balance,
	/// Tickets in the draw opened at this boundary.
	pub tickets: u128,
	/// Of which the attacker's.
	pub attacker_tickets: u128,
	/// The verified work the draw opened at this boundary turned into its tickets (recorded by
	/// [`World::step`] only; the seat-level stage replays it).
	pub work: EpochWork,
}

/// Everything counted during a run.
#[derive(Clone, Debug, Default)]
pub struct Tally {
	/// One record per session.
	pub sessions: Vec<SessionRecord>,
	/// Verified VM-milliseconds, per party.
	pub verified_ms: BTreeMap<Party, u128>,
	/// Winning claims refused, per party.
	pub claims_refused: BTreeMap<Party, u64>,
	/// Winning claims accepted, per party.
	pub claims_accepted: BTreeMap<Party, u64>,
	/// The smallest validator set seen.
	pub smallest_set: u32,
	/// The largest validator set seen.
	pub largest_set: u32,
	/// What the attacker paid, as a customer, to providers that are not its own.
	pub attacker_paid_to_others: Balance,
	/// What the attacker paid its own providers, as a customer (a transfer to itself).
	pub attacker_paid_to_itself: Balance,
	/// The attacker's own jobs submitted.
	pub attacker_jobs: u64,
	/// Jobs settled (completed or disputed).
	pub settled: u64,
	/// Jobs whose accepted result was the attacker's invention.
	pub invented_accepted: u64,
	/// Replicas declined.
	pub declined: u64,
}

/// The world of one run.
pub struct World {
	/// The row's strategy.
	pub strategy: Strategy,
	rng: Rng,
	/// Every provider.
	pub providers: BTreeMap<AccountId, Provider>,
	plans: BTreeMap<(JobId, AccountId), Plan>,
	attacker_jobs: BTreeSet<JobId>,
	next_attacker_customer: AccountId,
	favourites: BTreeSet<AccountId>,
	/// The work the next rotation's draw will snapshot, read right before that rotation.
	pending_work: Option<EpochWork>,
	/// Every provider's VRF keypair, derived once (a derivation costs a curve multiplication).
	keys: BTreeMap<AccountId, sr25519::Pair>,
	/// What was counted.
	pub tally: Tally,
}

/// The VRF (and notional session) keypair of an account.
pub fn pair(who: AccountId) -> sr25519::Pair {
	let mut seed = [0u8; 32];
	seed[..8].copy_from_slice(&who.to_le_bytes());
	seed[31] = 0x5e;
	sr25519::Pair::from_seed(&seed)
}

/// The VRF output of `key`'s owner `who` in the draw of `epoch` under `seed`: the output of
/// [`vrf::evaluate`] without its proof, which a provider needs only once it knows it has won.
pub fn vrf_output(key: &sr25519::Pair, seed: &[u8; 32], epoch: u32, who: &AccountId) -> [u8; 32] {
	key.make_bytes::<32>(vrf::OUTPUT_CONTEXT, vrf::lottery_transcript(seed, epoch, who).as_ref())
}

/// The offer of a simulated provider: `millicores` and `memory_mib` per slot, `slots` slots,
/// 400 g/kWh, PUE 1.2, 10 W per core, jobs of up to an hour.
pub fn offer_of(millicores: u32, memory_mib: u32, slots: u32) -> VmOffer {
	VmOffer {
		millicores,
		memory_mib,
		arch: Arch::X86_64,
		slots,
		grid_intensity: 400,
		pue_permille: 1200,
		core_milliwatts: 10_000,
		max_seconds: 3_600,
	}
}

/// Every provider of the benchmark offers two cores and 2 GiB per slot.
fn offer(slots: u32) -> VmOffer {
	offer_of(2000, 2048, slots)
}

/// A job of `resources` at `price` per second under `policy` (the image digest is a fixed
/// placeholder: nothing runs it).
pub fn job_spec(
	resources: Resources,
	price: Balance,
	policy: RedundancyPolicy,
) -> JobSpec<Balance> {
	JobSpec {
		image: povm_primitives::ImageRef::local([0xaa; 32]),
		command: BoundedVec::truncate_from(b"run".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources,
		price_per_second: price,
		redundancy: policy,
		checkpoint_interval: 5,
	}
}

/// The honest customer's policy.
pub const TYPICAL: RedundancyPolicy =
	RedundancyPolicy { min_replicas: 2, max_replicas: 4, margin: 2 };
/// The attacker's policy for its own jobs.
pub const CHEAPEST_VERIFIED: RedundancyPolicy =
	RedundancyPolicy { min_replicas: 2, max_replicas: 2, margin: 2 };

/// The true result of `job` (what any honest run gives) or an invented one.
fn reveal_for(job: JobId, who: AccountId, invented: bool, wall_ms: u64) -> Reveal {
	let variant: u8 = if invented { 1 } else { 0 };
	let result = sp_io::hashing::blake2_256(&(b"sim/result", job, variant).encode());
	Reveal {
		result_digest: result,
		checkpoints_root: pallet_vm_proof::verdict::merkle_root(&[result]),
		salt: sp_io::hashing::blake2_256(&(b"sim/salt", job, who).encode()),
		output: BoundedVec::truncate_from((job, variant).encode()),
		usage: Usage {
			cpu_ms: wall_ms,
			memory_mib_s: (RESOURCES.memory_mib as u64).saturating_mul(wall_ms) / 1000,
			wall_ms,
		},
	}
}

fn party_of(providers: &BTreeMap<AccountId, Provider>, who: &AccountId) -> Party {
	providers.get(who).map(|p| p.party).unwrap_or(Party::Honest)
}

impl World {
	/// Register `honest` two-slot honest providers and the attacker's `attacker_slots` slots
	/// (two-slot accounts, or one-slot accounts if the strategy splits), interleaved in
	/// registration order, all with VRF keys and session keys. Call inside the chain's
	/// externalities.
	pub fn new(strategy: Strategy, seed: u64, honest: u32, attacker_slots: u32) -> Self {
		let mut rng = Rng(seed);
		let mut providers = BTreeMap::new();
		let attacker_accounts: Vec<u32> = if strategy.splits_accounts() {
			vec![1; attacker_slots as usize]
		} else {
			let mut v = vec![2; (attacker_slots / 2) as usize];
			if attacker_slots % 2 == 1 {
				v.push(1);
			}
			v
		};
		let total = honest as usize + attacker_accounts.len();
		// The attacker's accounts at random places in registration order.
		let mut order: Vec<Party> = (0..total)
			.map(|i| if i < attacker_accounts.len() { Party::Attacker } else { Party::Honest })
			.collect();
		for i in (1..order.len()).rev() {
			order.swap(i, rng.below(i as u64 + 1) as usize);
		}
		let mut attacker_slots_left = attacker_accounts.into_iter();
		let mut keys = BTreeMap::new();
		for (i, party) in order.into_iter().enumerate() {
			let who = FIRST_PROVIDER + i as AccountId;
			let slots = match party {
				Party::Honest => 2,
				Party::Attacker => attacker_slots_left.next().unwrap_or(1),
			};
			<Balances as Mutate<_>>::mint_into(&who, 10 * BOND).expect("mint");
			VmProof::register_provider(RuntimeOrigin::signed(who), offer(slots), BOND)
				.expect("register");
			let key = pair(who);
			VrfLottery::register_vrf_key(RuntimeOrigin::signed(who), key.public())
				.expect("vrf key");
			keys.insert(who, key);
			set_session_keys(who);
			providers.insert(who, Provider { party, slots });
		}
		<Balances as Mutate<_>>::mint_into(&HONEST_CUSTOMER, u64::MAX as Balance).expect("mint");
		let mut p = pallet_job_queue::Params::<Sim>::get();
		// 12 s jobs plus the 30 s start margin fit 7 blocks of 6 s; reveals take a block.
		p.commit_window = 7;
		p.reveal_window = 2;
		pallet_job_queue::Pallet::<Sim>::set_params(RuntimeOrigin::root(), p).expect("params");
		World {
			strategy,
			rng,
			providers,
			plans: BTreeMap::new(),
			attacker_jobs: BTreeSet::new(),
			next_attacker_customer: FIRST_ATTACKER_CUSTOMER,
			favourites: BTreeSet::new(),
			pending_work: None,
			keys,
			tally: Tally { smallest_set: u32::MAX, ..Default::default() },
		}
	}

	/// The attacker's share of the providers' slots.
	pub fn capacity_share(&self) -> f64 {
		let all: u32 = self.providers.values().map(|p| p.slots).sum();
		let att: u32 = self
			.providers
			.values()
			.filter(|p| p.party == Party::Attacker)
			.map(|p| p.slots)
			.sum();
		att as f64 / all as f64
	}

	/// Run `sessions` whole sessions.
	pub fn run_sessions(&mut self, sessions: u32) {
		let until = Epoch::get() + sessions;
		while Epoch::get() < until {
			self.step();
		}
	}

	/// One block: customers submit, the chain runs its hooks, providers act, events counted.
	/// Before a rotation, the work its draw will snapshot is recorded in the session's
	/// [`SessionRecord::work`].
	pub fn step(&mut self) {
		self.submit_jobs();
		if rotates_next() {
			self.pending_work = Some(snapshot_work(Epoch::get()));
		}
		let rotated = next_block().is_some();
		let now = System::block_number();
		if rotated {
			self.on_session_start();
		}
		self.act_on_assignments(now);
		self.claim_at(now % SESSION_BLOCKS);
		self.count_events(rotated);
	}

	/// Run `sessions` whole sessions of the seat-level stage (see [`World::seat_step`]).
	pub fn run_seat_sessions(&mut self, sessions: u32, recorded: &[EpochWork], pick: &mut Rng) {
		let until = Epoch::get() + sessions;
		while Epoch::get() < until {
			self.seat_step(recorded, pick);
		}
	}

	/// One block of the seat-level stage: no jobs, no heartbeats, no offers; before a rotation,
	/// one of the `recorded` sessions' work, drawn uniformly by `pick`, becomes the verified work
	/// of the ending session (see [`replay_work`]), so that the rotation's draw snapshots it.
	/// The chain then rotates and seats as in [`World::step`], and the providers claim at the
	/// same blocks with the same strategy.
	pub fn seat_step(&mut self, recorded: &[EpochWork], pick: &mut Rng) {
		if rotates_next() && !recorded.is_empty() {
			let drawn = pick.below(recorded.len() as u64) as usize;
			replay_work(Epoch::get(), &recorded[drawn]);
		}
		let rotated = next_block().is_some();
		if rotated {
			self.record_seats();
		}
		self.claim_at(System::block_number() % SESSION_BLOCKS);
		self.count_events(rotated);
	}

	/// The claims made at block `offset` of a session: the attacker's winners in the block the
	/// draw opens if it claims first, every other winner at [`HONEST_CLAIM_OFFSET`].
	fn claim_at(&mut self, offset: u64) {
		let attacker_claims_now = if self.strategy == Strategy::ClaimFirst {
			offset == 0
		} else {
			offset == HONEST_CLAIM_OFFSET
		};
		if attacker_claims_now {
			self.claim(Party::Attacker);
		}
		if offset == HONEST_CLAIM_OFFSET {
			self.claim(Party::Honest);
		}
	}

	fn submit_jobs(&mut self) {
		let queued = pallet_job_queue::Counters::<Sim>::get().queued;
		let mut room = QUEUE_TARGET.saturating_sub(queued).min(SUBMIT_PER_BLOCK);
		if self.strategy == Strategy::SelfDealing {
			// Its own jobs first, as many as a block takes.
			for _ in 0..SUBMIT_PER_BLOCK {
				let who = self.next_attacker_customer;
				self.next_attacker_customer += 1;
				let sp = job_spec(RESOURCES, ATTACKER_PRICE, CHEAPEST_VERIFIED);
				let budget = JobQueue::max_cost(&sp).expect("budget");
				<Balances as Mutate<_>>::mint_into(&who, budget * 4 + 1_000_000).expect("mint");
				if JobQueue::submit_job(RuntimeOrigin::signed(who), Box::new(sp), budget).is_ok() {
					let id = pallet_job_queue::Counters::<Sim>::get().next_job_id.saturating_sub(1);
					self.attacker_jobs.insert(id);
					self.tally.attacker_jobs += 1;
				}
			}
			room = room.saturating_sub(SUBMIT_PER_BLOCK / 2);
		}
		for _ in 0..room {
			let sp = job_spec(RESOURCES, PRICE, TYPICAL);
			let budget = JobQueue::max_cost(&sp).expect("budget");
			JobQueue::submit_job(RuntimeOrigin::signed(HONEST_CUSTOMER), Box::new(sp), budget)
				.expect("the honest customer's job is accepted");
		}
	}

	fn on_session_start(&mut self) {
		for who in self.providers.keys() {
			let _ = VmProof::heartbeat(RuntimeOrigin::signed(*who));
		}
		self.record_seats();
		if self.strategy == Strategy::Grinding {
			self.choose_favourites();
		}
	}

	/// Open the session's record: the seats of the set that took office, and the work recorded
	/// for the draw that just opened.
	fn record_seats(&mut self) {
		let set = Validators::get();
		let attacker =
			set.iter().filter(|w| party_of(&self.providers, w) == Party::Attacker).count() as u32;
		self.tally.smallest_set = self.tally.smallest_set.min(set.len() as u32);
		self.tally.largest_set = self.tally.largest_set.max(set.len() as u32);
		self.tally.sessions.push(SessionRecord {
			seats: set.len() as u32,
			attacker_seats: attacker,
			work: self.pending_work.take().unwrap_or_default(),
			..Default::default()
		});
	}

	/// Grinding: the draw that will count this session's work opens at the next rotation as
	/// epoch `Epoch + 1`. The attacker evaluates every account's VRF on the randomness readable
	/// now and routes its slots to the accounts with the lowest outputs, giving each just the
	/// slots its expected tickets need to put its threshold above that output (with a margin),
	/// best outputs first, until its slots run out: against a seed it knows, that turns a share
	/// `s` of the work into about `√(2 n s E)` winners for `n` accounts and `E` expected
	/// winners. The other accounts offer a run-time limit no job fits, so that they are not
	/// drawn, and decline what they were drawn for before.
	fn choose_favourites(&mut self) {
		let guess = public_randomness();
		let epoch = Epoch::get() + 1;
		let expected = expected_winners() as f64;
		let accounts: Vec<AccountId> = self
			.providers
			.iter()
			.filter(|(_, p)| p.party == Party::Attacker)
			.map(|(w, _)| *w)
			.collect();
		let slots: u32 = accounts.iter().map(|w| self.providers[w].slots).sum();
		// Tickets per slot and in all, as the draw that just opened shows them.
		let (total, own) = match CurrentDraw::<Sim>::get() {
			Some(d) => (
				d.total_tickets as f64,
				Tickets::<Sim>::iter_prefix(d.epoch)
					.filter(|(w, _)| accounts.contains(w))
					.map(|(_, t)| t as f64)
					.sum::<f64>(),
			),
			None => (0.0, 0.0),
		};
		let per_slot = own / slots.max(1) as f64;
		let mut ranked: Vec<(u128, AccountId)> = accounts
			.iter()
			.map(|who| {
				let out = vrf_output(&self.key_of(*who), &guess, epoch, who);
				(vrf::output_value(&out), *who)
			})
			.collect();
		ranked.sort();
		let mut plan: BTreeMap<AccountId, u32> = BTreeMap::new();
		let mut left = slots;
		for (value, who) in ranked.iter() {
			let u = *value as f64 / u128::MAX as f64;
			let needed = if per_slot > 0.0 && total > 0.0 {
				(1.3 * u * total / expected / per_slot).ceil().max(1.0) as u32
			} else {
				1
			};
			if needed > left || needed > MAX_SLOTS {
				break;
			}
			plan.insert(*who, needed);
			left -= needed;
		}
		if plan.is_empty() {
			if let Some((_, who)) = ranked.first() {
				plan.insert(*who, slots.min(MAX_SLOTS));
			}
		}
		// Spare slots go to the favourites, best first.
		for (_, who) in ranked.iter() {
			if left == 0 {
				break;
			}
			if let Some(n) = plan.get_mut(who) {
				let add = left.min(MAX_SLOTS - *n);
				*n += add;
				left -= add;
			}
		}
		// The others take no job: an offer whose run-time limit fits none is never drawn (and a
		// decline would cost reputation); what they were drawn for before this they decline.
		for who in &accounts {
			let held = pallet_vm_proof::ProviderJobs::<Sim>::decode_len(who).unwrap_or(0) as u32;
			let o = match plan.get(who) {
				Some(n) => offer((*n).max(held)),
				None => VmOffer { max_seconds: 1, ..offer(held.max(1)) },
			};
			let _ = VmProof::update_offer(RuntimeOrigin::signed(*who), o);
		}
		self.favourites = plan.into_keys().collect();
	}

	fn act_on_assignments(&mut self, now: u64) {
		let who_list: Vec<AccountId> = self.providers.keys().copied().collect();
		for who in who_list {
			let party = party_of(&self.providers, &who);
			for a in VmProof::assignments_of(&who) {
				let key = (a.job, who);
				match a.phase {
					AssignmentPhase::Commit => {
						if !self.plans.contains_key(&key) {
							if self.strategy == Strategy::Grinding &&
								party == Party::Attacker && !self.favourites.contains(&who)
							{
								if VmProof::decline_job(
									RuntimeOrigin::signed(who),
									a.job,
									pallet_vm_proof::DeclineReason::Other,
								)
								.is_ok()
								{
									self.tally.declined += 1;
								}
								continue;
							}
							let plan = self.plan(a.job, who, party, now);
							self.plans.insert(key, plan);
						}
						let plan = self.plans.get_mut(&key).expect("planned");
						if !plan.committed && now >= plan.commit_at {
							let c = VmProof::commitment_of(a.job, a.wave, &plan.reveal, &who);
							if VmProof::commit_result(RuntimeOrigin::signed(who), a.job, c).is_ok()
							{
								plan.committed = true;
							}
						}
					},
					AssignmentPhase::Reveal =>
						if let Some(plan) = self.plans.get_mut(&key) {
							if plan.committed && !plan.revealed {
								let _ = VmProof::reveal_result(
									RuntimeOrigin::signed(who),
									a.job,
									plan.reveal.clone(),
									plan.leaves.clone(),
									None,
								);
								plan.revealed = true;
							}
						},
					_ => {},
				}
			}
		}
	}

	/// What `who` commits for `job`: the honest run, or (self-dealing, every replica its own)
	/// an invented result claiming the longest run, committed at once.
	fn plan(&mut self, job: JobId, who: AccountId, party: Party, now: u64) -> Plan {
		let all_own = party == Party::Attacker &&
			self.strategy == Strategy::SelfDealing &&
			self.attacker_jobs.contains(&job) &&
			pallet_job_queue::Jobs::<Sim>::get(job).is_some_and(|j| {
				j.providers.iter().all(|p| party_of(&self.providers, p) == Party::Attacker)
			});
		let (invented, wall, commit_at) = if all_own {
			(true, RESOURCES.max_seconds as u64 * 1000, now)
		} else {
			(false, RUN_MILLIS + self.rng.below(2_000), now + RUN_BLOCKS)
		};
		let reveal = reveal_for(job, who, invented, wall);
		let leaves = BoundedVec::truncate_from(vec![reveal.result_digest]);
		Plan { commit_at, reveal, leaves, committed: false, revealed: false }
	}

	/// `who`'s VRF keypair.
	fn key_of(&self, who: AccountId) -> sr25519::Pair {
		self.keys.get(&who).cloned().unwrap_or_else(|| pair(who))
	}

	/// Winners of `party` with tickets and an active key claim in the open draw.
	fn claim(&mut self, party: Party) {
		let Some(draw) = CurrentDraw::<Sim>::get() else { return };
		let holders: Vec<(AccountId, u64)> = Tickets::<Sim>::iter_prefix(draw.epoch)
			.filter(|(who, _)| party_of(&self.providers, who) == party)
			.collect();
		for (who, tickets) in holders {
			if !VrfKeys::<Sim>::get(who).is_some_and(|k| k.active_from <= draw.epoch) {
				continue;
			}
			let key = self.key_of(who);
			let out = vrf_output(&key, &draw.seed, draw.epoch, &who);
			let threshold =
				vrf::threshold(u128::from(tickets), draw.total_tickets, draw.expected_winners);
			if !vrf::is_winner(&out, threshold) {
				continue;
			}
			let (sig, _) = vrf::evaluate(&key, &draw.seed, draw.epoch, &who);
			match VrfLottery::claim_ticket(RuntimeOrigin::signed(who), draw.epoch, (&sig).into()) {
				Ok(_) => *self.tally.claims_accepted.entry(party).or_default() += 1,
				Err(_) => *self.tally.claims_refused.entry(party).or_default() += 1,
			}
		}
	}

	fn count_events(&mut self, rotated: bool) {
		let providers = &self.providers;
		let mut minted = (0, 0);
		for e in System::events().into_iter().map(|r| r.event) {
			match e {
				RuntimeEvent::VrfLottery(pallet_vrf_lottery::Event::RewardPaid {
					who,
					amount,
					..
				}) => {
					minted.0 += amount;
					if party_of(providers, &who) == Party::Attacker {
						minted.1 += amount;
					}
				},
				RuntimeEvent::VmProof(pallet_vm_proof::Event::WorkVerified {
					who,
					vm_millis,
					..
				}) => {
					*self.tally.verified_ms.entry(party_of(providers, &who)).or_default() +=
						vm_millis as u128;
				},
				RuntimeEvent::JobQueue(pallet_job_queue::Event::JobCompleted {
					job,
					result_digest,
					payments,
					..
				}) => {
					self.tally.settled += 1;
					if self.attacker_jobs.remove(&job) {
						let invented =
							sp_io::hashing::blake2_256(&(b"sim/result", job, 1u8).encode());
						if result_digest == invented {
							self.tally.invented_accepted += 1;
						}
						for (who, amount) in payments.iter() {
							if party_of(providers, who) == Party::Attacker {
								self.tally.attacker_paid_to_itself += amount;
							} else {
								self.tally.attacker_paid_to_others += amount;
							}
						}
					}
				},
				RuntimeEvent::JobQueue(pallet_job_queue::Event::JobDisputed {
					job,
					payments,
					..
				}) => {
					self.tally.settled += 1;
					if self.attacker_jobs.remove(&job) {
						for (who, amount) in payments.iter() {
							if party_of(providers, who) != Party::Attacker {
								self.tally.attacker_paid_to_others += amount;
							}
						}
					}
				},
				_ => {},
			}
		}
		if rotated {
			// The draw that opened holds the tickets its work epoch's verdicts credited.
			let mut tickets = (0u128, 0u128);
			if let Some(draw) = pallet_vrf_lottery::CurrentDraw::<Sim>::get() {
				for (who, t) in pallet_vrf_lottery::Tickets::<Sim>::iter_prefix(draw.epoch) {
					tickets.0 += u128::from(t);
					if party_of(providers, &who) == Party::Attacker {
						tickets.1 += u128::from(t);
					}
				}
			}
			if let Some(last) = self.tally.sessions.last_mut() {
				last.minted = minted.0;
				last.attacker_minted = minted.1;
				last.tickets = tickets.0;
				last.attacker_tickets = tickets.1;
			}
		}
		let open = |job: &JobId| {
			pallet_job_queue::Jobs::<Sim>::get(job).is_some_and(|j| j.state.is_open())
		};
		if System::block_number() % SESSION_BLOCKS == 1 {
			self.plans.retain(|(job, _), _| open(job));
			self.attacker_jobs.retain(|job| open(job));
		}
	}
}

/// Whether the next block rotates the session.
fn rotates_next() -> bool {
	(System::block_number() + 1) % SESSION_BLOCKS == 0
}

/// The expected winners of a draw, for the benchmark's text.
pub fn expected_winners() -> u32 {
	<Sim as pallet_vrf_lottery::Config>::ExpectedWinners::get()
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A fresh chain with the genesis validators and a small world of `honest` two-slot providers
	/// and a two-account attacker, built the same way each time for the same `seed`.
	fn small_world(seed: u64) -> (sp_io::TestExternalities, World) {
		let balances = INCUMBENTS.iter().map(|w| (*w, 1_000_000)).collect();
		let mut ext = new_chain(balances, INCUMBENTS.to_vec(), SeedMode::EndOfWorkEpoch);
		let world = ext.execute_with(|| World::new(Strategy::None, seed, 6, 4));
		(ext, world)
	}

	#[test]
	fn the_output_without_proof_is_the_evaluated_one() {
		for who in [FIRST_PROVIDER, FIRST_PROVIDER + 7, 42] {
			let key = pair(who);
			let seed = sp_io::hashing::blake2_256(&who.to_le_bytes());
			let (sig, out) = vrf::evaluate(&key, &seed, 9, &who);
			assert_eq!(vrf_output(&key, &seed, 9, &who), out);
			let data = vrf::lottery_transcript(&seed, 9, &who);
			assert_eq!(vrf::verify_output(&key.public(), &data, &sig), Some(out));
		}
	}

	/// Verdicts taken in a rotation block (vm-proof's hooks run after the session rotated, as
	/// in the runtime) credit the draw after the one that just opened: at every block of a
	/// busy run the open draw's tickets sum to its total, and the next draw's match their
	/// credited totals (the lottery's invariants), including blocks that rotated with work
	/// verified in them.
	#[test]
	fn verdicts_in_a_rotation_block_credit_the_next_draw() {
		let (mut ext, mut world) = small_world(5);
		ext.execute_with(|| {
			// The small world's verdicts fall every fourth block, in odd blocks from its first:
			// one empty block first puts some of them on the even rotation blocks.
			next_block();
			let mut verified_at_rotation = 0;
			let until = Epoch::get() + 8;
			while Epoch::get() < until {
				let rotating = rotates_next();
				let opened = pallet_vrf_lottery::CurrentDraw::<Sim>::get().map(|d| d.total_tickets);
				world.step();
				pallet_vrf_lottery::Pallet::<Sim>::do_try_state().expect("lottery invariants");
				if !rotating {
					let now =
						pallet_vrf_lottery::CurrentDraw::<Sim>::get().map(|d| d.total_tickets);
					assert_eq!(opened, now, "an open draw's total never changes");
					continue;
				}
				let credited = System::events().iter().any(|r| {
					matches!(
						&r.event,
						RuntimeEvent::VmProof(pallet_vm_proof::Event::WorkVerified { vm_millis, .. })
							if *vm_millis > 0
					)
				});
				if credited {
					verified_at_rotation += 1;
					let epoch = Epoch::get();
					let next = pallet_vrf_lottery::TicketTotals::<Sim>::get(epoch + 1);
					assert!(
						next.tickets > 0,
						"the rotation block's verdicts went to draw {}",
						epoch + 1
					);
				}
			}
			assert!(verified_at_rotation > 0, "no verdict fell in a rotation block");
		});
	}

	#[test]
	fn a_replayed_session_gives_everyone_the_recorded_tickets() {
		let (mut ext, mut world) = small_world(3);
		ext.execute_with(|| world.run_sessions(5));
		let recorded = world
			.tally
			.sessions
			.iter()
			.rev()
			.find(|s| s.attacker_tickets > 0 && s.tickets > s.attacker_tickets)
			.cloned()
			.expect("a draw with tickets of both parties");
		assert!(!recorded.work.is_empty(), "the draw's work was recorded");

		let (mut ext, mut world) = small_world(3);
		ext.execute_with(|| {
			world.run_seat_sessions(3, &[recorded.work.clone()], &mut Rng(1));
			assert_eq!(world.tally.sessions.len(), 3);
			for replayed in &world.tally.sessions {
				assert_eq!(replayed.tickets, recorded.tickets, "every ticket");
				assert_eq!(replayed.attacker_tickets, recorded.attacker_tickets, "the attacker's");
			}
			// Each replayed draw's tickets went once it closed (the lottery's pruning).
			let open = pallet_vrf_lottery::CurrentDraw::<Sim>::get().map(|d| d.epoch);
			assert!(pallet_vrf_lottery::Tickets::<Sim>::iter_keys().all(|(e, _)| Some(e) >= open));
			pallet_vm_proof::Pallet::<Sim>::do_try_state().expect("vm-proof invariants");
			pallet_vrf_lottery::Pallet::<Sim>::do_try_state().expect("lottery invariants");
		});
	}
}
