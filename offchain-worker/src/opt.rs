//! Command-line options of the `povm-worker` binary.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// PoVM provider worker.
///
/// The provider key is a secret URI read from the file `key_file` or the environment
/// variable `key_env` (default `POVM_WORKER_KEY`) named in the config file; it is never
/// accepted on the command line.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Opt {
	/// TOML configuration file (see the `config` module docs); unset: all defaults.
	#[arg(long, short, global = true, env = "POVM_WORKER_CONFIG")]
	pub config: Option<PathBuf>,
	/// Node WebSocket URL, overriding `node_url` of the config file.
	#[arg(long, global = true)]
	pub node_url: Option<String>,
	/// What to do.
	#[command(subcommand)]
	pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
	/// Register the VM offer (configured or measured from the host) with a bond, or update
	/// the offer when already registered.
	Register(RegisterOpt),
	/// Serve assignments: run jobs, commit, reveal, heartbeat, until SIGINT or SIGTERM.
	Run,
	/// Print the provider's on-chain record and assignments.
	Status,
	/// Run one job locally under the executor and print its attestation (no chain involved).
	Exec(RunOpt),
	/// For a provider that also runs a validator node: have that node generate session keys
	/// (`author_rotateKeysWithOwner`) and set them for the provider account
	/// (`Session::set_keys`), so that lottery wins seat it as a validator.
	SessionKeys(SessionKeysOpt),
}

/// Options of `povm-worker session-keys`.
#[derive(Debug, Args)]
pub struct SessionKeysOpt {
	/// WebSocket URL of the validator node whose keystore gets the keys (its RPC must allow
	/// unsafe methods: listen on localhost or run with `--rpc-methods unsafe`).
	#[arg(long)]
	pub validator_rpc: String,
}

/// Options of `povm-worker register`.
#[derive(Debug, Args)]
pub struct RegisterOpt {
	/// Bond in plancks, overriding `bond` of the config file.
	#[arg(long)]
	pub bond: Option<u128>,
	/// Print the offer and exit without sending anything.
	#[arg(long)]
	pub dry_run: bool,
}

/// Options of `povm-worker exec`.
#[derive(Debug, Args)]
pub struct RunOpt {
	/// Image id of the job, `sha256:<64 hex>`.
	#[arg(long)]
	pub image: String,
	/// Directory of `<hex>.tar` image files, used when the image is absent.
	#[arg(long, default_value = "target-images")]
	pub image_dir: PathBuf,
	/// Directory for the run's `out/` and `checkpoints/`.
	#[arg(long)]
	pub work_dir: PathBuf,
	/// Job id used for the container label and the commitment.
	#[arg(long, default_value_t = 0)]
	pub job_id: u64,
	/// CPU limit in millicores.
	#[arg(long, default_value_t = 1000)]
	pub millicores: u32,
	/// Memory limit in MiB.
	#[arg(long, default_value_t = 256)]
	pub memory_mib: u32,
	/// Wall-clock limit in seconds.
	#[arg(long, default_value_t = 60)]
	pub max_seconds: u32,
	/// Process and thread limit.
	#[arg(long, default_value_t = 64)]
	pub pids: u32,
	/// Disk quota of `out/` and `checkpoints/` together, in MiB.
	#[arg(long, default_value_t = crate::executor::DEFAULT_DISK_QUOTA_MIB)]
	pub disk_quota_mib: u32,
	/// Most files the job can create in `out/` and `checkpoints/` together.
	#[arg(long, default_value_t = crate::executor::DEFAULT_MAX_FILES)]
	pub max_files: u32,
	/// OCI runtime of the container (`runc`, or `runsc` for gVisor), as `[sandbox] runtime`.
	#[arg(long, default_value = crate::executor::DEFAULT_RUNTIME)]
	pub runtime: String,
	/// Run even though the daemon has neither AppArmor nor SELinux, as
	/// `[sandbox] allow_without_lsm`.
	#[arg(long)]
	pub allow_without_lsm: bool,
	/// Environment variable `KEY=VALUE` (repeatable).
	#[arg(long = "env", value_parser = parse_env)]
	pub env: Vec<(String, String)>,
	/// Draw wave the provider was assigned in, for the commitment (0: the job's first draw).
	#[arg(long, default_value_t = 0)]
	pub wave: u32,
	/// Salt of the commitment, 32 bytes in hex (printed only with `--provider`).
	#[arg(long, value_parser = parse_hex32)]
	pub salt: Option<[u8; 32]>,
	/// Provider account id, 32 bytes in hex.
	#[arg(long, value_parser = parse_hex32)]
	pub provider: Option<[u8; 32]>,
	/// Entrypoint and arguments, after `--`.
	#[arg(last = true, required = true)]
	pub command: Vec<String>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
	let (k, v) = s.split_once('=').ok_or_else(|| format!("{s:?} is not KEY=VALUE"))?;
	Ok((k.to_owned(), v.to_owned()))
}

/// Parses 64 hex digits (an optional `0x` prefix is allowed) into 32 bytes.
pub fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
	let s = s.strip_prefix("0x").unwrap_or(s);
	if s.len() != 64 {
		return Err(format!("expected 64 hex digits, got {}", s.len()));
	}
	let mut out = [0u8; 32];
	for (i, byte) in out.iter_mut().enumerate() {
		*byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
	}
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn exec_parses_limits_env_and_trailing_command() {
		let opt = Opt::try_parse_from([
			"povm-worker",
			"exec",
			"--image",
			"sha256:00",
			"--work-dir",
			"/tmp/w",
			"--memory-mib",
			"32",
			"--disk-quota-mib",
			"16",
			"--env",
			"A=b=c",
			"--",
			"/coinflip",
			"--seed",
			"1",
		])
		.unwrap();
		let Command::Exec(run) = opt.command else { panic!("not exec") };
		assert_eq!(run.memory_mib, 32);
		assert_eq!(run.millicores, 1000);
		assert_eq!((run.disk_quota_mib, run.max_files), (16, crate::executor::DEFAULT_MAX_FILES));
		assert_eq!(run.env, [("A".to_owned(), "b=c".to_owned())]);
		assert_eq!(run.command, ["/coinflip", "--seed", "1"]);
		assert_eq!(run.salt, None);
	}

	#[test]
	fn exec_refuses_a_missing_command_and_bad_hex() {
		assert!(Opt::try_parse_from(["povm-worker", "exec", "--image", "x", "--work-dir", "w"])
			.is_err());
		assert!(parse_hex32("zz").is_err());
		assert_eq!(parse_hex32(&format!("0x{}", "ab".repeat(32))).unwrap(), [0xab; 32]);
	}

	#[test]
	fn global_options_and_chain_subcommands_parse() {
		let opt = Opt::try_parse_from([
			"povm-worker",
			"register",
			"--bond",
			"1000",
			"--config",
			"/etc/povm.toml",
		])
		.unwrap();
		assert_eq!(opt.config, Some(PathBuf::from("/etc/povm.toml")));
		let Command::Register(r) = opt.command else { panic!("not register") };
		assert_eq!(r.bond, Some(1000));
		let opt = Opt::try_parse_from(["povm-worker", "--node-url", "ws://n:1", "run"]).unwrap();
		assert!(matches!(opt.command, Command::Run));
		assert_eq!(opt.node_url.as_deref(), Some("ws://n:1"));
		assert!(matches!(
			Opt::try_parse_from(["povm-worker", "status"]).unwrap().command,
			Command::Status
		));
	}

	#[test]
	fn no_key_option_exists() {
		assert!(Opt::try_parse_from(["povm-worker", "run", "--key", "//Alice"]).is_err());
		assert!(Opt::try_parse_from(["povm-worker", "run", "--suri", "//Alice"]).is_err());
	}
}
