//! Named genesis presets: `development` (Alice validates alone) and `local_testnet`
//! (Alice, Bob, Charlie and Dave validate), which fund the well-known dev accounts and give
//! Alice the sudo key; and `staging`, a chain with no dev key and no sudo, governed by its
//! council ([`crate::configs::governance`]).
//!
//! The chain parameters of issue 12 differ: `local_testnet` has the production values (a
//! validator-set floor of 4 and 3 eligible providers per job, the pallets' defaults), while
//! `development`, one node and often one worker, has 1 and 1.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use hex_literal::hex;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	AccountId, BabeConfig, BalancesConfig, CouncilConfig, JobQueueConfig, RuntimeGenesisConfig,
	SessionConfig, SessionKeys, SudoConfig, VrfLotteryConfig, BABE_GENESIS_EPOCH_CONFIG, UNIT,
};

/// The name of the `staging` preset.
pub const STAGING_RUNTIME_PRESET: &str = "staging";

/// Every endowed account (the dev accounts; the staging operators) starts with a million POVM.
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

	/// A validator of sr25519 account `account`, sr25519 BABE key `babe` and ed25519 GRANDPA
	/// key `grandpa` (public keys; the secrets are its operator's).
	fn from_public(account: [u8; 32], babe: [u8; 32], grandpa: [u8; 32]) -> Self {
		Self {
			account: AccountId::from(account),
			babe: sp_core::sr25519::Public::from_raw(babe).into(),
			grandpa: sp_core::ed25519::Public::from_raw(grandpa).into(),
		}
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
	root: Option<AccountId>,
	council: Vec<AccountId>,
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
		sudo: SudoConfig { key: root },
		council: CouncilConfig { members: council },
		job_queue: JobQueueConfig { min_eligible_providers: parameters.min_eligible_providers },
		vrf_lottery: VrfLotteryConfig { min_validators: parameters.min_validators },
	})
}

/// `development`: Alice is the only validator, the sudo key and the council; a floor of one validator and
/// one eligible provider per job, so that one node and one worker make a working chain.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![GenesisValidator::from_keyring(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		vec![Sr25519Keyring::Alice.to_account_id()],
		ChainParameters { min_validators: 1, min_eligible_providers: 1 },
	)
}

/// `local_testnet`: Alice, Bob, Charlie and Dave validate; Alice holds the sudo key; Alice, Bob
/// and Charlie are the council; the production chain parameters.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			GenesisValidator::from_keyring(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			GenesisValidator::from_keyring(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			GenesisValidator::from_keyring(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			GenesisValidator::from_keyring(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
			.map(|k| k.to_account_id())
			.to_vec(),
		PRODUCTION,
	)
}

/// The staging chain's four validators: (sr25519 account, sr25519 BABE key, ed25519 GRANDPA
/// key), public keys generated for this preset; their secrets are not in this repository. The
/// account (funds, council seat) is not a session key: it stays off the validator's online
/// keystore, so taking over validator servers gives neither funds nor council votes. A chain of
/// one's own replaces them with its operators' keys (`build-spec --chain staging`, then edit the
/// spec's `session.keys`, `balances` and `council`).
const STAGING_VALIDATORS: [([u8; 32], [u8; 32], [u8; 32]); 4] = [
	(
		hex!("d289b9c4d0731b8e5975dcec6209855807533595d4f5cfa059386e82a9096625"),
		hex!("e0c15d863b9c091bf63e8b2c8b5119fddaa8da0bad43bfa09a678af092bc5001"),
		hex!("127d924732e470ac9848f91a811c6ce8d9d013ec5cc68ce43f7ba5789c3ef6ff"),
	),
	(
		hex!("b6f1c4fda34fd7f75e5a4d0a8c977a8e81c915c0aac0192f425b7240c043bb2e"),
		hex!("d85746220645348d3b191fd80f4808ac6f782dc641ec7648ff383f2a1e890771"),
		hex!("f37d6d87366f648343862e04ad8ab8141b0c25eeb23f57a91ab21e7e3ad69aac"),
	),
	(
		hex!("d2cfe2b61b565059a9ea6ad4e61c6b50a31747749eccb51ceaf3a75d8d43f44d"),
		hex!("9e1d506ffc01eaf49a470788afaaea9da7a82768893a1333d2cf8e7309029223"),
		hex!("6621179ac4be665331625be07bf92c2e63aeffd2530b1e4493bc7b4af5a386d6"),
	),
	(
		hex!("524213149fbc6ba1f485af3746dcd2db9749ede4847f83054e917a6ec81e451a"),
		hex!("2a5b485f111da9502a93bd04515dfb770d11b90b76453a69a0bdc56765a50d2d"),
		hex!("70e65756c17a89420e92674991e414ed8432715f9a770825a3d303f999737409"),
	),
];

/// `staging`: a chain without dev keys or sudo. Its four validators' operators are endowed and
/// form the council, whose two-thirds majority (three of four) sets the protocol parameters and
/// upgrades the runtime; the production chain parameters.
pub fn staging_config_genesis() -> Value {
	let validators: Vec<GenesisValidator> = STAGING_VALIDATORS
		.iter()
		.map(|(account, babe, grandpa)| GenesisValidator::from_public(*account, *babe, *grandpa))
		.collect();
	let operators: Vec<AccountId> = validators.iter().map(|v| v.account.clone()).collect();
	genesis(validators, operators.clone(), None, operators, PRODUCTION)
}

/// The JSON patch of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		STAGING_RUNTIME_PRESET => staging_config_genesis(),
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
		PresetId::from(STAGING_RUNTIME_PRESET),
	]
}
