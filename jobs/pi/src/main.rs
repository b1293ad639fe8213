//! `pi --samples N [--seed S] [--checkpoint-every K] [--out-dir DIR] [--checkpoint-dir DIR]`
//!
//! Writes the tally ([`povm_job_pi::Tally::to_json`]) to stdout and to `<out-dir>/pi.json`, and
//! every `K` samples a checkpoint `<checkpoint-dir>/<index:08>.json` with the tally so far.
//! Defaults: seed 0, no checkpoints, `/povm/out` and `/povm/checkpoints`.

use std::{fs, path::PathBuf, process::ExitCode};

use povm_job_pi::Sampler;

struct Args {
	samples: u64,
	seed: u64,
	checkpoint_every: u64,
	out_dir: PathBuf,
	checkpoint_dir: PathBuf,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
	let mut args = Args {
		samples: 0,
		seed: 0,
		checkpoint_every: 0,
		out_dir: "/povm/out".into(),
		checkpoint_dir: "/povm/checkpoints".into(),
	};
	let mut samples = None;
	while let Some(flag) = argv.next() {
		let mut value = || argv.next().ok_or_else(|| format!("{flag} needs a value"));
		let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
		match flag.as_str() {
			"--samples" => samples = Some(number(value()?)?),
			"--seed" => args.seed = number(value()?)?,
			"--checkpoint-every" => args.checkpoint_every = number(value()?)?,
			"--out-dir" => args.out_dir = value()?.into(),
			"--checkpoint-dir" => args.checkpoint_dir = value()?.into(),
			other => return Err(format!("unknown argument {other}")),
		}
	}
	args.samples = samples.ok_or("--samples N is required")?;
	Ok(args)
}

fn run(args: Args) -> Result<(), String> {
	let mut sampler = Sampler::new(args.seed);
	let step = if args.checkpoint_every == 0 { args.samples } else { args.checkpoint_every };
	let mut index = 0u64;
	while sampler.tally().samples < args.samples {
		sampler.draw(step.min(args.samples - sampler.tally().samples));
		if args.checkpoint_every > 0 {
			let path = args.checkpoint_dir.join(format!("{index:08}.json"));
			fs::write(&path, sampler.tally().to_json(args.seed))
				.map_err(|e| format!("{}: {e}", path.display()))?;
			index += 1;
		}
	}
	let json = sampler.tally().to_json(args.seed);
	let path = args.out_dir.join("pi.json");
	fs::write(&path, &json).map_err(|e| format!("{}: {e}", path.display()))?;
	print!("{json}");
	Ok(())
}

fn main() -> ExitCode {
	match parse(std::env::args().skip(1)).and_then(run) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("pi: {e}");
			ExitCode::from(2)
		},
	}
}
