//! The runner's error: what failed, with the context a failing test or the demo prints.
//!
//! Every message is complete on its own (an I/O error is also the variant's `source`), so
//! `{e}` says what went wrong, where, and why.

use std::{
	io,
	net::Ipv4Addr,
	path::{Path, PathBuf},
	process::ExitStatus,
	sync::Arc,
	time::Duration,
};

/// A failure of the runner or of a process it started.
///
/// It is `Clone` (I/O errors are shared behind an [`Arc`]) so that a result computed once per
/// test process, such as [`crate::coinflip_image`], can be handed to every test.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunnerError {
	/// A file or directory of the runner could not be created, opened, read or written.
	#[error("cannot {action} {}: {source}", .path.display())]
	Io {
		/// What the runner tried: `create`, `open`, `read`, `write`, …
		action: &'static str,
		/// The file or directory.
		path: PathBuf,
		/// Why.
		source: Arc<io::Error>,
	},
	/// A process's CPU time could not be read: its `/proc/<pid>/stat` is not the kernel's
	/// format, or the process is not running.
	#[error("cannot read the CPU time of {what} from {}: {message}", .path.display())]
	CpuTime {
		/// The process: a node's name, or `worker <name>`.
		what: String,
		/// The `stat` file read.
		path: PathBuf,
		/// Why.
		message: String,
	},
	/// A network definition is not valid TOML of the expected shape.
	#[error("{path} is not a valid network: {message}")]
	Config {
		/// Where the definition came from: its file, or the name the caller gave.
		path: String,
		/// The parser's message.
		message: String,
	},
	/// A worker of a network definition names a node the network does not have.
	#[error("worker {worker} names no node of the network: {node}")]
	UnknownNode {
		/// The worker.
		worker: String,
		/// The node it names.
		node: String,
	},
	/// A binary the runner starts is not built.
	#[error("{name} not found at {}: {hint}", .path.display())]
	MissingBinary {
		/// The binary's name (`povm-node`, `povm-worker`, …).
		name: String,
		/// Where the runner looked for it.
		path: PathBuf,
		/// How to build it or point the runner at it.
		hint: String,
	},
	/// No free TCP port could be allocated.
	#[error("no free port on {ip}: {source}")]
	FreePort {
		/// The address a port was wanted on.
		ip: Ipv4Addr,
		/// Why.
		source: Arc<io::Error>,
	},
	/// A process could not be started.
	#[error("cannot start {}: {source}", .binary.display())]
	Spawn {
		/// The binary started.
		binary: PathBuf,
		/// Why.
		source: Arc<io::Error>,
	},
	/// A node or worker exited while the runner waited for it.
	#[error("{name} exited while the runner waited for {what}; its log ends with:\n{log_tail}")]
	Exited {
		/// The process: a node's name, or `worker <name>`.
		name: String,
		/// What the runner waited for.
		what: String,
		/// The last lines of its log.
		log_tail: String,
	},
	/// A JSON-RPC call failed: no answer, an error answer, or an answer of the wrong shape.
	#[error("{node}: {method}: {message}")]
	Rpc {
		/// The node: its name and URL, or the URL alone for [`crate::rpc_call`].
		node: String,
		/// The RPC method.
		method: String,
		/// Why: the transport error, the JSON-RPC error object, or the unexpected answer.
		message: String,
	},
	/// A condition did not hold in time.
	#[error(
		"timed out after {after:?} waiting for {what}{}",
		.last_error.as_ref().map(|e| format!(" (last error: {e})")).unwrap_or_default()
	)]
	Timeout {
		/// What was waited for.
		what: String,
		/// How long.
		after: Duration,
		/// The last error the check gave, if it gave one.
		last_error: Option<Box<RunnerError>>,
	},
	/// A private `dockerd` ([`crate::PrivateDocker`]) did not answer after it started.
	#[error("private dockerd did not answer within {after:?}; see {}", .log.display())]
	Docker {
		/// How long the runner waited.
		after: Duration,
		/// The daemon's log.
		log: PathBuf,
	},
	/// The coin-flip image could not be built ([`crate::coinflip_image`]).
	#[error("{} built no image ({status}):\n{output}", .script.display())]
	ImageBuild {
		/// The build script.
		script: PathBuf,
		/// How it exited.
		status: ExitStatus,
		/// Its stderr when it failed, its stdout when it printed no image id.
		output: String,
	},
	/// The test registry or the Docker CLI pushing to it failed ([`crate::registry`]).
	#[error("{what}: {output}")]
	Registry {
		/// What was done.
		what: String,
		/// What it printed.
		output: String,
	},
	/// A chain spec could not be built ([`crate::chain_spec::customised`]).
	#[error("chain spec of {chain}: {reason}")]
	ChainSpec {
		/// The preset the spec is built from.
		chain: String,
		/// Why.
		reason: String,
	},
	/// A worker's one-shot subcommand ([`crate::WorkerHandle::oneshot`]) failed.
	#[error("worker {worker}: povm-worker {args:?} failed ({status}):\n{output}")]
	WorkerCommand {
		/// The worker.
		worker: String,
		/// The subcommand and its arguments.
		args: Vec<String>,
		/// How it exited.
		status: ExitStatus,
		/// What it wrote: its log (stderr) and stdout.
		output: String,
	},
}

impl RunnerError {
	/// An [`RunnerError::Io`] error: `action` failed on `path`.
	pub fn io(action: &'static str, path: impl AsRef<Path>, source: io::Error) -> Self {
		Self::Io { action, path: path.as_ref().to_path_buf(), source: Arc::new(source) }
	}

	/// A [`RunnerError::Spawn`] error: `binary` could not be started.
	pub fn spawn(binary: impl AsRef<Path>, source: io::Error) -> Self {
		Self::Spawn { binary: binary.as_ref().to_path_buf(), source: Arc::new(source) }
	}

	/// A [`RunnerError::Timeout`] error without a last error.
	pub fn timeout(what: impl Into<String>, after: Duration) -> Self {
		Self::Timeout { what: what.into(), after, last_error: None }
	}
}

/// The last `lines` lines of `log`.
pub(crate) fn log_tail(log: &str, lines: usize) -> String {
	let tail: Vec<&str> = log.lines().rev().take(lines).collect();
	tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn messages_carry_their_context() {
		let e = RunnerError::spawn("/bin/povm-node", io::Error::from(io::ErrorKind::NotFound));
		assert!(e.to_string().starts_with("cannot start /bin/povm-node: "), "{e}");
		assert!(std::error::Error::source(&e).is_some(), "the I/O error is the source");

		let last = RunnerError::Rpc {
			node: "alice (http://127.0.0.1:9944)".into(),
			method: "system_health".into(),
			message: "connection refused".into(),
		};
		let e = RunnerError::Timeout {
			what: "3 peers on alice".into(),
			after: Duration::from_secs(5),
			last_error: Some(Box::new(last)),
		};
		assert_eq!(
			e.to_string(),
			"timed out after 5s waiting for 3 peers on alice (last error: alice \
			 (http://127.0.0.1:9944): system_health: connection refused)"
		);
		assert_eq!(
			RunnerError::timeout("the draw to close", Duration::from_secs(300)).to_string(),
			"timed out after 300s waiting for the draw to close"
		);
	}

	#[test]
	fn log_tail_keeps_the_last_lines_in_order() {
		assert_eq!(log_tail("a\nb\nc\nd\n", 2), "c\nd");
		assert_eq!(log_tail("a", 40), "a");
		assert_eq!(log_tail("", 40), "");
	}
}
