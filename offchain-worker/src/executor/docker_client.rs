//! The one wrapper around bollard: one method per Docker operation, one error variant each.

use std::{
	collections::{HashMap, HashSet},
	path::Path,
	time::Duration,
};

use bollard::{
	container::{AttachContainerResults, LogOutput},
	errors::Error as BollardError,
	models::{
		ContainerCreateBody, ContainerInspectResponse, ContainerStatsResponse, ImageInspect,
		SystemInfo,
	},
	query_parameters::{
		AttachContainerOptions, CreateImageOptions, ImportImageOptions, KillContainerOptions,
		ListContainersOptions, ListImagesOptions, RemoveContainerOptions, RemoveImageOptions,
		StatsOptions, WaitContainerOptions,
	},
	Docker,
};
use futures_util::{Stream, StreamExt, TryStreamExt};
use tokio_util::io::ReaderStream;

/// Label holding the on-chain job id of a container.
pub const JOB_LABEL: &str = "org.povm.job";
/// Label holding the worker instance that owns a container (used to find orphans).
pub const WORKER_LABEL: &str = "org.povm.worker";

/// A failed Docker operation, one variant per operation, each with its context.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
	/// Connecting to the daemon or negotiating the API version failed.
	#[error("cannot connect to the Docker daemon: {0}")]
	Connect(#[source] BollardError),
	/// `GET /info` failed.
	#[error("docker info: {0}")]
	Info(#[source] BollardError),
	/// The daemon created the container but warned that part of its configuration is not
	/// applied (a limit it cannot enforce): the container was removed, the job not run.
	#[error("container for job {job} created with warnings (limits not applied): {warnings:?}")]
	CreateWarnings {
		/// The job.
		job: u64,
		/// What the daemon said.
		warnings: Vec<String>,
	},
	/// `GET /images/{name}/json` failed.
	#[error("inspect image {image}: {source}")]
	InspectImage {
		/// Image name or id.
		image: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// Reading an image tar file failed.
	#[error("open image tar {path}: {source}")]
	OpenImageTar {
		/// The tar file.
		path: String,
		/// Cause.
		#[source]
		source: std::io::Error,
	},
	/// `POST /images/load` failed.
	#[error("load image from {path}: {source}")]
	LoadImage {
		/// The tar file.
		path: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `POST /images/create` (pull) failed.
	#[error("pull image {reference}: {source}")]
	PullImage {
		/// Image reference pulled.
		reference: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `DELETE /images/{name}` failed (other than "not found" or "in use").
	#[error("remove image {image}: {source}")]
	RemoveImage {
		/// Image name or id.
		image: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `GET /images/json` failed.
	#[error("list images: {0}")]
	ListImages(#[source] BollardError),
	/// `GET /containers/json` failed.
	#[error("list containers labelled {label}: {source}")]
	ListContainers {
		/// Label filter.
		label: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `POST /containers/create` failed.
	#[error("create container for job {job}: {source}")]
	CreateContainer {
		/// Job id.
		job: u64,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `POST /containers/{id}/attach` failed.
	#[error("attach to container {container}: {source}")]
	AttachContainer {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `POST /containers/{id}/start` failed.
	#[error("start container {container}: {source}")]
	StartContainer {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `POST /containers/{id}/wait` failed.
	#[error("wait for container {container}: {source}")]
	WaitContainer {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `POST /containers/{id}/kill` failed.
	#[error("kill container {container}: {source}")]
	KillContainer {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `GET /containers/{id}/json` failed.
	#[error("inspect container {container}: {source}")]
	InspectContainer {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `GET /containers/{id}/stats` failed.
	#[error("stats of container {container}: {source}")]
	Stats {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
	/// `DELETE /containers/{id}` failed.
	#[error("remove container {container}: {source}")]
	RemoveContainer {
		/// Container id.
		container: String,
		/// Cause.
		#[source]
		source: BollardError,
	},
}

fn is_not_found(e: &BollardError) -> bool {
	matches!(e, BollardError::DockerResponseServerError { status_code: 404, .. })
}

/// What [`DockerClient::remove_image`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRemoval {
	/// The image is gone.
	Removed,
	/// The daemon did not have it.
	NotFound,
	/// The daemon refused (409), with its message: a container uses the image, or it is
	/// referenced in several repositories.
	Conflict(String),
}

/// The Docker daemon, as the executor uses it.
#[derive(Clone, Debug)]
pub struct DockerClient {
	docker: Docker,
}

impl DockerClient {
	/// Connects to the local daemon (`DOCKER_HOST` or the default socket) and negotiates the
	/// API version, so that older daemons work too. `timeout` bounds each request; it must
	/// exceed the longest job, because waiting for a container is one request.
	pub async fn connect(timeout: Duration) -> Result<Self, DockerError> {
		let docker = Docker::connect_with_local_defaults()
			.map_err(DockerError::Connect)?
			.with_timeout(timeout)
			.negotiate_version()
			.await
			.map_err(DockerError::Connect)?;
		Ok(Self { docker })
	}

	/// `GET /_ping`, bounded by `timeout`: whether the daemon answers.
	pub async fn ping(&self, timeout: Duration) -> Result<(), DockerError> {
		match tokio::time::timeout(timeout, self.docker.ping()).await {
			Ok(Ok(_)) => Ok(()),
			Ok(Err(e)) => Err(DockerError::Connect(e)),
			Err(_) => Err(DockerError::Connect(BollardError::RequestTimeoutError)),
		}
	}

	/// `GET /info`: the daemon's kernel features, security options and runtimes.
	pub async fn info(&self) -> Result<SystemInfo, DockerError> {
		self.docker.info().await.map_err(DockerError::Info)
	}

	/// The bollard handle, for tests and tools that need an operation not wrapped here.
	pub fn inner(&self) -> &Docker {
		&self.docker
	}

	/// Inspects an image; `None` when the daemon does not have it.
	pub async fn inspect_image(&self, image: &str) -> Result<Option<ImageInspect>, DockerError> {
		match self.docker.inspect_image(image).await {
			Ok(i) => Ok(Some(i)),
			Err(e) if is_not_found(&e) => Ok(None),
			Err(source) => Err(DockerError::InspectImage { image: image.to_owned(), source }),
		}
	}

	/// Loads the images in a `docker save` tar file, streaming it from disk, and returns
	/// the names or ids the daemon reports as loaded.
	pub async fn load_image(&self, tar: &Path) -> Result<Vec<String>, DockerError> {
		let path = tar.display().to_string();
		let file = tokio::fs::File::open(tar)
			.await
			.map_err(|source| DockerError::OpenImageTar { path: path.clone(), source })?;
		self.load_image_from(&path, file).await
	}

	/// Loads the images of a `docker save` tar read from `tar` (`origin` names it in errors)
	/// and returns the names or ids the daemon reports as loaded.
	pub async fn load_image_from<R>(&self, origin: &str, tar: R) -> Result<Vec<String>, DockerError>
	where
		R: tokio::io::AsyncRead + Send + 'static,
	{
		let path = origin.to_owned();
		let options = ImportImageOptions { quiet: true, ..Default::default() };
		let mut stream =
			Box::pin(self.docker.import_image_stream(options, ReaderStream::new(tar), None));
		let mut loaded = Vec::new();
		while let Some(item) = stream.next().await {
			let info =
				item.map_err(|source| DockerError::LoadImage { path: path.clone(), source })?;
			if let Some(error) = info.error_detail.and_then(|d| d.message) {
				let source = BollardError::DockerStreamError { error };
				return Err(DockerError::LoadImage { path, source });
			}
			let line = info.stream.unwrap_or_default();
			let line = line.trim();
			if let Some(name) = line
				.strip_prefix("Loaded image ID: ")
				.or_else(|| line.strip_prefix("Loaded image: "))
			{
				loaded.push(name.to_owned());
			}
		}
		Ok(loaded)
	}

	/// Pulls `reference` (for example `registry/repo@sha256:…`) from its registry.
	pub async fn pull_image(&self, reference: &str) -> Result<(), DockerError> {
		let options =
			CreateImageOptions { from_image: Some(reference.to_owned()), ..Default::default() };
		self.docker
			.create_image(Some(options), None, None)
			.try_for_each(|_| async { Ok(()) })
			.await
			.map_err(|source| DockerError::PullImage { reference: reference.to_owned(), source })
	}

	/// Pulls `reference` for `platform` (`linux/amd64`, …) and returns the bytes the daemon
	/// reported downloading: per layer, the largest `Downloading` total (compressed sizes;
	/// layers the daemon already had count 0).
	pub async fn pull_image_for(
		&self,
		reference: &str,
		platform: &str,
	) -> Result<u64, DockerError> {
		let options = CreateImageOptions {
			from_image: Some(reference.to_owned()),
			platform: platform.to_owned(),
			..Default::default()
		};
		let mut per_layer: HashMap<String, u64> = HashMap::new();
		let mut stream = Box::pin(self.docker.create_image(Some(options), None, None));
		while let Some(item) = stream.next().await {
			let info = item.map_err(|source| DockerError::PullImage {
				reference: reference.to_owned(),
				source,
			})?;
			if info.status.as_deref() == Some("Downloading") {
				if let (Some(id), Some(detail)) = (info.id, info.progress_detail) {
					let seen = detail.total.unwrap_or(0).max(detail.current.unwrap_or(0));
					let entry = per_layer.entry(id).or_default();
					*entry = (*entry).max(u64::try_from(seen).unwrap_or(0));
				}
			}
		}
		Ok(per_layer.values().sum())
	}

	/// Removes an image without force and with pruning of its untagged parents. Reports
	/// whether it was removed, already absent, or kept because the daemon refused (409: a
	/// container uses it, or it is referenced in several repositories).
	pub async fn remove_image(&self, image: &str) -> Result<ImageRemoval, DockerError> {
		let options = RemoveImageOptions { force: false, noprune: false, ..Default::default() };
		match self.docker.remove_image(image, Some(options), None).await {
			Ok(_) => Ok(ImageRemoval::Removed),
			Err(e) if is_not_found(&e) => Ok(ImageRemoval::NotFound),
			Err(BollardError::DockerResponseServerError { status_code: 409, message }) =>
				Ok(ImageRemoval::Conflict(message)),
			Err(source) => Err(DockerError::RemoveImage { image: image.to_owned(), source }),
		}
	}

	/// The ids (`sha256:…`) of all images of the daemon, intermediate ones included.
	pub async fn image_ids(&self) -> Result<HashSet<String>, DockerError> {
		let options = ListImagesOptions { all: true, ..Default::default() };
		let list = self.docker.list_images(Some(options)).await.map_err(DockerError::ListImages)?;
		Ok(list.into_iter().map(|i| i.id).collect())
	}

	/// Ids of all containers, running or not, that carry `key=value`.
	pub async fn list_labelled(&self, key: &str, value: &str) -> Result<Vec<String>, DockerError> {
		let label = format!("{key}={value}");
		let options = ListContainersOptions {
			all: true,
			filters: Some(HashMap::from([("label".to_owned(), vec![label.clone()])])),
			..Default::default()
		};
		let list = self
			.docker
			.list_containers(Some(options))
			.await
			.map_err(|source| DockerError::ListContainers { label, source })?;
		Ok(list.into_iter().filter_map(|c| c.id).collect())
	}

	/// Creates a container and returns its id.
	pub async fn create_container(
		&self,
		job: u64,
		body: ContainerCreateBody,
	) -> Result<String, DockerError> {
		let created = self
			.docker
			.create_container(None, body)
			.await
			.map_err(|source| DockerError::CreateContainer { job, source })?;
		// A warning means the daemon accepted a setting it does not apply (for example a swap
		// limit the kernel cannot account): the sandbox would not be what it claims.
		if !created.warnings.is_empty() {
			let _ = self.remove_container(&created.id).await;
			return Err(DockerError::CreateWarnings { job, warnings: created.warnings });
		}
		Ok(created.id)
	}

	/// Attaches to stdout and stderr of a created container (before it starts, so nothing
	/// is missed); the stream ends when the container exits.
	pub async fn attach_output(
		&self,
		container: &str,
	) -> Result<impl Stream<Item = Result<LogOutput, BollardError>> + Send + 'static, DockerError>
	{
		let options = AttachContainerOptions {
			stream: true,
			stdout: true,
			stderr: true,
			..Default::default()
		};
		let AttachContainerResults { output, .. } =
			self.docker.attach_container(container, Some(options)).await.map_err(|source| {
				DockerError::AttachContainer { container: container.to_owned(), source }
			})?;
		Ok(output)
	}

	/// Starts a created container.
	pub async fn start_container(&self, container: &str) -> Result<(), DockerError> {
		self.docker.start_container(container, None).await.map_err(|source| {
			DockerError::StartContainer { container: container.to_owned(), source }
		})
	}

	/// Waits until the container is not running.
	pub async fn wait_container(&self, container: &str) -> Result<(), DockerError> {
		let options = WaitContainerOptions { condition: "not-running".to_owned() };
		let mut stream = self.docker.wait_container(container, Some(options));
		while let Some(item) = stream.next().await {
			match item {
				Ok(_) => {},
				// bollard reports a non-zero exit code as an error; the code is read by inspect.
				Err(BollardError::DockerContainerWaitError { .. }) => {},
				Err(source) =>
					return Err(DockerError::WaitContainer {
						container: container.to_owned(),
						source,
					}),
			}
		}
		Ok(())
	}

	/// Sends SIGKILL to a container. A container that already stopped is not an error.
	pub async fn kill_container(&self, container: &str) -> Result<(), DockerError> {
		let options = KillContainerOptions { signal: "SIGKILL".to_owned() };
		match self.docker.kill_container(container, Some(options)).await {
			Ok(()) => Ok(()),
			// 409: the container is not running any more.
			Err(BollardError::DockerResponseServerError { status_code: 409, .. }) => Ok(()),
			Err(source) =>
				Err(DockerError::KillContainer { container: container.to_owned(), source }),
		}
	}

	/// Inspects a container.
	pub async fn inspect_container(
		&self,
		container: &str,
	) -> Result<ContainerInspectResponse, DockerError> {
		self.docker.inspect_container(container, None).await.map_err(|source| {
			DockerError::InspectContainer { container: container.to_owned(), source }
		})
	}

	/// Streams resource samples of a running container (about one a second).
	pub fn stats(
		&self,
		container: &str,
	) -> impl Stream<Item = Result<ContainerStatsResponse, DockerError>> + Send + 'static {
		let container_id = container.to_owned();
		self.docker
			.stats(container, Some(StatsOptions { stream: true, one_shot: false }))
			.map_err(move |source| DockerError::Stats { container: container_id.clone(), source })
	}

	/// Removes a container by force, with its anonymous volumes. A container that is
	/// already gone is not an error.
	pub async fn remove_container(&self, container: &str) -> Result<(), DockerError> {
		let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
		match self.docker.remove_container(container, Some(options)).await {
			Ok(()) => Ok(()),
			Err(e) if is_not_found(&e) => Ok(()),
			Err(source) =>
				Err(DockerError::RemoveContainer { container: container.to_owned(), source }),
		}
	}
}
