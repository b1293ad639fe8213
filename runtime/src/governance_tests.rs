//! Governance without a sudo key: the `staging` preset's genesis, and council motions acting as
//! root through the whitelist ([`crate::configs::governance`]), on the runtime itself.

use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::GetDispatchInfo,
	traits::{Get, Hooks},
};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	traits::{BlakeTwo256, Hash},
	BuildStorage, DispatchError,
};

use crate::{
	genesis_config_presets::{get_preset, STAGING_RUNTIME_PRESET},
	AccountId, Council, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig, RuntimeOrigin,
	Sudo, System,
};

/// Merges `patch` into `target` as the node does with a preset (objects key by key).
fn merge(target: &mut Value, patch: Value) {
	match (target, patch) {
		(Value::Object(target), Value::Object(patch)) =>
			for (key, value) in patch {
				merge(target.entry(key).or_insert(Value::Null), value);
			},
		(target, patch) => *target = patch,
	}
}

/// The state a chain of preset `id` starts with, at block 1.
fn preset_ext(id: &str) -> sp_io::TestExternalities {
	let patch = get_preset(&id.into()).expect("a known preset");
	let patch: Value = serde_json::from_slice(&patch).expect("the preset is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig = serde_json::from_value(config).expect("a genesis config");
	let mut ext: sp_io::TestExternalities = config.build_storage().expect("builds").into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn members() -> Vec<AccountId> {
	pallet_collective::Members::<Runtime, crate::configs::governance::CouncilInstance>::get()
}

/// The council motion that runs `call` as root: whitelist its hash and dispatch it, in one
/// batch.
fn as_root(call: RuntimeCall) -> RuntimeCall {
	let hash = BlakeTwo256::hash_of(&call);
	RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: vec![
			RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call { call_hash: hash }),
			RuntimeCall::Whitelist(
				pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
					call: Box::new(call),
				},
			),
		],
	})
}

/// `proposer` proposes `motion` with `threshold` ayes needed, it and `voters` vote aye (a
/// proposal is not a vote), and the motion is closed; returns the result of its dispatch (`Executed`), or `None` if it did not pass.
fn pass(
	proposer: &AccountId,
	voters: &[AccountId],
	threshold: u32,
	motion: RuntimeCall,
) -> Option<Result<(), DispatchError>> {
	let length = motion.encoded_size() as u32;
	let weight = motion.get_dispatch_info().call_weight;
	let hash = BlakeTwo256::hash_of(&motion);
	let index = pallet_collective::ProposalCount::<
		Runtime,
		crate::configs::governance::CouncilInstance,
	>::get();
	assert_ok!(Council::propose(
		RuntimeOrigin::signed(proposer.clone()),
		threshold,
		Box::new(motion),
		length
	));
	for voter in core::iter::once(proposer).chain(voters) {
		assert_ok!(Council::vote(RuntimeOrigin::signed(voter.clone()), hash, index, true));
	}
	// Closed at once when the ayes reach the threshold, else after the motion's duration.
	let end = System::block_number() + crate::configs::governance::COUNCIL_MOTION_DURATION;
	System::set_block_number(end);
	Council::on_initialize(end);
	assert_ok!(Council::close(
		RuntimeOrigin::signed(proposer.clone()),
		hash,
		index,
		weight,
		length
	));
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::Council(pallet_collective::Event::Executed { proposal_hash, result })
			if proposal_hash == hash =>
			Some(result),
		_ => None,
	})
}

#[test]
fn the_staging_chain_has_no_sudo_key_and_no_dev_account() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		let council = members();
		assert_eq!(council.len(), 4);
		let mut validators = pallet_session::Validators::<Runtime>::get();
		validators.sort();
		let mut sorted = council.clone();
		sorted.sort();
		assert_eq!(validators, sorted);
		for dev in Sr25519Keyring::iter() {
			// Every dev key, stash keys included.
			let account = dev.to_account_id();
			assert_eq!(System::account(&account).data.free, 0, "{dev:?} is endowed");
			assert!(!council.contains(&account), "{dev:?} is on the council");
			assert!(!validators.contains(&account), "{dev:?} validates");
		}
		// The production chain parameters.
		assert_eq!(pallet_vrf_lottery::MinValidators::<Runtime>::get(), 4);
		assert_eq!(pallet_job_queue::MinEligibleProviders::<Runtime>::get(), 3);
		// Sudo answers nobody, the holder of the dev chains' key included.
		let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		assert_noop!(
			Sudo::sudo(
				RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
				Box::new(call)
			),
			pallet_sudo::Error::<Runtime>::RequireSudo
		);
	});
}

#[test]
fn three_of_four_council_members_set_a_protocol_parameter_as_root() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		let set =
			RuntimeCall::JobQueue(pallet_job_queue::Call::set_min_eligible_providers { min: 5 });
		let result = pass(&council[0], &council[1..3], 3, as_root(set));
		assert_eq!(result, Some(Ok(())));
		assert_eq!(pallet_job_queue::MinEligibleProviders::<Runtime>::get(), 5);
	});
}

#[test]
fn half_the_council_cannot_act_as_root_even_with_a_low_threshold() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		let set =
			RuntimeCall::JobQueue(pallet_job_queue::Call::set_min_eligible_providers { min: 1 });
		// Two members propose with a threshold of two: the motion passes, but its origin is
		// two of four, short of two thirds, so the whitelist refuses it and nothing changes.
		let result = pass(&council[0], &council[1..2], 2, as_root(set));
		assert_eq!(result, Some(Err(DispatchError::BadOrigin)));
		assert_eq!(pallet_job_queue::MinEligibleProviders::<Runtime>::get(), 3);
		assert!(pallet_whitelist::WhitelistedCall::<Runtime>::iter().next().is_none());
	});
}

#[test]
fn a_council_motion_authorises_a_runtime_upgrade() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		let code_hash = BlakeTwo256::hash(b"the next runtime");
		let authorise = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
		assert_eq!(pass(&council[3], &council[..2], 3, as_root(authorise)), Some(Ok(())));
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::System(frame_system::Event::UpgradeAuthorized { code_hash: h, .. })
				if h == code_hash
		)));
	});
}

#[test]
fn outsiders_can_neither_propose_nor_dispatch_as_root() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let outsider = Sr25519Keyring::Eve.to_account_id();
		let set =
			RuntimeCall::JobQueue(pallet_job_queue::Call::set_min_eligible_providers { min: 1 });
		let motion = as_root(set.clone());
		let length = motion.encoded_size() as u32;
		assert_noop!(
			Council::propose(RuntimeOrigin::signed(outsider.clone()), 1, Box::new(motion), length),
			pallet_collective::Error::<Runtime, crate::configs::governance::CouncilInstance>::NotMember
		);
		assert_noop!(
			pallet_whitelist::Pallet::<Runtime>::whitelist_call(
				RuntimeOrigin::signed(outsider.clone()),
				BlakeTwo256::hash_of(&set)
			),
			DispatchError::BadOrigin
		);
		// A signed account may only relay a call the council already whitelisted and deferred.
		assert_noop!(
			pallet_whitelist::Pallet::<Runtime>::dispatch_whitelisted_call_with_preimage(
				RuntimeOrigin::signed(outsider),
				Box::new(set)
			),
			pallet_whitelist::Error::<Runtime>::DeferredDispatchNotFound
		);
	});
}

#[test]
fn dev_and_local_keep_sudo_and_get_a_council() {
	for (preset, council) in [("development", 1), ("local_testnet", 3)] {
		preset_ext(preset).execute_with(|| {
			assert_eq!(
				pallet_sudo::Key::<Runtime>::get(),
				Some(Sr25519Keyring::Alice.to_account_id())
			);
			assert_eq!(members().len(), council);
			let max: u32 = <Runtime as pallet_collective::Config<
				crate::configs::governance::CouncilInstance,
			>>::MaxMembers::get();
			assert!(members().len() as u32 <= max);
		});
	}
}
