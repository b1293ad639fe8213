//! The native token, transaction fees and where fees go.

use frame_support::{
	parameter_types,
	traits::{
		fungible::{Balanced, Credit},
		ConstU128, ConstU32, OnUnbalanced,
	},
	weights::IdentityFee,
};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{
	traits::{Bounded, One},
	FixedPointNumber, Perquintill,
};

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
	/// The block fullness (of the normal class) above which fees rise: a quarter, as Polkadot.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the multiplier follows the load: Polkadot's 0.000075. A full block raises it by
	/// about 0.0056 % (0.75 × 0.000075): a day of full 6-second blocks about ×2.25.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	/// Fees never fall below the weight's own price: an idle chain charges what it always did.
	pub MinimumMultiplier: Multiplier = Multiplier::one();
	/// No ceiling: a congested chain prices congestion however long it lasts.
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

/// The fee multiplier's update after each block: it rises while blocks are fuller than
/// [`TargetBlockFullness`] and falls back (never below 1) while they are emptier (Polkadot's
/// slow-adjusting rule).
pub type SlowAdjustingFeeUpdate<R> = TargetedFeeAdjustment<
	R,
	TargetBlockFullness,
	AdjustmentVariable,
	MinimumMultiplier,
	MaximumMultiplier,
>;

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
	type FeeMultiplierUpdate = SlowAdjustingFeeUpdate<Self>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::{dispatch::DispatchClass, weights::Weight};
	use sp_runtime::{
		traits::{Convert, Saturating},
		BuildStorage,
	};

	/// Runs `f` in a block whose normal class used `used`.
	fn in_block_using(used: Weight, f: impl FnOnce()) {
		let storage = frame_system::GenesisConfig::<Runtime>::default().build_storage().unwrap();
		sp_io::TestExternalities::new(storage).execute_with(|| {
			crate::System::set_block_consumed_resources(Weight::zero(), 0);
			crate::System::register_extra_weight_unchecked(used, DispatchClass::Normal);
			f()
		});
	}

	fn max_normal() -> Weight {
		let weights = <Runtime as frame_system::Config>::BlockWeights::get();
		weights.get(DispatchClass::Normal).max_total.unwrap_or(weights.max_block)
	}

	#[test]
	fn fees_rise_while_blocks_are_full_and_fall_back_to_one_when_they_are_not() {
		let mut multiplier = Multiplier::one();
		// A congested chain: 100 full blocks in a row.
		in_block_using(max_normal(), || {
			for _ in 0..100 {
				let next = SlowAdjustingFeeUpdate::<Runtime>::convert(multiplier);
				assert!(
					next > multiplier,
					"full blocks raise the fee: {next:?} after {multiplier:?}"
				);
				multiplier = next;
			}
		});
		let congested = multiplier;
		// At the target fullness the multiplier holds.
		in_block_using(max_normal() / 4, || {
			let next = SlowAdjustingFeeUpdate::<Runtime>::convert(congested);
			assert!(
				next >= congested
					.saturating_sub(Multiplier::saturating_from_rational(1, 1_000_000))
			);
		});
		// Empty blocks bring it down, never below one.
		in_block_using(Weight::zero(), || {
			for _ in 0..100_000 {
				multiplier = SlowAdjustingFeeUpdate::<Runtime>::convert(multiplier);
			}
		});
		assert!(multiplier < congested);
		assert_eq!(multiplier, Multiplier::one(), "an idle chain charges the weight's own price");
	}
}
