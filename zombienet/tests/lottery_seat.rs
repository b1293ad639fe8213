//! Issue 4's node test: verified VM time becomes a validator seat.
//!
//! A `local` network where Alice and Bob validate (`lottery.toml`). Dave is a provider whose
//! own node (no keys at genesis) gets session keys through `povm-worker session-keys`; Eve is a
//! provider only. Alice submits coin-flip jobs that both run, until one is verified in an
//! epoch whose draw Dave's VRF key may claim in. Then, from chain state only:
//!
//! 1. the draw's tickets are the verified work, and Dave's worker claims (its VRF output is
//!    below its threshold; with two providers and 16 expected winners both are certain to
//!    win) — its metric `povm_worker_lottery_draws_total{result="won"}` counts the win;
//! 2. the draw closes with Dave among the winners, paid, and the planned validator set seats
//!    Dave beside the incumbents: at most `MaxSeatChanges` (1) newcomer enters and at most one
//!    incumbent leaves per session, so the set is Dave and one of Alice and Bob, never Dave
//!    alone (Eve won too but has no session keys);
//! 3. `Session::Validators` becomes that set at the following session, and blocks authored
//!    with Dave's BABE key are finalised.

use std::{path::PathBuf, time::Duration};

use anyhow::{bail, Context};
use povm_network_tests::{coinflip_image, Network, NetworkDef};
use povm_primitives::{JobState, RedundancyPolicy};
use povm_worker::{client::from_0x, prelude::*};

use povm_network_tests::chain::*;

fn definition() -> NetworkDef {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lottery.toml");
	NetworkDef::from_file(path).expect("lottery.toml parses")
}

#[test]
fn provider_wins_the_lottery_and_authors_blocks_in_the_next_session() {
	let mut network = Network::start(definition()).unwrap_or_else(|e| panic!("start: {e}"));
	let rt = tokio::runtime::Runtime::new().unwrap();
	let result = rt.block_on(scenario(&mut network));
	if let Err(e) = result {
		panic!("{e:#}\n{}", network.logs());
	}
}

async fn scenario(network: &mut Network) -> anyhow::Result<()> {
	let image = coinflip_image()?;
	let dave = account("//Dave");
	let eve = account("//Eve");

	// Dave's node generates session keys owned by Dave's account; the worker sets them.
	let dave_node = network.node("dave").ws_url();
	let out = network
		.worker("dave")
		.oneshot(&["session-keys", "--validator-rpc", &dave_node])?;
	let keys_hex = out
		.split_whitespace()
		.last()
		.with_context(|| format!("session-keys printed nothing: {out:?}"))?;
	let keys = from_0x("session keys", keys_hex)?;
	if keys.len() != 64 {
		bail!("SessionKeys are BABE ‖ GRANDPA, 64 bytes; got {}", keys.len());
	}
	let dave_babe: [u8; 32] = keys[..32].try_into().unwrap();

	let client = connect(&network.node("alice").ws_url()).await;
	let view = client.lottery_view(&dave, None).await?;
	let active_from = view.vrf_key.context("Dave's worker registered no VRF key")?.active_from;

	// Jobs until one is verified in an epoch whose draw Dave's key may claim in.
	let alice = customer(&client, "//Alice");
	let both = RedundancyPolicy { min_replicas: 2, max_replicas: 2, margin: 2 };
	let mut work_epoch = None;
	for seed in 1..=6u64 {
		// Two seconds of VM time: tickets count the epoch's verified time in whole seconds.
		let mut spec = coinflip_spec(&image, seed, 1_000_000, both);
		for arg in ["--sleep", "2"] {
			spec.args.try_push(arg.as_bytes().to_vec().try_into().unwrap()).unwrap();
		}
		let id = submit(&alice, spec).await;
		let (job, at) = wait_settled(&client, id, Duration::from_secs(180)).await;
		if job.state != JobState::Completed {
			bail!("job {id} ended {:?}: {job:?}", job.state);
		}
		let result = job.result.as_ref().context("a completed job has a result")?;
		let paid: Vec<&AccountId> = result.payments.iter().map(|(who, _)| who).collect();
		if !(paid.contains(&&dave) && paid.contains(&&eve)) {
			bail!("both providers should have run and been paid: {job:?}");
		}
		// The epoch of the verdict block is the epoch its verified work counts in.
		let (_, verdict) = verdict_block(&client, id, at).await;
		let epoch = client.session_index(Some(verdict)).await?;
		if epoch + 1 >= active_from {
			work_epoch = Some(epoch);
			break;
		}
	}
	let work_epoch = work_epoch.context("no job was verified late enough for an active key")?;
	let draw_epoch = work_epoch + 1;

	// The draw of `draw_epoch` closes with Dave among the winners and seats him beside an
	// incumbent.
	let outcome = wait(Duration::from_secs(300), "the draw to close", || async {
		let outcome = last_outcome(&client, None).await?;
		(outcome.epoch >= draw_epoch).then_some(outcome)
	})
	.await?;
	if outcome.epoch != draw_epoch {
		bail!("draw {draw_epoch} was skipped: {outcome:?}");
	}
	if !outcome.winners.contains(&dave) || outcome.payout == 0 {
		bail!("Dave should have won and been paid: {outcome:?}");
	}
	let alice = account("//Alice");
	let bob = account("//Bob");
	let planned = outcome.validators.clone().context("a set is planned")?;
	let incumbents_kept = planned.iter().filter(|v| **v == alice || **v == bob).count();
	if planned.len() != 2 || planned[0] != dave || incumbents_kept != 1 {
		bail!("the planned set should be Dave (best output) and one incumbent: {outcome:?}");
	}
	let won = network.worker("dave").metric("povm_worker_lottery_draws_total{result=\"won\"}");
	if won.unwrap_or(0.0) < 1.0 {
		bail!("Dave's worker reports no won draw (metric {won:?})");
	}

	// Dave validates the next session, and blocks authored with his BABE key are finalised.
	let (seated_at, _) = wait(Duration::from_secs(240), "Dave to be seated", || async {
		let (n, head) = client.finalized_head().await.ok()?;
		(validators(&client, Some(head)).await == planned).then_some((n, head))
	})
	.await?;
	wait(Duration::from_secs(120), "a finalised block authored by Dave", || async {
		let (n, _) = client.finalized_head().await.ok()?;
		for number in seated_at..=n {
			let hash = client.block_hash(number).await.ok()??;
			if babe_author(&client, hash).await == Some(dave_babe) {
				return Some(number);
			}
		}
		None
	})
	.await?;
	Ok(())
}
