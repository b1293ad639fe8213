//! The mock runtime: balances, the job queue, vm-proof and the lottery, configured like
//! `runtime/src/configs/povm.rs` where it matters to who earns what, with a block and session
//! driver.
//!
//! What the driver does per block, in the runtime's order:
//! 1. the block's author VRF output (a pseudo-random 32 bytes here) is collected, as BABE
//!    collects it into `UnderConstruction`;
//! 2. at a session boundary, pallet-session's rotation: the queued validator set becomes the
//!    current one, the lottery's `SessionManager` runs (`end_session`, `start_session`,
//!    `new_session`), then BABE's epoch change folds the collected outputs into the public
//!    randomness;
//! 3. the job queue's and vm-proof's `on_initialize`.
//!
//! The lottery's seed is read in step 2, like the runtime's (`configs::lottery_seed`):
//! [`SeedMode::EndOfWorkEpoch`] hashes the outputs of the session that just ended;
//! [`SeedMode::PublicDuringWorkEpoch`] is the seed main used before issue 12 (BABE's
//! `NextRandomness`, public during the very session whose work becomes the tickets), kept to
//! show what grinding gains against it.

use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Contains, Get, Hooks, Randomness},
};
use pallet_session::SessionManager;
use sp_core::H256;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Sim>;
/// Accounts are numbers.
pub type AccountId = u64;
/// Balances are `u128`: issuance over thousands of sessions adds up.
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Sim {
		System: frame_system,
		Balances: pallet_balances,
		JobQueue: pallet_job_queue,
		VmProof: pallet_vm_proof,
		VrfLottery: pallet_vrf_lottery,
	}
);

parameter_types! {
	/// Blocks of 1,000 s of compute: the simulation measures who earns what, not throughput,
	/// so the hooks' weight meters never hold work back (with the runtime's two seconds, the
	/// draw over every provider that each deadline may run limits a block to a few deadlines).
	pub SimBlockWeights: frame_system::limits::BlockWeights =
		frame_system::limits::BlockWeights::simple_max(frame_support::weights::Weight::from_parts(
			1_000 * frame_support::weights::constants::WEIGHT_REF_TIME_PER_SECOND,
			u64::MAX,
		));
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Sim {
	type Block = Block;
	type BlockWeights = SimBlockWeights;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Sim {
	type AccountStore = System;
	type Balance = Balance;
}

/// Blocks per session (`fast-runtime`'s 10).
pub const SESSION_BLOCKS: u64 = 10;
/// Milliseconds per block (production's 6 s).
pub const MILLIS_PER_BLOCK: u64 = 6_000;

/// Where the lottery's seed comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SeedMode {
	/// The runtime's seed: the author outputs of the session whose work the draw counts,
	/// read as it ends (`runtime/src/configs/lottery_seed.rs`).
	EndOfWorkEpoch,
	/// Main's seed before issue 12: the public randomness, known during the work session.
	PublicDuringWorkEpoch,
}

thread_local! {
	static ENTROPY: RefCell<Entropy> = RefCell::new(Entropy::default());
}

/// The mock's BABE randomness.
#[derive(Default)]
struct Entropy {
	/// Public randomness (BABE's `NextRandomness` during a session).
	public: [u8; 32],
	/// Author outputs collected in the running session.
	collected: Vec<[u8; 32]>,
	/// Counter for the author outputs.
	nonce: u64,
	/// Which seed the lottery reads.
	mode: Option<SeedMode>,
}

parameter_types! {
	/// vm-proof's epoch: the session index.
	pub static Epoch: u32 = 0;
	/// The current validator set (pallet-session's `Validators`).
	pub static Validators: Vec<AccountId> = vec![];
	/// The set planned at the last rotation, seated at the next (pallet-session's queue).
	pub static Queued: Option<Vec<AccountId>> = None;
	/// Accounts with session keys.
	pub static SessionKeys: Vec<AccountId> = vec![];
}

/// The randomness any on-chain observer can read right now (BABE's public randomness).
pub fn public_randomness() -> [u8; 32] {
	ENTROPY.with(|e| e.borrow().public)
}

/// The lottery's seed, per [`SeedMode`].
pub struct SimSeed;
impl Get<[u8; 32]> for SimSeed {
	fn get() -> [u8; 32] {
		ENTROPY.with(|e| {
			let e = e.borrow();
			match e.mode.unwrap_or(SeedMode::EndOfWorkEpoch) {
				SeedMode::PublicDuringWorkEpoch => e.public,
				SeedMode::EndOfWorkEpoch => {
					let mut data = b"povm-lottery-seed".to_vec();
					data.extend_from_slice(&e.public);
					for o in &e.collected {
						data.extend_from_slice(o);
					}
					sp_io::hashing::blake2_256(&data)
				},
			}
		})
	}
}

/// Assignment randomness: BABE's from one epoch ago stands for a hash of the subject.
pub struct SimRandomness;
impl Randomness<H256, u64> for SimRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let mut data = subject.to_vec();
		data.extend_from_slice(&public_randomness());
		(H256(sp_io::hashing::blake2_256(&data)), System::block_number())
	}
}

/// Registered providers may register VRF keys.
pub struct RegisteredProviders;
impl Contains<AccountId> for RegisteredProviders {
	fn contains(who: &AccountId) -> bool {
		<VmProof as povm_primitives::ProviderRegistry<_, _>>::is_registered(who)
	}
}

/// Accounts with session keys qualify for a seat.
pub struct HasSessionKeys;
impl Contains<AccountId> for HasSessionKeys {
	fn contains(who: &AccountId) -> bool {
		SessionKeys::get().contains(who)
	}
}

impl pallet_job_queue::Config for Sim {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = VmProof;
	type Randomness = SimRandomness;
	type MillisecsPerBlock = ConstU64<MILLIS_PER_BLOCK>;
	type MaxRunSeconds = ConstU32<{ 24 * 3600 }>;
	type MaxReplicas = ConstU32<8>;
	type MaxAssignees = ConstU32<16>;
	type MaxQueueLen = ConstU32<1_000>;
	type MaxCandidates = ConstU32<1_000>;
	type DepositBase = ConstU128<1_000>;
	type DepositPerByte = ConstU128<10>;
	type WeightInfo = ();
}

/// `ConstU128`, for balances.
pub type ConstU128<const N: u128> = frame_support::traits::ConstU128<N>;

impl pallet_vm_proof::Config for Sim {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Jobs = JobQueue;
	type Epoch = Epoch;
	type MillisecsPerBlock = ConstU64<MILLIS_PER_BLOCK>;
	type StallTimeout = ConstU64<100>;
	type OnSlash = ();
	type MinBond = ConstU128<100_000>;
	type UnbondingDelay = ConstU64<20>;
	type ValidatorBonds = ();
	type MaxProviders = ConstU32<1_000>;
	type MaxSlots = ConstU32<64>;
	type MaxMembers = ConstU32<16>;
	type MaxCheckpoints = ConstU32<16>;
	type MaxDeadlinesPerBlock = ConstU32<256>;
	type Lottery = VrfLottery;
	type FootprintHistory = ConstU32<8_760>;
	type WeightInfo = ();
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxDeadlineAttempts = ConstU32<5>;
	type DeadlineRetryDelay = ConstU64<10>;
	type MaxAnchors = ConstU32<100>;
	type TrustThreshold = ConstU32<3>;
	type TrustCap = ConstU32<24>;
}

/// Issuance per draw.
pub const EPOCH_ISSUANCE: Balance = 1_000_000;

impl pallet_vrf_lottery::Config for Sim {
	type Currency = Balances;
	type Work = VmProof;
	type Providers = RegisteredProviders;
	type ValidatorKeys = HasSessionKeys;
	type Seed = SimSeed;
	type ExpectedWinners = ConstU32<16>;
	type EpochIssuance = ConstU128<EPOCH_ISSUANCE>;
	type KeyActivationDelay = ConstU32<2>;
	type MaxWinners = ConstU32<64>;
	type MaxValidators = ConstU32<100>;
	type MaxSeatChanges = ConstU32<1>;
	type CurrentValidators = Validators;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = SimBenchmarkHelper;
}

/// Session keys and validators for the lottery's benchmarks, as the runtime's helper does.
#[cfg(feature = "runtime-benchmarks")]
pub struct SimBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_vrf_lottery::BenchmarkHelper<AccountId> for SimBenchmarkHelper {
	fn set_session_keys(who: &AccountId) {
		set_session_keys(*who);
	}
	fn set_current_validators(validators: Vec<AccountId>) {
		Validators::set(validators);
	}
}

/// A fresh chain: `balances` funded, `validators` seated (with session keys), the seed in
/// `mode`, at block 1 of session 0.
pub fn new_chain(
	balances: Vec<(AccountId, Balance)>,
	validators: Vec<AccountId>,
	mode: SeedMode,
) -> sp_io::TestExternalities {
	Epoch::set(0);
	Validators::set(validators.clone());
	Queued::set(None);
	SessionKeys::set(validators);
	ENTROPY.with(|e| {
		*e.borrow_mut() = Entropy { mode: Some(mode), ..Default::default() };
	});
	let mut t = frame_system::GenesisConfig::<Sim>::default().build_storage().expect("genesis");
	pallet_balances::GenesisConfig::<Sim> { balances, ..Default::default() }
		.assimilate_storage(&mut t)
		.expect("balances genesis");
	// The production values (`DEFAULT_MIN_ELIGIBLE_PROVIDERS`, `DEFAULT_MIN_VALIDATORS`): 3 and 4.
	pallet_job_queue::GenesisConfig::<Sim>::default()
		.assimilate_storage(&mut t)
		.expect("job-queue genesis");
	pallet_vrf_lottery::GenesisConfig::<Sim>::default()
		.assimilate_storage(&mut t)
		.expect("lottery genesis");
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// One provider's tickets in a draw, as verdicts credited them to the lottery's ledger
/// (`pallet_vrf_lottery::Tickets`): reputation-weighted verified VM-milliseconds of the epoch
/// before the draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkEntry {
	/// The provider.
	pub who: AccountId,
	/// Its tickets.
	pub tickets: u64,
}

/// The tickets credited for the work of one epoch, in account order.
pub type EpochWork = Vec<WorkEntry>;

/// The tickets credited so far for the work of `epoch` (to draw `epoch + 1`). Read it right
/// before the rotation that opens the draw, and it is what that draw holds.
pub fn snapshot_work(epoch: u32) -> EpochWork {
	let mut work: EpochWork = pallet_vrf_lottery::Tickets::<Sim>::iter_prefix(epoch + 1)
		.map(|(who, tickets)| WorkEntry { who, tickets })
		.collect();
	work.sort_by_key(|e| e.who);
	work
}

/// Make `work` the tickets credited for the work of `epoch`, as if its jobs had been judged:
/// whatever was credited to draw `epoch + 1` is replaced, through the lottery's ledger.
/// Providers that are not registered here are skipped: vm-proof credits work only to
/// registered providers.
pub fn replay_work(epoch: u32, work: &[WorkEntry]) {
	use povm_primitives::TicketLedger;
	let _ = pallet_vrf_lottery::Tickets::<Sim>::clear_prefix(epoch + 1, u32::MAX, None);
	pallet_vrf_lottery::TicketTotals::<Sim>::remove(epoch + 1);
	for entry in work {
		if !pallet_vm_proof::Providers::<Sim>::contains_key(entry.who) {
			continue;
		}
		// At reputation 1 the credited tickets are the milliseconds given.
		<VrfLottery as TicketLedger<AccountId>>::credit(
			epoch,
			&entry.who,
			entry.tickets,
			sp_runtime::Perbill::one(),
		);
	}
}

/// Give `who` session keys.
pub fn set_session_keys(who: AccountId) {
	let mut keys = SessionKeys::get();
	if !keys.contains(&who) {
		keys.push(who);
		SessionKeys::set(keys);
	}
}

/// Produce the next block: collect its author output, rotate the session at a boundary, run
/// the hooks. Returns the validators `new_session` planned, when a rotation happened.
pub fn next_block() -> Option<Option<Vec<AccountId>>> {
	let n = System::block_number() + 1;
	System::reset_events();
	System::set_block_number(n);
	let planned = if n % SESSION_BLOCKS == 0 { Some(rotate()) } else { None };
	JobQueue::on_initialize(n);
	VmProof::on_initialize(n);
	// The author's VRF output of this block is collected at its end (BABE's `on_finalize`).
	ENTROPY.with(|e| {
		let mut e = e.borrow_mut();
		e.nonce += 1;
		let out = sp_io::hashing::blake2_256(&(b"author-vrf", n, e.nonce).encode_to_vec());
		e.collected.push(out);
	});
	planned
}

/// pallet-session's rotation, then BABE's epoch change.
fn rotate() -> Option<Vec<AccountId>> {
	let i = Epoch::get();
	if let Some(next) = Queued::take() {
		Validators::set(next);
	}
	<VrfLottery as SessionManager<AccountId>>::end_session(i);
	<VrfLottery as SessionManager<AccountId>>::start_session(i + 1);
	Epoch::set(i + 1);
	let planned = <VrfLottery as SessionManager<AccountId>>::new_session(i + 2);
	Queued::set(Some(planned.clone().unwrap_or_else(Validators::get)));
	ENTROPY.with(|e| {
		let mut e = e.borrow_mut();
		let mut data = e.public.to_vec();
		for o in &e.collected {
			data.extend_from_slice(o);
		}
		e.public = sp_io::hashing::blake2_256(&data);
		e.collected.clear();
	});
	planned
}

/// SCALE-encode helper for tuples.
trait EncodeToVec {
	fn encode_to_vec(&self) -> Vec<u8>;
}
impl<T: codec::Encode> EncodeToVec for T {
	fn encode_to_vec(&self) -> Vec<u8> {
		self.encode()
	}
}
