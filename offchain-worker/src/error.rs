//! Errors of the worker's chain side (the executor has its own, [`crate::executor::ExecError`]).

use std::time::Duration;

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
			ChainError::Decode { .. } | ChainError::Rejected { .. } => false,
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
