//! `csv-summary [--input FILE] [--out-dir DIR]`
//!
//! Reads `FILE` (default `/povm/in/data.csv`, the job's first input), writes its summary
//! ([`povm_job_csv_summary::Summary::to_json`]) to `<out-dir>/summary.json` (default
//! `/povm/out`) and one line `rows R columns C` to stdout. A file that cannot be read or
//! summarised exits with status 2 and says why on stderr.

use std::{fs, path::PathBuf, process::ExitCode};

fn run(mut argv: impl Iterator<Item = String>) -> Result<(), String> {
	let mut input = PathBuf::from("/povm/in/data.csv");
	let mut out_dir = PathBuf::from("/povm/out");
	while let Some(flag) = argv.next() {
		let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
		match flag.as_str() {
			"--input" => input = value.into(),
			"--out-dir" => out_dir = value.into(),
			other => return Err(format!("unknown argument {other}")),
		}
	}
	let bytes = fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
	let summary =
		povm_job_csv_summary::summarize(&bytes).map_err(|e| format!("{}: {e}", input.display()))?;
	let path = out_dir.join("summary.json");
	fs::write(&path, summary.to_json()).map_err(|e| format!("{}: {e}", path.display()))?;
	println!("rows {} columns {}", summary.rows, summary.columns.len());
	Ok(())
}

fn main() -> ExitCode {
	match run(std::env::args().skip(1)) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("csv-summary: {e}");
			ExitCode::from(2)
		},
	}
}
