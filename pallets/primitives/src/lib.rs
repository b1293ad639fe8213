#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod attestation;
pub mod results;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, DispatchResult, Perbill};

/// Identifier of a job, allocated in submission order.
pub type JobId = u64;

/// A 32-byte digest (blake2-256 or sha-256, as documented at each use).
pub type Digest = [u8; 32];

/// Most bytes of an image's registry repository (`host[:port]/path`), Docker's bound on a
/// reference's name.
pub const MAX_REPOSITORY_LEN: u32 = 255;
/// Most inputs a job may list.
pub const MAX_INPUTS: u32 = 8;
/// Most bytes of an input's file name.
pub const MAX_INPUT_NAME_LEN: u32 = 64;
/// Most bytes of an input's URL.
pub const MAX_URL_LEN: u32 = 512;
/// Most bytes of one input: 16 GiB. A provider's worker sets its own, lower limit and declines
/// a job above it.
pub const MAX_INPUT_BYTES: u64 = 16 << 30;
/// Most bytes of the command.
pub const MAX_COMMAND_LEN: u32 = 256;
/// Most arguments.
pub const MAX_ARGS: u32 = 32;
/// Most bytes of one argument.
pub const MAX_ARG_LEN: u32 = 256;
/// Most environment variables.
pub const MAX_ENV: u32 = 32;
/// Most bytes of an environment variable's name.
pub const MAX_ENV_KEY_LEN: u32 = 64;
/// Most bytes of an environment variable's value.
pub const MAX_ENV_VALUE_LEN: u32 = 256;
/// Most bytes of a small output stored on chain (1 KiB).
pub const MAX_OUTPUT_LEN: u32 = 1024;

/// Most millicores a job may ask for (and an offer may declare per slot): 1024 cores.
///
/// The largest single machines sold today have a few hundred cores (two 192-core sockets);
/// 1024 cores leaves room for growth while keeping every footprint input bounded (see
/// [`Resources::usage_bound`]).
pub const MAX_MILLICORES: u32 = 1_024_000;
/// Most memory a job may ask for (and an offer may declare per slot), in MiB: 32 TiB, the
/// memory of the largest eight-socket servers.
pub const MAX_MEMORY_MIB: u32 = 32 * 1024 * 1024;
/// Most wall-clock seconds a job spec can describe: 7 days (the job queue's `MaxRunSeconds`
/// bounds what the chain takes further: 24 hours in the runtime).
pub const MAX_JOB_SECONDS: u32 = 7 * 24 * 3600;

/// Seconds of a commit window reserved for container start-up and the commit transaction:
/// a job fits the default commit window when its `max_seconds` plus this does.
pub const START_MARGIN_SECS: u64 = 30;

/// A bounded byte string of at most `N` bytes.
pub type Bytes<const N: u32> = BoundedVec<u8, ConstU32<N>>;
/// A small result output stored on chain.
pub type Output = Bytes<MAX_OUTPUT_LEN>;

/// One environment variable.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct EnvVar {
	/// Variable name.
	pub key: Bytes<MAX_ENV_KEY_LEN>,
	/// Variable value.
	pub value: Bytes<MAX_ENV_VALUE_LEN>,
}

/// The VM resources a job needs (and a provider offers).
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Resources {
	/// CPU in thousandths of a core.
	pub millicores: u32,
	/// Memory in MiB.
	pub memory_mib: u32,
	/// Wall-clock limit in seconds.
	pub max_seconds: u32,
}

impl Resources {
	/// Whether every field is within the physical bounds [`MAX_MILLICORES`],
	/// [`MAX_MEMORY_MIB`] and [`MAX_JOB_SECONDS`].
	pub fn within_physical_bounds(&self) -> bool {
		self.millicores <= MAX_MILLICORES &&
			self.memory_mib <= MAX_MEMORY_MIB &&
			self.max_seconds <= MAX_JOB_SECONDS
	}

	/// The most usage a replica of a job with these resources can have: CPU
	/// `millicores × max_seconds` core-ms (a thousandth of a core for a second is a core-ms),
	/// memory `memory_mib × max_seconds` MiB·s, wall `max_seconds × 1000` ms. A reveal claiming
	/// more is refused.
	pub fn usage_bound(&self) -> Usage {
		let secs = self.max_seconds as u64;
		Usage {
			cpu_ms: (self.millicores as u64).saturating_mul(secs),
			memory_mib_s: (self.memory_mib as u64).saturating_mul(secs),
			wall_ms: secs.saturating_mul(1000),
		}
	}
}

/// How many replicas run a job and how strongly they must agree.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct RedundancyPolicy {
	/// Replicas assigned at first (>= 1), and the least valid reveals a verdict accepts.
	pub min_replicas: u32,
	/// Most replicas ever counted for this job (>= `min_replicas`, <= the runtime bound).
	pub max_replicas: u32,
	/// How many more votes the leading result needs than the runner-up (>= 1).
	pub margin: u32,
}

/// CPU architecture of an image, and of a VM offer (the operating system is always Linux).
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Arch {
	/// x86-64 (`linux/amd64`).
	X86_64,
	/// 64-bit ARM (`linux/arm64`).
	Aarch64,
	/// 64-bit RISC-V (`linux/riscv64`).
	Riscv64,
}

impl Arch {
	/// The OCI platform string a registry and the Docker engine use for it.
	pub fn platform(&self) -> &'static str {
		match self {
			Arch::X86_64 => "linux/amd64",
			Arch::Aarch64 => "linux/arm64",
			Arch::Riscv64 => "linux/riscv64",
		}
	}
}

/// Where a registry serves an image: the repository and the manifest digest it resolves.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct RegistryRef {
	/// `host[:port]/path` of the repository, without scheme, tag or digest (for example
	/// `registry.example.org/team/pi`); checked by [`is_repository`].
	pub repository: Bytes<MAX_REPOSITORY_LEN>,
	/// The sha-256 manifest digest (`repository@sha256:<hex>`) the worker pulls; for a
	/// multi-platform index, the index's digest (the worker asks for [`ImageRef::arch`]).
	pub manifest: Digest,
}

/// The image a job runs: what it is (its ID), where to get it, and the architecture it runs on.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct ImageRef {
	/// The image ID: the sha-256 digest of the image's configuration (Docker's image ID). The
	/// worker checks it after every pull or load and runs nothing else, whatever the registry
	/// served.
	pub id: Digest,
	/// Where to pull it; `None`: only providers that hold the image already can run it (the
	/// others decline).
	pub registry: Option<RegistryRef>,
	/// The architecture it runs on; only providers offering it are drawn.
	pub arch: Arch,
}

impl ImageRef {
	/// An x86-64 image that only providers already holding it can run (no registry).
	pub fn local(id: Digest) -> Self {
		ImageRef { id, registry: None, arch: Arch::X86_64 }
	}
}

/// One input file of a job, fetched by every replica before the run and checked against its
/// digest, so that every replica computes over the same bytes.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct InputRef {
	/// File name under the job's input directory (`/povm/in/<name>`); checked by
	/// [`is_input_name`].
	pub name: Bytes<MAX_INPUT_NAME_LEN>,
	/// `http://` or `https://` URL the worker fetches it from; checked by [`is_input_url`].
	pub url: Bytes<MAX_URL_LEN>,
	/// sha-256 of the content.
	pub sha256: Digest,
	/// Size of the content in bytes (at most [`MAX_INPUT_BYTES`]).
	pub size: u64,
}

/// A job's specification, every field bounded.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(Balance))]
pub struct JobSpec<Balance> {
	/// The container image.
	pub image: ImageRef,
	/// Command to run (empty: the image's entrypoint).
	pub command: Bytes<MAX_COMMAND_LEN>,
	/// Arguments.
	pub args: BoundedVec<Bytes<MAX_ARG_LEN>, ConstU32<MAX_ARGS>>,
	/// Environment.
	pub env: BoundedVec<EnvVar, ConstU32<MAX_ENV>>,
	/// Input files, fetched and checked by every replica, mounted read-only at `/povm/in`.
	pub inputs: BoundedVec<InputRef, ConstU32<MAX_INPUTS>>,
	/// Resources and wall-clock limit.
	pub resources: Resources,
	/// Most the customer pays per VM-second (per replica).
	pub price_per_second: Balance,
	/// Redundancy policy.
	pub redundancy: RedundancyPolicy,
	/// Seconds between checkpoints (0: only a final checkpoint).
	pub checkpoint_interval: u32,
}

/// Resource usage measured by the worker for one replica.
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Usage {
	/// CPU time in core-milliseconds.
	pub cpu_ms: u64,
	/// Memory integral in MiB·seconds.
	pub memory_mib_s: u64,
	/// Wall-clock time in milliseconds.
	pub wall_ms: u64,
}

impl Usage {
	/// Whether no component exceeds `bound`'s.
	pub fn within(&self, bound: &Usage) -> bool {
		self.cpu_ms <= bound.cpu_ms &&
			self.memory_mib_s <= bound.memory_mib_s &&
			self.wall_ms <= bound.wall_ms
	}

	/// Each component capped at `bound`'s (what a worker commits for a measurement that
	/// overshot the limits by its sampling error).
	pub fn capped_at(&self, bound: &Usage) -> Usage {
		Usage {
			cpu_ms: self.cpu_ms.min(bound.cpu_ms),
			memory_mib_s: self.memory_mib_s.min(bound.memory_mib_s),
			wall_ms: self.wall_ms.min(bound.wall_ms),
		}
	}
}

/// Energy and carbon of some verified work.
///
/// Energy in microwatt-hours (µWh), carbon in micrograms of CO2-equivalent (µg CO2e).
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Footprint {
	/// Energy in µWh.
	pub energy_uwh: u64,
	/// Carbon in µg CO2e.
	pub carbon_ug: u64,
}

impl Footprint {
	/// Adds another footprint, saturating.
	pub fn saturating_add(self, other: Footprint) -> Footprint {
		Footprint {
			energy_uwh: self.energy_uwh.saturating_add(other.energy_uwh),
			carbon_ug: self.carbon_ug.saturating_add(other.carbon_ug),
		}
	}
}

/// The state of a job.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum JobState {
	/// Waiting in the queue for providers.
	Queued,
	/// Providers assigned; commits are open.
	Assigned,
	/// Commits closed; reveals are open.
	Revealing,
	/// A result was accepted and paid.
	Completed,
	/// No result reached the margin within `max_replicas`: the valid revealers were paid their
	/// capped time, the rest refunded.
	Disputed,
	/// No fitting provider within the queue timeout; refunded.
	Expired,
	/// Cancelled by the owner while queued; refunded.
	Cancelled,
	/// Most providers drawn for it declined it before anyone sealed a result: the escrow was
	/// refunded, the storage deposit paid to the decliners, and the record removed.
	Unrunnable,
}

impl JobState {
	/// Whether the job still holds its budget.
	pub fn is_open(&self) -> bool {
		matches!(self, JobState::Queued | JobState::Assigned | JobState::Revealing)
	}
}

/// Protocol parameters set by root.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ProtocolParams<BlockNumber> {
	/// Blocks a job may wait in the queue before it expires and is refunded.
	pub queue_timeout: BlockNumber,
	/// Blocks an assigned provider has at least to run the job and commit: a job whose
	/// `max_seconds` plus a start-up margin does not fit in it gets a longer window of its own
	/// (see the job queue's `commit_window_for`).
	pub commit_window: BlockNumber,
	/// Blocks, after commits close, to reveal.
	pub reveal_window: BlockNumber,
	/// Most replicas a job may ask for (<= the runtime bound `MaxReplicas`).
	pub max_replicas: u32,
	/// Most queued jobs tried for assignment per block.
	pub max_assignments_per_block: u32,
	/// Share of the bond slashed for a wrong result.
	pub wrong_result_slash: Perbill,
	/// Share of the bond slashed for a commit or reveal no-show (or a bad reveal).
	pub no_show_slash: Perbill,
}

/// What vm-proof needs to know about a job.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobTerms<AccountId, Balance> {
	/// Who submitted it.
	pub owner: AccountId,
	/// Current state.
	pub state: JobState,
	/// Resources.
	pub resources: Resources,
	/// Price per VM-second.
	pub price_per_second: Balance,
	/// Redundancy policy.
	pub redundancy: RedundancyPolicy,
	/// Every provider ever assigned, in order.
	pub providers: Vec<AccountId>,
}

/// An accepted result, handed to the job queue for payment and record.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct Settlement<AccountId, Balance> {
	/// The accepted result digest.
	pub result_digest: Digest,
	/// The accepted checkpoints root.
	pub checkpoints_root: Digest,
	/// The agreed output digest ([`attestation::output_digest`] of `output`); the job queue
	/// refuses a settlement whose output does not hash to it.
	pub output_digest: Digest,
	/// Small output.
	pub output: Output,
	/// Median usage of the agreeing replicas.
	pub usage: Usage,
	/// Summed footprint of the agreeing replicas.
	pub footprint: Footprint,
	/// Payment per agreeing provider.
	pub payments: Vec<(AccountId, Balance)>,
	/// First checkpoint index at which a dissenting replica differs, if any dissent.
	pub first_divergence: Option<u32>,
	/// How the run ended ([`results::RunOutcome`], checked against `result_digest`), when an
	/// agreeing reveal carried it.
	pub outcome: Option<results::RunOutcome>,
}

/// The job queue, as seen by the vm-proof pallet.
pub trait JobLedger<AccountId, Balance, BlockNumber> {
	/// A job's terms, if it exists.
	fn job_terms(job: JobId) -> Option<JobTerms<AccountId, Balance>>;
	/// Current protocol parameters.
	fn protocol_params() -> ProtocolParams<BlockNumber>;
	/// Commits of all current assignees are closed: `Assigned -> Revealing`.
	fn set_revealing(job: JobId, reveal_deadline: BlockNumber) -> DispatchResult;
	/// Draw up to `count` more providers for an open job, excluding every provider already
	/// assigned. The registry's [`ProviderRegistry::on_assigned`] is called for them. Returns
	/// the providers drawn (possibly none); the job goes back to `Assigned` if any.
	fn assign_more(job: JobId, count: u32) -> Result<Vec<AccountId>, DispatchError>;
	/// Accept a result: pay providers from escrow, refund the rest, `-> Completed`.
	fn complete(job: JobId, settlement: Settlement<AccountId, Balance>) -> DispatchResult;
	/// No result reached the margin: pay each valid revealer its capped time from escrow
	/// (`payments`, in order, each cut to what is left), refund the rest, `-> Disputed`.
	fn dispute(
		job: JobId,
		first_divergence: Option<u32>,
		payments: Vec<(AccountId, Balance)>,
	) -> DispatchResult;
	/// Most of the job's providers declined it and none sealed a result: refund the whole
	/// escrow to the owner, pay the owner's storage deposit to `decliners` (split evenly, the
	/// indivisible rest back to the owner), remove the record, `-> Unrunnable`.
	fn unrunnable(job: JobId, decliners: Vec<AccountId>) -> DispatchResult;
	/// Benchmark helper: create a job already assigned to `providers`.
	#[cfg(feature = "runtime-benchmarks")]
	fn bench_assigned_job(
		owner: AccountId,
		providers: Vec<AccountId>,
	) -> Result<JobId, DispatchError>;
}

/// What [`ProviderRegistry::draw`] found.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Drawn<AccountId> {
	/// The providers drawn, in the order they were picked.
	pub providers: Vec<AccountId>,
	/// Picks that met a provider no longer eligible (a lapsed heartbeat), each reindexed and
	/// drawn again: the work a draw does beyond the picks that drew someone.
	pub rejections: u32,
}

/// The provider registry, as seen by the job queue.
pub trait ProviderRegistry<AccountId, BlockNumber> {
	/// How many providers are eligible for `resources` on `arch` (registered, live, bonded, an
	/// offer that fits and offers `arch`, a free slot): exactly the providers a draw can take.
	fn drawable_count(resources: &Resources, arch: Arch) -> u32;
	/// Draw up to `count` distinct providers eligible for `resources` on `arch`, none of
	/// `exclude`, each pick with probability proportional to the provider's free slots (its
	/// declared capacity less the jobs it holds) among those not drawn yet, whatever its
	/// registration order. `random(i)` gives the draw's `i`-th random number. Fewer than
	/// `count` when fewer are eligible.
	fn draw(
		resources: &Resources,
		arch: Arch,
		count: u32,
		exclude: &[AccountId],
		random: &mut dyn FnMut(u32) -> u64,
	) -> Drawn<AccountId>;
	/// The most weight one [`Self::draw`] of `count` providers takes beyond what the job queue's
	/// benchmark of an assignment measured: the picks that find a provider whose liveness
	/// lapsed, and reindex it (at most the registry's most rejections per draw, each
	/// [`Self::rejection_weight`]: `rejections × rejection_weight` never exceeds this).
	fn draw_rejections_weight() -> frame_support::weights::Weight;
	/// The weight of one pick that finds a provider whose liveness lapsed and reindexes it;
	/// a draw that met [`Drawn::rejections`] such picks is charged that many.
	fn rejection_weight() -> frame_support::weights::Weight;
	/// What one pick may cost beyond a pick among `candidates` providers (what the job queue's
	/// benchmark measured): the deeper search of the largest class the registry can hold.
	fn pick_weight_beyond(candidates: u32) -> frame_support::weights::Weight;
	/// `providers` were assigned to `job`: take a slot each and open their commit window of
	/// `commit_window` blocks (sized by the job queue to the job's run time). Returns the
	/// commit deadline.
	fn on_assigned(
		job: JobId,
		providers: &[AccountId],
		commit_window: BlockNumber,
	) -> Result<BlockNumber, DispatchError>;
	/// Whether `who` is a registered provider.
	fn is_registered(who: &AccountId) -> bool;
	/// Benchmark helper: register `n` fitting, live providers for `resources`.
	#[cfg(feature = "runtime-benchmarks")]
	fn bench_register(n: u32, resources: &Resources) -> Vec<AccountId>;
}

/// Verified work, as seen by the lottery.
pub trait VerifiedWork<AccountId> {
	/// The lottery has opened the draw that counts the work of `epoch` (its tickets were
	/// credited as the work was verified, [`TicketLedger::credit`]): the verifier's per-epoch
	/// records up to `epoch` may be pruned. Returns the weight of what was done.
	fn work_taken(epoch: u32) -> frame_support::weights::Weight;
}

/// Where verified work becomes lottery tickets, as it is verified (the lottery pallet).
///
/// Tickets are credited per verdict, so that a draw's total and every provider's share are
/// known when it opens without reading every provider: opening a draw costs the same for ten
/// providers as for a million, and no provider is left out.
pub trait TicketLedger<AccountId> {
	/// `who` delivered `vm_millis` of verified work in `epoch`, at `reputation` (after the
	/// verdict that accepted it): credit `⌊reputation × vm_millis⌋` tickets ([`tickets_for`])
	/// in the draw of epoch `epoch + 1`.
	fn credit(epoch: u32, who: &AccountId, vm_millis: u64, reputation: Perbill);
}

/// No lottery (a chain without one, the mocks that do not look at tickets).
impl<AccountId> TicketLedger<AccountId> for () {
	fn credit(_: u32, _: &AccountId, _: u64, _: Perbill) {}
}

/// Tickets for `vm_millis` of verified work at `reputation`: reputation-weighted
/// VM-milliseconds, `⌊reputation × vm_millis⌋`. Counting milliseconds, not whole seconds, gives
/// a provider of short jobs its share too.
pub fn tickets_for(vm_millis: u64, reputation: Perbill) -> u64 {
	reputation.mul_floor(vm_millis)
}

/// Whether a provider's bond still answers for its conduct as a validator.
///
/// An equivocation (BABE or GRANDPA) can be reported for as long as the historical
/// key-ownership roots of its session are kept (the reporting window), and its slash takes the
/// offender's provider bond: that bond must stay held while its owner is seated, is planned
/// to be, or was seated within the window, whatever the provider's own unbonding delay.
pub trait ValidatorBonds<AccountId> {
	/// Whether `who`'s bond may still be slashed for an equivocation: it must not be withdrawn.
	fn at_stake(who: &AccountId) -> bool;
	/// `who`'s bond was withdrawn: forget its seat history.
	fn released(who: &AccountId);
}

/// No validators (a chain whose providers never validate, the mocks).
impl<AccountId> ValidatorBonds<AccountId> for () {
	fn at_stake(_: &AccountId) -> bool {
		false
	}
	fn released(_: &AccountId) {}
}

/// Where an assigned provider stands on one job (for the worker's runtime API).
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum AssignmentPhase {
	/// Must commit before the commit deadline.
	Commit,
	/// Committed; waiting for other commits to close.
	Committed,
	/// Must reveal before the reveal deadline.
	Reveal,
	/// Revealed; waiting for the verdict.
	Revealed,
}

/// One assignment of a provider (for the worker's runtime API).
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct AssignmentView<BlockNumber> {
	/// The job.
	pub job: JobId,
	/// The draw wave of the job the provider was assigned in (0 for the first draw, one more
	/// for each later draw); part of the commitment ([`attestation::Attestation::wave`]).
	pub wave: u32,
	/// Where the provider stands.
	pub phase: AssignmentPhase,
	/// Commit deadline (inclusive).
	pub commit_deadline: BlockNumber,
	/// Reveal deadline (inclusive); only meaningful once commits closed.
	pub reveal_deadline: BlockNumber,
}

/// Whether `repository` names a registry repository: `host[:port]/path`, where the host is
/// `localhost` or DNS labels with a `.` (else Docker would read it as a path on Docker Hub) or
/// any host with a port, each label 1..=63 letters, digits and inner `-`; the port 1..=65535;
/// and the path one or more `/`-separated components of lowercase letters and digits joined by
/// one `.`, one or two `_`, or a run of `-` (the distribution spec's grammar), without tag or
/// digest. The worker's own check accepts every repository this accepts.
pub fn is_repository(repository: &[u8]) -> bool {
	let Some(slash) = repository.iter().position(|&c| c == b'/') else { return false };
	let (domain, path) = (&repository[..slash], &repository[slash + 1..]);
	let (host, port) = match domain.iter().position(|&c| c == b':') {
		Some(colon) => (&domain[..colon], Some(&domain[colon + 1..])),
		None => (domain, None),
	};
	is_host_name(host) &&
		(port.is_some() || host == b"localhost" || host.contains(&b'.')) &&
		port.map_or(true, is_port) &&
		path.split(|&c| c == b'/').all(is_path_component)
}

/// Whether `host` is DNS labels of 1..=63 letters, digits and inner `-`, joined by `.`.
fn is_host_name(host: &[u8]) -> bool {
	!host.is_empty() &&
		host.split(|&c| c == b'.').all(|label| {
			(1..=63).contains(&label.len()) &&
				label.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-') &&
				label[0] != b'-' &&
				label[label.len() - 1] != b'-'
		})
}

/// Whether `port` is a decimal TCP port, 1..=65535.
fn is_port(port: &[u8]) -> bool {
	(1..=5).contains(&port.len()) &&
		port.iter().all(u8::is_ascii_digit) &&
		port.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')).wrapping_sub(1) < 65535
}

/// Whether `c` is a repository path component: lowercase alphanumeric runs joined by `.`, `_`,
/// `__` or a run of `-`.
fn is_path_component(c: &[u8]) -> bool {
	let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
	let mut i = 0;
	while i < c.len() {
		let run = c[i..].iter().take_while(|b| alnum(b)).count();
		if run == 0 {
			return false
		}
		i += run;
		if i == c.len() {
			return true
		}
		let sep = c[i..].iter().take_while(|b| !alnum(b)).count();
		let separator = &c[i..i + sep];
		let valid = separator == b"." ||
			separator == b"_" ||
			separator == b"__" ||
			separator.iter().all(|&b| b == b'-');
		if !valid || i + sep == c.len() {
			return false
		}
		i += sep;
	}
	false
}

/// Whether `name` can name an input file: 1..=[`MAX_INPUT_NAME_LEN`] bytes of ASCII letters,
/// digits, `.`, `_` and `-`, not starting with `.` (no hidden file, no `.` or `..`).
pub fn is_input_name(name: &[u8]) -> bool {
	!name.is_empty() &&
		name[0] != b'.' &&
		name.iter()
			.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Whether `url` is an `http://` or `https://` URL a worker may fetch: printable ASCII without
/// spaces; an authority of a host name ([`is_host_name`]'s labels), or an IPv6 address in
/// brackets, and an optional port 1..=65535; no user information (`user:password@`: a public
/// spec holds no secret, and a credential in it would be everyone's).
pub fn is_input_url(url: &[u8]) -> bool {
	let rest = if let Some(rest) = url.strip_prefix(b"https://") {
		rest
	} else if let Some(rest) = url.strip_prefix(b"http://") {
		rest
	} else {
		return false
	};
	let authority_end = rest.iter().position(|&c| matches!(c, b'/' | b'?' | b'#'));
	let authority = &rest[..authority_end.unwrap_or(rest.len())];
	let (host, port) = if let Some(v6) = authority.strip_prefix(b"[") {
		let Some(close) = v6.iter().position(|&c| c == b']') else { return false };
		let (address, after) = (&v6[..close], &v6[close + 1..]);
		let port = match after {
			[] => None,
			[b':', port @ ..] => Some(port),
			_ => return false,
		};
		let ok = !address.is_empty() &&
			address.contains(&b':') &&
			address.iter().all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.'));
		(ok, port)
	} else {
		let (host, port) = match authority.iter().position(|&c| c == b':') {
			Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
			None => (authority, None),
		};
		(is_host_name(host), port)
	};
	url.iter().all(|c| c.is_ascii_graphic()) && host && port.map_or(true, is_port)
}

/// Whether `text` can be handed to a process as one argument or environment value: valid UTF-8
/// (the worker passes text to Docker) without a NUL byte (which no `execve` string can hold).
pub fn is_exec_text(text: &[u8]) -> bool {
	core::str::from_utf8(text).is_ok() && !text.contains(&0)
}

/// Whether `name` is usable as an environment variable's name: non-empty exec text without
/// `=` (the worker writes `name=value`, so a name with `=` would change both).
pub fn is_env_name(name: &[u8]) -> bool {
	!name.is_empty() && !name.contains(&b'=') && is_exec_text(name)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn exec_text_is_utf8_without_nul() {
		assert!(is_exec_text(b""));
		assert!(is_exec_text("--name=caf\u{e9}".as_bytes()));
		assert!(!is_exec_text(b"\xff"));
		assert!(!is_exec_text(&[0xe2, 0x82]));
		assert!(!is_exec_text(b"a\0b"));
	}

	#[test]
	fn repositories_are_host_and_lowercase_path() {
		for good in [
			&b"127.0.0.1:5000/povm/pi"[..],
			b"registry.example.org/team/pi",
			b"ghcr.io/a-b/c_d/e.f/g__h",
			b"localhost:1/x",
			b"localhost/x",
			b"registry.example.org/a--b/c",
		] {
			assert!(is_repository(good), "{}", String::from_utf8_lossy(good));
		}
		for bad in [
			&b""[..],
			b"pi",
			b"registry/",
			b"/pi",
			b"registry.example.org/Team/pi",
			b"registry.example.org/pi:latest",
			b"registry.example.org/pi@sha256:00",
			b"https://registry.example.org/pi",
			b"registry.example.org:/pi",
			b"registry.example.org:123456/pi",
			b"-registry.org/pi",
			b"registry..org/pi",
			b"registry.org/pi//x",
			b"registry.org/-pi",
			b"registry.org/pi-",
			b"registry.org/p..i",
			b"registry.org/p___i",
			b"registry.org/p i",
			b"registry/pi",
			b"registry.example.org:0/pi",
			b"registry.example.org:65536/pi",
			b"registry.example.org/a-_b",
			b"registry.example.org/a_-b",
			b"registry.example.org/a._b",
			b"registry.example.org/a__",
		] {
			assert!(!is_repository(bad), "{}", String::from_utf8_lossy(bad));
		}
	}

	#[test]
	fn input_names_are_plain_file_names() {
		assert!(is_input_name(b"data.csv"));
		assert!(is_input_name(b"A-1_b.tar.gz"));
		for bad in [&b""[..], b".", b"..", b".hidden", b"a/b", b"a b", b"caf\xc3\xa9", b"a\0"] {
			assert!(!is_input_name(bad), "{}", String::from_utf8_lossy(bad));
		}
	}

	#[test]
	fn input_urls_are_http_without_credentials() {
		assert!(is_input_url(b"https://data.example.org/x.csv?v=1"));
		assert!(is_input_url(b"http://127.0.0.1:8080/x"));
		assert!(is_input_url(b"http://[::1]:8080/x"));
		assert!(is_input_url(b"https://data.example.org:65535"));
		for bad in [
			&b""[..],
			b"ftp://example.org/x",
			b"file:///etc/passwd",
			b"https://",
			b"https:///x",
			b"https://user:secret@example.org/x",
			b"https://example.org/a b",
			b"https://:80/x",
			b"HTTPS://example.org/x",
			b"http://a^b/x",
			b"http://h:99999/x",
			b"http://h:0/x",
			b"http://[zz]/x",
			b"http://[::1/x",
			b"http://-h.org/x",
			b"http://h..org/x",
		] {
			assert!(!is_input_url(bad), "{}", String::from_utf8_lossy(bad));
		}
	}

	#[test]
	fn env_names_are_non_empty_text_without_equals() {
		assert!(is_env_name(b"RUST_LOG"));
		assert!(!is_env_name(b""));
		assert!(!is_env_name(b"A=B"));
		assert!(!is_env_name(b"K\xfe"));
		assert!(!is_env_name(b"K\0"));
	}
}
