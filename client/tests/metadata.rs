//! The committed metadata (`metadata/povm.scale`) against the runtime built into `povm-node`
//! (`$POVM_NODE`, default `$CARGO_TARGET_DIR/release/povm-node`): fails when they differ in
//! anything but constant values, so a change of the runtime's shape (a pallet moved to another
//! index, a call's arguments changed) breaks this fast test, not a network run.
//!
//! Regenerate with `bash scripts/update-metadata.sh`.

use std::{path::PathBuf, process::Command};

fn node() -> PathBuf {
	if let Ok(p) = std::env::var("POVM_NODE") {
		return p.into();
	}
	let target = std::env::var("CARGO_TARGET_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
	target.join("release/povm-node")
}

fn export(version: u32) -> Vec<u8> {
	let node = node();
	let out = Command::new(&node)
		.args(["export-metadata", "--version", &version.to_string()])
		.output()
		.unwrap_or_else(|e| panic!("cannot run {} (build povm-node first): {e}", node.display()));
	assert!(
		out.status.success(),
		"export-metadata failed: {}",
		String::from_utf8_lossy(&out.stderr)
	);
	out.stdout
}

#[test]
fn committed_metadata_has_the_runtime_shape() {
	let live = export(povm_client::metadata::VERSION);
	let diff = povm_client::metadata::shape_difference(povm_client::metadata::COMMITTED, &live)
		.expect("both decode");
	assert!(
		diff.is_none(),
		"client/metadata/povm.scale is stale ({}); run `bash scripts/update-metadata.sh` and rebuild",
		diff.unwrap_or_default()
	);
}

#[test]
fn a_moved_pallet_is_a_different_shape() {
	// The check itself must see what matters: the committed metadata with one pallet's index
	// changed is not the same shape.
	use codec::{Decode, Encode};
	use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
	let mut m =
		RuntimeMetadataPrefixed::decode(&mut &povm_client::metadata::COMMITTED[..]).unwrap();
	let RuntimeMetadata::V15(v) = &mut m.1 else { panic!("V15 committed") };
	let vm_proof = v.pallets.iter_mut().find(|p| p.name == "VmProof").expect("VmProof");
	vm_proof.index += 10;
	let moved = m.encode();
	let diff = povm_client::metadata::shape_difference(povm_client::metadata::COMMITTED, &moved)
		.unwrap()
		.expect("a moved pallet is a difference");
	assert!(diff.contains("VmProof"), "{diff}");

	// A constant's value alone (a `fast-runtime` session length) is not.
	let mut m =
		RuntimeMetadataPrefixed::decode(&mut &povm_client::metadata::COMMITTED[..]).unwrap();
	let RuntimeMetadata::V15(v) = &mut m.1 else { unreachable!() };
	let babe = v.pallets.iter_mut().find(|p| p.name == "Babe").expect("Babe");
	let c = babe
		.constants
		.iter_mut()
		.find(|c| c.name == "EpochDuration")
		.expect("EpochDuration");
	c.value = 7u64.encode();
	assert_eq!(
		povm_client::metadata::shape_difference(povm_client::metadata::COMMITTED, &m.encode())
			.unwrap(),
		None
	);
}
