//! `povm-worker`: the PoVM provider worker daemon.
//!
//! For now it offers `run`, which runs one job locally under the Docker executor and prints
//! its attestation; the chain client that feeds it assigned jobs comes separately.

use clap::Parser;
use povm_worker::{
	attestation::{commitment, to_hex},
	executor::{DockerConfig, DockerExecutor, Executor, JobRun, JobSpec, Resources},
	opt::{Command, Opt, RunOpt},
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.with_writer(std::io::stderr)
		.init();
	let opt = Opt::parse();
	let result = match opt.command {
		Command::Run(run) => run_job(run).await,
	};
	match result {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e}");
			let mut source = std::error::Error::source(&*e);
			while let Some(s) = source {
				eprintln!("  caused by: {s}");
				source = s.source();
			}
			std::process::ExitCode::FAILURE
		},
	}
}

async fn run_job(opt: RunOpt) -> Result<(), Box<dyn std::error::Error>> {
	let config = DockerConfig::new(format!("cli-{}", std::process::id()), opt.image_dir);
	let executor = DockerExecutor::connect(config).await?;
	let mut command = opt.command;
	let args = command.split_off(1);
	let job = JobRun {
		job_id: opt.job_id,
		spec: JobSpec {
			image: opt.image,
			command,
			args,
			env: opt.env,
			resources: Resources {
				millicores: opt.millicores,
				memory_mib: opt.memory_mib,
				max_seconds: opt.max_seconds,
				pids: opt.pids,
			},
		},
		work_dir: opt.work_dir,
	};
	let run = executor.run(&job).await?;
	let result = run.result_digest();
	let root = run.checkpoints_root();
	println!("exit_code        {}", run.exit_code);
	println!("timed_out        {}", run.flags.timed_out);
	println!("oom_killed       {}", run.flags.oom_killed);
	println!("truncated        {}", run.flags.truncated);
	println!("stdout_bytes     {}", run.stdout.len());
	println!("stderr_bytes     {}", run.stderr.len());
	for o in &run.outputs {
		println!("output           {} {} bytes 0x{}", o.name, o.content.len(), to_hex(&o.digest));
	}
	println!("checkpoints      {}", run.checkpoints.len());
	println!("result_digest    0x{}", to_hex(&result));
	println!("checkpoints_root 0x{}", to_hex(&root));
	if let (Some(salt), Some(provider)) = (opt.salt, opt.provider) {
		println!("commitment       0x{}", to_hex(&commitment(&result, &root, &salt, &provider)));
	}
	let u = run.usage;
	println!("cpu_ms           {}", u.cpu_ms);
	println!("memory_mib_ms    {}", u.memory_mib_ms);
	println!("wall_ms          {}", u.wall_ms);
	Ok(())
}
