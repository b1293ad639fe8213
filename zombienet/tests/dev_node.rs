//! One `povm-node --dev --tmp`: it produces and finalises blocks, serves the standard RPC
//! methods plus `system_accountNextIndex` and `payment_queryInfo`, exposes Prometheus
//! metrics, stores its state in ParityDB, and its metadata lists the PoVM pallets.

use std::{process::Command, time::Duration};

use povm_network_tests::{node_binary, start_dev_node};
use serde_json::json;

fn contains_scale_str(haystack: &[u8], name: &str) -> bool {
	// SCALE strings are a compact length (one byte `len << 2` below 64) then the bytes.
	let mut needle = vec![(name.len() as u8) << 2];
	needle.extend_from_slice(name.as_bytes());
	haystack.windows(needle.len()).any(|w| w == needle.as_slice())
}

fn hex_bytes(value: &serde_json::Value) -> Vec<u8> {
	let s = value.as_str().expect("a hex string").trim_start_matches("0x");
	(0..s.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
		.collect()
}

/// `Timestamp::Now` of blocks `a` and `b` and the runtime's block time, read through the typed
/// client.
fn timestamps_and_slot(node: &povm_network_tests::NodeHandle, a: u64, b: u64) -> (u64, u64, u64) {
	use povm_network_tests::chain;
	let rt = tokio::runtime::Runtime::new().unwrap();
	rt.block_on(async {
		let client = chain::connect(&node.ws_url()).await;
		let mut stamps = Vec::new();
		for number in [a, b] {
			let hash = client.block_hash(number as u32).await.unwrap().expect("the block exists");
			stamps.push(chain::timestamp(&client, Some(hash)).await);
		}
		(stamps[0], stamps[1], chain::millis_per_block(&client).await)
	})
}

#[test]
fn dev_node_produces_and_finalises_blocks_and_serves_metadata() {
	let (mut node, _dir) = start_dev_node().expect("the dev node starts");
	let timeout = Duration::from_secs(120);

	let result = (|| -> anyhow::Result<()> {
		node.wait_for("block 3", timeout, |n| Ok(n.best_number()? >= 3))?;
		node.wait_for("a finalised block", timeout, |n| Ok(n.finalized_number()? >= 1))?;

		// Every slot is one block time (3 s in the fast-runtime build the tests use) and the
		// only authority claims each one: consecutive blocks are in consecutive slots. A block
		// is stamped with its author's clock when it is proposed, which pallet-babe checks to
		// lie in the block's slot (`timestamp / slot == slot number`); the stamps themselves are
		// a few milliseconds either side of one slot apart.
		let (t2, t3, slot) = timestamps_and_slot(&node, 2, 3);
		assert_eq!(slot, 3_000, "the tests run the fast-runtime build (3 s blocks)");
		assert_eq!(t3 / slot, t2 / slot + 1, "blocks 2 and 3 should be in consecutive slots");

		let metadata = hex_bytes(&node.rpc("state_getMetadata", json!([]))?);
		// "meta" magic, then the metadata version.
		assert_eq!(&metadata[..4], b"meta", "metadata starts with its magic number");
		for pallet in ["System", "Babe", "Grandpa", "Session", "JobQueue", "VmProof", "VrfLottery"]
		{
			assert!(contains_scale_str(&metadata, pallet), "metadata lists pallet {pallet}");
		}

		let methods = node.rpc("rpc_methods", json!([]))?;
		let methods: Vec<&str> = methods["methods"]
			.as_array()
			.unwrap()
			.iter()
			.filter_map(|m| m.as_str())
			.collect();
		for method in [
			"system_accountNextIndex",
			"payment_queryInfo",
			"chain_getFinalizedHead",
			"state_call",
			"author_submitAndWatchExtrinsic",
			"author_rotateKeys",
		] {
			assert!(methods.contains(&method), "RPC method {method} is served");
		}

		// Alice's nonce through system_accountNextIndex: she has sent nothing yet.
		let nonce = node.rpc(
			"system_accountNextIndex",
			json!(["5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"]),
		)?;
		assert_eq!(nonce, json!(0));

		let metrics = ureq::get(&format!("http://127.0.0.1:{}/metrics", node.prometheus_port))
			.call()?
			.into_string()?;
		assert!(metrics.contains("substrate_block_height"), "Prometheus serves block height");

		// Only the log names the database backend (no RPC method or metric does).
		assert!(node.log().contains("ParityDb"), "the node stores its state in ParityDB");
		Ok(())
	})();

	if let Err(e) = result {
		panic!("{e:#}\n----- node log -----\n{}", node.log());
	}
}

#[test]
fn unknown_chain_is_a_one_line_error() {
	let output = Command::new(node_binary().unwrap())
		.args(["--chain", "no-such-chain", "--tmp"])
		.output()
		.expect("povm-node runs");
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("unknown chain"), "stderr names the problem: {stderr}");
	assert!(!stderr.contains("panicked"), "no panic: {stderr}");
	assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn broken_chain_spec_file_is_a_one_line_error() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("broken.json");
	std::fs::write(&path, "{ this is not json").unwrap();
	let output = Command::new(node_binary().unwrap())
		.args(["--chain", path.to_str().unwrap(), "--tmp"])
		.output()
		.expect("povm-node runs");
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("is not valid"), "stderr names the problem: {stderr}");
	assert!(!stderr.contains("panicked"), "no panic: {stderr}");
	assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn build_spec_exports_the_local_chain_with_four_validators() {
	let output = Command::new(node_binary().unwrap())
		.args(["build-spec", "--chain", "local", "--disable-default-bootnode"])
		.output()
		.expect("povm-node runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	let spec: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON spec");
	assert_eq!(spec["id"], "povm_local");
	let keys = &spec["genesis"]["runtimeGenesis"]["patch"]["session"]["keys"];
	assert_eq!(keys.as_array().map(|k| k.len()), Some(4), "four genesis validators: {keys}");
}
