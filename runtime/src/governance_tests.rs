//! Governance without a sudo key: the `staging` preset's genesis, and council motions acting as
//! root through the whitelist ([`crate::configs::governance`]), on the runtime itself.

use codec::Encode;
use frame_support::{assert_noop, assert_ok, dispatch::GetDispatchInfo, traits::Get};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	traits::{BlakeTwo256, Hash},
	BuildStorage, DispatchError,
};

use crate::{
	configs::governance::{CouncilInstance, COUNCIL_MOTION_DURATION},
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

/// `jobQueue.set_min_eligible_providers(min)`: a root-only protocol parameter call.
fn set_min_eligible_providers(min: u32) -> RuntimeCall {
	RuntimeCall::JobQueue(pallet_job_queue::Call::set_min_eligible_providers { min })
}

/// The council's members.
fn members() -> Vec<AccountId> {
	pallet_collective::Members::<Runtime, CouncilInstance>::get()
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

/// `proposer` proposes `motion` with `threshold` ayes needed and it and `voters` vote aye (a
/// proposal is not a vote); returns the motion's hash and index.
fn propose(
	proposer: &AccountId,
	voters: &[AccountId],
	threshold: u32,
	motion: &RuntimeCall,
) -> (sp_core::H256, u32) {
	let length = motion.encoded_size() as u32;
	let hash = BlakeTwo256::hash_of(motion);
	let index = pallet_collective::ProposalCount::<Runtime, CouncilInstance>::get();
	assert_ok!(Council::propose(
		RuntimeOrigin::signed(proposer.clone()),
		threshold,
		Box::new(motion.clone()),
		length
	));
	for voter in core::iter::once(proposer).chain(voters) {
		assert_ok!(Council::vote(RuntimeOrigin::signed(voter.clone()), hash, index, true));
	}
	(hash, index)
}

/// Closes motion `motion` (`hash`, `index`); returns the result of its dispatch (`Executed`),
/// or `None` if it did not pass.
fn close(
	closer: &AccountId,
	motion: &RuntimeCall,
	(hash, index): (sp_core::H256, u32),
) -> Option<Result<(), DispatchError>> {
	let length = motion.encoded_size() as u32;
	let weight = motion.get_dispatch_info().call_weight;
	assert_ok!(Council::close(RuntimeOrigin::signed(closer.clone()), hash, index, weight, length));
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::Council(pallet_collective::Event::Executed { proposal_hash, result })
			if proposal_hash == hash =>
			Some(result),
		_ => None,
	})
}

/// `proposer` proposes `motion`, it and `voters` vote aye, and the motion is closed at once
/// (its ayes reach `threshold`); returns the result of its dispatch.
fn pass(
	proposer: &AccountId,
	voters: &[AccountId],
	threshold: u32,
	motion: RuntimeCall,
) -> Option<Result<(), DispatchError>> {
	let id = propose(proposer, voters, threshold, &motion);
	close(proposer, &motion, id)
}

/// The result of the root dispatch of the whitelisted `call`
/// (`Whitelist::WhitelistedCallDispatched`), if it was dispatched.
fn dispatched(call: &RuntimeCall) -> Option<Result<(), DispatchError>> {
	let hash = BlakeTwo256::hash_of(call);
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::Whitelist(pallet_whitelist::Event::WhitelistedCallDispatched {
			call_hash,
			result,
		}) if call_hash == hash => Some(result.map(|_| ()).map_err(|e| e.error)),
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
		let set = set_min_eligible_providers(5);
		let result = pass(&council[0], &council[1..3], 3, as_root(set.clone()));
		assert_eq!(result, Some(Ok(())));
		assert_eq!(dispatched(&set), Some(Ok(())));
		assert_eq!(pallet_job_queue::MinEligibleProviders::<Runtime>::get(), 5);
	});
}

#[test]
fn half_the_council_cannot_act_as_root_even_with_a_low_threshold() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		let set = set_min_eligible_providers(1);
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
		assert_eq!(pass(&council[3], &council[..2], 3, as_root(authorise.clone())), Some(Ok(())));
		assert_eq!(dispatched(&authorise), Some(Ok(())));
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
		let set = set_min_eligible_providers(1);
		let motion = as_root(set.clone());
		let length = motion.encoded_size() as u32;
		assert_noop!(
			Council::propose(RuntimeOrigin::signed(outsider.clone()), 1, Box::new(motion), length),
			pallet_collective::Error::<Runtime, CouncilInstance>::NotMember
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
			let max: u32 =
				<Runtime as pallet_collective::Config<CouncilInstance>>::MaxMembers::get();
			assert!(members().len() as u32 <= max);
		});
	}
}

#[test]
fn a_prime_member_cannot_act_for_the_silent_members() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		// Root makes the first member prime.
		assert_ok!(Council::set_members(
			RuntimeOrigin::root(),
			council.clone(),
			Some(council[0].clone()),
			council.len() as u32
		));
		let set = set_min_eligible_providers(1);
		let motion = as_root(set);
		// The prime proposes with the full threshold and votes aye; the others stay silent.
		let id = propose(&council[0], &[], 4, &motion);
		let end = System::block_number() + COUNCIL_MOTION_DURATION + 1;
		System::set_block_number(end);
		assert_eq!(close(&council[1], &motion, id), None, "the motion must not pass");
		assert!(System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::Council(pallet_collective::Event::Closed { yes: 1, no: 3, .. })
		)));
		assert_eq!(pallet_job_queue::MinEligibleProviders::<Runtime>::get(), 3);
	});
}

#[test]
fn a_root_call_dispatched_before_it_is_whitelisted_cannot_be_relayed() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		let set = set_min_eligible_providers(1);
		// The two steps in the other order: the dispatch comes first and is deferred.
		let reversed = RuntimeCall::Utility(pallet_utility::Call::batch_all {
			calls: vec![
				RuntimeCall::Whitelist(
					pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
						call: Box::new(set.clone()),
					},
				),
				RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call {
					call_hash: BlakeTwo256::hash_of(&set),
				}),
			],
		});
		assert_eq!(pass(&council[0], &council[1..3], 3, reversed), Some(Ok(())));
		assert_eq!(dispatched(&set), None);
		// The call is whitelisted and its dispatch deferred, but the deferral has expired, so
		// no signed account can run it as root.
		let outsider = Sr25519Keyring::Eve.to_account_id();
		assert_noop!(
			pallet_whitelist::Pallet::<Runtime>::dispatch_whitelisted_call_with_preimage(
				RuntimeOrigin::signed(outsider),
				Box::new(set)
			),
			pallet_whitelist::Error::<Runtime>::DeferredDispatchExpired
		);
		assert_eq!(pallet_job_queue::MinEligibleProviders::<Runtime>::get(), 3);
	});
}

#[test]
fn the_council_changes_its_own_members_by_a_motion() {
	preset_ext(STAGING_RUNTIME_PRESET).execute_with(|| {
		let council = members();
		let newcomer = Sr25519Keyring::Ferdie.to_account_id();
		let mut next = council[..3].to_vec();
		next.push(newcomer.clone());
		let set_members = RuntimeCall::Council(pallet_collective::Call::set_members {
			new_members: next,
			prime: None,
			old_count: council.len() as u32,
		});
		assert_eq!(
			pass(&council[0], &council[1..3], 3, as_root(set_members.clone())),
			Some(Ok(()))
		);
		assert_eq!(dispatched(&set_members), Some(Ok(())));
		assert!(members().contains(&newcomer));
		assert!(!members().contains(&council[3]));
	});
}
