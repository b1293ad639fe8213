//! The adversarial lottery benchmark (issue 12, "How it is measured"): an attacker owning 5 %,
//! 20 % or 33 % of the providers' slots plays each strategy for thousands of sessions through
//! the real pallets; the figures go to `bench/lottery-security.md` and `.json` at the
//! repository root.
//!
//! Run it with (ignored by the default `cargo test`):
//!
//! ```text
//! cargo test --release -p povm-simulation --test lottery_security -- --ignored --nocapture
//! ```
//!
//! `SESSIONS` in the environment overrides the sessions per row (default 2,000).

use povm_simulation::{
	actors::{Party, Strategy, World, INCUMBENTS},
	runtime::{new_chain, SeedMode, EPOCH_ISSUANCE},
	stats::batch_ratio_upper,
};
use std::{fmt::Write as _, time::Instant};

/// The command that writes the bench files (named in `docs/testing.md`).
const COMMAND: &str =
	"cargo test --release -p povm-simulation --test lottery_security -- --ignored --nocapture";
/// Honest two-slot providers in every row.
const HONEST: u32 = 40;
/// Sessions before counting: keys become active, the first draws open and the queue fills.
const WARM_UP: u32 = 6;
/// Batches for the batch-means bounds.
const BATCHES: usize = 20;
/// Sessions between commits of the externalities' overlay.
const CHUNK: u32 = 25;
/// Rows run at once, one thread each (every mock static is thread-local).
const THREADS: usize = 2;

/// One row's figures.
struct Row {
	strategy: Strategy,
	seed_mode: SeedMode,
	capacity_share: f64,
	sessions: usize,
	seat_share: f64,
	seat_share_upper: f64,
	issuance_share: f64,
	issuance_share_upper: f64,
	ticket_share: f64,
	verified_share: f64,
	smallest_set: u32,
	largest_set: u32,
	honest_claims_refused: u64,
	honest_claims_accepted: u64,
	attacker_claims_accepted: u64,
	attacker_jobs: u64,
	attacker_paid_to_others: u128,
	attacker_paid_to_itself: u128,
	invented_accepted: u64,
	declined: u64,
	seconds: f64,
}

impl Row {
	fn meets_goal(&self) -> bool {
		let bound = 1.1 * self.capacity_share;
		self.seat_share_upper <= bound &&
			self.issuance_share_upper <= bound &&
			self.smallest_set >= INCUMBENTS.len() as u32 &&
			self.honest_claims_refused == 0
	}
}

/// Attacker slots giving `share` of the slots beside the honest ones (2 slots each).
fn attacker_slots(share: f64) -> u32 {
	let honest_slots = 2.0 * HONEST as f64;
	(share * honest_slots / (1.0 - share)).round() as u32
}

fn run(strategy: Strategy, seed_mode: SeedMode, share: f64, sessions: u32, seed: u64) -> Row {
	let started = Instant::now();
	let mut balances: Vec<(u64, u128)> = INCUMBENTS.iter().map(|w| (*w, 1_000_000)).collect();
	balances.push((povm_simulation::actors::HONEST_CUSTOMER, 1_000_000));
	let mut ext = new_chain(balances, INCUMBENTS.to_vec(), seed_mode);
	let mut world = ext.execute_with(|| World::new(strategy, seed, HONEST, attacker_slots(share)));
	// The externalities' overlay is committed every `CHUNK` sessions: clearing a storage prefix
	// (events, every block) scans the whole overlay, which would make a long run quadratic.
	let mut run_for = |world: &mut World, sessions: u32| {
		let mut left = sessions;
		while left > 0 {
			let n = left.min(CHUNK);
			ext.execute_with(|| world.run_sessions(n));
			ext.commit_all().expect("commit the overlay");
			left -= n;
		}
	};
	run_for(&mut world, WARM_UP);
	let skip = world.tally.sessions.len();
	run_for(&mut world, sessions);
	ext.execute_with(|| {
		pallet_vm_proof::Pallet::<povm_simulation::runtime::Sim>::do_try_state()
			.expect("vm-proof invariants");
		pallet_job_queue::Pallet::<povm_simulation::runtime::Sim>::do_try_state()
			.expect("job-queue invariants");
		pallet_vrf_lottery::Pallet::<povm_simulation::runtime::Sim>::do_try_state()
			.expect("lottery invariants");
	});
	{
		let t = &world.tally;
		let counted = &t.sessions[skip..];
		let seats: Vec<(f64, f64)> =
			counted.iter().map(|s| (s.attacker_seats as f64, s.seats as f64)).collect();
		let issuance: Vec<(f64, f64)> =
			counted.iter().map(|s| (s.attacker_minted as f64, s.minted as f64)).collect();
		let (seat_share, seat_share_upper) = batch_ratio_upper(&seats, BATCHES);
		let (issuance_share, issuance_share_upper) = batch_ratio_upper(&issuance, BATCHES);
		let tickets: u128 = counted.iter().map(|s| s.tickets).sum();
		let attacker_tickets: u128 = counted.iter().map(|s| s.attacker_tickets).sum();
		let verified: u128 = t.verified_ms.values().sum();
		Row {
			strategy,
			seed_mode,
			capacity_share: world.capacity_share(),
			sessions: counted.len(),
			seat_share,
			seat_share_upper,
			issuance_share,
			issuance_share_upper,
			ticket_share: attacker_tickets as f64 / tickets.max(1) as f64,
			verified_share: *t.verified_ms.get(&Party::Attacker).unwrap_or(&0) as f64 /
				verified.max(1) as f64,
			smallest_set: t.smallest_set,
			largest_set: t.largest_set,
			honest_claims_refused: *t.claims_refused.get(&Party::Honest).unwrap_or(&0),
			honest_claims_accepted: *t.claims_accepted.get(&Party::Honest).unwrap_or(&0),
			attacker_claims_accepted: *t.claims_accepted.get(&Party::Attacker).unwrap_or(&0),
			attacker_jobs: t.attacker_jobs,
			attacker_paid_to_others: t.attacker_paid_to_others,
			attacker_paid_to_itself: t.attacker_paid_to_itself,
			invented_accepted: t.invented_accepted,
			declined: t.declined,
			seconds: started.elapsed().as_secs_f64(),
		}
	}
}

fn seed_mode_name(m: SeedMode) -> &'static str {
	match m {
		SeedMode::EndOfWorkEpoch => "end_of_work_epoch",
		SeedMode::PublicDuringWorkEpoch => "public_during_work_epoch (main before issue 12)",
	}
}

fn json(rows: &[Row], baseline: &[Row], wall: f64) -> String {
	let row = |r: &Row| {
		format!(
			"{{\"strategy\":\"{}\",\"seed\":\"{}\",\"capacity_share\":{:.4},\"sessions\":{},\
			\"seat_share\":{:.4},\"seat_share_mean\":{:.4},\"issuance_share\":{:.4},\
			\"issuance_share_mean\":{:.4},\"ticket_share\":{:.4},\"verified_share\":{:.4},\
			\"smallest_set\":{},\"largest_set\":{},\"honest_claims_refused\":{},\
			\"honest_claims_accepted\":{},\"attacker_claims_accepted\":{},\"attacker_jobs\":{},\
			\"attacker_paid_to_others\":{},\"attacker_paid_to_itself\":{},\
			\"invented_results_accepted\":{},\"declined\":{},\"meets_goal\":{},\"seconds\":{:.1}}}",
			r.strategy.name(),
			seed_mode_name(r.seed_mode),
			r.capacity_share,
			r.sessions,
			r.seat_share_upper,
			r.seat_share,
			r.issuance_share_upper,
			r.issuance_share,
			r.ticket_share,
			r.verified_share,
			r.smallest_set,
			r.largest_set,
			r.honest_claims_refused,
			r.honest_claims_accepted,
			r.attacker_claims_accepted,
			r.attacker_jobs,
			r.attacker_paid_to_others,
			r.attacker_paid_to_itself,
			r.invented_accepted,
			r.declined,
			r.meets_goal(),
			r.seconds,
		)
	};
	let rows_json: Vec<String> = rows.iter().map(row).collect();
	let base_json: Vec<String> = baseline.iter().map(row).collect();
	format!(
		"{{\n\"command\":\"{COMMAND}\",\n\"honest_providers\":{HONEST},\n\"incumbents\":{},\n\
		\"epoch_issuance\":{EPOCH_ISSUANCE},\n\"note\":\"seat_share and issuance_share are 95 % \
		upper bounds (batch means over {BATCHES} batches); *_mean are the point estimates\",\n\
		\"all_goals_met\":{},\n\"wall_seconds\":{wall:.1},\n\"rows\":[\n{}\n],\n\
		\"baseline_rows\":[\n{}\n]\n}}\n",
		INCUMBENTS.len(),
		rows.iter().all(Row::meets_goal),
		rows_json.join(",\n"),
		base_json.join(",\n"),
	)
}

fn markdown(rows: &[Row], baseline: &[Row], wall: f64) -> String {
	let mut s = String::new();
	let _ = writeln!(s, "# Lottery security benchmark\n");
	let _ = writeln!(
		s,
		"Produced by `{COMMAND}` ({wall:.0} s). An attacker owning a share of the providers' \
		slots plays one strategy per row against {HONEST} honest two-slot providers and {} honest \
		genesis validators, through the real job-queue, vm-proof and vrf-lottery pallets on a \
		mock runtime with sessions (`pallets/simulation`). An honest customer keeps every slot \
		busy. Shares are over the counted sessions; the bounds are 95 % upper bounds by batch \
		means. Goal: seat and issuance share ≤ 1.1 × capacity share, the set never below the \
		floor, no honest claim refused.\n",
		INCUMBENTS.len()
	);
	let header = "| strategy | capacity | sessions | seats (mean / 95 % upper) | issuance (mean / 95 % upper) | tickets | verified work | smallest set | honest claims refused | goal |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";
	let line = |r: &Row| {
		format!(
			"| {} | {:.1} % | {} | {:.2} % / {:.2} % | {:.2} % / {:.2} % | {:.2} % | {:.2} % | {} | {} of {} | {} |",
			r.strategy.name(),
			100.0 * r.capacity_share,
			r.sessions,
			100.0 * r.seat_share,
			100.0 * r.seat_share_upper,
			100.0 * r.issuance_share,
			100.0 * r.issuance_share_upper,
			100.0 * r.ticket_share,
			100.0 * r.verified_share,
			r.smallest_set,
			r.honest_claims_refused,
			r.honest_claims_refused + r.honest_claims_accepted,
			if r.meets_goal() { "met" } else { "MISSED" },
		)
	};
	let _ = writeln!(s, "## With the runtime's seed (read when the work epoch has ended)\n");
	let _ = writeln!(s, "{header}");
	for r in rows {
		let _ = writeln!(s, "{}", line(r));
	}
	let _ = writeln!(
		s,
		"\n## For comparison: main's seed before issue 12 (public during the work epoch)\n"
	);
	let _ = writeln!(s, "{header}");
	for r in baseline {
		let _ = writeln!(s, "{}", line(r));
	}
	let _ = writeln!(s, "\n## What each attacker paid and did\n");
	let _ = writeln!(s, "| strategy | capacity | own jobs | paid to others | paid to itself | invented results accepted | replicas declined |\n| --- | --- | --- | --- | --- | --- | --- |");
	for r in rows.iter().chain(baseline) {
		let _ = writeln!(
			s,
			"| {}{} | {:.1} % | {} | {} | {} | {} | {} |",
			r.strategy.name(),
			if r.seed_mode == SeedMode::PublicDuringWorkEpoch { " (main's seed)" } else { "" },
			100.0 * r.capacity_share,
			r.attacker_jobs,
			r.attacker_paid_to_others,
			r.attacker_paid_to_itself,
			r.invented_accepted,
			r.declined,
		);
	}
	s
}

#[test]
#[ignore = "benchmark: run with --ignored (see the module docs)"]
fn lottery_security() {
	let sessions: u32 =
		std::env::var("SESSIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
	let started = Instant::now();
	let strategies = [
		Strategy::None,
		Strategy::SelfDealing,
		Strategy::Grinding,
		Strategy::Sybil,
		Strategy::ClaimFirst,
	];
	let shares = [0.05, 0.20, 1.0 / 3.0];
	// (row index, strategy, seed mode, share, rng seed): the rows, then the baseline.
	let mut plan = Vec::new();
	for (i, strategy) in strategies.iter().enumerate() {
		for (j, share) in shares.iter().enumerate() {
			plan.push((SeedMode::EndOfWorkEpoch, *strategy, *share, (i * 10 + j) as u64 + 1));
		}
	}
	for (j, share) in shares.iter().enumerate() {
		plan.push((SeedMode::PublicDuringWorkEpoch, Strategy::Grinding, *share, 100 + j as u64));
	}
	let next = std::sync::atomic::AtomicUsize::new(0);
	let results = std::sync::Mutex::new(Vec::new());
	std::thread::scope(|scope| {
		for _ in 0..THREADS {
			scope.spawn(|| loop {
				let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
				let Some((mode, strategy, share, seed)) = plan.get(k).copied() else { break };
				let r = run(strategy, mode, share, sessions, seed);
				println!(
					"{}{} {:.1}%: seats {:.2}% (≤ {:.2}%), issuance {:.2}% (≤ {:.2}%), tickets {:.2}%, smallest set {}, {:.0} s",
					strategy.name(),
					if mode == SeedMode::PublicDuringWorkEpoch { " (main's seed)" } else { "" },
					100.0 * r.capacity_share,
					100.0 * r.seat_share,
					100.0 * r.seat_share_upper,
					100.0 * r.issuance_share,
					100.0 * r.issuance_share_upper,
					100.0 * r.ticket_share,
					r.smallest_set,
					r.seconds
				);
				results.lock().expect("results").push((k, r));
			});
		}
	});
	let mut results = results.into_inner().expect("results");
	results.sort_by_key(|(k, _)| *k);
	let (rows, baseline): (Vec<_>, Vec<_>) =
		results.into_iter().partition(|(_, r)| r.seed_mode == SeedMode::EndOfWorkEpoch);
	let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
	let baseline: Vec<Row> = baseline.into_iter().map(|(_, r)| r).collect();
	let wall = started.elapsed().as_secs_f64();
	let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
	std::fs::create_dir_all(&root).expect("bench dir");
	std::fs::write(root.join("lottery-security.json"), json(&rows, &baseline, wall))
		.expect("write json");
	std::fs::write(root.join("lottery-security.md"), markdown(&rows, &baseline, wall))
		.expect("write md");
	for r in &rows {
		assert!(
			r.smallest_set >= INCUMBENTS.len() as u32,
			"{}: set below the floor",
			r.strategy.name()
		);
		assert_eq!(r.honest_claims_refused, 0, "{}: honest claims refused", r.strategy.name());
	}
}
