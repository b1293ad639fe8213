//! The worker's decisions: [`plan`], a pure function from what the chain shows at a best
//! block and at the finalised head ([`ChainView`]), what the worker remembers
//! ([`LocalState`]) and its configuration to the [`Action`]s to take now.
//!
//! The plan is called on every new best or finalised head and after every task result, so it
//! must be idempotent: a task that runs or ran less than its gap ago is not started again
//! ([`LocalState::may_start`]), and a decline or report is remembered once taken.
//!
//! # Per assignment
//!
//! - `Commit`, with a pending record (a restart, or a commit that did not land): send the same
//!   commitment again, while the commit deadline is not past. A legacy (format-1) record is
//!   never sent: its commitment follows the chain's version-1 rule, which the chain checks only
//!   for members that had committed before its upgrade; it is forgotten, so the job runs again
//!   and commits under the version-2 rule.
//! - `Commit`, without a record: decline a spec beyond the caps or with non-UTF-8 fields;
//!   while Docker does not answer, wait; decline when fewer blocks are left before the commit
//!   deadline than the job's `max_seconds` plus [`COMMIT_MARGIN_BLOCKS`] take
//!   ([`blocks_needed`]); else run it when a slot is free (earliest deadline first).
//! - `Reveal`: reveal from the record once that phase is final, while the reveal deadline is
//!   not past; without a record (lost or corrupt state), report that once. A legacy record is
//!   revealed like any other (the `reveal_result` call did not change; the chain checks a
//!   legacy member's reveal against the version-1 rule).
//! - `Commit`, running or ran and not yet committed on chain: a long job (the chain holds a
//!   last sign of life for this provider, `VmProof::JobHeartbeats`) gets a `job_heartbeat`
//!   every [`job_heartbeat_every`] blocks after the last one the chain shows, until the commit
//!   is on chain.
//! - `Committed` / `Revealed`: wait.
//!
//! A job the state knows but the chain no longer assigns (settled, expired, replaced) is
//! forgotten, unless a task of it still runs.
//!
//! # Provider
//!
//! A heartbeat goes out every `heartbeat_every` blocks while Docker answers, unless the
//! provider record shows one for the current epoch already. The lottery step is
//! [`lottery::decide`]: register the VRF key, claim a winning ticket, report each draw once.
//!
//! # Clock
//!
//! The plan's clock is the best block, so that a job starts as soon as the block that assigns
//! it is imported, not a finality lag later (issue 13's latency). What a fork may revert is
//! safe to do at the best block: a run (wasted if the assignment is reverted), a commit (a
//! digest; re-sent if it is reverted), a decline, a heartbeat. Two things wait for finality:
//!
//! - a **reveal** is sent only once the finalised head shows the assignment in its `Reveal`
//!   phase ([`reveal_is_final`]): a reveal on a fork that is then reverted would show the result
//!   to members whose commits were reverted with it, free to copy it;
//! - a job is **forgotten** (its pending record deleted) only when neither the best block nor
//!   the finalised head assigns it: a best fork without the assignment may be reverted.
//!
//! When finality stalls, runs and commits go on and reveals wait (a member whose reveal
//! deadline passes meanwhile is slashed as on any chain without finality).

use std::collections::{BTreeMap, BTreeSet};

use pallet_vrf_lottery::VrfProofBytes;
use povm_primitives::AssignmentPhase;

use super::{
	job::{self, SpecError},
	local::{ChainDeclineReason, LocalState, Task},
};
use crate::{
	config::Config,
	executor::JobRun,
	lottery::{self, Decision},
	prelude::*,
	signer::Signer,
	state::PendingCommit,
};

/// Blocks to wait before re-sending a transaction whose effect is not yet visible, or
/// retrying a job run that failed.
pub const RESEND_AFTER: BlockNumber = 4;

/// Blocks a commit needs after its run ends: one to be included in, one of slack (an empty
/// slot, a fork).
pub const COMMIT_MARGIN_BLOCKS: BlockNumber = 2;

/// The lottery as the chain shows it to this provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotteryChainView {
	/// The open draw, if any (`VrfLotteryApi_current_draw`).
	pub draw: Option<DrawView>,
	/// The provider's standing in it (`VrfLotteryApi_provider`).
	pub provider: LotteryView,
}

/// What the worker reads from the chain (and Docker) at one best block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainView {
	/// The best block: the plan's clock.
	pub now: BlockNumber,
	/// The finalised head.
	pub finalized: BlockNumber,
	/// For the jobs whose commit the best block waits for and this worker holds a pending
	/// record of: the digest of the job's spec at the finalised head ([`spec_digest`]); a job
	/// missing here is not final yet. A job id is
	/// a counter: two forks may give the same id to different jobs, so a record is committed
	/// only for the job it was run for.
	pub final_specs: BTreeMap<JobId, Digest>,
	/// This provider's assignments at the finalised head, by job: the phase there. A reveal
	/// waits for its `Reveal` phase to be final, and a job is forgotten only when neither the
	/// best block nor the finalised head assigns it.
	pub final_phases: BTreeMap<JobId, AssignmentPhase>,
	/// The runtime's block time in milliseconds (the job queue's `MillisecsPerBlock`
	/// constant), with which a job's `max_seconds` become blocks.
	pub millis_per_block: u64,
	/// This provider's assignments at the best block.
	pub assignments: Vec<AssignmentView>,
	/// Specs of the assigned jobs the worker may still run (see [`needs_spec`]); a job
	/// missing here (its read failed) waits.
	pub specs: BTreeMap<JobId, JobSpec>,
	/// The lottery; `None` when it could not be read (the lottery step waits).
	pub lottery: Option<LotteryChainView>,
	/// Whether the provider record shows a heartbeat in the current epoch; `None` when it
	/// could not be read (a due heartbeat is sent).
	pub heartbeat_current: Option<bool>,
	/// Whether Docker answers.
	pub docker_up: bool,
	/// The chain's `StallTimeout` (vm-proof): the most blocks a member of a long job may go
	/// without a job heartbeat; `None` for a runtime without job heartbeats.
	pub stall_timeout: Option<BlockNumber>,
	/// For the running jobs whose members must send job heartbeats: the last sign of life the
	/// chain holds for this provider (its draw or its last heartbeat).
	pub last_signs: BTreeMap<JobId, BlockNumber>,
}

/// Why the worker will not run a job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeclineReason {
	/// The spec cannot run on this host.
	#[error("{0}")]
	Spec(#[from] SpecError),
	/// Too few blocks are left before the commit deadline.
	#[error("{left} blocks left before the commit deadline, {needed} needed to run and commit")]
	TooLate {
		/// Blocks left after the best block, up to the deadline.
		left: BlockNumber,
		/// Blocks the run and the commit take ([`blocks_needed`]).
		needed: BlockNumber,
	},
}

impl DeclineReason {
	/// The reason sent in `decline_job`.
	pub fn on_chain(&self) -> ChainDeclineReason {
		match self {
			DeclineReason::Spec(SpecError::BeyondCaps { resources, caps }) =>
				if resources.max_seconds > caps.max_seconds {
					ChainDeclineReason::RunTimeAboveLimit
				} else {
					ChainDeclineReason::ResourcesAboveLimits
				},
			DeclineReason::Spec(SpecError::NotUtf8(_)) => ChainDeclineReason::InvalidSpec,
			DeclineReason::Spec(SpecError::PlatformMismatch { .. }) =>
				ChainDeclineReason::PlatformMismatch,
			DeclineReason::Spec(SpecError::InputsTooLarge { .. }) =>
				ChainDeclineReason::InputUnavailable,
			// Started too late to commit in time (a restart, Docker down): nothing the chain
			// has a better word for.
			DeclineReason::TooLate { .. } => ChainDeclineReason::Other,
		}
	}

	/// A short label for metrics.
	pub fn label(&self) -> &'static str {
		match self {
			DeclineReason::Spec(e) => e.label(),
			DeclineReason::TooLate { .. } => "too_late",
		}
	}
}

/// Something to do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
	/// Run the job and persist its pending commit (task [`Task::Run`]).
	Run {
		/// The job.
		job: JobId,
		/// The digest of the spec run ([`spec_digest`]), to tell the job from another one
		/// given the same id on another fork.
		spec: Digest,
		/// The draw wave this provider was assigned in (committed to).
		wave: u32,
		/// The job's resources on chain (they bound the committed usage).
		resources: povm_primitives::Resources,
		/// What the executor runs.
		run: Box<JobRun>,
	},
	/// Send `commit_result` with this record's commitment (task [`Task::Commit`]).
	Commit(Box<PendingCommit>),
	/// Send `reveal_result` from this record (task [`Task::Reveal`]).
	Reveal(Box<PendingCommit>),
	/// Do not run the job: log it, count it, remember it (with the reason to send in
	/// `decline_job`, see [`Action::SendDecline`]).
	Decline {
		/// The job.
		job: JobId,
		/// Why.
		reason: DeclineReason,
	},
	/// Send `decline_job` for a declined job the chain still shows waiting for this provider's
	/// commit (task [`Task::Decline`]): the provider is then not slashed as a no-show, and its
	/// replacement is drawn when the wave's commits close.
	SendDecline {
		/// The job.
		job: JobId,
		/// The reason on chain.
		reason: ChainDeclineReason,
	},
	/// Report that a job waits for a reveal the worker cannot send (no pending record).
	ReportMissingRecord {
		/// The job.
		job: JobId,
	},
	/// Forget a job no longer assigned, or a legacy record whose commit never landed: its
	/// record, its tries, its reports.
	Forget {
		/// The job.
		job: JobId,
	},
	/// Send `heartbeat` (task [`Task::Heartbeat`]).
	Heartbeat,
	/// Send `job_heartbeat` for a long job that runs here (task [`Task::JobHeartbeat`]).
	JobHeartbeat {
		/// The job.
		job: JobId,
	},
	/// Send `register_vrf_key` with the provider key (task [`Task::RegisterVrfKey`]).
	RegisterVrfKey,
	/// Send `claim_ticket` (task [`Task::Claim`]).
	ClaimTicket {
		/// The open draw's epoch.
		epoch: u32,
		/// The VRF signature to claim with.
		signature: VrfProofBytes,
	},
	/// Report the result of a draw the provider holds tickets in (log, metric), once.
	ReportDraw {
		/// The draw's epoch.
		epoch: u32,
		/// Whether the VRF output is below the threshold.
		won: bool,
		/// The VRF output's lottery value.
		value: u128,
		/// The threshold.
		threshold: u128,
		/// The provider's tickets.
		tickets: u64,
	},
}

impl Action {
	/// The task the action starts, if it starts one.
	pub fn task(&self) -> Option<Task> {
		match self {
			Action::Run { job, .. } => Some(Task::Run(*job)),
			Action::Commit(r) => Some(Task::Commit(r.job)),
			Action::Reveal(r) => Some(Task::Reveal(r.job)),
			Action::Heartbeat => Some(Task::Heartbeat),
			Action::JobHeartbeat { job } => Some(Task::JobHeartbeat(*job)),
			Action::RegisterVrfKey => Some(Task::RegisterVrfKey),
			Action::ClaimTicket { epoch, .. } => Some(Task::Claim(*epoch)),
			Action::SendDecline { job, .. } => Some(Task::Decline(*job)),
			Action::Decline { .. } |
			Action::ReportMissingRecord { .. } |
			Action::Forget { .. } |
			Action::ReportDraw { .. } => None,
		}
	}
}

/// How long getting the image and inputs of a run may take when `left` blocks remain before
/// the commit deadline and the run needs `needed`: half the spare blocks (at least one), so
/// that a job whose image or inputs come too slowly is declined in the first half of its
/// commit window, which costs nothing, rather than after it, which is slashed as a no-show.
pub fn prepare_within(
	left: BlockNumber,
	needed: BlockNumber,
	millis_per_block: u64,
) -> std::time::Duration {
	let spare = u64::from(left.saturating_sub(needed) / 2).max(1);
	std::time::Duration::from_millis(spare.saturating_mul(millis_per_block))
}

/// Blocks a job of `max_seconds` needs before its commit deadline: its run time in blocks,
/// rounded up, plus [`COMMIT_MARGIN_BLOCKS`].
pub fn blocks_needed(max_seconds: u32, millis_per_block: u64) -> BlockNumber {
	let run = (u64::from(max_seconds) * 1000).div_ceil(millis_per_block.max(1));
	BlockNumber::try_from(run)
		.unwrap_or(BlockNumber::MAX)
		.saturating_add(COMMIT_MARGIN_BLOCKS)
}

/// Blocks between two job heartbeats of a long job: a quarter of the chain's `StallTimeout`
/// (at least one), the spacing the chain takes for free: a member rides out two or three lost
/// heartbeats.
pub fn job_heartbeat_every(stall_timeout: BlockNumber) -> BlockNumber {
	(stall_timeout / 4).max(1)
}

/// Whether the worker is at work on assignment `a`, so owes the chain signs of life for it:
/// the chain waits for its commit, and it runs the job or ran it (its commit is not yet on
/// chain).
pub fn at_work_on(a: &AssignmentView, state: &LocalState) -> bool {
	a.phase == AssignmentPhase::Commit &&
		(state.in_flight.contains(&Task::Run(a.job)) || state.records.contains_key(&a.job))
}

/// Whether a job heartbeat is due for assignment `a` at best block `now`: the worker is
/// at work on the job ([`at_work_on`]), the chain wants heartbeats from this member (a last
/// sign of life in `view`), and the last one is [`job_heartbeat_every`] blocks old, as is the
/// last one sent.
pub fn job_heartbeat_due(a: &AssignmentView, view: &ChainView, state: &LocalState) -> bool {
	let (Some(timeout), Some(last)) = (view.stall_timeout, view.last_signs.get(&a.job)) else {
		return false;
	};
	let every = job_heartbeat_every(timeout);
	let now = view.now;
	now <= a.commit_deadline &&
		at_work_on(a, state) &&
		now >= last.saturating_add(every) &&
		state.may_start(Task::JobHeartbeat(a.job), now, every)
}

/// The digest by which the worker tells a job from another given the same id on another
/// fork: blake2-256 of its encoded spec.
pub fn spec_digest(spec: &JobSpec) -> Digest {
	crate::attestation::blake2_256(&codec::Encode::encode(spec))
}

/// Whether `job`'s commit is safe to send: the finalised head holds the job with the spec the
/// record was run for (a record read back from disk after a restart, whose spec is not known,
/// only needs the job to be final). Commits wait for the job's submission to be final (a block
/// or two after it, before any run ends), not for its assignment.
pub fn commit_is_safe(job: JobId, view: &ChainView, state: &LocalState) -> bool {
	match (view.final_specs.get(&job), state.ran_specs.get(&job)) {
		(None, _) => false,
		(Some(_), None) => true,
		(Some(final_spec), Some(ran)) => final_spec == ran,
	}
}

/// Whether the pending record of `job` was run for another job than the one the finalised
/// head holds under its id (the run's fork was reverted): it must never be committed.
pub fn record_of_another_job(job: JobId, view: &ChainView, state: &LocalState) -> bool {
	matches!(
		(view.final_specs.get(&job), state.ran_specs.get(&job)),
		(Some(final_spec), Some(ran)) if final_spec != ran
	)
}

/// Whether `job`'s reveal is safe to send: the finalised head shows this provider's
/// assignment to it in its `Reveal` phase, so every member's commit is final.
pub fn reveal_is_final(job: JobId, view: &ChainView) -> bool {
	view.final_phases.get(&job) == Some(&AssignmentPhase::Reveal)
}

/// Whether the worker may still run assignment `a`, so needs its spec: commit phase, no
/// record, not declined, not running.
pub fn needs_spec(a: &AssignmentView, state: &LocalState) -> bool {
	a.phase == AssignmentPhase::Commit &&
		!state.records.contains_key(&a.job) &&
		!state.declined.contains_key(&a.job) &&
		!state.in_flight.contains(&Task::Run(a.job))
}

/// The actions to take at `view` given `state`; `signer` evaluates the lottery VRF.
pub fn plan(view: &ChainView, state: &LocalState, config: &Config, signer: &Signer) -> Vec<Action> {
	let now = view.now;
	let mut actions = Vec::new();
	let mut free_slots = (config.slots as usize).saturating_sub(state.runs_in_flight());
	let mut assignments = view.assignments.clone();
	assignments.sort_by_key(|a| (a.commit_deadline, a.job));
	for a in &assignments {
		match a.phase {
			AssignmentPhase::Commit => match state.records.get(&a.job) {
				Some(record) if record.legacy =>
					if !state.job_in_flight(a.job) {
						actions.push(Action::Forget { job: a.job });
					},
				// Run for another job under this id (a reverted fork), or for another wave of
				// this one (drawn in a different wave on another fork, or drawn again): its
				// commitment would not open for this assignment.
				Some(record)
					if record_of_another_job(a.job, view, state) || record.wave != a.wave =>
				{
					if !state.job_in_flight(a.job) {
						actions.push(Action::Forget { job: a.job });
					}
				},
				Some(record) => {
					if commit_is_safe(a.job, view, state) &&
						now <= a.commit_deadline &&
						state.may_start(Task::Commit(a.job), now, RESEND_AFTER)
					{
						actions.push(Action::Commit(Box::new(record.clone())));
					}
					// Until the commit is on chain (it may be refused or late), the member
					// still shows it is alive.
					if job_heartbeat_due(a, view, state) {
						actions.push(Action::JobHeartbeat { job: a.job });
					}
				},
				None => {
					if let Some(reason) = state.declined.get(&a.job) {
						// Declined (here or after a run that cannot succeed on this host): send or
						// resend `decline_job` while the chain waits for this provider's commit.
						if now <= a.commit_deadline &&
							state.may_start(Task::Decline(a.job), now, RESEND_AFTER)
						{
							actions.push(Action::SendDecline { job: a.job, reason: *reason });
						}
						continue;
					}
					if job_heartbeat_due(a, view, state) {
						actions.push(Action::JobHeartbeat { job: a.job });
					}
					if !needs_spec(a, state) {
						continue;
					}
					let Some(spec) = view.specs.get(&a.job) else { continue };
					let run =
						match job::to_job_run(a.job, spec, config, job::work_dir(config, a.job)) {
							Ok(run) => run,
							Err(e) => {
								decline(&mut actions, a, now, e.into());
								continue;
							},
						};
					if !view.docker_up {
						continue;
					}
					let left = a.commit_deadline.saturating_sub(now);
					let needed = blocks_needed(spec.resources.max_seconds, view.millis_per_block);
					if left < needed {
						decline(&mut actions, a, now, DeclineReason::TooLate { left, needed });
						continue;
					}
					if free_slots > 0 && state.may_start(Task::Run(a.job), now, RESEND_AFTER) {
						free_slots -= 1;
						let mut run = run;
						run.prepare_within = prepare_within(left, needed, view.millis_per_block);
						actions.push(Action::Run {
							job: a.job,
							spec: spec_digest(spec),
							wave: a.wave,
							resources: spec.resources,
							run: Box::new(run),
						});
					}
				},
			},
			AssignmentPhase::Reveal => match state.records.get(&a.job) {
				Some(record) => {
					// Only once the commits' close is final: a reveal on a fork that is
					// reverted would show the result to members still free to commit.
					if reveal_is_final(a.job, view) &&
						now <= a.reveal_deadline &&
						state.may_start(Task::Reveal(a.job), now, RESEND_AFTER)
					{
						actions.push(Action::Reveal(Box::new(record.clone())));
					}
				},
				None =>
					if !state.missing_reported.contains(&a.job) {
						actions.push(Action::ReportMissingRecord { job: a.job });
					},
			},
			AssignmentPhase::Committed | AssignmentPhase::Revealed => {},
		}
	}

	// A job missing from a best fork may come back with it: only the finalised head forgets.
	let assigned: BTreeSet<JobId> = view
		.assignments
		.iter()
		.map(|a| a.job)
		.chain(view.final_phases.keys().copied())
		.collect();
	for job in state.known_jobs() {
		// Nor before finality passes the last best block that assigned it: that block's
		// fork may still win.
		let seen_final = state.last_assigned.get(&job).is_none_or(|at| view.finalized >= *at);
		if !assigned.contains(&job) && !state.job_in_flight(job) && seen_final {
			actions.push(Action::Forget { job });
		}
	}

	if view.docker_up &&
		view.heartbeat_current != Some(true) &&
		state.may_start(Task::Heartbeat, now, config.heartbeat_every)
	{
		actions.push(Action::Heartbeat);
	}

	if let Some(l) = &view.lottery {
		lottery_step(l, state, now, signer, &mut actions);
	}
	actions
}

/// Decline assignment `a` at best block `now`: remember why ([`Action::Decline`]) and,
/// while its commit deadline has not passed, send `decline_job` ([`Action::SendDecline`]).
fn decline(actions: &mut Vec<Action>, a: &AssignmentView, now: BlockNumber, reason: DeclineReason) {
	let on_chain = reason.on_chain();
	actions.push(Action::Decline { job: a.job, reason });
	if now <= a.commit_deadline {
		actions.push(Action::SendDecline { job: a.job, reason: on_chain });
	}
}

/// The lottery part of [`plan`].
fn lottery_step(
	l: &LotteryChainView,
	state: &LocalState,
	now: BlockNumber,
	signer: &Signer,
	actions: &mut Vec<Action>,
) {
	let tickets = l.provider.tickets;
	// A key registered in a block not final yet is not re-sent within `RESEND_AFTER`
	// blocks; if it is, the pallet refuses it (`KeyAlreadyRegistered`) and its activation
	// delay stands.
	match lottery::decide(signer, l.draw.as_ref(), &l.provider) {
		Decision::RegisterKey =>
			if state.may_start(Task::RegisterVrfKey, now, RESEND_AFTER) {
				actions.push(Action::RegisterVrfKey);
			},
		Decision::Wait(_) => {},
		Decision::Lost { epoch, value, threshold } =>
			if state.draw_reported != Some(epoch) {
				actions.push(Action::ReportDraw { epoch, won: false, value, threshold, tickets });
			},
		Decision::Claim { epoch, signature, value, threshold } => {
			if state.draw_reported != Some(epoch) {
				actions.push(Action::ReportDraw { epoch, won: true, value, threshold, tickets });
			}
			if state.may_start(Task::Claim(epoch), now, RESEND_AFTER) {
				actions.push(Action::ClaimTicket { epoch, signature });
			}
		},
	}
}

#[cfg(test)]
mod tests {
	use pallet_vrf_lottery::ClaimRecord;

	use super::*;
	use crate::{
		commands::run::{
			job::tests::spec,
			local::{Completion, RunError},
		},
		error::ChainError,
		executor::ExecError,
	};

	const DEADLINE: BlockNumber = 120;
	/// A 30-second job needs 5 blocks of run time and the margin.
	const NEEDED: BlockNumber = 5 + COMMIT_MARGIN_BLOCKS;

	fn signer() -> Signer {
		Signer::from_uri("//Dave").expect("a dev key")
	}

	fn assignment(job: JobId, phase: AssignmentPhase) -> AssignmentView {
		AssignmentView {
			job,
			wave: 0,
			phase,
			commit_deadline: DEADLINE,
			reveal_deadline: DEADLINE + 20,
		}
	}

	fn record(job: JobId) -> PendingCommit {
		PendingCommit {
			job,
			wave: 0,
			commitment: [9; 32],
			reveal: pallet_vm_proof::Reveal {
				result_digest: [1; 32],
				checkpoints_root: [2; 32],
				salt: [3; 32],
				output: b"{}".to_vec().try_into().unwrap(),
				usage: povm_primitives::Usage { cpu_ms: 5, memory_mib_s: 6, wall_ms: 7 },
			},
			leaves: vec![[4; 32]],
			outcome: None,
			legacy: false,
		}
	}

	/// `record(job)` as a format-1 worker left it on disk, loaded back.
	fn legacy_record(dir: &std::path::Path, job: JobId) -> PendingCommit {
		use codec::Encode;
		let store = crate::state::StateStore::open(dir).unwrap();
		let r = record(job);
		let mut bytes = vec![1u8];
		(r.job, r.commitment, r.reveal, r.leaves).encode_to(&mut bytes);
		std::fs::write(dir.join(format!("commits/{job}.scale")), bytes).unwrap();
		store.load(job).unwrap().unwrap()
	}

	/// The chain at best block `now` with `assignments`, final as they are (30-second specs for
	/// all), Docker up, the heartbeat of this epoch on chain, the lottery not read.
	fn view(now: BlockNumber, assignments: Vec<AssignmentView>) -> ChainView {
		ChainView {
			now,
			finalized: now,
			final_specs: assignments.iter().map(|a| (a.job, spec_digest(&spec(30)))).collect(),
			final_phases: assignments.iter().map(|a| (a.job, a.phase)).collect(),
			millis_per_block: 6_000,
			specs: assignments.iter().map(|a| (a.job, spec(30))).collect(),
			assignments,
			lottery: None,
			heartbeat_current: Some(true),
			stall_timeout: Some(20),
			last_signs: BTreeMap::new(),
			docker_up: true,
		}
	}

	/// Plans at `view` and applies the actions, as the service loop does.
	fn step(view: &ChainView, state: &mut LocalState) -> Vec<Action> {
		step_with(view, state, &Config::default())
	}

	/// As [`step`] with `config`; each run's `prepare_within` is set back to the default, so
	/// that tests compare runs by what they run (its arithmetic has a test of its own).
	fn step_with(view: &ChainView, state: &mut LocalState, config: &Config) -> Vec<Action> {
		let mut actions = plan(view, state, config, &signer());
		for a in &mut actions {
			state.apply(a, view.now);
			if let Action::Run { run, .. } = a {
				run.prepare_within = crate::executor::DEFAULT_PREPARE_WITHIN;
			}
		}
		actions
	}

	fn run_of(job: JobId) -> Action {
		let config = Config::default();
		let run = job::to_job_run(job, &spec(30), &config, job::work_dir(&config, job)).unwrap();
		Action::Run {
			job,
			spec: spec_digest(&spec(30)),
			wave: 0,
			resources: spec(30).resources,
			run: Box::new(run),
		}
	}

	fn commit(job: JobId) -> Action {
		Action::Commit(Box::new(record(job)))
	}

	fn reveal(job: JobId) -> Action {
		Action::Reveal(Box::new(record(job)))
	}

	fn submitted(task: Task, result: Result<H256, ChainError>) -> Completion {
		Completion::Submitted { task, result }
	}

	fn in_block() -> Result<H256, ChainError> {
		Ok(H256::zero())
	}

	fn timeout() -> ChainError {
		ChainError::Timeout {
			method: "author_submitAndWatchExtrinsic",
			timeout: Default::default(),
		}
	}

	fn rejected() -> ChainError {
		ChainError::Rejected { call: "commit_result", message: "invalid".into() }
	}

	#[test]
	fn commit_phase_without_record_runs_the_job() {
		let mut state = LocalState::default();
		let v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&v, &mut state), vec![run_of(1)]);
		assert!(state.in_flight.contains(&Task::Run(1)));
	}

	#[test]
	fn a_finished_run_is_committed_at_once() {
		let mut state = LocalState::default();
		let v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		step(&v, &mut state);
		state.complete(Completion::Ran { job: 1, result: Ok(record(1)) });
		// The loop plans again on the result, with the same view.
		assert_eq!(step(&v, &mut state), vec![commit(1)]);
		assert_eq!(state.records.get(&1), Some(&record(1)));
	}

	#[test]
	fn commit_phase_with_record_commits_again() {
		let mut state = LocalState::from_records([record(1)]);
		let v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&v, &mut state), vec![commit(1)]);
	}

	#[test]
	fn no_commit_once_the_commit_deadline_is_past() {
		let mut state = LocalState::from_records([record(1)]);
		let v = view(DEADLINE + 1, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn commit_deadline_too_near_declines_once_and_does_not_run() {
		let mut state = LocalState::default();
		// Exactly enough blocks left: run.
		let v = view(DEADLINE - NEEDED, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&v, &mut state.clone()), vec![run_of(1)]);
		// One block fewer: decline, once.
		let v = view(DEADLINE - NEEDED + 1, vec![assignment(1, AssignmentPhase::Commit)]);
		let reason = DeclineReason::TooLate { left: NEEDED - 1, needed: NEEDED };
		let send = Action::SendDecline { job: 1, reason: ChainDeclineReason::Other };
		assert_eq!(step(&v, &mut state), vec![Action::Decline { job: 1, reason }, send.clone()]);
		assert!(state.declined.contains_key(&1));
		// Declined once: while the decline is in flight nothing more happens.
		assert_eq!(step(&v, &mut state), vec![]);
		// Sent, but the chain still shows the job waiting for a commit: resent later, never run.
		state.complete(submitted(Task::Decline(1), in_block()));
		let later = view(
			DEADLINE - NEEDED + 1 + RESEND_AFTER,
			vec![assignment(1, AssignmentPhase::Commit)],
		);
		assert_eq!(step(&later, &mut state), vec![send]);
		// Past the commit deadline nothing is sent.
		state.complete(submitted(Task::Decline(1), in_block()));
		let past = view(DEADLINE + 1, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&past, &mut state), vec![]);
	}

	#[test]
	fn blocks_needed_round_the_run_time_up() {
		assert_eq!(blocks_needed(0, 6_000), COMMIT_MARGIN_BLOCKS);
		assert_eq!(blocks_needed(6, 6_000), 1 + COMMIT_MARGIN_BLOCKS);
		assert_eq!(blocks_needed(7, 6_000), 2 + COMMIT_MARGIN_BLOCKS);
		assert_eq!(blocks_needed(u32::MAX, 6_000), 715_827_883 + COMMIT_MARGIN_BLOCKS);
		// The block time is the runtime's: 2 s blocks need three times the blocks.
		assert_eq!(blocks_needed(6, 2_000), 3 + COMMIT_MARGIN_BLOCKS);
	}

	#[test]
	fn specs_beyond_the_caps_or_not_utf8_are_declined_even_with_docker_down() {
		let config = Config::default();
		let mut state = LocalState::default();
		let mut v = view(
			100,
			vec![
				assignment(1, AssignmentPhase::Commit),
				assignment(2, AssignmentPhase::Commit),
				assignment(3, AssignmentPhase::Commit),
				assignment(4, AssignmentPhase::Commit),
				assignment(5, AssignmentPhase::Commit),
			],
		);
		v.docker_up = false;
		v.specs.get_mut(&1).unwrap().resources.millicores = config.caps.millicores + 1;
		v.specs.get_mut(&2).unwrap().command = vec![0xff].try_into().unwrap();
		v.specs.get_mut(&3).unwrap().resources.max_seconds = config.caps.max_seconds + 1;
		let other_arch = match crate::config::host_arch() {
			povm_primitives::Arch::X86_64 => povm_primitives::Arch::Aarch64,
			_ => povm_primitives::Arch::X86_64,
		};
		v.specs.get_mut(&4).unwrap().image.arch = other_arch;
		v.specs.get_mut(&5).unwrap().inputs = vec![povm_primitives::InputRef {
			name: b"big.bin".to_vec().try_into().unwrap(),
			url: b"https://data.example.org/big.bin".to_vec().try_into().unwrap(),
			sha256: [0; 32],
			size: (config.inputs.max_input_mib << 20) + 1,
		}]
		.try_into()
		.unwrap();
		let actions = step(&v, &mut state);
		let labels: Vec<_> = actions
			.iter()
			.filter_map(|a| match a {
				Action::Decline { job, reason } => Some((*job, reason.label())),
				Action::SendDecline { .. } => None,
				other => panic!("{other:?}"),
			})
			.collect();
		assert_eq!(
			labels,
			[
				(1, "beyond_caps"),
				(2, "not_utf8"),
				(3, "beyond_caps"),
				(4, "platform_mismatch"),
				(5, "inputs_too_large")
			]
		);
		// Each is declined on chain too, with the chain's word for it.
		let sent: Vec<_> = actions
			.iter()
			.filter_map(|a| match a {
				Action::SendDecline { job, reason } => Some((*job, *reason)),
				_ => None,
			})
			.collect();
		assert_eq!(
			sent,
			[
				(1, ChainDeclineReason::ResourcesAboveLimits),
				(2, ChainDeclineReason::InvalidSpec),
				(3, ChainDeclineReason::RunTimeAboveLimit),
				(4, ChainDeclineReason::PlatformMismatch),
				(5, ChainDeclineReason::InputUnavailable)
			]
		);
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn a_job_whose_spec_was_not_read_waits() {
		let mut state = LocalState::default();
		let mut v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		v.specs.clear();
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn docker_down_runs_nothing_sends_no_heartbeat_but_commits_and_reveals_go_on() {
		let mut state = LocalState::from_records([record(2), record(3)]);
		let mut v = view(
			100,
			vec![
				assignment(1, AssignmentPhase::Commit),
				assignment(2, AssignmentPhase::Commit),
				assignment(3, AssignmentPhase::Reveal),
			],
		);
		v.docker_up = false;
		v.heartbeat_current = Some(false);
		assert_eq!(step(&v, &mut state), vec![commit(2), reveal(3)]);
		// Docker back: the job runs and the heartbeat goes out.
		v.docker_up = true;
		assert_eq!(step(&v, &mut state), vec![run_of(1), Action::Heartbeat]);
	}

	#[test]
	fn docker_down_past_the_time_to_run_declines() {
		let mut state = LocalState::default();
		let mut v = view(DEADLINE, vec![assignment(1, AssignmentPhase::Commit)]);
		v.docker_up = false;
		assert_eq!(step(&v, &mut state), vec![]);
		v.docker_up = true;
		let reason = DeclineReason::TooLate { left: 0, needed: NEEDED };
		let send = Action::SendDecline { job: 1, reason: ChainDeclineReason::Other };
		assert_eq!(step(&v, &mut state), vec![Action::Decline { job: 1, reason }, send]);
	}

	#[test]
	fn restart_mid_reveal_reveals_from_the_record_on_disk() {
		let dir = tempfile::tempdir().unwrap();
		let store = crate::state::StateStore::open(dir.path()).unwrap();
		store.save(&record(4)).unwrap();
		// A new process: the state is rebuilt from the records on disk.
		let records = store.jobs().unwrap().into_iter().map(|j| store.load(j).unwrap().unwrap());
		let mut state = LocalState::from_records(records);
		let v = view(130, vec![assignment(4, AssignmentPhase::Reveal)]);
		assert_eq!(step(&v, &mut state), vec![reveal(4)]);
	}

	/// The worker acts at the best block: a job assigned there starts at once, before the
	/// block that assigns it is final (issue 13's latency: the worker used to wait for it).
	#[test]
	fn a_job_assigned_at_the_best_block_runs_before_it_is_final() {
		let mut state = LocalState::default();
		let mut v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		v.final_phases.clear();
		assert_eq!(step(&v, &mut state), vec![run_of(1)]);
	}

	/// A reveal is sent only once the finalised head shows the reveal phase: revealed on a
	/// best fork that is reverted, the result would be in the open while the commits are not
	/// closed, for a co-member to copy into its own commit.
	#[test]
	fn a_reveal_waits_until_the_close_of_commits_is_final() {
		let mut state = LocalState::from_records([record(4)]);
		let mut v = view(130, vec![assignment(4, AssignmentPhase::Reveal)]);
		v.final_phases.insert(4, AssignmentPhase::Committed);
		assert_eq!(step(&v, &mut state), vec![]);
		v.final_phases.remove(&4);
		assert_eq!(step(&v, &mut state), vec![]);
		v.final_phases.insert(4, AssignmentPhase::Reveal);
		assert_eq!(step(&v, &mut state), vec![reveal(4)]);
	}

	/// A best fork that does not assign a job may be reverted: the pending record is kept
	/// while the finalised head still assigns the job, or has not reached the last best block
	/// that assigned it (deleting it would make the provider a reveal no-show once that fork
	/// wins after all).
	#[test]
	fn a_job_missing_from_a_best_fork_is_not_forgotten_while_final() {
		let mut state = LocalState::from_records([record(4)]);
		let mut v = view(130, vec![]);
		v.final_phases.insert(4, AssignmentPhase::Committed);
		assert_eq!(step(&v, &mut state), vec![]);
		assert!(state.records.contains_key(&4));
		v.final_phases.clear();
		assert_eq!(step(&v, &mut state), vec![Action::Forget { job: 4 }]);
		// Assigned at best block 140 only, then a fork without it: kept until 140 is final.
		let mut state = LocalState::from_records([record(4)]);
		state.note_assigned([4], 140);
		let mut v = view(141, vec![]);
		v.finalized = 139;
		assert_eq!(step(&v, &mut state), vec![]);
		v.finalized = 140;
		assert_eq!(step(&v, &mut state), vec![Action::Forget { job: 4 }]);
	}

	/// A job id is a counter, so two forks may give the same id to different jobs. A run
	/// started at the best block is committed only once the finalised head holds the job with
	/// the spec it ran (its submission is final a block or two after it, before the run ends);
	/// a record run for the job of a reverted fork is forgotten, never committed into the job
	/// the id now names (a wrong result the provider would be slashed for).
	#[test]
	fn a_run_is_committed_only_for_the_job_it_ran_not_another_given_its_id_on_a_fork() {
		let mut state = LocalState::default();
		let mut v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		v.final_specs.clear();
		assert_eq!(step(&v, &mut state), vec![run_of(1)]);
		state.complete(Completion::Ran { job: 1, result: Ok(record(1)) });
		// The job's submission is not final yet: no commit.
		v.now = 101;
		assert_eq!(step(&v, &mut state), vec![]);
		// Final, with the spec run: committed.
		v.final_specs.insert(1, spec_digest(&spec(30)));
		assert_eq!(step(&v, &mut state), vec![commit(1)]);
		// The finalised head gives id 1 to another job: the record is forgotten, not sent.
		let mut state = LocalState::default();
		v.final_specs.clear();
		step(&v, &mut state);
		state.complete(Completion::Ran { job: 1, result: Ok(record(1)) });
		v.final_specs.insert(1, spec_digest(&spec(60)));
		assert_eq!(step(&v, &mut state), vec![Action::Forget { job: 1 }]);
		assert!(!state.records.contains_key(&1));
	}

	/// A record made for another draw wave of the job (a fork drew this provider in another
	/// wave) commits to that wave: it is forgotten and the job run again for this one, not
	/// committed and then refused at the reveal (a no-show).
	#[test]
	fn a_record_of_another_wave_is_forgotten_not_committed() {
		let mut state = LocalState::from_records([record(1)]);
		let mut a = assignment(1, AssignmentPhase::Commit);
		a.wave = 1;
		let v = view(100, vec![a]);
		assert_eq!(step(&v, &mut state), vec![Action::Forget { job: 1 }]);
		let Some(Action::Run { wave, .. }) = step(&v, &mut state).first().cloned() else {
			panic!("the job runs again")
		};
		assert_eq!(wave, 1);
	}

	/// Before the fix, a format-1 record was refused as corrupt: the worker reported a missing
	/// record and the provider was slashed as a reveal no-show, although the chain lets it
	/// reveal what it committed before the upgrade.
	#[test]
	fn a_job_committed_before_the_upgrade_is_revealed_from_its_format_1_record() {
		let dir = tempfile::tempdir().unwrap();
		let legacy = legacy_record(dir.path(), 4);
		assert!(legacy.legacy);
		let mut state = LocalState::from_records([legacy.clone()]);
		let v = view(130, vec![assignment(4, AssignmentPhase::Reveal)]);
		assert_eq!(step(&v, &mut state), vec![Action::Reveal(Box::new(legacy))]);
	}

	#[test]
	fn a_format_1_record_whose_commit_never_landed_is_not_sent_and_the_job_runs_again() {
		let dir = tempfile::tempdir().unwrap();
		let mut state = LocalState::from_records([legacy_record(dir.path(), 1)]);
		let v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&v, &mut state), vec![Action::Forget { job: 1 }]);
		assert_eq!(step(&v, &mut state), vec![run_of(1)]);
	}

	#[test]
	fn no_reveal_once_the_reveal_deadline_is_past() {
		let mut state = LocalState::from_records([record(4)]);
		let v = view(DEADLINE + 21, vec![assignment(4, AssignmentPhase::Reveal)]);
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn reveal_phase_without_record_is_reported_once() {
		let mut state = LocalState::default();
		let v = view(130, vec![assignment(4, AssignmentPhase::Reveal)]);
		assert_eq!(step(&v, &mut state), vec![Action::ReportMissingRecord { job: 4 }]);
		assert_eq!(step(&v, &mut state), vec![]);
		assert_eq!(step(&view(131, v.assignments.clone()), &mut state), vec![]);
	}

	#[test]
	fn committed_and_revealed_wait() {
		let mut state = LocalState::from_records([record(1), record(2)]);
		let v = view(
			100,
			vec![
				assignment(1, AssignmentPhase::Committed),
				assignment(2, AssignmentPhase::Revealed),
			],
		);
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn resend_after_is_respected() {
		let mut state = LocalState::from_records([record(1)]);
		let a = vec![assignment(1, AssignmentPhase::Commit)];
		assert_eq!(step(&view(100, a.clone()), &mut state), vec![commit(1)]);
		state.complete(submitted(Task::Commit(1), in_block()));
		// The chain does not show the commit yet.
		for n in 101..100 + RESEND_AFTER {
			assert_eq!(step(&view(n, a.clone()), &mut state), vec![], "block {n}");
		}
		assert_eq!(step(&view(100 + RESEND_AFTER, a), &mut state), vec![commit(1)]);
	}

	#[test]
	fn in_flight_tasks_are_not_duplicated() {
		let mut state = LocalState::from_records([record(2)]);
		let mut a =
			vec![assignment(1, AssignmentPhase::Commit), assignment(2, AssignmentPhase::Reveal)];
		// Deadlines far off, so that only the tasks in flight hold the plan back.
		for x in &mut a {
			(x.commit_deadline, x.reveal_deadline) = (1000, 1000);
		}
		let mut v = view(100, a);
		v.heartbeat_current = Some(false);
		assert_eq!(step(&v, &mut state), vec![run_of(1), reveal(2), Action::Heartbeat]);
		// Long after, all three still run: nothing starts twice.
		assert_eq!(step(&view(200, v.assignments.clone()), &mut state), vec![]);
		v.now = 200;
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn a_failed_run_is_retried_after_resend_after() {
		let mut state = LocalState::default();
		let a = vec![assignment(1, AssignmentPhase::Commit)];
		assert_eq!(step(&view(100, a.clone()), &mut state), vec![run_of(1)]);
		let source = std::io::Error::other("no space left");
		let e = RunError::Executor(ExecError::WorkDir { path: "/tmp/x".into(), source });
		assert!(e.is_transient());
		state.complete(Completion::Ran { job: 1, result: Err(e) });
		assert_eq!(step(&view(101, a.clone()), &mut state), vec![]);
		assert_eq!(step(&view(100 + RESEND_AFTER, a), &mut state), vec![run_of(1)]);
	}

	#[test]
	fn a_transient_submit_failure_is_retried_after_resend_after() {
		let mut state = LocalState::from_records([record(1)]);
		let a = vec![assignment(1, AssignmentPhase::Commit)];
		step(&view(100, a.clone()), &mut state);
		state.complete(submitted(Task::Commit(1), Err(timeout())));
		assert_eq!(step(&view(100 + RESEND_AFTER - 1, a.clone()), &mut state), vec![]);
		assert_eq!(step(&view(100 + RESEND_AFTER, a), &mut state), vec![commit(1)]);
	}

	#[test]
	fn a_lasting_submit_failure_backs_off() {
		let mut state = LocalState::from_records([record(1)]);
		let mut a = vec![assignment(1, AssignmentPhase::Commit)];
		a[0].commit_deadline = 1000;
		step(&view(100, a.clone()), &mut state);
		state.complete(submitted(Task::Commit(1), Err(rejected())));
		// Twice the gap after one refusal, four times after two.
		assert_eq!(step(&view(100 + RESEND_AFTER, a.clone()), &mut state), vec![]);
		assert_eq!(step(&view(100 + 2 * RESEND_AFTER, a.clone()), &mut state), vec![commit(1)]);
		state.complete(submitted(Task::Commit(1), Err(rejected())));
		let at = 100 + 2 * RESEND_AFTER;
		assert_eq!(step(&view(at + 2 * RESEND_AFTER, a.clone()), &mut state), vec![]);
		assert_eq!(step(&view(at + 4 * RESEND_AFTER, a.clone()), &mut state), vec![commit(1)]);
		// A success resets the backoff.
		state.complete(submitted(Task::Commit(1), in_block()));
		let at = at + 4 * RESEND_AFTER;
		assert_eq!(step(&view(at + RESEND_AFTER, a), &mut state), vec![commit(1)]);
	}

	#[test]
	fn slots_limit_the_runs_earliest_deadline_first() {
		let mut state = LocalState::default();
		let mut a =
			vec![assignment(1, AssignmentPhase::Commit), assignment(2, AssignmentPhase::Commit)];
		a[0].commit_deadline = DEADLINE + 5;
		let v = view(100, a.clone());
		// One slot (the default): the job due first runs, the other waits.
		assert_eq!(step(&v, &mut state), vec![run_of(2)]);
		assert_eq!(step(&v, &mut state), vec![]);
		// The slot is free again: job 2 commits, job 1 runs.
		state.complete(Completion::Ran { job: 2, result: Ok(record(2)) });
		assert_eq!(step(&v, &mut state), vec![commit(2), run_of(1)]);
		// Two slots: both at once.
		let config = Config { slots: 2, ..Config::default() };
		let mut fresh = LocalState::default();
		assert_eq!(step_with(&v, &mut fresh, &config), vec![run_of(2), run_of(1)]);
	}

	/// A long job running here: the chain's `StallTimeout` is 20 blocks, so a heartbeat goes
	/// out 5 blocks after the last sign of life the chain holds, not before, and not again
	/// within 5 blocks of the last one sent.
	#[test]
	fn a_long_job_running_here_beats_a_third_of_the_stall_timeout_after_its_last_sign() {
		let mut state = LocalState::default();
		state.in_flight.insert(Task::Run(1));
		let at = |now: BlockNumber, last: BlockNumber| {
			let mut v = view(now, vec![assignment(1, AssignmentPhase::Commit)]);
			v.last_signs.insert(1, last);
			v
		};
		assert_eq!(job_heartbeat_every(20), 5);
		assert_eq!(step(&at(104, 100), &mut state), vec![]);
		assert_eq!(step(&at(105, 100), &mut state), vec![Action::JobHeartbeat { job: 1 }]);
		// In flight, then sent: the chain does not show it yet (finality lag).
		assert_eq!(step(&at(106, 100), &mut state), vec![]);
		state.complete(Completion::Submitted {
			task: Task::JobHeartbeat(1),
			result: Ok(H256::zero()),
		});
		assert_eq!(step(&at(109, 100), &mut state), vec![]);
		assert_eq!(step(&at(110, 106), &mut state), vec![]);
		assert_eq!(step(&at(111, 106), &mut state), vec![Action::JobHeartbeat { job: 1 }]);
	}

	#[test]
	fn no_job_heartbeat_unless_the_job_runs_here_and_the_chain_wants_one() {
		let mut v = view(110, vec![assignment(1, AssignmentPhase::Commit)]);
		v.last_signs.insert(1, 100);
		// Not running here (waiting for a free slot): no sign of life to give.
		let mut waiting = LocalState::default();
		waiting.in_flight.insert(Task::Run(2));
		let config = Config { slots: 1, ..Config::default() };
		assert_eq!(step_with(&v, &mut waiting, &config), vec![]);
		// Ran, its commit not yet on chain: it still beats beside the commit.
		let mut ran = LocalState::from_records([record(1)]);
		assert_eq!(step(&v, &mut ran), vec![commit(1), Action::JobHeartbeat { job: 1 }]);
		let mut running = LocalState::default();
		running.in_flight.insert(Task::Run(1));
		// The chain holds no sign of life: a short job, which owes none.
		let short = view(110, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&short, &mut running), vec![]);
		// A runtime without job heartbeats.
		let mut old = v.clone();
		old.stall_timeout = None;
		assert_eq!(step(&old, &mut running), vec![]);
		// Past the commit deadline.
		let mut late = v.clone();
		late.now = DEADLINE + 1;
		assert_eq!(step(&late, &mut running), vec![]);
		assert_eq!(step(&v, &mut running), vec![Action::JobHeartbeat { job: 1 }]);
	}

	#[test]
	fn needs_spec_only_for_jobs_it_may_still_run() {
		let mut state = LocalState::from_records([record(2)]);
		state.declined.insert(3, ChainDeclineReason::Other);
		state.in_flight.insert(Task::Run(4));
		let commit_phase = |job| assignment(job, AssignmentPhase::Commit);
		assert!(needs_spec(&commit_phase(1), &state));
		assert!(!needs_spec(&commit_phase(2), &state), "ran already");
		assert!(!needs_spec(&commit_phase(3), &state), "declined");
		assert!(!needs_spec(&commit_phase(4), &state), "running");
		assert!(!needs_spec(&assignment(1, AssignmentPhase::Reveal), &state));
	}

	#[test]
	fn heartbeat_due_not_due_and_already_on_chain() {
		let config = Config::default();
		let mut state = LocalState::default();
		let mut v = view(100, vec![]);
		v.heartbeat_current = Some(false);
		assert_eq!(step(&v, &mut state), vec![Action::Heartbeat]);
		state.complete(submitted(Task::Heartbeat, in_block()));
		// Not due before `heartbeat_every` blocks.
		v.now = 100 + config.heartbeat_every - 1;
		assert_eq!(step(&v, &mut state), vec![]);
		// Due, but the chain shows this epoch's heartbeat already.
		v.now = 100 + config.heartbeat_every;
		v.heartbeat_current = Some(true);
		assert_eq!(step(&v, &mut state), vec![]);
		// Due and not on chain (or the record could not be read): sent.
		v.heartbeat_current = None;
		assert_eq!(step(&v, &mut state), vec![Action::Heartbeat]);
	}

	#[test]
	fn a_refused_heartbeat_backs_off_beyond_its_period() {
		let config = Config::default();
		let mut state = LocalState::default();
		let mut v = view(100, vec![]);
		v.heartbeat_current = Some(false);
		step(&v, &mut state);
		state.complete(submitted(Task::Heartbeat, Err(rejected())));
		v.now = 100 + config.heartbeat_every;
		assert_eq!(step(&v, &mut state), vec![]);
		v.now = 100 + 2 * RESEND_AFTER.max(config.heartbeat_every);
		assert_eq!(step(&v, &mut state), vec![Action::Heartbeat]);
	}

	fn lottery(signer: &Signer, epoch: u32, threshold: u128) -> LotteryChainView {
		let mut provider = crate::lottery::tests::view(signer, 10, threshold, 1);
		provider.epoch = epoch;
		LotteryChainView { draw: Some(crate::lottery::tests::draw(epoch)), provider }
	}

	#[test]
	fn lottery_registers_the_key_and_resends_only_after_resend_after() {
		let mut state = LocalState::default();
		let mut v = view(100, vec![]);
		let mut l = lottery(&signer(), 4, u128::MAX);
		l.provider.vrf_key = None;
		v.lottery = Some(l);
		assert_eq!(step(&v, &mut state), vec![Action::RegisterVrfKey]);
		state.complete(submitted(Task::RegisterVrfKey, in_block()));
		v.now = 100 + RESEND_AFTER - 1;
		assert_eq!(step(&v, &mut state), vec![]);
		v.now = 100 + RESEND_AFTER;
		assert_eq!(step(&v, &mut state), vec![Action::RegisterVrfKey]);
	}

	#[test]
	fn lottery_claims_a_win_and_reports_it_once() {
		let me = signer();
		let mut state = LocalState::default();
		let mut v = view(100, vec![]);
		v.lottery = Some(lottery(&me, 4, u128::MAX));
		let actions = step(&v, &mut state);
		let [Action::ReportDraw { epoch: 4, won: true, tickets: 10, .. }, Action::ClaimTicket { epoch: 4, .. }] =
			actions.as_slice()
		else {
			panic!("{actions:?}")
		};
		state.complete(submitted(Task::Claim(4), Err(timeout())));
		// Claimed again after the gap, but reported only once.
		v.now = 100 + RESEND_AFTER;
		let again = step(&v, &mut state);
		assert!(matches!(again.as_slice(), [Action::ClaimTicket { epoch: 4, .. }]), "{again:?}");
		state.complete(submitted(Task::Claim(4), in_block()));
		// Once the claim is on chain there is nothing left to do.
		v.lottery.as_mut().unwrap().provider.claim =
			Some(ClaimRecord { output: [0; 32], threshold: u128::MAX });
		v.now += RESEND_AFTER;
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn lottery_loss_is_reported_once_per_draw() {
		let me = signer();
		let mut state = LocalState::default();
		let mut v = view(100, vec![]);
		v.lottery = Some(lottery(&me, 4, 0));
		let actions = step(&v, &mut state);
		assert!(
			matches!(actions.as_slice(), [Action::ReportDraw { epoch: 4, won: false, .. }]),
			"{actions:?}"
		);
		v.now = 101;
		assert_eq!(step(&v, &mut state), vec![]);
		// The next draw is reported again.
		v.lottery = Some(lottery(&me, 5, 0));
		let actions = step(&v, &mut state);
		assert!(
			matches!(actions.as_slice(), [Action::ReportDraw { epoch: 5, won: false, .. }]),
			"{actions:?}"
		);
	}

	#[test]
	fn lottery_unread_or_nothing_to_do_waits() {
		let me = signer();
		let mut state = LocalState::default();
		let mut v = view(100, vec![]);
		assert_eq!(step(&v, &mut state), vec![]);
		let mut l = lottery(&me, 4, u128::MAX);
		l.draw = None;
		v.lottery = Some(l);
		assert_eq!(step(&v, &mut state), vec![]);
	}

	#[test]
	fn forgets_unassigned_jobs_but_not_in_flight_ones() {
		let mut state = LocalState::from_records([record(1), record(2)]);
		state.declined.insert(3, ChainDeclineReason::Other);
		let a = vec![
			assignment(1, AssignmentPhase::Commit),
			assignment(2, AssignmentPhase::Reveal),
			assignment(5, AssignmentPhase::Commit),
		];
		let actions = step(&view(100, a), &mut state);
		assert_eq!(actions, vec![commit(1), reveal(2), run_of(5), Action::Forget { job: 3 }]);
		// None of them is assigned any more; 1, 2 and 5 still have tasks running.
		assert_eq!(step(&view(101, vec![]), &mut state), vec![]);
		assert!(!state.declined.contains_key(&3));
		state.complete(submitted(Task::Commit(1), in_block()));
		state.complete(submitted(Task::Reveal(2), in_block()));
		assert_eq!(
			step(&view(102, vec![]), &mut state),
			vec![Action::Forget { job: 1 }, Action::Forget { job: 2 }]
		);
		assert!(state.records.is_empty());
		state.complete(Completion::Ran { job: 5, result: Ok(record(5)) });
		assert_eq!(step(&view(103, vec![]), &mut state), vec![Action::Forget { job: 5 }]);
		assert_eq!(state, LocalState::default());
	}

	#[test]
	fn getting_the_image_and_inputs_must_end_in_the_first_half_of_the_spare_time() {
		// 20 blocks left, 5 needed to run: 7 blocks of 6 s to get the image and inputs.
		assert_eq!(prepare_within(20, 5, 6_000), std::time::Duration::from_secs(42));
		assert_eq!(prepare_within(5, 5, 6_000), std::time::Duration::from_secs(6));
		let mut state = LocalState::default();
		let v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		let actions = plan(&v, &mut state, &Config::default(), &signer());
		let Some(Action::Run { run, .. }) = actions.first() else { panic!("{actions:?}") };
		let left = v.assignments[0].commit_deadline - 100;
		let needed = blocks_needed(30, v.millis_per_block);
		assert_eq!(run.prepare_within, prepare_within(left, needed, v.millis_per_block));
	}

	#[test]
	fn a_run_that_cannot_succeed_here_is_declined_on_chain_not_retried() {
		use crate::executor::ExecError;
		let mut state = LocalState::default();
		let v = view(100, vec![assignment(1, AssignmentPhase::Commit)]);
		assert_eq!(step(&v, &mut state), vec![run_of(1)]);
		let missing = ExecError::Image(crate::executor::ImageError::Unavailable {
			id: "sha256:00".into(),
			tar: std::path::PathBuf::from("/images/00.tar"),
		});
		state.complete(Completion::Ran { job: 1, result: Err(missing.into()) });
		assert_eq!(
			step(&v, &mut state),
			vec![Action::SendDecline { job: 1, reason: ChainDeclineReason::ImageUnavailable }]
		);
		// A failure retrying may cure (a full disk) is not declined: the job runs again later.
		let mut state = LocalState::default();
		assert_eq!(step(&v, &mut state), vec![run_of(1)]);
		let io = ExecError::WorkDir {
			path: "/var/lib/povm/runs/1".into(),
			source: std::io::Error::other("disk full"),
		};
		state.complete(Completion::Ran { job: 1, result: Err(io.into()) });
		assert!(state.declined.is_empty());
	}
}
