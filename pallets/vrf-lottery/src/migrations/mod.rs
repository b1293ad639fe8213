//! Storage migrations of the vrf-lottery pallet.
//!
//! - [`v2::MigrateV1ToV2`]: the open draw's claims are ranked into the new [`crate::Ranking`]
//!   (claims no longer race: a full draw keeps the lowest outputs).
//! - [`v3::MigrateV2ToV3`]: tickets are credited as work is verified; the pruning cursor of
//!   closed draws' tickets starts at the open draw.

pub mod v2;
pub mod v3;
