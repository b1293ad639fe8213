//! Weights measured for this runtime on this node (the pallets' own weights live beside their
//! code, in each pallet's `weights.rs`).

pub mod paritydb;
