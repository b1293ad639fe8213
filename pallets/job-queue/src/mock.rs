//! Mock runtime for the job queue, with a mock provider registry.

use crate as pallet_job_queue;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks, Randomness},
	weights::Weight,
};
use povm_primitives::{Arch, Drawn, JobId, ProviderRegistry, Resources};
use sp_core::H256;
use sp_runtime::{BuildStorage, DispatchError, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		JobQueue: pallet_job_queue,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
}

/// A provider of the mock registry.
#[derive(Clone, Debug)]
pub struct MockProvider {
	pub who: AccountId,
	/// Not a draw weight since issue 12 (the draw weighs free slots): kept so that tests can
	/// show the draw ignores it.
	#[allow(dead_code)]
	pub reputation: Perbill,
	pub offer: Resources,
	pub arch: Arch,
	pub slots: u32,
	pub used: u32,
	/// Its liveness lapsed and no draw has met it yet: not eligible (not counted by
	/// `drawable_count`), but it weighs in a draw until one meets it, as in the registry's
	/// index; the draw that meets it counts a rejection and drops it.
	pub lapsed: bool,
}

thread_local! {
	pub static PROVIDERS: RefCell<Vec<MockProvider>> = const { RefCell::new(Vec::new()) };
	pub static ASSIGNED: RefCell<Vec<(JobId, Vec<AccountId>)>> = const { RefCell::new(Vec::new()) };
}

/// Change the mock provider `who`, if registered, with `f`.
fn mutate_provider(who: AccountId, f: impl FnOnce(&mut MockProvider)) {
	PROVIDERS.with(|p| {
		if let Some(x) = p.borrow_mut().iter_mut().find(|x| x.who == who) {
			f(x);
		}
	});
}

/// Register a provider with the mock registry.
pub fn add_provider(who: AccountId, reputation: Perbill, offer: Resources, slots: u32) {
	add_provider_on(who, Arch::X86_64, offer, slots);
	mutate_provider(who, |x| x.reputation = reputation);
}

/// Registers a mock provider offering `arch`.
pub fn add_provider_on(who: AccountId, arch: Arch, offer: Resources, slots: u32) {
	PROVIDERS.with(|p| {
		p.borrow_mut().push(MockProvider {
			who,
			reputation: Perbill::zero(),
			offer,
			arch,
			slots,
			used: 0,
			lapsed: false,
		})
	});
}

/// Slots in use of a mock provider.
pub fn used_slots(who: AccountId) -> u32 {
	PROVIDERS.with(|p| p.borrow().iter().find(|x| x.who == who).map(|x| x.used).unwrap_or(0))
}

/// The provider's liveness lapsed: it weighs in draws until one meets it.
pub fn lapse(who: AccountId) {
	mutate_provider(who, |x| x.lapsed = true);
}

/// Every mock provider eligible for `r` on `arch`, in registration order, with its free
/// slots.
pub fn mock_candidates(r: &Resources, arch: Arch) -> Vec<(AccountId, u32)> {
	weighing(r, arch)
		.into_iter()
		.filter(|(_, _, lapsed)| !lapsed)
		.map(|(w, f, _)| (w, f))
		.collect()
}

/// Every mock provider that weighs in a draw for `r` on `arch` (the eligible and the lapsed
/// not met yet), with its free slots and whether it lapsed.
fn weighing(r: &Resources, arch: Arch) -> Vec<(AccountId, u32, bool)> {
	PROVIDERS.with(|p| {
		p.borrow()
			.iter()
			.filter(|x| {
				x.arch == arch &&
					x.offer.millicores >= r.millicores &&
					x.offer.memory_mib >= r.memory_mib &&
					x.used < x.slots
			})
			.map(|x| (x.who, x.slots - x.used, x.lapsed))
			.collect()
	})
}

/// Picks of a mock draw that may meet a lapsed provider, as the registry's `MAX_DRAW_REJECTIONS`.
pub const MOCK_MAX_REJECTIONS: u32 = 2;

/// A provider registry kept in thread-local memory.
pub struct MockRegistry;
impl ProviderRegistry<AccountId, u64> for MockRegistry {
	fn drawable_count(r: &Resources, arch: Arch) -> u32 {
		mock_candidates(r, arch).len() as u32
	}
	/// The weighted draw without an index: one pass over the candidates per pick. A pick that
	/// meets a lapsed provider drops it (it no longer weighs) and counts a rejection, at most
	/// [`MOCK_MAX_REJECTIONS`] per draw.
	fn draw(
		r: &Resources,
		arch: Arch,
		count: u32,
		exclude: &[AccountId],
		random: &mut dyn FnMut(u32) -> u64,
	) -> Drawn<AccountId> {
		let mut candidates: Vec<(AccountId, u32, bool)> =
			weighing(r, arch).into_iter().filter(|(p, _, _)| !exclude.contains(p)).collect();
		let mut out = Drawn::default();
		let mut k = 0u32;
		while (out.providers.len() as u32) < count && !candidates.is_empty() {
			let total: u64 = candidates.iter().map(|(_, w, _)| *w as u64).sum();
			let mut pick = random(k) % total.max(1);
			k += 1;
			let mut idx = candidates.len() - 1;
			for (n, (_, free, _)) in candidates.iter().enumerate() {
				if pick < *free as u64 {
					idx = n;
					break;
				}
				pick -= *free as u64;
			}
			let (who, _, lapsed) = candidates.swap_remove(idx);
			if !lapsed {
				out.providers.push(who);
				continue;
			}
			// Dropped: it no longer weighs in any draw.
			mutate_provider(who, |x| x.slots = x.used);
			out.rejections += 1;
			if out.rejections >= MOCK_MAX_REJECTIONS {
				break;
			}
		}
		out
	}
	fn draw_rejections_weight() -> Weight {
		Self::rejection_weight().saturating_mul(MOCK_MAX_REJECTIONS as u64)
	}
	/// A pick that meets a lapsed provider: 1 ms and 1 KB of proof, so that tests see what it
	/// is charged.
	fn rejection_weight() -> Weight {
		Weight::from_parts(1_000_000_000, 1_024)
	}
	/// The mock has no index: a pick costs the same among any number of candidates.
	fn pick_weight_beyond(_candidates: u32) -> Weight {
		Weight::zero()
	}
	fn on_assigned(
		job: JobId,
		providers: &[AccountId],
		commit_window: u64,
	) -> Result<u64, DispatchError> {
		PROVIDERS.with(|p| {
			for x in p.borrow_mut().iter_mut() {
				if providers.contains(&x.who) {
					x.used += 1;
				}
			}
		});
		ASSIGNED.with(|a| a.borrow_mut().push((job, providers.to_vec())));
		Ok(System::block_number() + commit_window)
	}
	fn is_registered(who: &AccountId) -> bool {
		PROVIDERS.with(|p| p.borrow().iter().any(|x| x.who == *who))
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn bench_register(n: u32, r: &Resources) -> Vec<AccountId> {
		(0..n as u64)
			.map(|i| {
				let who = 10_000 + i;
				add_provider(who, Perbill::from_percent(50), *r, 1_000);
				who
			})
			.collect()
	}
}

/// Deterministic randomness: the hash of the subject.
pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		(H256(sp_io::hashing::blake2_256(subject)), System::block_number())
	}
}

parameter_types! {
	pub const MaxReplicas: u32 = 5;
	/// The runtime's block time: the default 20-block commit window is 120 s.
	pub const MillisecsPerBlock: u64 = 6_000;
	/// The queue's bound: 32 for the tests (a full queue is quick to reach, and the
	/// benchmarks' worst cases fit), raised by the scale benchmark (per thread).
	pub static QueueBound: u32 = 32;
}

impl pallet_job_queue::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = MockRegistry;
	type Randomness = TestRandomness;
	type MillisecsPerBlock = MillisecsPerBlock;
	type MaxRunSeconds = ConstU32<{ 24 * 3600 }>;
	type MaxReplicas = MaxReplicas;
	type MaxAssignees = ConstU32<10>;
	type MaxQueueLen = QueueBound;
	type MaxCandidates = ConstU32<200>;
	type DepositBase = ConstU64<10>;
	type DepositPerByte = ConstU64<1>;
	type WeightInfo = ();
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;

pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { balances: vec![(ALICE, 1_000_000), (BOB, 1_000_000)] }
	}
}

impl ExtBuilder {
	pub fn endow(mut self, who: AccountId, amount: Balance) -> Self {
		self.balances.push((who, amount));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		PROVIDERS.with(|p| p.borrow_mut().clear());
		ASSIGNED.with(|a| a.borrow_mut().clear());
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		// 1 for the older tests, which set up one or two providers; the issue-12 tests raise it.
		crate::GenesisConfig::<Test> { min_eligible_providers: 1, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(t);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Build, run `test`, then check the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			JobQueue::do_try_state().expect("invariants hold");
		})
	}
}

/// Run blocks up to `n`, with the pallet's `on_initialize`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let b = System::block_number() + 1;
		System::set_block_number(b);
		JobQueue::on_initialize(b);
	}
}

pub fn events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::JobQueue(e) = r.event { Some(e) } else { None })
		.collect()
}

/// The queued jobs in the order they would be tried: ready jobs by level (highest first) and
/// place, then the waiting ones (by id).
pub fn queue_order() -> Vec<crate::JobId> {
	use crate::{pallet::*, types::*};
	let mut out = Vec::new();
	let mut levels: Vec<_> = Levels::<Test>::iter().collect();
	levels.sort_by(|a, b| b.0.cmp(&a.0));
	for (level, bounds) in levels.iter() {
		for place in bounds.head..bounds.tail {
			if let Some(id) = LevelEntries::<Test>::get(level, place) {
				out.push(id);
			}
		}
	}
	let mut waiting: Vec<_> = Expiring::<Test>::iter()
		.filter(|(_, _, q)| matches!(q.place, Place::Waiting(_)))
		.map(|(_, id, _)| id)
		.collect();
	waiting.sort();
	out.extend(waiting);
	out
}

/// Queued job `id`'s entry in the queue's index (at its expiry block).
pub(crate) fn queued_entry(id: JobId) -> Option<crate::types::QueuedJob<u64>> {
	use crate::pallet::{Expiring, Jobs};
	Expiring::<Test>::get(Jobs::<Test>::get(id)?.expires_at, id)
}
