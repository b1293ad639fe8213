//! The results kept on disk, under `<state dir>/results/<job>/`:
//!
//! | file | content |
//! | --- | --- |
//! | `manifest` | SCALE bytes of the run's [`ResultManifest`] |
//! | `stdout`, `stderr` | the captured logs (what the manifest's digests cover) |
//! | `files/<name>` | each output file, exactly the (capped) bytes that were hashed |
//! | `meta` | [`StoredMeta`]: the job's owner, when the result was stored, until when it is kept |
//!
//! A result is written into a temporary directory (`.tmp-<job>-…`) and renamed into place, so
//! a crash leaves no half result; leftover temporary directories are removed when the store
//! is opened. Files are read-only. A result is kept for the configured retention, and the
//! store keeps within a disk budget by removing the oldest results of the owner that holds
//! the most bytes first ([`evictions`]): one customer's flood evicts its own results.

use std::{
	collections::{BTreeMap, VecDeque},
	fs,
	io::Write,
	os::unix::fs::{OpenOptionsExt, PermissionsExt},
	path::{Path, PathBuf},
	sync::Mutex,
};

use codec::{Decode, Encode};
use povm_primitives::results::ResultManifest;

use crate::{executor::Execution, prelude::*};

/// Format byte of the `meta` file.
const META_FORMAT: u8 = 1;
/// Prefix of temporary result directories.
const TMP_PREFIX: &str = ".tmp-";
/// `O_NOFOLLOW` on Linux.
const O_NOFOLLOW: i32 = 0o400000;

/// A failed result store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// A file system operation failed.
	#[error("result store: {path}: {source}")]
	Io {
		/// The file or directory.
		path: String,
		/// Why.
		source: std::io::Error,
	},
	/// A stored file is not what the store writes.
	#[error("result store: {path} is corrupt: {message}")]
	Corrupt {
		/// The file.
		path: String,
		/// What is wrong.
		message: String,
	},
	/// The result alone is larger than the store's disk budget.
	#[error("result of job {job} has {bytes} bytes, more than the store's budget of {budget}")]
	TooLarge {
		/// The job.
		job: JobId,
		/// Its size.
		bytes: u64,
		/// The budget.
		budget: u64,
	},
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
	move |source| StoreError::Io { path: path.display().to_string(), source }
}

/// The `meta` file of a stored result.
#[derive(Clone, Copy, Debug, Encode, Decode, PartialEq, Eq)]
pub struct StoredMeta {
	/// The job owner's account: only it may read the result.
	pub owner: [u8; 32],
	/// When the result was stored (unix seconds).
	pub stored_at: u64,
	/// When it is removed (unix seconds); it is not served from then on.
	pub expires_at: u64,
	/// Bytes of its files (logs, output files, manifest).
	pub bytes: u64,
}

/// One part of a stored result, as requested (`item` of the fetch protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
	/// `manifest`: the SCALE bytes of the [`ResultManifest`].
	Manifest,
	/// `stdout`.
	Stdout,
	/// `stderr`.
	Stderr,
	/// `files/<name>`: an output file.
	File(String),
}

impl Item {
	/// The item of a (decoded) request item text; `None` if it names no item of a result,
	/// including a file name that is not a plain name ([`is_plain_name`]).
	pub fn parse(item: &str) -> Option<Self> {
		match item {
			"manifest" => Some(Self::Manifest),
			"stdout" => Some(Self::Stdout),
			"stderr" => Some(Self::Stderr),
			_ => item
				.strip_prefix("files/")
				.filter(|name| is_plain_name(name))
				.map(|name| Self::File(name.to_owned())),
		}
	}
}

/// Whether `name` is a plain file name: the protocol's rule,
/// [`povm_primitives::results::is_result_file_name`].
pub fn is_plain_name(name: &str) -> bool {
	povm_primitives::results::is_result_file_name(name.as_bytes())
}

/// A stored result as listed: its job and meta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
	/// The job.
	pub job: JobId,
	/// Its meta.
	pub meta: StoredMeta,
}

/// The results to remove: every result expired at `now`, then, while the rest and `incoming`
/// more bytes (a result of `incoming_owner`) exceed `budget` bytes, the oldest result of the
/// owner holding the most bytes (ties: the lower account). So a customer who floods the store
/// with large results evicts its own before anyone else's: another owner's result is cut
/// short of its retention only when that owner holds more than the flooder. Pure.
pub fn evictions(
	stored: &[Stored],
	now: u64,
	budget: u64,
	incoming: u64,
	incoming_owner: Option<[u8; 32]>,
) -> Vec<JobId> {
	let (expired, mut live): (Vec<&Stored>, Vec<&Stored>) =
		stored.iter().partition(|s| s.meta.expires_at <= now);
	let mut out: Vec<JobId> = expired.iter().map(|s| s.job).collect();
	out.sort_unstable();
	let mut total = live.iter().fold(incoming, |sum, s| sum.saturating_add(s.meta.bytes));
	if total <= budget {
		return out
	}
	// Each owner's bytes (the incoming result counted, though it cannot be evicted) and its
	// stored results, oldest first.
	live.sort_by_key(|s| (s.meta.stored_at, s.job));
	let mut owners: BTreeMap<[u8; 32], (u64, VecDeque<&Stored>)> = BTreeMap::new();
	for s in live {
		let (bytes, queue) = owners.entry(s.meta.owner).or_default();
		*bytes = bytes.saturating_add(s.meta.bytes);
		queue.push_back(s);
	}
	if let Some(owner) = incoming_owner {
		let (bytes, _) = owners.entry(owner).or_default();
		*bytes = bytes.saturating_add(incoming);
	}
	while total > budget {
		// The heaviest owner with a stored result (ties: the lower account).
		let Some(owner) = owners
			.iter()
			.filter(|(_, (_, queue))| !queue.is_empty())
			.max_by(|(a, (a_bytes, _)), (b, (b_bytes, _))| a_bytes.cmp(b_bytes).then(b.cmp(a)))
			.map(|(owner, _)| *owner)
		else {
			break
		};
		let Some((bytes, queue)) = owners.get_mut(&owner) else { break };
		let Some(victim) = queue.pop_front() else { break };
		*bytes = bytes.saturating_sub(victim.meta.bytes);
		total = total.saturating_sub(victim.meta.bytes);
		out.push(victim.job);
	}
	out
}

/// What [`ResultStore::prune`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
	/// The removed results' jobs.
	pub jobs: Vec<JobId>,
	/// Bytes freed.
	pub bytes: u64,
}

/// An opened part of a stored result.
#[derive(Debug)]
pub struct Opened {
	/// The file, opened read-only without following symlinks.
	pub file: fs::File,
	/// Its length in bytes.
	pub len: u64,
}

/// The results on disk.
#[derive(Debug)]
pub struct ResultStore {
	dir: PathBuf,
	retention_secs: u64,
	budget: u64,
	/// Held by writers and pruning, so that evictions see every stored result.
	write: Mutex<()>,
}

impl ResultStore {
	/// Opens (creating) the store under `<state_dir>/results`, keeping results for
	/// `retention_secs` within `budget` bytes; removes leftover temporary directories.
	pub fn open(state_dir: &Path, retention_secs: u64, budget: u64) -> Result<Self, StoreError> {
		let dir = state_dir.join("results");
		fs::create_dir_all(&dir).map_err(io(&dir))?;
		for entry in fs::read_dir(&dir).map_err(io(&dir))? {
			let entry = entry.map_err(io(&dir))?;
			if entry.file_name().to_str().is_some_and(|n| n.starts_with(TMP_PREFIX)) {
				let path = entry.path();
				remove_tree(&path)?;
			}
		}
		Ok(Self { dir, retention_secs, budget, write: Mutex::new(()) })
	}

	/// The directory of `job`'s result.
	fn path(&self, job: JobId) -> PathBuf {
		self.dir.join(job.to_string())
	}

	/// Stores the result of `exec`, a run of `job` owned by `owner`, at `now` (unix seconds),
	/// replacing an earlier one of the job; first removes expired results and, beyond the
	/// budget, the oldest ones of the heaviest owners ([`evictions`]).
	pub fn put(
		&self,
		job: JobId,
		owner: [u8; 32],
		exec: &Execution,
		now: u64,
	) -> Result<StoredMeta, StoreError> {
		let manifest = exec.manifest().encode();
		let bytes = [manifest.len(), exec.stdout.len(), exec.stderr.len()]
			.into_iter()
			.chain(exec.outputs.iter().map(|o| o.content.len()))
			.map(|n| n as u64)
			.sum::<u64>();
		if bytes > self.budget {
			return Err(StoreError::TooLarge { job, bytes, budget: self.budget });
		}
		let meta = StoredMeta {
			owner,
			stored_at: now,
			expires_at: now.saturating_add(self.retention_secs),
			bytes,
		};
		let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
		let others: Vec<Stored> = self.list()?.into_iter().filter(|s| s.job != job).collect();
		for evicted in evictions(&others, now, self.budget, bytes, Some(owner)) {
			self.remove(evicted)?;
		}
		let tmp = self.dir.join(format!("{TMP_PREFIX}{job}-{}", std::process::id()));
		let written = write_result(&tmp, &manifest, exec, &meta);
		if let Err(e) = written {
			let _ = remove_tree(&tmp);
			return Err(e);
		}
		let path = self.path(job);
		self.remove(job)?;
		fs::rename(&tmp, &path).map_err(|e| {
			let _ = remove_tree(&tmp);
			io(&path)(e)
		})?;
		if let Ok(d) = fs::File::open(&self.dir) {
			let _ = d.sync_all();
		}
		Ok(meta)
	}

	/// The meta of `job`'s result, if one is stored.
	pub fn meta(&self, job: JobId) -> Result<Option<StoredMeta>, StoreError> {
		let path = self.path(job).join("meta");
		let bytes = match fs::read(&path) {
			Ok(b) => b,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(io(&path)(e)),
		};
		let corrupt = |message: &str| StoreError::Corrupt {
			path: path.display().to_string(),
			message: message.into(),
		};
		match bytes.split_first() {
			Some((&META_FORMAT, mut rest)) => {
				let meta = StoredMeta::decode(&mut rest).map_err(|_| corrupt("not SCALE"))?;
				if !rest.is_empty() {
					return Err(corrupt("trailing bytes"));
				}
				Ok(Some(meta))
			},
			_ => Err(corrupt("unknown format")),
		}
	}

	/// The stored manifest of `job`, if a result is stored.
	pub fn manifest(&self, job: JobId) -> Result<Option<ResultManifest>, StoreError> {
		let path = self.path(job).join("manifest");
		match fs::read(&path) {
			Ok(bytes) => ResultManifest::decode_canonical(&bytes).map(Some).map_err(|e| {
				StoreError::Corrupt { path: path.display().to_string(), message: format!("{e:?}") }
			}),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(io(&path)(e)),
		}
	}

	/// Opens `item` of `job`'s result; `None` when the result or the item is not stored. A
	/// file is looked up in the stored manifest before anything is opened, and opened without
	/// following symlinks.
	pub fn open_item(&self, job: JobId, item: &Item) -> Result<Option<Opened>, StoreError> {
		let dir = self.path(job);
		let path = match item {
			Item::Manifest => dir.join("manifest"),
			Item::Stdout => dir.join("stdout"),
			Item::Stderr => dir.join("stderr"),
			Item::File(name) => {
				if !is_plain_name(name) {
					return Ok(None);
				}
				let Some(manifest) = self.manifest(job)? else { return Ok(None) };
				if manifest.file(name.as_bytes()).is_none() {
					return Ok(None);
				}
				dir.join("files").join(name)
			},
		};
		let file = match fs::OpenOptions::new().read(true).custom_flags(O_NOFOLLOW).open(&path) {
			Ok(f) => f,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(io(&path)(e)),
		};
		let metadata = file.metadata().map_err(io(&path))?;
		if !metadata.is_file() {
			return Ok(None);
		}
		Ok(Some(Opened { file, len: metadata.len() }))
	}

	/// The stored results (results whose meta cannot be read are left out, and logged).
	pub fn list(&self) -> Result<Vec<Stored>, StoreError> {
		let mut stored = Vec::new();
		for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
			let entry = entry.map_err(io(&self.dir))?;
			let Some(job) = entry.file_name().to_str().and_then(|n| n.parse::<JobId>().ok()) else {
				continue;
			};
			match self.meta(job) {
				Ok(Some(meta)) => stored.push(Stored { job, meta }),
				Ok(None) => {},
				Err(e) => tracing::warn!(target: LOG_SERVICE, job, "{e}"),
			}
		}
		stored.sort_by_key(|s| s.job);
		Ok(stored)
	}

	/// Removes the results expired at `now` (unix seconds), and beyond the budget the oldest
	/// ones of the heaviest owners ([`evictions`]).
	pub fn prune(&self, now: u64) -> Result<Pruned, StoreError> {
		let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
		let stored = self.list()?;
		let mut pruned = Pruned::default();
		for job in evictions(&stored, now, self.budget, 0, None) {
			self.remove(job)?;
			pruned.bytes += stored.iter().find(|s| s.job == job).map_or(0, |s| s.meta.bytes);
			pruned.jobs.push(job);
		}
		Ok(pruned)
	}

	/// Removes `job`'s result, if stored.
	pub fn remove(&self, job: JobId) -> Result<(), StoreError> {
		remove_tree(&self.path(job))
	}
}

/// Removes the directory `path` and everything in it; nothing there is fine.
fn remove_tree(path: &Path) -> Result<(), StoreError> {
	match fs::remove_dir_all(path) {
		Ok(()) => Ok(()),
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
		Err(e) => Err(io(path)(e)),
	}
}

/// Writes a result into the new directory `dir` (read-only files, fsynced).
fn write_result(
	dir: &Path,
	manifest: &[u8],
	exec: &Execution,
	meta: &StoredMeta,
) -> Result<(), StoreError> {
	// A directory left by a crashed write of the same job in this process is replaced.
	remove_tree(dir)?;
	let files = dir.join("files");
	fs::create_dir_all(&files).map_err(io(&files))?;
	let mut meta_bytes = vec![META_FORMAT];
	meta.encode_to(&mut meta_bytes);
	write_file(&dir.join("manifest"), manifest)?;
	write_file(&dir.join("stdout"), &exec.stdout)?;
	write_file(&dir.join("stderr"), &exec.stderr)?;
	for output in &exec.outputs {
		// The executor only collects regular files at the top of the output directory, so
		// their names are plain; checked again rather than trusted.
		if !is_plain_name(&output.name) {
			return Err(StoreError::Corrupt {
				path: files.display().to_string(),
				message: format!("output name {:?} is not a plain file name", output.name),
			});
		}
		write_file(&files.join(&output.name), &output.content)?;
	}
	write_file(&dir.join("meta"), &meta_bytes)?;
	for d in [&files, dir] {
		fs::File::open(d).and_then(|f| f.sync_all()).map_err(io(d))?;
	}
	Ok(())
}

/// Writes `bytes` to the new file `path`, fsyncs it and makes it read-only.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
	let write = || -> std::io::Result<()> {
		let mut f = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
		f.write_all(bytes)?;
		f.set_permissions(fs::Permissions::from_mode(0o444))?;
		f.sync_all()
	};
	write().map_err(io(path))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		attestation::blake2_256,
		executor::{OutputFile, Usage},
	};

	fn meta(stored_at: u64, expires_at: u64, bytes: u64) -> StoredMeta {
		StoredMeta { owner: [1; 32], stored_at, expires_at, bytes }
	}

	fn stored(job: JobId, stored_at: u64, bytes: u64) -> Stored {
		Stored { job, meta: meta(stored_at, stored_at + 100, bytes) }
	}

	pub(crate) fn exec() -> Execution {
		let file = |name: &str, content: &[u8]| OutputFile {
			name: name.into(),
			content: content.to_vec(),
			digest: blake2_256(content),
		};
		Execution {
			exit_code: 0,
			flags: Default::default(),
			stdout: b"hello\n".to_vec(),
			stderr: b"warning\n".to_vec(),
			outputs: vec![file("summary.json", b"{\"ok\":true}"), file("data.bin", &[7; 100])],
			checkpoints: vec![],
			usage: Usage::default(),
		}
	}

	#[test]
	fn evictions_take_the_expired_then_the_oldest_beyond_the_budget() {
		let all = [stored(3, 30, 10), stored(1, 10, 10), stored(2, 20, 10)];
		assert_eq!(evictions(&all, 50, 30, 0, None), Vec::<JobId>::new(), "all fit");
		assert_eq!(evictions(&all, 50, 30, 1, None), vec![1], "the oldest makes room");
		assert_eq!(evictions(&all, 50, 30, 15, None), vec![1, 2]);
		assert_eq!(evictions(&all, 50, 5, 5, None), vec![1, 2, 3]);
		assert_eq!(evictions(&all, 50, 30, 1, Some([1; 32])), vec![1], "same owner: its oldest");
		// Expired at 115 (stored at 10, kept 100): removed whatever the budget.
		assert_eq!(evictions(&all, 110, 1000, 0, None), vec![1]);
		assert_eq!(evictions(&all, 120, 1000, 0, None), vec![1, 2]);
		// An expired result's bytes are not counted against the others.
		assert_eq!(evictions(&all, 110, 20, 0, None), vec![1]);
		// Same age: the lower job id first.
		let tied = [stored(5, 10, 10), stored(4, 10, 10)];
		assert_eq!(evictions(&tied, 0, 10, 0, None), vec![4]);
	}

	#[test]
	fn a_flooding_owner_evicts_its_own_results_before_anyone_elses() {
		let of = |owner: u8, job: JobId, stored_at: u64, bytes: u64| Stored {
			job,
			meta: StoredMeta { owner: [owner; 32], stored_at, expires_at: 1_000, bytes },
		};
		// Alice's small result is the oldest; Mallory then fills the store.
		let mut all = vec![of(1, 1, 0, 10)];
		all.extend((2..=10).map(|job| of(9, job, job, 10)));
		// Mallory's next result evicts Mallory's oldest, never Alice's (the oldest overall).
		assert_eq!(evictions(&all, 50, 100, 10, Some([9; 32])), vec![2]);
		assert_eq!(evictions(&all, 50, 100, 30, Some([9; 32])), vec![2, 3, 4]);
		// A newcomer's result also makes room at the heaviest owner's expense.
		assert_eq!(evictions(&all, 50, 100, 10, Some([5; 32])), vec![2]);
		// Pruning over budget (a smaller budget after a restart) takes the heaviest first.
		assert_eq!(evictions(&all, 50, 60, 0, None), vec![2, 3, 4, 5]);
		// Alice goes only once Mallory holds no more than she does.
		let pair = [of(1, 1, 0, 10), of(9, 2, 1, 10)];
		assert_eq!(evictions(&pair, 50, 5, 0, None), vec![1, 2]);
	}

	#[test]
	fn items_and_plain_names() {
		assert_eq!(Item::parse("manifest"), Some(Item::Manifest));
		assert_eq!(Item::parse("stdout"), Some(Item::Stdout));
		assert_eq!(Item::parse("stderr"), Some(Item::Stderr));
		assert_eq!(Item::parse("files/a b.json"), Some(Item::File("a b.json".into())));
		for bad in ["", "meta", "files/", "files/..", "files/.", "files/a/b", "files/a\0", "files"]
		{
			assert_eq!(Item::parse(bad), None, "{bad:?}");
		}
		assert!(is_plain_name("..a") && is_plain_name(".hidden"));
	}

	#[test]
	fn a_result_is_stored_read_only_and_read_back() {
		let dir = tempfile::tempdir().unwrap();
		let store = ResultStore::open(dir.path(), 100, 1 << 20).unwrap();
		let e = exec();
		let meta = store.put(7, [2; 32], &e, 1_000).unwrap();
		assert_eq!((meta.owner, meta.stored_at, meta.expires_at), ([2; 32], 1_000, 1_100));
		assert_eq!(store.meta(7).unwrap(), Some(meta));
		assert_eq!(store.manifest(7).unwrap(), Some(e.manifest()));
		let read = |item: Item| {
			let mut opened = store.open_item(7, &item).unwrap().unwrap();
			let mut bytes = Vec::new();
			std::io::Read::read_to_end(&mut opened.file, &mut bytes).unwrap();
			assert_eq!(bytes.len() as u64, opened.len);
			bytes
		};
		assert_eq!(read(Item::Manifest), e.manifest().encode());
		assert_eq!(read(Item::Stdout), e.stdout);
		assert_eq!(read(Item::Stderr), e.stderr);
		assert_eq!(read(Item::File("data.bin".into())), vec![7; 100]);
		assert!(store.open_item(7, &Item::File("other".into())).unwrap().is_none());
		assert!(store.open_item(7, &Item::File("../7/meta".into())).unwrap().is_none());
		assert!(store.open_item(8, &Item::Stdout).unwrap().is_none());
		let mode = fs::metadata(dir.path().join("results/7/files/data.bin")).unwrap().permissions();
		assert_eq!(mode.mode() & 0o777, 0o444);
		let sum = e.manifest().encode().len() + 6 + 8 + 11 + 100;
		assert_eq!(meta.bytes, sum as u64);
		// Stored again: replaced.
		let again = store.put(7, [3; 32], &e, 1_050).unwrap();
		assert_eq!(store.meta(7).unwrap(), Some(again));
		assert_eq!(store.list().unwrap().len(), 1);
	}

	#[test]
	fn a_file_not_in_the_manifest_is_not_served_even_if_present() {
		let dir = tempfile::tempdir().unwrap();
		let store = ResultStore::open(dir.path(), 100, 1 << 20).unwrap();
		store.put(7, [2; 32], &exec(), 1_000).unwrap();
		let files = dir.path().join("results/7/files");
		std::os::unix::fs::symlink("/etc/hostname", files.join("link")).unwrap();
		assert!(store.open_item(7, &Item::File("link".into())).unwrap().is_none());
	}

	#[test]
	fn leftover_temporary_directories_are_removed_at_open() {
		let dir = tempfile::tempdir().unwrap();
		let left = dir.path().join("results/.tmp-9-1234/files");
		fs::create_dir_all(&left).unwrap();
		fs::write(left.join("x"), b"half").unwrap();
		let store = ResultStore::open(dir.path(), 100, 1 << 20).unwrap();
		assert!(!dir.path().join("results/.tmp-9-1234").exists());
		assert!(store.list().unwrap().is_empty());
	}

	#[test]
	fn prune_removes_expired_results_and_put_keeps_the_budget() {
		let dir = tempfile::tempdir().unwrap();
		let e = exec();
		let size = ResultStore::open(dir.path(), 100, 1 << 20)
			.unwrap()
			.put(1, [2; 32], &e, 0)
			.unwrap()
			.bytes;
		let store = ResultStore::open(dir.path(), 100, 2 * size).unwrap();
		store.put(2, [2; 32], &e, 10).unwrap();
		assert_eq!(store.list().unwrap().iter().map(|s| s.job).collect::<Vec<_>>(), vec![1, 2]);
		// A third result evicts the oldest.
		store.put(3, [2; 32], &e, 20).unwrap();
		assert_eq!(store.list().unwrap().iter().map(|s| s.job).collect::<Vec<_>>(), vec![2, 3]);
		assert_eq!(store.prune(50).unwrap(), Pruned::default());
		assert_eq!(store.prune(115).unwrap(), Pruned { jobs: vec![2], bytes: size });
		assert_eq!(store.list().unwrap().iter().map(|s| s.job).collect::<Vec<_>>(), vec![3]);
		assert!(!dir.path().join("results/2").exists());
		// Larger than the whole budget: refused, nothing removed.
		let tiny = ResultStore::open(dir.path(), 100, 10).unwrap();
		assert!(matches!(tiny.put(4, [2; 32], &e, 30), Err(StoreError::TooLarge { .. })));
		assert!(dir.path().join("results/3").exists());
	}
}
