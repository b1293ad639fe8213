//! Storage migrations of the vm-proof pallet.
//!
//! - [`v2::MigrateV1ToV2`]: every round member gets its draw wave and every round its wave
//!   count (the commitment binds the wave); the footprint sums widen to `u128`.

pub mod v2;
