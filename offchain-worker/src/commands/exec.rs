//! `povm-worker exec`: run one job locally and print its attestation (no chain involved).

use crate::{
	attestation::{commitment, output_digest, to_hex},
	commands::run::{chain_usage, small_output},
	executor::{DockerConfig, DockerExecutor, Executor, ImageSpec, JobRun, JobSpec, Resources},
	opt::RunOpt,
};

/// Runs the job of `opt` and prints what the worker would attest.
pub async fn exec(opt: RunOpt) -> anyhow::Result<()> {
	let mut config = DockerConfig::new(format!("cli-{}", std::process::id()), opt.image_dir);
	config.disk_quota_bytes = u64::from(opt.disk_quota_mib) << 20;
	config.max_files = opt.max_files;
	config.runtime = opt.runtime;
	config.allow_without_lsm = opt.allow_without_lsm;
	let executor = DockerExecutor::connect(config).await?;
	let mut command = opt.command;
	let args = command.split_off(1);
	let job = JobRun {
		job_id: opt.job_id,
		spec: JobSpec {
			// An image in the daemon or the image directory; `exec` pulls nothing.
			image: ImageSpec {
				id: opt.image,
				registry: None,
				platform: crate::config::host_arch().platform().to_owned(),
			},
			inputs: Vec::new(),
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
		prepare_within: crate::executor::DEFAULT_PREPARE_WITHIN,
	};
	let run = executor.run(&job).await?;
	let outcome = run.outcome();
	let result = outcome.result_digest();
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
	println!("contents_digest  0x{}", to_hex(&outcome.contents_digest));
	println!("result_digest    0x{}", to_hex(&result));
	println!("checkpoints_root 0x{}", to_hex(&root));
	let output = small_output(&run);
	let bound = povm_primitives::Resources {
		millicores: opt.millicores,
		memory_mib: opt.memory_mib,
		max_seconds: opt.max_seconds,
	}
	.usage_bound();
	let usage = chain_usage(&run.usage).capped_at(&bound);
	println!("output_digest    0x{}", to_hex(&output_digest(&output)));
	let u = run.usage;
	println!("cpu_ms           {}", u.cpu_ms);
	println!("memory_mib_ms    {}", u.memory_mib_ms);
	println!("wall_ms          {}", u.wall_ms);
	if let (Some(salt), Some(provider)) = (opt.salt, opt.provider) {
		let attestation = crate::attestation::Attestation {
			job: opt.job_id,
			wave: opt.wave,
			result_digest: result,
			output_digest: output_digest(&output),
			checkpoints_root: root,
			usage,
		};
		println!(
			"committed usage  cpu_ms {} memory_mib_s {} wall_ms {}",
			usage.cpu_ms, usage.memory_mib_s, usage.wall_ms
		);
		println!("commitment       0x{}", to_hex(&commitment(&attestation, &salt, &provider)));
	}
	Ok(())
}
