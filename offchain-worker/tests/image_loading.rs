//! Images come from the image directory when the daemon does not have them.
//!
//! A test binary of its own: it removes the coin-flip image from the daemon, which must not
//! race with the tests that run it.

mod common;

use common::{coinflip_image, coinflip_job, executor_with, local_image};
use povm_worker::executor::{Executor, ImageSource};

#[tokio::test]
async fn absent_image_is_loaded_from_the_image_directory_then_runs() {
	let image = coinflip_image();
	let exec = executor_with("load", |_| {}).await;
	exec.client()
		.inner()
		.remove_image(
			&image.digest,
			Some(bollard::query_parameters::RemoveImageOptions {
				force: true,
				..Default::default()
			}),
			None,
		)
		.await
		.unwrap();
	assert!(exec.client().inspect_image(&image.digest).await.unwrap().is_none());

	let spec = local_image(&image.digest);
	assert_eq!(exec.ensure_image(&spec).await.unwrap(), ImageSource::Loaded);
	assert_eq!(exec.ensure_image(&spec).await.unwrap(), ImageSource::Present);

	let dir = tempfile::tempdir().unwrap();
	let run = exec.run(&coinflip_job(1, dir.path(), &["--flips", "5"])).await.unwrap();
	assert_eq!(run.exit_code, 0);
}
