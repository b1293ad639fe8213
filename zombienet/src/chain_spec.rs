//! Chain specs for networks whose genesis validators are a subset of a preset's.

use std::{path::Path, process::Command};

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

/// Writes to `out` the spec of `chain` (a preset name) with only `authorities`' session keys
/// in genesis, so that they alone validate. Fails with [`RunnerError::ChainSpec`] when the
/// spec cannot be built or has no session keys for every authority.
pub fn with_authorities(
	binary: &Path,
	chain: &str,
	authorities: &[String],
	out: &Path,
) -> Result<()> {
	let error = |reason: String| RunnerError::ChainSpec { chain: chain.into(), reason };
	let output = Command::new(binary)
		.args(["build-spec", "--chain", chain, "--disable-default-bootnode"])
		.output()
		.map_err(|e| RunnerError::spawn(binary, e))?;
	if !output.status.success() {
		return Err(error(format!(
			"build-spec failed ({}): {}",
			output.status,
			String::from_utf8_lossy(&output.stderr)
		)));
	}
	let mut spec: Value = serde_json::from_slice(&output.stdout)
		.map_err(|e| error(format!("build-spec printed no JSON: {e}")))?;
	let keep: Vec<&str> = authorities
		.iter()
		.map(|a| dev_address(a).ok_or_else(|| error(format!("{a} is not a dev account name"))))
		.collect::<Result<_>>()?;
	let keys = spec
		.pointer_mut("/genesis/runtimeGenesis/patch/session/keys")
		.and_then(Value::as_array_mut)
		.ok_or_else(|| error("no genesis.runtimeGenesis.patch.session.keys in the spec".into()))?;
	keys.retain(|k| k.get(0).and_then(Value::as_str).is_some_and(|a| keep.contains(&a)));
	if keys.len() != keep.len() {
		return Err(error(format!(
			"the preset has session keys for {} of the authorities {authorities:?}",
			keys.len()
		)));
	}
	let text = serde_json::to_string_pretty(&spec).map_err(|e| error(e.to_string()))?;
	std::fs::write(out, text).map_err(|e| RunnerError::io("write", out, e))
}
