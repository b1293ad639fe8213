//! Time in the runtime: the block time, the session length, and everything that scales with
//! the session length, for both builds.
//!
//! A session is a BABE epoch, a lottery epoch (one draw) and a vm-proof epoch (heartbeats,
//! verified work, carbon sums): they are the same thing. Its length is the one difference
//! between the two builds of the runtime:
//!
//! - **production** (the default build): one-hour sessions;
//! - **`fast-runtime`** (cargo feature of `povm-runtime`, forwarded by `povm-node`'s feature of
//!   the same name): one-minute sessions, for the tests, the demo and local development
//!   (`scripts/test.sh`, `scripts/demo.sh` and `scripts/run-dev.sh` build it).
//!
//! The block time is 6 s in both. The formulas below are `const fn`s of the build, so the
//! unit tests compare both builds whichever one is compiled.
//!
//! | what | formula | `fast-runtime` | production |
//! | --- | --- | --- | --- |
//! | block (BABE slot) | [`MILLI_SECS_PER_BLOCK`] | 6 s | 6 s |
//! | session = BABE, lottery and vm-proof epoch | [`session_blocks`] | 10 blocks = 1 min | 600 blocks = 1 h |
//! | lottery issuance per session (`EpochIssuance`) | [`ISSUANCE_PER_BLOCK`] × session | 100 POVM | 6,000 POVM |
//! | lottery issuance per day (when every draw has a claiming winner) | | 144,000 POVM | 144,000 POVM |
//! | VRF key activation (`KeyActivationDelay`) | [`KEY_ACTIVATION_DELAY`] sessions | 2 sessions = 2 min | 2 sessions = 2 h |
//! | lottery claim window (one draw) | 1 session | 1 min | 1 h |
//! | verified work → tickets → paid → seated | sessions `w` → `w + 1` → end of `w + 1` → `w + 3` | ~3 min | ~3 h |
//! | heartbeat liveness: drawn while the last heartbeat is in the current or previous session (vm-proof) | 1 to 2 sessions | 1–2 min | 1–2 h |
//! | assignment randomness known ahead (`RandomnessFromOneEpochAgo`) | 1 session | 1 min | 1 h |
//! | provider unbonding (`UnbondingDelay`) | [`unbonding_delay`]: max(1 h, 2 sessions) | 600 blocks = 1 h | 1,200 blocks = 2 h |
//! | GRANDPA set-id history (`MaxSetIdSessionEntries`) | [`max_set_id_session_entries`]: 28 days of sessions | 40,320 | 672 |
//! | `jobQueue.Params` defaults (`queue_timeout`, `commit_window`, `reveal_window`) | blocks, in the job-queue pallet | 600, 20, 20 blocks | 600, 20, 20 blocks |
//!
//! Not scaled, on purpose:
//! - `KeyActivationDelay` counts sessions because it is a security rule, not a duration: a key
//!   must be on record before the seed of the first draw it claims in is known, and the seed
//!   (`pallet_babe::NextRandomness`) is public one session before its draw opens.
//! - The job deadlines (`jobQueue.Params`: queue timeout, commit and reveal windows) are the
//!   time a job needs, not a share of a session; they are the job-queue pallet's
//!   `DefaultParams` (blocks) until root calls `set_params`, in both builds. In production a
//!   whole commit–reveal round (≤ 42 blocks) fits in a session; in `fast-runtime` it spans
//!   up to five sessions, which nothing depends on (verified work counts in the session of
//!   the verdict).
//! - `ExpectedWinners` (16), `MaxWinners` and the validator-set bounds are per draw: a draw
//!   seats a validator set for one session, whatever its length.
//! - The heartbeat liveness window is the vm-proof pallet's rule (current or previous
//!   epoch); the worker's `heartbeat_every` (1..9 blocks) stays below a session in both
//!   builds, and the worker sends at most one heartbeat per session.
//!
//! Why not shorter than a minute in `fast-runtime`: the worker's `heartbeat_every` may be up to
//! 9 blocks (`offchain-worker/src/config.rs`, `EPOCH_BLOCKS = 10`), so a shorter session could
//! let a live provider miss one; and a winner must see its draw on a finalised block and get
//! its claim included within the one session of the draw.

use crate::{Balance, BlockNumber, UNIT};

/// Target block time: one block every 6 s, in both builds.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// BABE slots have the length of a block.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks per minute, hour and day at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The two builds of the runtime.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Build {
	/// The default build: production-sized sessions.
	Production,
	/// `--features fast-runtime`: short sessions for tests, the demo and local development.
	Fast,
}

/// The build being compiled.
#[cfg(feature = "fast-runtime")]
pub const BUILD: Build = Build::Fast;
/// The build being compiled.
#[cfg(not(feature = "fast-runtime"))]
pub const BUILD: Build = Build::Production;

/// Blocks per session (BABE epoch, lottery epoch, vm-proof epoch): one minute with
/// `fast-runtime`, one hour otherwise.
pub const fn session_blocks(build: Build) -> BlockNumber {
	match build {
		Build::Fast => MINUTES,
		Build::Production => HOURS,
	}
}

/// The lottery mints this much per block of session: 10 POVM, i.e. 100 POVM a minute,
/// 6,000 POVM an hour, 144,000 POVM a day, in both builds.
pub const ISSUANCE_PER_BLOCK: Balance = 10 * UNIT;

/// New POVM one lottery draw shares among its winners (`EpochIssuance`): the issuance of the
/// session's blocks.
pub const fn epoch_issuance(build: Build) -> Balance {
	ISSUANCE_PER_BLOCK * session_blocks(build) as Balance
}

/// Sessions between registering a VRF key and the first draw it may claim in
/// (`KeyActivationDelay`). At least 2 with `pallet_babe::NextRandomness` as the seed, in both
/// builds: it is a count of seeds, not a duration.
pub const KEY_ACTIVATION_DELAY: u32 = 2;

/// Blocks a provider's bond stays held after it unregisters (`UnbondingDelay`): at least one
/// hour, and at least two sessions, so that the draw holding tickets for its last verified work
/// (the next session's) has closed and paid before the bond is released.
pub const fn unbonding_delay(build: Build) -> BlockNumber {
	let two_sessions = 2 * session_blocks(build);
	if two_sessions > HOURS {
		two_sessions
	} else {
		HOURS
	}
}

/// Days of GRANDPA set-id history kept for equivocation reports.
pub const SET_ID_HISTORY_DAYS: u64 = 28;

/// GRANDPA's `MaxSetIdSessionEntries`: [`SET_ID_HISTORY_DAYS`] worth of sessions.
pub const fn max_set_id_session_entries(build: Build) -> u64 {
	SET_ID_HISTORY_DAYS * DAYS as u64 / session_blocks(build) as u64
}

/// A BABE epoch, and so a session and a lottery epoch, lasts this many blocks in this build.
pub const EPOCH_DURATION_IN_BLOCKS: BlockNumber = session_blocks(BUILD);
/// The same in slots (one slot per block at the target rate).
pub const EPOCH_DURATION_IN_SLOTS: u64 = EPOCH_DURATION_IN_BLOCKS as u64;
/// The lottery's issuance per draw in this build.
pub const EPOCH_ISSUANCE: Balance = epoch_issuance(BUILD);
/// The provider unbonding delay in this build.
pub const UNBONDING_DELAY: BlockNumber = unbonding_delay(BUILD);
/// GRANDPA's set-id history in this build.
pub const MAX_SET_ID_SESSION_ENTRIES: u64 = max_set_id_session_entries(BUILD);

#[cfg(test)]
mod tests {
	use super::*;
	use crate::Runtime;
	use frame_support::traits::Get;

	const BUILDS: [Build; 2] = [Build::Fast, Build::Production];

	#[test]
	fn sessions_are_one_minute_fast_and_at_least_an_hour_in_production() {
		assert_eq!(MINUTES, 10);
		assert_eq!(session_blocks(Build::Fast), MINUTES);
		assert!(session_blocks(Build::Production) >= HOURS);
		// Both divide a day, so "per day" below is exact.
		for b in BUILDS {
			assert_eq!(DAYS % session_blocks(b), 0, "{b:?}");
		}
		// This build's constants are its build's formulas.
		assert_eq!(EPOCH_DURATION_IN_BLOCKS, session_blocks(BUILD));
		assert_eq!(EPOCH_DURATION_IN_SLOTS, EPOCH_DURATION_IN_BLOCKS as u64);
		assert_eq!(<Runtime as pallet_babe::Config>::EpochDuration::get(), EPOCH_DURATION_IN_SLOTS);
		assert_eq!(cfg!(feature = "fast-runtime"), BUILD == Build::Fast);
	}

	#[test]
	fn issuance_per_day_is_the_same_in_both_builds() {
		let per_day = |b: Build| epoch_issuance(b) * (DAYS / session_blocks(b)) as Balance;
		assert_eq!(per_day(Build::Fast), per_day(Build::Production));
		assert_eq!(per_day(Build::Fast), 144_000 * UNIT);
		assert_eq!(epoch_issuance(Build::Fast), 100 * UNIT);
		assert_eq!(epoch_issuance(Build::Production), 6_000 * UNIT);
		assert_eq!(
			<Runtime as pallet_vrf_lottery::Config>::EpochIssuance::get(),
			epoch_issuance(BUILD)
		);
	}

	#[test]
	fn key_activation_waits_for_an_unknown_seed_in_both_builds() {
		// The seed (`NextRandomness`) is public one session before its draw opens.
		assert!(KEY_ACTIVATION_DELAY >= 2);
		assert_eq!(
			<Runtime as pallet_vrf_lottery::Config>::KeyActivationDelay::get(),
			KEY_ACTIVATION_DELAY
		);
	}

	#[test]
	fn unbonding_outlasts_the_last_draw_and_an_hour() {
		for b in BUILDS {
			assert!(unbonding_delay(b) >= 2 * session_blocks(b), "{b:?}");
			assert!(unbonding_delay(b) >= HOURS, "{b:?}");
		}
		assert_eq!(unbonding_delay(Build::Fast), HOURS);
		assert_eq!(unbonding_delay(Build::Production), 2 * HOURS);
		assert_eq!(
			<Runtime as pallet_vm_proof::Config>::UnbondingDelay::get(),
			unbonding_delay(BUILD)
		);
	}

	#[test]
	fn grandpa_keeps_28_days_of_set_ids_in_both_builds() {
		for b in BUILDS {
			assert_eq!(
				max_set_id_session_entries(b) * session_blocks(b) as u64,
				SET_ID_HISTORY_DAYS * DAYS as u64,
				"{b:?}"
			);
		}
		assert_eq!(max_set_id_session_entries(Build::Fast), 28 * 24 * 60);
		assert_eq!(max_set_id_session_entries(Build::Production), 28 * 24);
		assert_eq!(
			<Runtime as pallet_grandpa::Config>::MaxSetIdSessionEntries::get(),
			MAX_SET_ID_SESSION_ENTRIES
		);
	}

	/// The worker's `heartbeat_every` may be up to 9 blocks (`EPOCH_BLOCKS = 10` in
	/// `offchain-worker/src/config.rs`, a crate the runtime does not depend on).
	const WORKER_MAX_HEARTBEAT_EVERY: BlockNumber = 9;

	#[test]
	fn a_worker_heartbeats_and_claims_within_a_session_in_both_builds() {
		for b in BUILDS {
			// A live worker beats in every session, so it never misses a whole one.
			assert!(WORKER_MAX_HEARTBEAT_EVERY < session_blocks(b), "{b:?}");
		}
	}

	#[test]
	fn job_deadlines_fit_the_sessions_they_need() {
		let p = pallet_job_queue::DefaultParams::<Runtime>::get();
		let ms = <Runtime as pallet_job_queue::Config>::MillisecsPerBlock::get();
		assert_eq!(ms, MILLI_SECS_PER_BLOCK);
		// A round: commit window, the block that closes commits, reveal window, the verdict.
		let round = p.commit_window + 1 + p.reveal_window + 1;
		// In production a whole round fits in a session, so a job's verified work lands in the
		// session it was assigned in or the next.
		assert!(round <= session_blocks(Build::Production));
		// In fast-runtime a round spans up to five sessions; nothing depends on it fitting in
		// one, since verified work counts in the session of the verdict.
		assert!(round <= 5 * session_blocks(Build::Fast));
		// The commit window is block-denominated: a job of up to 90 s in both builds.
		let max_job_secs =
			u64::from(p.commit_window) * ms / 1000 - pallet_job_queue::START_MARGIN_SECS;
		assert_eq!(max_job_secs, 90);
	}
}
