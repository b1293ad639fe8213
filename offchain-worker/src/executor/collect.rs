//! Capped capture of logs and reading back the files a job wrote.

use std::{
	io::Read,
	path::{Path, PathBuf},
};

use blake2::{digest::consts::U32, Blake2b, Digest};

use super::{CheckpointFile, ExecError, OutputFile};
use crate::attestation::blake2_256;

/// A byte buffer that keeps at most `cap` bytes and remembers whether more came.
#[derive(Debug)]
pub(crate) struct CappedBuf {
	data: Vec<u8>,
	cap: usize,
	cut: bool,
}

impl CappedBuf {
	pub(crate) fn new(cap: usize) -> Self {
		Self { data: Vec::new(), cap, cut: false }
	}

	pub(crate) fn push(&mut self, bytes: &[u8]) {
		let room = self.cap - self.data.len();
		if bytes.len() > room {
			self.cut = true;
		}
		self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
	}

	/// The kept bytes and whether anything was cut.
	pub(crate) fn finish(self) -> (Vec<u8>, bool) {
		(self.data, self.cut)
	}
}

/// Regular files at the top of `dir` with UTF-8 names, sorted by name bytes. Symlinks,
/// directories and other entries are skipped: they are never followed on the host.
fn regular_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ExecError> {
	let err = |source| ExecError::Collect { path: dir.to_owned(), source };
	let mut files = Vec::new();
	for entry in std::fs::read_dir(dir).map_err(err)? {
		let entry = entry.map_err(err)?;
		// `file_type` does not follow symlinks.
		if !entry.file_type().map_err(err)?.is_file() {
			continue;
		}
		if let Ok(name) = entry.file_name().into_string() {
			files.push((name, entry.path()));
		}
	}
	files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
	Ok(files)
}

/// Opens a file without following a symlink that replaced it since it was listed.
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
	use std::os::unix::fs::OpenOptionsExt;
	// O_NOFOLLOW = 0o400000 on Linux.
	std::fs::OpenOptions::new().read(true).custom_flags(0o400000).open(path)
}

/// Reads the output files in `dir` in name order, keeping at most `cap` bytes in total.
/// Returns the files and whether any content was cut.
pub(crate) fn collect_outputs(
	dir: &Path,
	cap: usize,
) -> Result<(Vec<OutputFile>, bool), ExecError> {
	let mut left = cap;
	let mut cut = false;
	let mut outputs = Vec::new();
	for (name, path) in regular_files(dir)? {
		let err = |source| ExecError::Collect { path: path.clone(), source };
		let file = open_nofollow(&path).map_err(err)?;
		let mut content = Vec::new();
		// Read one byte past the budget to learn whether the file is longer.
		file.take(left as u64 + 1).read_to_end(&mut content).map_err(err)?;
		if content.len() > left {
			content.truncate(left);
			cut = true;
		}
		left -= content.len();
		let digest = blake2_256(&content);
		outputs.push(OutputFile { name, content, digest });
	}
	Ok((outputs, cut))
}

/// Hashes the first `cap` checkpoint files in `dir`, in name order, reading at most
/// `max_bytes` of content in total. Returns them and whether anything was left out: files
/// beyond `cap` (neither read nor hashed), or content beyond `max_bytes` (a file that crosses
/// the budget is hashed up to it, and its `size` is what was hashed).
///
/// The byte budget is the run's disk quota: no file written within it is cut, but a sparse
/// file (a large apparent size in few pages, `truncate -s 1T`) is, so the worker never reads
/// for hours past its commit deadline.
pub(crate) fn collect_checkpoints(
	dir: &Path,
	cap: usize,
	max_bytes: u64,
) -> Result<(Vec<CheckpointFile>, bool), ExecError> {
	let files = regular_files(dir)?;
	let mut cut = files.len() > cap;
	let mut left = max_bytes;
	let mut checkpoints = Vec::with_capacity(files.len().min(cap));
	for (name, path) in files.into_iter().take(cap) {
		let err = |source| ExecError::Collect { path: path.clone(), source };
		// Read one byte past the budget to learn whether the file is longer.
		let mut file = open_nofollow(&path).map_err(err)?.take(left.saturating_add(1));
		let mut hasher = Blake2b::<U32>::new();
		let mut buf = vec![0u8; 64 * 1024];
		let mut size = 0u64;
		loop {
			let n = file.read(&mut buf).map_err(err)?;
			if n == 0 {
				break;
			}
			let keep = (n as u64).min(left - size) as usize;
			if keep < n {
				cut = true;
			}
			size += keep as u64;
			hasher.update(&buf[..keep]);
		}
		left -= size;
		checkpoints.push(CheckpointFile { name, size, digest: hasher.finalize().into() });
	}
	Ok((checkpoints, cut))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn capped_buf_keeps_the_cap_and_flags_the_cut() {
		let mut b = CappedBuf::new(5);
		b.push(b"abc");
		b.push(b"def");
		b.push(b"g");
		assert_eq!(b.finish(), (b"abcde".to_vec(), true));
		let mut b = CappedBuf::new(3);
		b.push(b"abc");
		assert_eq!(b.finish(), (b"abc".to_vec(), false));
	}

	#[test]
	fn outputs_are_read_in_name_order_within_the_cap_and_symlinks_are_skipped() {
		let dir = tempfile::tempdir().unwrap();
		std::fs::write(dir.path().join("b"), b"bbbb").unwrap();
		std::fs::write(dir.path().join("a"), b"aaaa").unwrap();
		std::fs::create_dir(dir.path().join("sub")).unwrap();
		std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
		let (files, cut) = collect_outputs(dir.path(), 6).unwrap();
		let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
		assert_eq!(names, ["a", "b"]);
		assert_eq!(files[1].content, b"bb");
		assert!(cut);
		let (_, cut) = collect_outputs(dir.path(), 8).unwrap();
		assert!(!cut);
	}

	#[test]
	fn checkpoints_are_hashed_whole_in_name_order() {
		let dir = tempfile::tempdir().unwrap();
		std::fs::write(dir.path().join("cp-000002"), b"two").unwrap();
		std::fs::write(dir.path().join("cp-000001"), b"one").unwrap();
		let (cps, cut) = collect_checkpoints(dir.path(), 2, 6).unwrap();
		assert!(!cut);
		assert_eq!(cps[0].name, "cp-000001");
		assert_eq!(cps[0].digest, blake2_256(b"one"));
		assert_eq!(cps[1].size, 3);
	}

	#[test]
	fn checkpoints_beyond_the_cap_are_cut_in_name_order() {
		let dir = tempfile::tempdir().unwrap();
		for i in (0..5).rev() {
			std::fs::write(dir.path().join(format!("cp-{i:06}")), [i as u8]).unwrap();
		}
		let (cps, cut) = collect_checkpoints(dir.path(), 3, u64::MAX).unwrap();
		assert!(cut);
		let names: Vec<_> = cps.iter().map(|c| c.name.as_str()).collect();
		assert_eq!(names, ["cp-000000", "cp-000001", "cp-000002"]);
		assert_eq!(cps[2].digest, blake2_256(&[2]));
	}

	#[test]
	fn checkpoint_content_beyond_the_byte_budget_is_cut_even_in_a_sparse_file() {
		let dir = tempfile::tempdir().unwrap();
		std::fs::write(dir.path().join("cp-1"), b"12345").unwrap();
		// 1 TiB of apparent size in no blocks: only the budget is read.
		let sparse = std::fs::File::create(dir.path().join("cp-2")).unwrap();
		sparse.set_len(1 << 40).unwrap();
		std::fs::write(dir.path().join("cp-3"), b"x").unwrap();
		let (cps, cut) = collect_checkpoints(dir.path(), 10, 8).unwrap();
		assert!(cut);
		assert_eq!(cps.len(), 3);
		assert_eq!((cps[0].size, cps[0].digest), (5, blake2_256(b"12345")));
		assert_eq!((cps[1].size, cps[1].digest), (3, blake2_256(&[0, 0, 0])));
		assert_eq!((cps[2].size, cps[2].digest), (0, blake2_256(b"")));
		// Exactly at the budget is not a cut.
		let exact = tempfile::tempdir().unwrap();
		std::fs::write(exact.path().join("cp-1"), b"12345").unwrap();
		let (cps, cut) = collect_checkpoints(exact.path(), 10, 5).unwrap();
		assert!(!cut);
		assert_eq!(cps[0].size, 5);
	}
}
