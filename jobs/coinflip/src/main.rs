//! The PoVM reference job: flip `N` coins from a seed, deterministically.
//!
//! Same arguments give the same bytes on stdout, in `/povm/out/tally.json` and in every
//! checkpoint file, so redundant replicas agree bit for bit. The PRNG (splitmix64) is
//! implemented here so that no dependency can change the sequence.
//!
//! ```text
//! coinflip --seed S --flips N [--checkpoint-every K]
//!          [--out-dir DIR] [--checkpoint-dir DIR]
//!          [--alloc-mib X] [--sleep S] [--sleep-ms MS] [--connect ADDR]... [--net-report] [--print-bytes N]
//!          [--try-write PATH]... [--identity]
//! ```
//!
//! The optional switches make the job misbehave on purpose, for the worker's tests:
//! `--alloc-mib` allocates and touches X MiB, `--sleep` sleeps S seconds (`--sleep-ms` MS milliseconds), `--connect` tries
//! a TCP connection and reports `connect ADDR ok|failed: …` on stdout, `--net-report` lists
//! the network interfaces seen in `/proc/net/dev`, `--print-bytes` prints N extra bytes,
//! `--try-write` reports whether a file can be written, `--identity` prints the uid, gid,
//! no-new-privileges bit and capability sets from `/proc/self/status`.
//! Reports come before the tally on stdout.

use std::{
	fs,
	io::Write,
	net::{SocketAddr, TcpStream},
	path::PathBuf,
	process::ExitCode,
	time::Duration,
};

/// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-known, full-period 64-bit generator.
#[derive(Clone, Copy, Debug)]
struct SplitMix64 {
	state: u64,
}

impl SplitMix64 {
	fn next(&mut self) -> u64 {
		self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
}

/// Parsed command line.
#[derive(Debug)]
struct Args {
	seed: u64,
	flips: u64,
	checkpoint_every: u64,
	out_dir: PathBuf,
	checkpoint_dir: PathBuf,
	alloc_mib: u64,
	sleep_secs: u64,
	sleep_ms: u64,
	connect: Vec<String>,
	try_write: Vec<String>,
	net_report: bool,
	identity: bool,
	print_bytes: u64,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
	let mut args = Args {
		seed: 0,
		flips: 1000,
		checkpoint_every: 0,
		out_dir: PathBuf::from("/povm/out"),
		checkpoint_dir: PathBuf::from("/povm/checkpoints"),
		alloc_mib: 0,
		sleep_secs: 0,
		sleep_ms: 0,
		connect: Vec::new(),
		try_write: Vec::new(),
		net_report: false,
		identity: false,
		print_bytes: 0,
	};
	fn num(flag: &str, v: Option<String>) -> Result<u64, String> {
		let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
		v.parse().map_err(|e| format!("{flag} {v}: {e}"))
	}
	while let Some(flag) = it.next() {
		match flag.as_str() {
			"--seed" => args.seed = num(&flag, it.next())?,
			"--flips" => args.flips = num(&flag, it.next())?,
			"--checkpoint-every" => args.checkpoint_every = num(&flag, it.next())?,
			"--alloc-mib" => args.alloc_mib = num(&flag, it.next())?,
			"--sleep" => args.sleep_secs = num(&flag, it.next())?,
			"--sleep-ms" => args.sleep_ms = num(&flag, it.next())?,
			"--print-bytes" => args.print_bytes = num(&flag, it.next())?,
			"--out-dir" => args.out_dir = it.next().ok_or("--out-dir needs a value")?.into(),
			"--checkpoint-dir" =>
				args.checkpoint_dir = it.next().ok_or("--checkpoint-dir needs a value")?.into(),
			"--connect" => args.connect.push(it.next().ok_or("--connect needs a value")?),
			"--try-write" => args.try_write.push(it.next().ok_or("--try-write needs a value")?),
			"--net-report" => args.net_report = true,
			"--identity" => args.identity = true,
			other => return Err(format!("unknown argument {other}")),
		}
	}
	Ok(args)
}

/// Running tally of a coin-flip run.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
	flips: u64,
	heads: u64,
	tails: u64,
}

fn tally_json(seed: u64, t: &Tally) -> String {
	format!(
		"{{\"seed\":{seed},\"flips\":{},\"heads\":{},\"tails\":{}}}\n",
		t.flips, t.heads, t.tails
	)
}

fn run(args: Args) -> Result<(), String> {
	let mut rng = SplitMix64 { state: args.seed };
	let mut tally = Tally::default();
	let mut checkpoint = 0u64;
	for _ in 0..args.flips {
		if rng.next() & 1 == 1 {
			tally.heads += 1;
		} else {
			tally.tails += 1;
		}
		tally.flips += 1;
		if args.checkpoint_every > 0 && tally.flips % args.checkpoint_every == 0 {
			checkpoint += 1;
			let path = args.checkpoint_dir.join(format!("cp-{checkpoint:06}"));
			let body = format!(
				"flips={} heads={} tails={} state={:016x}\n",
				tally.flips, tally.heads, tally.tails, rng.state
			);
			fs::write(&path, body).map_err(|e| format!("write {}: {e}", path.display()))?;
		}
	}

	// Held until the end of the run, so the memory stays in use during `--sleep`.
	let mut ballast: Vec<Vec<u8>> = Vec::new();
	if args.alloc_mib > 0 {
		// Touch every page so the memory is really resident and counts against the cgroup.
		for i in 0..args.alloc_mib {
			ballast.push(vec![(i as u8) | 1; 1 << 20]);
		}
		println!("allocated {} MiB", ballast.len());
	}
	if args.sleep_secs > 0 || args.sleep_ms > 0 {
		std::thread::sleep(
			Duration::from_secs(args.sleep_secs) + Duration::from_millis(args.sleep_ms),
		);
	}
	for addr in &args.connect {
		let report = match addr.parse::<SocketAddr>() {
			Err(e) => format!("connect {addr} failed: bad address: {e}"),
			Ok(sa) => match TcpStream::connect_timeout(&sa, Duration::from_secs(3)) {
				Ok(_) => format!("connect {addr} ok"),
				Err(e) => format!("connect {addr} failed: {e}"),
			},
		};
		println!("{report}");
	}
	for path in &args.try_write {
		match fs::write(path, b"probe") {
			Ok(()) => println!("write {path} ok"),
			Err(e) => println!("write {path} failed: {e}"),
		}
	}
	if args.identity {
		// Uid, Gid, NoNewPrivs and the capability sets, as the kernel reports them.
		let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
		for line in status.lines() {
			let key = line.split(':').next().unwrap_or_default();
			if matches!(key, "Uid" | "Gid" | "NoNewPrivs" | "CapEff" | "CapPrm" | "CapBnd") {
				println!("{}", line.split_whitespace().collect::<Vec<_>>().join(" "));
			}
		}
	}
	if args.net_report {
		let dev = fs::read_to_string("/proc/net/dev").unwrap_or_default();
		let mut names: Vec<&str> =
			dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
		names.sort_unstable();
		println!("interfaces {}", names.join(","));
	}

	let json = tally_json(args.seed, &tally);
	let tally_path = args.out_dir.join("tally.json");
	fs::write(&tally_path, &json).map_err(|e| format!("write {}: {e}", tally_path.display()))?;

	let mut out = std::io::stdout().lock();
	out.write_all(json.as_bytes()).map_err(|e| e.to_string())?;
	if args.print_bytes > 0 {
		let mut line = String::with_capacity(64);
		for _ in 0..63 {
			line.push('x');
		}
		line.push('\n');
		let mut left = args.print_bytes;
		while left > 0 {
			let n = left.min(line.len() as u64) as usize;
			out.write_all(&line.as_bytes()[..n]).map_err(|e| e.to_string())?;
			left -= n as u64;
		}
	}
	out.flush().map_err(|e| e.to_string())?;
	drop(ballast);
	Ok(())
}

fn main() -> ExitCode {
	let args = match parse_args(std::env::args().skip(1)) {
		Ok(a) => a,
		Err(e) => {
			eprintln!("coinflip: {e}");
			return ExitCode::from(2);
		},
	};
	match run(args) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("coinflip: {e}");
			ExitCode::from(1)
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn splitmix64_matches_reference_values() {
		// Reference outputs for seed 1234567 (from the published splitmix64.c).
		let mut r = SplitMix64 { state: 1234567 };
		assert_eq!(r.next(), 6457827717110365317);
		assert_eq!(r.next(), 3203168211198807973);
	}

	#[test]
	fn args_parse_and_unknown_flags_are_refused() {
		let a = parse_args(["--seed", "7", "--flips", "10"].map(String::from).into_iter()).unwrap();
		assert_eq!(a.seed, 7);
		assert_eq!(a.flips, 10);
		assert!(parse_args(["--bogus"].map(String::from).into_iter()).is_err());
	}
}
