//! Storage migrations of the vm-proof pallet.
//!
//! - [`v2::MigrateV1ToV2`]: every round member gets its draw wave and every round its wave
//!   count (the commitment binds the wave); the footprint sums widen to `u128`.
//! - [`v3::MigrateV2ToV3`]: every offer gets its run-time limit (`VmOffer::max_seconds`), the
//!   longest job the chain allows ([`v3::DEFAULT_MAX_SECONDS`]).
//! - [`v4::MigrateV3ToV4`]: every member of an open round gets its slot hold
//!   ([`crate::SlotHolds`]: draw block and commit block), which bounds its verified time.
//! - [`v5::MigrateV4ToV5`]: every stored reveal gets an outcome field (`None`: reveals before
//!   the upgrade carried none).
//! - [`v6::MigrateV5ToV6`]: every offer's run-time limit is clamped to the longest job the
//!   chain took before long jobs, so that a worker without job heartbeats is not drawn for
//!   one; a provider offers longer runs again with `update_offer`.
//! - [`v7::MigrateV6ToV7`]: every active provider is filed in the draw index
//!   ([`crate::index`]) and the vector of active providers is removed.
//! - [`v8::MigrateV7ToV8`]: the running epoch's verified work is credited to the lottery's
//!   ticket ledger and the per-epoch work records (`VerifiedMillis`, `EpochProviders`) go.

pub mod v2;
pub mod v3;
pub mod v4;
pub mod v5;
pub mod v6;
pub mod v7;
pub mod v8;
