//! `povm-worker run`: serve assignments until SIGINT or SIGTERM.
//!
//! A listener ([`listen`]) follows the best and the finalised heads (reconnecting and
//! resubscribing with exponential backoff when the node goes away, or when no best head comes
//! for [`listen::STALL_TIMEOUT`]) and feeds them through a bounded channel to one service loop
//! ([`service`]). At each new best or finalised head the loop reads a
//! [`ChainView`](plan::ChainView) at the newest best block (the finalised head when that is
//! behind): this provider's assignments there and at the finalised head, the specs of the jobs
//! it may still run, the lottery draw and its standing in it, whether its heartbeat of the
//! current epoch is on chain, and whether Docker answers. It hands the view and its
//! [`LocalState`](local::LocalState) to [`plan::plan`], a pure function, and carries out the
//! [`Action`](plan::Action)s it returns: a job run or a transaction becomes a task, which
//! reports its result back through a channel; the loop logs and counts each result and updates
//! its state from it (it then plans again, so a finished run is committed at once). The loop
//! alone owns the state: no locks.
//!
//! What the plan decides, idempotently by job id (see [`plan`] for the rules):
//!
//! - `Commit` with no pending record: run the job (one slot each, earliest deadline first),
//!   compute the result digest and checkpoints root, draw a fresh salt, **persist** the
//!   pending commit, then send `commit_result`. With a pending record (a restart, or a commit
//!   that did not land): send the same commitment again. A job this worker will not run (a
//!   spec beyond its caps or with non-UTF-8 fields, or too little time left before the commit
//!   deadline for its `max_seconds` plus a margin) is declined: logged once, counted in
//!   `povm_worker_jobs_declined_total`, never run, and `decline_job` is sent (resent while the
//!   chain still shows the job waiting for this provider's commit, until the commit
//!   deadline), so the provider is not slashed as a no-show. A run that failed in a way no
//!   retry cures on this host (the image is not here and cannot be pulled, the spec's image
//!   reference or resources are unusable) is declined the same way.
//! - `Reveal`: send `reveal_result` from the pending record once the finalised head shows the
//!   `Reveal` phase; without a record, report it once.
//! - `Committed` / `Revealed`: wait.
//!
//! The plan's clock is the best block (see [`plan`], "Clock"): a job runs as soon as the block
//! that assigns it is imported, and commits, declines, heartbeats and the lottery step are sent
//! at the best block, where a fork that is reverted costs at most a wasted run or a re-sent
//! transaction. Two things wait for finality: a reveal (one on a fork that is then reverted
//! would show the result to members whose commits were reverted with it, free to copy it), and
//! forgetting a job. When finality stalls, runs and commits go on and reveals wait.
//!
//! A transaction is re-sent only when the chain, [`RESEND_AFTER`] blocks later, still shows
//! the phase it was meant to change; one that the node refused (not a lost connection or a
//! timeout) is retried after a doubling wait. Pending records and other state of jobs that
//! neither the best block nor the finalised head assigns are forgotten. Every
//! `heartbeat_every` blocks the worker sends a heartbeat unless its provider record shows one
//! for the current epoch (session) already.
//!
//! Each time it reads the chain the worker pings Docker. While Docker does not answer it takes
//! no work: it starts no job and sends no heartbeat (so the chain stops drawing it once its
//! liveness window passes), logs the fault once, and sets `povm_worker_docker_up` to 0;
//! commits and reveals of jobs that already ran go on. When Docker answers again it says so
//! and takes work again.
//!
//! At every best block the worker also takes its lottery step ([`crate::lottery`]): it
//! registers the provider key as VRF key if none is on record, and in an open draw where it
//! holds tickets it evaluates the VRF, reports the draw once, and sends `claim_ticket` when
//! the output wins.
//!
//! Modules: [`plan`] (the decisions), [`local`] (the state and its updates), [`service`] (the
//! loop and its tasks), [`listen`] (the best- and finalised-head follower), [`job`] (spec to
//! run, run to pending commit).

pub mod job;
pub mod listen;
pub mod local;
pub mod plan;
pub mod service;

pub use self::{
	job::{chain_usage, pending_commit, small_output, to_job_run, SpecError},
	listen::HEAD_CHANNEL,
	plan::RESEND_AFTER,
	service::Worker,
};
