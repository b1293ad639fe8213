//! The metadata this client was generated from, and the test of whether a runtime still has
//! its shape.
//!
//! Two metadata blobs have the same *shape* when they are equal once every pallet constant's
//! value is blanked: a `fast-runtime` build (short sessions) and a production build differ
//! only in such values, and no call, storage entry, event, error, runtime API, type, pallet
//! index or transaction extension may differ without a regenerated client.

use codec::{Decode, Encode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};

use crate::error::Error;

/// The committed metadata the [`crate::runtime`] module is generated from.
pub const COMMITTED: &[u8] = include_bytes!("../metadata/povm.scale");

/// The metadata version the committed file holds (`povm-node export-metadata --version`).
pub const VERSION: u32 = 15;

fn decode(bytes: &[u8]) -> Result<RuntimeMetadataPrefixed, Error> {
	RuntimeMetadataPrefixed::decode(&mut &bytes[..])
		.map_err(|e| Error::Decode { what: "runtime metadata", message: e.to_string() })
}

/// `bytes` with every pallet constant's value blanked, re-encoded.
pub fn shape(bytes: &[u8]) -> Result<Vec<u8>, Error> {
	let mut m = decode(bytes)?;
	match &mut m.1 {
		RuntimeMetadata::V14(v) => v.pallets.iter_mut().for_each(|p| {
			p.constants.iter_mut().for_each(|c| c.value.clear());
		}),
		RuntimeMetadata::V15(v) => v.pallets.iter_mut().for_each(|p| {
			p.constants.iter_mut().for_each(|c| c.value.clear());
		}),
		RuntimeMetadata::V16(v) => v.pallets.iter_mut().for_each(|p| {
			p.constants.iter_mut().for_each(|c| c.value.clear());
		}),
		other =>
			return Err(Error::Decode {
				what: "runtime metadata",
				message: format!("unsupported metadata version {}", other.version()),
			}),
	}
	Ok(m.encode())
}

/// The pallets of `bytes` as `(name, index)`, in the metadata's order.
pub fn pallets(bytes: &[u8]) -> Result<Vec<(String, u8)>, Error> {
	Ok(match decode(bytes)?.1 {
		RuntimeMetadata::V14(v) => v.pallets.into_iter().map(|p| (p.name, p.index)).collect(),
		RuntimeMetadata::V15(v) => v.pallets.into_iter().map(|p| (p.name, p.index)).collect(),
		RuntimeMetadata::V16(v) => v.pallets.into_iter().map(|p| (p.name, p.index)).collect(),
		_ => Vec::new(),
	})
}

/// Why `live` does not have the shape of `committed`, or `None` when it has.
pub fn shape_difference(committed: &[u8], live: &[u8]) -> Result<Option<String>, Error> {
	if shape(committed)? == shape(live)? {
		return Ok(None);
	}
	let (a, b) = (pallets(committed)?, pallets(live)?);
	if a != b {
		return Ok(Some(format!("pallets (name, index) differ: committed {a:?}, runtime {b:?}")));
	}
	Ok(Some(
		"calls, storage, events, errors, types, runtime APIs, transaction extensions or their docs differ"
			.into(),
	))
}
