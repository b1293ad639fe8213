//! Four validators of the `local` chain on loopback keep producing and finalising blocks.

use std::path::PathBuf;

use povm_network_tests::{Network, NetworkDef};

fn definition() -> NetworkDef {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("local-4.toml");
	NetworkDef::from_file(path).expect("local-4.toml parses")
}

#[test]
fn four_validators_produce_and_finalise_blocks() {
	let def = definition();
	let timeout = def.timeout();
	let mut network = Network::start(def).expect("the network starts");

	let result = (|| -> povm_network_tests::Result<()> {
		for name in ["alice", "bob", "charlie", "dave"] {
			network.node(name).wait_for("3 peers", timeout, |n| Ok(n.peers()? >= 3))?;
		}
		// Every node sees the chain grow and finalise, and finality keeps up.
		for name in ["alice", "bob", "charlie", "dave"] {
			network
				.node(name)
				.wait_for("block 5 finalised", timeout, |n| Ok(n.finalized_number()? >= 5))?;
		}
		let best = network.node("alice").best_number()?;
		network.node("dave").wait_for("alice's best + 3 finalised", timeout, |n| {
			Ok(n.finalized_number()? >= best + 3)
		})?;
		Ok(())
	})();

	if let Err(e) = result {
		panic!("{e}\n{}", network.logs());
	}
}
