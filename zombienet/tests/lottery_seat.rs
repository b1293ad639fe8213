//! Issue 12's node test: the lottery seats verified work, not self-dealing, and the chain
//! outlives the machine it seats.
//!
//! A `local` network (`lottery.toml`) with the production chain parameters: a validator-set
//! floor of 4 and 3 eligible providers per job. Alice, Bob, Charlie and Dave validate from
//! genesis. Eve is a provider whose own node (no keys at genesis) gets session keys through
//! `povm-worker session-keys`; Ferdie and Alice//stash are providers without keys.
//!
//! The self-dealer, Bob//stash, plays issue 12's attack through the chain's own calls: it
//! gives a node session keys, registers a provider whose offer is the largest the chain
//! accepts (CPU and memory at their caps, one-second jobs only), and submits jobs that ask for
//! exactly that, with one replica: jobs only its own provider fits.
//!
//! Alice submits coin-flip jobs that the three honest providers all run, until one is verified
//! in an epoch whose draw Eve's VRF key may claim in. Then, from chain state:
//!
//! 1. the self-dealer's jobs were never assigned (one eligible provider, three needed), it
//!    holds no tickets and is not among the winners;
//! 2. the draw closes with Eve among the winners, and the planned set is Eve beside three of
//!    the four incumbents: one seat changes per session and the floor of four holds;
//! 3. `Session::Validators` becomes that set, and a block authored with Eve's BABE key is
//!    finalised;
//! 4. Eve's node and worker are killed: the three other validators of the set keep
//!    finalising (more than two thirds of four), and no later set seats the self-dealer or
//!    drops below four.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::{bail, Context};
use povm_client::types::{Arch, VmOffer};
use povm_network_tests::{coinflip_image, Image, Network, NetworkDef};
use povm_primitives::{JobState, RedundancyPolicy, Resources, MAX_MEMORY_MIB, MAX_MILLICORES};
use povm_worker::{
	client::{from_0x, Call, ChainClient},
	commands::session_keys::set_session_keys,
	prelude::*,
};

use povm_network_tests::chain::*;

/// The self-dealer's account.
const SELF_DEALER: &str = "//Bob//stash";

fn definition() -> NetworkDef {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lottery.toml");
	NetworkDef::from_file(path).expect("lottery.toml parses")
}

#[test]
fn the_lottery_seats_verified_work_not_a_self_dealer_and_outlives_the_seated_machine() {
	let mut network = Network::start(definition()).unwrap_or_else(|e| panic!("start: {e}"));
	let rt = tokio::runtime::Runtime::new().unwrap();
	let result = rt.block_on(scenario(&mut network));
	if let Err(e) = result {
		panic!("{e:#}\n{}", network.failure_report());
	}
}

/// The self-dealer's offer: CPU and memory at the caps the chain accepts, so that its jobs can
/// ask for more than any honest provider offers; one-second jobs only, so that it is never
/// drawn for Alice's jobs and this test's honest work stays with the honest providers.
fn self_dealer_offer() -> VmOffer {
	VmOffer {
		millicores: MAX_MILLICORES,
		memory_mib: MAX_MEMORY_MIB,
		arch: Arch::X86_64,
		slots: 1,
		grid_intensity: 400,
		pue_permille: 1_200,
		core_milliwatts: 10_000,
		max_seconds: 1,
	}
}

/// Registers the self-dealer's provider, gives `validator` session keys owned by it, and
/// submits two jobs that only its provider fits (issue 12's attack, min = max = margin = 1).
/// Returns the jobs' ids.
async fn self_deal(
	client: &Arc<ChainClient>,
	validator: &ChainClient,
	image: &Image,
) -> anyhow::Result<Vec<JobId>> {
	let dealer = customer(client, SELF_DEALER);
	dealer
		.submit_final(&Call::RegisterProvider {
			offer: self_dealer_offer(),
			bond: 1_000 * 10u128.pow(12),
		})
		.await
		.context("the self-dealer registers its provider")?;
	set_session_keys(&dealer, validator)
		.await
		.context("the self-dealer sets session keys")?;
	let alone = RedundancyPolicy { min_replicas: 1, max_replicas: 1, margin: 1 };
	let mut jobs = Vec::new();
	for seed in 100..102u64 {
		let mut spec = job_spec(image, &coinflip_args(seed, 1_000), 1, alone);
		spec.resources =
			Resources { millicores: MAX_MILLICORES, memory_mib: MAX_MEMORY_MIB, max_seconds: 1 };
		jobs.push(submit(&dealer, spec).await);
	}
	Ok(jobs)
}

async fn scenario(network: &mut Network) -> anyhow::Result<()> {
	let image = coinflip_image()?;
	let eve = account("//Eve");
	let dealer = account(SELF_DEALER);
	let incumbents = ["//Alice", "//Bob", "//Charlie", "//Dave"].map(account);

	// Eve's node generates session keys owned by Eve's account; her worker sets them.
	let eve_node = network.node("eve").ws_url();
	let out = network.worker("eve").oneshot(&["session-keys", "--validator-rpc", &eve_node])?;
	let keys_hex = out
		.split_whitespace()
		.last()
		.with_context(|| format!("session-keys printed nothing: {out:?}"))?;
	let keys = from_0x("session keys", keys_hex)?;
	if keys.len() != 64 {
		bail!("SessionKeys are BABE ‖ GRANDPA, 64 bytes; got {}", keys.len());
	}
	let eve_babe: [u8; 32] = keys[..32].try_into().unwrap();

	let client = connect(&network.node("alice").ws_url()).await;
	// The self-dealer's keys live in Dave's node: were it seated, that node would author for it.
	let dave_node = connect(&network.node("dave").ws_url()).await;
	let dealer_jobs = self_deal(&client, &dave_node, &image).await?;

	let view = client.lottery_view(&eve, None).await?;
	let active_from = view.vrf_key.context("Eve's worker registered no VRF key")?.active_from;

	// Jobs that all three honest providers run, until one is verified in an epoch whose draw
	// Eve's key may claim in.
	let alice = customer(&client, "//Alice");
	let all_three = RedundancyPolicy { min_replicas: 3, max_replicas: 3, margin: 2 };
	let mut work_epoch = None;
	for seed in 1..=6u64 {
		// Two seconds of VM time: enough tickets for a near-certain win.
		let mut spec = coinflip_spec(&image, seed, 1_000_000, all_three);
		for arg in ["--sleep", "2"] {
			spec.args.try_push(arg.as_bytes().to_vec().try_into().unwrap()).unwrap();
		}
		let id = submit(&alice, spec).await;
		let (job, at) = wait_settled(&client, id, Duration::from_secs(180)).await;
		if job.state != JobState::Completed {
			bail!("job {id} ended {:?}: {job:?}", job.state);
		}
		let result = job.result.as_ref().context("a completed job has a result")?;
		if !result.payments.iter().any(|(who, _)| *who == eve) {
			bail!("Eve should have run and been paid: {job:?}");
		}
		let (_, verdict) = verdict_block(&client, id, at).await;
		let epoch = client.session_index(Some(verdict)).await?;
		if epoch + 1 >= active_from {
			work_epoch = Some(epoch);
			break;
		}
	}
	let work_epoch = work_epoch.context("no job was verified late enough for an active key")?;
	let draw_epoch = work_epoch + 1;

	// 1. The self-dealer's jobs wait: only its own provider fits them, and a job needs three.
	for id in &dealer_jobs {
		let job = client.job(*id, None).await?.context("the self-dealer's job exists")?;
		if job.state != JobState::Queued || !job.providers.is_empty() {
			bail!("the self-dealer's job {id} should wait unassigned: {job:?}");
		}
	}

	// 2. The draw of `draw_epoch` closes with Eve among the winners; the self-dealer has no
	// tickets, no win and no seat; Eve is seated beside three incumbents.
	let dealer_view = wait(Duration::from_secs(120), "the draw of Eve's work to open", || async {
		let draw = client.current_draw(None).await.ok()??;
		(draw.epoch == draw_epoch).then_some(())?;
		client.lottery_view(&dealer, None).await.ok()
	})
	.await?;
	if dealer_view.tickets != 0 {
		bail!("the self-dealer holds tickets: {dealer_view:?}");
	}
	let outcome = wait(Duration::from_secs(300), "the draw to close", || async {
		let outcome = last_outcome(&client, None).await?;
		(outcome.epoch >= draw_epoch).then_some(outcome)
	})
	.await?;
	if outcome.epoch != draw_epoch {
		bail!("draw {draw_epoch} was skipped: {outcome:?}");
	}
	if !outcome.winners.contains(&eve) || outcome.payout == 0 {
		bail!("Eve should have won and been paid: {outcome:?}");
	}
	if outcome.winners.contains(&dealer) {
		bail!("the self-dealer won: {outcome:?}");
	}
	let planned = outcome.validators.clone().context("a set is planned")?;
	let kept = planned.iter().filter(|v| incumbents.contains(v)).count();
	if planned.len() != 4 || planned[0] != eve || kept != 3 {
		bail!("the planned set should be Eve and three of the four incumbents: {outcome:?}");
	}
	let won = network.worker("eve").metric("povm_worker_lottery_draws_total{result=\"won\"}");
	if won.unwrap_or(0.0) < 1.0 {
		bail!("Eve's worker reports no won draw (metric {won:?})");
	}

	// 3. Eve validates the next session, and a block authored with her BABE key is final.
	let (seated_at, _) = wait(Duration::from_secs(240), "Eve to be seated", || async {
		let (n, head) = client.finalized_head().await.ok()?;
		(validators(&client, Some(head)).await == planned).then_some((n, head))
	})
	.await?;
	wait(Duration::from_secs(120), "a finalised block authored by Eve", || async {
		let (n, _) = client.finalized_head().await.ok()?;
		for number in seated_at..=n {
			let hash = client.block_hash(number).await.ok()??;
			if babe_author(&client, hash).await == Some(eve_babe) {
				return Some(number);
			}
		}
		None
	})
	.await?;

	// 4. Eve's machine goes offline; the other three validators of the set keep finalising,
	// across a session boundary.
	network.worker_mut("eve").kill();
	network.node("eve").kill();
	let (at_kill, _) = client.finalized_head().await?;
	let session_at_kill = client.session_index(None).await?;
	let (_, head) =
		wait(Duration::from_secs(120), "finality past a session without Eve", || async {
			let (n, head) = client.finalized_head().await.ok()?;
			let session = client.session_index(Some(head)).await.ok()?;
			(n >= at_kill + 12 && session > session_at_kill).then_some((n, head))
		})
		.await?;
	let set = validators(&client, Some(head)).await;
	if set.len() < 4 || set.contains(&dealer) {
		bail!("the set after Eve went offline should hold four, without the self-dealer: {set:?}");
	}
	let last = last_outcome(&client, Some(head)).await.context("a draw closed")?;
	if last.winners.contains(&dealer) ||
		last.validators.as_ref().is_some_and(|v| v.contains(&dealer) || v.len() < 4)
	{
		bail!("a later draw seated the self-dealer or planned fewer than four: {last:?}");
	}
	Ok(())
}
