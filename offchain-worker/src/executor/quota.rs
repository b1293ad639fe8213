//! The run's writable storage: a tmpfs capped in bytes and in files, mounted by the worker.
//!
//! # Why a tmpfs mounted on the host
//!
//! A job must not be able to fill the host's disk or create files without end, and a job
//! that reaches a limit must get the *same* result on every honest replica. The candidates,
//! with this Docker engine (overlay2 on ext4, cgroup v1):
//!
//! - `--storage-opt size=` on the container layer and project quotas need overlay2 on XFS
//!   with `pquota` (or a quota-enabled backing file system): refused on ext4.
//! - Docker's own tmpfs mounts (`HostConfig.tmpfs`, or a `local` volume of type `tmpfs`)
//!   enforce `size=` and `nr_inodes=`, but their content is gone when the container exits,
//!   before the worker can read the results back (`docker cp` does not see them either).
//! - A loop-mounted ext4 image enforces a size, but where `ENOSPC` strikes depends on the
//!   kernel's and `mke2fs`'s allocation and reservation rules (journal, reserved clusters,
//!   delayed allocation), so two honest replicas on different hosts can cut a file at
//!   different lengths, and disagree.
//! - Watching a bind mount and killing the job when it grows is no limit: a job writes
//!   gigabytes or thousands of files between two looks.
//!
//! So the worker mounts a tmpfs itself, at `<work dir>/fs`, with `size=` (the quota, in
//! whole pages) and `nr_inodes=` (the file cap plus the three inodes of the layout), and
//! bind-mounts its `out/` and `checkpoints/` into the container. tmpfs counts exactly one
//! page per 4 KiB of data and one inode per file, directory or symlink, the same on every
//! Linux, so a job that writes past the limit gets `ENOSPC` at the same byte and the same
//! file everywhere. `huge=never` keeps huge pages (whole 2 MiB at a time) out of the count.
//! The content outlives the container, is read back, and the mount is removed.
//!
//! tmpfs lives in memory: the pages a job writes are charged to the job's memory cgroup (as
//! those of `/tmp` are), so the host gives at most `min(quota, memory limit)` of RAM per run
//! while it runs and the quota until the results are read back, and nothing of it reaches the
//! host's disk. Mounting needs `CAP_SYS_ADMIN`: the worker runs as root next to the Docker
//! daemon, in the daemon's mount namespace (the daemon must see the mount).

use std::{
	ffi::CString,
	os::unix::ffi::OsStrExt,
	path::{Path, PathBuf},
};

use super::ExecError;
use crate::prelude::LOG_EXECUTOR;

/// Inodes of the layout itself: the root, `out/` and `checkpoints/`.
const LAYOUT_INODES: u64 = 3;
/// The kernel's page size on the platforms the worker supports.
const PAGE: u64 = 4096;

fn cstring(path: &Path) -> Result<CString, std::io::Error> {
	CString::new(path.as_os_str().as_bytes())
		.map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in path"))
}

/// `mount -t tmpfs -o nosuid,nodev,noexec,<data> <source> <target>`.
fn mount_tmpfs(source: &str, target: &Path, data: &str) -> Result<(), std::io::Error> {
	let source = CString::new(source)
		.map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in source"))?;
	let target = cstring(target)?;
	let data = CString::new(data)
		.map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in options"))?;
	let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
	// SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
	let rc = unsafe {
		libc::mount(
			source.as_ptr(),
			target.as_ptr(),
			c"tmpfs".as_ptr(),
			flags,
			data.as_ptr().cast(),
		)
	};
	if rc == 0 {
		Ok(())
	} else {
		Err(std::io::Error::last_os_error())
	}
}

/// Detaches the mount at `target` (lazily, so that a straggling reader cannot keep it).
fn unmount(target: &Path) -> Result<(), std::io::Error> {
	let target = cstring(target)?;
	// SAFETY: `target` is a valid NUL-terminated string that outlives the call.
	let rc = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
	if rc == 0 {
		Ok(())
	} else {
		Err(std::io::Error::last_os_error())
	}
}

/// Free blocks and free inodes of the file system at `path`.
fn free_space(path: &Path) -> Result<(u64, u64), std::io::Error> {
	let path = cstring(path)?;
	// SAFETY: `statvfs` is plain data; all-zero is a valid value.
	let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
	// SAFETY: `path` is a valid NUL-terminated string, `st` a valid out-pointer.
	let rc = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
	if rc == 0 {
		Ok((st.f_bfree, st.f_ffree))
	} else {
		Err(std::io::Error::last_os_error())
	}
}

/// The mount source naming the runs of worker `instance` in `/proc/self/mounts`.
fn source_of(instance: &str) -> String {
	// Whitespace would be escaped in the mount table; keep the name one plain word.
	let name: String =
		instance.chars().map(|c| if c.is_ascii_graphic() { c } else { '_' }).collect();
	format!("povm-job-{name}")
}

/// The limits of a run's storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
	/// Most bytes of file content (rounded up to whole pages).
	pub bytes: u64,
	/// Most files, directories and symlinks the job can create.
	pub files: u32,
	/// Owner of `out/` and `checkpoints/`.
	pub uid: u32,
	/// Group of `out/` and `checkpoints/`.
	pub gid: u32,
}

/// A run's quota'd storage, mounted at `<work dir>/fs`; unmounted on drop.
#[derive(Debug)]
pub(crate) struct JobFs {
	root: PathBuf,
	mounted: bool,
}

impl JobFs {
	/// Mounts a fresh tmpfs at `<work_dir>/fs` (detaching whatever an earlier run of the
	/// same directory left there) with empty `out/` and `checkpoints/` owned by the job user.
	pub(crate) fn mount(work_dir: &Path, instance: &str, quota: Quota) -> Result<Self, ExecError> {
		let root = work_dir.join("fs");
		let err = |source| ExecError::JobFs { path: root.clone(), source };
		// A crashed run of this directory may have left its mount; detach it, ignore "none".
		let _ = unmount(&root);
		match std::fs::remove_dir_all(&root) {
			Ok(()) => {},
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => {},
			Err(e) => return Err(err(e)),
		}
		std::fs::create_dir_all(&root).map_err(err)?;
		let data = format!(
			"size={},nr_inodes={},mode=0755,uid=0,gid=0,huge=never",
			quota.bytes.div_ceil(PAGE).max(1) * PAGE,
			u64::from(quota.files) + LAYOUT_INODES,
		);
		mount_tmpfs(&source_of(instance), &root, &data).map_err(err)?;
		let fs = Self { root, mounted: true };
		for dir in [fs.out(), fs.checkpoints()] {
			let err = |source| ExecError::JobFs { path: dir.clone(), source };
			std::fs::create_dir(&dir).map_err(err)?;
			std::os::unix::fs::chown(&dir, Some(quota.uid), Some(quota.gid)).map_err(err)?;
		}
		Ok(fs)
	}

	/// The job's `out/` on the host.
	pub(crate) fn out(&self) -> PathBuf {
		self.root.join("out")
	}

	/// The job's `checkpoints/` on the host.
	pub(crate) fn checkpoints(&self) -> PathBuf {
		self.root.join("checkpoints")
	}

	/// Whether the job used up its bytes or its files: then some write of it may have
	/// failed, and the run is flagged (the same on every replica, tmpfs counting exactly).
	pub(crate) fn is_full(&self) -> Result<bool, ExecError> {
		let (blocks, inodes) = free_space(&self.root)
			.map_err(|source| ExecError::JobFs { path: self.root.clone(), source })?;
		Ok(blocks == 0 || inodes == 0)
	}

	/// Unmounts (the content is gone) and removes the mount point.
	pub(crate) fn unmount(mut self) -> Result<(), ExecError> {
		self.mounted = false;
		let err = |source| ExecError::JobFs { path: self.root.clone(), source };
		unmount(&self.root).map_err(err)?;
		std::fs::remove_dir(&self.root).map_err(err)
	}
}

impl Drop for JobFs {
	fn drop(&mut self) {
		if self.mounted {
			if let Err(e) = unmount(&self.root) {
				tracing::warn!(target: LOG_EXECUTOR, path = %self.root.display(), "run storage not unmounted: {e}");
			}
		}
	}
}

/// Checks that this process can mount a tmpfs (it must run as root on the Docker host), by
/// mounting and unmounting a one-page one in a temporary directory.
pub(crate) fn probe() -> Result<(), ExecError> {
	let dir = std::env::temp_dir().join(format!("povm-mount-probe-{}", std::process::id()));
	let err = |source| ExecError::JobFs { path: dir.clone(), source };
	std::fs::create_dir_all(&dir).map_err(err)?;
	let mounted = mount_tmpfs("povm-probe", &dir, "size=4096,nr_inodes=2").map_err(err);
	let unmounted = if mounted.is_ok() { unmount(&dir).map_err(err) } else { Ok(()) };
	let removed = std::fs::remove_dir(&dir).map_err(err);
	mounted.and(unmounted).and(removed)
}

/// Undoes `/proc/self/mounts` octal escapes (`\040` for a space and so on).
fn unescape(field: &str) -> PathBuf {
	let bytes = field.as_bytes();
	let mut out = Vec::with_capacity(bytes.len());
	let mut i = 0;
	while i < bytes.len() {
		let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
		match (bytes[i], octal) {
			(b'\\', Some(d)) => {
				out.push(d.iter().fold(0u8, |acc, b| acc.wrapping_mul(8).wrapping_add(b - b'0')));
				i += 4;
			},
			(b, _) => {
				out.push(b);
				i += 1;
			},
		}
	}
	PathBuf::from(std::ffi::OsStr::from_bytes(&out))
}

/// The mount points of the runs of worker `instance` listed in a mount table.
fn instance_mounts(table: &str, instance: &str) -> Vec<PathBuf> {
	let source = source_of(instance);
	table
		.lines()
		.filter_map(|line| {
			let mut fields = line.split(' ');
			let (src, target, fstype) = (fields.next()?, fields.next()?, fields.next()?);
			(src == source && fstype == "tmpfs").then(|| unescape(target))
		})
		.collect()
}

/// Unmounts every run storage of worker `instance` left by a crash; returns how many.
pub(crate) fn remove_orphan_mounts(instance: &str) -> usize {
	let Ok(table) = std::fs::read_to_string("/proc/self/mounts") else { return 0 };
	let mut removed = 0;
	for target in instance_mounts(&table, instance) {
		match unmount(&target) {
			Ok(()) => removed += 1,
			Err(e) =>
				tracing::warn!(target: LOG_EXECUTOR, path = %target.display(), "orphaned run storage not unmounted: {e}"),
		}
	}
	removed
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn mount_table_lines_of_the_instance_are_found_and_unescaped() {
		let table = "\
povm-job-w1 /var/lib/povm/runs/7/fs tmpfs rw,nosuid 0 0
povm-job-w2 /var/lib/povm/runs/8/fs tmpfs rw,nosuid 0 0
povm-job-w1 /srv/my\\040runs/9/fs tmpfs rw 0 0
povm-job-w1 /elsewhere ext4 rw 0 0
tmpfs /tmp tmpfs rw 0 0
";
		assert_eq!(
			instance_mounts(table, "w1"),
			[PathBuf::from("/var/lib/povm/runs/7/fs"), PathBuf::from("/srv/my runs/9/fs")]
		);
		assert_eq!(source_of("a b\tc"), "povm-job-a_b_c");
	}
}
