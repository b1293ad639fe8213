//! The three PoVM pallets (job queue, vm-proof, VRF lottery) in one mock runtime with
//! sessions, for tests and benchmarks whose subject crosses pallets: who earns tickets, seats
//! and issuance when providers and customers act as they please.
//!
//! Nothing here stands in for the protocol: jobs are submitted, drawn, committed, revealed,
//! judged and paid by the real pallets; verified work becomes tickets and claims become seats
//! in the real lottery. The mock supplies what a runtime supplies: balances, block numbers, a
//! session driver that calls the lottery's `SessionManager` in pallet-session's order, the
//! epoch, the session keys and the seed (see [`runtime`]). The actors in [`actors`] play
//! providers and customers, block by block, as the worker and scripts would.

pub mod actors;
pub mod runtime;
pub mod stats;
