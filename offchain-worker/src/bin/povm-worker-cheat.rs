//! `povm-worker-cheat`: the worker with the `test-cheat` feature, which commits a corrupted
//! result for every job. Only the network tests build and run it (scenario 4: a cheating
//! provider loses, is slashed, and no wrong tally is accepted).

#[path = "../main.rs"]
mod worker_main;

fn main() -> std::process::ExitCode {
	worker_main::main()
}
