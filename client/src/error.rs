//! The client's errors: what failed, named, with what the node or the runtime said.

/// A dispatch that failed on chain, named from the runtime's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchFailure {
	/// The pallet whose error it is (`VmProof`, `JobQueue`, …); `None` for errors of the
	/// dispatch itself (`BadOrigin`, a token or arithmetic error, …).
	pub pallet: Option<String>,
	/// The error's name: the pallet error variant (`NotAssigned`, `CommitWindowClosed`, …) or
	/// the `DispatchError` variant.
	pub error: String,
	/// The error's documentation in the metadata, when it has one.
	pub docs: String,
}

impl std::fmt::Display for DispatchFailure {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match &self.pallet {
			Some(p) => write!(f, "{p}::{}", self.error)?,
			None => write!(f, "{}", self.error)?,
		}
		if !self.docs.is_empty() {
			write!(f, " ({})", self.docs)?;
		}
		Ok(())
	}
}

impl DispatchFailure {
	/// The failure of a subxt dispatch error, named through the metadata it was decoded with.
	pub fn from_subxt(e: &subxt::error::DispatchError) -> Self {
		use subxt::error::DispatchError as D;
		match e {
			D::Module(m) => match m.details() {
				Ok(d) => Self {
					pallet: Some(d.pallet.name().to_owned()),
					error: d.variant.name.clone(),
					docs: d.variant.docs.join(" ").trim().to_owned(),
				},
				Err(_) => Self { pallet: None, error: m.to_string(), docs: String::new() },
			},
			other => Self { pallet: None, error: format!("{other:?}"), docs: other.to_string() },
		}
	}

	/// Whether this is the given pallet's error `name`.
	pub fn is(&self, pallet: &str, name: &str) -> bool {
		self.pallet.as_deref() == Some(pallet) && self.error == name
	}
}

/// A failed chain operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The node could not be asked, or answered with an error.
	#[error("{what}: {message}")]
	Rpc {
		/// What was asked.
		what: &'static str,
		/// What went wrong.
		message: String,
	},
	/// The connected runtime does not have the shape this client was generated for (a call,
	/// storage entry or runtime API is missing or has other types): regenerate
	/// `metadata/povm.scale` and rebuild, or run a client that matches the chain.
	#[error("{what} does not match the connected runtime: {message}")]
	Incompatible {
		/// The call, entry or API.
		what: &'static str,
		/// subxt's account of the mismatch.
		message: String,
	},
	/// An answer could not be decoded.
	#[error("cannot decode {what}: {message}")]
	Decode {
		/// What was decoded.
		what: &'static str,
		/// Why.
		message: String,
	},
	/// The transaction pool refused the transaction, or dropped it (invalid, usurped,
	/// dropped, or it was not included before it expired).
	#[error("{call} transaction rejected: {message}")]
	Rejected {
		/// The call.
		call: &'static str,
		/// The pool's status or error text.
		message: String,
	},
	/// The transaction was included, and its dispatch failed: the runtime's error, named.
	#[error("{call} failed on chain in block {block:?}: {failure}")]
	Dispatch {
		/// The call.
		call: &'static str,
		/// The block that includes it.
		block: sp_core::H256,
		/// The runtime's error.
		failure: DispatchFailure,
	},
	/// The transaction's status subscription ended before a final status.
	#[error("{call}: the node stopped reporting the transaction's status")]
	WatchEnded {
		/// The call.
		call: &'static str,
	},
}

impl Error {
	/// A short label for metrics.
	pub fn kind(&self) -> &'static str {
		match self {
			Error::Rpc { .. } => "rpc",
			Error::Incompatible { .. } => "incompatible",
			Error::Decode { .. } => "decode",
			Error::Rejected { .. } => "rejected",
			Error::Dispatch { .. } => "dispatch",
			Error::WatchEnded { .. } => "rpc",
		}
	}

	pub(crate) fn rpc(what: &'static str, e: impl std::fmt::Display) -> Self {
		Error::Rpc { what, message: e.to_string() }
	}
}
