//! From an on-chain job to an executor run, and from a run to the pending commit: pure
//! conversions, plus the network tests' cheat.

use std::path::PathBuf;

use pallet_vm_proof::Reveal;
use povm_primitives::{results::ResultFormat, Arch, Usage, MAX_OUTPUT_LEN};

use crate::{
	attestation,
	config::{Caps, Config},
	executor::{self, Execution},
	fetch::InputSpec,
	prelude::*,
	state::PendingCommit,
};

/// Why a job spec cannot be run on this host.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
	/// The spec asks for more than the configured caps allow.
	#[error("resources {resources:?} exceed the caps {caps:?}")]
	BeyondCaps {
		/// What the spec asks for.
		resources: povm_primitives::Resources,
		/// The caps of this host.
		caps: Caps,
	},
	/// A text field of the spec is not UTF-8 (the container API takes strings).
	#[error("the {0} is not UTF-8")]
	NotUtf8(&'static str),
	/// The image is for another architecture than this host's.
	#[error("the image is for {image:?}, this host is {host:?}")]
	PlatformMismatch {
		/// The image's architecture.
		image: Arch,
		/// This host's.
		host: Arch,
	},
	/// The inputs are larger than this host fetches (`[inputs]` of the configuration).
	#[error("inputs of {largest} bytes (largest) and {total} in all exceed the limits here")]
	InputsTooLarge {
		/// The largest input's declared size.
		largest: u64,
		/// All inputs' declared sizes.
		total: u64,
	},
}

impl SpecError {
	/// A short label for metrics.
	pub fn label(&self) -> &'static str {
		match self {
			SpecError::BeyondCaps { .. } => "beyond_caps",
			SpecError::NotUtf8(_) => "not_utf8",
			SpecError::PlatformMismatch { .. } => "platform_mismatch",
			SpecError::InputsTooLarge { .. } => "inputs_too_large",
		}
	}
}

/// Where the run of `job` keeps its files: `<state dir>/runs/<job>`.
pub fn work_dir(config: &Config, job: JobId) -> PathBuf {
	config.state_dir.join("runs").join(job.to_string())
}

/// The executor's job for an on-chain spec, checked against the caps.
pub fn to_job_run(
	job: JobId,
	spec: &JobSpec,
	config: &Config,
	work_dir: PathBuf,
) -> Result<executor::JobRun, SpecError> {
	let text = |b: &[u8], what: &'static str| {
		String::from_utf8(b.to_vec()).map_err(|_| SpecError::NotUtf8(what))
	};
	let r = spec.resources;
	let caps = config.caps;
	if r.millicores > caps.millicores ||
		r.memory_mib > caps.memory_mib ||
		r.max_seconds > caps.max_seconds
	{
		return Err(SpecError::BeyondCaps { resources: r, caps });
	}
	let host = crate::config::host_arch();
	if spec.image.arch != host {
		return Err(SpecError::PlatformMismatch { image: spec.image.arch, host });
	}
	let largest = spec.inputs.iter().map(|i| i.size).max().unwrap_or(0);
	let total = spec.inputs.iter().fold(0u64, |sum, i| sum.saturating_add(i.size));
	let limits = &config.inputs;
	if largest > limits.max_input_mib << 20 || total > limits.max_total_mib << 20 {
		return Err(SpecError::InputsTooLarge { largest, total });
	}
	let command = text(&spec.command, "command")?;
	Ok(executor::JobRun {
		job_id: job,
		spec: executor::JobSpec {
			image: image_spec(&spec.image).map_err(SpecError::NotUtf8)?,
			inputs: spec
				.inputs
				.iter()
				.map(|i| {
					Ok(InputSpec {
						name: text(&i.name, "input name")?,
						url: text(&i.url, "input URL")?,
						sha256: i.sha256,
						size: i.size,
					})
				})
				.collect::<Result<_, SpecError>>()?,
			command: if command.is_empty() { vec![] } else { vec![command] },
			args: spec.args.iter().map(|a| text(a, "argument")).collect::<Result<_, _>>()?,
			env: spec
				.env
				.iter()
				.map(|e| Ok((text(&e.key, "env key")?, text(&e.value, "env value")?)))
				.collect::<Result<_, SpecError>>()?,
			resources: executor::Resources {
				millicores: r.millicores,
				memory_mib: r.memory_mib,
				max_seconds: r.max_seconds,
				pids: caps.pids,
			},
		},
		work_dir,
		prepare_within: executor::DEFAULT_PREPARE_WITHIN,
	})
}

/// The executor's image of an on-chain image reference: the ID and manifest digest as
/// `sha256:<hex>`, the repository as text (`Err` names a field that is not UTF-8), the platform
/// of the architecture.
pub fn image_spec(image: &povm_primitives::ImageRef) -> Result<executor::ImageSpec, &'static str> {
	let digest = |d: &[u8; 32]| format!("sha256:{}", hex::encode(d));
	let registry = match &image.registry {
		Some(r) => Some(executor::RegistryImage {
			repository: String::from_utf8(r.repository.to_vec()).map_err(|_| "image repository")?,
			manifest: digest(&r.manifest),
		}),
		None => None,
	};
	Ok(executor::ImageSpec {
		id: digest(&image.id),
		registry,
		platform: image.arch.platform().to_owned(),
	})
}

/// Usage in the chain's units: CPU ms, memory MiB·s (the executor measures MiB·ms), wall ms.
pub fn chain_usage(u: &executor::Usage) -> Usage {
	Usage { cpu_ms: u.cpu_ms, memory_mib_s: u.memory_mib_seconds(), wall_ms: u.wall_ms }
}

/// The small output stored on chain: the only output file, or else the first in name order
/// that fits in 1 KiB, or else stdout when it fits, or else nothing.
pub fn small_output(exec: &Execution) -> Vec<u8> {
	let fits = |b: &[u8]| b.len() <= MAX_OUTPUT_LEN as usize;
	exec.outputs
		.iter()
		.map(|o| o.content.as_slice())
		.find(|c| fits(c))
		.or_else(|| fits(&exec.stdout).then_some(exec.stdout.as_slice()))
		.unwrap_or_default()
		.to_vec()
}

/// The pending commit of a run of `job`, assigned in draw `wave`, on a spec of `resources`:
/// result digest (in `format`), output and its digest, checkpoints root, usage capped at the
/// job's bound (the chain refuses a reveal above it; the executor's sampled figures can
/// overshoot the limits it enforces by a sampling interval), and the commitment to all of it;
/// the run's outcome is kept beside them for the reveal, unless the format predates outcomes.
pub fn pending_commit(
	job: JobId,
	wave: u32,
	resources: &povm_primitives::Resources,
	exec: &Execution,
	format: ResultFormat,
	salt: [u8; 32],
	me: &AccountId,
) -> PendingCommit {
	let leaves: Vec<Digest> = exec.checkpoints.iter().map(|c| c.digest).collect();
	let manifest = exec.manifest();
	let outcome = match format {
		ResultFormat::Legacy => None,
		ResultFormat::Outcome => Some(manifest.outcome()),
	};
	let reveal = Reveal {
		result_digest: manifest.result_digest(format),
		checkpoints_root: attestation::merkle_root(&leaves),
		salt,
		output: small_output(exec).try_into().expect("at most MAX_OUTPUT_LEN bytes"),
		usage: chain_usage(&exec.usage).capped_at(&resources.usage_bound()),
	};
	let commitment =
		povm_primitives::attestation::commitment(&reveal.attestation(job, wave), &reveal.salt, me);
	PendingCommit { job, wave, commitment, reveal, leaves, outcome, legacy: false }
}

/// A cheating provider, for the network tests only: built solely into the
/// `povm-worker-cheat` binary (feature `test-cheat`), never into `povm-worker`.
#[cfg(feature = "test-cheat")]
pub(crate) mod cheat {
	use super::*;

	/// Replaces the outcome with a wrong one (other contents) and the result digest with its
	/// digest, and commits to that, consistently, so the reveal matches the commitment (and
	/// the outcome its digest) and only redundancy can tell the result is wrong.
	pub fn corrupt(mut record: PendingCommit, me: &AccountId) -> PendingCommit {
		match record.outcome.as_mut() {
			Some(outcome) => {
				outcome.contents_digest = sp_io::hashing::blake2_256(&outcome.contents_digest);
				record.reveal.result_digest = outcome.result_digest();
			},
			None =>
				record.reveal.result_digest =
					sp_io::hashing::blake2_256(&record.reveal.result_digest),
		}
		record.commitment = povm_primitives::attestation::commitment(
			&record.reveal.attestation(record.job, record.wave),
			&record.reveal.salt,
			me,
		);
		tracing::warn!(target: LOG_SERVICE, job = record.job, "test-cheat: committing a corrupted result");
		record
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use crate::executor::{CheckpointFile, OutputFile};

	fn exec() -> Execution {
		Execution {
			exit_code: 0,
			flags: Default::default(),
			stdout: b"heads 3\n".to_vec(),
			stderr: vec![],
			outputs: vec![OutputFile {
				name: "tally.json".into(),
				content: b"{\"heads\":3}".to_vec(),
				digest: attestation::blake2_256(b"{\"heads\":3}"),
			}],
			checkpoints: (0..3)
				.map(|i| CheckpointFile { name: format!("{i:04}"), size: 1, digest: [i; 32] })
				.collect(),
			usage: executor::Usage {
				cpu_ms: 120,
				memory_mib_ms: 5_500,
				peak_memory_mib: 2,
				wall_ms: 300,
				samples: 3,
			},
		}
	}

	/// A coin-flip spec that runs for at most `max_seconds` (half a core, 64 MiB).
	pub(crate) fn spec(max_seconds: u32) -> JobSpec {
		JobSpec {
			image: povm_primitives::ImageRef::local([0xaa; 32]),
			command: b"/coinflip".to_vec().try_into().unwrap(),
			args: vec![b"--seed".to_vec().try_into().unwrap()].try_into().unwrap(),
			env: Default::default(),
			inputs: Default::default(),
			resources: povm_primitives::Resources { millicores: 500, memory_mib: 64, max_seconds },
			price_per_second: 1,
			redundancy: povm_primitives::RedundancyPolicy {
				min_replicas: 1,
				max_replicas: 1,
				margin: 1,
			},
			checkpoint_interval: 0,
		}
	}

	#[test]
	fn usage_is_converted_to_mib_seconds() {
		let u = chain_usage(&exec().usage);
		assert_eq!(u, Usage { cpu_ms: 120, memory_mib_s: 5, wall_ms: 300 });
	}

	#[test]
	fn pending_commit_matches_the_chain_rules() {
		let me = AccountId::new([7; 32]);
		let e = exec();
		let resources = spec(30).resources;
		let r = pending_commit(9, 2, &resources, &e, ResultFormat::Outcome, [1; 32], &me);
		let leaves = [[0u8; 32], [1; 32], [2; 32]];
		assert_eq!((r.job, r.wave), (9, 2));
		assert_eq!(r.leaves, leaves);
		assert_eq!(r.reveal.checkpoints_root, povm_primitives::attestation::merkle_root(&leaves));
		assert_eq!(r.reveal.result_digest, e.result_digest());
		assert_eq!(r.outcome, Some(e.outcome()));
		assert_eq!(r.outcome.unwrap().result_digest(), r.reveal.result_digest);
		assert_eq!(r.reveal.usage, Usage { cpu_ms: 120, memory_mib_s: 5, wall_ms: 300 });
		// The vm-proof pallet recomputes exactly this from the reveal, the job and the wave:
		// the output's digest from the revealed bytes.
		let attestation = povm_primitives::attestation::Attestation {
			job: 9,
			wave: 2,
			result_digest: e.result_digest(),
			output_digest: attestation::blake2_256(b"{\"heads\":3}"),
			checkpoints_root: povm_primitives::attestation::merkle_root(&leaves),
			usage: Usage { cpu_ms: 120, memory_mib_s: 5, wall_ms: 300 },
		};
		assert_eq!(
			r.commitment,
			povm_primitives::attestation::commitment(&attestation, &[1; 32], &me)
		);
		assert_eq!(r.reveal.output.to_vec(), b"{\"heads\":3}".to_vec());
		// Another job or wave gives another commitment.
		assert_ne!(
			pending_commit(10, 2, &resources, &e, ResultFormat::Outcome, [1; 32], &me).commitment,
			r.commitment
		);
		assert_ne!(
			pending_commit(9, 0, &resources, &e, ResultFormat::Outcome, [1; 32], &me).commitment,
			r.commitment
		);
	}

	#[test]
	fn a_job_assigned_before_spec_108_is_digested_as_workers_did_then_and_revealed_without_outcome()
	{
		let me = AccountId::new([7; 32]);
		let e = exec();
		let resources = spec(30).resources;
		let r = pending_commit(9, 2, &resources, &e, ResultFormat::Legacy, [1; 32], &me);
		assert_eq!(r.reveal.result_digest, e.manifest().legacy_result_digest());
		assert_ne!(r.reveal.result_digest, e.result_digest());
		// A pre-108 runtime's reveal has no outcome; a 108 runtime refuses an outcome that
		// does not hash to the digest, so none is given.
		assert_eq!(r.outcome, None);
		assert_eq!(
			r.commitment,
			povm_primitives::attestation::commitment(&r.reveal.attestation(9, 2), &[1; 32], &me)
		);
		let current = pending_commit(9, 2, &resources, &e, ResultFormat::Outcome, [1; 32], &me);
		assert_ne!(current.commitment, r.commitment);
	}

	#[cfg(feature = "test-cheat")]
	#[test]
	fn the_cheat_commits_another_result_consistently() {
		let me = AccountId::new([7; 32]);
		let honest =
			pending_commit(9, 2, &spec(30).resources, &exec(), ResultFormat::Outcome, [1; 32], &me);
		let cheat = cheat::corrupt(honest.clone(), &me);
		assert_ne!(cheat.reveal.result_digest, honest.reveal.result_digest);
		assert_eq!(cheat.outcome.unwrap().result_digest(), cheat.reveal.result_digest);
		assert_eq!(
			cheat.commitment,
			povm_primitives::attestation::commitment(
				&cheat.reveal.attestation(9, 2),
				&cheat.reveal.salt,
				&me
			)
		);
	}

	#[test]
	fn committed_usage_is_capped_at_the_jobs_bound() {
		let me = AccountId::new([7; 32]);
		let mut e = exec();
		// The sampled figures overshoot a 1-second, half-core, 1 MiB job.
		e.usage.wall_ms = 1_050;
		e.usage.cpu_ms = 700;
		e.usage.memory_mib_ms = 9_000;
		let resources =
			povm_primitives::Resources { millicores: 500, memory_mib: 1, max_seconds: 1 };
		let r = pending_commit(9, 0, &resources, &e, ResultFormat::Outcome, [1; 32], &me);
		assert_eq!(r.reveal.usage, Usage { cpu_ms: 500, memory_mib_s: 1, wall_ms: 1_000 });
		assert!(r.reveal.usage.within(&resources.usage_bound()));
	}

	#[test]
	fn large_outputs_fall_back_to_stdout_or_nothing() {
		let mut e = exec();
		e.outputs[0].content = vec![0; 2000];
		assert_eq!(small_output(&e), b"heads 3\n");
		e.stdout = vec![0; 2000];
		assert!(small_output(&e).is_empty());
	}

	#[test]
	fn specs_beyond_the_caps_or_not_utf8_are_refused() {
		let config = Config::default();
		let mut spec = spec(10);
		let run = to_job_run(1, &spec, &config, "/tmp/x".into()).unwrap();
		assert_eq!(run.spec.command, ["/coinflip"]);
		assert_eq!(run.spec.args, ["--seed"]);
		assert_eq!(run.spec.resources.pids, config.caps.pids);
		spec.resources.memory_mib = config.caps.memory_mib + 1;
		let e = to_job_run(1, &spec, &config, "/tmp/x".into()).unwrap_err();
		assert_eq!(e.label(), "beyond_caps");
		spec.resources.memory_mib = 64;
		spec.args = vec![vec![0xff].try_into().unwrap()].try_into().unwrap();
		let e = to_job_run(1, &spec, &config, "/tmp/x".into()).unwrap_err();
		assert_eq!(e, SpecError::NotUtf8("argument"));
	}
}
