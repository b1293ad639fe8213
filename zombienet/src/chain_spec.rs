//! Chain specs for networks whose genesis validators are a subset of a preset's, whose
//! genesis differs from the preset's in a few values (a test network's chain parameters), or
//! whose genesis runtime is an earlier one (a baseline to upgrade from).

use std::{
	path::{Path, PathBuf},
	process::Command,
};

use serde_json::Value;

use crate::{Result, RunnerError};

/// The SS58 addresses of the dev accounts, by dev key name.
pub fn dev_address(name: &str) -> Option<&'static str> {
	Some(match name {
		"alice" => "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
		"bob" => "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
		"charlie" => "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
		"dave" => "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy",
		"eve" => "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw",
		"ferdie" => "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL",
		_ => return None,
	})
}

/// The file of a baseline runtime directory that holds its WASM.
pub const BASELINE_WASM: &str = "povm_runtime.compact.compressed.wasm";

/// An earlier runtime to start a chain with: its WASM and its own genesis presets' patches,
/// read from a directory holding [`BASELINE_WASM`] and one `<chain>.json` per chain (`dev`,
/// `local`), the patch that runtime's `build-spec --chain <chain>` printed. The presets are
/// the baseline's own: a later runtime's patch may name fields the earlier one rejects.
#[derive(Debug, Clone)]
pub struct BaselineRuntime {
	/// The directory it was read from.
	pub dir: PathBuf,
	/// The runtime's code, as `set_code` and the chain spec take it.
	pub code: Vec<u8>,
	/// The genesis patch of the chain preset asked for.
	pub patch: Value,
}

impl BaselineRuntime {
	/// Reads the baseline in `dir` for `chain` (`dev` or `local`).
	pub fn read(dir: &Path, chain: &str) -> Result<Self> {
		let error = |reason: String| RunnerError::ChainSpec { chain: chain.into(), reason };
		let wasm = dir.join(BASELINE_WASM);
		let code = std::fs::read(&wasm).map_err(|e| RunnerError::io("read", &wasm, e))?;
		let preset = dir.join(format!("{chain}.json"));
		let text =
			std::fs::read_to_string(&preset).map_err(|e| RunnerError::io("read", &preset, e))?;
		let patch = serde_json::from_str(&text)
			.map_err(|e| error(format!("{} is not a JSON genesis patch: {e}", preset.display())))?;
		Ok(BaselineRuntime { dir: dir.to_path_buf(), code, patch })
	}
}

/// Writes to `out` the spec of `chain` (a preset name), with only `authorities`' session keys
/// in genesis when given (so that they alone validate) and `patch` merged into the preset's
/// genesis patch ([`merge`]). With a `baseline`, the genesis code and preset are the
/// baseline's instead of the node's own runtime's. Fails with [`RunnerError::ChainSpec`] when
/// the spec cannot be built or has no session keys for every authority.
pub fn customised(
	binary: &Path,
	chain: &str,
	baseline: Option<&BaselineRuntime>,
	authorities: Option<&[String]>,
	patch: Option<&Value>,
	out: &Path,
) -> Result<()> {
	let error = |reason: String| RunnerError::ChainSpec { chain: chain.into(), reason };
	let mut spec = build_spec(binary, chain, &[])?;
	if let Some(baseline) = baseline {
		let runtime_genesis = spec
			.pointer_mut("/genesis/runtimeGenesis")
			.and_then(Value::as_object_mut)
			.ok_or_else(|| error("no genesis.runtimeGenesis in the spec".into()))?;
		runtime_genesis
			.insert("code".into(), Value::String(povm_worker::client::to_0x(&baseline.code)));
		runtime_genesis.insert("patch".into(), baseline.patch.clone());
	}
	let genesis = spec
		.pointer_mut("/genesis/runtimeGenesis/patch")
		.ok_or_else(|| error("no genesis.runtimeGenesis.patch in the spec".into()))?;
	if let Some(patch) = patch {
		merge(genesis, patch);
	}
	if let Some(authorities) = authorities {
		keep_authorities(genesis, authorities).map_err(error)?;
	}
	let text = serde_json::to_string_pretty(&spec).map_err(|e| error(e.to_string()))?;
	std::fs::write(out, text).map_err(|e| RunnerError::io("write", out, e))
}

/// The JSON spec `binary build-spec --chain <chain> <extra>` prints; fails with
/// [`RunnerError::ChainSpec`] when the command fails or prints no JSON.
fn build_spec(binary: &Path, chain: &str, extra: &[&str]) -> Result<Value> {
	let error = |reason: String| RunnerError::ChainSpec { chain: chain.into(), reason };
	let output = Command::new(binary)
		.args(["build-spec", "--chain", chain, "--disable-default-bootnode"])
		.args(extra)
		.output()
		.map_err(|e| RunnerError::spawn(binary, e))?;
	if !output.status.success() {
		return Err(error(format!(
			"build-spec {} failed ({}): {}",
			extra.join(" "),
			output.status,
			String::from_utf8_lossy(&output.stderr)
		)));
	}
	serde_json::from_slice(&output.stdout)
		.map_err(|e| error(format!("build-spec printed no JSON: {e}")))
}

/// The code of the runtime built into `binary` (its `dev` spec's genesis `:code`): the
/// runtime a test upgrades a baseline chain to.
pub fn node_runtime_code(binary: &Path) -> Result<Vec<u8>> {
	let error = |reason: String| RunnerError::ChainSpec { chain: "dev".into(), reason };
	let spec = build_spec(binary, "dev", &["--raw"])?;
	// `:code`, hex-encoded.
	let code = spec
		.pointer("/genesis/raw/top/0x3a636f6465")
		.and_then(Value::as_str)
		.ok_or_else(|| error("no :code in the raw spec".into()))?;
	povm_worker::client::from_0x(":code", code).map_err(|e| error(e.to_string()))
}

/// Keeps only `authorities`' entries in the genesis patch's `session.keys`.
fn keep_authorities(
	genesis: &mut Value,
	authorities: &[String],
) -> std::result::Result<(), String> {
	let keep: Vec<&str> = authorities
		.iter()
		.map(|a| dev_address(a).ok_or_else(|| format!("{a} is not a dev account name")))
		.collect::<std::result::Result<_, _>>()?;
	let keys = genesis
		.pointer_mut("/session/keys")
		.and_then(Value::as_array_mut)
		.ok_or_else(|| "no genesis.runtimeGenesis.patch.session.keys in the spec".to_string())?;
	keys.retain(|k| k.get(0).and_then(Value::as_str).is_some_and(|a| keep.contains(&a)));
	if keys.len() != keep.len() {
		return Err(format!(
			"the preset has session keys for {} of the authorities {authorities:?}",
			keys.len()
		));
	}
	Ok(())
}

/// Merges `patch` into `target`: objects key by key (recursively), anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
	match (target, patch) {
		(Value::Object(target), Value::Object(patch)) =>
			for (key, value) in patch {
				merge(target.entry(key.clone()).or_insert(Value::Null), value);
			},
		(target, patch) => *target = patch.clone(),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn merge_overrides_values_and_keeps_the_rest() {
		let mut genesis = json!({
			"session": { "keys": [1, 2] },
			"vrfLottery": { "minValidators": 0, "other": true },
		});
		merge(
			&mut genesis,
			&json!({ "vrfLottery": { "minValidators": 2 }, "jobQueue": { "minEligibleProviders": 2 } }),
		);
		assert_eq!(
			genesis,
			json!({
				"session": { "keys": [1, 2] },
				"vrfLottery": { "minValidators": 2, "other": true },
				"jobQueue": { "minEligibleProviders": 2 },
			})
		);
	}
}
