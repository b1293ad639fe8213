//! Mock runtime: the lottery with balances, a scripted verifier that credits work through the
//! lottery's ticket ledger, and a session driver that calls the `SessionManager` in
//! pallet-session's order.

use crate::{self as pallet_vrf_lottery, vrf, VrfProofBytes};
use alloc::collections::BTreeMap;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Contains, Get},
	weights::Weight,
};
use pallet_session::SessionManager;
use povm_primitives::{TicketLedger, VerifiedWork};
use sp_core::{sr25519, Pair};
use sp_runtime::{BuildStorage, DispatchResult, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		VrfLottery: pallet_vrf_lottery,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
	// Non-zero database weights, so that pruning within a weight can be tested.
	type DbWeight = frame_support::weights::constants::RocksDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
}

thread_local! {
	/// Reputation per provider (default 1/2, as vm-proof gives a newcomer).
	static REPUTATION: RefCell<BTreeMap<AccountId, Perbill>> = const { RefCell::new(BTreeMap::new()) };
	/// The epochs whose work the lottery said it took, in order.
	static TAKEN: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// The epochs whose work the lottery said it took ([`VerifiedWork::work_taken`]), in order.
pub fn taken_epochs() -> Vec<u32> {
	TAKEN.with(|t| t.borrow().clone())
}

parameter_types! {
	/// The session pallet-session would be in.
	pub static Session: u32 = 0;
	/// Mixed into the seed so that each draw has its own.
	pub static SeedNonce: u32 = 0;
	pub static ExpectedWinners: u32 = 2;
	pub static RegisteredProviders: Vec<AccountId> = vec![];
	pub static WithSessionKeys: Vec<AccountId> = vec![];
	pub static MaxWinners: u32 = 8;
	pub static MaxValidators: u32 = 4;
	pub static MaxSeatChanges: u32 = 1;
	/// The validators now seated (pallet-session's `Validators`): what `new_session` returned
	/// one rotation earlier, or what a test sets.
	pub static Incumbents: Vec<AccountId> = vec![];
	/// The set `new_session` returned at the last rotation, seated at the next one.
	pub static Queued: Option<Vec<AccountId>> = None;
}

/// The incumbents: [`Incumbents`].
pub struct MockCurrentValidators;
impl Get<Vec<AccountId>> for MockCurrentValidators {
	fn get() -> Vec<AccountId> {
		Incumbents::get()
	}
}

/// The verifier as scripted by the test: it only records which epochs the lottery took.
pub struct MockWork;
impl VerifiedWork<AccountId> for MockWork {
	fn work_taken(epoch: u32) -> Weight {
		TAKEN.with(|t| t.borrow_mut().push(epoch));
		Weight::zero()
	}
}

/// `who`'s reputation as the scripted verifier sees it (default 1/2, as vm-proof gives a
/// newcomer).
pub fn reputation(who: AccountId) -> Perbill {
	REPUTATION.with(|r| {
		r.borrow()
			.get(&who)
			.copied()
			.unwrap_or_else(|| Perbill::from_rational(1u32, 2u32))
	})
}

/// Registered providers.
pub struct MockProviders;
impl Contains<AccountId> for MockProviders {
	fn contains(who: &AccountId) -> bool {
		RegisteredProviders::get().contains(who)
	}
}

/// Accounts with session keys.
pub struct MockValidatorKeys;
impl Contains<AccountId> for MockValidatorKeys {
	fn contains(who: &AccountId) -> bool {
		WithSessionKeys::get().contains(who)
	}
}

/// A deterministic seed per draw: `blake2_256("seed" ‖ nonce)`.
pub struct MockSeed;
impl Get<[u8; 32]> for MockSeed {
	fn get() -> [u8; 32] {
		let mut data = b"seed".to_vec();
		data.extend_from_slice(&SeedNonce::get().to_le_bytes());
		sp_io::hashing::blake2_256(&data)
	}
}

impl pallet_vrf_lottery::Config for Test {
	type Currency = Balances;
	type Work = MockWork;
	type Providers = MockProviders;
	type ValidatorKeys = MockValidatorKeys;
	type Seed = MockSeed;
	type ExpectedWinners = ExpectedWinners;
	type EpochIssuance = ConstU64<1_000>;
	type KeyActivationDelay = ConstU32<2>;
	type MaxWinners = MaxWinners;
	type MaxValidators = MaxValidators;
	type MaxSeatChanges = MaxSeatChanges;
	type CurrentValidators = MockCurrentValidators;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// Session keys and incumbents for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn set_session_keys(who: &AccountId) {
		let mut keyed = WithSessionKeys::get();
		keyed.push(*who);
		WithSessionKeys::set(keyed);
	}
	fn set_current_validators(validators: Vec<AccountId>) {
		Incumbents::set(validators);
	}
}

/// Provider accounts funded at genesis.
pub const PROVIDERS: core::ops::Range<AccountId> = 10..22;

pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { balances: PROVIDERS.map(|p| (p, 100)).collect() }
	}
}

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		Session::set(0);
		SeedNonce::set(0);
		ExpectedWinners::set(2);
		RegisteredProviders::set(PROVIDERS.collect());
		WithSessionKeys::set(vec![]);
		MaxWinners::set(8);
		MaxValidators::set(4);
		MaxSeatChanges::set(1);
		Incumbents::set(vec![]);
		Queued::set(None);
		REPUTATION.with(|r| r.borrow_mut().clear());
		TAKEN.with(|t| t.borrow_mut().clear());
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		crate::GenesisConfig::<Test> { min_validators: 2, ..Default::default() }
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
			VrfLottery::do_try_state().expect("vrf-lottery invariants hold");
		})
	}
}

/// Credit `secs` verified VM-seconds of `who` in `epoch`.
pub fn set_work(epoch: u32, who: AccountId, secs: u64) {
	set_work_millis(epoch, who, secs.saturating_mul(1000));
}

/// `millis` VM-milliseconds of `who`'s work in `epoch` were verified: credit them, at `who`'s
/// reputation now, as the verifier does after a verdict.
pub fn set_work_millis(epoch: u32, who: AccountId, millis: u64) {
	<VrfLottery as TicketLedger<AccountId>>::credit(epoch, &who, millis, reputation(who));
}

/// Set `who`'s reputation.
pub fn set_reputation(who: AccountId, r: Perbill) {
	REPUTATION.with(|m| m.borrow_mut().insert(who, r));
}

/// Record `secs` of work for `who` in the session now running (tickets of the next draw).
pub fn work_now(who: AccountId, secs: u64) {
	set_work(Session::get(), who, secs);
}

/// Rotate the session as pallet-session does (`end_session(i)`, `start_session(i + 1)`,
/// `new_session(i + 2)`) in a new block, with a fresh seed. The set the previous rotation
/// planned (if any) is seated first (it becomes the [`Incumbents`]), as pallet-session seats the
/// queued set before it asks for the next. Returns what `new_session` returned.
pub fn rotate() -> Option<Vec<AccountId>> {
	let i = Session::get();
	System::set_block_number(System::block_number() + 1);
	SeedNonce::set(SeedNonce::get() + 1);
	<VrfLottery as SessionManager<AccountId>>::end_session(i);
	if let Some(queued) = Queued::take() {
		Incumbents::set(queued);
	}
	<VrfLottery as SessionManager<AccountId>>::start_session(i + 1);
	Session::set(i + 1);
	let planned = <VrfLottery as SessionManager<AccountId>>::new_session(i + 2);
	Queued::set(planned.clone());
	planned
}

/// The VRF keypair of a test account.
pub fn pair(who: AccountId) -> sr25519::Pair {
	let mut seed = [0u8; 32];
	seed[..8].copy_from_slice(&who.to_le_bytes());
	seed[31] = 0x42;
	sr25519::Pair::from_seed(&seed)
}

/// Register `who`'s VRF key.
pub fn register_key(who: AccountId) {
	frame_support::assert_ok!(VrfLottery::register_vrf_key(
		RuntimeOrigin::signed(who),
		pair(who).public()
	));
}

/// `who`'s VRF evaluation in the open draw: (signature bytes, output).
pub fn evaluate(who: AccountId) -> (VrfProofBytes, [u8; 32]) {
	let draw = crate::CurrentDraw::<Test>::get().expect("a draw is open");
	let (sig, out) = vrf::evaluate(&pair(who), &draw.seed, draw.epoch, &who);
	((&sig).into(), out)
}

/// Whether `who` wins the open draw (worker-side check).
pub fn wins(who: AccountId) -> bool {
	let (_, out) = evaluate(who);
	vrf::is_winner(&out, VrfLottery::provider_view(&who).threshold)
}

/// `who` claims in the open draw.
pub fn claim(who: AccountId) -> DispatchResult {
	let epoch = crate::CurrentDraw::<Test>::get().map(|d| d.epoch).unwrap_or(0);
	let (sig, _) = evaluate(who);
	VrfLottery::claim_ticket(RuntimeOrigin::signed(who), epoch, sig)
		.map(|_| ())
		.map_err(|e| e.error)
}

pub fn events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::VrfLottery(e) = r.event { Some(e) } else { None })
		.collect()
}
