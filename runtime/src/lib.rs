//! # PoVM chain runtime
//!
//! BABE block production and GRANDPA finality, pallet-session whose validator set is the
//! PoVM lottery's to choose, equivocation reports (pallet-session's historical key-ownership
//! proofs and pallet-offences; an equivocating validator's provider bond is slashed), balances
//! and fees, multisig, sudo, and the three PoVM pallets: `job-queue`, `vm-proof` and
//! `vrf-lottery`.
//!
//! Layout: this file assembles the runtime; `configs/` holds each pallet's configuration,
//! `apis.rs` the runtime APIs, `genesis_config_presets.rs` the named genesis presets,
//! `timing.rs` the block time, the session length and everything that scales with it.
//!
//! Two builds: the default one has 6 s blocks and production-sized sessions (one hour); with
//! the cargo feature `fast-runtime` blocks take 3 s and sessions 10 blocks (30 s), for tests,
//! the demo and local chains. The table of what differs is in [`timing`].
#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros generate deep recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod timing;
pub mod weights;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_support::{construct_runtime, instances::Instance1, parameter_types};
pub use pallet_balances::Call as BalancesCall;
/// pallet-session's `historical` pallet under a name the runtime macro accepts.
use pallet_session::historical as pallet_session_historical;
pub use sp_runtime::{Perbill, Permill};

/// Opaque types: the node knows blocks and session keys only by these.
pub mod opaque {
	use super::*;
	use sp_runtime::{generic, traits::Hash as HashT};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers with `session.set_keys`: BABE for authoring,
	/// GRANDPA for finality.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. `spec_version` must grow with every runtime change that reaches a
/// live chain: `frame_executive` runs the [`Migrations`] only when it grows, and
/// `system.set_code` refuses a runtime whose `spec_version` is not higher.
///
/// - 100: genesis.
/// - 101: commitments bind the job, wave, output digest, checkpoints root and usage (vm-proof
///   storage version 2, `PovmJobsApi` version 2: assignments carry their draw wave).
/// - 102: offers declare a run-time limit (vm-proof storage version 3), providers decline jobs
///   (`vmProof.decline_job`), jobs most providers decline end `Unrunnable`.
/// - 103: verified time only from independent work (issue 12): two agreeing replicas not run
///   by the job's owner, each credited at most the blocks it held its slot (vm-proof storage
///   version 4, `SlotHolds`); the draw is over every eligible provider weighted by free
///   slots; a job waits for `MinEligibleProviders` eligible providers.
/// - 104: the validator-set floor (`VrfLottery::MinValidators`) and `JobQueue::MinEligibleProviders`
///   are chain parameters in storage, set by the genesis config (4 and 3 in `local_testnet`, 1
///   and 1 in `development`). New values only, no migration: a chain upgraded from 103 reads 1
///   and 1, the constants it ran with, until root writes others. A declined member's replacement
///   is drawn in the block after the decline (vm-proof's deadline hook), not when the wave's
///   commits close.
/// - 105: a decline after the free first half of the member's commit window is slashed as a
///   commit no-show (`Fault::LateDecline`, appended to the enum; no stored data changes); root
///   setters for the two chain parameters (`jobQueue.set_min_eligible_providers`,
///   `vrfLottery.set_min_validators`); a validator's provider bond stays held for the
///   equivocation reporting window (`vmProof.withdraw_bond` refused, `VrfLottery::LastSeatedSession`)
///   and only registered providers are seated.
/// - 106: on-chain governance (issue 15): a council (`Council`, pallet-collective) whose
///   two-thirds majority acts as root through `Whitelist`, with `Preimage` and `Utility`
///   (new pallets, no stored data changes; see [`configs::governance`]); the `staging` preset
///   has no sudo key and no dev accounts.
/// - 107: images by reference and input files (issue 14): a job spec names its image by ID with
///   an optional registry (repository and manifest digest) and its architecture, which the
///   draw matches against the offer, and lists input files by URL, sha-256 and size (job-queue
///   storage version 2; `PovmJobsApi` version 3 returns the new spec).
/// - 108: results the customer can read (issue 14): `vmProof.reveal_result` carries the run's
///   outcome (exit code, timed-out/OOM/truncated flags, digest of the logs and files), checked
///   against the result digest, and the job queue keeps the accepted one (`JobQueue::Outcomes`);
///   providers state where they serve result files (`vmProof.set_result_service`,
///   `VmProof::ResultServices`); vm-proof storage version 5 (reveals keep their outcome).
/// - 109: bounded per-epoch state and congestion fees (issue 13): an epoch's per-provider work
///   records are removed once the lottery has taken them into tickets (`VmProof::PruneCursor`,
///   a bounded number per session, so an older chain's backlog goes over a few sessions), the
///   network's footprint is kept for `FootprintHistory` epochs, and the fee multiplier follows
///   block fullness (`TargetedFeeAdjustment`, never below 1). No stored layout changes.
/// - 110: the queue by price level (issue 13): each queued job in an index of its own, in the
///   line of its price's level, with expiry and retry agendas (job-queue storage version 3,
///   `JobQueue::Queue` replaced); `MaxQueueLen` 1,000,000; a full queue evicts one of the
///   cheapest level's jobs for a job at a higher level (`JobEvicted`); a try that finds too
///   few providers sends the job to the retry agenda instead of holding up the jobs behind
///   it; `PovmJobsApi` version 4 adds `quote`.
/// - 111: long jobs (issue 13): a job may run up to `MaxRunSeconds` (24 hours) instead of what
///   the commit window took (`RunTimeExceedsCommitWindow` became `RunTimeTooLong`); each
///   member's commit window follows its job's `max_seconds`; a member whose window is longer
///   than `StallTimeout` sends `VmProof::job_heartbeat` or is replaced as stalled
///   (`Fault::Stalled`, new storage `VmProof::JobHeartbeats`, empty at the upgrade: no member
///   drawn before it has a window that long); vm-proof storage version 6: offers' run-time
///   limits clamped to the longest job the default window took (workers re-offer long runs).
/// - 112: database weights measured on the node's ParityDB (`System::DbWeight`: read 3.4 µs,
///   write 8.0 µs, was RocksDB's reference 25 µs and 100 µs); the job queue touches its level
///   masks only when a level's bit flips, and `submit_job` to a level that already holds a
///   ready job is charged `submit_job_to_ready_level` (no storage layout change).
/// - 113: the draw index (vm-proof storage version 7): active providers filed by resource
///   class, each class a Fenwick tree of free slots (`IndexPlaces`, `IndexMembers`,
///   `IndexNodes`, `ClassTotals`; `ActiveProviders` removed), so that a draw costs `O(log n)`
///   reads; `MaxProviders` 1,000 → 1,000,000; the job queue draws through
///   `ProviderRegistry::draw` and charges a try at 100,000 providers (`MaxCandidates`).
/// - 114: `VmProof::commit_result` is refunded to its measured weight without a draw when it
///   tries none (a commit used to pay for a draw of replacements every time); a reveal whose
///   verdict tried a draw that found nobody pays for the draw (it was refunded); vrf-lottery's
///   `claim_ticket` and `close_draw` charged their measured weights (no storage layout change).
/// - 115: lottery tickets credited as work is verified (issue 13): each verdict credits its
///   members' reputation-weighted VM-milliseconds to the lottery's ledger
///   (`VrfLottery::Tickets` of the next draw, `VrfLottery::TicketTotals`), so every provider
///   with verified work holds tickets (the old snapshot took the first 1,000 listed in
///   `VmProof::EpochProviders`, a list sybils could fill) and opening a draw reads no provider;
///   closed draws' tickets are pruned in pages (`VrfLottery::FirstUnprunedDraw`, and idle
///   blocks); vm-proof storage version 8 (`VerifiedMillis` and `EpochProviders` removed, the
///   running epoch's work credited), vrf-lottery storage version 3; `TicketsAssigned` removed.
/// - 116: a `VmProof::reveal_result` that is not a round's last (no verdict) is refunded to
///   its measured weight (`reveal_result_kept`; each reveal was charged a whole verdict), and
///   the job queue's hook charges an assignment try for the lapsed providers its draw met
///   (`ProviderRegistry::rejection_weight` each), not for the most a draw can meet, so that a
///   block assigns and verifies more replicas (no storage layout change).
/// - 117: cheaper submissions (issue 13): one hold per job for its budget and deposit (deposits
///   held apart before are released and paid first), the job counter and the queued count in
///   one value (`JobQueue::Counters`), each queued job's level and place in its expiry entry
///   (`JobQueue::Queued` removed; job-queue storage version 4).
///
/// Both builds (default and `fast-runtime`, see [`timing`]) carry the same version: they differ in the session length, which is fixed at genesis (BABE cannot change
/// its epoch length on a running chain), so a chain never switches between them.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("povm"),
	impl_name: alloc::borrow::Cow::Borrowed("povm-node"),
	authoring_version: 1,
	spec_version: 117,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The block time (3 s with `fast-runtime`, 6 s otherwise) and the session length (30 s with `fast-runtime`,
/// one hour otherwise): see [`timing`] for these and everything that scales with them.
pub use timing::{
	DAYS, EPOCH_DURATION_IN_BLOCKS, EPOCH_DURATION_IN_SLOTS, HOURS, MILLI_SECS_PER_BLOCK, MINUTES,
	SLOT_DURATION,
};

/// The BABE configuration the chain starts with: primary slots with a 1/4 chance per
/// authority, secondary VRF slots so that every slot gets a block.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: (1, 4),
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// One POVM, the chain's token, has 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = 1_000_000_000;
pub const MICRO_UNIT: Balance = 1_000_000;
/// Below this an account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Signatures: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;
/// Accounts are the public keys behind [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances of the native token.
pub type Balance = u128;
/// Transaction counter per account.
pub type Nonce = u32;
/// Block hashes.
pub type Hash = sp_core::H256;
/// Block numbers.
pub type BlockNumber = u32;
/// The address format of extrinsics.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;
/// A block identifier.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions every signed extrinsic carries.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload signed by the sender.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations to run on the next runtime upgrade.
///
/// - vm-proof v1 → v2 (spec 101): round members get their draw wave (commitments bind it);
///   members committed but not revealed at the upgrade are marked legacy and reveal under the
///   version-1 rule; offers outside the version-2 bounds are clamped into them; the footprint
///   sums widen to `u128`.
/// - vm-proof v2 → v3 (spec 102): every offer gets a run-time limit (`VmOffer::max_seconds`),
///   the longest job the chain allows (`MAX_JOB_SECONDS`), so no provider loses a job it could
///   be drawn for before. Runs after the v2 step, which reads offers in the v2 layout.
/// - vm-proof v3 → v4 (spec 103): every member of an open round gets its slot hold (draw
///   block and commit block, `SlotHolds`), which bounds its verified time. Only adds a map, so
///   the earlier steps' round layout still holds.
/// - vm-proof v4 → v5 (spec 108): every stored reveal gets an outcome field, `None` (reveals
///   before the upgrade carried none).
/// - vm-proof v5 → v6 (spec 111): every offer's run-time limit is clamped to the longest job
///   the default commit window took (90 s), so workers without job heartbeats are not drawn
///   for long jobs; a provider offers longer runs again with `update_offer`.
/// - vrf-lottery v1 → v2: the open draw's claims are ranked into `VrfLottery::Ranking`, so
///   that a full draw keeps the lowest outputs (claims no longer race).
/// - vrf-lottery v2 → v3 (spec 115): the pruning cursor of closed draws' tickets starts at the
///   open draw (`FirstUnprunedDraw`).
/// - vm-proof v7 → v8 (spec 115): the running epoch's verified work is credited to the
///   lottery's ledger (after the lottery's step, through its `TicketLedger`), and
///   `VerifiedMillis` and `EpochProviders` are removed.
#[allow(unused_parens)]
type Migrations = (
	pallet_vm_proof::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_vm_proof::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_vm_proof::migrations::v4::MigrateV3ToV4<Runtime>,
	pallet_vm_proof::migrations::v5::MigrateV4ToV5<Runtime>,
	pallet_vm_proof::migrations::v6::MigrateV5ToV6<Runtime>,
	pallet_vm_proof::migrations::v7::MigrateV6ToV7<Runtime>,
	pallet_vrf_lottery::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_vrf_lottery::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_vm_proof::migrations::v8::MigrateV7ToV8<Runtime>,
	pallet_job_queue::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_job_queue::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_job_queue::migrations::v4::MigrateV3ToV4<Runtime>,
);

/// Dispatches extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(6)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(7)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(8)]
	pub type Multisig = pallet_multisig;
	#[runtime::pallet_index(9)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(10)]
	pub type Historical = pallet_session_historical;
	#[runtime::pallet_index(11)]
	pub type Offences = pallet_offences;
	#[runtime::pallet_index(12)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(13)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(14)]
	pub type Council = pallet_collective<Instance1>;
	#[runtime::pallet_index(15)]
	pub type Whitelist = pallet_whitelist;

	#[runtime::pallet_index(20)]
	pub type JobQueue = pallet_job_queue;
	#[runtime::pallet_index(21)]
	pub type VmProof = pallet_vm_proof;
	#[runtime::pallet_index(22)]
	pub type VrfLottery = pallet_vrf_lottery;
}

#[cfg(test)]
mod equivocation_tests;

#[cfg(test)]
mod governance_tests;

#[cfg(all(test, feature = "try-runtime"))]
mod upgrade_tests;

#[cfg(test)]
mod version_tests {
	use super::*;
	use frame_support::traits::GetStorageVersion;
	use pallet_job_queue::runtime_api::{POVM_JOBS_API_ID, POVM_JOBS_API_VERSION};

	/// The `spec_version` of the runtimes with vm-proof storage version 1 (genesis).
	const SPEC_OF_VM_PROOF_STORAGE_V1: u32 = 100;
	/// The `spec_version` of the runtime with vm-proof storage version 2 (offers without
	/// `max_seconds`).
	const SPEC_OF_VM_PROOF_STORAGE_V2: u32 = 101;
	/// The `spec_version` of the runtime with vm-proof storage version 3 (no slot holds).
	const SPEC_OF_VM_PROOF_STORAGE_V3: u32 = 102;
	/// The `spec_version` of the last runtime with vm-proof storage version 4 (reveals
	/// without an outcome).
	const SPEC_OF_VM_PROOF_STORAGE_V4: u32 = 107;
	/// The `spec_version` of the last runtime with vm-proof storage version 5 (offers' run-time
	/// limits not clamped for long jobs).
	const SPEC_OF_VM_PROOF_STORAGE_V5: u32 = 110;
	/// The `spec_version` of the last runtime with vm-proof storage version 6 (a vector of
	/// active providers, no draw index).
	const SPEC_OF_VM_PROOF_STORAGE_V6: u32 = 112;
	/// The `spec_version` of the last runtime with vm-proof storage version 7 (per-epoch work
	/// lists read by the lottery).
	const SPEC_OF_VM_PROOF_STORAGE_V7: u32 = 114;

	#[test]
	fn vm_proof_storage_version_8_ships_with_a_higher_spec_version() {
		// Without a higher spec version `set_code` refuses the runtime and the migrations
		// never run.
		assert_eq!(<VmProof as GetStorageVersion>::in_code_storage_version(), 8);
		assert!(VERSION.spec_version > SPEC_OF_VM_PROOF_STORAGE_V7);
		assert!(SPEC_OF_VM_PROOF_STORAGE_V7 > SPEC_OF_VM_PROOF_STORAGE_V6);
		assert!(SPEC_OF_VM_PROOF_STORAGE_V6 > SPEC_OF_VM_PROOF_STORAGE_V5);
		assert!(SPEC_OF_VM_PROOF_STORAGE_V5 > SPEC_OF_VM_PROOF_STORAGE_V4);
		assert!(SPEC_OF_VM_PROOF_STORAGE_V4 > SPEC_OF_VM_PROOF_STORAGE_V3);
		assert!(SPEC_OF_VM_PROOF_STORAGE_V3 > SPEC_OF_VM_PROOF_STORAGE_V2);
		assert!(SPEC_OF_VM_PROOF_STORAGE_V2 > SPEC_OF_VM_PROOF_STORAGE_V1);
	}

	/// The `spec_version` of the last runtime with vrf-lottery storage version 1 (claims not
	/// ranked).
	const SPEC_OF_LOTTERY_STORAGE_V1: u32 = 102;
	/// The `spec_version` of the last runtime with vrf-lottery storage version 2 (tickets
	/// snapshotted when a draw opens).
	const SPEC_OF_LOTTERY_STORAGE_V2: u32 = 114;

	#[test]
	fn vrf_lottery_storage_version_3_ships_with_a_higher_spec_version() {
		assert_eq!(<VrfLottery as GetStorageVersion>::in_code_storage_version(), 3);
		assert!(VERSION.spec_version > SPEC_OF_LOTTERY_STORAGE_V2);
		assert!(SPEC_OF_LOTTERY_STORAGE_V2 > SPEC_OF_LOTTERY_STORAGE_V1);
	}

	/// The `spec_version` of the last runtime with job-queue storage version 1 (images by ID
	/// text, no inputs).
	const SPEC_OF_JOB_QUEUE_STORAGE_V1: u32 = 106;

	#[test]
	fn job_queue_storage_version_2_ships_with_a_higher_spec_version() {
		assert!(<JobQueue as GetStorageVersion>::in_code_storage_version() >= 2);
		assert!(VERSION.spec_version > SPEC_OF_JOB_QUEUE_STORAGE_V1);
	}

	/// The `spec_version` of the last runtime with job-queue storage version 2 (the queue in
	/// one value).
	const SPEC_OF_JOB_QUEUE_STORAGE_V2: u32 = 109;

	#[test]
	fn job_queue_storage_version_3_ships_with_a_higher_spec_version() {
		assert!(<JobQueue as GetStorageVersion>::in_code_storage_version() >= 3);
		assert!(VERSION.spec_version > SPEC_OF_JOB_QUEUE_STORAGE_V2);
	}

	/// The `spec_version` of the last runtime with job-queue storage version 3 (the counters
	/// apart, each queued job's index entry in a map of its own).
	const SPEC_OF_JOB_QUEUE_STORAGE_V3: u32 = 116;

	#[test]
	fn job_queue_storage_version_4_ships_with_a_higher_spec_version() {
		assert_eq!(<JobQueue as GetStorageVersion>::in_code_storage_version(), 4);
		assert!(VERSION.spec_version > SPEC_OF_JOB_QUEUE_STORAGE_V3);
		assert!(SPEC_OF_JOB_QUEUE_STORAGE_V3 > SPEC_OF_JOB_QUEUE_STORAGE_V2);
	}

	#[test]
	fn the_runtime_reports_povm_jobs_api_version_4() {
		let reported = VERSION.apis.iter().find(|(id, _)| *id == POVM_JOBS_API_ID).map(|a| a.1);
		assert_eq!(reported, Some(POVM_JOBS_API_VERSION));
	}
}
