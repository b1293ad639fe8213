//! The image store against the real Docker daemon and a real registry (Debian's
//! `docker-registry`, the CNCF distribution registry, installed by `scripts/setup.sh`).
//!
//! A test binary of its own: it pulls, loads and removes images. Each test starts its own
//! registry on a free loopback port with a temporary storage directory (killed when the test
//! ends) and builds its own tiny `FROM scratch` images with unique content, so that no test
//! depends on another and the provider's other images are never touched. Run with
//! `--test-threads 1`.

use std::{
	collections::HashSet,
	net::{TcpListener, TcpStream},
	os::unix::process::CommandExt,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::atomic::{AtomicU32, Ordering},
	time::{Duration, Instant},
};

use povm_worker::executor::{
	images::ImageSource, DockerClient, ImageError, ImageSpec, ImageStore, ImageStoreConfig,
	RegistryImage,
};

const PLATFORM: &str = "linux/amd64";

/// A registry serving `127.0.0.1:<port>`, killed on drop.
struct Registry {
	child: Child,
	port: u16,
	_dir: tempfile::TempDir,
}

fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
	fn start() -> Self {
		let binary = Path::new("/usr/bin/docker-registry");
		assert!(binary.is_file(), "install Debian's docker-registry (scripts/setup.sh)");
		let dir = tempfile::tempdir().unwrap();
		let port = free_port();
		let config = dir.path().join("config.yml");
		std::fs::write(
			&config,
			format!(
				"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
				 http:\n  addr: 127.0.0.1:{port}\n  secret: povm-test\n",
				dir.path().join("data").display()
			),
		)
		.unwrap();
		let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
		let mut command = Command::new(binary);
		command.arg("serve").arg(&config).stdout(Stdio::null()).stderr(log);
		// The registry dies with the test process even if the process is killed.
		unsafe {
			command.pre_exec(|| {
				libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
				Ok(())
			});
		}
		let child = command.spawn().expect("start docker-registry");
		let registry = Self { child, port, _dir: dir };
		let deadline = Instant::now() + Duration::from_secs(20);
		while TcpStream::connect(("127.0.0.1", port)).is_err() {
			assert!(Instant::now() < deadline, "registry did not listen on {port}");
			std::thread::sleep(Duration::from_millis(50));
		}
		registry
	}

	fn repository(&self, name: &str) -> String {
		format!("127.0.0.1:{}/povm/{name}", self.port)
	}
}

impl Drop for Registry {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// Runs the docker CLI (test setup only) and returns its trimmed stdout.
fn docker(args: &[&str]) -> String {
	let out = Command::new("docker")
		.args(args)
		.env("DOCKER_BUILDKIT", "0")
		.output()
		.expect("run docker");
	assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
	String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn docker_ok(args: &[&str]) -> bool {
	Command::new("docker")
		.args(args)
		.stdout(Stdio::null())
		.stderr(Stdio::null())
		.status()
		.is_ok_and(|s| s.success())
}

/// Unique, equally long file content for this process.
fn content(label: &str) -> String {
	static N: AtomicU32 = AtomicU32::new(0);
	let n = N.fetch_add(1, Ordering::Relaxed);
	format!("{label:<8}{:>12}{n:>12}\n", std::process::id())
}

/// Length of every [`content`].
const CONTENT_LEN: u64 = 33;

/// Builds a `FROM scratch` image holding `/f` with `text`, tagged `tag`; returns its ID.
fn build(tag: &str, text: &str) -> String {
	let ctx = tempfile::tempdir().unwrap();
	std::fs::write(ctx.path().join("f"), text).unwrap();
	std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\nCOPY f /f\n").unwrap();
	docker(&["build", "--quiet", "--tag", tag, &ctx.path().display().to_string()]);
	docker(&["image", "inspect", "--format", "{{.Id}}", tag])
}

/// An image in the registry.
#[derive(Clone, Debug)]
struct Pushed {
	id: String,
	repository: String,
	manifest: String,
}

impl Pushed {
	fn spec(&self) -> ImageSpec {
		ImageSpec {
			id: self.id.clone(),
			registry: Some(RegistryImage {
				repository: self.repository.clone(),
				manifest: self.manifest.clone(),
			}),
			platform: PLATFORM.to_owned(),
		}
	}
}

/// Builds an image, pushes it to `registry` and, unless `keep`, removes it from the daemon.
fn push(registry: &Registry, name: &str, keep: bool, cleanup: &mut Cleanup) -> Pushed {
	let repository = registry.repository(name);
	let tag = format!("{repository}:t");
	let id = build(&tag, &content(name));
	cleanup.0.push(id.clone());
	docker(&["push", "--quiet", &tag]);
	let digests =
		docker(&["image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", &id]);
	let manifest = digests
		.split_whitespace()
		.find_map(|d| d.strip_prefix(&format!("{repository}@")))
		.unwrap_or_else(|| panic!("no digest of {repository} in {digests:?}"))
		.to_owned();
	if !keep {
		docker(&["rmi", &tag]);
		assert!(!docker_ok(&["image", "inspect", &id]), "{id} still in the daemon");
	}
	Pushed { id, repository, manifest }
}

/// Removes the listed images (by force) when the test ends.
#[derive(Default)]
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
	fn drop(&mut self) {
		for id in &self.0 {
			let _ = Command::new("docker")
				.args(["rmi", "--force", id])
				.stdout(Stdio::null())
				.stderr(Stdio::null())
				.status();
		}
	}
}

async fn store_with(dir: &Path, budget: u64, allow_private: bool) -> ImageStore {
	let client = DockerClient::connect(Duration::from_secs(120))
		.await
		.expect("connect to Docker");
	let mut config = ImageStoreConfig::new(dir.join("images"), dir.join("index.json"), budget);
	config.allow_private_registries = allow_private;
	config.pull_timeout = Duration::from_secs(60);
	std::fs::create_dir_all(&config.image_dir).unwrap();
	ImageStore::open(client, config).await.expect("open the image store")
}

async fn store(dir: &Path, budget: u64) -> ImageStore {
	store_with(dir, budget, true).await
}

async fn present(store: &ImageStore, id: &str) -> bool {
	store.client().inspect_image(id).await.unwrap().and_then(|i| i.id).as_deref() == Some(id)
}

/// Every image of the daemon with its tags, to compare before and after.
fn daemon_images() -> Vec<String> {
	let mut list: Vec<String> =
		docker(&["images", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"])
			.lines()
			.map(str::to_owned)
			.collect();
	list.sort();
	list
}

#[tokio::test]
async fn pull_by_manifest_digest_verifies_the_id_then_is_present() {
	let registry = Registry::start();
	let mut cleanup = Cleanup::default();
	let image = push(&registry, "pull", false, &mut cleanup);
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;

	let source = store.ensure(&image.spec()).await.unwrap();
	let ImageSource::Pulled { bytes, elapsed } = source else {
		panic!("expected a pull, got {source:?}");
	};
	println!(
		"pulled {} in {:.3} s: {bytes} bytes downloaded",
		image.manifest,
		elapsed.as_secs_f64()
	);
	// No assertion on `bytes`: for a layer of a hundred bytes the daemon may report the pull
	// without any progress detail (0 counted); the 8 MiB test checks the count.
	assert!(elapsed > Duration::ZERO && elapsed < Duration::from_secs(60));
	assert!(present(&store, &image.id).await);
	assert_eq!(store.cached(), vec![(image.id.clone(), CONTENT_LEN)]);

	assert_eq!(store.ensure(&image.spec()).await.unwrap(), ImageSource::Present);
	// Present without a registry too: the daemon has it.
	let bare = ImageSpec { registry: None, ..image.spec() };
	assert_eq!(store.ensure(&bare).await.unwrap(), ImageSource::Present);

	// The index survives a restart.
	let index: serde_json::Value =
		serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
	assert_eq!(index["images"][&image.id]["size"], CONTENT_LEN);
	let reopened = store_with(dir.path(), 1 << 30, true).await;
	assert_eq!(reopened.cached(), vec![(image.id.clone(), CONTENT_LEN)]);
}

#[tokio::test]
async fn pull_figures_of_an_8_mib_image() {
	use rand::RngCore;
	let registry = Registry::start();
	let mut cleanup = Cleanup::default();
	let repository = registry.repository("big");
	let tag = format!("{repository}:t");
	let ctx = tempfile::tempdir().unwrap();
	let mut data = vec![0u8; 8 << 20];
	rand::thread_rng().fill_bytes(&mut data);
	std::fs::write(ctx.path().join("f"), &data).unwrap();
	std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\nCOPY f /f\n").unwrap();
	docker(&["build", "--quiet", "--tag", &tag, &ctx.path().display().to_string()]);
	let id = docker(&["image", "inspect", "--format", "{{.Id}}", &tag]);
	cleanup.0.push(id.clone());
	docker(&["push", "--quiet", &tag]);
	let digests =
		docker(&["image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", &id]);
	let manifest = digests
		.split_whitespace()
		.find_map(|d| d.strip_prefix(&format!("{repository}@")))
		.unwrap()
		.to_owned();
	docker(&["rmi", &tag]);
	let image = Pushed { id, repository, manifest };
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;
	let ImageSource::Pulled { bytes, elapsed } = store.ensure(&image.spec()).await.unwrap() else {
		panic!("expected a pull");
	};
	let secs = elapsed.as_secs_f64();
	println!(
		"pulled 8 MiB image: {bytes} bytes downloaded in {secs:.3} s ({:.1} MiB/s)",
		bytes as f64 / secs / f64::from(1 << 20)
	);
	assert!(bytes >= 8 << 20, "{bytes}");
	assert_eq!(store.cached(), vec![(image.id.clone(), 8 << 20)]);
}

#[tokio::test]
async fn private_registry_refused_unless_allowed() {
	let registry = Registry::start();
	let mut cleanup = Cleanup::default();
	let image = push(&registry, "private", false, &mut cleanup);
	let dir = tempfile::tempdir().unwrap();
	let store = store_with(dir.path(), 1 << 30, false).await;
	let err = store.ensure(&image.spec()).await.unwrap_err();
	assert!(matches!(err, ImageError::RegistryRefused { .. }), "{err}");
	assert_eq!(err.label(), "registry_refused");
	assert!(!present(&store, &image.id).await);
}

#[tokio::test]
async fn registry_serving_another_image_is_an_id_mismatch_and_removed() {
	let registry = Registry::start();
	let mut cleanup = Cleanup::default();
	let wanted = push(&registry, "wanted", false, &mut cleanup);
	let other = push(&registry, "other", false, &mut cleanup);
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;

	// The spec names `wanted` but the manifest digest is `other`'s.
	let spec = ImageSpec {
		registry: Some(RegistryImage {
			repository: other.repository.clone(),
			manifest: other.manifest.clone(),
		}),
		..wanted.spec()
	};
	match store.ensure(&spec).await {
		Err(ImageError::IdMismatch { expected, actual, origin }) => {
			assert_eq!(expected, wanted.id);
			assert_eq!(actual, other.id);
			assert_eq!(origin, format!("{}@{}", other.repository, other.manifest));
		},
		r => panic!("expected an id mismatch, got {r:?}"),
	}
	assert!(!present(&store, &other.id).await, "the wrongly pulled image must be removed");
	assert!(!present(&store, &wanted.id).await);
	assert!(store.cached().is_empty());

	// An image the daemon already had is not removed.
	let kept = push(&registry, "kept", true, &mut cleanup);
	let spec = ImageSpec {
		registry: Some(RegistryImage {
			repository: kept.repository.clone(),
			manifest: kept.manifest.clone(),
		}),
		..wanted.spec()
	};
	let err = store.ensure(&spec).await.unwrap_err();
	assert_eq!(err.label(), "id_mismatch", "{err}");
	assert!(present(&store, &kept.id).await, "a pre-existing image must stay");
}

#[tokio::test]
async fn pull_failures_and_unavailable() {
	let registry = Registry::start();
	let mut cleanup = Cleanup::default();
	let image = push(&registry, "fail", false, &mut cleanup);
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;

	let unknown = format!("sha256:{}", "0".repeat(64));
	let spec = ImageSpec {
		registry: Some(RegistryImage { repository: image.repository.clone(), manifest: unknown }),
		..image.spec()
	};
	let err = store.ensure(&spec).await.unwrap_err();
	println!("unknown manifest: {err}");
	assert!(matches!(err, ImageError::PullFailed { .. }), "{err}");

	let closed = format!("127.0.0.1:{}/povm/fail", free_port());
	let spec = ImageSpec {
		registry: Some(RegistryImage { repository: closed, manifest: image.manifest.clone() }),
		..image.spec()
	};
	let start = Instant::now();
	let err = store.ensure(&spec).await.unwrap_err();
	println!("unreachable registry ({:.3} s): {err}", start.elapsed().as_secs_f64());
	assert!(matches!(err, ImageError::PullFailed { .. }), "{err}");
	assert_eq!(err.label(), "pull_failed");

	let spec = ImageSpec { registry: None, ..image.spec() };
	let err = store.ensure(&spec).await.unwrap_err();
	assert!(matches!(err, ImageError::Unavailable { .. }), "{err}");

	for (repository, manifest, id, platform) in [
		("povm/fail", image.manifest.as_str(), image.id.as_str(), PLATFORM),
		(image.repository.as_str(), "latest", image.id.as_str(), PLATFORM),
		(image.repository.as_str(), image.manifest.as_str(), "povm/fail:latest", PLATFORM),
		(image.repository.as_str(), image.manifest.as_str(), image.id.as_str(), "windows/amd64"),
	] {
		let spec = ImageSpec {
			id: id.to_owned(),
			registry: Some(RegistryImage {
				repository: repository.to_owned(),
				manifest: manifest.to_owned(),
			}),
			platform: platform.to_owned(),
		};
		let err = store.ensure(&spec).await.unwrap_err();
		assert!(matches!(err, ImageError::InvalidReference { .. }), "{err}");
	}
	assert!(!present(&store, &image.id).await);
	assert!(store.cached().is_empty());
}

#[tokio::test]
async fn lru_budget_evicts_the_least_recently_used_but_not_images_in_use() {
	let registry = Registry::start();
	let mut cleanup = Cleanup::default();
	let [a, b, c] = ["lru-a", "lru-b", "lru-c"].map(|n| push(&registry, n, false, &mut cleanup));
	let dir = tempfile::tempdir().unwrap();
	// Room for two of the three images.
	let store = store(dir.path(), 2 * CONTENT_LEN).await;
	let tick = || tokio::time::sleep(Duration::from_millis(5));
	let ids = |s: &ImageStore| s.cached().into_iter().map(|(id, _)| id).collect::<Vec<_>>();

	assert!(matches!(store.ensure(&a.spec()).await.unwrap(), ImageSource::Pulled { .. }));
	tick().await;
	assert!(matches!(store.ensure(&b.spec()).await.unwrap(), ImageSource::Pulled { .. }));
	tick().await;
	// Using `a` makes `b` the least recently used.
	assert_eq!(store.ensure(&a.spec()).await.unwrap(), ImageSource::Present);
	tick().await;
	assert!(matches!(store.ensure(&c.spec()).await.unwrap(), ImageSource::Pulled { .. }));
	assert!(present(&store, &a.id).await);
	assert!(!present(&store, &b.id).await, "the least recently used image must be evicted");
	assert!(present(&store, &c.id).await);
	assert_eq!(ids(&store), [a.id.clone(), c.id.clone()]);
	tick().await;

	// A pinned image (a job about to run) is not evicted: `c` goes instead of `a`.
	{
		let _pin = store.pin(&a.id);
		assert!(matches!(store.ensure(&b.spec()).await.unwrap(), ImageSource::Pulled { .. }));
	}
	assert!(present(&store, &a.id).await, "a pinned image must stay");
	assert!(!present(&store, &c.id).await);
	assert!(present(&store, &b.id).await);
	assert_eq!(ids(&store), [a.id.clone(), b.id.clone()]);
	tick().await;

	// An image a container uses cannot be removed: the daemon refuses, the next one goes.
	let container = docker(&["create", &a.id, "/f"]);
	let pulled = store.ensure(&c.spec()).await;
	docker(&["rm", "--force", &container]);
	assert!(matches!(pulled.unwrap(), ImageSource::Pulled { .. }));
	assert!(present(&store, &a.id).await, "an image in use must stay");
	assert!(!present(&store, &b.id).await);
	assert!(present(&store, &c.id).await);
	assert_eq!(ids(&store), [a.id.clone(), c.id.clone()]);
	assert_eq!(store.cached_bytes(), 2 * CONTENT_LEN);
}

/// Saves `tag` as a `docker save` tar at `path`.
fn save(tag: &str, path: &Path) {
	docker(&["save", "--output", &path.display().to_string(), tag]);
}

fn tar_path(store: &ImageStore, id: &str) -> PathBuf {
	store
		.config()
		.image_dir
		.join(format!("{}.tar", id.strip_prefix("sha256:").unwrap()))
}

#[tokio::test]
async fn tar_of_another_image_is_refused_before_loading() {
	let mut cleanup = Cleanup::default();
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;
	// `wanted` is absent; the tar under its name holds `other`, which is absent too.
	let wanted_tag = format!("povm/images-test-wanted:{}", std::process::id());
	let wanted = build(&wanted_tag, &content("wanted"));
	cleanup.0.push(wanted.clone());
	docker(&["rmi", &wanted_tag]);
	let other_tag = format!("povm/images-test-other:{}", std::process::id());
	let other = build(&other_tag, &content("other"));
	cleanup.0.push(other.clone());
	save(&other_tag, &tar_path(&store, &wanted));
	docker(&["rmi", &other_tag]);

	let before = daemon_images();
	let spec = ImageSpec { id: wanted.clone(), registry: None, platform: PLATFORM.to_owned() };
	let err = store.ensure(&spec).await.unwrap_err();
	println!("{err}");
	match &err {
		ImageError::TarInvalid { reason, .. } => assert!(reason.contains(&other), "{reason}"),
		e => panic!("expected a refused tar, got {e}"),
	}
	// Other tests' images may come and go meanwhile: look at this tar's image and tag only.
	let mentions = |l: &String| l.contains(&other) || l.contains("povm/images-test-other");
	let added: Vec<_> = daemon_images().into_iter().filter(|l| !before.contains(l)).collect();
	assert!(!added.iter().any(mentions), "nothing may be loaded: {added:?}");
	assert!(!present(&store, &other).await);
	assert!(!docker_ok(&["image", "inspect", &other_tag]), "the tar's tag may not appear");
	assert!(store.cached().is_empty());
}

#[tokio::test]
async fn tagged_tar_loads_untagged_and_does_not_retag_provider_images() {
	let mut cleanup = Cleanup::default();
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;
	// The tar's image carries the tag that the provider's own image holds.
	let victim = format!("povm/images-test-victim:{}", std::process::id());
	let loaded = build(&victim, &content("tarred"));
	cleanup.0.push(loaded.clone());
	save(&victim, &tar_path(&store, &loaded));
	docker(&["rmi", &victim]);
	let provider = build(&victim, &content("provider"));
	cleanup.0.push(provider.clone());
	let tar_names = Command::new("tar").arg("tf").arg(tar_path(&store, &loaded)).output().unwrap();
	println!("tar entries:\n{}", String::from_utf8_lossy(&tar_names.stdout));

	let spec = ImageSpec { id: loaded.clone(), registry: None, platform: PLATFORM.to_owned() };
	assert_eq!(store.ensure(&spec).await.unwrap(), ImageSource::Loaded);
	assert_eq!(docker(&["image", "inspect", "--format", "{{.Id}}", &victim]), provider);
	assert_eq!(docker(&["image", "inspect", "--format", "{{len .RepoTags}}", &loaded]), "0");
	assert_eq!(store.cached(), vec![(loaded.clone(), CONTENT_LEN)]);
	assert_eq!(store.ensure(&spec).await.unwrap(), ImageSource::Present);
}

#[tokio::test]
async fn oci_layout_tar_is_loaded() {
	let mut cleanup = Cleanup::default();
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path(), 1 << 30).await;
	let tag = format!("povm/images-test-oci:{}", std::process::id());
	let id = build(&tag, &content("oci"));
	cleanup.0.push(id.clone());
	// Turn the `docker save` tar into an OCI layout (what skopeo or buildx write).
	let saved = dir.path().join("saved");
	std::fs::create_dir_all(&saved).unwrap();
	save(&tag, &dir.path().join("saved.tar"));
	docker(&["rmi", &tag]);
	let untar = Command::new("tar")
		.arg("xf")
		.arg(dir.path().join("saved.tar"))
		.arg("-C")
		.arg(&saved)
		.status()
		.unwrap();
	assert!(untar.success());
	let manifest: serde_json::Value =
		serde_json::from_slice(&std::fs::read(saved.join("manifest.json")).unwrap()).unwrap();
	let config = std::fs::read(saved.join(manifest[0]["Config"].as_str().unwrap())).unwrap();
	let layers: Vec<Vec<u8>> = manifest[0]["Layers"]
		.as_array()
		.unwrap()
		.iter()
		.map(|l| std::fs::read(saved.join(l.as_str().unwrap())).unwrap())
		.collect();
	let oci = dir.path().join("oci");
	std::fs::create_dir_all(oci.join("blobs/sha256")).unwrap();
	let put = |bytes: &[u8]| {
		let hex = hex::encode(sp_io::hashing::sha2_256(bytes));
		std::fs::write(oci.join("blobs/sha256").join(&hex), bytes).unwrap();
		(format!("sha256:{hex}"), bytes.len())
	};
	let (config_digest, config_size) = put(&config);
	assert_eq!(config_digest, id);
	let layer_descriptors: Vec<serde_json::Value> = layers
		.iter()
		.map(|l| {
			let (digest, size) = put(l);
			serde_json::json!({
				"mediaType": "application/vnd.oci.image.layer.v1.tar",
				"digest": digest,
				"size": size,
			})
		})
		.collect();
	let image_manifest = serde_json::to_vec(&serde_json::json!({
		"schemaVersion": 2,
		"mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": {
			"mediaType": "application/vnd.oci.image.config.v1+json",
			"digest": config_digest,
			"size": config_size,
		},
		"layers": layer_descriptors,
	}))
	.unwrap();
	let (manifest_digest, manifest_size) = put(&image_manifest);
	let index = serde_json::json!({
		"schemaVersion": 2,
		"manifests": [{
			"mediaType": "application/vnd.oci.image.manifest.v1+json",
			"digest": manifest_digest,
			"size": manifest_size,
			"annotations": { "io.containerd.image.name": format!("docker.io/{tag}") },
		}],
	});
	std::fs::write(oci.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
	std::fs::write(oci.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
	let packed = Command::new("tar")
		.arg("cf")
		.arg(tar_path(&store, &id))
		.arg("-C")
		.arg(&oci)
		.args(["oci-layout", "index.json", "blobs"])
		.status()
		.unwrap();
	assert!(packed.success());

	let before: HashSet<String> = daemon_images().into_iter().collect();
	let spec = ImageSpec { id: id.clone(), registry: None, platform: PLATFORM.to_owned() };
	assert_eq!(store.ensure(&spec).await.unwrap(), ImageSource::Loaded);
	assert!(present(&store, &id).await);
	let after: HashSet<String> = daemon_images().into_iter().collect();
	let added: Vec<_> = after
		.difference(&before)
		.filter(|l| l.contains(&id) || l.contains("povm/images-test-oci"))
		.collect();
	assert_eq!(added, [&format!("{id} <none>:<none>")], "loaded untagged, nothing else");
}
