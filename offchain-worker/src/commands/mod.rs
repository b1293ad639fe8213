//! The subcommands of `povm-worker`.

pub mod exec;
pub mod register;
pub mod run;
pub mod session_keys;
pub mod status;

use std::sync::Arc;

use crate::{
	client::{ChainClient, Submitter},
	config::Config,
	error::ChainError,
	prometheus::Metrics,
	signer::Signer,
};

/// Connects to the configured node and builds a submitter for `signer`.
pub async fn connect(
	config: &Config,
	signer: Signer,
	metrics: Arc<Metrics>,
) -> Result<Arc<Submitter>, ChainError> {
	let client =
		Arc::new(ChainClient::connect(&config.node_url, config.rpc_timeout(), metrics).await?);
	Ok(Arc::new(Submitter::new(
		client,
		signer,
		config.tip,
		config.mortality,
		config.rpc_timeout() * 4,
	)))
}
