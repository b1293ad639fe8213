//! Time in the runtime: the block time, the session length, and everything that scales with
//! them, for both builds.
//!
//! A session is a BABE epoch, a lottery epoch (one draw) and a vm-proof epoch (heartbeats,
//! verified work, carbon sums): they are the same thing. The block time and the session length
//! are the two differences between the builds of the runtime:
//!
//! - **production** (the default build): 6 s blocks, one-hour sessions;
//! - **`fast-runtime`** (cargo feature of `povm-runtime`, forwarded by `povm-node`'s feature of
//!   the same name): 3 s blocks, 10-block (30 s) sessions, for the tests, the demo and local
//!   development (`scripts/test.sh`, `scripts/demo.sh` and `scripts/run-dev.sh` build it).
//!
//! The formulas below are `const fn`s of the build, so the unit tests compare both builds
//! whichever one is compiled.
//!
//! | what | formula | `fast-runtime` | production |
//! | --- | --- | --- | --- |
//! | block (BABE slot) | [`millis_per_block`] | 3 s | 6 s |
//! | session = BABE, lottery and vm-proof epoch | [`session_blocks`] | 10 blocks = 30 s | 600 blocks = 1 h |
//! | lottery issuance per session (`EpochIssuance`) | [`ISSUANCE_PER_MINUTE`] × session | 50 POVM | 6,000 POVM |
//! | lottery issuance per day (when every draw has a claiming winner) | | 144,000 POVM | 144,000 POVM |
//! | VRF key activation (`KeyActivationDelay`) | [`KEY_ACTIVATION_DELAY`] sessions | 2 sessions = 1 min | 2 sessions = 2 h |
//! | lottery claim window (one draw) | 1 session | 30 s | 1 h |
//! | verified work → tickets → paid → seated | sessions `w` → `w + 1` → end of `w + 1` → `w + 3` | ~1.5 min | ~3 h |
//! | heartbeat liveness: drawn while the last heartbeat is in the current or previous session (vm-proof) | 1 to 2 sessions | 30 s–1 min | 1–2 h |
//! | assignment randomness known ahead (`RandomnessFromOneEpochAgo`) | 1 session | 30 s | 1 h |
//! | provider unbonding (`UnbondingDelay`) | [`unbonding_delay`]: max(1 h, 2 sessions) | 1,200 blocks = 1 h | 1,200 blocks = 2 h |
//! | GRANDPA set-id history (`MaxSetIdSessionEntries`) | [`max_set_id_session_entries`]: 28 days of sessions | 80,640 | 672 |
//! | `jobQueue.Params` defaults (`queue_timeout`, `commit_window`, `reveal_window`) | blocks, in the job-queue pallet | 600, 20, 20 blocks (30, 1, 1 min) | 600, 20, 20 blocks (60, 2, 2 min) |
//! | longest job the default commit window takes (`max_seconds`) | commit window − 30 s start margin | 30 s | 90 s |
//! | longest job (`MaxRunSeconds`); a longer one gets a commit window of its own | run + 30 s, in blocks | 24 h | 24 h |
//! | job heartbeat at least every (`StallTimeout`, only members of windows longer than it) | [`stall_timeout_blocks`] | 40 blocks = 2 min | 600 blocks = 1 h |
//!
//! Not scaled, on purpose:
//! - `KeyActivationDelay` counts sessions because it is a security rule, not a duration: a key
//!   must be on record before the seed of the first draw it claims in is known. The seed
//!   (`configs::lottery_seed`) hashes the BABE VRF outputs of the session whose work becomes the
//!   tickets, so it is known only when the draw opens; one session would do, two keep a margin
//!   (a key registered in session `w` first claims in the draw opened at the end of `w + 1`).
//! - The job deadlines (`jobQueue.Params`: queue timeout, commit and reveal windows) are the
//!   job-queue pallet's `DefaultParams` (blocks) until root calls `set_params`, in both builds;
//!   with `fast-runtime`'s shorter blocks they are half as long in time, so the longest job a
//!   default commit window takes is 30 s there (the tests' and the demo's jobs ask for at most
//!   that). In production a whole commit–reveal round (≤ 42 blocks) fits in a session; in
//!   `fast-runtime` it spans up to five sessions, which nothing depends on (verified work
//!   counts in the session of the verdict).
//! - `ExpectedWinners` (16), `MaxWinners` and the validator-set bounds are per draw: a draw
//!   seats a validator set for one session, whatever its length.
//! - The block weight: two seconds of compute per block in both builds, which is BABE's
//!   default proposal time (two thirds of the slot) for `fast-runtime`'s 3 s slots and a third
//!   of production's 6 s slots. The hooks meter a fifth of it, so a deadline at the largest
//!   benchmarked job size still fits in one block of either build.
//! - The heartbeat liveness window is the vm-proof pallet's rule (current or previous
//!   epoch); the worker's `heartbeat_every` (1..9 blocks) stays below a session in both
//!   builds, and the worker sends at most one heartbeat per session.
//!
//! Why not shorter than 10 blocks in `fast-runtime`: the worker's `heartbeat_every` may be up
//! to 9 blocks (`offchain-worker/src/config.rs`, `EPOCH_BLOCKS = 10`), so a shorter session
//! could let a live provider miss one; and a winner must see its draw (the worker reads it at
//! the best block) and get its claim included within the one session of the draw. Why not shorter than 3 s blocks:
//! the network tests run four validators, three workers and Docker on two cores.

use crate::{Balance, BlockNumber, UNIT};

/// The two builds of the runtime.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Build {
	/// The default build: 6 s blocks, production-sized sessions.
	Production,
	/// `--features fast-runtime`: 3 s blocks and short sessions for tests, the demo and local
	/// development.
	Fast,
}

/// The build being compiled.
#[cfg(feature = "fast-runtime")]
pub const BUILD: Build = Build::Fast;
/// The build being compiled.
#[cfg(not(feature = "fast-runtime"))]
pub const BUILD: Build = Build::Production;

/// Target block time of a build: 3 s with `fast-runtime`, 6 s in production.
pub const fn millis_per_block(build: Build) -> u64 {
	match build {
		Build::Fast => 3_000,
		Build::Production => 6_000,
	}
}

/// Blocks per minute of a build at its target block time.
pub const fn minutes(build: Build) -> BlockNumber {
	(60_000 / millis_per_block(build)) as BlockNumber
}

/// Blocks per hour of a build.
pub const fn hours(build: Build) -> BlockNumber {
	minutes(build) * 60
}

/// Blocks per day of a build.
pub const fn days(build: Build) -> BlockNumber {
	hours(build) * 24
}

/// Target block time of this build.
pub const MILLI_SECS_PER_BLOCK: u64 = millis_per_block(BUILD);
/// BABE slots have the length of a block.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Blocks per minute, hour and day of this build.
pub const MINUTES: BlockNumber = minutes(BUILD);
pub const HOURS: BlockNumber = hours(BUILD);
pub const DAYS: BlockNumber = days(BUILD);

/// Blocks per session (BABE epoch, lottery epoch, vm-proof epoch): 10 blocks (30 s) with
/// `fast-runtime`, one hour otherwise.
pub const fn session_blocks(build: Build) -> BlockNumber {
	match build {
		Build::Fast => 10,
		Build::Production => hours(build),
	}
}

/// Length of a session of a build in milliseconds.
pub const fn session_millis(build: Build) -> u64 {
	session_blocks(build) as u64 * millis_per_block(build)
}

/// The lottery mints this much per minute of session: 100 POVM, i.e. 6,000 POVM an hour and
/// 144,000 POVM a day, in both builds.
pub const ISSUANCE_PER_MINUTE: Balance = 100 * UNIT;

/// New POVM one lottery draw shares among its winners (`EpochIssuance`): the issuance of the
/// session's time.
pub const fn epoch_issuance(build: Build) -> Balance {
	ISSUANCE_PER_MINUTE * session_millis(build) as Balance / 60_000
}

/// Sessions between registering a VRF key and the first draw it may claim in
/// (`KeyActivationDelay`), in both builds: a count of seeds, not a duration. The seed is known
/// only when its draw opens (`configs::lottery_seed`), so 1 would do; 2 keeps a session's margin.
pub const KEY_ACTIVATION_DELAY: u32 = 2;

/// Blocks a provider's bond stays held after it unregisters (`UnbondingDelay`): at least one
/// hour, and at least two sessions, so that the draw holding tickets for its last verified work
/// (the next session's) has closed and paid before the bond is released.
pub const fn unbonding_delay(build: Build) -> BlockNumber {
	let two_sessions = 2 * session_blocks(build);
	if two_sessions > hours(build) {
		two_sessions
	} else {
		hours(build)
	}
}

/// Blocks a member of a long job may go without a job heartbeat before it is stalled and
/// replaced (vm-proof's `StallTimeout`): an hour in production (a 24-hour job's dead member is
/// replaced within an hour of its last sign of life), two minutes (40 blocks) with
/// `fast-runtime`. The worker sends one every quarter of it (timed by best blocks, so finality
/// lag does not delay them): honest members ride out two or three lost heartbeats, and the
/// deadline hook looks at a long job about once per `StallTimeout`. A
/// job whose commit window is this long or shorter needs no heartbeats: its commit deadline
/// comes first (the default 20-block window needs none in either build).
pub const fn stall_timeout_blocks(build: Build) -> BlockNumber {
	match build {
		Build::Fast => 2 * minutes(build),
		Build::Production => hours(build),
	}
}

/// The stall timeout of this build.
pub const STALL_TIMEOUT: BlockNumber = stall_timeout_blocks(BUILD);

/// The longest run a job may ask for (the job queue's `MaxRunSeconds`), in both builds.
pub const MAX_RUN_SECONDS: u32 = 24 * 3600;

/// Days of GRANDPA set-id history kept for equivocation reports.
pub const SET_ID_HISTORY_DAYS: u64 = 28;

/// GRANDPA's `MaxSetIdSessionEntries`: [`SET_ID_HISTORY_DAYS`] worth of sessions.
pub const fn max_set_id_session_entries(build: Build) -> u64 {
	SET_ID_HISTORY_DAYS * days(build) as u64 / session_blocks(build) as u64
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
	fn blocks_and_sessions_are_short_fast_and_an_hour_in_production() {
		assert_eq!(millis_per_block(Build::Fast), 3_000);
		assert_eq!(millis_per_block(Build::Production), 6_000);
		assert_eq!(session_millis(Build::Fast), 30_000);
		assert_eq!(session_blocks(Build::Production), hours(Build::Production));
		assert_eq!(session_millis(Build::Production), 3_600_000);
		// Both divide a day, so "per day" below is exact.
		for b in BUILDS {
			assert_eq!(days(b) % session_blocks(b), 0, "{b:?}");
			assert_eq!(u64::from(minutes(b)) * millis_per_block(b), 60_000, "{b:?}");
		}
		// BABE's slot and the timestamp's expected block time are this build's block time.
		assert_eq!(MILLI_SECS_PER_BLOCK, millis_per_block(BUILD));
		assert_eq!(SLOT_DURATION, MILLI_SECS_PER_BLOCK);
		assert_eq!(
			<Runtime as pallet_babe::Config>::ExpectedBlockTime::get(),
			MILLI_SECS_PER_BLOCK
		);
		assert_eq!(
			<<Runtime as pallet_job_queue::Config>::MillisecsPerBlock as Get<u64>>::get(),
			MILLI_SECS_PER_BLOCK
		);
		// This build's constants are its build's formulas.
		assert_eq!(EPOCH_DURATION_IN_BLOCKS, session_blocks(BUILD));
		assert_eq!(EPOCH_DURATION_IN_SLOTS, EPOCH_DURATION_IN_BLOCKS as u64);
		assert_eq!(<Runtime as pallet_babe::Config>::EpochDuration::get(), EPOCH_DURATION_IN_SLOTS);
		assert_eq!(cfg!(feature = "fast-runtime"), BUILD == Build::Fast);
	}

	#[test]
	fn issuance_per_day_is_the_same_in_both_builds() {
		let per_day = |b: Build| epoch_issuance(b) * (days(b) / session_blocks(b)) as Balance;
		assert_eq!(per_day(Build::Fast), per_day(Build::Production));
		assert_eq!(per_day(Build::Fast), 144_000 * UNIT);
		assert_eq!(epoch_issuance(Build::Fast), 50 * UNIT);
		assert_eq!(epoch_issuance(Build::Production), 6_000 * UNIT);
		assert_eq!(
			<Runtime as pallet_vrf_lottery::Config>::EpochIssuance::get(),
			epoch_issuance(BUILD)
		);
	}

	#[test]
	fn key_activation_waits_for_an_unknown_seed_in_both_builds() {
		// The seed is known when its draw opens (`configs::lottery_seed`): a key must be on
		// record at least one session before; two keep a margin.
		assert!(KEY_ACTIVATION_DELAY >= 2);
		assert_eq!(
			<<Runtime as pallet_vrf_lottery::Config>::KeyActivationDelay as Get<u32>>::get(),
			KEY_ACTIVATION_DELAY
		);
	}

	#[test]
	fn unbonding_outlasts_the_last_draw_and_an_hour() {
		for b in BUILDS {
			assert!(unbonding_delay(b) >= 2 * session_blocks(b), "{b:?}");
			assert!(unbonding_delay(b) >= hours(b), "{b:?}");
		}
		assert_eq!(unbonding_delay(Build::Fast), hours(Build::Fast));
		assert_eq!(unbonding_delay(Build::Production), 2 * hours(Build::Production));
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
				SET_ID_HISTORY_DAYS * days(b) as u64,
				"{b:?}"
			);
		}
		assert_eq!(max_set_id_session_entries(Build::Fast), 28 * 24 * 120);
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
		let ms = <<Runtime as pallet_job_queue::Config>::MillisecsPerBlock as Get<u64>>::get();
		assert_eq!(ms, MILLI_SECS_PER_BLOCK);
		// A round: commit window, the block that closes commits, reveal window, the verdict.
		let round = p.commit_window + 1 + p.reveal_window + 1;
		// In production a whole round fits in a session, so a job's verified work lands in the
		// session it was assigned in or the next.
		assert!(round <= session_blocks(Build::Production));
		// In fast-runtime a round spans up to five sessions; nothing depends on it fitting in
		// one, since verified work counts in the session of the verdict.
		assert!(round <= 5 * session_blocks(Build::Fast));
		// The commit window is block-denominated: a job of up to 30 s with fast-runtime's 3 s
		// blocks (what the network tests, the client tests and the demo ask for at most), 90 s
		// in production.
		let max_job_secs = |b: Build| {
			u64::from(p.commit_window) * millis_per_block(b) / 1000 -
				pallet_job_queue::START_MARGIN_SECS
		};
		assert_eq!(max_job_secs(Build::Fast), 30);
		assert_eq!(max_job_secs(Build::Production), 90);
	}
}
