//! `povm-worker`: the PoVM provider worker daemon.

use std::{process::ExitCode, sync::Arc};

use anyhow::Context;
use clap::Parser;
use povm_worker::{
	commands::{self, register::Registered},
	config::{Config, HostInfo},
	executor::{DockerConfig, DockerExecutor},
	opt::{Command, Opt},
	prelude::*,
	prometheus::Metrics,
	results::ResultStore,
	signer::Signer,
	state::StateStore,
};
use tokio_util::sync::CancellationToken;

/// The worker's entry point (also of `povm-worker-cheat`, the network tests' cheater).
pub fn main() -> ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.with_writer(std::io::stderr)
		// Colours only on a terminal: log files stay plain text.
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.init();
	let opt = Opt::parse();
	let result = load_config(&opt).and_then(|config| {
		// Before any thread exists: the Docker client reads `DOCKER_HOST`.
		if let Some(host) = &config.docker_host {
			std::env::set_var("DOCKER_HOST", host);
		}
		let rt = tokio::runtime::Builder::new_multi_thread()
			.enable_all()
			.build()
			.context("cannot start the async runtime")?;
		rt.block_on(dispatch(opt.command, config))
	});
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e:#}");
			ExitCode::FAILURE
		},
	}
}

fn load_config(opt: &Opt) -> anyhow::Result<Config> {
	let mut config = match &opt.config {
		Some(path) => Config::load(path)?,
		None => Config::default().absolute()?,
	};
	if let Some(url) = &opt.node_url {
		config.node_url = url.clone();
	}
	Ok(config)
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
	match command {
		Command::Exec(opt) => commands::exec::exec(opt).await,
		Command::Status => {
			let signer = Signer::load(&config.key_source())?;
			let submitter = commands::connect(&config, signer, Arc::new(Metrics::new())).await?;
			print!("{}", commands::status::status(submitter.client(), submitter.account()).await?);
			Ok(())
		},
		Command::Register(opt) => {
			let signer = Signer::load(&config.key_source())?;
			let offer = config.offer(&HostInfo::measure());
			let bond = opt.bond.or(config.bond).context("no bond: pass --bond or set `bond`")?;
			if opt.dry_run {
				println!("offer {offer:?}\nbond  {bond}");
				return Ok(());
			}
			let submitter = commands::connect(&config, signer, Arc::new(Metrics::new())).await?;
			match commands::register::register(&submitter, offer, bond).await? {
				Registered::New(r) => println!("registered: {r:?}"),
				Registered::Updated(r) => println!("offer updated: {r:?}"),
				Registered::Unchanged(r) => println!("already registered with this offer: {r:?}"),
			}
			let active_from = povm_worker::lottery::ensure_vrf_key(&submitter).await?;
			println!(
				"lottery VRF key {} active from draw epoch {active_from}",
				submitter.account()
			);
			Ok(())
		},
		Command::Run => run(config).await,
		Command::SessionKeys(opt) => {
			let signer = Signer::load(&config.key_source())?;
			let metrics = Arc::new(Metrics::new());
			let submitter = commands::connect(&config, signer, metrics.clone()).await?;
			let validator = povm_worker::client::ChainClient::connect(
				&opt.validator_rpc,
				config.rpc_timeout(),
				metrics,
			)
			.await?;
			let keys = commands::session_keys::set_session_keys(&submitter, &validator).await?;
			println!(
				"session keys of {} set to {}",
				submitter.account(),
				povm_worker::client::to_0x(&keys)
			);
			Ok(())
		},
	}
}

async fn run(config: Config) -> anyhow::Result<()> {
	let signer = Signer::load(&config.key_source())?;
	let metrics = Arc::new(Metrics::new());
	let cancel = CancellationToken::new();
	tokio::spawn(watch_signals(cancel.clone()));
	if let Some(addr) = config.metrics_addr {
		let (m, c) = (metrics.clone(), cancel.clone());
		tokio::spawn(async move {
			if let Err(e) = povm_worker::prometheus::serve(addr, m, c).await {
				tracing::error!(target: LOG_METRICS, "metrics endpoint failed: {e}");
			}
		});
	}
	let store = StateStore::open(&config.state_dir).context("cannot open the state directory")?;
	let results = start_results(&config, &cancel).await?;
	let Some(client) = povm_worker::client::ChainClient::connect_with_backoff(
		&config.node_url,
		config.rpc_timeout(),
		metrics.clone(),
		&cancel,
	)
	.await
	else {
		return Ok(());
	};
	let submitter = Arc::new(povm_worker::client::Submitter::new(
		Arc::new(client),
		signer,
		config.tip,
		config.mortality,
		config.rpc_timeout() * 4,
	));
	let me = submitter.account().clone();
	let Some(record) = submitter.client().provider(&me, None).await? else {
		anyhow::bail!("{me} is not a registered provider: run `povm-worker register` first");
	};
	if let Err(e) = sync_result_service(&submitter, &config).await {
		// A runtime before spec 108 has no result services: serve assignments all the same.
		tracing::warn!(target: LOG_SERVICE, "result service not recorded on chain: {e:#}");
	}
	let instance = config.instance_label(&me.to_string());
	let mut docker = DockerConfig::new(instance, config.image_dir.clone());
	docker.request_timeout = config.caps.docker_request_timeout();
	config.sandbox.apply(&mut docker)?;
	config.apply_images_and_inputs(&mut docker);
	let executor = DockerExecutor::connect(docker).await.context("cannot use Docker")?;
	tracing::info!(target: LOG_SERVICE, provider = %me, offer = ?record.offer.0, "serving assignments");
	// Kept to remove, at shutdown, the containers of runs the grace period cut short: their
	// tasks are dropped, and the removals they would spawn may not run before the exit.
	let reaper = executor.clone();
	let worker =
		commands::run::Worker::new(config, submitter, executor, store, results, record.offer.0);
	let served = worker.serve(cancel).await;
	match reaper.remove_orphans().await {
		Ok(0) => {},
		Ok(removed) =>
			tracing::info!(target: LOG_SERVICE, removed, "killed unfinished job containers"),
		Err(e) =>
			tracing::warn!(target: LOG_SERVICE, "job containers not removed at shutdown: {e}"),
	}
	served?;
	tracing::info!(target: LOG_SERVICE, "stopped");
	Ok(())
}

/// Makes the chain's record of where this provider serves results (`VmProof::ResultServices`)
/// the config's: set, replaced or removed (no `[results]`: customers are not sent to a
/// service that no longer answers), and waited for until finalised.
async fn sync_result_service(
	submitter: &povm_worker::client::Submitter,
	config: &Config,
) -> anyhow::Result<()> {
	let wanted = config.service();
	let on_chain = submitter.client().result_service(submitter.account(), None).await?;
	if on_chain == wanted {
		return Ok(());
	}
	let call = povm_worker::client::Call::SetResultService { service: wanted.clone() };
	submitter
		.submit_final(&call)
		.await
		.context("cannot record the result service on chain")?;
	match &wanted {
		Some(s) => tracing::info!(
			target: LOG_SERVICE,
			url = %String::from_utf8_lossy(&s.url),
			retention_secs = s.retention_secs,
			"result service recorded on chain"
		),
		None => tracing::info!(target: LOG_SERVICE, "result service removed from the chain"),
	}
	Ok(())
}

/// With `[results] listen`: opens the result store (pruning it) and starts the result server.
async fn start_results(
	config: &Config,
	cancel: &CancellationToken,
) -> anyhow::Result<Option<Arc<ResultStore>>> {
	let Some(addr) = config.results.listen else { return Ok(None) };
	let r = &config.results;
	let store = ResultStore::open(&config.state_dir, r.retention_secs(), r.max_store_bytes())
		.context("cannot open the result store")?;
	store
		.prune(povm_worker::results::unix_now())
		.context("cannot prune the result store")?;
	let store = Arc::new(store);
	let bound =
		povm_worker::results::server::start(addr, store.clone(), &r.base_path(), cancel.clone())
			.await
			.with_context(|| format!("cannot listen for result requests on {addr}"))?;
	tracing::info!(
		target: LOG_SERVICE,
		%bound,
		public_url = r.public_url.as_deref().unwrap_or_default(),
		"serving results to the jobs' owners"
	);
	Ok(Some(store))
}

async fn watch_signals(cancel: CancellationToken) {
	use tokio::signal::unix::{signal, SignalKind};
	let mut term = match signal(SignalKind::terminate()) {
		Ok(s) => s,
		Err(e) => {
			tracing::error!("cannot watch SIGTERM: {e}");
			return;
		},
	};
	tokio::select! {
		_ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
		_ = term.recv() => tracing::info!("SIGTERM received"),
	}
	cancel.cancel();
}
