//! Job images by reference: the image ID a job names, where to get it, and a small cache.
//!
//! [`ImageStore::ensure`] makes the image [`ImageSpec::id`] (Docker's image ID, the sha256 of
//! the image config) available to the daemon:
//!
//! 1. the daemon has an image with exactly that ID: [`ImageSource::Present`];
//! 2. else `<image_dir>/<hex>.tar` exists: it is checked and loaded (see [`ImageStore`] on how a
//!    tar is made safe to load): [`ImageSource::Loaded`];
//! 3. else the spec names a registry: `<repository>@<manifest digest>` is pulled for the
//!    spec's platform and the ID of what arrived is checked: [`ImageSource::Pulled`];
//! 4. else [`ImageError::Unavailable`].
//!
//! A registry resolves manifest digests, not image IDs, so a spec carries both: the manifest
//! digest to ask for and the image ID to verify. A registry that serves another image for the
//! digest is caught by the ID check ([`ImageError::IdMismatch`]) and what it served is removed.
//!
//! Images the store loaded or pulled itself are tracked in a JSON index file (ID, size, last
//! use) and kept within a disk budget, least recently used first out. Other images of the
//! daemon are never tracked and never removed.

use std::{
	collections::{BTreeMap, HashMap, HashSet},
	fs::File,
	io::{Read, Seek, SeekFrom},
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::docker_client::{DockerClient, DockerError, ImageRemoval};

/// Log target of the image store.
const LOG_IMAGES: &str = "povm::images";

/// The platforms a job may name.
pub const PLATFORMS: [&str; 3] = ["linux/amd64", "linux/arm64", "linux/riscv64"];

/// Largest `manifest.json` / `index.json` / OCI manifest read from an image tar.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Largest image config blob read (and hashed) from an image tar.
const MAX_CONFIG_BYTES: u64 = 8 << 20;
/// Largest extended header (PAX, GNU long name) accepted in an image tar.
const MAX_EXTENDED_HEADER: u64 = 1 << 20;
/// Most entries accepted in an image tar.
const MAX_TAR_ENTRIES: usize = 100_000;
/// Top-level files of an image tar that are never passed to the daemon: `repositories` (the
/// legacy format's tags), and the OCI layout files (their annotations name tags on newer
/// daemons). The store always gives the daemon a `manifest.json` of its own instead.
const DROPPED_ENTRIES: [&str; 3] = ["repositories", "index.json", "oci-layout"];
/// How long resolving a registry host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and what image a job runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageSpec {
	/// Image ID the worker verifies: `sha256:<64 hex>` (Docker's image ID, the config digest).
	pub id: String,
	/// Registry to pull from, if any.
	pub registry: Option<RegistryImage>,
	/// Platform: one of [`PLATFORMS`].
	pub platform: String,
}

/// An image in a registry: repository `host[:port]/path` and manifest digest `sha256:<hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegistryImage {
	/// `host[:port]/path[/path…]`, without scheme, tag or digest.
	pub repository: String,
	/// Manifest digest `sha256:<64 lower-case hex>`.
	pub manifest: String,
}

impl RegistryImage {
	/// The pull reference `<repository>@<manifest>`.
	pub fn reference(&self) -> String {
		format!("{}@{}", self.repository, self.manifest)
	}
}

/// How [`ImageStore::ensure`] got the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageSource {
	/// The daemon had it.
	Present,
	/// It was loaded from `<image_dir>/<hex>.tar`.
	Loaded,
	/// It was pulled from the spec's registry.
	Pulled {
		/// Bytes downloaded, as the daemon reported them: compressed layer sizes, layers the
		/// daemon already had count 0.
		bytes: u64,
		/// Time from the pull request to the pulled image.
		elapsed: Duration,
	},
}

/// Why an image could not be made available.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
	/// The spec is malformed (ID, repository, manifest digest or platform).
	#[error("invalid image reference {reference:?}: {reason}")]
	InvalidReference {
		/// The offending value.
		reference: String,
		/// What is wrong with it.
		reason: String,
	},
	/// The registry host is not allowed (it resolves to a non-public address).
	#[error("registry host {host} refused: {reason}")]
	RegistryRefused {
		/// Host of the repository.
		host: String,
		/// Why.
		reason: String,
	},
	/// Not in the daemon, no tar in the image directory, and no registry in the spec.
	#[error("image {id} unavailable: not in the daemon, no {}, no registry", tar.display())]
	Unavailable {
		/// The image ID.
		id: String,
		/// The tar file that was looked for.
		tar: PathBuf,
	},
	/// What was loaded or pulled has another ID than the spec's.
	#[error("image from {origin} has id {actual}, expected {expected}")]
	IdMismatch {
		/// The spec's image ID.
		expected: String,
		/// What arrived (`nothing` when no image did).
		actual: String,
		/// Tar file or pull reference.
		origin: String,
	},
	/// The image tar was refused before anything was given to the daemon.
	#[error("image tar {} refused: {reason}", path.display())]
	TarInvalid {
		/// The tar file.
		path: PathBuf,
		/// Why.
		reason: String,
	},
	/// The daemon could not pull the reference (unknown manifest, unreachable registry, wrong
	/// platform, timeout).
	#[error("pull {reference} failed: {reason}")]
	PullFailed {
		/// `<repository>@<manifest>`.
		reference: String,
		/// The daemon's message.
		reason: String,
	},
	/// The cache index file could not be written.
	#[error("image index {}: {reason}", path.display())]
	Index {
		/// The index file.
		path: PathBuf,
		/// Why.
		reason: String,
	},
	/// Another Docker operation failed.
	#[error(transparent)]
	Docker(#[from] DockerError),
}

impl ImageError {
	/// A short stable name of the variant, for metrics and logs.
	pub fn label(&self) -> &'static str {
		match self {
			Self::InvalidReference { .. } => "invalid_reference",
			Self::RegistryRefused { .. } => "registry_refused",
			Self::Unavailable { .. } => "unavailable",
			Self::IdMismatch { .. } => "id_mismatch",
			Self::TarInvalid { .. } => "tar_invalid",
			Self::PullFailed { .. } => "pull_failed",
			Self::Index { .. } => "index",
			Self::Docker(_) => "docker",
		}
	}
}

/// Settings of an [`ImageStore`].
#[derive(Clone, Debug)]
pub struct ImageStoreConfig {
	/// Directory of `<hex>.tar` image files.
	pub image_dir: PathBuf,
	/// Disk budget of the images the store loaded or pulled (their Docker `size`s).
	pub budget_bytes: u64,
	/// The JSON index of tracked images.
	pub index_path: PathBuf,
	/// Whether registries on loopback, private or link-local addresses may be used.
	pub allow_private_registries: bool,
	/// Longest a pull may take.
	pub pull_timeout: Duration,
}

impl ImageStoreConfig {
	/// Public registries only, a 10-minute pull timeout.
	pub fn new(image_dir: PathBuf, index_path: PathBuf, budget_bytes: u64) -> Self {
		Self {
			image_dir,
			budget_bytes,
			index_path,
			allow_private_registries: false,
			pull_timeout: Duration::from_secs(600),
		}
	}
}

/// One tracked image in the index.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Tracked {
	/// Docker's `size` of the image, in bytes.
	size: u64,
	/// Last use, unix milliseconds.
	last_used_ms: u64,
}

/// The index file: images the store obtained itself.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
	images: BTreeMap<String, Tracked>,
}

type Pins = Arc<Mutex<HashMap<String, usize>>>;

/// Keeps an image from being evicted while it lives (see [`ImageStore::pin`]).
#[derive(Debug)]
#[must_use = "the pin ends when this is dropped"]
pub struct ImagePin {
	pins: Pins,
	id: String,
}

impl Drop for ImagePin {
	fn drop(&mut self) {
		let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(n) = pins.get_mut(&self.id) {
			*n -= 1;
			if *n == 0 {
				pins.remove(&self.id);
			}
		}
	}
}

/// Job images: present, loaded from the image directory or pulled, within a disk budget.
///
/// **Eviction.** After each load or pull, tracked images are removed least recently used
/// first until the tracked total fits [`ImageStoreConfig::budget_bytes`], skipping the image
/// just obtained and every pinned image. Pinning is the in-use set: take an [`ImagePin`]
/// ([`ImageStore::pin`]) for a job's image before `ensure` and hold it until its container is
/// removed. Removal is Docker's plain `DELETE /images/{id}` (no force, pruning untagged
/// parents); when the daemon refuses (a container still uses the image, or someone tagged it
/// into other repositories) the image is kept and the next one tried. The image just obtained
/// is kept even if it alone exceeds the budget.
///
/// **Safe loading.** A tar in the image directory is never handed to `docker load` as is. It
/// is read first (ustar/PAX/GNU headers, no extraction) and refused unless it describes
/// exactly one image whose config blob hashes to the requested ID: a `docker save`
/// `manifest.json` with one entry, or, without one, an OCI layout whose `index.json` holds one
/// manifest (each blob checked against its digest). Duplicate entry names, absolute or `..`
/// paths and entries below a link are refused, so the blob that was hashed is the one the
/// daemon reads. The daemon then gets a rewritten stream: the same entries, byte for byte,
/// except that `manifest.json` is replaced by the store's own (the one image, `RepoTags`
/// null) and `repositories`, `index.json` and `oci-layout` are left out. Loading therefore
/// never tags anything and cannot move a tag of the provider's images (a tar tagged
/// `debian:bookworm` loads as an untagged image). The stream comes from the file handle that
/// was checked, and the ID is checked again after the load.
///
/// Rewriting rather than refusing tagged tars: `docker save` always writes `RepoTags` when
/// given a name, so refusing would reject most tars operators produce.
///
/// **Registries.** Pulls go to `<repository>@<manifest>` for the spec's platform. The host
/// must resolve to public addresses unless private registries are allowed (the daemon
/// resolves the name again itself, so this is a policy check, not a guarantee against DNS
/// rebinding).
#[derive(Debug)]
pub struct ImageStore {
	client: DockerClient,
	config: ImageStoreConfig,
	index: Mutex<Index>,
	pins: Pins,
	/// Serializes loads, pulls and evictions (presence checks run without it).
	acquire: tokio::sync::Mutex<()>,
}

impl ImageStore {
	/// Opens the store: reads the index (a missing or unreadable index starts empty) and
	/// forgets tracked images the daemon no longer has.
	pub async fn open(client: DockerClient, config: ImageStoreConfig) -> Result<Self, ImageError> {
		let mut index = match std::fs::read(&config.index_path) {
			Ok(raw) => serde_json::from_slice(&raw).unwrap_or_else(|e| {
				tracing::warn!(
					target: LOG_IMAGES,
					path = %config.index_path.display(),
					"image index unreadable, starting empty: {e}"
				);
				Index::default()
			}),
			Err(_) => Index::default(),
		};
		let ids = client.image_ids().await?;
		index.images.retain(|id, _| ids.contains(id));
		let store = Self {
			client,
			config,
			index: Mutex::new(index),
			pins: Arc::default(),
			acquire: tokio::sync::Mutex::new(()),
		};
		store.persist()?;
		Ok(store)
	}

	/// The Docker client.
	pub fn client(&self) -> &DockerClient {
		&self.client
	}

	/// The settings.
	pub fn config(&self) -> &ImageStoreConfig {
		&self.config
	}

	/// Keeps `id` from being evicted until the returned pin is dropped. Pins nest.
	pub fn pin(&self, id: &str) -> ImagePin {
		*self
			.pins
			.lock()
			.unwrap_or_else(|e| e.into_inner())
			.entry(id.to_owned())
			.or_default() += 1;
		ImagePin { pins: self.pins.clone(), id: id.to_owned() }
	}

	fn pinned(&self, id: &str) -> bool {
		self.pins.lock().unwrap_or_else(|e| e.into_inner()).contains_key(id)
	}

	/// The tracked images `(id, size in bytes)`, least recently used first.
	pub fn cached(&self) -> Vec<(String, u64)> {
		let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
		let mut list: Vec<_> = index.images.iter().map(|(id, t)| (id.clone(), *t)).collect();
		list.sort_by_key(|(_, t)| t.last_used_ms);
		list.into_iter().map(|(id, t)| (id, t.size)).collect()
	}

	/// The total size of the tracked images.
	pub fn cached_bytes(&self) -> u64 {
		self.cached().iter().map(|(_, s)| s).sum()
	}

	/// Makes the image available to the daemon (see the module docs for the order of the
	/// sources) and returns where it came from.
	pub async fn ensure(&self, spec: &ImageSpec) -> Result<ImageSource, ImageError> {
		let hex = check_image_id(&spec.id)?;
		check_platform(&spec.platform)?;
		if let Some(registry) = &spec.registry {
			check_repository(&registry.repository).map_err(|reason| {
				ImageError::InvalidReference { reference: registry.repository.clone(), reason }
			})?;
			check_image_id(&registry.manifest)?;
		}
		if self.present(&spec.id).await? {
			self.touch(&spec.id)?;
			return Ok(ImageSource::Present);
		}
		let _acquire = self.acquire.lock().await;
		// Another ensure may have obtained it while this one waited.
		if self.present(&spec.id).await? {
			self.touch(&spec.id)?;
			return Ok(ImageSource::Present);
		}
		let tar = self.config.image_dir.join(format!("{hex}.tar"));
		let source = if tar.is_file() {
			self.load(&spec.id, &tar).await?;
			tracing::info!(target: LOG_IMAGES, id = %spec.id, tar = %tar.display(), "image loaded");
			ImageSource::Loaded
		} else if let Some(registry) = &spec.registry {
			let source = self.pull(spec, registry).await?;
			if let ImageSource::Pulled { bytes, elapsed } = source {
				tracing::info!(
					target: LOG_IMAGES,
					id = %spec.id,
					reference = %registry.reference(),
					bytes,
					ms = elapsed.as_millis() as u64,
					"image pulled"
				);
			}
			source
		} else {
			return Err(ImageError::Unavailable { id: spec.id.clone(), tar });
		};
		let size = self
			.client
			.inspect_image(&spec.id)
			.await?
			.and_then(|i| i.size)
			.map_or(0, |s| u64::try_from(s).unwrap_or(0));
		self.index
			.lock()
			.unwrap_or_else(|e| e.into_inner())
			.images
			.insert(spec.id.clone(), Tracked { size, last_used_ms: now_ms() });
		self.persist()?;
		self.evict(&spec.id).await?;
		Ok(source)
	}

	/// Whether the registry host may be used: when private registries are not allowed, it
	/// must resolve, and only to addresses [`crate::fetch::address_allowed`] accepts
	/// (globally reachable unicast).
	pub async fn host_allowed(&self, host: &str, port: u16) -> Result<(), ImageError> {
		if self.config.allow_private_registries {
			return Ok(());
		}
		let refused =
			|reason: String| ImageError::RegistryRefused { host: host.to_owned(), reason };
		let name = host.trim_start_matches('[').trim_end_matches(']');
		let addrs = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
			.await
			.map_err(|_| refused("resolving timed out".to_owned()))?
			.map_err(|e| refused(format!("cannot resolve: {e}")))?;
		let mut any = false;
		for addr in addrs {
			any = true;
			if !crate::fetch::address_allowed(addr.ip(), false) {
				return Err(refused(format!("resolves to the non-public address {}", addr.ip())));
			}
		}
		if !any {
			return Err(refused("resolves to no address".to_owned()));
		}
		Ok(())
	}

	async fn present(&self, id: &str) -> Result<bool, ImageError> {
		Ok(self.client.inspect_image(id).await?.and_then(|i| i.id).as_deref() == Some(id))
	}

	fn touch(&self, id: &str) -> Result<(), ImageError> {
		let touched = match self.index.lock().unwrap_or_else(|e| e.into_inner()).images.get_mut(id)
		{
			Some(t) => {
				t.last_used_ms = now_ms().max(t.last_used_ms);
				true
			},
			None => false,
		};
		if touched {
			self.persist()?;
		}
		Ok(())
	}

	/// Writes the index (to a temporary file, then renamed over the index).
	fn persist(&self) -> Result<(), ImageError> {
		let path = &self.config.index_path;
		let err = |e: &dyn std::fmt::Display| ImageError::Index {
			path: path.clone(),
			reason: e.to_string(),
		};
		let raw = {
			let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
			serde_json::to_vec_pretty(&*index).map_err(|e| err(&e))?
		};
		if let Some(dir) = path.parent() {
			std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
		}
		let tmp = path.with_extension("json.tmp");
		std::fs::write(&tmp, raw).map_err(|e| err(&e))?;
		std::fs::rename(&tmp, path).map_err(|e| err(&e))
	}

	/// Removes tracked images, least recently used first, until the total fits the budget.
	async fn evict(&self, keep: &str) -> Result<(), ImageError> {
		let candidates: Vec<(String, u64)> = self.cached();
		let mut total: u64 = candidates.iter().map(|(_, s)| s).sum();
		for (id, size) in candidates {
			if total <= self.config.budget_bytes {
				break;
			}
			if id == keep || self.pinned(&id) {
				continue;
			}
			match self.client.remove_image(&id).await {
				Ok(ImageRemoval::Removed) | Ok(ImageRemoval::NotFound) => {
					tracing::info!(target: LOG_IMAGES, %id, size, "image evicted");
					self.index.lock().unwrap_or_else(|e| e.into_inner()).images.remove(&id);
					self.persist()?;
					total -= size;
				},
				Ok(ImageRemoval::Conflict(message)) => {
					tracing::debug!(target: LOG_IMAGES, %id, "image kept: {message}");
				},
				Err(e) => {
					tracing::warn!(target: LOG_IMAGES, %id, "image not evicted: {e}");
				},
			}
		}
		if total > self.config.budget_bytes {
			tracing::warn!(
				target: LOG_IMAGES,
				total,
				budget = self.config.budget_bytes,
				"image cache over budget: the remaining images are in use"
			);
		}
		Ok(())
	}

	async fn pull(
		&self,
		spec: &ImageSpec,
		registry: &RegistryImage,
	) -> Result<ImageSource, ImageError> {
		let reference = registry.reference();
		let (host, port) = split_host(&registry.repository);
		self.host_allowed(host, port.unwrap_or(443)).await?;
		let failed =
			|reason: String| ImageError::PullFailed { reference: reference.clone(), reason };
		let before = self.client.image_ids().await?;
		let start = Instant::now();
		let bytes = match tokio::time::timeout(
			self.config.pull_timeout,
			self.client.pull_image_for(&reference, &spec.platform),
		)
		.await
		{
			Err(_) => return Err(failed(format!("timed out after {:?}", self.config.pull_timeout))),
			Ok(Err(DockerError::PullImage { source, .. })) =>
				return Err(failed(source.to_string())),
			Ok(Err(e)) => return Err(e.into()),
			Ok(Ok(bytes)) => bytes,
		};
		let elapsed = start.elapsed();
		let actual = self.client.inspect_image(&reference).await?.and_then(|i| i.id);
		if actual.as_deref() != Some(spec.id.as_str()) {
			if let Some(actual) = &actual {
				if before.contains(actual) {
					tracing::warn!(
						target: LOG_IMAGES,
						%reference,
						%actual,
						"registry served another image, which the daemon already had: kept"
					);
				} else {
					match self.client.remove_image(actual).await {
						Ok(_) => {},
						Err(e) => tracing::warn!(
							target: LOG_IMAGES,
							%actual,
							"wrongly pulled image not removed: {e}"
						),
					}
				}
			}
			return Err(ImageError::IdMismatch {
				expected: spec.id.clone(),
				actual: actual.unwrap_or_else(|| "nothing".to_owned()),
				origin: reference,
			});
		}
		Ok(ImageSource::Pulled { bytes, elapsed })
	}

	/// Checks the tar, then loads the rewritten stream (see [`ImageStore`]).
	async fn load(&self, id: &str, tar: &Path) -> Result<(), ImageError> {
		let invalid = |reason: String| ImageError::TarInvalid { path: tar.to_owned(), reason };
		let (path, want) = (tar.to_owned(), id.to_owned());
		let plan = tokio::task::spawn_blocking(move || plan_load(&path, &want))
			.await
			.map_err(|e| invalid(format!("checking task failed: {e}")))?
			.map_err(invalid)?;
		let before = self.client.image_ids().await?;
		let (reader, writer) = tokio::io::duplex(256 * 1024);
		let feeder = tokio::spawn(feed(plan, writer));
		let origin = tar.display().to_string();
		let loaded = self.client.load_image_from(&origin, reader).await;
		let fed = feeder.await.map_err(|e| invalid(format!("feeding task failed: {e}")))?;
		if let Err(e) = fed {
			// A broken pipe only means the daemon stopped reading: its error says why.
			if e.kind() != std::io::ErrorKind::BrokenPipe || loaded.is_ok() {
				return Err(invalid(format!("reading: {e}")));
			}
		}
		let loaded = loaded?;
		if self.present(id).await? {
			return Ok(());
		}
		let mut actual = Vec::new();
		for name in &loaded {
			let Some(got) = self.client.inspect_image(name).await?.and_then(|i| i.id) else {
				continue;
			};
			if !before.contains(&got) {
				if let Err(e) = self.client.remove_image(&got).await {
					tracing::warn!(target: LOG_IMAGES, id = %got, "wrongly loaded image not removed: {e}");
				}
			}
			actual.push(got);
		}
		Err(ImageError::IdMismatch {
			expected: id.to_owned(),
			actual: if actual.is_empty() { "nothing".to_owned() } else { actual.join(", ") },
			origin,
		})
	}
}

fn now_ms() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Checks `sha256:<64 lower-case hex>` and returns the hex.
fn check_image_id(id: &str) -> Result<&str, ImageError> {
	id.strip_prefix("sha256:")
		.filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
		.ok_or_else(|| ImageError::InvalidReference {
			reference: id.to_owned(),
			reason: "not sha256:<64 lower-case hex>".to_owned(),
		})
}

fn check_platform(platform: &str) -> Result<(), ImageError> {
	if PLATFORMS.contains(&platform) {
		Ok(())
	} else {
		Err(ImageError::InvalidReference {
			reference: platform.to_owned(),
			reason: format!("platform not one of {}", PLATFORMS.join(", ")),
		})
	}
}

/// Splits a checked repository into its host and port.
fn split_host(repository: &str) -> (&str, Option<u16>) {
	let host = repository.split('/').next().unwrap_or_default();
	if let Some(end) = host.find(']') {
		let port = host[end + 1..].strip_prefix(':').and_then(|p| p.parse().ok());
		return (&host[..=end], port);
	}
	match host.rsplit_once(':') {
		Some((h, p)) => (h, p.parse().ok()),
		None => (host, None),
	}
}

/// Checks a registry repository `host[:port]/path[/path…]`: a host that Docker reads as a
/// registry (with a dot or a port, `localhost`, or a bracketed IPv6 address), path components
/// of lower-case letters and digits joined by `.`, `_`, `__` or dashes (Docker's grammar), no
/// scheme, tag or digest, at most 255 bytes.
pub fn check_repository(repository: &str) -> Result<(), String> {
	if repository.is_empty() {
		return Err("empty".to_owned());
	}
	if repository.len() > 255 {
		return Err("longer than 255 bytes".to_owned());
	}
	if repository.contains("://") {
		return Err("a scheme is not allowed".to_owned());
	}
	if repository.contains('@') {
		return Err("a digest is not allowed (it goes in the manifest field)".to_owned());
	}
	let Some((host, path)) = repository.split_once('/') else {
		return Err("no path: expected host[:port]/path".to_owned());
	};
	check_host(host)?;
	for component in path.split('/') {
		if component.contains(':') {
			return Err("a tag is not allowed".to_owned());
		}
		if !path_component_ok(component) {
			return Err(format!(
				"path component {component:?} is not lower-case [a-z0-9] joined by . _ __ or -"
			));
		}
	}
	Ok(())
}

fn check_host(host: &str) -> Result<(), String> {
	let (name, port) = if let Some(rest) = host.strip_prefix('[') {
		let (addr, after) =
			rest.split_once(']').ok_or_else(|| format!("host {host:?}: unclosed '['"))?;
		addr.parse::<std::net::Ipv6Addr>()
			.map_err(|_| format!("host {host:?}: not an IPv6 address"))?;
		let port = match after {
			"" => None,
			p => Some(p.strip_prefix(':').ok_or_else(|| format!("host {host:?}: bad port"))?),
		};
		(None, port)
	} else {
		match host.rsplit_once(':') {
			Some((n, p)) => (Some(n), Some(p)),
			None => (Some(host), None),
		}
	};
	if let Some(port) = port {
		let ok = !port.is_empty() &&
			port.len() <= 5 &&
			port.bytes().all(|b| b.is_ascii_digit()) &&
			port.parse::<u16>().is_ok_and(|p| p > 0);
		if !ok {
			return Err(format!("host {host:?}: bad port"));
		}
	}
	if let Some(name) = name {
		let label_ok = |l: &str| {
			!l.is_empty() &&
				l.len() <= 63 &&
				l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') &&
				!l.starts_with('-') &&
				!l.ends_with('-')
		};
		if !name.split('.').all(label_ok) {
			return Err(format!("host {host:?}: not a domain name or IPv4 address"));
		}
		if !name.contains('.') && port.is_none() && name != "localhost" {
			return Err(format!(
				"{host:?} is not a registry host (Docker needs a dot, a port or localhost)"
			));
		}
	}
	Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn path_component_ok(c: &str) -> bool {
	let b = c.as_bytes();
	let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
	if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
		return false;
	}
	let mut i = 0;
	while i < b.len() {
		if alnum(b[i]) {
			i += 1;
			continue;
		}
		let start = i;
		while i < b.len() && !alnum(b[i]) {
			i += 1;
		}
		let sep = &c[start..i];
		if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
			return false;
		}
	}
	true
}

// ------------------------------------------------------------------------------ tar reading

/// One logical entry of a tar: its extended headers, header and data, contiguous.
#[derive(Clone, Debug)]
struct TarEntry {
	/// Normalized name (no leading `./`, no trailing `/`).
	name: String,
	/// Type flag (`b'0'` for regular files, `b'\0'` mapped to `b'0'`).
	kind: u8,
	/// Offset of the first header of the entry (extended headers included).
	start: u64,
	/// Offset of the data.
	data: u64,
	/// Size of the data.
	size: u64,
	/// Offset after the padded data.
	end: u64,
}

fn padded(size: u64) -> u64 {
	size.div_ceil(512) * 512
}

/// Parses a numeric header field: octal text, or base-256 when the high bit is set.
fn parse_number(field: &[u8]) -> Result<u64, String> {
	if field.first().is_some_and(|b| b & 0x80 != 0) {
		let mut v: u64 = u64::from(field[0] & 0x7f);
		for &b in &field[1..] {
			v = v
				.checked_mul(256)
				.and_then(|v| v.checked_add(u64::from(b)))
				.ok_or("number overflows")?;
		}
		return Ok(v);
	}
	let text: Vec<u8> =
		field.iter().copied().take_while(|&b| b != 0).filter(|&b| b != b' ').collect();
	if text.is_empty() {
		return Ok(0);
	}
	let text = std::str::from_utf8(&text).map_err(|_| "bad number".to_owned())?;
	u64::from_str_radix(text, 8).map_err(|_| format!("bad octal number {text:?}"))
}

fn cstr(field: &[u8]) -> String {
	let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
	String::from_utf8_lossy(&field[..end]).into_owned()
}

fn header_checksum_ok(h: &[u8; 512]) -> Result<bool, String> {
	let stored = parse_number(&h[148..156])?;
	let unsigned: u64 = h
		.iter()
		.enumerate()
		.map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) })
		.sum();
	let signed: i64 = h
		.iter()
		.enumerate()
		.map(|(i, &b)| if (148..156).contains(&i) { 32 } else { i64::from(b as i8) })
		.sum();
	Ok(stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed))
}

/// The `path` and `size` records of a PAX extended header.
fn parse_pax(data: &[u8]) -> Result<(Option<String>, Option<u64>), String> {
	let (mut path, mut size) = (None, None);
	let mut rest = data;
	while !rest.is_empty() {
		let space = rest.iter().position(|&b| b == b' ').ok_or("bad PAX record")?;
		let len: usize = std::str::from_utf8(&rest[..space])
			.ok()
			.and_then(|l| l.parse().ok())
			.filter(|&l| l > space && l <= rest.len())
			.ok_or("bad PAX record length")?;
		let record = &rest[space + 1..len];
		let record = record.strip_suffix(b"\n").unwrap_or(record);
		if let Some(eq) = record.iter().position(|&b| b == b'=') {
			let (key, value) = (&record[..eq], &record[eq + 1..]);
			match key {
				b"path" => path = Some(String::from_utf8_lossy(value).into_owned()),
				b"size" => {
					let v = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
					size = Some(v.ok_or("bad PAX size")?);
				},
				_ => {},
			}
		}
		rest = &rest[len..];
	}
	Ok((path, size))
}

fn normalize(name: &str) -> Result<String, String> {
	let mut n = name;
	while let Some(rest) = n.strip_prefix("./") {
		n = rest;
	}
	let n = n.trim_end_matches('/');
	if n.starts_with('/') || n.split('/').any(|c| c == "..") {
		return Err(format!("entry {name:?} escapes the archive"));
	}
	Ok(n.to_owned())
}

/// Reads the headers of a tar (without extracting anything) into its logical entries.
fn scan_tar<R: Read + Seek>(r: &mut R) -> Result<Vec<TarEntry>, String> {
	let io = |e: std::io::Error| format!("reading: {e}");
	let len = r.seek(SeekFrom::End(0)).map_err(io)?;
	let mut entries = Vec::new();
	let mut pos = 0u64;
	let mut ext_start: Option<u64> = None;
	let (mut long_name, mut pax_path, mut pax_size) = (None::<String>, None, None);
	loop {
		if pos + 512 > len {
			return Err("truncated: no end-of-archive blocks".to_owned());
		}
		let mut h = [0u8; 512];
		r.seek(SeekFrom::Start(pos)).map_err(io)?;
		r.read_exact(&mut h).map_err(io)?;
		if h.iter().all(|&b| b == 0) {
			if ext_start.is_some() {
				return Err("extended header without an entry".to_owned());
			}
			break;
		}
		if !header_checksum_ok(&h)? {
			return Err(format!("bad header checksum at offset {pos}"));
		}
		let kind = if h[156] == 0 { b'0' } else { h[156] };
		let mut size = parse_number(&h[124..136])?;
		let data = pos + 512;
		if matches!(kind, b'x' | b'g' | b'L' | b'K') {
			if size > MAX_EXTENDED_HEADER || data + size > len {
				return Err(format!("bad extended header at offset {pos}"));
			}
			let mut buf = vec![0u8; size as usize];
			r.read_exact(&mut buf).map_err(io)?;
			ext_start.get_or_insert(pos);
			match kind {
				b'x' => (pax_path, pax_size) = parse_pax(&buf)?,
				b'L' => long_name = Some(cstr(&buf)),
				_ => {},
			}
			pos = data + padded(size);
			continue;
		}
		if let Some(s) = pax_size.take() {
			size = s;
		}
		let name = match (pax_path.take(), long_name.take()) {
			(Some(p), _) | (None, Some(p)) => p,
			(None, None) => {
				let name = cstr(&h[..100]);
				let prefix =
					if &h[257..263] == b"ustar\0" { cstr(&h[345..500]) } else { String::new() };
				if prefix.is_empty() {
					name
				} else {
					format!("{prefix}/{name}")
				}
			},
		};
		let end = data + padded(size);
		if end > len {
			return Err(format!("entry {name:?} runs past the end of the file"));
		}
		entries.push(TarEntry {
			name: normalize(&name)?,
			kind,
			start: ext_start.take().unwrap_or(pos),
			data,
			size,
			end,
		});
		if entries.len() > MAX_TAR_ENTRIES {
			return Err(format!("more than {MAX_TAR_ENTRIES} entries"));
		}
		pos = end;
	}
	Ok(entries)
}

/// A ustar header of a regular file (mode 0644, owner 0, mtime 0).
fn file_header(name: &str, size: u64) -> [u8; 512] {
	fn octal(field: &mut [u8], v: u64) {
		let text = format!("{:0width$o}", v, width = field.len() - 1);
		field[..text.len()].copy_from_slice(text.as_bytes());
		field[text.len()] = 0;
	}
	let mut h = [0u8; 512];
	h[..name.len()].copy_from_slice(name.as_bytes());
	octal(&mut h[100..108], 0o644);
	octal(&mut h[108..116], 0);
	octal(&mut h[116..124], 0);
	octal(&mut h[124..136], size);
	octal(&mut h[136..148], 0);
	h[156] = b'0';
	h[257..263].copy_from_slice(b"ustar\0");
	h[263..265].copy_from_slice(b"00");
	h[148..156].fill(b' ');
	let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
	let text = format!("{sum:06o}\0 ");
	h[148..156].copy_from_slice(text.as_bytes());
	h
}

/// A whole tar entry (header and padded data) of a regular file.
fn file_entry(name: &str, content: &[u8]) -> Vec<u8> {
	let mut out = file_header(name, content.len() as u64).to_vec();
	out.extend_from_slice(content);
	out.resize(512 + padded(content.len() as u64) as usize, 0);
	out
}

/// A piece of the stream given to the daemon.
#[derive(Debug)]
enum Segment {
	/// Bytes of the tar file, copied unchanged.
	Raw { offset: u64, len: u64 },
	/// Bytes made by the store.
	Made(Vec<u8>),
}

/// A checked tar and the stream to load from it.
#[derive(Debug)]
struct LoadPlan {
	file: File,
	segments: Vec<Segment>,
}

/// The checked tar's entries, by name.
struct Archive<'a> {
	file: &'a mut File,
	entries: &'a [TarEntry],
	by_name: HashMap<&'a str, usize>,
}

impl Archive<'_> {
	fn entry(&self, name: &str) -> Result<&TarEntry, String> {
		let name = normalize(name)?;
		self.by_name
			.get(name.as_str())
			.map(|&i| &self.entries[i])
			.ok_or_else(|| format!("no entry {name:?}"))
	}

	/// The content of the regular file `name`, at most `limit` bytes.
	fn read(&mut self, name: &str, limit: u64) -> Result<Vec<u8>, String> {
		let e = self.entry(name)?.clone();
		if e.kind != b'0' && e.kind != b'7' {
			return Err(format!("{name:?} is not a regular file"));
		}
		if e.size > limit {
			return Err(format!("{name:?} is larger than {limit} bytes"));
		}
		let mut buf = vec![0u8; e.size as usize];
		self.file.seek(SeekFrom::Start(e.data)).map_err(|e| format!("reading: {e}"))?;
		self.file.read_exact(&mut buf).map_err(|e| format!("reading: {e}"))?;
		Ok(buf)
	}

	/// The blob `blobs/sha256/<hex>` of an OCI layout, checked against its digest.
	fn blob(&mut self, digest: &str, limit: u64) -> Result<Vec<u8>, String> {
		let hex = blob_hex(digest)?;
		let content = self.read(&format!("blobs/sha256/{hex}"), limit)?;
		if sha256(&content) != digest {
			return Err(format!("blob {digest} does not match its digest"));
		}
		Ok(content)
	}

	/// Fails unless a layer file exists (a regular file, or a link as legacy `docker save`
	/// writes for repeated layers).
	fn layer_exists(&self, name: &str) -> Result<(), String> {
		let e = self.entry(name)?;
		if matches!(e.kind, b'0' | b'7' | b'1' | b'2') {
			Ok(())
		} else {
			Err(format!("layer {name:?} is not a file"))
		}
	}
}

fn blob_hex(digest: &str) -> Result<&str, String> {
	digest
		.strip_prefix("sha256:")
		.filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
		.ok_or_else(|| format!("digest {digest:?} is not sha256:<64 hex>"))
}

fn sha256(data: &[u8]) -> String {
	format!("sha256:{}", hex::encode(sp_io::hashing::sha2_256(data)))
}

fn str_field<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, String> {
	v.get(key)
		.and_then(Value::as_str)
		.ok_or_else(|| format!("{what}: no string {key:?}"))
}

/// Checks that the tar at `path` holds exactly the image `id` and plans the rewritten stream
/// (see [`ImageStore`]). Errors are the reason the tar is refused.
fn plan_load(path: &Path, id: &str) -> Result<LoadPlan, String> {
	let mut file = File::open(path).map_err(|e| format!("open: {e}"))?;
	let entries = scan_tar(&mut file)?;
	let mut by_name = HashMap::new();
	for (i, e) in entries.iter().enumerate() {
		if by_name.insert(e.name.as_str(), i).is_some() {
			return Err(format!("duplicate entry {:?}", e.name));
		}
	}
	let links: HashSet<&str> = entries
		.iter()
		.filter(|e| matches!(e.kind, b'1' | b'2'))
		.map(|e| e.name.as_str())
		.collect();
	for e in &entries {
		let mut dir = e.name.as_str();
		while let Some((parent, _)) = dir.rsplit_once('/') {
			if links.contains(parent) {
				return Err(format!("entry {:?} lies below the link {parent:?}", e.name));
			}
			dir = parent;
		}
	}
	let mut archive = Archive { file: &mut file, entries: &entries, by_name };

	let (manifest, tagged) = if archive.by_name.contains_key("manifest.json") {
		let raw = archive.read("manifest.json", MAX_MANIFEST_BYTES)?;
		let mut list: Vec<serde_json::Map<String, Value>> =
			serde_json::from_slice(&raw).map_err(|e| format!("manifest.json: {e}"))?;
		if list.len() != 1 {
			return Err(format!("manifest.json holds {} images, expected exactly one", list.len()));
		}
		let image = &mut list[0];
		let config = image
			.get("Config")
			.and_then(Value::as_str)
			.ok_or("manifest.json: no Config")?
			.to_owned();
		let actual = sha256(&archive.read(&config, MAX_CONFIG_BYTES)?);
		if actual != id {
			return Err(format!("its image is {actual}, not {id}"));
		}
		let layers = image
			.get("Layers")
			.and_then(Value::as_array)
			.ok_or("manifest.json: no Layers")?;
		for layer in layers {
			archive
				.layer_exists(layer.as_str().ok_or("manifest.json: a layer is not a string")?)?;
		}
		let tagged = image.get("RepoTags").is_some_and(|t| !t.is_null());
		image.insert("RepoTags".to_owned(), Value::Null);
		(serde_json::to_vec(&list).map_err(|e| e.to_string())?, tagged)
	} else if archive.by_name.contains_key("index.json") {
		let index: Value = serde_json::from_slice(&archive.read("index.json", MAX_MANIFEST_BYTES)?)
			.map_err(|e| format!("index.json: {e}"))?;
		let descriptors = index
			.get("manifests")
			.and_then(Value::as_array)
			.ok_or("index.json: no manifests")?;
		if descriptors.len() != 1 {
			return Err(format!(
				"index.json holds {} manifests, expected exactly one",
				descriptors.len()
			));
		}
		let descriptor = &descriptors[0];
		let media = str_field(descriptor, "mediaType", "index.json")?;
		if !matches!(
			media,
			"application/vnd.oci.image.manifest.v1+json" |
				"application/vnd.docker.distribution.manifest.v2+json"
		) {
			return Err(format!("index.json names a {media}, not one image manifest"));
		}
		let manifest_digest = str_field(descriptor, "digest", "index.json")?;
		let manifest: Value =
			serde_json::from_slice(&archive.blob(manifest_digest, MAX_MANIFEST_BYTES)?)
				.map_err(|e| format!("manifest {manifest_digest}: {e}"))?;
		let config = manifest.get("config").ok_or("manifest: no config")?;
		let config_digest = str_field(config, "digest", "manifest config")?;
		let actual = sha256(&archive.blob(config_digest, MAX_CONFIG_BYTES)?);
		if actual != id {
			return Err(format!("its image is {actual}, not {id}"));
		}
		let mut layers = Vec::new();
		for layer in
			manifest.get("layers").and_then(Value::as_array).ok_or("manifest: no layers")?
		{
			let path = format!("blobs/sha256/{}", blob_hex(str_field(layer, "digest", "layer")?)?);
			archive.layer_exists(&path)?;
			layers.push(Value::String(path));
		}
		let list = serde_json::json!([{
			"Config": format!("blobs/sha256/{}", blob_hex(config_digest)?),
			"RepoTags": null,
			"Layers": layers,
		}]);
		(serde_json::to_vec(&list).map_err(|e| e.to_string())?, false)
	} else {
		return Err("neither manifest.json nor index.json".to_owned());
	};
	if tagged {
		tracing::info!(
			target: LOG_IMAGES,
			tar = %path.display(),
			"image tar names tags: loading it untagged"
		);
	}

	let manifest_entry = file_entry("manifest.json", &manifest);
	let mut segments = Vec::new();
	let mut replaced = false;
	for e in &entries {
		if e.name == "manifest.json" {
			segments.push(Segment::Made(manifest_entry.clone()));
			replaced = true;
		} else if !DROPPED_ENTRIES.contains(&e.name.as_str()) {
			segments.push(Segment::Raw { offset: e.start, len: e.end - e.start });
		}
	}
	if !replaced {
		segments.push(Segment::Made(manifest_entry));
	}
	segments.push(Segment::Made(vec![0; 1024]));
	Ok(LoadPlan { file, segments })
}

/// Writes the planned stream into `out`, reading raw pieces from the checked file handle.
async fn feed(plan: LoadPlan, mut out: tokio::io::DuplexStream) -> std::io::Result<()> {
	let mut file = tokio::fs::File::from_std(plan.file);
	for segment in plan.segments {
		match segment {
			Segment::Raw { offset, len } => {
				file.seek(SeekFrom::Start(offset)).await?;
				let copied = tokio::io::copy(&mut (&mut file).take(len), &mut out).await?;
				if copied != len {
					return Err(std::io::Error::new(
						std::io::ErrorKind::UnexpectedEof,
						"the tar shrank while loading",
					));
				}
			},
			Segment::Made(bytes) => out.write_all(&bytes).await?,
		}
	}
	out.shutdown().await
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn repository_syntax() {
		for ok in [
			"127.0.0.1:5000/povm/test",
			"registry.example.com/job",
			"registry.example.com:443/a/b/c",
			"localhost/x",
			"localhost:5000/x",
			"[::1]:5000/x",
			"ghcr.io/org/my-image_v2.1",
			"ghcr.io/org/a__b",
			"ghcr.io/org/a---b",
		] {
			assert_eq!(check_repository(ok), Ok(()), "{ok}");
		}
		let long = format!("registry.example.com/{}", "a".repeat(240));
		for (bad, why) in [
			("", "empty"),
			("povm/test", "registry host"),
			("ubuntu", "no path"),
			("https://registry.example.com/x", "scheme"),
			("registry.example.com/x:latest", "tag"),
			("registry.example.com/x@sha256:00", "digest"),
			("registry.example.com/X", "lower-case"),
			("registry.example.com/a..b", "lower-case"),
			("registry.example.com/-a", "lower-case"),
			("registry.example.com/a/", "lower-case"),
			("registry.example.com//a", "lower-case"),
			("registry.example.com:0/a", "port"),
			("registry.example.com:99999/a", "port"),
			("registry.example.com:/a", "port"),
			("reg_istry.example.com/a", "domain"),
			("[::g]:5000/a", "IPv6"),
			(long.as_str(), "255"),
		] {
			let err = check_repository(bad).expect_err(bad);
			assert!(err.contains(why), "{bad}: {err}");
		}
	}

	#[test]
	fn host_and_port_split() {
		assert_eq!(split_host("127.0.0.1:5000/povm/test"), ("127.0.0.1", Some(5000)));
		assert_eq!(split_host("ghcr.io/a"), ("ghcr.io", None));
		assert_eq!(split_host("[::1]:5000/a"), ("[::1]", Some(5000)));
		assert_eq!(split_host("[::1]/a"), ("[::1]", None));
	}

	#[test]
	fn ids_and_platforms() {
		let hex = "ab".repeat(32);
		assert_eq!(check_image_id(&format!("sha256:{hex}")).unwrap(), hex);
		assert!(check_image_id(&hex).is_err());
		assert!(check_image_id(&format!("sha256:{}", "AB".repeat(32))).is_err());
		assert!(check_platform("linux/amd64").is_ok());
		assert!(check_platform("linux/arm64").is_ok());
		assert!(check_platform("windows/amd64").is_err());
		assert_eq!(
			ImageError::Unavailable { id: String::new(), tar: PathBuf::new() }.label(),
			"unavailable"
		);
	}

	fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
		let mut out = Vec::new();
		for (name, content) in files {
			out.extend(file_entry(name, content));
		}
		out.extend([0u8; 1024]);
		out
	}

	fn plan_of(tar: &[u8], id: &str) -> Result<(Vec<u8>, Vec<TarEntry>), String> {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("x.tar");
		std::fs::write(&path, tar).unwrap();
		let plan = plan_load(&path, id)?;
		let mut out = Vec::new();
		for s in plan.segments {
			match s {
				Segment::Raw { offset, len } =>
					out.extend_from_slice(&tar[offset as usize..(offset + len) as usize]),
				Segment::Made(b) => out.extend(b),
			}
		}
		let entries = scan_tar(&mut std::io::Cursor::new(&out)).unwrap();
		Ok((out, entries))
	}

	#[test]
	fn tar_is_checked_and_rewritten_untagged() {
		let config = br#"{"architecture":"amd64"}"#;
		let id = sha256(config);
		let manifest = format!(
			r#"[{{"Config":"c.json","RepoTags":["debian:bookworm"],"Layers":["l/layer.tar"]}}]"#
		);
		let tar = tar_of(&[
			("c.json", config),
			("l/layer.tar", b"layer"),
			("manifest.json", manifest.as_bytes()),
			("repositories", br#"{"debian":{"bookworm":"x"}}"#),
		]);
		let (out, entries) = plan_of(&tar, &id).unwrap();
		let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
		assert_eq!(names, ["c.json", "l/layer.tar", "manifest.json"]);
		let m = &entries[2];
		let written: Value =
			serde_json::from_slice(&out[m.data as usize..(m.data + m.size) as usize]).unwrap();
		assert_eq!(written[0]["RepoTags"], Value::Null);
		assert_eq!(written[0]["Config"], "c.json");

		let other = sha256(b"other");
		assert!(plan_of(&tar, &other).unwrap_err().contains("not sha256:"));
		let two = tar_of(&[
			("c.json", config),
			(
				"manifest.json",
				br#"[{"Config":"c.json","Layers":[]},{"Config":"c.json","Layers":[]}]"#,
			),
		]);
		assert!(plan_of(&two, &id).unwrap_err().contains("exactly one"));
		let dup = tar_of(&[("c.json", config), ("./c.json", b"x"), ("manifest.json", b"[]")]);
		assert!(plan_of(&dup, &id).unwrap_err().contains("duplicate"));
		let escape = tar_of(&[("../c.json", config)]);
		assert!(plan_of(&escape, &id).unwrap_err().contains("escapes"));
		let mut corrupt = tar.clone();
		corrupt[0] ^= 1;
		assert!(plan_of(&corrupt, &id).unwrap_err().contains("checksum"));
		assert!(plan_of(&tar[..tar.len() - 1024], &id).unwrap_err().contains("truncated"));
	}

	#[test]
	fn oci_layout_becomes_a_docker_manifest() {
		let config = br#"{"architecture":"amd64","os":"linux"}"#;
		let id = sha256(config);
		let layer = b"layer-bytes";
		let (cfg_hex, layer_hex) = (&id[7..], sha256(layer)[7..].to_owned());
		let manifest = format!(
			r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{id}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer_hex}","size":{}}}]}}"#,
			config.len(),
			layer.len()
		);
		let manifest_digest = sha256(manifest.as_bytes());
		let index = format!(
			r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"annotations":{{"io.containerd.image.name":"docker.io/library/debian:bookworm"}}}}]}}"#,
			manifest.len()
		);
		let m_path = format!("blobs/sha256/{}", &manifest_digest[7..]);
		let c_path = format!("blobs/sha256/{cfg_hex}");
		let l_path = format!("blobs/sha256/{layer_hex}");
		let tar = tar_of(&[
			("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
			("index.json", index.as_bytes()),
			(&m_path, manifest.as_bytes()),
			(&c_path, config),
			(&l_path, layer),
		]);
		let (out, entries) = plan_of(&tar, &id).unwrap();
		let names: Vec<_> = entries.iter().map(|e| e.name.clone()).collect();
		assert_eq!(names, [m_path, c_path.clone(), l_path.clone(), "manifest.json".to_owned()]);
		let m = &entries[3];
		let written: Value =
			serde_json::from_slice(&out[m.data as usize..(m.data + m.size) as usize]).unwrap();
		assert_eq!(
			written,
			serde_json::json!([{"Config": c_path, "RepoTags": null, "Layers": [l_path]}])
		);
	}

	#[test]
	fn headers_round_trip_and_long_names() {
		let h = file_header("manifest.json", 1234);
		assert!(header_checksum_ok(&h).unwrap());
		assert_eq!(parse_number(&h[124..136]).unwrap(), 1234);
		// A GNU long name and a PAX path both name the entry that follows.
		let long = "d/".repeat(80) + "file";
		let mut tar = file_entry("././@LongLink", format!("{long}\0").as_bytes());
		tar[156] = b'L';
		tar[148..156].fill(b' ');
		let sum: u64 = tar[..512].iter().map(|&b| u64::from(b)).sum();
		tar[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
		tar.extend(file_entry("short", b"abc"));
		let record = format!("path=pax/{long}\n");
		let record = format!("{} {record}", record.len() + 4);
		let mut pax = file_entry("pax-header", record.as_bytes());
		pax[156] = b'x';
		pax[148..156].fill(b' ');
		let sum: u64 = pax[..512].iter().map(|&b| u64::from(b)).sum();
		pax[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
		let pax_start = tar.len() as u64;
		tar.extend(pax);
		tar.extend(file_entry("short2", b"de"));
		tar.extend([0u8; 1024]);
		let entries = scan_tar(&mut std::io::Cursor::new(&tar)).unwrap();
		assert_eq!(entries.len(), 2);
		assert_eq!(entries[0].name, long);
		assert_eq!((entries[0].start, entries[0].size), (0, 3));
		assert_eq!(entries[1].name, format!("pax/{long}"));
		assert_eq!(entries[1].start, pax_start);
	}
}
