//! Named genesis presets: `development` (Alice validates alone) and `local_testnet`
//! (Alice, Bob, Charlie and Dave validate). Both fund the well-known dev accounts.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	AccountId, BabeConfig, BalancesConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	SudoConfig, BABE_GENESIS_EPOCH_CONFIG, UNIT,
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

fn genesis(validators: Vec<GenesisValidator>, endowed: Vec<AccountId>, root: AccountId) -> Value {
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
	})
}

/// `development`: Alice is the only validator and the sudo key.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![GenesisValidator::from_keyring(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// `local_testnet`: Alice, Bob, Charlie and Dave validate; Alice holds the sudo key.
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
