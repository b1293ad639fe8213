//! The lottery's seed: randomness nobody knows while the tickets it draws on are earned.
//!
//! A draw opens at the first block of session `w + 1` with tickets from the work verified in
//! session `w` (pallets/vrf-lottery, `open_draw`). If its seed were public during `w`, a party
//! with many keyed accounts could compute which of them win and route its work to those, so
//! that its claims fill the seats (issue 12, scenario 2). BABE's stored randomness does not
//! help on its own: pallet-session calls the lottery (`SessionManager::new_session`) *before*
//! BABE's epoch change in the same block, so at that point `NextRandomness` still holds the
//! randomness made from the VRF outputs of session `w − 1`, public since `w` began, and
//! `Randomness` is older still.
//!
//! What is not yet public when `w` ends is the set of VRF outputs of `w`'s own blocks: BABE
//! collects them in `UnderConstruction` (one per primary or secondary-VRF block, deposited in
//! each block's `on_finalize`) and hashes them into the next `NextRandomness` only in the epoch
//! change that follows the lottery's call. [`LotterySeed`] hashes the same inputs itself, read
//! at the draw's opening: `blake2_256("povm-lottery-seed" ‖ NextRandomness ‖ every output of
//! w)`. Each output is a VRF of its author's key on the epoch's randomness and slot, unknown
//! before the block is made, so the seed depends on every block of the session whose work
//! becomes the tickets, up to the last one.
//!
//! What remains: the author of `w`'s last block sees the seed before anyone else and may
//! withhold its block (losing its reward) to try the seed without its output; each author of
//! `w` has that one bit of choice. This is BABE's own randomness bias, shared by every BABE
//! chain; its cost and bound are in `docs/protocol.md`.

use frame_support::traits::Get;

use crate::Runtime;

/// Domain separator of the lottery's seed.
pub const SEED_DOMAIN: &[u8] = b"povm-lottery-seed";

/// The seed of the draw that opens now: see the module docs.
pub struct LotterySeed;

impl Get<[u8; 32]> for LotterySeed {
	fn get() -> [u8; 32] {
		let last_segment = pallet_babe::SegmentIndex::<Runtime>::get();
		let mut data = alloc::vec::Vec::with_capacity(64);
		data.extend_from_slice(SEED_DOMAIN);
		data.extend_from_slice(&pallet_babe::NextRandomness::<Runtime>::get());
		for segment in 0..=last_segment {
			for output in pallet_babe::UnderConstruction::<Runtime>::get(segment) {
				data.extend_from_slice(&output);
			}
		}
		<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&data).0
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::traits::Get;
	use sp_runtime::BuildStorage;

	fn ext() -> sp_io::TestExternalities {
		frame_system::GenesisConfig::<Runtime>::default()
			.build_storage()
			.expect("system genesis builds")
			.into()
	}

	/// Outputs per `UnderConstruction` segment (pallet-babe's private
	/// `UNDER_CONSTRUCTION_SEGMENT_LENGTH`; `collect` fails if it is wrong).
	const SEGMENT: usize = 256;

	/// Write `outputs` as BABE's collected VRF outputs of the running epoch.
	fn collect(outputs: &[[u8; 32]]) {
		for (i, chunk) in outputs.chunks(SEGMENT).enumerate() {
			pallet_babe::UnderConstruction::<Runtime>::insert(
				i as u32,
				frame_support::BoundedVec::try_from(chunk.to_vec()).expect("a segment's length"),
			);
			pallet_babe::SegmentIndex::<Runtime>::put(i as u32);
		}
	}

	/// Scenario 2 of issue 12: during the work epoch an attacker reads every randomness the
	/// chain has published (`Randomness`, `NextRandomness`) and the outputs collected so far.
	/// The seed the draw opens with must be none of what it could compute then.
	#[test]
	fn the_seed_is_not_known_during_the_epoch_whose_work_it_draws() {
		ext().execute_with(|| {
			let randomness = [1u8; 32];
			let next_randomness = [2u8; 32];
			pallet_babe::Randomness::<Runtime>::put(randomness);
			pallet_babe::NextRandomness::<Runtime>::put(next_randomness);
			let mut outputs: alloc::vec::Vec<[u8; 32]> = (0..9u8).map(|i| [10 + i; 32]).collect();
			collect(&outputs[..8]);
			// What the attacker can compute one block before the epoch ends.
			let before_last_block = LotterySeed::get();

			// The last block of the work epoch adds its author's VRF output.
			collect(&outputs);
			let seed = LotterySeed::get();
			assert_ne!(seed, randomness, "the seed is not BABE's current randomness");
			assert_ne!(seed, next_randomness, "the seed is not BABE's public next randomness");
			assert_ne!(seed, before_last_block, "the last block's output changes the seed");

			// Every output counts, whichever segment holds it.
			outputs[0] = [99u8; 32];
			collect(&outputs);
			assert_ne!(LotterySeed::get(), seed);
		});
	}

	#[test]
	fn the_seed_reads_every_segment() {
		ext().execute_with(|| {
			let per = SEGMENT;
			let mut outputs: alloc::vec::Vec<[u8; 32]> =
				(0..(per + 3)).map(|i| [(i % 251) as u8; 32]).collect();
			collect(&outputs);
			assert_eq!(pallet_babe::SegmentIndex::<Runtime>::get(), 1);
			let seed = LotterySeed::get();
			let last = outputs.len() - 1;
			outputs[last] = [255u8; 32];
			collect(&outputs);
			assert_ne!(LotterySeed::get(), seed, "an output in the second segment counts");
		});
	}

	#[test]
	fn the_lottery_uses_this_seed() {
		ext().execute_with(|| {
			pallet_babe::NextRandomness::<Runtime>::put([3u8; 32]);
			collect(&[[4u8; 32]]);
			assert_eq!(
				<<Runtime as pallet_vrf_lottery::Config>::Seed as Get<[u8; 32]>>::get(),
				LotterySeed::get()
			);
		});
	}
}
