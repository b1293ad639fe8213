//! The service loop: read the [`ChainView`] at each new best (or finalised) head, call
//! [`plan`], start a task per action, and take the tasks' results back in through a channel.
//!
//! The loop alone owns the [`LocalState`]; tasks only run one job or send one transaction
//! and report a [`Completion`], so no result is dropped: each is logged, counted in
//! `povm_worker_task_results_total`, and decides when the task may run again.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use pallet_vm_proof::VmOffer;
use povm_primitives::{results::ResultFormat, AssignmentPhase};
use rand::RngCore;
use tokio::sync::mpsc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
	job,
	listen::{listen, Head, HEAD_CHANNEL},
	local::{retry_gap, Completion, LocalState, RunError, Task},
	plan::{self, plan, Action, ChainView, LotteryChainView},
};
use crate::{
	client::{Call, ChainClient, Submitter},
	config::Config,
	error::ChainError,
	executor::{ExecError, Executor, JobRun},
	prelude::*,
	prometheus::{energy_uwh, Metrics},
	results::{unix_now, ResultStore},
	state::{PendingCommit, StateStore},
};

/// Capacity of the channel from the tasks to the loop.
pub const COMPLETION_CHANNEL: usize = 64;
/// How often expired results are removed from the result store.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What the loop keeps of an assigned job read from the chain; `None`: the job was not found.
type Known = Option<KnownJob>;

/// An assigned job as the loop first read it.
#[derive(Clone)]
struct KnownJob {
	/// Its spec.
	spec: JobSpec,
	/// Its owner (who may fetch its result files).
	owner: AccountId,
	/// The result format of the runtime at the block it was first read at. Replicas
	/// that read their assignment at the block that made it agree; around a runtime upgrade, one
	/// that reads it only after the upgrade (catching up, restarted, or a later wave) takes the
	/// new format (docs/protocol.md, known limitations).
	format: ResultFormat,
}

/// The assignment service.
pub struct Worker<E> {
	config: Config,
	submitter: Arc<Submitter>,
	executor: Arc<E>,
	store: StateStore,
	results: Option<Arc<ResultStore>>,
	metrics: Arc<Metrics>,
	offer: VmOffer,
}

impl<E: Executor + Send + Sync + 'static> Worker<E> {
	/// A worker serving `submitter`'s account with `executor`; with `results`, it keeps the
	/// result files of the runs it commits there for the jobs' owners (and prunes the store).
	pub fn new(
		config: Config,
		submitter: Arc<Submitter>,
		executor: E,
		store: StateStore,
		results: Option<Arc<ResultStore>>,
		offer: VmOffer,
	) -> Arc<Self> {
		let metrics = submitter.client().metrics().clone();
		Arc::new(Self {
			config,
			submitter,
			executor: Arc::new(executor),
			store,
			results,
			metrics,
			offer,
		})
	}

	fn client(&self) -> &Arc<ChainClient> {
		self.submitter.client()
	}

	fn me(&self) -> &AccountId {
		self.submitter.account()
	}

	/// Runs until `cancel`, then waits up to the shutdown grace for running jobs and
	/// submissions to finish (still taking in their results).
	pub async fn serve(self: Arc<Self>, cancel: CancellationToken) -> Result<(), ChainError> {
		let tracker = TaskTracker::new();
		let (heads_tx, mut heads) = mpsc::channel::<Head>(HEAD_CHANNEL);
		let (done_tx, mut done) = mpsc::channel::<Completion>(COMPLETION_CHANNEL);
		tracker.spawn(listen(self.client().clone(), heads_tx, cancel.clone()));
		let mut state = self.load_state();
		self.metrics.serving.set(1);
		let mut specs = BTreeMap::new();
		let mut view: Option<ChainView> = None;
		let mut best: Option<BlockNumber> = None;
		// Ticks at once: expired results are pruned at start too.
		let mut prune = tokio::time::interval(PRUNE_EVERY);
		prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
		loop {
			tokio::select! {
				_ = cancel.cancelled() => break,
				_ = prune.tick(), if self.results.is_some() => {
					self.prune_results();
					continue;
				},
				h = heads.recv() => {
					let Some(head) = h else { break };
					// Catch up: only the newest best block matters; a finalised head is a
					// reason to read again (a reveal may have become safe).
					let mut number = best;
					for head in std::iter::once(head).chain(std::iter::from_fn(|| heads.try_recv().ok())) {
						if let Head::Best(n) = head {
							number = Some(n);
						}
					}
					best = number;
					match self.read_view(number, &mut state, &mut specs).await {
						Ok(Some(v)) => view = Some(v),
						Ok(None) => continue,
						Err(e) => {
							self.metrics.error(e.kind());
							tracing::warn!(target: LOG_SERVICE, number, "block not processed: {e}");
							continue;
						},
					}
				},
				Some(c) = done.recv() => {
					self.complete(&mut state, c);
					while let Ok(c) = done.try_recv() {
						self.complete(&mut state, c);
					}
				},
			}
			let Some(view) = &view else { continue };
			for action in plan(view, &state, &self.config, self.submitter.signer()) {
				state.apply(&action, view.now);
				let known = match &action {
					Action::Run { job, .. } => specs.get(job).cloned().flatten(),
					_ => None,
				};
				self.execute(action, known, &tracker, &done_tx);
			}
		}
		self.drain(tracker, done, state).await;
		Ok(())
	}

	/// Removes expired results, and beyond the store's budget the heaviest owners' oldest (in a
	/// blocking task: the loop does not wait for it).
	fn prune_results(&self) {
		let Some(results) = self.results.clone() else { return };
		let metrics = self.metrics.clone();
		tokio::task::spawn_blocking(move || match results.prune(unix_now()) {
			Ok(pruned) if !pruned.jobs.is_empty() => tracing::info!(
				target: LOG_SERVICE,
				jobs = ?pruned.jobs,
				bytes = pruned.bytes,
				"removed expired (or over-budget) results"
			),
			Ok(_) => {},
			Err(e) => {
				metrics.error("results");
				tracing::warn!(target: LOG_SERVICE, "result store not pruned: {e}");
			},
		});
	}

	/// The local state at start: the pending commits on disk.
	fn load_state(&self) -> LocalState {
		let jobs = self.store.jobs().unwrap_or_else(|e| {
			self.metrics.error("state");
			tracing::error!(target: LOG_SERVICE, "cannot list pending commits: {e}");
			Vec::new()
		});
		let records = jobs.into_iter().filter_map(|job| match self.store.load(job) {
			Ok(r) => r,
			Err(e) => {
				self.metrics.error("state");
				tracing::error!(target: LOG_SERVICE, job, "{e}");
				None
			},
		});
		LocalState::from_records(records)
	}

	/// Reads the chain (and pings Docker) at best block `best` (the finalised head when no best
	/// head came yet, or when it is behind it), and this provider's assignments at the
	/// finalised head too; `None` when the block is unknown to the node. `specs` caches the
	/// assigned jobs across blocks (`None`: the job not found).
	async fn read_view(
		&self,
		best: Option<BlockNumber>,
		state: &mut LocalState,
		specs: &mut BTreeMap<JobId, Known>,
	) -> Result<Option<ChainView>, ChainError> {
		let client = self.client();
		let (finalized, finalized_hash) = client.finalized_head().await?;
		self.metrics.finalized_block.set(i64::from(finalized));
		let number = best.filter(|b| *b > finalized).unwrap_or(finalized);
		let hash = if number == finalized {
			finalized_hash
		} else {
			let Some(hash) = client.block_hash(number).await? else { return Ok(None) };
			hash
		};
		// At the finalised head too, unless it is the block read (no best block ahead of it).
		let settled = async {
			if hash == finalized_hash {
				Ok(None)
			} else {
				client.assignments(self.me(), Some(finalized_hash)).await.map(Some)
			}
		};
		let (assignments, settled, health, lottery, heartbeat_current) = tokio::join!(
			client.assignments(self.me(), Some(hash)),
			settled,
			self.executor.health(),
			self.read_lottery(hash),
			self.read_heartbeat(hash),
		);
		let assignments = assignments?;
		let final_phases = settled?
			.as_ref()
			.unwrap_or(&assignments)
			.iter()
			.map(|a| (a.job, a.phase))
			.collect();
		tracing::debug!(target: LOG_SERVICE, number, finalized, ?assignments, "best block");
		let docker_up = self.note_docker(state, health);
		specs.retain(|job, _| assignments.iter().any(|a| a.job == *job));
		let unread: Vec<_> = assignments
			.iter()
			.filter(|a| plan::needs_spec(a, state) && !specs.contains_key(&a.job))
			.collect();
		// The runtime's result format at this block, read once for every job read here; when
		// it cannot be read, the jobs are read at a later block.
		let format = if unread.is_empty() {
			None
		} else {
			match client.spec_version(Some(hash)).await {
				Ok(v) => Some(ResultFormat::of_spec_version(v)),
				Err(e) => {
					self.metrics.error(e.kind());
					tracing::warn!(target: LOG_SERVICE, number, "runtime version not read: {e}");
					None
				},
			}
		};
		if let Some(format) = format {
			for a in unread {
				match client.job(a.job, Some(hash)).await {
					Ok(view) => {
						if view.is_none() {
							tracing::warn!(target: LOG_SERVICE, job = a.job, "assigned job not found");
						}
						specs.insert(
							a.job,
							view.map(|v| KnownJob { spec: v.spec, owner: v.owner, format }),
						);
					},
					Err(e) => {
						self.metrics.error(e.kind());
						tracing::warn!(target: LOG_SERVICE, job = a.job, "job spec not read: {e}");
					},
				}
			}
		}
		let specs = assignments
			.iter()
			.filter(|a| plan::needs_spec(a, state))
			.filter_map(|a| Some((a.job, specs.get(&a.job)?.as_ref()?.spec.clone())))
			.collect();
		let millis_per_block = client
			.read(
				"millisecs_per_block",
				|api| async move { api.millisecs_per_block(Some(hash)).await },
			)
			.await?;
		let (stall_timeout, last_signs) = self.read_last_signs(&assignments, state, hash).await;
		let final_specs = self.read_final_specs(&assignments, state, finalized_hash).await;
		state.note_assigned(assignments.iter().map(|a| a.job), number);
		Ok(Some(ChainView {
			now: number,
			finalized,
			final_specs,
			final_phases,
			millis_per_block,
			assignments,
			specs,
			lottery,
			heartbeat_current,
			docker_up,
			stall_timeout,
			last_signs,
		}))
	}

	/// The chain's `StallTimeout` and, for each job the worker is at work on (running, or ran
	/// and not yet committed on chain),
	/// the last sign of life the chain holds for this provider if it must send job heartbeats
	/// (see [`plan::job_heartbeat_due`]). A read that fails is logged and counted; the job
	/// is then left out until the next block.
	async fn read_last_signs(
		&self,
		assignments: &[AssignmentView],
		state: &LocalState,
		at: H256,
	) -> (Option<BlockNumber>, BTreeMap<JobId, BlockNumber>) {
		let mut signs = BTreeMap::new();
		let running: Vec<JobId> = assignments
			.iter()
			.filter(|a| plan::at_work_on(a, state))
			.map(|a| a.job)
			.collect();
		if running.is_empty() {
			return (None, signs);
		}
		let client = self.client();
		let timeout = match client.stall_timeout(Some(at)).await {
			Ok(t) => t,
			Err(e) => {
				self.metrics.error(e.kind());
				tracing::warn!(target: LOG_SERVICE, "stall timeout not read: {e}");
				return (None, signs);
			},
		};
		if timeout.is_none() {
			return (None, signs);
		}
		for job in running {
			match client.job_heartbeat(job, self.me(), Some(at)).await {
				Ok(Some(last)) => {
					signs.insert(job, last);
				},
				Ok(None) => {},
				Err(e) => {
					self.metrics.error(e.kind());
					tracing::warn!(target: LOG_SERVICE, job, "last job heartbeat not read: {e}");
				},
			}
		}
		(timeout, signs)
	}

	/// The spec digests at the finalised head `at` of the jobs whose commit the worker may
	/// send: it holds a pending record and the best block waits for its commit (see
	/// [`plan::commit_is_safe`]). A job not there (not final yet) or whose read fails (logged,
	/// counted) is left out: its commit waits for the next block.
	async fn read_final_specs(
		&self,
		assignments: &[AssignmentView],
		state: &LocalState,
		at: H256,
	) -> BTreeMap<JobId, Digest> {
		let mut specs = BTreeMap::new();
		let owed = assignments
			.iter()
			.filter(|a| a.phase == AssignmentPhase::Commit && state.records.contains_key(&a.job));
		for job in owed.map(|a| a.job) {
			match self.client().job(job, Some(at)).await {
				Ok(Some(view)) => {
					specs.insert(job, plan::spec_digest(&view.spec));
				},
				Ok(None) => {},
				Err(e) => {
					self.metrics.error(e.kind());
					tracing::warn!(target: LOG_SERVICE, job, "job not read at the finalised head: {e}");
				},
			}
		}
		specs
	}

	/// The lottery at block `at`; `None` (logged, counted) when it cannot be read.
	async fn read_lottery(&self, at: H256) -> Option<LotteryChainView> {
		let client = self.client();
		let read = tokio::try_join!(
			client.current_draw(Some(at)),
			client.lottery_view(self.me(), Some(at))
		);
		match read {
			Ok((draw, provider)) => Some(LotteryChainView { draw, provider }),
			Err(e) => {
				self.metrics.error(e.kind());
				tracing::warn!(target: LOG_SERVICE, "lottery state not read: {e}");
				None
			},
		}
	}

	/// Whether the provider record at block `at` shows a heartbeat in the current epoch (the
	/// session index); `None` when it cannot be read.
	async fn read_heartbeat(&self, at: H256) -> Option<bool> {
		let client = self.client();
		match tokio::try_join!(client.provider(self.me(), Some(at)), client.session_index(Some(at)))
		{
			Ok((record, epoch)) => Some(record.is_some_and(|r| r.last_heartbeat >= epoch)),
			Err(e) => {
				self.metrics.error(e.kind());
				tracing::warn!(target: LOG_SERVICE, "provider record not read: {e}");
				None
			},
		}
	}

	/// Takes in a Docker ping; reports a change of state once (log, metric). Returns whether
	/// Docker answers.
	fn note_docker(&self, state: &mut LocalState, health: Result<(), ExecError>) -> bool {
		let up = health.is_ok();
		let was_up = std::mem::replace(&mut state.docker_up, up);
		self.metrics.docker_up.set(i64::from(up));
		match health {
			Err(e) if was_up => {
				self.metrics.error("docker_down");
				tracing::error!(
					target: LOG_SERVICE,
					"Docker does not answer ({e}): taking no work until it does (no jobs start, \
					 no heartbeats are sent); commits and reveals of finished runs go on"
				);
			},
			Ok(()) if !was_up => {
				tracing::info!(target: LOG_SERVICE, "Docker answers again: taking work");
			},
			_ => {},
		}
		up
	}

	/// Carries out `action`: starts its task, or logs and counts what it reports. `known` is
	/// a job to run as the loop read it (its owner and result format).
	fn execute(
		self: &Arc<Self>,
		action: Action,
		known: Option<KnownJob>,
		tracker: &TaskTracker,
		done: &mpsc::Sender<Completion>,
	) {
		match action {
			Action::Run { job, wave, resources, run, .. } => {
				let (this, done) = (self.clone(), done.clone());
				tracker.spawn(async move {
					let (owner, format) = match known {
						Some(k) => (Some(k.owner), k.format),
						None => (None, ResultFormat::default()),
					};
					let result = this.run(*run, wave, resources, owner, format).await;
					report(&done, Completion::Ran { job, result }).await;
				});
			},
			Action::Commit(r) => {
				let call = Call::CommitResult { job: r.job, commitment: r.commitment };
				self.submit(Task::Commit(r.job), call, tracker, done);
			},
			Action::Reveal(r) => {
				let PendingCommit { job, reveal, leaves, outcome, .. } = *r;
				self.submit(
					Task::Reveal(job),
					Call::RevealResult { job, reveal, leaves, outcome },
					tracker,
					done,
				);
			},
			Action::Heartbeat => self.submit(Task::Heartbeat, Call::Heartbeat, tracker, done),
			Action::JobHeartbeat { job } =>
				self.submit(Task::JobHeartbeat(job), Call::JobHeartbeat { job }, tracker, done),
			Action::RegisterVrfKey => {
				tracing::info!(target: LOG_SERVICE, "registering the provider key as lottery VRF key");
				let key = self.submitter.signer().public().0;
				self.submit(Task::RegisterVrfKey, Call::RegisterVrfKey { key }, tracker, done);
			},
			Action::ClaimTicket { epoch, signature } => {
				tracing::info!(target: LOG_SERVICE, epoch, "claiming a lottery ticket");
				self.submit(
					Task::Claim(epoch),
					Call::ClaimTicket { epoch, signature },
					tracker,
					done,
				);
			},
			Action::ReportDraw { epoch, won, value, threshold, tickets } => {
				let result = if won { "won" } else { "lost" };
				self.metrics.lottery_draws.with_label_values(&[result]).inc();
				if won {
					tracing::info!(
						target: LOG_SERVICE,
						epoch,
						tickets,
						"lottery draw won: VRF value {value} is below threshold {threshold}"
					);
				} else {
					tracing::info!(
						target: LOG_SERVICE,
						epoch,
						tickets,
						"lottery draw lost: VRF value {value} is not below threshold {threshold}"
					);
				}
			},
			Action::Decline { job, reason } => {
				self.metrics.jobs_declined.with_label_values(&[reason.label()]).inc();
				tracing::warn!(target: LOG_SERVICE, job, "declining the job: {reason}");
			},
			Action::SendDecline { job, reason } => {
				tracing::info!(target: LOG_SERVICE, job, "sending decline_job ({reason:?})");
				self.submit(Task::Decline(job), Call::DeclineJob { job, reason }, tracker, done);
			},
			Action::ReportMissingRecord { job } => {
				self.metrics.error("no_pending_commit");
				tracing::error!(
					target: LOG_SERVICE,
					job,
					"committed but no pending record on disk: cannot reveal"
				);
			},
			Action::Forget { job } => {
				tracing::info!(target: LOG_SERVICE, job, "forgetting the job (no longer assigned, or a format-1 record that cannot be committed)");
				if let Err(e) = self.store.remove(job) {
					self.metrics.error("state");
					tracing::warn!(target: LOG_SERVICE, job, "{e}");
				}
			},
		}
	}

	/// Starts a task sending `call` that reports its result as `task`.
	fn submit(
		self: &Arc<Self>,
		task: Task,
		call: Call,
		tracker: &TaskTracker,
		done: &mpsc::Sender<Completion>,
	) {
		let (this, done) = (self.clone(), done.clone());
		tracker.spawn(async move {
			let result = this.submitter.submit(&call).await.map(|receipt| receipt.block);
			report(&done, Completion::Submitted { task, result }).await;
		});
	}

	/// Takes in a task's result: logs and counts it, and updates the state.
	fn complete(&self, state: &mut LocalState, completion: Completion) {
		let task = completion.task();
		let outcome = completion.outcome();
		self.metrics.task_results.with_label_values(&[task.name(), outcome]).inc();
		let error = match &completion {
			Completion::Ran { result: Err(e), .. } => Some(e.to_string()),
			Completion::Submitted { result: Err(e), .. } => Some(e.to_string()),
			Completion::Ran { result: Ok(_), .. } => None,
			Completion::Submitted { result: Ok(o), .. } => {
				tracing::debug!(target: LOG_SERVICE, task = task.name(), job = task.job(), block = ?o, "included, dispatch succeeded");
				None
			},
		};
		state.complete(completion);
		if let Some(error) = error {
			let failures = state.tries.get(&task).map_or(0, |t| t.failures);
			let gap = retry_gap(task.base_gap(self.config.heartbeat_every), failures);
			tracing::warn!(
				target: LOG_SERVICE,
				task = task.name(),
				job = task.job(),
				outcome,
				failures,
				"{error}; trying again in {gap} blocks if still needed"
			);
		}
	}

	/// Runs `run` (assigned in draw `wave`, on a spec of `resources`, owned by `owner`),
	/// persists its pending commit (its result digest in `format`), and keeps its result files for the owner when the worker
	/// serves results.
	async fn run(
		&self,
		run: JobRun,
		wave: u32,
		resources: povm_primitives::Resources,
		owner: Option<AccountId>,
		format: ResultFormat,
	) -> Result<PendingCommit, RunError> {
		let job = run.job_id;
		self.metrics.jobs_started.inc();
		tracing::info!(target: LOG_SERVICE, job, image = %run.spec.image.id, inputs = run.spec.inputs.len(), "running job");
		let exec = self.executor.run(&run).await.map_err(|e| {
			// Nothing of a failed run is kept: its inputs (up to the per-job limit) would
			// otherwise pile up in the state directory, job after job.
			if let Err(e) = std::fs::remove_dir_all(&run.work_dir) {
				tracing::debug!(target: LOG_SERVICE, job, "run directory not removed: {e}");
			}
			self.metrics.jobs_failed.inc();
			self.metrics.error("executor");
			tracing::error!(target: LOG_SERVICE, job, "executor failed (Docker down or image missing?): {e}");
			RunError::from(e)
		})?;
		if exec.exit_code == 0 && exec.flags == Default::default() {
			self.metrics.jobs_succeeded.inc();
		} else {
			self.metrics.jobs_failed.inc();
		}
		let usage = job::chain_usage(&exec.usage);
		self.metrics.vm_milliseconds.inc_by(usage.wall_ms);
		self.metrics.job_cpu_milliseconds.inc_by(usage.cpu_ms);
		self.metrics.energy_uwh.inc_by(energy_uwh(
			usage.cpu_ms,
			usage.memory_mib_s,
			self.offer.core_milliwatts,
			self.offer.pue_permille,
		));
		let mut salt = [0u8; 32];
		rand::rngs::OsRng.fill_bytes(&mut salt);
		let record = job::pending_commit(job, wave, &resources, &exec, format, salt, self.me());
		#[cfg(feature = "test-cheat")]
		let record = job::cheat::corrupt(record, self.me());
		tracing::info!(
			target: LOG_SERVICE,
			job,
			exit_code = exec.exit_code,
			result = %hex::encode(record.reveal.result_digest),
			wall_ms = usage.wall_ms,
			"job ran"
		);
		self.store.save(&record).map_err(|e| {
			self.metrics.error("state");
			tracing::error!(
				target: LOG_SERVICE,
				job,
				"cannot persist the pending commit (disk full?), so not committing: {e}"
			);
			RunError::from(e)
		})?;
		if let Err(e) = std::fs::remove_dir_all(&run.work_dir) {
			tracing::debug!(target: LOG_SERVICE, job, "run directory not removed: {e}");
		}
		self.keep_result(job, owner, exec).await;
		Ok(record)
	}

	/// Stores the result files of `exec`, a run of `job`, for its `owner` (when the worker
	/// serves results). A failure is logged and counted: the commit goes on without it.
	async fn keep_result(
		&self,
		job: JobId,
		owner: Option<AccountId>,
		exec: crate::executor::Execution,
	) {
		let Some(results) = self.results.clone() else { return };
		let Some(owner) = owner else {
			self.metrics.error("results");
			tracing::warn!(target: LOG_SERVICE, job, "owner of the job unknown: its result is not kept");
			return;
		};
		let owner: [u8; 32] = *owner.as_ref();
		let stored =
			tokio::task::spawn_blocking(move || results.put(job, owner, &exec, unix_now())).await;
		match stored {
			Ok(Ok(meta)) => tracing::info!(
				target: LOG_SERVICE,
				job,
				bytes = meta.bytes,
				expires_at = meta.expires_at,
				"result kept for its owner"
			),
			Ok(Err(e)) => {
				self.metrics.error("results");
				tracing::warn!(target: LOG_SERVICE, job, "result not kept: {e}");
			},
			Err(e) => {
				self.metrics.error("results");
				tracing::warn!(target: LOG_SERVICE, job, "result not kept: {e}");
			},
		}
	}

	/// Shutdown: waits up to the grace period for the tasks, still taking in their results.
	async fn drain(
		&self,
		tracker: TaskTracker,
		mut done: mpsc::Receiver<Completion>,
		mut state: LocalState,
	) {
		tracker.close();
		self.metrics.serving.set(0);
		let grace = Duration::from_secs(self.config.shutdown_grace_secs);
		tracing::info!(
			target: LOG_SERVICE,
			tasks = tracker.len(),
			"shutting down; waiting up to {grace:?} for running jobs and submissions"
		);
		let deadline = tokio::time::sleep(grace);
		tokio::pin!(deadline);
		loop {
			tokio::select! {
				Some(c) = done.recv() => self.complete(&mut state, c),
				_ = tracker.wait() => break,
				_ = &mut deadline => {
					tracing::warn!(
						target: LOG_SERVICE,
						"grace period over; unfinished jobs are left to the next start (their \
						 containers are removed then, and they run again if the commit window is \
						 open)"
					);
					break;
				},
			}
		}
		while let Ok(c) = done.try_recv() {
			self.complete(&mut state, c);
		}
	}
}

/// Sends a task's result to the loop; after shutdown there is no loop to take it.
async fn report(done: &mpsc::Sender<Completion>, completion: Completion) {
	if let Err(e) = done.send(completion).await {
		tracing::debug!(target: LOG_SERVICE, completion = ?e.0, "result after shutdown, not recorded");
	}
}
