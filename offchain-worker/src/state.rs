//! The worker's durable state: one file per job with a pending commitment.
//!
//! A record is written (to a temporary file, fsynced, renamed, and the directory fsynced)
//! *before* the commit transaction is sent, so that a worker restarted between commit and
//! reveal still has the salt and the result to reveal. Records are removed once the job is no
//! longer assigned to this provider.
//!
//! # Formats
//!
//! The first byte of a record is its format. Format 3 (this worker) adds the run's
//! [`RunOutcome`], which the reveal will carry, to format 2. Format 2 holds the draw wave and a
//! commitment under the chain's version-2 rule (runtime spec 101); such a record is loaded with
//! no outcome (its result digest follows the worker's earlier result layout) and written back
//! in format 3. Format 1 (workers before format 2) has no wave and a commitment under the version-1 rule; such a record is still loaded,
//! as a [`PendingCommit::legacy`] record: the chain lets a member that had committed before
//! its upgrade reveal under the version-1 rule, with the same `reveal_result` call, so the
//! worker reveals it rather than being slashed as a reveal no-show. A legacy record is never
//! sent as a commitment again (see the run plan).

use std::{
	fs,
	io::Write,
	path::{Path, PathBuf},
};

use codec::{Decode, Encode};
use pallet_vm_proof::Reveal;
use povm_primitives::results::RunOutcome;

use crate::{error::StateError, prelude::*};

/// What the worker must remember between running a job and revealing its result.
#[derive(Clone, Debug, Encode, Decode, PartialEq, Eq)]
pub struct PendingCommit {
	/// The job.
	pub job: JobId,
	/// The draw wave this provider was assigned in (part of the commitment).
	pub wave: u32,
	/// The commitment sent (or to send).
	pub commitment: Digest,
	/// What will be revealed, salt included.
	pub reveal: Reveal,
	/// Checkpoint hashes, in order.
	pub leaves: Vec<Digest>,
	/// The run's outcome, whose [`RunOutcome::result_digest`] is `reveal.result_digest` (the
	/// reveal will carry it). `None` in a record loaded from format 1 or 2, written before the
	/// worker kept it.
	pub outcome: Option<RunOutcome>,
	/// Whether the record was written in format 1 (see the module docs): its commitment
	/// follows the chain's version-1 rule, its `wave` is 0 and means nothing. Not part of the
	/// format-2 encoding.
	#[codec(skip)]
	pub legacy: bool,
}

/// A record of format 1: no wave, a commitment under the chain's version-1 rule.
#[derive(Encode, Decode)]
struct PendingCommitV1 {
	job: JobId,
	commitment: Digest,
	reveal: Reveal,
	leaves: Vec<Digest>,
}

/// A record of format 2: no outcome.
#[derive(Encode, Decode)]
struct PendingCommitV2 {
	job: JobId,
	wave: u32,
	commitment: Digest,
	reveal: Reveal,
	leaves: Vec<Digest>,
}

/// File format version, the first byte of every record written. Version 2 added the wave,
/// version 3 the outcome.
const FORMAT: u8 = 3;
/// The format of records written before the worker kept the run's outcome; still read.
const FORMAT_2: u8 = 2;
/// The format of records written before the chain bound commitments to the job, the wave, the
/// output and the usage; still read (and written back as such), see the module docs.
const FORMAT_1: u8 = 1;

/// Pending commits on disk, under `<state dir>/commits/<job>.scale`.
#[derive(Clone, Debug)]
pub struct StateStore {
	dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
	move |source| StateError::Io { path: path.display().to_string(), source }
}

impl StateStore {
	/// Opens (creating) the store under `state_dir`.
	pub fn open(state_dir: &Path) -> Result<Self, StateError> {
		let dir = state_dir.join("commits");
		fs::create_dir_all(&dir).map_err(io(&dir))?;
		Ok(Self { dir })
	}

	fn path(&self, job: JobId) -> PathBuf {
		self.dir.join(format!("{job}.scale"))
	}

	/// Durably writes `record`, replacing any earlier one for the job.
	pub fn save(&self, record: &PendingCommit) -> Result<(), StateError> {
		let path = self.path(record.job);
		let tmp = self.dir.join(format!("{}.tmp", record.job));
		let mut bytes = Vec::new();
		if record.legacy {
			let PendingCommit { job, commitment, reveal, leaves, .. } = record.clone();
			bytes.push(FORMAT_1);
			PendingCommitV1 { job, commitment, reveal, leaves }.encode_to(&mut bytes);
		} else {
			bytes.push(FORMAT);
			record.encode_to(&mut bytes);
		}
		let write = || -> std::io::Result<()> {
			let mut f = fs::File::create(&tmp)?;
			f.write_all(&bytes)?;
			f.sync_all()?;
			drop(f);
			fs::rename(&tmp, &path)?;
			fs::File::open(&self.dir)?.sync_all()
		};
		write().map_err(|e| {
			let _ = fs::remove_file(&tmp);
			io(&path)(e)
		})
	}

	/// The record of `job`, if any.
	pub fn load(&self, job: JobId) -> Result<Option<PendingCommit>, StateError> {
		let path = self.path(job);
		match fs::read(&path) {
			Ok(bytes) => Self::decode(&path, &bytes).map(Some),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(io(&path)(e)),
		}
	}

	fn decode(path: &Path, bytes: &[u8]) -> Result<PendingCommit, StateError> {
		let corrupt =
			|message: String| StateError::Corrupt { path: path.display().to_string(), message };
		let whole = |rest: &[u8]| {
			if rest.is_empty() {
				Ok(())
			} else {
				Err(corrupt("trailing bytes".into()))
			}
		};
		match bytes.split_first() {
			Some((&FORMAT, mut rest)) => {
				let r = PendingCommit::decode(&mut rest).map_err(|e| corrupt(e.to_string()))?;
				whole(rest)?;
				Ok(r)
			},
			Some((&FORMAT_2, mut rest)) => {
				let PendingCommitV2 { job, wave, commitment, reveal, leaves } =
					PendingCommitV2::decode(&mut rest).map_err(|e| corrupt(e.to_string()))?;
				whole(rest)?;
				Ok(PendingCommit {
					job,
					wave,
					commitment,
					reveal,
					leaves,
					outcome: None,
					legacy: false,
				})
			},
			Some((&FORMAT_1, mut rest)) => {
				let PendingCommitV1 { job, commitment, reveal, leaves } =
					PendingCommitV1::decode(&mut rest).map_err(|e| corrupt(e.to_string()))?;
				whole(rest)?;
				Ok(PendingCommit {
					job,
					wave: 0,
					commitment,
					reveal,
					leaves,
					outcome: None,
					legacy: true,
				})
			},
			_ => Err(corrupt("unknown format".into())),
		}
	}

	/// Jobs with a record.
	pub fn jobs(&self) -> Result<Vec<JobId>, StateError> {
		let mut jobs = Vec::new();
		for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
			let entry = entry.map_err(io(&self.dir))?;
			let name = entry.file_name();
			if let Some(id) = name
				.to_str()
				.and_then(|n| n.strip_suffix(".scale"))
				.and_then(|n| n.parse().ok())
			{
				jobs.push(id);
			}
		}
		jobs.sort_unstable();
		Ok(jobs)
	}

	/// Forgets `job`.
	pub fn remove(&self, job: JobId) -> Result<(), StateError> {
		let path = self.path(job);
		match fs::remove_file(&path) {
			Ok(()) => Ok(()),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
			Err(e) => Err(io(&path)(e)),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn record(job: JobId) -> PendingCommit {
		PendingCommit {
			job,
			wave: 1,
			commitment: [9; 32],
			reveal: Reveal {
				result_digest: [1; 32],
				checkpoints_root: [2; 32],
				salt: [3; 32],
				output: b"{\"heads\":3}".to_vec().try_into().unwrap(),
				usage: povm_primitives::Usage { cpu_ms: 5, memory_mib_s: 6, wall_ms: 7 },
			},
			leaves: vec![[4; 32], [5; 32]],
			outcome: Some(RunOutcome { exit_code: 3, truncated: true, ..Default::default() }),
			legacy: false,
		}
	}

	#[test]
	fn records_survive_reopening_and_can_be_removed() {
		let dir = tempfile::tempdir().unwrap();
		let store = StateStore::open(dir.path()).unwrap();
		store.save(&record(7)).unwrap();
		store.save(&record(3)).unwrap();
		let again = StateStore::open(dir.path()).unwrap();
		assert_eq!(again.jobs().unwrap(), vec![3, 7]);
		assert_eq!(again.load(7).unwrap(), Some(record(7)));
		again.remove(7).unwrap();
		again.remove(7).unwrap();
		assert_eq!(again.load(7).unwrap(), None);
		assert_eq!(again.jobs().unwrap(), vec![3]);
	}

	/// A record as a format-1 worker wrote it: `1 ‖ SCALE((job, commitment, reveal, leaves))`.
	fn format_1_bytes(r: &PendingCommit) -> Vec<u8> {
		let mut bytes = vec![1u8];
		(r.job, r.commitment, r.reveal.clone(), r.leaves.clone()).encode_to(&mut bytes);
		bytes
	}

	/// Before the fix a format-1 record was refused as corrupt, so a job committed before the
	/// chain's upgrade was never revealed and its provider slashed as a reveal no-show.
	#[test]
	fn records_of_format_1_are_loaded_as_legacy_records() {
		let dir = tempfile::tempdir().unwrap();
		let store = StateStore::open(dir.path()).unwrap();
		let old = record(4);
		fs::write(dir.path().join("commits/4.scale"), format_1_bytes(&old)).unwrap();
		let loaded = store.load(4).unwrap().unwrap();
		assert_eq!(loaded, PendingCommit { wave: 0, outcome: None, legacy: true, ..old.clone() });
		// Written back in format 1, byte for byte.
		store.save(&loaded).unwrap();
		assert_eq!(fs::read(dir.path().join("commits/4.scale")).unwrap(), format_1_bytes(&old));
		assert_eq!(store.load(4).unwrap(), Some(loaded));
	}

	#[test]
	fn records_of_format_2_are_loaded_without_an_outcome_and_written_back_in_format_3() {
		let dir = tempfile::tempdir().unwrap();
		let store = StateStore::open(dir.path()).unwrap();
		let old = record(6);
		let mut bytes = vec![2u8];
		(old.job, old.wave, old.commitment, old.reveal.clone(), old.leaves.clone())
			.encode_to(&mut bytes);
		let path = dir.path().join("commits/6.scale");
		fs::write(&path, bytes).unwrap();
		let loaded = store.load(6).unwrap().unwrap();
		assert_eq!(loaded, PendingCommit { outcome: None, ..old.clone() });
		store.save(&loaded).unwrap();
		assert_eq!(fs::read(&path).unwrap()[0], 3);
		assert_eq!(store.load(6).unwrap(), Some(loaded));
	}

	#[test]
	fn records_of_an_unknown_format_are_reported_not_misread() {
		let dir = tempfile::tempdir().unwrap();
		let store = StateStore::open(dir.path()).unwrap();
		store.save(&record(4)).unwrap();
		let path = dir.path().join("commits/4.scale");
		let mut bytes = fs::read(&path).unwrap();
		bytes[0] = 4;
		fs::write(&path, bytes).unwrap();
		assert!(matches!(store.load(4), Err(StateError::Corrupt { .. })));
	}

	#[test]
	fn corrupt_records_are_reported() {
		let dir = tempfile::tempdir().unwrap();
		let store = StateStore::open(dir.path()).unwrap();
		fs::write(dir.path().join("commits/5.scale"), b"\x01garbage").unwrap();
		assert!(matches!(store.load(5), Err(StateError::Corrupt { .. })));
	}

	#[test]
	fn a_failed_write_is_an_error_not_a_partial_record() {
		let dir = tempfile::tempdir().unwrap();
		let store = StateStore::open(dir.path()).unwrap();
		// Make the commits directory read-only so that creating the temporary file fails
		// (as on a full disk). Root ignores permissions, so only check when it applies.
		let commits = dir.path().join("commits");
		let mut perms = fs::metadata(&commits).unwrap().permissions();
		std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o500);
		fs::set_permissions(&commits, perms).unwrap();
		if fs::File::create(commits.join("probe")).is_err() {
			assert!(matches!(store.save(&record(1)), Err(StateError::Io { .. })));
			assert_eq!(store.jobs().unwrap(), Vec::<JobId>::new());
		}
	}
}
