//! The result files of the jobs this provider ran, kept for their owners and served over
//! HTTP: [`store`] keeps them on disk for the retention, [`server`] answers the owners'
//! signed requests (see [`povm_primitives::results`] for the protocol).

pub mod server;
pub mod store;

pub use self::{
	server::{authorize, parse_path, unix_now, AuthError, ResultServer},
	store::{evictions, Item, ResultStore, StoreError, StoredMeta},
};
