//! The finalised-head follower: feeds block numbers to the service loop.

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{client::ChainClient, prelude::*};

/// Capacity of the channel from the listener to the service loop.
pub const HEAD_CHANNEL: usize = 16;

/// A subscription that yields no finalised head for this long is replaced.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Follows finalised heads and sends their numbers on `tx`, reconnecting (with the client's
/// exponential backoff) and resubscribing until `cancel` or until the receiver is gone.
pub async fn listen(
	client: Arc<ChainClient>,
	tx: mpsc::Sender<BlockNumber>,
	cancel: CancellationToken,
) {
	let mut wait = crate::client::BACKOFF_MIN;
	loop {
		if !client.reconnect(&cancel).await {
			return;
		}
		let mut sub = match client.subscribe_finalized().await {
			Ok(s) => {
				wait = crate::client::BACKOFF_MIN;
				s
			},
			Err(e) => {
				tracing::warn!(target: LOG_SERVICE, "cannot follow finalised heads: {e}");
				tokio::select! {
					_ = cancel.cancelled() => return,
					_ = tokio::time::sleep(wait) => {},
				}
				wait = crate::client::next_backoff(wait);
				continue;
			},
		};
		loop {
			let next = tokio::select! {
				_ = cancel.cancelled() => return,
				n = tokio::time::timeout(STALL_TIMEOUT, sub.next()) => n,
			};
			match next {
				Ok(Some(Ok(header))) => match header.number() {
					Ok(n) =>
						if tx.send(n).await.is_err() {
							return;
						},
					Err(e) => tracing::warn!(target: LOG_SERVICE, "{e}"),
				},
				Ok(Some(Err(e))) => tracing::warn!(target: LOG_SERVICE, "bad header: {e}"),
				Ok(None) => {
					tracing::warn!(target: LOG_SERVICE, "finalised-head subscription ended; reconnecting");
					break;
				},
				Err(_) => {
					tracing::warn!(
						target: LOG_SERVICE,
						"no finalised head for {STALL_TIMEOUT:?}; resubscribing"
					);
					break;
				},
			}
		}
	}
}
