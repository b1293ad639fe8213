//! Mock runtime with both PoVM pallets and balances.

use crate as pallet_vm_proof;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks, Randomness},
};
use sp_core::H256;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		JobQueue: pallet_job_queue,
		VmProof: pallet_vm_proof,
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

/// Deterministic randomness: the hash of the subject.
pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		(H256(sp_io::hashing::blake2_256(subject)), System::block_number())
	}
}

parameter_types! {
	pub static Epoch: u32 = 0;
	/// How many of the next `JobLedger::dispute` calls fail (see [`FlakyJobs`]).
	pub static LedgerDisputeFailures: u32 = 0;
	/// How many of the next `JobLedger::dispute` calls that pay someone fail after the job
	/// queue has settled (see [`FlakyJobs`]).
	pub static LedgerPaidDisputeFailures: u32 = 0;
	/// How many of the next `JobLedger::assign_more` calls fail (see [`FlakyJobs`]).
	pub static AssignMoreFailures: u32 = 0;
	/// vm-proof's `MaxProviders`: 32 for the tests; the verification bench
	/// (`verification_bench.rs`) raises it to hold its pool of 100 providers.
	pub static MaxProviders: u32 = 32;
	/// The job queue's `MaxCandidates`: 32 for the tests; the verification bench raises it to
	/// its whole pool, so that every eligible provider is in the draw.
	pub static MaxCandidates: u32 = 32;
	/// Providers whose bond answers for their conduct as validators (see
	/// [`MockValidatorBonds`]).
	pub static SeatedProviders: Vec<AccountId> = Vec::new();
}

/// `ValidatorBonds` over [`SeatedProviders`]; `released` forgets the account.
pub struct MockValidatorBonds;

impl povm_primitives::ValidatorBonds<AccountId> for MockValidatorBonds {
	fn at_stake(who: &AccountId) -> bool {
		SeatedProviders::get().contains(who)
	}
	fn released(who: &AccountId) {
		SeatedProviders::mutate(|s| s.retain(|w| w != who));
	}
}

/// The block time of both pallets (the job queue's and vm-proof's `MillisecsPerBlock`).
pub const MILLISECS_PER_BLOCK: u64 = 20_000;

/// The job queue as vm-proof's `JobLedger`, with injected faults:
/// - while [`LedgerDisputeFailures`] is non-zero, `dispute` fails (and counts down) before
///   touching the job queue;
/// - while [`LedgerPaidDisputeFailures`] is non-zero, a `dispute` with a non-empty payment list
///   runs the job queue's dispute and then fails (and counts down): its changes are left for
///   the caller's storage layer to roll back, as a ledger failing half-way would;
/// - while [`AssignMoreFailures`] is non-zero, `assign_more` fails (and counts down).
///
/// Everything else goes to the real `JobQueue`. This stands for a ledger error the pallet
/// cannot rule out (a currency or state error in the settlement or draw path).
pub struct FlakyJobs;
impl povm_primitives::JobLedger<AccountId, Balance, u64> for FlakyJobs {
	fn job_terms(job: u64) -> Option<povm_primitives::JobTerms<AccountId, Balance>> {
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::job_terms(job)
	}
	fn protocol_params() -> povm_primitives::ProtocolParams<u64> {
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::protocol_params()
	}
	fn set_revealing(job: u64, deadline: u64) -> sp_runtime::DispatchResult {
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::set_revealing(job, deadline)
	}
	fn assign_more(job: u64, count: u32) -> Result<Vec<AccountId>, sp_runtime::DispatchError> {
		let left = AssignMoreFailures::get();
		if left > 0 {
			AssignMoreFailures::set(left - 1);
			return Err(sp_runtime::DispatchError::Other("injected draw failure"));
		}
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::assign_more(job, count)
	}
	fn complete(
		job: u64,
		s: povm_primitives::Settlement<AccountId, Balance>,
	) -> sp_runtime::DispatchResult {
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::complete(job, s)
	}
	fn dispute(
		job: u64,
		first_divergence: Option<u32>,
		payments: Vec<(AccountId, Balance)>,
	) -> sp_runtime::DispatchResult {
		let left = LedgerDisputeFailures::get();
		if left > 0 {
			LedgerDisputeFailures::set(left - 1);
			return Err(sp_runtime::DispatchError::Other("injected ledger failure"));
		}
		let pays = !payments.is_empty();
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::dispute(
			job,
			first_divergence,
			payments,
		)?;
		let left = LedgerPaidDisputeFailures::get();
		if pays && left > 0 {
			LedgerPaidDisputeFailures::set(left - 1);
			return Err(sp_runtime::DispatchError::Other("injected paid dispute failure"));
		}
		Ok(())
	}
	fn unrunnable(job: u64, decliners: Vec<AccountId>) -> sp_runtime::DispatchResult {
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::unrunnable(job, decliners)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn bench_assigned_job(
		owner: AccountId,
		providers: Vec<AccountId>,
	) -> Result<u64, sp_runtime::DispatchError> {
		<JobQueue as povm_primitives::JobLedger<_, _, _>>::bench_assigned_job(owner, providers)
	}
}

impl pallet_job_queue::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = VmProof;
	type Randomness = TestRandomness;
	// The tests' 5-block commit window must fit their 60 s jobs plus the 30 s start margin.
	type MillisecsPerBlock = ConstU64<MILLISECS_PER_BLOCK>;
	// The physical bound, not the runtime's 24 hours: the footprint test runs the largest job
	// a spec can describe.
	type MaxRunSeconds = ConstU32<{ povm_primitives::MAX_JOB_SECONDS }>;
	type MaxReplicas = ConstU32<5>;
	type MaxAssignees = ConstU32<10>;
	type MaxQueueLen = ConstU32<16>;
	type MaxCandidates = MaxCandidates;
	type DepositBase = ConstU64<10>;
	type DepositPerByte = ConstU64<1>;
	type WeightInfo = ();
}

impl pallet_vm_proof::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Jobs = FlakyJobs;
	type Epoch = Epoch;
	type OnSlash = ();
	type MinBond = ConstU64<1_000>;
	type UnbondingDelay = ConstU64<10>;
	type ValidatorBonds = MockValidatorBonds;
	type MaxProviders = MaxProviders;
	type MaxSlots = ConstU32<4>;
	type MaxMembers = ConstU32<10>;
	type MaxCheckpoints = ConstU32<16>;
	type MaxDeadlinesPerBlock = ConstU32<8>;
	type Lottery = MockLottery;
	type FootprintHistory = ConstU32<4>;
	type MillisecsPerBlock = ConstU64<MILLISECS_PER_BLOCK>;
	// Longer than the tests' windows (at most 20 blocks): only their hour-long jobs beat.
	type StallTimeout = ConstU64<30>;
	type WeightInfo = ();
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxDeadlineAttempts = ConstU32<3>;
	type DeadlineRetryDelay = ConstU64<2>;
	type MaxAnchors = ConstU32<32>;
	type TrustThreshold = ConstU32<3>;
	type TrustCap = ConstU32<24>;
}

/// What the verifier credited to the lottery: per (epoch, provider), VM-milliseconds and
/// tickets (a test ledger; the lottery's own is tested in pallet-vrf-lottery).
type Credits = alloc::collections::BTreeMap<(u32, AccountId), (u64, u64)>;

std::thread_local! {
	static CREDITS: core::cell::RefCell<Credits> = const { core::cell::RefCell::new(Credits::new()) };
}

/// The lottery's ticket ledger as the verifier sees it: it records each credit.
pub struct MockLottery;
impl povm_primitives::TicketLedger<AccountId> for MockLottery {
	fn credit(epoch: u32, who: &AccountId, vm_millis: u64, reputation: sp_runtime::Perbill) {
		let tickets = povm_primitives::tickets_for(vm_millis, reputation);
		CREDITS.with(|c| {
			let mut c = c.borrow_mut();
			let entry = c.entry((epoch, *who)).or_default();
			entry.0 = entry.0.saturating_add(vm_millis);
			entry.1 = entry.1.saturating_add(tickets);
		});
	}
}

/// Verified VM-milliseconds credited to the lottery for `who`'s work in `epoch`.
pub fn credited_millis(epoch: u32, who: AccountId) -> u64 {
	CREDITS.with(|c| c.borrow().get(&(epoch, who)).map_or(0, |e| e.0))
}

/// Tickets credited to the lottery for `who`'s work in `epoch`.
pub fn credited_tickets(epoch: u32, who: AccountId) -> u64 {
	CREDITS.with(|c| c.borrow().get(&(epoch, who)).map_or(0, |e| e.1))
}

/// How many providers were credited work in `epoch`.
pub fn credited_providers(epoch: u32) -> usize {
	credited_list(epoch).len()
}

/// The providers credited work in `epoch`, in account order.
pub fn credited_list(epoch: u32) -> Vec<AccountId> {
	CREDITS.with(|c| c.borrow().keys().filter(|(e, _)| *e == epoch).map(|(_, w)| *w).collect())
}

pub const CUSTOMER: AccountId = 1;

pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		let mut balances = vec![(CUSTOMER, 1_000_000), (2, 1_000_000)];
		for p in 10..20 {
			balances.push((p, 100_000));
		}
		Self { balances }
	}
}

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		Epoch::set(0);
		LedgerDisputeFailures::set(0);
		LedgerPaidDisputeFailures::set(0);
		AssignMoreFailures::set(0);
		MaxProviders::set(32);
		MaxCandidates::set(32);
		CREDITS.with(|c| c.borrow_mut().clear());
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		// The job queue's `MinEligibleProviders`: 1 for the older tests, which set up one or two
		// providers; the issue-12 tests raise it.
		pallet_job_queue::GenesisConfig::<Test> { min_eligible_providers: 1, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(t);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Build, run `test`, then check both pallets' invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			VmProof::do_try_state().expect("vm-proof invariants hold");
			JobQueue::do_try_state().expect("job-queue invariants hold");
		})
	}
}

/// The offer every mock provider registers with: 2 cores and 2 GiB per slot, 2 slots, 400 g/kWh,
/// PUE 1.2, 10 W per core, jobs of up to an hour.
pub fn offer() -> crate::VmOffer {
	crate::VmOffer {
		millicores: 2000,
		memory_mib: 2048,
		arch: crate::Arch::X86_64,
		slots: 2,
		grid_intensity: 400,
		pue_permille: 1200,
		core_milliwatts: 10_000,
		max_seconds: 3_600,
	}
}

/// Run blocks up to `n`, with both pallets' `on_initialize`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let b = System::block_number() + 1;
		System::set_block_number(b);
		JobQueue::on_initialize(b);
		VmProof::on_initialize(b);
	}
}

pub fn events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::VmProof(e) = r.event { Some(e) } else { None })
		.collect()
}

pub fn queue_events() -> Vec<pallet_job_queue::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::JobQueue(e) = r.event { Some(e) } else { None })
		.collect()
}
