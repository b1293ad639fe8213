//! `povm`: the customer's command line of PoVM chain (see `cli/README.md`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use povm_cli::{
	chain::{ss58, Chain, Verdict},
	fetch::{fetch_and_verify, Limits, Service},
	key, spec,
	verify::check_chain_record,
};
use povm_client::{
	types::{BlockNumber, JobId, JobState, JobView},
	PairSigner,
};
use povm_primitives::results::RunOutcome;
use sp_core::Pair;

/// PoVM chain's customer command line: submit a job, follow it, fetch its verified results.
#[derive(Debug, Parser)]
#[command(name = "povm", version)]
struct Opt {
	/// WebSocket URL of a node.
	#[arg(long, global = true, env = "POVM_URL", default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Secret URI of your key (`//Alice`, a mnemonic, a `0x` seed). Prefer POVM_SURI or
	/// --key-file: a command line is visible to other users of the machine.
	#[arg(
		long,
		global = true,
		env = "POVM_SURI",
		hide_env_values = true,
		conflicts_with = "key_file"
	)]
	suri: Option<String>,
	/// File holding the secret URI of your key (as povm-worker's `key_file`).
	#[arg(long, global = true, env = "POVM_KEY_FILE")]
	key_file: Option<PathBuf>,
	#[command(subcommand)]
	command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
	/// Submit the job described by a TOML file and print its id.
	Submit {
		/// The job file (see cli/README.md).
		job: PathBuf,
		/// Only check the file and print the spec and budget; submit nothing.
		#[arg(long)]
		check: bool,
		/// Then follow the job to its verdict.
		#[arg(long)]
		follow: bool,
		/// Then follow it and fetch its results into this directory (implies --follow).
		#[arg(long, value_name = "DIR")]
		fetch: Option<PathBuf>,
	},
	/// Price the job described by a TOML file before submitting it: whether `submit_job`
	/// would take it, the least budget and the deposit, its place in the queue, the providers
	/// eligible for it and the block of its first try (`PovmJobsApi::quote`, at the best
	/// block). Sends nothing and needs no key.
	Quote {
		/// The job file (see cli/README.md).
		job: PathBuf,
	},
	/// Follow a job at the finalised head until its verdict.
	Follow {
		/// The job id.
		job: JobId,
	},
	/// Fetch a completed job's result files from the agreeing providers and verify them.
	Fetch {
		/// The job id.
		job: JobId,
		/// Directory to write `stdout`, `stderr` and `files/<name>` into.
		#[arg(long, value_name = "DIR")]
		out: PathBuf,
	},
}

#[tokio::main]
async fn main() {
	let opt = Opt::parse();
	if let Err(e) = run(opt).await {
		eprintln!("error: {e:#}");
		std::process::exit(1);
	}
}

async fn run(opt: Opt) -> anyhow::Result<()> {
	let signer = || key::load(opt.suri.as_deref(), opt.key_file.as_deref());
	match &opt.command {
		Command::Submit { job, check, follow, fetch } => {
			let text = std::fs::read_to_string(job)
				.with_context(|| format!("cannot read {}", job.display()))?;
			let parsed = spec::parse_job(&text).with_context(|| format!("{}", job.display()))?;
			if *check {
				println!("{:#?}", parsed.spec);
				println!("budget: {} plancks", parsed.budget);
				return Ok(());
			}
			let pair = signer()?;
			let chain = Chain::connect(&opt.url).await?;
			let (id, block) = chain.submit(&PairSigner::new(pair.clone()), &parsed).await?;
			eprintln!("job {id} submitted (finalised in block {block:?})");
			println!("{id}");
			if *follow || fetch.is_some() {
				let verdict = follow_job(&chain, id).await?;
				if let Some(dir) = fetch {
					let Verdict::Settled(view, at) = verdict else {
						bail!("job {id} did not complete: nothing to fetch");
					};
					fetch_job(&chain, &view, at, &pair, dir).await?;
				}
			}
		},
		Command::Quote { job } => {
			let text = std::fs::read_to_string(job)
				.with_context(|| format!("cannot read {}", job.display()))?;
			let parsed = spec::parse_job(&text).with_context(|| format!("{}", job.display()))?;
			let chain = Chain::connect(&opt.url).await?;
			let quote = chain.api().quote(&parsed.spec, None).await?;
			print!("{}", povm_cli::quote::describe(&quote, parsed.budget));
			if quote.refusal.is_some() {
				std::process::exit(2);
			}
		},
		Command::Follow { job } => {
			let chain = Chain::connect(&opt.url).await?;
			follow_job(&chain, *job).await?;
		},
		Command::Fetch { job, out } => {
			let pair = signer()?;
			let chain = Chain::connect(&opt.url).await?;
			let (_, at) = chain.finalized_head().await?;
			let view = chain
				.api()
				.job(*job, Some(at))
				.await?
				.ok_or_else(|| anyhow!("job {job} has no record at the finalised head"))?;
			fetch_job(&chain, &view, at, &pair, out).await?;
		},
	}
	Ok(())
}

/// Follows `job`, printing each state and the verdict.
async fn follow_job(chain: &Chain, job: JobId) -> anyhow::Result<Verdict> {
	let verdict = chain.follow(job, |n, view| print_state(n, view)).await?;
	match &verdict {
		Verdict::Settled(view, at) =>
			if view.state == JobState::Completed {
				let outcome = chain.outcome(job, *at).await?;
				print_result(view, outcome.as_ref());
			},
		Verdict::Removed(Some(state)) => println!("job {job}: {state:?} (record removed)"),
		Verdict::Removed(None) => println!(
			"job {job}: record removed (expired, cancelled, unrunnable or reaped; no event found)"
		),
	}
	Ok(verdict)
}

/// One state change of a followed job.
fn print_state(number: BlockNumber, view: &JobView) {
	let mut line = format!("job {} at #{number}: {:?}", view.id, view.state);
	if matches!(view.state, JobState::Assigned | JobState::Revealing) {
		let providers: Vec<String> = view.providers.iter().map(ss58).collect();
		line.push_str(&format!(" (providers: {})", providers.join(", ")));
	}
	if let (JobState::Assigned, Some(d)) = (view.state, view.commit_deadline) {
		line.push_str(&format!(", commit by #{d}"));
	}
	if let (JobState::Revealing, Some(d)) = (view.state, view.reveal_deadline) {
		line.push_str(&format!(", reveal by #{d}"));
	}
	println!("{line}");
}

/// The accepted result of a completed job.
fn print_result(view: &JobView, outcome: Option<&RunOutcome>) {
	let Some(result) = &view.result else { return };
	println!("result digest: 0x{}", hex::encode(result.result_digest));
	match outcome {
		Some(o) => {
			println!(
				"outcome: exit code {}, timed out: {}, OOM-killed: {}, truncated: {}",
				o.exit_code,
				yes(o.timed_out),
				yes(o.oom_killed),
				yes(o.truncated)
			);
			if o.result_digest() != result.result_digest {
				println!("warning: the chain's outcome does not hash to the result digest");
			}
		},
		None => println!("outcome: not on chain (a runtime without result outcomes)"),
	}
	match std::str::from_utf8(&result.output) {
		Ok(text) => println!("output ({} bytes): {text}", result.output.len()),
		Err(_) => println!(
			"output ({} bytes): 0x{}",
			result.output.len(),
			hex::encode(&result.output[..])
		),
	}
	let u = &result.usage;
	println!(
		"usage: {} core-ms CPU, {} MiB·s memory, {} ms wall",
		u.cpu_ms, u.memory_mib_s, u.wall_ms
	);
	for (provider, paid) in &result.payments {
		println!("paid {paid} plancks to {}", ss58(provider));
	}
	println!("refunded: {} plancks", result.refunded);
}

fn yes(flag: bool) -> &'static str {
	if flag {
		"yes"
	} else {
		"no"
	}
}

/// Fetches and verifies the result of the completed job `view` (read at `at`) into `dir`.
async fn fetch_job(
	chain: &Chain,
	view: &JobView,
	at: povm_client::types::H256,
	owner: &sp_core::sr25519::Pair,
	dir: &Path,
) -> anyhow::Result<()> {
	let job = view.id;
	if view.state != JobState::Completed {
		bail!("job {job} is {:?}: only a completed job has an accepted result", view.state);
	}
	let result = view
		.result
		.as_ref()
		.ok_or_else(|| anyhow!("job {job} has no result on chain"))?;
	if owner.public().0 != *<povm_client::types::AccountId as AsRef<[u8; 32]>>::as_ref(&view.owner)
	{
		bail!(
			"job {job} belongs to {}, not to your key's {}: providers serve results to the owner only",
			ss58(&view.owner),
			ss58(&povm_client::types::AccountId::new(owner.public().0)),
		);
	}
	let outcome = chain.outcome(job, at).await?.ok_or_else(|| {
		anyhow!("the chain holds no outcome for job {job} (a runtime without result outcomes?)")
	})?;
	check_chain_record(&outcome, &result.result_digest)?;
	let mut services = Vec::new();
	for (provider, _) in &result.payments {
		match chain.service(provider, at).await? {
			Some(service) if service.is_valid() => services.push(Service {
				provider: ss58(provider),
				url: String::from_utf8_lossy(&service.url).into_owned(),
			}),
			Some(_) => eprintln!("{}: its result service is malformed; skipped", ss58(provider)),
			None => eprintln!("{}: declares no result service; skipped", ss58(provider)),
		}
	}
	let report = fetch_and_verify(&services, job, &outcome, owner, dir, &Limits::default()).await?;
	for failure in &report.failures {
		eprintln!("provider {failure}; tried the next one");
	}
	for item in &report.items {
		println!(
			"{}: {} bytes in {:.2} s from {} (verified)",
			item.path.display(),
			item.bytes,
			item.seconds,
			item.provider
		);
	}
	println!(
		"job {job}: {} items fetched and verified against the result digest 0x{}",
		report.items.len(),
		hex::encode(result.result_digest)
	);
	Ok(())
}
