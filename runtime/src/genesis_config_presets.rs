//! Named genesis presets: `development` (Alice validates alone) and `local_testnet`
//! (Alice, Bob, Charlie and Dave validate). Both fund the well-known dev accounts.
//!
//! The chain parameters of issue 12 differ: `local_testnet` has the production values (a
//! validator-set floor of 4 and 3 eligible providers per job, the pallets' defaults), while
//! `development`, one node and often one worker, has 1 and 1.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	AccountId, BabeConfig, BalancesConfig, JobQueueConfig, RuntimeGenesisConfig, SessionConfig,
	SessionKeys, SudoConfig, VrfLotteryConfig, BABE_GENESIS_EPOCH_CONFIG, UNIT,
};

/// Every dev account starts with a million POVM.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// A validator at genesis: its account and its BABE and GRANDPA keys.
struct GenesisValidator {
	account: AccountId,
	babe: BabeId,
	grandpa: GrandpaId,
}

impl GenesisValidator {
	fn from_keyring(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Self {
		Self { account: sr.to_account_id(), babe: sr.public().into(), grandpa: ed.public().into() }
	}
}

/// Chain parameters that differ between presets.
struct ChainParameters {
	/// The validator-set floor (vrf-lottery's `MinValidators`).
	min_validators: u32,
	/// The job queue's `MinEligibleProviders`.
	min_eligible_providers: u32,
}

/// The pallets' defaults: a floor of 4 validators, 3 eligible providers per job.
const PRODUCTION: ChainParameters = ChainParameters {
	min_validators: pallet_vrf_lottery::DEFAULT_MIN_VALIDATORS,
	min_eligible_providers: pallet_job_queue::DEFAULT_MIN_ELIGIBLE_PROVIDERS,
};

fn genesis(
	validators: Vec<GenesisValidator>,
	endowed: Vec<AccountId>,
	root: AccountId,
	parameters: ChainParameters,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|account| (account, ENDOWMENT)).collect(),
		},
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|v| {
					(v.account.clone(), v.account, SessionKeys { babe: v.babe, grandpa: v.grandpa })
				})
				.collect(),
		},
		sudo: SudoConfig { key: Some(root) },
		job_queue: JobQueueConfig { min_eligible_providers: parameters.min_eligible_providers },
		vrf_lottery: VrfLotteryConfig { min_validators: parameters.min_validators },
	})
}

/// `development`: Alice is the only validator and the sudo key; a floor of one validator and
/// one eligible provider per job, so that one node and one worker make a working chain.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![GenesisValidator::from_keyring(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
		ChainParameters { min_validators: 1, min_eligible_providers: 1 },
	)
}

/// `local_testnet`: Alice, Bob, Charlie and Dave validate; Alice holds the sudo key; the
/// production chain parameters.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			GenesisValidator::from_keyring(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			GenesisValidator::from_keyring(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			GenesisValidator::from_keyring(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			GenesisValidator::from_keyring(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
		PRODUCTION,
	)
}

/// The JSON patch of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets [`get_preset`] knows.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
