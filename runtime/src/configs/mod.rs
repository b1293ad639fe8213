//! Pallet configurations, one `impl Config` per pallet.
//!
//! The consensus pallets (BABE, GRANDPA, session, authorship, timestamp) live in
//! [`consensus`]; equivocation reports (historical session roots, offences, slashing the
//! offender's provider bond) in [`offences`]; the token and fee pallets in [`monetary`]; the
//! PoVM pallets in [`povm`]; the council and what it acts through in [`governance`].

pub mod consensus;
pub mod governance;
pub mod lottery_seed;
pub mod monetary;
pub mod offences;
pub mod povm;

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, ConstU8},
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
};
use frame_system::limits::{BlockLength, BlockWeights};
use sp_runtime::Perbill;
use sp_version::RuntimeVersion;

use crate::{
	AccountId, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeOrigin, RuntimeTask, VERSION,
};

/// Normal extrinsics may fill 75% of a block; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute per block (BABE's proposal time in a 3 s `fast-runtime` slot, a third
	/// of a 6 s production slot: see `crate::timing`), 5 MiB of proof.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB blocks.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(frame_support::dispatch::DispatchClass::Normal, |m| {
			*m = NORMAL_DISPATCH_RATIO * *m
		})
		.build();
	/// Generic substrate prefix: addresses start with 5.
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = ConstU32<2400>;
	// Measured on the node's ParityDB (`scripts/bench-db-weights.sh`), not Substrate's
	// reference RocksDB figures.
	type DbWeight = crate::weights::paritydb::constants::ParityDbWeight;
	// Substrate's measured weights with this runtime's `DbWeight` (the `()` defaults charge
	// RocksDB's figures whatever `DbWeight` says).
	type SystemWeightInfo = frame_system::weights::SubstrateWeight<Runtime>;
	type ExtensionsWeightInfo = frame_system::SubstrateExtensionsWeight<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<crate::Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_multisig::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = crate::Balances;
	// Deposits follow the storage a multisig operation takes: 88 bytes base, 32 per signatory.
	type DepositBase = monetary::MultisigDepositBase;
	type DepositFactor = monetary::MultisigDepositFactor;
	type MaxSignatories = ConstU32<100>;
	type WeightInfo = pallet_multisig::weights::SubstrateWeight<Runtime>;
	type BlockNumberProvider = crate::System;
}

/// Unsigned extrinsics the runtime submits itself: the BABE and GRANDPA equivocation reports
/// (`report_equivocation_unsigned`), built by the node's offchain transaction pool when it
/// imports an equivocating header or sees an equivocating vote.
impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> frame_system::offchain::CreateBare<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_bare(call: RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

// Keep unused-import lints quiet for items only some configs use.
#[allow(dead_code)]
type _Unused = (ConstU64<0>, ConstU8<0>, BlockNumber, PalletInfo, RuntimeOrigin, RuntimeTask);
