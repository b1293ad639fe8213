//! CPU time of the processes the runner started, read from `/proc/<pid>/stat`: what the demo
//! needs to say how much of the network's CPU went to customers' jobs and to consensus.

use std::{path::Path, process::Command, sync::OnceLock};

use crate::{error::RunnerError, Result};

/// User plus system CPU time, in clock ticks, from the text of a `/proc/<pid>/stat` file, or
/// `None` when it is not one. The command name (second field) is in parentheses and may hold
/// spaces, so the fields are counted from the last `)`: `utime` and `stime` are the 14th and
/// 15th fields of the line, the 12th and 13th after the name.
pub fn ticks_from_stat(stat: &str) -> Option<u64> {
	let after_name = &stat[stat.rfind(')')? + 1..];
	let fields: Vec<&str> = after_name.split_whitespace().collect();
	let utime: u64 = fields.get(11)?.parse().ok()?;
	let stime: u64 = fields.get(12)?.parse().ok()?;
	utime.checked_add(stime)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux when that fails).
pub fn ticks_per_second() -> u64 {
	static TICKS: OnceLock<u64> = OnceLock::new();
	*TICKS.get_or_init(|| {
		Command::new("getconf")
			.arg("CLK_TCK")
			.output()
			.ok()
			.and_then(|o| String::from_utf8(o.stdout).ok())
			.and_then(|s| s.trim().parse().ok())
			.filter(|t| *t > 0)
			.unwrap_or(100)
	})
}

/// CPU seconds a child process the runner started (`what` in errors) has used so far; an
/// error when it is not running.
pub fn child_cpu_seconds(what: &str, child: Option<&std::process::Child>) -> Result<f64> {
	let pid = child.map(|c| c.id()).ok_or_else(|| RunnerError::CpuTime {
		what: what.into(),
		path: std::path::PathBuf::from("/proc"),
		message: "not running".into(),
	})?;
	cpu_seconds(what, pid)
}

/// CPU seconds (user + system) process `pid` (called `what` in errors) has used so far.
pub fn cpu_seconds(what: &str, pid: u32) -> Result<f64> {
	let path = Path::new("/proc").join(pid.to_string()).join("stat");
	let error =
		|message: String| RunnerError::CpuTime { what: what.into(), path: path.clone(), message };
	let stat = std::fs::read_to_string(&path).map_err(|e| error(e.to_string()))?;
	let ticks =
		ticks_from_stat(&stat).ok_or_else(|| error("not a /proc/<pid>/stat line".into()))?;
	Ok(ticks as f64 / ticks_per_second() as f64)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_stat_line_gives_user_plus_system_ticks_even_with_spaces_in_the_name() {
		let line = "4242 (povm node (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
		            250 75 3 4 20 0 12 0 100 1000000 500 18446744073709551615";
		assert_eq!(ticks_from_stat(line), Some(325));
		assert_eq!(ticks_from_stat("garbage"), None);
		assert_eq!(ticks_from_stat("1 (a) S 1 2 3"), None);
	}

	#[test]
	fn this_process_has_used_cpu_time() {
		let started = std::time::Instant::now();
		let mut x = 0u64;
		while started.elapsed() < std::time::Duration::from_millis(300) {
			x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
		}
		std::hint::black_box(x);
		let secs = cpu_seconds("this test", std::process::id()).expect("own /proc stat");
		assert!(secs >= 0.1, "{secs} s of CPU after 300 ms of busy work");
	}
}
