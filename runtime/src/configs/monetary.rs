//! The native token, transaction fees and where fees go.

use frame_support::{
	parameter_types,
	traits::{
		fungible::{Balanced, Credit},
		ConstU128, ConstU32, OnUnbalanced,
	},
	weights::IdentityFee,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::traits::One;

use crate::{
	AccountId, Authorship, Balance, Balances, Runtime, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, EXISTENTIAL_DEPOSIT, MILLI_UNIT,
};

/// A deposit for `items` storage items taking `bytes` bytes.
pub const fn deposit(items: u32, bytes: u32) -> Balance {
	items as Balance * 20 * MILLI_UNIT + (bytes as Balance) * 100 * crate::MICRO_UNIT
}

parameter_types! {
	pub const MultisigDepositBase: Balance = deposit(1, 88);
	pub const MultisigDepositFactor: Balance = deposit(0, 32);
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = crate::System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = ConstU32<8>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

/// Gives transaction fees and tips to the author of the block that includes them.
///
/// When no author is known (never in a BABE block), the credit is dropped, which burns it.
pub struct ToBlockAuthor;

impl OnUnbalanced<Credit<AccountId, Balances>> for ToBlockAuthor {
	fn on_nonzero_unbalanced(amount: Credit<AccountId, Balances>) {
		if let Some(author) = Authorship::author() {
			// A failed resolve (the author account cannot take it) burns the credit.
			let _ = <Balances as Balanced<AccountId>>::resolve(&author, amount);
		}
	}
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ToBlockAuthor>;
	type OperationalFeeMultiplier = frame_support::traits::ConstU8<5>;
	// One unit of balance per unit of ref-time: 1 µs of execution costs 1e6 plancks.
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}
