//! The worker's own scheduling state: what is in flight, when each task was last tried and how
//! it went, the pending commit records, and what was already reported.
//!
//! One loop owns a [`LocalState`] (no locks): it records every action it starts with
//! [`LocalState::apply`] and every result its tasks send back with [`LocalState::complete`].
//! Both are plain updates, so the plan's tests drive them directly.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{Action, RESEND_AFTER};
use crate::{
	error::{ChainError, StateError},
	executor::{ExecError, ImageError},
	fetch::FetchError,
	prelude::*,
	state::PendingCommit,
};
pub use pallet_vm_proof::DeclineReason as ChainDeclineReason;

/// The longest wait, in blocks, before retrying a task that failed for a reason retrying does
/// not cure by itself (see [`retry_gap`]).
pub const BACKOFF_CAP: BlockNumber = 64;

/// Something the worker does in a task of its own and hears back from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
	/// Run a job and persist its pending commit.
	Run(JobId),
	/// Send `commit_result` for a job.
	Commit(JobId),
	/// Send `reveal_result` for a job.
	Reveal(JobId),
	/// Send `heartbeat`.
	Heartbeat,
	/// Send `job_heartbeat` for a long job that runs here.
	JobHeartbeat(JobId),
	/// Send `register_vrf_key` with the provider key.
	RegisterVrfKey,
	/// Send `claim_ticket` in the draw of this epoch.
	Claim(u32),
	/// Send `decline_job` for a job the worker will not run.
	Decline(JobId),
}

impl Task {
	/// The job the task is about, if any.
	pub fn job(&self) -> Option<JobId> {
		match self {
			Task::Run(j) |
			Task::Commit(j) |
			Task::Reveal(j) |
			Task::Decline(j) |
			Task::JobHeartbeat(j) => Some(*j),
			Task::Heartbeat | Task::RegisterVrfKey | Task::Claim(_) => None,
		}
	}

	/// A short name for logs and metrics.
	pub fn name(&self) -> &'static str {
		match self {
			Task::Run(_) => "run",
			Task::Commit(_) => "commit_result",
			Task::Reveal(_) => "reveal_result",
			Task::Heartbeat => "heartbeat",
			Task::JobHeartbeat(_) => "job_heartbeat",
			Task::RegisterVrfKey => "register_vrf_key",
			Task::Claim(_) => "claim_ticket",
			Task::Decline(_) => "decline_job",
		}
	}

	/// Blocks between two tries after one that went well (or failed transiently): the
	/// heartbeat period for heartbeats, [`RESEND_AFTER`] for everything else.
	pub fn base_gap(&self, heartbeat_every: BlockNumber) -> BlockNumber {
		match self {
			Task::Heartbeat => heartbeat_every,
			_ => RESEND_AFTER,
		}
	}
}

/// The last start of a task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Try {
	/// Finalised block at which it started.
	pub at: BlockNumber,
	/// Consecutive failures that retrying does not cure by itself (a refused transaction, a
	/// wrong image); each doubles the wait before the next try (see [`retry_gap`]).
	pub failures: u32,
}

/// Blocks to wait after a try before the next one: `base` while the task has not failed
/// for good, else [`RESEND_AFTER`] doubled per such failure, at most [`BACKOFF_CAP`] (and
/// never less than `base`).
pub fn retry_gap(base: BlockNumber, failures: u32) -> BlockNumber {
	if failures == 0 {
		return base;
	}
	let backoff = RESEND_AFTER.saturating_mul(1 << failures.min(16)).min(BACKOFF_CAP);
	backoff.max(base)
}

/// Why a job run produced no pending commit.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
	/// The executor could not run or observe the job (Docker down, image missing, ...).
	#[error("executor failed: {0}")]
	Executor(#[from] ExecError),
	/// The pending commit could not be persisted (disk full?), so it is not committed.
	#[error("cannot persist the pending commit: {0}")]
	Persist(#[from] StateError),
}

impl RunError {
	/// The reason to decline the job on chain when this failure cannot be cured by trying
	/// again on this host: the image cannot be had or is another one, an input cannot be had
	/// or is not what the spec says, or the resources are unusable. `None`: try again (Docker
	/// or the disk here failed, or an input's server timed out or answered "try later").
	pub fn decline_reason(&self) -> Option<ChainDeclineReason> {
		match self {
			RunError::Executor(ExecError::Image(e)) => image_decline(e),
			RunError::Executor(ExecError::Input(e)) => input_decline(e),
			RunError::Executor(ExecError::InvalidResources(_)) =>
				Some(ChainDeclineReason::ResourcesAboveLimits),
			// Too slow to get here: declined while that is free, never retried into the
			// slashed half of the commit window.
			RunError::Executor(ExecError::PrepareTimeout { .. }) =>
				Some(ChainDeclineReason::ImageUnavailable),
			_ => None,
		}
	}

	/// Whether running again may help without anyone changing anything: not when the spec
	/// is at fault (its image reference or resources are unusable, the registry serves
	/// another image for its manifest, an input is not what it says).
	pub fn is_transient(&self) -> bool {
		!matches!(
			self,
			RunError::Executor(
				ExecError::InvalidResources(_) |
					ExecError::Image(
						ImageError::InvalidReference { .. } | ImageError::IdMismatch { .. }
					) | ExecError::Input(
					FetchError::InvalidName { .. } |
						FetchError::InvalidUrl { .. } |
						FetchError::SchemeNotAllowed { .. } |
						FetchError::AddressNotAllowed { .. } |
						FetchError::TooLarge { .. } |
						FetchError::TotalTooLarge { .. } |
						FetchError::SizeMismatch { .. } |
						FetchError::DigestMismatch { .. }
				)
			)
		)
	}
}

/// The decline for an image that cannot be had: `None` for trouble on this host (Docker, the
/// cache's index), which a retry may cure.
fn image_decline(e: &ImageError) -> Option<ChainDeclineReason> {
	match e {
		ImageError::InvalidReference { .. } | ImageError::IdMismatch { .. } =>
			Some(ChainDeclineReason::InvalidSpec),
		ImageError::RegistryRefused { .. } |
		ImageError::Unavailable { .. } |
		ImageError::TarInvalid { .. } |
		ImageError::PullFailed { .. } => Some(ChainDeclineReason::ImageUnavailable),
		ImageError::Index { .. } | ImageError::Docker(_) => None,
	}
}

/// The decline for an input that cannot be had: at once, whatever the server said (a retry
/// would come in the slashed half of the commit window, and a customer's server can answer
/// "try later" on purpose); `None` only when the disk here failed.
fn input_decline(e: &FetchError) -> Option<ChainDeclineReason> {
	match e {
		FetchError::Io { .. } => None,
		_ => Some(ChainDeclineReason::InputUnavailable),
	}
}

/// What a task reports back to the loop when it ends.
#[derive(Debug)]
pub enum Completion {
	/// A [`Task::Run`] ended: the persisted pending commit, or why there is none.
	Ran {
		/// The job.
		job: JobId,
		/// The pending commit, already on disk.
		result: Result<PendingCommit, RunError>,
	},
	/// A transaction task ended with the submitter's result.
	Submitted {
		/// The task.
		task: Task,
		/// The submitter's result: the block that includes the transaction (its dispatch
		/// succeeded), or why not (a failed dispatch is `ChainError::Dispatch`, named).
		result: Result<H256, ChainError>,
	},
}

impl Completion {
	/// The task that ended.
	pub fn task(&self) -> Task {
		match self {
			Completion::Ran { job, .. } => Task::Run(*job),
			Completion::Submitted { task, .. } => *task,
		}
	}

	/// `None` when it went well, else whether the failure is transient.
	pub fn failure(&self) -> Option<bool> {
		match self {
			Completion::Ran { result: Err(e), .. } => Some(e.is_transient()),
			Completion::Submitted { result: Err(e), .. } => Some(e.is_transient()),
			Completion::Ran { result: Ok(_), .. } | Completion::Submitted { result: Ok(_), .. } =>
				None,
		}
	}

	/// A short label for metrics: `ok`, `transient` or `failed`.
	pub fn outcome(&self) -> &'static str {
		match self.failure() {
			None => "ok",
			Some(true) => "transient",
			Some(false) => "failed",
		}
	}
}

/// The worker's scheduling state, owned by the service loop.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalState {
	/// Tasks running now.
	pub in_flight: BTreeSet<Task>,
	/// The last start of each task (of jobs still known, and of the lottery and heartbeat).
	pub tries: BTreeMap<Task, Try>,
	/// Pending commit records, as on disk: loaded at start, added when a run persists one,
	/// dropped when their job is forgotten.
	pub records: BTreeMap<JobId, PendingCommit>,
	/// Jobs this worker will not run (declined once, never run), with the reason sent in
	/// `decline_job` (resent while the chain still shows the job waiting for a commit).
	pub declined: BTreeMap<JobId, ChainDeclineReason>,
	/// Jobs in the reveal phase whose missing record was reported.
	pub missing_reported: BTreeSet<JobId>,
	/// The last lottery draw (epoch) whose result was reported.
	pub draw_reported: Option<u32>,
	/// Whether Docker answered at the last check (so a change is reported once).
	pub docker_up: bool,
	/// The spec digest each run of this process was started for
	/// ([`super::plan::spec_digest`]): a record is committed only for that job.
	pub ran_specs: BTreeMap<JobId, Digest>,
	/// The last best block at which the chain assigned each job to this provider: a job is
	/// not forgotten before that block is final.
	pub last_assigned: BTreeMap<JobId, BlockNumber>,
}

impl Default for LocalState {
	fn default() -> Self {
		Self::from_records([])
	}
}

impl LocalState {
	/// The state at start: nothing in flight, the pending commits found on disk, Docker
	/// assumed up until a check says otherwise.
	pub fn from_records(records: impl IntoIterator<Item = PendingCommit>) -> Self {
		Self {
			in_flight: BTreeSet::new(),
			tries: BTreeMap::new(),
			records: records.into_iter().map(|r| (r.job, r)).collect(),
			declined: BTreeMap::new(),
			missing_reported: BTreeSet::new(),
			draw_reported: None,
			docker_up: true,
			ran_specs: BTreeMap::new(),
			last_assigned: BTreeMap::new(),
		}
	}

	/// Notes the jobs the chain assigns to this provider at best block `now`.
	pub fn note_assigned(&mut self, jobs: impl IntoIterator<Item = JobId>, now: BlockNumber) {
		for job in jobs {
			self.last_assigned.insert(job, now);
		}
	}

	/// Whether `task` may start at (best) block `now`: it is not running, and the wait
	/// after its last try ([`retry_gap`] of `base` and its failures) is over.
	pub fn may_start(&self, task: Task, now: BlockNumber, base: BlockNumber) -> bool {
		if self.in_flight.contains(&task) {
			return false;
		}
		self.tries
			.get(&task)
			.is_none_or(|t| now >= t.at.saturating_add(retry_gap(base, t.failures)))
	}

	/// Job runs in flight.
	pub fn runs_in_flight(&self) -> usize {
		self.in_flight.iter().filter(|t| matches!(t, Task::Run(_))).count()
	}

	/// Whether a task of `job` is running.
	pub fn job_in_flight(&self, job: JobId) -> bool {
		self.in_flight.iter().any(|t| t.job() == Some(job))
	}

	/// Every job the state knows something about.
	pub fn known_jobs(&self) -> BTreeSet<JobId> {
		self.records
			.keys()
			.chain(self.declined.keys())
			.chain(&self.missing_reported)
			.copied()
			.chain(self.tries.keys().filter_map(Task::job))
			.chain(self.in_flight.iter().filter_map(Task::job))
			.collect()
	}

	/// Records that the loop took `action` at (best) block `at`: a task it starts is in
	/// flight and tried at `at`; a decline, report or forget is remembered.
	pub fn apply(&mut self, action: &Action, at: BlockNumber) {
		if let Action::Run { job, spec, .. } = action {
			self.ran_specs.insert(*job, *spec);
		}
		if let Some(task) = action.task() {
			self.in_flight.insert(task);
			self.tries.entry(task).or_default().at = at;
			if let Task::Claim(epoch) = task {
				self.tries.retain(|t, _| !matches!(t, Task::Claim(e) if *e != epoch));
			}
			return;
		}
		match action {
			Action::Decline { job, reason } => {
				self.declined.insert(*job, reason.on_chain());
			},
			Action::ReportMissingRecord { job } => {
				self.missing_reported.insert(*job);
			},
			Action::ReportDraw { epoch, .. } => self.draw_reported = Some(*epoch),
			Action::Forget { job } => self.forget(*job),
			// Tasks, handled above.
			Action::Run { .. } |
			Action::Commit(_) |
			Action::Reveal(_) |
			Action::Heartbeat |
			Action::JobHeartbeat { .. } |
			Action::RegisterVrfKey |
			Action::ClaimTicket { .. } |
			Action::SendDecline { .. } => {},
		}
	}

	/// Takes in what a task reported: it is no longer in flight; a run's record is kept; a
	/// success clears the task's failures, a failure that retrying does not cure adds one
	/// (a transient failure leaves them: the task is tried again after its base gap).
	pub fn complete(&mut self, completion: Completion) {
		let task = completion.task();
		self.in_flight.remove(&task);
		match completion.failure() {
			None =>
				if let Some(t) = self.tries.get_mut(&task) {
					t.failures = 0;
				},
			Some(true) => {},
			Some(false) => self.tries.entry(task).or_default().failures += 1,
		}
		match completion {
			Completion::Ran { job, result: Ok(record) } => {
				self.records.insert(job, record);
			},
			// A job this host cannot run whatever it tries is declined on chain (not left to
			// become a commit no-show); other failures are retried.
			Completion::Ran { job, result: Err(e) } =>
				if let Some(reason) = e.decline_reason() {
					self.declined.insert(job, reason);
				},
			Completion::Submitted { .. } => {},
		}
	}

	/// Forgets everything about `job` (its record on disk is the caller's).
	pub fn forget(&mut self, job: JobId) {
		self.records.remove(&job);
		self.ran_specs.remove(&job);
		self.last_assigned.remove(&job);
		self.declined.remove(&job);
		self.missing_reported.remove(&job);
		self.tries.retain(|t, _| t.job() != Some(job));
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn retry_gap_doubles_after_lasting_failures_up_to_the_cap() {
		assert_eq!(retry_gap(RESEND_AFTER, 0), RESEND_AFTER);
		assert_eq!(retry_gap(5, 0), 5);
		assert_eq!(retry_gap(RESEND_AFTER, 1), 2 * RESEND_AFTER);
		assert_eq!(retry_gap(RESEND_AFTER, 2), 4 * RESEND_AFTER);
		assert_eq!(retry_gap(RESEND_AFTER, 40), BACKOFF_CAP);
		assert_eq!(retry_gap(100, 1), 100);
	}

	#[test]
	fn run_errors_about_the_spec_or_image_identity_are_not_transient() {
		let bad = RunError::Executor(ExecError::Image(ImageError::InvalidReference {
			reference: "x".into(),
			reason: "no".into(),
		}));
		assert!(!bad.is_transient());
		let io = std::io::Error::other("disk full");
		let disk = RunError::Persist(StateError::Io { path: "p".into(), source: io });
		assert!(disk.is_transient());
	}

	/// What each failure to get an image or an input is declined for on chain, and which
	/// are tried again instead.
	#[test]
	fn image_and_input_failures_are_declined_or_retried() {
		use ChainDeclineReason::*;
		let image = |e| RunError::Executor(ExecError::Image(e)).decline_reason();
		let input = |e| RunError::Executor(ExecError::Input(e)).decline_reason();
		let name = || "data.csv".to_owned();
		assert_eq!(
			image(ImageError::PullFailed { reference: "r".into(), reason: "404".into() }),
			Some(ImageUnavailable)
		);
		assert_eq!(
			image(ImageError::IdMismatch {
				expected: "a".into(),
				actual: "b".into(),
				origin: "r".into()
			}),
			Some(InvalidSpec)
		);
		assert_eq!(
			input(FetchError::DigestMismatch {
				name: name(),
				expected: "a".into(),
				actual: "b".into()
			}),
			Some(InputUnavailable)
		);
		assert_eq!(
			input(FetchError::SizeMismatch { name: name(), declared: 1, received: 2 }),
			Some(InputUnavailable)
		);
		assert_eq!(
			input(FetchError::HttpStatus { name: name(), status: 404 }),
			Some(InputUnavailable)
		);
		assert_eq!(
			input(FetchError::HttpStatus { name: name(), status: 503 }),
			Some(InputUnavailable)
		);
		assert_eq!(input(FetchError::Timeout { name: name() }), Some(InputUnavailable));
		let slow = RunError::Executor(ExecError::PrepareTimeout {
			after: std::time::Duration::from_secs(9),
		});
		assert_eq!(slow.decline_reason(), Some(ImageUnavailable));
	}
}
