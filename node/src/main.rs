//! `povm-node`: the PoVM chain node.
#![warn(missing_docs)]

mod chain_spec;
mod cli;
mod command;
mod inherents;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
