//! The head follower: feeds the best and the finalised heads to the service loop.

use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{client::ChainClient, prelude::*};

/// Capacity of the channel from the listener to the service loop.
pub const HEAD_CHANNEL: usize = 16;

/// Subscriptions that yield no best head for this long are replaced (finality may stall on
/// a live chain; block production does not).
pub const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A new head the node announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
	/// A new best block's number.
	Best(BlockNumber),
	/// A newly finalised block's number.
	Finalized(BlockNumber),
}

/// Follows best and finalised heads and sends them on `tx`, reconnecting (with the client's
/// exponential backoff) and resubscribing until `cancel` or until the receiver is gone.
pub async fn listen(client: Arc<ChainClient>, tx: mpsc::Sender<Head>, cancel: CancellationToken) {
	let mut wait = crate::client::BACKOFF_MIN;
	loop {
		if !client.reconnect(&cancel).await {
			return;
		}
		let subs = match client.subscribe_new_heads().await {
			Ok(best) => client.subscribe_finalized().await.map(|finalized| (best, finalized)),
			Err(e) => Err(e),
		};
		let (mut best, mut finalized) = match subs {
			Ok(s) => {
				wait = crate::client::BACKOFF_MIN;
				s
			},
			Err(e) => {
				tracing::warn!(target: LOG_SERVICE, "cannot follow heads: {e}");
				tokio::select! {
					_ = cancel.cancelled() => return,
					_ = tokio::time::sleep(wait) => {},
				}
				wait = crate::client::next_backoff(wait);
				continue;
			},
		};
		let mut last_best = tokio::time::Instant::now();
		loop {
			let stall = tokio::time::sleep_until(last_best + STALL_TIMEOUT);
			let (next, kind) = tokio::select! {
				_ = cancel.cancelled() => return,
				_ = stall => {
					tracing::warn!(target: LOG_SERVICE, "no best head for {STALL_TIMEOUT:?}; resubscribing");
					break;
				},
				n = best.next() => (n, Head::Best as fn(BlockNumber) -> Head),
				n = finalized.next() => (n, Head::Finalized as fn(BlockNumber) -> Head),
			};
			let header = match next {
				Some(Ok(header)) => header,
				Some(Err(e)) => {
					tracing::warn!(target: LOG_SERVICE, "bad header: {e}");
					continue;
				},
				None => {
					tracing::warn!(target: LOG_SERVICE, "head subscription ended; reconnecting");
					break;
				},
			};
			match header.number().map(kind) {
				Ok(head) => {
					if matches!(head, Head::Best(..)) {
						last_best = tokio::time::Instant::now();
					}
					if tx.send(head).await.is_err() {
						return;
					}
				},
				Err(e) => tracing::warn!(target: LOG_SERVICE, "{e}"),
			}
		}
	}
}
