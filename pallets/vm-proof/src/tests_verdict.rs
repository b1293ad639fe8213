//! Honest verdicts: what the chain publishes and pays on is what the replicas committed and
//! agreed on (issue 11, scenarios 1, 2 and 5). Each test plays an attack that worked before
//! the commitment covered the job, wave, output and usage.

use crate::{
	energy,
	mock::*,
	pallet::*,
	types::*,
	verdict::{merkle_root, published_record, AgreementKey},
	Error, Event,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, Get},
	BoundedVec,
};
use pallet_job_queue::{Jobs, Params, Results};
use povm_primitives::{
	attestation::output_digest, JobSpec, JobState, RedundancyPolicy, MAX_JOB_SECONDS,
	MAX_MEMORY_MIB, MAX_MILLICORES,
};

pub(crate) const BOND: u64 = 10_000;

pub(crate) fn setup_with(providers: &[AccountId], offer: VmOffer, commit_window: u64) {
	let mut p = Params::<Test>::get();
	p.commit_window = commit_window;
	p.reveal_window = 5;
	assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
	for who in providers {
		assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(*who), offer, BOND));
	}
}

pub(crate) fn setup(providers: &[AccountId]) {
	setup_with(providers, offer(), 5)
}

const RESOURCES: Resources = Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 };

pub(crate) fn submit_with(resources: Resources, min: u32, max: u32, margin: u32) -> JobId {
	let spec = JobSpec {
		image: povm_primitives::ImageRef::local([0xaa; 32]),
		command: BoundedVec::truncate_from(b"flip".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources,
		price_per_second: 1,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin },
		checkpoint_interval: 5,
	};
	let budget = JobQueue::max_cost(&spec).unwrap();
	assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(spec), budget));
	pallet_job_queue::Counters::<Test>::get().next_job_id - 1
}

/// Submit and run one block so the job is assigned; returns the job and its providers.
pub(crate) fn assigned_with(
	resources: Resources,
	min: u32,
	max: u32,
	margin: u32,
) -> (JobId, Vec<AccountId>) {
	let id = submit_with(resources, min, max, margin);
	run_to_block(System::block_number() + 1);
	let job = Jobs::<Test>::get(id).unwrap();
	assert_eq!(job.state, JobState::Assigned);
	(id, job.providers.to_vec())
}

pub(crate) fn assigned(min: u32, max: u32, margin: u32) -> (JobId, Vec<AccountId>) {
	assigned_with(RESOURCES, min, max, margin)
}

pub(crate) fn usage(ms: u64) -> Usage {
	Usage { cpu_ms: ms, memory_mib_s: 1_000, wall_ms: ms }
}

/// A reveal: result `[tag; 32]`, checkpoints `[tag; 32]` × 2, `output`, `u`.
pub(crate) fn rev(
	who: AccountId,
	tag: u8,
	output: &[u8],
	u: Usage,
) -> (Reveal, BoundedVec<Digest, MaxCp>) {
	let leaves = vec![[tag; 32], [tag; 32]];
	(
		Reveal {
			result_digest: [tag; 32],
			checkpoints_root: merkle_root(&leaves),
			salt: [who as u8; 32],
			output: BoundedVec::truncate_from(output.to_vec()),
			usage: u,
		},
		BoundedVec::truncate_from(leaves),
	)
}

pub(crate) type MaxCp = <Test as crate::Config>::MaxCheckpoints;

/// `who`'s commitment to reveal `r` for `job`, in its draw wave.
fn commitment(job: JobId, who: AccountId, r: &Reveal) -> Digest {
	let wave = VmProof::wave_of(job, &who).unwrap();
	VmProof::commitment_of(job, wave, r, &who)
}

pub(crate) fn commit_to(job: JobId, who: AccountId, r: &Reveal) {
	assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(who), job, commitment(job, who, r)));
}

/// `who` commits a `heads` result to `job`; the weight the commit was refunded to (`None`:
/// charged in full).
fn commit_charged(job: JobId, who: AccountId) -> Option<frame_support::weights::Weight> {
	let r = rev(who, 1, b"heads", usage(1_000)).0;
	let c = commitment(job, who, &r);
	VmProof::commit_result(RuntimeOrigin::signed(who), job, c)
		.unwrap()
		.actual_weight
}

/// `who` reveals `output` (tag `tag`) for `job`; the weight the reveal was refunded to.
fn reveal_charged(
	job: JobId,
	who: AccountId,
	tag: u8,
	output: &[u8],
) -> Option<frame_support::weights::Weight> {
	let (r, l) = rev(who, tag, output, usage(1_000));
	VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None)
		.unwrap()
		.actual_weight
}

/// `who` declines `job` (its image is not available).
pub(crate) fn decline(job: JobId, who: AccountId) {
	assert_ok!(VmProof::decline_job(
		RuntimeOrigin::signed(who),
		job,
		DeclineReason::ImageUnavailable
	));
}

pub(crate) fn commit(job: JobId, who: AccountId, tag: u8, output: &[u8], u: Usage) {
	commit_to(job, who, &rev(who, tag, output, u).0);
}

pub(crate) fn reveal(job: JobId, who: AccountId, tag: u8, output: &[u8], u: Usage) {
	let (r, l) = rev(who, tag, output, u);
	assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None));
}

pub(crate) fn try_reveal(
	job: JobId,
	who: AccountId,
	tag: u8,
	output: &[u8],
	u: Usage,
) -> sp_runtime::DispatchResult {
	let (r, l) = rev(who, tag, output, u);
	VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None)
		.map(|_| ())
		.map_err(|e| e.error)
}

/// A reveal is charged up front for a verdict that draws more replicas over a full candidate
/// list, and refunded to the measured verdict when it draws none: a reveal whose verdict finds
/// no clear majority (1 against 1) draws one more replica at the full charge. A reveal that is
/// not the last takes no verdict and is refunded to the measured reveal that is kept: a round
/// of `n` members pays for one verdict, not `n` (before, every reveal was charged one, which
/// held a block to about 450 reveals).
#[test]
fn a_reveal_pays_for_a_draw_only_when_its_verdict_draws() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 3, 1);
		commit(id, ps[0], 1, b"heads", usage(1_000));
		commit(id, ps[1], 2, b"tails", usage(1_000));
		let first = reveal_charged(id, ps[0], 1, b"heads");
		let kept = <() as crate::WeightInfo>::reveal_result_kept();
		assert_eq!(first, Some(kept));
		assert!(kept.all_lt(VmProof::reveal_weight_without_draw()));
		let waves = Rounds::<Test>::get(id).unwrap().waves;
		let last = reveal_charged(id, ps[1], 2, b"tails");
		assert_eq!(Rounds::<Test>::get(id).unwrap().waves, waves + 1, "a tie-break replica");
		assert_eq!(last, None, "charged the draw");
		assert!(VmProof::reveal_weight_with_draw().all_gt(VmProof::reveal_weight_without_draw()));
	});
}

/// The attack on the refund above: a verdict that finds no clear majority tries a draw, and
/// when nobody can be drawn (every provider already a member) the job is disputed. The draw was
/// tried (the index read, the lapsed providers rejected): the reveal must pay for it, not be
/// refunded as a reveal that drew nothing.
#[test]
fn a_reveal_whose_verdict_tries_a_draw_that_finds_nobody_is_charged_the_draw() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 3, 1);
		commit(id, ps[0], 1, b"heads", usage(1_000));
		commit(id, ps[1], 2, b"tails", usage(1_000));
		let first = reveal_charged(id, ps[0], 1, b"heads");
		assert_eq!(first, Some(<() as crate::WeightInfo>::reveal_result_kept()));
		let last = reveal_charged(id, ps[1], 2, b"tails");
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed, "nobody to draw");
		assert_eq!(last, None, "charged the draw it tried");
	});
}

/// A commit is charged up front for closing the commits with a draw of replacements, and
/// refunded to the measured commit without a draw when it tries none: a commit that leaves
/// members still to commit, and one that opens reveals, are refunded; a commit that closes a
/// round left short by a decline draws the replacement at the full charge.
#[test]
fn a_commit_pays_for_a_draw_only_when_its_close_tries_one() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let without = Some(VmProof::commit_weight_without_draw());
		let (id, ps) = assigned(2, 3, 1);
		assert_eq!(commit_charged(id, ps[0]), without, "members still to commit");
		assert_eq!(commit_charged(id, ps[1]), without, "reveals open, nothing drawn");
		assert!(matches!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { .. }));

		let (id, ps) = assigned(2, 3, 1);
		decline(id, ps[1]);
		let waves = Rounds::<Test>::get(id).unwrap().waves;
		assert_eq!(commit_charged(id, ps[0]), None, "charged the replacement's draw");
		assert_eq!(Rounds::<Test>::get(id).unwrap().waves, waves + 1, "a replacement drawn");
		assert!(VmProof::commit_weight_with_draw().all_gt(VmProof::commit_weight_without_draw()));
	});
}

/// The fruitless draws a commit can try are paid for too: a close short of `min_replicas` whose
/// draw finds nobody (every provider already a member), and one whose draw fails (the commit
/// still lands; the draw counts as nobody drawn).
#[test]
fn a_commit_whose_close_tries_a_draw_that_finds_nobody_or_fails_is_charged_the_draw() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		// Nobody left to draw: the other two providers are taken out of the index.
		let (id, ps) = assigned(2, 3, 1);
		for who in [10, 11, 12, 13].into_iter().filter(|p| !ps.contains(p)) {
			assert_ok!(VmProof::unregister(RuntimeOrigin::signed(who)));
		}
		decline(id, ps[1]);
		let waves = Rounds::<Test>::get(id).unwrap().waves;
		assert_eq!(commit_charged(id, ps[0]), None, "charged the draw that found nobody");
		let round = Rounds::<Test>::get(id).unwrap();
		assert_eq!(round.waves, waves, "nobody drawn");
		assert!(matches!(round.phase, Phase::Revealing { .. }));
	});
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 3, 1);
		decline(id, ps[1]);
		AssignMoreFailures::set(1);
		assert_eq!(commit_charged(id, ps[0]), None, "charged the draw that failed");
		assert_eq!(AssignMoreFailures::get(), 0, "the draw was tried");
	});
}

pub(crate) fn bond_of(who: AccountId) -> u64 {
	Providers::<Test>::get(who).unwrap().bond
}

// ---------- scenario 1: one replica forges the accepted output ----------

/// Issue 11, scenario 1, exactly: min 3 / max 3 / margin 3, A, B and C commit the true
/// result, A reveals `output = "tails"`. Before, the reveal was accepted, 3-of-3 agreed and
/// "tails" was published with A paid.
#[test]
fn scenario_1_a_replica_cannot_publish_an_output_it_did_not_commit() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(3, 3, 3);
		for p in ps.iter() {
			commit(id, *p, 1, b"heads", usage(1_000));
		}
		assert_noop!(
			try_reveal(id, ps[0], 1, b"tails", usage(1_000)),
			Error::<Test>::RevealMismatch
		);
		for p in ps.iter() {
			reveal(id, *p, 1, b"heads", usage(1_000));
		}
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		let result = Results::<Test>::get(id).unwrap();
		assert_eq!(result.output.to_vec(), b"heads".to_vec());
		assert_eq!(result.payments.len(), 3);
	});
}

/// A replica that commits (consistently) to another output is a dissenter: agreement covers
/// the output's digest, not only the result digest.
#[test]
fn an_output_other_than_the_majoritys_is_a_wrong_result() {
	ExtBuilder::default().build_and_execute(|| {
		// Four replicas, so that three against one is a clear majority (2 : 1 never slashes).
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(4, 4, 1);
		commit(id, ps[0], 1, b"tails", usage(1_000));
		for p in &ps[1..] {
			commit(id, *p, 1, b"heads", usage(1_000));
		}
		reveal(id, ps[0], 1, b"tails", usage(1_000));
		for p in &ps[1..] {
			reveal(id, *p, 1, b"heads", usage(1_000));
		}
		let result = Results::<Test>::get(id).unwrap();
		assert_eq!(result.output.to_vec(), b"heads".to_vec());
		assert!(result.payments.iter().all(|(w, _)| *w != ps[0]), "the forger is not paid");
		assert_eq!(bond_of(ps[0]), BOND - 1_000);
		assert!(events().iter().any(|e| matches!(e,
			Event::ResultAccepted { dissenting, .. } if dissenting.to_vec() == vec![ps[0]])));
	});
}

/// The same result digest with outputs that differ is no agreement: with margin 3 of 3, the
/// job is disputed and neither output is published.
#[test]
fn same_result_digest_with_different_outputs_does_not_agree() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(3, 3, 3);
		commit(id, ps[0], 1, b"tails", usage(1_000));
		commit(id, ps[1], 1, b"heads", usage(1_000));
		commit(id, ps[2], 1, b"heads", usage(1_000));
		reveal(id, ps[0], 1, b"tails", usage(1_000));
		reveal(id, ps[1], 1, b"heads", usage(1_000));
		reveal(id, ps[2], 1, b"heads", usage(1_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(Results::<Test>::get(id).is_none());
	});
}

/// The published checkpoints root is the one most agreeing replicas committed, not the first
/// agreeing replica's own.
#[test]
fn the_published_checkpoints_root_is_the_agreeing_majoritys() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(3, 3, 1);
		// ps[0] agrees on result and output but commits a root of its own.
		let (mut forged, _) = rev(ps[0], 1, b"heads", usage(1_000));
		let own = vec![[9u8; 32]];
		forged.checkpoints_root = merkle_root(&own);
		commit_to(id, ps[0], &forged);
		commit(id, ps[1], 1, b"heads", usage(1_000));
		commit(id, ps[2], 1, b"heads", usage(1_000));
		assert_ok!(VmProof::reveal_result(
			RuntimeOrigin::signed(ps[0]),
			id,
			forged,
			BoundedVec::truncate_from(own),
			None
		));
		reveal(id, ps[1], 1, b"heads", usage(1_000));
		reveal(id, ps[2], 1, b"heads", usage(1_000));
		let result = Results::<Test>::get(id).unwrap();
		assert_eq!(
			result.checkpoints_root,
			rev(ps[1], 1, b"heads", usage(1_000)).0.checkpoints_root
		);
	});
}

#[test]
fn published_record_is_an_agreeing_reveal_whose_output_hashes_to_the_agreed_digest() {
	let (a, _) = rev(10, 1, b"heads", usage(1));
	let (b, _) = rev(11, 1, b"heads", usage(2));
	let winner = AgreementKey { result_digest: [1; 32], output_digest: output_digest(b"heads") };
	assert_eq!(published_record(&[&a, &b], &winner), Some(&a));
	// No record whose output hashes to the agreed digest: nothing is published.
	let (t, _) = rev(12, 1, b"tails", usage(1));
	assert_eq!(published_record(&[&t], &winner), None);
	let forged = AgreementKey { output_digest: [0; 32], ..winner };
	assert_eq!(published_record(&[&a, &b], &forged), None);
}

// ---------- commitments are bound to the job and the wave ----------

/// Before, a provider could commit the commitment of an identical earlier job and reveal its
/// result again without running the job.
#[test]
fn a_commitment_replayed_on_an_identical_job_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (a, ps) = assigned(1, 1, 1);
		commit(a, ps[0], 1, b"heads", usage(1_000));
		let replayed = Rounds::<Test>::get(a).unwrap().members[0].commitment.unwrap();
		reveal(a, ps[0], 1, b"heads", usage(1_000));
		assert_eq!(Jobs::<Test>::get(a).unwrap().state, JobState::Completed);
		let (b, _) = assigned(1, 1, 1);
		assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(ps[0]), b, replayed));
		assert_noop!(
			try_reveal(b, ps[0], 1, b"heads", usage(1_000)),
			Error::<Test>::RevealMismatch
		);
	});
}

/// A provider drawn in a later wave must commit to its own wave.
#[test]
fn a_commitment_to_another_wave_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 3, 1);
		commit(id, ps[0], 1, b"heads", usage(1_000));
		commit(id, ps[1], 2, b"heads", usage(1_000));
		reveal(id, ps[0], 1, b"heads", usage(1_000));
		reveal(id, ps[1], 2, b"heads", usage(1_000));
		let third = Jobs::<Test>::get(id).unwrap().providers[2];
		assert_eq!(VmProof::wave_of(id, &ps[0]), Some(0));
		assert_eq!(VmProof::wave_of(id, &third), Some(1));
		assert_eq!(Rounds::<Test>::get(id).unwrap().waves, 2);
		let view = VmProof::assignments_of(&third);
		assert_eq!((view[0].job, view[0].wave), (id, 1));
		let (r, _) = rev(third, 1, b"heads", usage(1_000));
		let wrong_wave = VmProof::commitment_of(id, 0, &r, &third);
		assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(third), id, wrong_wave));
		assert_noop!(
			try_reveal(id, third, 1, b"heads", usage(1_000)),
			Error::<Test>::RevealMismatch
		);
	});
}

// ---------- scenario 2: usage is bounded and committed ----------

#[test]
fn usage_beyond_the_jobs_bound_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, ps) = assigned(1, 1, 1);
		let bound = RESOURCES.usage_bound();
		assert_eq!(bound, Usage { cpu_ms: 60_000, memory_mib_s: 15_360, wall_ms: 60_000 });
		let max = Usage { cpu_ms: u64::MAX, memory_mib_s: u64::MAX, wall_ms: u64::MAX };
		// Committed consistently, so only the bound refuses it.
		commit(id, ps[0], 1, b"heads", max);
		assert_noop!(try_reveal(id, ps[0], 1, b"heads", max), Error::<Test>::UsageOutOfBounds);
	});
}

#[test]
fn each_usage_component_is_bounded_and_the_bound_itself_is_accepted() {
	let bound = RESOURCES.usage_bound();
	let over = [
		Usage { cpu_ms: bound.cpu_ms + 1, ..bound },
		Usage { memory_mib_s: bound.memory_mib_s + 1, ..bound },
		Usage { wall_ms: bound.wall_ms + 1, ..bound },
	];
	for u in over {
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10]);
			let (id, ps) = assigned(1, 1, 1);
			commit(id, ps[0], 1, b"heads", u);
			assert_noop!(try_reveal(id, ps[0], 1, b"heads", u), Error::<Test>::UsageOutOfBounds);
		});
	}
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, ps) = assigned(1, 1, 1);
		commit(id, ps[0], 1, b"heads", bound);
		reveal(id, ps[0], 1, b"heads", bound);
		assert_eq!(Results::<Test>::get(id).unwrap().usage, bound);
	});
}

/// Before, usage was not committed: the last revealer saw the others' usage and revealed
/// whatever moved the median its way.
#[test]
fn the_last_revealer_cannot_change_its_committed_usage() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, b"heads", usage(10_000));
		commit(id, ps[1], 1, b"heads", usage(10_000));
		reveal(id, ps[0], 1, b"heads", usage(10_000));
		assert_noop!(
			try_reveal(id, ps[1], 1, b"heads", usage(40_000)),
			Error::<Test>::RevealMismatch
		);
		reveal(id, ps[1], 1, b"heads", usage(10_000));
		assert_eq!(Results::<Test>::get(id).unwrap().usage.wall_ms, 10_000);
	});
}

/// The largest job the bounds allow, on the most power-hungry offer they allow: its reveal is
/// accepted and the sums stay far from saturating (before, one reveal of `u64::MAX` pinned
/// `EpochFootprint` and `ProviderFootprint` at `u64::MAX` for good).
#[test]
fn the_largest_job_on_the_dirtiest_offer_leaves_the_footprint_sums_unsaturated() {
	ExtBuilder::default().build_and_execute(|| {
		let dirtiest = VmOffer {
			millicores: MAX_MILLICORES,
			memory_mib: MAX_MEMORY_MIB,
			arch: Arch::X86_64,
			slots: 1,
			grid_intensity: MAX_GRID_INTENSITY,
			pue_permille: MAX_PUE_PERMILLE,
			core_milliwatts: MAX_CORE_MILLIWATTS,
			max_seconds: MAX_JOB_SECONDS,
		};
		// 7 days plus the 30 s start margin in 20 s blocks.
		setup_with(&[10], dirtiest, 30_300);
		let largest = Resources {
			millicores: MAX_MILLICORES,
			memory_mib: MAX_MEMORY_MIB,
			max_seconds: MAX_JOB_SECONDS,
		};
		let (id, ps) = assigned_with(largest, 1, 1, 1);
		let worst = largest.usage_bound();
		commit(id, ps[0], 1, b"heads", worst);
		reveal(id, ps[0], 1, b"heads", worst);
		let fp = energy::footprint(&worst, &dirtiest);
		assert_eq!(fp, worst_replica_footprint());
		let total = ProviderFootprint::<Test>::get(10);
		assert_eq!(
			(total.energy_uwh, total.carbon_ug),
			(fp.energy_uwh as u128, fp.carbon_ug as u128)
		);
		assert_eq!(EpochFootprint::<Test>::get(0), total);
		assert!(fp.carbon_ug < u64::MAX / 10_000);
	});
}

/// The worst footprint one replica can be credited with: the largest job the bounds allow,
/// run for its whole `max_seconds` at full use on an offer with every footprint input at its
/// bound.
fn worst_replica_footprint() -> Footprint {
	let largest = Resources {
		millicores: MAX_MILLICORES,
		memory_mib: MAX_MEMORY_MIB,
		max_seconds: MAX_JOB_SECONDS,
	};
	let dirtiest = VmOffer {
		millicores: MAX_MILLICORES,
		memory_mib: MAX_MEMORY_MIB,
		arch: Arch::X86_64,
		slots: 1,
		grid_intensity: MAX_GRID_INTENSITY,
		pue_permille: MAX_PUE_PERMILLE,
		core_milliwatts: MAX_CORE_MILLIWATTS,
		max_seconds: MAX_JOB_SECONDS,
	};
	energy::footprint(&largest.usage_bound(), &dirtiest)
}

/// The footprint sums cannot saturate.
///
/// One replica is credited at most (every input at its bound, see
/// [`worst_replica_footprint`]):
///
/// ```text
/// cpu   1 024 000 m-cores × 604 800 s      = 6.19e11 core-ms × 250 000 mW = 1.55e17 µJ
/// mem   33 554 432 MiB × 604 800 s         = 2.03e13 MiB·s × 372 500/1024 = 7.38e15 µJ
/// E     (1.55e17 + 7.38e15) × PUE 3.0      = 4.87e17 µJ
/// energy E / 3 600                         = 1.35e14 µWh
/// carbon E × 2 000 / 3 600 000             = 2.71e14 µg   (u64::MAX = 1.8e19)
/// ```
///
/// A job's settlement sums at most `MaxMembers` (runtime: 16) replicas: 4.3e15, so the
/// per-job `u64` [`Footprint`] never saturates. Each job is assigned from the queue once and
/// at most `max_assignments_per_block <= MaxQueueLen` (runtime: 1 000) jobs are assigned per
/// block, so the sums grow by at most 16 × 1 000 × 2.71e14 = 4.3e18 µg per block. Even at
/// 10× that (10 000 jobs per block, one-second blocks) for a billion years (3.2e16 blocks),
/// the `u128` sums reach 1.4e36 < u128::MAX = 3.4e38. (In `u64`, the same flood of forged
/// maximal jobs would saturate them within a few blocks, which is why they are `u128`.)
#[test]
fn footprint_sums_cannot_saturate_in_any_realistic_horizon() {
	let fp = worst_replica_footprint();
	assert!(fp.energy_uwh < 1_400_000_000_000_000 && fp.carbon_ug < 2_800_000_000_000_000);
	let members = <<Test as crate::Config>::MaxMembers as Get<u32>>::get().max(16) as u128;
	let per_job_carbon = fp.carbon_ug as u128 * members;
	assert!(per_job_carbon < u64::MAX as u128, "one job's footprint fits its u64");
	let jobs_per_block: u128 = 10_000;
	let blocks_in_a_billion_years: u128 = 1_000_000_000 * 365 * 24 * 3600;
	let sum = per_job_carbon
		.checked_mul(jobs_per_block)
		.and_then(|x| x.checked_mul(blocks_in_a_billion_years))
		.expect("no overflow in the bound itself");
	assert!(sum < u128::MAX / 100);
	let energy = (fp.energy_uwh as u128) * members * jobs_per_block * blocks_in_a_billion_years;
	assert!(energy < u128::MAX / 100);
	// And adding into a sum never saturates before then.
	let total = FootprintTotal { energy_uwh: energy, carbon_ug: sum };
	assert!(total.add(fp).carbon_ug > total.carbon_ug);
}

// ---------- scenario 5: selective reveal ----------

/// Before, a provider that saw it would dissent withheld its reveal and lost 1 % instead of
/// 10 %. Now withholding costs at least the wrong-result slash.
#[test]
fn scenario_5_a_selective_revealer_pays_at_least_the_wrong_result_slash() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(3, 3, 1);
		commit(id, ps[0], 1, b"heads", usage(1_000));
		commit(id, ps[1], 1, b"heads", usage(1_000));
		commit(id, ps[2], 2, b"tails", usage(1_000));
		reveal(id, ps[0], 1, b"heads", usage(1_000));
		reveal(id, ps[1], 1, b"heads", usage(1_000));
		// ps[2] sees two "heads" and withholds its "tails".
		run_to_block(8);
		let params = Params::<Test>::get();
		let wrong = params.wrong_result_slash * BOND;
		assert!(params.wrong_result_slash > params.no_show_slash);
		assert_eq!(BOND - bond_of(ps[2]), wrong);
		assert!(events().iter().any(|e| matches!(e,
			Event::ProviderFaulted { fault: Fault::RevealNoShow, slashed, who, .. }
				if *who == ps[2] && *slashed == wrong)));
	});
}

/// Had it revealed its wrong result against a clear majority, it would have lost exactly the
/// same; against a narrower one (2 : 1) it loses only its pay. Withholding never costs less.
#[test]
fn revealing_the_wrong_result_costs_the_same_as_withholding_it() {
	ExtBuilder::default().build_and_execute(|| {
		// Three against one: the wrong result is a clear majority's dissent, slashed in full.
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(4, 4, 1);
		for p in &ps[..3] {
			commit(id, *p, 1, b"heads", usage(1_000));
		}
		commit(id, ps[3], 2, b"tails", usage(1_000));
		for p in &ps[..3] {
			reveal(id, *p, 1, b"heads", usage(1_000));
		}
		reveal(id, ps[3], 2, b"tails", usage(1_000));
		assert_eq!(BOND - bond_of(ps[3]), Params::<Test>::get().wrong_result_slash * BOND);
	});
}

#[test]
fn the_reveal_no_show_share_is_the_larger_of_the_two() {
	use sp_runtime::Perbill;
	let mut p = povm_primitives::ProtocolParams::<u64> {
		queue_timeout: 1,
		commit_window: 1,
		reveal_window: 1,
		max_replicas: 1,
		max_assignments_per_block: 1,
		wrong_result_slash: Perbill::from_percent(10),
		no_show_slash: Perbill::from_percent(1),
	};
	assert_eq!(VmProof::reveal_no_show_slash(&p), Perbill::from_percent(10));
	p.no_show_slash = Perbill::from_percent(20);
	assert_eq!(VmProof::reveal_no_show_slash(&p), Perbill::from_percent(20));
}

// ---------- the copier: no late replica sees a reveal before it commits ----------

/// Whether any reveal of `job` is public.
fn any_reveal_public(job: JobId) -> bool {
	Reveals::<Test>::iter_prefix(job).next().is_some()
}

/// The copier attack: a job needs two replicas; A commits X, B misses its commit (by accident,
/// or B is A's own account), and C is drawn to replace B. Before, reveals opened with A alone
/// and C was drawn only after A's reveal was stored: C committed to a copy of it (result,
/// output, root and leaves, with its own salt and usage), the two agreed and C was paid and
/// credited for a run it never made. Now C is drawn at the commit deadline, before any reveal
/// opens: there is nothing public to copy when C must commit.
#[test]
fn a_replacement_is_drawn_while_every_result_is_still_sealed() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 2, 1);
		let (a, b) = (ps[0], ps[1]);
		commit(id, a, 1, b"X", usage(10_000));
		// B misses its commit.
		run_to_block(8);
		assert_eq!(bond_of(b), BOND - 100);
		// A reveals as soon as it may, to show its result to whoever is drawn next.
		let early = try_reveal(id, a, 1, b"X", usage(10_000));
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.providers.len(), 3);
		let c = job.providers[2];
		assert!(!ps.contains(&c));

		// The copier's move: commit to whatever of A's is public, with its own salt and usage.
		if let Some(rec) = Reveals::<Test>::get(id, a) {
			let mut copy = rec.reveal.clone();
			copy.salt = [c as u8; 32];
			copy.usage = usage(20_000);
			commit_to(id, c, &copy);
			let _ = VmProof::reveal_result(RuntimeOrigin::signed(c), id, copy, rec.leaves, None);
		}
		assert_eq!(Balances::balance(&c), 100_000 - BOND, "the copier was paid for A's run");
		assert_eq!(credited_millis(0, c), 0, "the copier was credited A's run");

		// C was drawn at B's commit deadline, in the commit phase, with A's result sealed.
		assert!(!any_reveal_public(id));
		assert!(events().contains(&Event::MoreReplicasRequested { job: id, added: 1 }));
		assert_eq!(Rounds::<Test>::get(id).unwrap().phase, Phase::Committing);
		assert_eq!(job.state, JobState::Assigned);
		assert_eq!(early, Err(Error::<Test>::CommitsNotClosed.into()));
		assert!(!queue_events()
			.iter()
			.any(|e| matches!(e, pallet_job_queue::Event::JobRevealing { .. })));
		// The replacement has a commit window of its own and its deadline is scheduled.
		let deadline = Rounds::<Test>::get(id)
			.unwrap()
			.members
			.iter()
			.find(|m| m.who == c)
			.unwrap()
			.commit_deadline;
		assert_eq!(deadline, 8 + 5);
		assert!(Deadlines::<Test>::get(deadline + 1).contains(&id));

		// C has to run the job itself; once it commits, reveals open and both are paid.
		commit(id, c, 1, b"X", usage(10_000));
		assert!(matches!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { .. }));
		reveal(id, a, 1, b"X", usage(10_000));
		reveal(id, c, 1, b"X", usage(10_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		assert!(events().iter().any(|e| matches!(e,
			Event::ResultAccepted { agreeing, .. } if agreeing.to_vec() == vec![a, c])));
		assert_eq!(Balances::balance(&c), 100_000 - BOND + 10);
	});
}

/// A replacement that misses its commit too is replaced in turn, still before any reveal.
#[test]
fn replacements_keep_being_drawn_before_reveals_while_below_min_replicas() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, b"X", usage(10_000));
		run_to_block(8);
		let c = Jobs::<Test>::get(id).unwrap().providers[2];
		// C misses its commit deadline (block 13) as well.
		run_to_block(14);
		assert_eq!(bond_of(c), BOND - 100);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.providers.len(), 4);
		let d = job.providers[3];
		assert!(!any_reveal_public(id));
		assert_eq!(Rounds::<Test>::get(id).unwrap().phase, Phase::Committing);
		assert_eq!(VmProof::wave_of(id, &d), Some(2));
		commit(id, d, 1, b"X", usage(10_000));
		reveal(id, ps[0], 1, b"X", usage(10_000));
		reveal(id, d, 1, b"X", usage(10_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
	});
}

/// When no replacement can be drawn, reveals open with the one commitment and the verdict is
/// taken as before: one valid reveal of two asked for is disputed and the revealer paid.
#[test]
fn without_a_replacement_to_draw_reveals_open_and_the_verdict_is_as_before() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		commit(id, ps[0], 1, b"X", usage(10_000));
		run_to_block(8);
		assert!(!events().iter().any(|e| matches!(e, Event::MoreReplicasRequested { .. })));
		assert!(matches!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { .. }));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Revealing);
		reveal(id, ps[0], 1, b"X", usage(10_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(events().contains(&Event::ResultDisputed {
			job: id,
			first_divergence: None,
			paid: BoundedVec::truncate_from(vec![ps[0]]),
		}));
		assert_eq!(Balances::balance(&ps[0]), 100_000 - BOND + 10);
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit - 10);
	});
}

/// Results already revealed in an earlier wave count as sealed: a tie-break wave of one opens
/// reveals as soon as its member commits (the residual risk of that wave is documented in
/// `docs/protocol.md`).
#[test]
fn a_tie_break_wave_counts_the_earlier_reveals() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 3, 1);
		commit(id, ps[0], 1, b"X", usage(10_000));
		commit(id, ps[1], 2, b"Y", usage(10_000));
		reveal(id, ps[0], 1, b"X", usage(10_000));
		reveal(id, ps[1], 2, b"Y", usage(10_000));
		let c = Jobs::<Test>::get(id).unwrap().providers[2];
		commit(id, c, 1, b"X", usage(10_000));
		assert!(matches!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { .. }));
		assert_eq!(Jobs::<Test>::get(id).unwrap().providers.len(), 3);
	});
}
