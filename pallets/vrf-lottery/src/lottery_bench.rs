//! Scale benchmark of the ticket ledger (issue 13): the work of 100,000 providers credited in
//! one epoch through [`TicketLedger::credit`], the draw that opens from it, and the pruning of
//! its tickets once it has closed, against the same at 100 providers. Figures go to
//! `bench/lottery-scale.md` and into `bench/scale.json` (`lottery`).
//!
//! Run it with (a few seconds in release; ignored by the default `cargo test`):
//!
//! ```text
//! cargo test --release -p pallet-vrf-lottery lottery_bench -- --ignored --nocapture
//! ```
//!
//! The ledger, the draw and the pruning are the pallet's own code on the mock's storage; the
//! times are native, on this machine: they show how a cost grows with the number of providers.
//! The charged weights are the runtime benchmarks' (`scripts/bench-weights.sh`).

use crate::{mock::*, pallet::*, tickets::PRUNE_AT_BOUNDARY};
use frame_support::{storage::StoragePrefixedMap, traits::Hooks, weights::Weight};
use povm_primitives::TicketLedger;
use sp_runtime::Perbill;
use std::{fmt::Write as _, time::Instant};

/// The command that writes the bench files (named in `docs/testing.md`).
const COMMAND: &str =
	"cargo test --release -p pallet-vrf-lottery lottery_bench -- --ignored --nocapture";
/// Providers with work for the scale figures.
const PROVIDERS: u64 = 100_000;
/// The small network the same operations are timed on, for comparison.
const SMALL: u64 = 100;
/// The first provider account.
const FIRST: AccountId = 1_000_000;

/// What one size measured.
struct Costs {
	providers: u64,
	credit_us: f64,
	open_draw_us: f64,
	open_draw_weight_ps: u64,
	prune_us_per_ticket: f64,
	idle_blocks: u64,
	bytes_per_ticket: u64,
	total_tickets: u128,
	draw_providers: u32,
	last_share: f64,
}

/// Every key and value the lottery stores under `prefix`.
fn stored_bytes(prefix: &[u8]) -> u64 {
	let mut bytes = 0u64;
	let mut key = prefix.to_vec();
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(prefix) {
			break;
		}
		let value = sp_io::storage::get(&next).map_or(0, |v| v.len() as u64);
		bytes += next.len() as u64 + value;
		key = next;
	}
	bytes
}

fn costs(n: u64) -> Costs {
	let mut ext = ExtBuilder::default().build();
	let (credit_us, bytes_per_ticket) = ext.execute_with(|| {
		// Session 0: every provider's work of epoch 0 is verified (1 to 100 s, reputation 1/2
		// to 1), credited to draw 1 as the verdicts come.
		let started = Instant::now();
		for i in 0..n {
			let who = FIRST + i;
			let millis = 1_000 * (1 + i % 100);
			let reputation = Perbill::from_percent(50 + (i % 51) as u32);
			<VrfLottery as TicketLedger<AccountId>>::credit(0, &who, millis, reputation);
		}
		let credit_us = started.elapsed().as_secs_f64() * 1e6 / n as f64;
		let prefix = Tickets::<Test>::final_prefix();
		(credit_us, stored_bytes(&prefix) / n)
	});
	// Each session is another block: what was written is in the database.
	ext.commit_all().expect("commit");
	let (open_draw_us, open_draw_weight_ps, total_tickets, draw_providers, last_share) = ext
		.execute_with(|| {
			let weight_before = System::block_weight().total();
			let started = Instant::now();
			rotate(); // draw 1 opens from the credited totals
			let open_draw_us = started.elapsed().as_secs_f64() * 1e6;
			let weight = System::block_weight().total().saturating_sub(weight_before);
			let d = CurrentDraw::<Test>::get().expect("draw 1 is open");
			let last = FIRST + n - 1;
			let share = Tickets::<Test>::get(1, last).unwrap_or(0) as f64 / d.total_tickets as f64;
			(open_draw_us, weight.ref_time(), d.total_tickets, d.providers, share)
		});
	ext.commit_all().expect("commit");
	// The boundary that closes draw 1 prunes a page; idle blocks prune the rest, each with a
	// tenth of a 2 s block to spare.
	let started = Instant::now();
	ext.execute_with(|| {
		rotate();
	});
	ext.commit_all().expect("commit");
	let mut idle_blocks = 0u64;
	let idle = Weight::from_parts(200_000_000_000, u64::MAX);
	while ext.execute_with(|| FirstUnprunedDraw::<Test>::get()) < 2 {
		ext.execute_with(|| {
			System::set_block_number(System::block_number() + 1);
			VrfLottery::on_idle(System::block_number(), idle);
		});
		ext.commit_all().expect("commit");
		idle_blocks += 1;
		assert!(idle_blocks < 10_000, "pruning makes progress");
	}
	let prune_us_per_ticket = started.elapsed().as_secs_f64() * 1e6 / n as f64;
	ext.execute_with(|| {
		assert_eq!(Tickets::<Test>::iter_prefix(1).count(), 0, "draw 1's tickets are gone");
		VrfLottery::do_try_state().expect("lottery invariants");
	});
	Costs {
		providers: n,
		credit_us,
		open_draw_us,
		open_draw_weight_ps,
		prune_us_per_ticket,
		idle_blocks,
		bytes_per_ticket,
		total_tickets,
		draw_providers,
		last_share,
	}
}

#[test]
#[ignore = "the lottery benchmark writes bench/lottery-scale.md and bench/scale.json: run it with --ignored"]
fn lottery_bench() {
	let started = Instant::now();
	let small = costs(SMALL);
	let large = costs(PROVIDERS);
	for c in [&small, &large] {
		println!(
			"{} providers: credit {:.2} µs, open draw {:.1} µs (charged {} ps), prune {:.2} µs \
			 per ticket over {} idle block(s), {} bytes per ticket, {} holders, last one's share \
			 {:.3e}",
			c.providers,
			c.credit_us,
			c.open_draw_us,
			c.open_draw_weight_ps,
			c.prune_us_per_ticket,
			c.idle_blocks,
			c.bytes_per_ticket,
			c.draw_providers,
			c.last_share
		);
	}
	let wall = started.elapsed().as_secs_f64();
	let bench = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
	std::fs::create_dir_all(&bench).expect("bench directory");
	let existing = std::fs::read_to_string(bench.join("scale.json")).ok();
	std::fs::write(bench.join("scale.json"), json(&small, &large, wall, existing.as_deref()))
		.expect("write scale.json");
	std::fs::write(bench.join("lottery-scale.md"), markdown(&small, &large, wall))
		.expect("write lottery-scale.md");
	// Every provider holds tickets and the opening is charged the same at both sizes.
	assert_eq!(large.draw_providers as u64, PROVIDERS);
	assert_eq!(small.open_draw_weight_ps, large.open_draw_weight_ps);
}

fn round2(x: f64) -> f64 {
	(x * 100.0).round() / 100.0
}

fn costs_json(c: &Costs) -> serde_json::Value {
	serde_json::json!({
		"providers": c.providers,
		"draw_providers": c.draw_providers,
		"total_tickets": c.total_tickets.to_string(),
		"state_bytes_per_ticket": c.bytes_per_ticket,
		"open_draw_charged_ref_time_ps": c.open_draw_weight_ps,
		"idle_blocks_to_prune": c.idle_blocks,
		"native_us": {
			"credit": round2(c.credit_us),
			"open_draw": round2(c.open_draw_us),
			"prune_per_ticket": round2(c.prune_us_per_ticket),
		},
	})
}

/// The figures merged into `existing` (the former `bench/scale.json`): this benchmark owns
/// `lottery`.
fn json(small: &Costs, large: &Costs, wall: f64, existing: Option<&str>) -> String {
	use serde_json::{json, Map, Value};
	let mut out: Map<String, Value> = existing
		.and_then(|text| serde_json::from_str::<Value>(text).ok())
		.and_then(|v| v.as_object().cloned())
		.unwrap_or_default();
	out.insert(
		"lottery".into(),
		json!({
			"generated_by": COMMAND,
			"wall_seconds": (wall * 10.0).round() / 10.0,
			"prune_at_boundary": PRUNE_AT_BOUNDARY,
			"at_scale": costs_json(large),
			"small": costs_json(small),
		}),
	);
	format!("{}\n", serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default())
}

fn markdown(small: &Costs, large: &Costs, wall: f64) -> String {
	let mut s = String::new();
	let _ = writeln!(s, "# Lottery ticket ledger benchmark (issue 13)\n");
	let _ = writeln!(
		s,
		"Generated by `{COMMAND}` ({wall:.0} s). Native times on this machine (mock runtime, the \
		lottery's real ledger, draw and pruning); each session is another block, committed to \
		the database. Every provider's work of one epoch (1 to 100 s at reputation 1/2 to 1) is \
		credited as a verdict would (`TicketLedger::credit`), the draw opens from the credited \
		total, and once it has closed its tickets are pruned: {PRUNE_AT_BOUNDARY} at the \
		boundary, the rest in idle blocks with a tenth of a 2 s block each, charged at the mock's \
		database weights (RocksDB's reference 25 µs a read, 100 µs a write; the runtime's \
		ParityDB weights are 3.4 µs and 8.0 µs, so a runtime idle block takes about ten times \
		as many).\n"
	);
	let _ = writeln!(s, "| | {} providers | {} providers |", small.providers, large.providers);
	let _ = writeln!(s, "|---|---:|---:|");
	// Each row: its label and a cell of one size's figures, as the table prints it.
	let rows: [(&str, fn(&Costs) -> String); 8] = [
		("providers holding tickets in the draw", |c| c.draw_providers.to_string()),
		("credit of one verdict's work, native µs", |c| format!("{:.2}", c.credit_us)),
		("session boundary that opens the draw, native µs", |c| format!("{:.1}", c.open_draw_us)),
		("its charged weight (ref_time ps, mock database weights)", |c| {
			c.open_draw_weight_ps.to_string()
		}),
		("pruning a closed draw, native µs per ticket", |c| {
			format!("{:.2}", c.prune_us_per_ticket)
		}),
		("idle blocks to prune it after the boundary's page", |c| c.idle_blocks.to_string()),
		("state bytes per ticket entry (key included)", |c| c.bytes_per_ticket.to_string()),
		("the last provider's share of the draw's tickets", |c| format!("{:.3e}", c.last_share)),
	];
	for (label, cell) in rows {
		let _ = writeln!(s, "| {label} | {} | {} |", cell(small), cell(large));
	}
	let _ = writeln!(s);
	let _ = writeln!(
		s,
		"Before spec 115 a draw snapshotted the work of at most 1,000 providers listed in \
		order of their first verified work (`VmProof::EpochProviders`): at 100,000 providers \
		99 % held no tickets, and the snapshot cost 12.8 µs and 3 reads per provider at the \
		boundary. Now every provider holds its share and the opening reads one total."
	);
	s
}
