//! Chain specifications: `dev`, `local` and `staging` from the runtime's genesis presets, or a
//! JSON file.

use povm_runtime::WASM_BINARY;
use sc_service::ChainType;

/// The chain specification of PoVM chain.
pub type ChainSpec = sc_service::GenericChainSpec;

fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), "POVM".into());
	properties.insert("tokenDecimals".into(), 12.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime WASM is missing: this binary was built with SKIP_WASM_BUILD".to_string()
	})
}

/// `--dev`: Alice validates alone.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("PoVM Development")
		.with_id("povm_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `--chain local`: Alice, Bob, Charlie and Dave validate.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("PoVM Local Testnet")
		.with_id("povm_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `--chain staging`: a live chain without dev keys or sudo, governed by its council (the
/// runtime's `staging` preset; its operators put their own keys in `build-spec`'s output).
pub fn staging_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("PoVM Staging")
		.with_id("povm_staging")
		.with_chain_type(ChainType::Live)
		.with_genesis_config_preset_name(
			povm_runtime::genesis_config_presets::STAGING_RUNTIME_PRESET,
		)
		.with_properties(properties())
		.build())
}
