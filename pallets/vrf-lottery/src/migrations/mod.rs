//! Storage migrations of the vrf-lottery pallet.
//!
//! - [`v2::MigrateV1ToV2`]: the open draw's claims are ranked into the new [`crate::Ranking`]
//!   (claims no longer race: a full draw keeps the lowest outputs).

pub mod v2;
