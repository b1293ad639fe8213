//! `povm-worker run`: serve assignments until SIGINT or SIGTERM.
//!
//! A listener follows finalised heads (reconnecting and resubscribing with exponential
//! backoff when the node goes away) and feeds block numbers through a bounded channel to the
//! dispatcher. For each finalised block the dispatcher reads this provider's assignments
//! through the runtime API and acts on their phase, idempotently by job id:
//!
//! - `Commit` with no pending record: run the job (one slot each), compute the result
//!   digest and checkpoints root, draw a fresh salt, **persist** the pending commit, then send
//!   `commit_result`. With a pending record (a restart, or a commit that did not land): send
//!   the same commitment again.
//! - `Reveal`: send `reveal_result` from the pending record.
//! - `Committed` / `Revealed`: wait.
//!
//! A transaction is re-sent only when the chain, a few blocks later, still shows the phase it
//! was meant to change. Pending records of jobs no longer assigned are removed. Every
//! `heartbeat_every` finalised blocks the worker checks its record and sends a heartbeat
//! unless one for the current epoch (session) is already on chain.
//!
//! Before acting on a block the worker pings Docker. While Docker does not answer it takes no
//! work: it starts no job and sends no heartbeat (so the chain stops drawing it once its
//! liveness window passes), logs the fault once, and sets `povm_worker_docker_up` to 0;
//! commits and reveals of jobs that already ran go on. When Docker answers again it says so
//! and takes work again.
//!
//! On every finalised block the worker also takes its lottery step ([`crate::lottery`]): it
//! registers the provider key as VRF key if none is on record, and in an open draw where it
//! holds tickets it evaluates the VRF and sends `claim_ticket` when the output wins.

use std::{
	collections::{HashMap, HashSet},
	path::PathBuf,
	sync::{
		atomic::{AtomicU32, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

use pallet_vm_proof::{Reveal, VmOffer};
use povm_primitives::{AssignmentPhase, Usage, MAX_OUTPUT_LEN};
use rand::RngCore;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
	attestation,
	client::{Call, ChainClient, Submitter},
	config::Config,
	error::ChainError,
	executor::{self, Execution, Executor},
	lottery::{self, Decision},
	prelude::*,
	prometheus::{energy_uwh, Metrics},
	state::{PendingCommit, StateStore},
};

/// Blocks to wait before re-sending a transaction whose effect is not yet visible, or
/// retrying a job run that failed.
pub const RESEND_AFTER: BlockNumber = 4;
/// Capacity of the channel from the listener to the dispatcher.
pub const HEAD_CHANNEL: usize = 16;

/// What a task does for a job.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Stage {
	Run,
	Commit,
	Reveal,
}

/// The assignment service.
pub struct Worker<E> {
	config: Config,
	submitter: Arc<Submitter>,
	executor: Arc<E>,
	store: StateStore,
	metrics: Arc<Metrics>,
	offer: VmOffer,
	slots: Arc<Semaphore>,
	inflight: Mutex<HashSet<(JobId, Stage)>>,
	last_try: Mutex<HashMap<(JobId, Stage), BlockNumber>>,
	last_heartbeat: Mutex<Option<BlockNumber>>,
	latest: AtomicU32,
	lottery: Mutex<LotteryProgress>,
	docker_up: std::sync::atomic::AtomicBool,
}

/// What the lottery step already did, so that it neither re-sends a transaction still on its
/// way nor reports a draw twice.
#[derive(Debug, Default)]
struct LotteryProgress {
	/// A lottery step is running.
	busy: bool,
	/// The last `register_vrf_key` sent, at this finalised block.
	key_sent: Option<BlockNumber>,
	/// The last claim sent: draw epoch and finalised block.
	claim_sent: Option<(u32, BlockNumber)>,
	/// The last draw whose result was reported (log and metric).
	reported: Option<u32>,
}

impl<E: Executor + Send + Sync + 'static> Worker<E> {
	/// A worker serving `submitter`'s account with `executor`.
	pub fn new(
		config: Config,
		submitter: Arc<Submitter>,
		executor: E,
		store: StateStore,
		offer: VmOffer,
	) -> Arc<Self> {
		let metrics = submitter.client().metrics().clone();
		Arc::new(Self {
			slots: Arc::new(Semaphore::new(config.slots as usize)),
			config,
			submitter,
			executor: Arc::new(executor),
			store,
			metrics,
			offer,
			inflight: Mutex::default(),
			last_try: Mutex::default(),
			last_heartbeat: Mutex::default(),
			latest: AtomicU32::new(0),
			lottery: Mutex::default(),
			docker_up: std::sync::atomic::AtomicBool::new(true),
		})
	}

	fn client(&self) -> &Arc<ChainClient> {
		self.submitter.client()
	}

	fn me(&self) -> &AccountId {
		self.submitter.account()
	}

	/// Runs until `cancel`, then waits up to the shutdown grace for running jobs and
	/// submissions to finish.
	pub async fn serve(self: Arc<Self>, cancel: CancellationToken) -> Result<(), ChainError> {
		let tracker = TaskTracker::new();
		let (tx, mut rx) = mpsc::channel::<BlockNumber>(HEAD_CHANNEL);
		tracker.spawn(listen(self.client().clone(), tx, cancel.clone()));
		loop {
			let number = tokio::select! {
				_ = cancel.cancelled() => break,
				n = rx.recv() => match n { Some(n) => n, None => break },
			};
			// Catch up: only the newest finalised block matters.
			let mut number = number;
			while let Ok(n) = rx.try_recv() {
				number = number.max(n);
			}
			if let Err(e) = self.on_block(number, &tracker).await {
				self.metrics.error(e.kind());
				tracing::warn!(target: LOG_SERVICE, number, "block not processed: {e}");
			}
		}
		tracker.close();
		let grace = Duration::from_secs(self.config.shutdown_grace_secs);
		tracing::info!(
			target: LOG_SERVICE,
			tasks = tracker.len(),
			"shutting down; waiting up to {grace:?} for running jobs and submissions"
		);
		if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
			tracing::warn!(
				target: LOG_SERVICE,
				"grace period over; unfinished jobs are left to the next start (their \
				 containers are removed then, and they run again if the commit window is open)"
			);
		}
		Ok(())
	}

	/// Begins a task for `(job, stage)` unless one runs or one ran less than
	/// [`RESEND_AFTER`] blocks ago.
	fn begin(&self, job: JobId, stage: Stage, number: BlockNumber) -> bool {
		let mut inflight = self.inflight.lock().expect("not poisoned");
		if inflight.contains(&(job, stage)) {
			return false;
		}
		let mut last = self.last_try.lock().expect("not poisoned");
		if let Some(&at) = last.get(&(job, stage)) {
			if number < at.saturating_add(RESEND_AFTER) {
				return false;
			}
		}
		last.insert((job, stage), number);
		inflight.insert((job, stage));
		true
	}

	fn end(&self, job: JobId, stage: Stage) {
		self.inflight.lock().expect("not poisoned").remove(&(job, stage));
	}

	async fn on_block(
		self: &Arc<Self>,
		number: BlockNumber,
		tracker: &TaskTracker,
	) -> Result<(), ChainError> {
		self.metrics.finalized_block.set(i64::from(number));
		self.latest.fetch_max(number, Ordering::Relaxed);
		let Some(hash) = self.client().block_hash(number).await? else { return Ok(()) };
		let assignments = self.client().assignments(self.me(), Some(hash)).await?;
		tracing::debug!(target: LOG_SERVICE, number, ?assignments, "finalised block");

		let docker_up = self.check_docker().await;
		let beat = docker_up && {
			let mut last = self.last_heartbeat.lock().expect("not poisoned");
			let due = last.is_none_or(|l| number >= l + self.config.heartbeat_every);
			if due {
				*last = Some(number);
			}
			due
		};
		if beat {
			let this = self.clone();
			tracker.spawn(async move { this.heartbeat(hash).await });
		}
		let lottery_idle = {
			let mut progress = self.lottery.lock().expect("not poisoned");
			!std::mem::replace(&mut progress.busy, true)
		};
		if lottery_idle {
			let this = self.clone();
			tracker.spawn(async move {
				this.lottery_step(number, hash).await;
				this.lottery.lock().expect("not poisoned").busy = false;
			});
		}

		for a in &assignments {
			match a.phase {
				AssignmentPhase::Commit => {
					// With a record the job ran already (before a restart, or the commit did not
					// land): send the same commitment again; without, run it while there is time.
					let record = self.load(a.job);
					let stage = match &record {
						Some(_) => Stage::Commit,
						None if docker_up && number <= a.commit_deadline => Stage::Run,
						None => continue,
					};
					if !self.begin(a.job, stage, number) {
						continue;
					}
					let (this, job) = (self.clone(), a.job);
					match record {
						Some(r) => tracker.spawn(async move { this.commit(r).await }),
						None => tracker.spawn(async move { this.run_and_commit(job).await }),
					};
				},
				AssignmentPhase::Reveal => match self.load(a.job) {
					Some(record) => {
						if self.begin(a.job, Stage::Reveal, number) {
							let this = self.clone();
							tracker.spawn(async move { this.reveal(record).await });
						}
					},
					None => {
						self.metrics.error("no_pending_commit");
						tracing::error!(
							target: LOG_SERVICE,
							job = a.job,
							"committed but no pending record on disk: cannot reveal"
						);
					},
				},
				AssignmentPhase::Committed | AssignmentPhase::Revealed => {},
			}
		}

		// Forget jobs no longer assigned here (settled, expired, or faulted).
		let assigned: HashSet<JobId> = assignments.iter().map(|a| a.job).collect();
		let inflight: HashSet<JobId> =
			self.inflight.lock().expect("not poisoned").iter().map(|(j, _)| *j).collect();
		match self.store.jobs() {
			Ok(jobs) => {
				for job in jobs {
					if !assigned.contains(&job) && !inflight.contains(&job) {
						tracing::info!(target: LOG_SERVICE, job, "job no longer assigned; forgetting it");
						if let Err(e) = self.store.remove(job) {
							self.metrics.error("state");
							tracing::warn!(target: LOG_SERVICE, "{e}");
						}
						self.last_try.lock().expect("not poisoned").retain(|(j, _), _| *j != job);
					}
				}
			},
			Err(e) => {
				self.metrics.error("state");
				tracing::warn!(target: LOG_SERVICE, "{e}");
			},
		}
		Ok(())
	}

	/// Sends a heartbeat unless the provider already beat in the current epoch (the session
	/// index) at block `at`.
	async fn heartbeat(&self, at: H256) {
		let client = self.client();
		let current = match (
			client.provider(self.me(), Some(at)).await,
			client.session_index(Some(at)).await,
		) {
			(Ok(Some(rec)), Ok(epoch)) => rec.last_heartbeat >= epoch,
			_ => false,
		};
		if current {
			tracing::debug!(target: LOG_SERVICE, "heartbeat of this epoch already on chain");
			return;
		}
		let _ = self.submitter.submit(&Call::Heartbeat).await;
	}

	/// Pings Docker; reports a change of state (log, metric). Returns whether it answers.
	async fn check_docker(&self) -> bool {
		let health = self.executor.health().await;
		let up = health.is_ok();
		let was_up = self.docker_up.swap(up, Ordering::AcqRel);
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

	/// The lottery step at finalised block `number` (hash `at`): register the VRF key, or
	/// claim a winning ticket, or nothing.
	async fn lottery_step(&self, number: BlockNumber, at: H256) {
		let client = self.client();
		let read = tokio::try_join!(
			client.current_draw(Some(at)),
			client.lottery_view(self.me(), Some(at))
		);
		let (draw, view) = match read {
			Ok(r) => r,
			Err(e) => {
				self.metrics.error(e.kind());
				tracing::warn!(target: LOG_SERVICE, "lottery state not read: {e}");
				return;
			},
		};
		// A key registered in a block not final yet is not re-sent within `RESEND_AFTER`
		// blocks; if it is, the pallet refuses it (`KeyAlreadyRegistered`) and its activation
		// delay stands.
		let decision = lottery::decide(self.submitter.signer(), draw.as_ref(), &view);
		let call = {
			let mut progress = self.lottery.lock().expect("not poisoned");
			let recent = |at: BlockNumber| number < at.saturating_add(RESEND_AFTER);
			match decision {
				Decision::RegisterKey => {
					if progress.key_sent.is_some_and(recent) {
						return;
					}
					progress.key_sent = Some(number);
					tracing::info!(target: LOG_SERVICE, "registering the provider key as lottery VRF key");
					Call::RegisterVrfKey { key: self.submitter.signer().public().0 }
				},
				Decision::Wait(reason) => {
					tracing::debug!(target: LOG_SERVICE, ?reason, "nothing to do in the lottery");
					return;
				},
				Decision::Lost { epoch, value, threshold } => {
					if progress.reported != Some(epoch) {
						progress.reported = Some(epoch);
						self.metrics.lottery_draws.with_label_values(&["lost"]).inc();
						tracing::info!(
							target: LOG_SERVICE,
							epoch,
							tickets = view.tickets,
							"lottery draw lost: VRF value {value} is not below threshold {threshold}"
						);
					}
					return;
				},
				Decision::Claim { epoch, signature, value, threshold } => {
					if progress.claim_sent.is_some_and(|(e, at)| e == epoch && recent(at)) {
						return;
					}
					progress.claim_sent = Some((epoch, number));
					if progress.reported != Some(epoch) {
						progress.reported = Some(epoch);
						self.metrics.lottery_draws.with_label_values(&["won"]).inc();
					}
					tracing::info!(
						target: LOG_SERVICE,
						epoch,
						tickets = view.tickets,
						"lottery draw won: VRF value {value} is below threshold {threshold}; claiming"
					);
					Call::ClaimTicket { epoch, signature }
				},
			}
		};
		let _ = self.submitter.submit(&call).await;
	}

	fn load(&self, job: JobId) -> Option<PendingCommit> {
		match self.store.load(job) {
			Ok(r) => r,
			Err(e) => {
				self.metrics.error("state");
				tracing::error!(target: LOG_SERVICE, job, "{e}");
				None
			},
		}
	}

	async fn commit(self: Arc<Self>, record: PendingCommit) {
		let call = Call::CommitResult { job: record.job, commitment: record.commitment };
		let _ = self.submitter.submit(&call).await;
		self.end(record.job, Stage::Commit);
	}

	async fn reveal(self: Arc<Self>, record: PendingCommit) {
		let call = Call::RevealResult {
			job: record.job,
			reveal: record.reveal.clone(),
			leaves: record.leaves.clone(),
		};
		let _ = self.submitter.submit(&call).await;
		self.end(record.job, Stage::Reveal);
	}

	async fn run_and_commit(self: Arc<Self>, job: JobId) {
		let permit = self.slots.clone().acquire_owned().await;
		let record = match self.run(job).await {
			Ok(r) => r,
			Err(e) => {
				tracing::warn!(target: LOG_SERVICE, job, "job not run: {e}");
				None
			},
		};
		drop(permit);
		self.end(job, Stage::Run);
		if let Some(record) = record {
			// Counts as a commit attempt, so that the next blocks (which may not show it yet)
			// do not send it again before `RESEND_AFTER`.
			let now = self.latest.load(Ordering::Relaxed);
			self.last_try.lock().expect("not poisoned").insert((job, Stage::Commit), now);
			self.inflight.lock().expect("not poisoned").insert((job, Stage::Commit));
			self.commit(record).await;
		}
	}

	/// Runs `job` and persists its pending commit; `None` when it cannot be attested now.
	async fn run(&self, job: JobId) -> Result<Option<PendingCommit>, ChainError> {
		let Some(view) = self.client().job(job, None).await? else { return Ok(None) };
		let work_dir = self.config.state_dir.join("runs").join(job.to_string());
		let run = match to_job_run(job, &view.spec, &self.config, work_dir.clone()) {
			Ok(r) => r,
			Err(why) => {
				self.metrics.jobs_failed.inc();
				self.metrics.error("refused_spec");
				tracing::error!(target: LOG_SERVICE, job, "refusing the job: {why}");
				return Ok(None);
			},
		};
		self.metrics.jobs_started.inc();
		tracing::info!(target: LOG_SERVICE, job, image = %run.spec.image, "running job");
		let exec = match self.executor.run(&run).await {
			Ok(e) => e,
			Err(e) => {
				self.metrics.jobs_failed.inc();
				self.metrics.error("executor");
				tracing::error!(
					target: LOG_SERVICE,
					job,
					"executor failed (Docker down or image missing?): {e}; retrying in {RESEND_AFTER} blocks"
				);
				return Ok(None);
			},
		};
		if exec.exit_code == 0 && exec.flags == Default::default() {
			self.metrics.jobs_succeeded.inc();
		} else {
			self.metrics.jobs_failed.inc();
		}
		let usage = chain_usage(&exec.usage);
		self.metrics.vm_milliseconds.inc_by(usage.wall_ms);
		self.metrics.energy_uwh.inc_by(energy_uwh(
			usage.cpu_ms,
			usage.memory_mib_s,
			self.offer.core_milliwatts,
			self.offer.pue_permille,
		));
		let mut salt = [0u8; 32];
		rand::rngs::OsRng.fill_bytes(&mut salt);
		let record = pending_commit(job, &exec, salt, self.me());
		#[cfg(feature = "test-cheat")]
		let record = cheat::corrupt(record, self.me());
		tracing::info!(
			target: LOG_SERVICE,
			job,
			exit_code = exec.exit_code,
			result = %hex::encode(record.reveal.result_digest),
			wall_ms = usage.wall_ms,
			"job ran"
		);
		if let Err(e) = self.store.save(&record) {
			self.metrics.error("state");
			tracing::error!(
				target: LOG_SERVICE,
				job,
				"cannot persist the pending commit (disk full?), so not committing: {e}"
			);
			return Ok(None);
		}
		let _ = std::fs::remove_dir_all(&work_dir);
		Ok(Some(record))
	}
}

/// Follows finalised heads, reconnecting and resubscribing until `cancel`.
async fn listen(
	client: Arc<ChainClient>,
	tx: mpsc::Sender<BlockNumber>,
	cancel: CancellationToken,
) {
	let mut wait = crate::client::BACKOFF_MIN;
	loop {
		if !client.reconnect(&cancel).await {
			return;
		}
		let mut sub = match client.subscribe_finalized().await {
			Ok(s) => {
				wait = crate::client::BACKOFF_MIN;
				s
			},
			Err(e) => {
				tracing::warn!(target: LOG_SERVICE, "cannot follow finalised heads: {e}");
				tokio::select! {
					_ = cancel.cancelled() => return,
					_ = tokio::time::sleep(wait) => {},
				}
				wait = crate::client::next_backoff(wait);
				continue;
			},
		};
		loop {
			let next = tokio::select! {
				_ = cancel.cancelled() => return,
				// A stalled subscription is replaced.
				n = tokio::time::timeout(Duration::from_secs(120), sub.next()) => n,
			};
			match next {
				Ok(Some(Ok(header))) => match header.number() {
					Ok(n) => {
						if tx.send(n).await.is_err() {
							return;
						}
					},
					Err(e) => tracing::warn!(target: LOG_SERVICE, "{e}"),
				},
				Ok(Some(Err(e))) => tracing::warn!(target: LOG_SERVICE, "bad header: {e}"),
				Ok(None) => {
					tracing::warn!(target: LOG_SERVICE, "finalised-head subscription ended; reconnecting");
					break;
				},
				Err(_) => {
					tracing::warn!(target: LOG_SERVICE, "no finalised head for 120 s; resubscribing");
					break;
				},
			}
		}
	}
}

/// The executor's job for an on-chain spec, checked against the caps.
pub fn to_job_run(
	job: JobId,
	spec: &JobSpec,
	config: &Config,
	work_dir: PathBuf,
) -> Result<executor::JobRun, String> {
	let text = |b: &[u8], what: &str| {
		String::from_utf8(b.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
	};
	let r = spec.resources;
	let caps = config.caps;
	if r.millicores > caps.millicores
		|| r.memory_mib > caps.memory_mib
		|| r.max_seconds > caps.max_seconds
	{
		return Err(format!("resources {r:?} exceed the caps {caps:?}"));
	}
	let command = text(&spec.command, "command")?;
	Ok(executor::JobRun {
		job_id: job,
		spec: executor::JobSpec {
			image: text(&spec.image, "image")?,
			command: if command.is_empty() { vec![] } else { vec![command] },
			args: spec.args.iter().map(|a| text(a, "argument")).collect::<Result<_, _>>()?,
			env: spec
				.env
				.iter()
				.map(|e| Ok((text(&e.key, "env key")?, text(&e.value, "env value")?)))
				.collect::<Result<_, String>>()?,
			resources: executor::Resources {
				millicores: r.millicores,
				memory_mib: r.memory_mib,
				max_seconds: r.max_seconds,
				pids: caps.pids,
			},
		},
		work_dir,
	})
}

/// Usage in the chain's units: CPU ms, memory MiB·s (the executor measures MiB·ms), wall ms.
pub fn chain_usage(u: &executor::Usage) -> Usage {
	Usage { cpu_ms: u.cpu_ms, memory_mib_s: u.memory_mib_seconds(), wall_ms: u.wall_ms }
}

/// The small output stored on chain: the only output file, or else the first in name order
/// that fits in 1 KiB, or else stdout when it fits, or else nothing.
pub fn small_output(exec: &Execution) -> Vec<u8> {
	let fits = |b: &[u8]| b.len() <= MAX_OUTPUT_LEN as usize;
	exec.outputs
		.iter()
		.map(|o| o.content.as_slice())
		.find(|c| fits(c))
		.or_else(|| fits(&exec.stdout).then_some(exec.stdout.as_slice()))
		.unwrap_or_default()
		.to_vec()
}

/// The pending commit of a run: result digest, checkpoints root, salt, output and usage.
pub fn pending_commit(
	job: JobId,
	exec: &Execution,
	salt: [u8; 32],
	me: &AccountId,
) -> PendingCommit {
	let result_digest = exec.result_digest();
	let leaves: Vec<Digest> = exec.checkpoints.iter().map(|c| c.digest).collect();
	let checkpoints_root = attestation::merkle_root(&leaves);
	let commitment =
		povm_primitives::attestation::commitment(&result_digest, &checkpoints_root, &salt, me);
	PendingCommit {
		job,
		commitment,
		reveal: Reveal {
			result_digest,
			checkpoints_root,
			salt,
			output: small_output(exec).try_into().expect("at most MAX_OUTPUT_LEN bytes"),
			usage: chain_usage(&exec.usage),
		},
		leaves,
	}
}

/// A cheating provider, for the network tests only: built solely into the
/// `povm-worker-cheat` binary (feature `test-cheat`), never into `povm-worker`.
#[cfg(feature = "test-cheat")]
mod cheat {
	use super::*;

	/// Replaces the result digest with a wrong one and commits to that, consistently, so the
	/// reveal matches the commitment and only redundancy can tell the result is wrong.
	pub fn corrupt(mut record: PendingCommit, me: &AccountId) -> PendingCommit {
		record.reveal.result_digest = sp_io::hashing::blake2_256(&record.reveal.result_digest);
		record.commitment = povm_primitives::attestation::commitment(
			&record.reveal.result_digest,
			&record.reveal.checkpoints_root,
			&record.reveal.salt,
			me,
		);
		tracing::warn!(target: LOG_SERVICE, job = record.job, "test-cheat: committing a corrupted result");
		record
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::executor::{CheckpointFile, OutputFile};

	fn exec() -> Execution {
		Execution {
			exit_code: 0,
			flags: Default::default(),
			stdout: b"heads 3\n".to_vec(),
			stderr: vec![],
			outputs: vec![OutputFile {
				name: "tally.json".into(),
				content: b"{\"heads\":3}".to_vec(),
				digest: attestation::blake2_256(b"{\"heads\":3}"),
			}],
			checkpoints: (0..3)
				.map(|i| CheckpointFile { name: format!("{i:04}"), size: 1, digest: [i; 32] })
				.collect(),
			usage: executor::Usage {
				cpu_ms: 120,
				memory_mib_ms: 5_500,
				peak_memory_mib: 2,
				wall_ms: 300,
				samples: 3,
			},
		}
	}

	#[test]
	fn usage_is_converted_to_mib_seconds() {
		let u = chain_usage(&exec().usage);
		assert_eq!(u, Usage { cpu_ms: 120, memory_mib_s: 5, wall_ms: 300 });
	}

	#[test]
	fn pending_commit_matches_the_chain_rules() {
		let me = AccountId::new([7; 32]);
		let e = exec();
		let r = pending_commit(9, &e, [1; 32], &me);
		let leaves = [[0u8; 32], [1; 32], [2; 32]];
		assert_eq!(r.leaves, leaves);
		assert_eq!(r.reveal.checkpoints_root, povm_primitives::attestation::merkle_root(&leaves));
		assert_eq!(r.reveal.result_digest, e.result_digest());
		// The vm-proof pallet recomputes exactly this from the reveal.
		assert_eq!(
			r.commitment,
			povm_primitives::attestation::commitment(
				&r.reveal.result_digest,
				&r.reveal.checkpoints_root,
				&r.reveal.salt,
				&me
			)
		);
		assert_eq!(r.reveal.output.to_vec(), b"{\"heads\":3}".to_vec());
	}

	#[test]
	fn large_outputs_fall_back_to_stdout_or_nothing() {
		let mut e = exec();
		e.outputs[0].content = vec![0; 2000];
		assert_eq!(small_output(&e), b"heads 3\n");
		e.stdout = vec![0; 2000];
		assert!(small_output(&e).is_empty());
	}

	#[test]
	fn specs_beyond_the_caps_are_refused() {
		let config = Config::default();
		let mut spec = JobSpec {
			image: format!("sha256:{}", "a".repeat(64)).into_bytes().try_into().unwrap(),
			command: b"/coinflip".to_vec().try_into().unwrap(),
			args: vec![b"--seed".to_vec().try_into().unwrap()].try_into().unwrap(),
			env: Default::default(),
			input: None,
			resources: povm_primitives::Resources {
				millicores: 500,
				memory_mib: 64,
				max_seconds: 10,
			},
			price_per_second: 1,
			redundancy: povm_primitives::RedundancyPolicy {
				min_replicas: 1,
				max_replicas: 1,
				margin: 1,
			},
			checkpoint_interval: 0,
		};
		let run = to_job_run(1, &spec, &config, "/tmp/x".into()).unwrap();
		assert_eq!(run.spec.command, ["/coinflip"]);
		assert_eq!(run.spec.args, ["--seed"]);
		assert_eq!(run.spec.resources.pids, config.caps.pids);
		spec.resources.memory_mib = config.caps.memory_mib + 1;
		assert!(to_job_run(1, &spec, &config, "/tmp/x".into()).is_err());
	}
}
