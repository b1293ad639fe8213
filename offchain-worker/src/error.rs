//! Errors of the worker's chain side (the executor has its own, [`crate::executor::ExecError`]).

use std::time::Duration;

use sp_core::H256;

/// A configuration or key problem; fatal at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
	/// The configuration file cannot be read.
	#[error("cannot read config file {path}: {source}")]
	Read {
		/// The file.
		path: String,
		/// Why.
		source: std::io::Error,
	},
	/// The configuration file is not valid TOML for [`crate::config::Config`].
	#[error("invalid config file {path}: {message}")]
	Parse {
		/// The file.
		path: String,
		/// Why.
		message: String,
	},
	/// A value is out of range.
	#[error("invalid configuration: {0}")]
	Invalid(String),
	/// The provider key is missing or malformed (the message never contains the secret).
	#[error("provider key: {0}")]
	BadKey(String),
}

/// A failed chain operation.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
	/// No connection to the node (it is down or restarting).
	#[error("cannot connect to {url}: {message}")]
	Connect {
		/// Node URL.
		url: String,
		/// Why.
		message: String,
	},
	/// The call did not answer in time.
	#[error("{method} timed out after {timeout:?}")]
	Timeout {
		/// RPC method.
		method: &'static str,
		/// The limit.
		timeout: Duration,
	},
	/// The node answered with an error, or the connection broke during the call.
	#[error("{method} failed: {message}")]
	Rpc {
		/// RPC method.
		method: &'static str,
		/// Why.
		message: String,
		/// Whether the connection was lost (reconnect and retry).
		disconnected: bool,
	},
	/// The answer could not be decoded.
	#[error("cannot decode the answer of {what}: {message}")]
	Decode {
		/// What was decoded.
		what: &'static str,
		/// Why.
		message: String,
	},
	/// The connected runtime does not have the shape the client was generated for.
	#[error("{what} does not match the connected runtime: {message}")]
	Incompatible {
		/// The call, storage entry or runtime API.
		what: &'static str,
		/// Why.
		message: String,
	},
	/// The transaction was included and its dispatch failed: the runtime's error, named.
	#[error("{call} failed on chain: {failure}")]
	Dispatch {
		/// The call.
		call: &'static str,
		/// The block that includes it.
		block: H256,
		/// The runtime's error (`VmProof::NotAssigned`, …).
		failure: povm_client::DispatchFailure,
	},
	/// The node refused the transaction (invalid, dropped or usurped).
	#[error("{call} transaction rejected: {message}")]
	Rejected {
		/// The call.
		call: &'static str,
		/// Status or error text.
		message: String,
	},
}

impl ChainError {
	/// Whether retrying after reconnecting may help.
	pub fn is_transient(&self) -> bool {
		match self {
			ChainError::Connect { .. } | ChainError::Timeout { .. } => true,
			ChainError::Rpc { disconnected, .. } => *disconnected,
			ChainError::Decode { .. } |
			ChainError::Rejected { .. } |
			ChainError::Incompatible { .. } |
			ChainError::Dispatch { .. } => false,
		}
	}

	/// A short label for metrics.
	pub fn kind(&self) -> &'static str {
		match self {
			ChainError::Connect { .. } => "connect",
			ChainError::Timeout { .. } => "timeout",
			ChainError::Rpc { .. } => "rpc",
			ChainError::Decode { .. } => "decode",
			ChainError::Rejected { .. } => "rejected",
			ChainError::Incompatible { .. } => "incompatible",
			ChainError::Dispatch { .. } => "dispatch",
		}
	}

	/// The chain client's error; `connected` tells whether the connection is still up (a
	/// failure on a lost connection is transient).
	pub fn from_client(e: povm_client::Error, connected: bool) -> Self {
		use povm_client::Error as E;
		match e {
			E::Rpc { what, message } =>
				ChainError::Rpc { method: what, message, disconnected: !connected },
			E::WatchEnded { call } => ChainError::Rpc {
				method: call,
				message: "the node stopped reporting the transaction's status".into(),
				disconnected: true,
			},
			E::Incompatible { what, message } => ChainError::Incompatible { what, message },
			E::Decode { what, message } => ChainError::Decode { what, message },
			E::Rejected { call, message } if !connected =>
				ChainError::Rpc { method: call, message, disconnected: true },
			E::Rejected { call, message } => ChainError::Rejected { call, message },
			E::Dispatch { call, block, failure } => ChainError::Dispatch { call, block, failure },
		}
	}
}

/// A failure to persist worker state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
	/// Reading, writing (for example a full disk) or syncing a state file failed.
	#[error("state file {path}: {source}")]
	Io {
		/// The file.
		path: String,
		/// Why.
		source: std::io::Error,
	},
	/// A state file is corrupt.
	#[error("state file {path} is corrupt: {message}")]
	Corrupt {
		/// The file.
		path: String,
		/// Why.
		message: String,
	},
}
