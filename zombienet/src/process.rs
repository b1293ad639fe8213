//! Ending the child processes the runner starts (nodes, workers, a private `dockerd`).

use std::{
	process::{Child, Command},
	time::{Duration, Instant},
};

/// A signal asking a process to end cleanly.
#[derive(Clone, Copy, Debug)]
pub enum Signal {
	/// SIGINT: what `povm-node` handles as Ctrl-C (it closes its database).
	Int,
	/// SIGTERM: the usual service stop (`povm-worker`, `dockerd`).
	Term,
}

/// Kills `child` (SIGKILL), as a crash would, and reaps it. Nothing when it is `None`.
pub fn kill(child: &mut Option<Child>) {
	if let Some(mut child) = child.take() {
		let _ = child.kill();
		let _ = child.wait();
	}
}

/// Sends `signal` to `child`, waits up to `grace` for it to exit, then kills it. Nothing when
/// it is `None`.
pub fn stop(child: &mut Option<Child>, signal: Signal, grace: Duration) {
	let Some(running) = child.as_mut() else { return };
	let flag = match signal {
		Signal::Int => "-INT",
		Signal::Term => "-TERM",
	};
	let _ = Command::new("kill").arg(flag).arg(running.id().to_string()).status();
	let deadline = Instant::now() + grace;
	while Instant::now() < deadline {
		if matches!(running.try_wait(), Ok(Some(_))) {
			*child = None;
			return;
		}
		std::thread::sleep(Duration::from_millis(200));
	}
	kill(child);
}
