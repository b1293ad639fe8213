//! `povm-worker status`: the provider's on-chain record and assignments.

use std::fmt::Write;

use crate::{client::ChainClient, error::ChainError, prelude::*};

/// A human-readable report of `who` on chain.
pub async fn status(client: &ChainClient, who: &AccountId) -> Result<String, ChainError> {
	use sp_core::crypto::Ss58Codec;
	let (number, hash) = client.finalized_head().await?;
	let mut out = String::new();
	let _ = writeln!(out, "provider        {}", who.to_ss58check());
	let _ = writeln!(out, "finalized block #{number} {hash:?}");
	let _ = writeln!(out, "epoch           {}", client.session_index(Some(hash)).await?);
	match client.provider(who, Some(hash)).await? {
		None => {
			let _ = writeln!(out, "registered      no (run `povm-worker register`)");
		},
		Some(rec) => {
			let _ = writeln!(out, "registered      yes, {:?}", rec.status.0);
			let _ = writeln!(out, "bond            {}", rec.bond);
			let o = rec.offer.0;
			let _ = writeln!(
				out,
				"offer           {} millicores, {} MiB, {:?}, {} slots, {} gCO2e/kWh, PUE {}‰, {} mW/core",
				o.millicores,
				o.memory_mib,
				o.arch,
				o.slots,
				o.grid_intensity,
				o.pue_permille,
				o.core_milliwatts
			);
			let _ = writeln!(out, "last heartbeat  epoch {}", rec.last_heartbeat);
			let _ = writeln!(out, "verdicts        {} agreed of {}", rec.agreed, rec.total);
		},
	}
	let assignments = client.assignments(who, Some(hash)).await?;
	let _ = writeln!(out, "assignments     {}", assignments.len());
	for a in assignments {
		let _ = writeln!(
			out,
			"  job {:>6} {:?} commit by #{} reveal by #{}",
			a.job, a.phase, a.commit_deadline, a.reveal_deadline
		);
	}
	Ok(out)
}
