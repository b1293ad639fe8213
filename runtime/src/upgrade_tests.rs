//! The upgrade from the baseline runtime (spec 102, `runtime/upgrades/spec-102`) on real chain
//! state, under `try-runtime`.
//!
//! `upgrades/spec-102/state.json` is the state of `zombienet/tests/runtime_upgrade.rs`'s
//! network at its upgrade block, read over RPC from the running node: providers, jobs queued,
//! assigned and revealing, the lottery's draw. These tests run
//! [`Executive::try_runtime_upgrade`] on it, as `try-runtime on-runtime-upgrade` does: every
//! migration's pre- and post-checks, every storage item decoded in this runtime's layout, and
//! every pallet's `try_state`; then the migrations a second time, which must change nothing
//! (the CLI's idempotency check).

use super::*;
use frame_support::traits::{GetStorageVersion, StorageVersion};
use frame_try_runtime::UpgradeCheckSelect;

/// The baseline's `spec_version`.
const BASELINE_SPEC: u32 = 102;

/// The state at the upgrade block of the network test (without `:code`).
fn baseline_state() -> sp_io::TestExternalities {
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/upgrades/spec-102/state.json");
	let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
	let json: serde_json::Value = serde_json::from_str(&text).expect("state.json is JSON");
	let top = json["top"].as_object().expect("state.json has a `top` object");
	let mut ext = sp_io::TestExternalities::new_empty();
	for (key, value) in top {
		let value = value.as_str().expect("values are 0x-hex strings");
		ext.insert(
			sp_core::bytes::from_hex(key).expect("a 0x-hex key"),
			sp_core::bytes::from_hex(value).expect("a 0x-hex value"),
		);
	}
	ext
}

/// Jobs whose round is open, and how many of their members have committed.
fn open_rounds() -> (usize, usize) {
	pallet_vm_proof::Rounds::<Runtime>::iter().fold((0, 0), |(rounds, committed), (_, round)| {
		let members = round.members.iter().filter(|m| m.commitment.is_some()).count();
		(rounds + 1, committed + members)
	})
}

#[test]
fn the_baseline_state_is_a_spec_102_chain_with_jobs_in_flight() {
	baseline_state().execute_with(|| {
		let last = frame_system::LastRuntimeUpgrade::<Runtime>::get().expect("recorded");
		assert_eq!(last.spec_version.0, BASELINE_SPEC);
		assert_eq!(VmProof::on_chain_storage_version(), StorageVersion::new(3));
		assert_eq!(VrfLottery::on_chain_storage_version(), StorageVersion::new(1));
		let (rounds, committed) = open_rounds();
		assert!(rounds > 0, "no open round: the state shows no job in flight");
		assert!(committed > 0, "no commitment in an open round");
		assert!(pallet_vm_proof::Providers::<Runtime>::iter().count() >= 3);
	});
}

#[test]
fn the_upgrade_from_spec_102_passes_every_check_and_fits_a_block() {
	baseline_state().execute_with(|| {
		let (rounds, committed) = open_rounds();
		let weight = Executive::try_runtime_upgrade(UpgradeCheckSelect::All)
			.unwrap_or_else(|e| panic!("the upgrade from spec {BASELINE_SPEC} fails: {e:?}"));
		// Every pallet's storage version is now the one its code declares.
		assert_eq!(VmProof::on_chain_storage_version(), VmProof::in_code_storage_version());
		assert_eq!(VrfLottery::on_chain_storage_version(), VrfLottery::in_code_storage_version());
		assert_eq!(JobQueue::on_chain_storage_version(), JobQueue::in_code_storage_version());
		// The pallets spec 102 did not have start at their code's version.
		assert_eq!(Council::on_chain_storage_version(), Council::in_code_storage_version());
		assert_eq!(Preimage::on_chain_storage_version(), Preimage::in_code_storage_version());
		// Every open round is still there, and every member of one holds its slot.
		assert_eq!(open_rounds(), (rounds, committed));
		for (job, round) in pallet_vm_proof::Rounds::<Runtime>::iter() {
			for member in &round.members {
				assert!(
					pallet_vm_proof::SlotHolds::<Runtime>::contains_key(job, &member.who),
					"job {job}: a member without its slot hold"
				);
			}
		}
		let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
		assert!(weight.all_lte(max), "the migrations weigh {weight} > a block's {max}");
		let last = frame_system::LastRuntimeUpgrade::<Runtime>::get().expect("recorded");
		assert_eq!(last.spec_version.0, VERSION.spec_version);
		// Run again, the migrations change nothing: each is gated by its storage version.
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		Executive::try_runtime_upgrade(UpgradeCheckSelect::None)
			.unwrap_or_else(|e| panic!("the second run fails: {e:?}"));
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root);
	});
}
