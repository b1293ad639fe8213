//! Domain types of the job queue.

use crate::Config;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	traits::fungible::Inspect, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
pub use povm_primitives::{
	results::RunOutcome, Digest, Footprint, JobId, JobSpec, JobState, Output, ProtocolParams,
	RedundancyPolicy, Resources, Usage,
};
use scale_info::TypeInfo;

pub use povm_primitives::START_MARGIN_SECS;

/// The balance type of the configured currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A job spec priced in this runtime's balance.
pub type JobSpecOf<T> = JobSpec<BalanceOf<T>>;

/// Protocol parameters of this runtime.
pub type ProtocolParamsOf<T> = ProtocolParams<BlockNumberFor<T>>;

/// Every provider ever assigned to a job.
pub type ProvidersOf<T> =
	BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxAssignees>;

/// Payments to agreeing providers.
pub type PaymentsOf<T> =
	BoundedVec<(<T as frame_system::Config>::AccountId, BalanceOf<T>), <T as Config>::MaxAssignees>;

/// A job on chain.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Job<T: Config> {
	/// Who submitted the job and gets the refunds.
	pub owner: T::AccountId,
	/// The specification.
	pub spec: JobSpecOf<T>,
	/// Escrow still held for this job (zero once settled).
	pub budget: BalanceOf<T>,
	/// Storage deposit held until the record is reaped.
	pub deposit: BalanceOf<T>,
	/// Lifecycle state.
	pub state: JobState,
	/// Block of submission.
	pub submitted_at: BlockNumberFor<T>,
	/// Last block the job may wait in the queue.
	pub expires_at: BlockNumberFor<T>,
	/// Every provider ever assigned, in order.
	pub providers: ProvidersOf<T>,
	/// Latest commit deadline given to assigned providers.
	pub commit_deadline: Option<BlockNumberFor<T>>,
	/// Reveal deadline, once commits closed.
	pub reveal_deadline: Option<BlockNumberFor<T>>,
}

/// The accepted result of a completed job.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct JobResult<T: Config> {
	/// Digest of the accepted result (exit code, stdout/stderr digests, output files).
	pub result_digest: Digest,
	/// Merkle root of the accepted checkpoints.
	pub checkpoints_root: Digest,
	/// Small output (<= 1 KiB).
	pub output: Output,
	/// Median usage of the agreeing replicas.
	pub usage: Usage,
	/// Energy (µWh) and carbon (µg CO2e) of the agreeing replicas.
	pub footprint: Footprint,
	/// What each agreeing provider was paid.
	pub payments: PaymentsOf<T>,
	/// What was refunded to the owner.
	pub refunded: BalanceOf<T>,
}

/// The number of price levels: [`price_level`] maps every `u128` price below it.
pub const PRICE_LEVELS: u16 = 1024;

/// Levels per doubling of the price: a level spans at most 1/8 of its lowest price (12.5 %).
const LEVELS_PER_DOUBLING_LOG2: u32 = 3;

/// The price level of `price` per VM-second: the price itself below 16, above it eight
/// levels per doubling (the top bit's position and the three bits after it). Monotone: a
/// higher price never has a lower level. At most 1007 for `u128::MAX`.
pub fn price_level(price: u128) -> u16 {
	let exact = 1u128 << (LEVELS_PER_DOUBLING_LOG2 + 1);
	if price < exact {
		return price as u16;
	}
	let top = 127u32.saturating_sub(price.leading_zeros());
	let shift = top.saturating_sub(LEVELS_PER_DOUBLING_LOG2);
	let fraction = ((price >> shift) as u32) & ((1 << LEVELS_PER_DOUBLING_LOG2) - 1);
	let level = shift.saturating_add(1).saturating_mul(1 << LEVELS_PER_DOUBLING_LOG2) | fraction;
	level.min(u32::from(PRICE_LEVELS) - 1) as u16
}

/// One bit per price level: which levels hold jobs.
#[derive(Encode, Decode, TypeInfo, MaxEncodedLen, Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct LevelMask(pub [u64; PRICE_LEVELS as usize / 64]);

impl LevelMask {
	/// Mark `level` as holding jobs (or not).
	pub fn set(&mut self, level: u16, on: bool) {
		let (word, bit) = (usize::from(level / 64) % self.0.len(), level % 64);
		if on {
			self.0[word] |= 1 << bit;
		} else {
			self.0[word] &= !(1 << bit);
		}
	}

	/// Whether `level` holds jobs.
	pub fn get(&self, level: u16) -> bool {
		let (word, bit) = (usize::from(level / 64) % self.0.len(), level % 64);
		self.0[word] & (1 << bit) != 0
	}

	/// The highest marked level strictly below `below` (any level when `None`).
	pub fn highest_below(&self, below: Option<u16>) -> Option<u16> {
		let limit = below.map_or(PRICE_LEVELS, |b| b.min(PRICE_LEVELS));
		let mut word = usize::from(limit / 64);
		let mut bits = limit % 64;
		loop {
			if bits > 0 {
				let masked = self.0.get(word).copied().unwrap_or(0) & (u64::MAX >> (64 - bits));
				if masked != 0 {
					return Some((word as u16) * 64 + (63 - masked.leading_zeros() as u16));
				}
			}
			if word == 0 {
				return None;
			}
			word -= 1;
			bits = 64;
		}
	}

	/// The lowest marked level.
	pub fn lowest(&self) -> Option<u16> {
		self.0
			.iter()
			.enumerate()
			.find(|(_, w)| **w != 0)
			.map(|(i, w)| (i as u16) * 64 + w.trailing_zeros() as u16)
	}
}

/// The jobs of one price level: ready jobs are tried in the order of their places
/// `head..tail` (places of cancelled or expired jobs are empty and skipped); waiting jobs
/// failed a try and sit in the retry agenda.
#[derive(Encode, Decode, TypeInfo, MaxEncodedLen, Clone, Copy, PartialEq, Eq, Debug)]
pub struct LevelBounds {
	/// The first place that may hold a ready job.
	pub head: u64,
	/// The place after the last.
	pub tail: u64,
	/// Ready jobs at this level.
	pub ready: u32,
	/// Waiting jobs at this level.
	pub waiting: u32,
}

impl Default for LevelBounds {
	/// An empty level, its places in the middle of the range so that jobs can be put back in
	/// front of the head as well as behind the tail.
	fn default() -> Self {
		LevelBounds { head: 1 << 63, tail: 1 << 63, ready: 0, waiting: 0 }
	}
}

impl LevelBounds {
	/// Jobs at this level, ready or waiting.
	pub fn jobs(&self) -> u32 {
		self.ready.saturating_add(self.waiting)
	}
}

/// Where a queued job stands in the queue.
#[derive(Encode, Decode, TypeInfo, MaxEncodedLen, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place<BlockNumber> {
	/// Ready to be tried, at this place of its level.
	Ready(u64),
	/// Failed its last try; back at the end of its level's line at this block.
	Waiting(BlockNumber),
}

/// The queue's two counters, kept in one value: a submission reads and writes both.
#[derive(Encode, Decode, TypeInfo, MaxEncodedLen, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct JobCounters {
	/// The identifier the next submitted job receives.
	pub next_job_id: JobId,
	/// The number of queued jobs, ready or waiting (at most `MaxQueueLen`).
	pub queued: u32,
}

/// A queued job's entry in the queue's index (the value of its expiry entry).
#[derive(Encode, Decode, TypeInfo, MaxEncodedLen, Clone, Copy, PartialEq, Eq, Debug)]
pub struct QueuedJob<BlockNumber> {
	/// Its price level ([`price_level`] of its price per VM-second).
	pub level: u16,
	/// Ready or waiting.
	pub place: Place<BlockNumber>,
	/// Tries that found too few eligible providers (the backoff doubles with each).
	pub failed_tries: u8,
}

/// The longest a job waits between two tries, in blocks: a job that found too few eligible
/// providers (none fits, or all that fit are busy) is tried again after 1, 2, 4, … blocks, at
/// most this many (48 s at 3 s blocks, 96 s at 6 s), at the end of its level's line. A job
/// nobody can run costs one try per 16 blocks once its backoff is full; a job waiting for busy
/// providers starts at most this long after they free up.
pub const MAX_RETRY_BACKOFF: u32 = 16;

/// Blocks before a job's next try after `failed_tries` failed ones: `2^(failed_tries - 1)`,
/// at most [`MAX_RETRY_BACKOFF`].
pub fn retry_backoff(failed_tries: u8) -> u32 {
	let exp = u32::from(failed_tries.saturating_sub(1)).min(31);
	(1u32 << exp).min(MAX_RETRY_BACKOFF)
}
