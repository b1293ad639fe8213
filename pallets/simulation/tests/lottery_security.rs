//! The adversarial lottery benchmark (issue 12, "How it is measured"): an attacker owning 5 %,
//! 20 % or 33 % of the providers' slots plays each strategy for thousands of sessions through
//! the real pallets; the figures go to `bench/lottery-security.md` and `.json` at the
//! repository root.
//!
//! Each row runs in two stages. The work-level stage runs everything (jobs, verdicts, payments,
//! draws, claims, seats) and gives the issuance figures; it also records, for each counted
//! session, the verified work the draw opened at its boundary turned into tickets. Seats change
//! by at most one a session, so seat shares need many more sessions than issuance for the same
//! precision; the seat-level stage gives them: on a fresh chain with the same providers and
//! keys but no jobs, each session's verified work is one recorded session's, drawn at random
//! (a bootstrap of the work process), and the real lottery opens the draw, the providers claim
//! with their strategies and the real seat planner seats the winners. Rows with main's old
//! seed keep the work-level seats: grinding there exploits the link between the seed and the
//! routing of its work, which a bootstrap would cut.
//!
//! Run it with (ignored by the default `cargo test`):
//!
//! ```text
//! cargo test --release -p povm-simulation --test lottery_security -- --ignored --nocapture
//! ```
//!
//! `SESSIONS` in the environment overrides the work-level sessions per row (default 2,000),
//! `SEAT_SESSIONS` the seat-level sessions of the 20 % and 33 % rows (default
//! [`DEFAULT_SEAT_SESSIONS`]); the 5 % rows run [`seat_sessions_for`] as many.

use povm_simulation::{
	actors::{Party, SessionRecord, Strategy, Tally, World, INCUMBENTS},
	runtime::{new_chain, EpochWork, SeedMode, EPOCH_ISSUANCE},
	stats::{batch_ratio_upper, Rng},
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
/// Seat-level sessions of a 20 % row unless `SEAT_SESSIONS` says otherwise. At 5,000 (25,000
/// for the 5 % rows) the 5 % rows' bounds lay 0.17–0.30 points above their means, up to
/// two thirds of the goal's room (10 % of 4.76 %, 0.48 points): a row at its true share
/// could miss by chance about one time in ten. Twice as many bring the widest to about 0.2.
const DEFAULT_SEAT_SESSIONS: u32 = 10_000;
/// Work-level sessions per row unless `SESSIONS` says otherwise.
const DEFAULT_SESSIONS: u32 = 2_000;

/// One row's figures.
struct Row {
	strategy: Strategy,
	seed_mode: SeedMode,
	capacity_share: f64,
	/// Work-level sessions counted.
	sessions: usize,
	/// Seat-level sessions counted (0 where the seats are the work-level stage's).
	seat_sessions: usize,
	/// The attacker's seat share that counts: the seat-level stage's, or the work-level stage's
	/// where no seat-level stage runs.
	seat_share: f64,
	/// Its 95 % upper bound.
	seat_share_upper: f64,
	/// The work-level stage's seat share.
	work_level_seat_share: f64,
	/// Its 95 % upper bound.
	work_level_seat_share_upper: f64,
	issuance_share: f64,
	issuance_share_upper: f64,
	ticket_share: f64,
	verified_share: f64,
	/// Over both stages.
	smallest_set: u32,
	/// Over both stages.
	largest_set: u32,
	/// Over both stages.
	honest_claims_refused: u64,
	/// Over both stages.
	honest_claims_accepted: u64,
	/// Over both stages.
	attacker_claims_accepted: u64,
	attacker_jobs: u64,
	attacker_paid_to_others: u128,
	attacker_paid_to_itself: u128,
	invented_accepted: u64,
	declined: u64,
	/// Seconds of the work-level stage.
	work_seconds: f64,
	/// Seconds of the seat-level stage.
	seat_seconds: f64,
}

impl Row {
	/// The row's name in the tables and the log: its strategy, marked when it ran against
	/// main's old seed.
	fn label(&self) -> String {
		let old_seed = self.seed_mode == SeedMode::PublicDuringWorkEpoch;
		format!("{}{}", self.strategy.name(), if old_seed { " (main's seed)" } else { "" })
	}

	fn meets_goal(&self) -> bool {
		let bound = 1.1 * self.capacity_share;
		self.seat_share_upper <= bound &&
			self.issuance_share_upper <= bound &&
			self.smallest_set >= INCUMBENTS.len() as u32 &&
			self.honest_claims_refused == 0
	}

	/// Whether the seats reported are the seat-level stage's.
	fn seats_from_seat_stage(&self) -> bool {
		self.seat_sessions > 0
	}
}

/// Attacker slots giving `share` of the slots beside the honest ones (2 slots each).
fn attacker_slots(share: f64) -> u32 {
	let honest_slots = 2.0 * HONEST as f64;
	(share * honest_slots / (1.0 - share)).round() as u32
}

/// A fresh chain with the genesis validators and the row's world on it: the same providers,
/// slots and keys for the same `strategy`, `share` and `seed`.
fn chain_and_world(
	strategy: Strategy,
	seed_mode: SeedMode,
	share: f64,
	seed: u64,
) -> (sp_io::TestExternalities, World) {
	let mut balances: Vec<(u64, u128)> = INCUMBENTS.iter().map(|w| (*w, 1_000_000)).collect();
	balances.push((povm_simulation::actors::HONEST_CUSTOMER, 1_000_000));
	let mut ext = new_chain(balances, INCUMBENTS.to_vec(), seed_mode);
	let world = ext.execute_with(|| World::new(strategy, seed, HONEST, attacker_slots(share)));
	(ext, world)
}

/// Run `sessions` sessions with `advance`, committing the externalities' overlay every
/// `CHUNK` sessions: clearing a storage prefix (events, every block) scans the whole overlay,
/// which would make a long run quadratic.
fn run_chunked(
	ext: &mut sp_io::TestExternalities,
	world: &mut World,
	sessions: u32,
	mut advance: impl FnMut(&mut World, u32),
) {
	let mut left = sessions;
	while left > 0 {
		let n = left.min(CHUNK);
		ext.execute_with(|| advance(world, n));
		ext.commit_all().expect("commit the overlay");
		left -= n;
	}
}

/// Check the three pallets' invariants.
fn check_invariants(ext: &mut sp_io::TestExternalities) {
	use povm_simulation::runtime::Sim;
	ext.execute_with(|| {
		pallet_vm_proof::Pallet::<Sim>::do_try_state().expect("vm-proof invariants");
		pallet_job_queue::Pallet::<Sim>::do_try_state().expect("job-queue invariants");
		pallet_vrf_lottery::Pallet::<Sim>::do_try_state().expect("lottery invariants");
	});
}

/// What a stage counted after its warm-up.
struct Stage {
	world: World,
	/// Index of the first counted session in `world.tally.sessions`.
	skip: usize,
	seconds: f64,
}

impl Stage {
	/// The counted sessions.
	fn counted(&self) -> &[SessionRecord] {
		&self.world.tally.sessions[self.skip..]
	}

	/// The attacker's seat share over the counted sessions and its 95 % upper bound.
	fn seat_share(&self) -> (f64, f64) {
		let seats: Vec<(f64, f64)> = self
			.counted()
			.iter()
			.map(|s| (s.attacker_seats as f64, s.seats as f64))
			.collect();
		batch_ratio_upper(&seats, BATCHES)
	}
}

/// The work-level stage: everything runs, for `WARM_UP` then `sessions` sessions.
fn work_stage(
	strategy: Strategy,
	seed_mode: SeedMode,
	share: f64,
	sessions: u32,
	seed: u64,
) -> Stage {
	let started = Instant::now();
	let (mut ext, mut world) = chain_and_world(strategy, seed_mode, share, seed);
	run_chunked(&mut ext, &mut world, WARM_UP, |w, n| w.run_sessions(n));
	let skip = world.tally.sessions.len();
	run_chunked(&mut ext, &mut world, sessions, |w, n| w.run_sessions(n));
	check_invariants(&mut ext);
	Stage { world, skip, seconds: started.elapsed().as_secs_f64() }
}

/// The seat-level stage: a fresh chain with the row's providers and keys but no jobs, whose
/// sessions replay work drawn from `recorded`, for `WARM_UP` then `sessions` sessions.
fn seat_stage(
	strategy: Strategy,
	seed_mode: SeedMode,
	share: f64,
	sessions: u32,
	seed: u64,
	recorded: &[EpochWork],
) -> Stage {
	let started = Instant::now();
	let (mut ext, mut world) = chain_and_world(strategy, seed_mode, share, seed);
	let mut pick = Rng(seed ^ 0x5EA7_5EA7_5EA7_5EA7);
	run_chunked(&mut ext, &mut world, WARM_UP, |w, n| w.run_seat_sessions(n, recorded, &mut pick));
	let skip = world.tally.sessions.len();
	run_chunked(&mut ext, &mut world, sessions, |w, n| w.run_seat_sessions(n, recorded, &mut pick));
	check_invariants(&mut ext);
	Stage { world, skip, seconds: started.elapsed().as_secs_f64() }
}

/// Claims of `party` over both stages' tallies, refused or accepted per `of`.
fn claims(
	tallies: &[&Tally],
	party: Party,
	of: fn(&Tally) -> &std::collections::BTreeMap<Party, u64>,
) -> u64 {
	tallies.iter().map(|t| *of(t).get(&party).unwrap_or(&0)).sum()
}

/// One row: the work-level stage with `sessions`, then (for the runtime's seed) the seat-level
/// stage with `seat_sessions` replaying the work-level stage's recorded work.
fn run(
	strategy: Strategy,
	seed_mode: SeedMode,
	share: f64,
	sessions: u32,
	seat_sessions: u32,
	seed: u64,
) -> Row {
	let work = work_stage(strategy, seed_mode, share, sessions, seed);
	let recorded: Vec<EpochWork> = work.counted().iter().map(|s| s.work.clone()).collect();
	let seats = (seed_mode == SeedMode::EndOfWorkEpoch && seat_sessions > 0)
		.then(|| seat_stage(strategy, seed_mode, share, seat_sessions, seed, &recorded));
	let t = &work.world.tally;
	let counted = work.counted();
	let issuance: Vec<(f64, f64)> =
		counted.iter().map(|s| (s.attacker_minted as f64, s.minted as f64)).collect();
	let (issuance_share, issuance_share_upper) = batch_ratio_upper(&issuance, BATCHES);
	let (work_level_seat_share, work_level_seat_share_upper) = work.seat_share();
	let (seat_share, seat_share_upper) = seats
		.as_ref()
		.map_or((work_level_seat_share, work_level_seat_share_upper), Stage::seat_share);
	let tickets: u128 = counted.iter().map(|s| s.tickets).sum();
	let attacker_tickets: u128 = counted.iter().map(|s| s.attacker_tickets).sum();
	let verified: u128 = t.verified_ms.values().sum();
	let mut tallies = vec![t];
	tallies.extend(seats.as_ref().map(|s| &s.world.tally));
	Row {
		strategy,
		seed_mode,
		capacity_share: work.world.capacity_share(),
		sessions: counted.len(),
		seat_sessions: seats.as_ref().map_or(0, |s| s.counted().len()),
		seat_share,
		seat_share_upper,
		work_level_seat_share,
		work_level_seat_share_upper,
		issuance_share,
		issuance_share_upper,
		ticket_share: attacker_tickets as f64 / tickets.max(1) as f64,
		verified_share: *t.verified_ms.get(&Party::Attacker).unwrap_or(&0) as f64 /
			verified.max(1) as f64,
		smallest_set: tallies.iter().map(|t| t.smallest_set).min().unwrap_or(0),
		largest_set: tallies.iter().map(|t| t.largest_set).max().unwrap_or(0),
		honest_claims_refused: claims(&tallies, Party::Honest, |t| &t.claims_refused),
		honest_claims_accepted: claims(&tallies, Party::Honest, |t| &t.claims_accepted),
		attacker_claims_accepted: claims(&tallies, Party::Attacker, |t| &t.claims_accepted),
		attacker_jobs: t.attacker_jobs,
		attacker_paid_to_others: t.attacker_paid_to_others,
		attacker_paid_to_itself: t.attacker_paid_to_itself,
		invented_accepted: t.invented_accepted,
		declined: t.declined,
		work_seconds: work.seconds,
		seat_seconds: seats.as_ref().map_or(0.0, |s| s.seconds),
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
			\"seat_sessions\":{},\"seat_source\":\"{}\",\"seat_share\":{:.4},\
			\"seat_share_mean\":{:.4},\"work_level_seat_share\":{:.4},\
			\"work_level_seat_share_mean\":{:.4},\"issuance_share\":{:.4},\
			\"issuance_share_mean\":{:.4},\"ticket_share\":{:.4},\"verified_share\":{:.4},\
			\"smallest_set\":{},\"largest_set\":{},\"honest_claims_refused\":{},\
			\"honest_claims_accepted\":{},\"attacker_claims_accepted\":{},\"attacker_jobs\":{},\
			\"attacker_paid_to_others\":{},\"attacker_paid_to_itself\":{},\
			\"invented_results_accepted\":{},\"declined\":{},\"meets_goal\":{},\
			\"work_seconds\":{:.1},\"seat_seconds\":{:.1},\"seconds\":{:.1}}}",
			r.strategy.name(),
			seed_mode_name(r.seed_mode),
			r.capacity_share,
			r.sessions,
			r.seat_sessions,
			if r.seats_from_seat_stage() { "seat_level" } else { "work_level" },
			r.seat_share_upper,
			r.seat_share,
			r.work_level_seat_share_upper,
			r.work_level_seat_share,
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
			r.work_seconds,
			r.seat_seconds,
			r.work_seconds + r.seat_seconds,
		)
	};
	let rows_json: Vec<String> = rows.iter().map(row).collect();
	let base_json: Vec<String> = baseline.iter().map(row).collect();
	format!(
		"{{\n\"command\":\"{COMMAND}\",\n\"honest_providers\":{HONEST},\n\"incumbents\":{},\n\
		\"epoch_issuance\":{EPOCH_ISSUANCE},\n\"note\":\"seat_share and issuance_share are 95 % \
		upper bounds (batch means over {BATCHES} batches); *_mean are the point estimates. \
		sessions counts the work-level stage (jobs, verdicts, draws, claims, seats; the issuance \
		figures); seat_sessions the seat-level stage, which replays the verified work of randomly \
		drawn work-level sessions into the real lottery on a fresh chain without jobs and gives \
		seat_share (seat_source seat_level); work_level_seat_share is the work-level stage's. \
		Rows with main's old seed keep the work-level seats (seat_source work_level).\",\n\
		\"all_goals_met\":{},\n\"wall_seconds\":{wall:.1},\n\"rows\":[\n{}\n],\n\
		\"baseline_rows\":[\n{}\n]\n}}\n",
		INCUMBENTS.len(),
		rows.iter().all(Row::meets_goal),
		rows_json.join(",\n"),
		base_json.join(",\n"),
	)
}

/// `mean / upper` in per cent.
fn mean_and_upper(mean: f64, upper: f64) -> String {
	format!("{:.2} % / {:.2} %", 100.0 * mean, 100.0 * upper)
}

fn markdown(rows: &[Row], baseline: &[Row], wall: f64) -> String {
	let mut s = String::new();
	let _ = writeln!(s, "# Lottery security benchmark\n");
	let work_sessions = rows.iter().chain(baseline).map(|r| r.sessions).max().unwrap_or(0);
	let seat_sessions = rows.iter().map(|r| r.seat_sessions).max().unwrap_or(0);
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
	let _ = writeln!(
		s,
		"Each row runs in two stages. The **work-level stage** ({work_sessions} sessions a row) \
		runs everything: jobs, verdicts, payments, draws, claims and seats. It gives the issuance, \
		ticket and verified-work figures. Seats are noisier: the set has {} seats and at most one \
		changes per session, so {work_sessions} sessions see only about {work_sessions} seat \
		changes, too few to bound a 5 % share within 10 % of itself. The **seat-level stage** \
		({seat_sessions} sessions a row) therefore measures the seats: a draw's seats depend on \
		the work only through each provider's verified work in the epoch (vm-proof's verified \
		milliseconds, weighted by its reputation into tickets), so the work-level stage records, \
		for every counted session, the verified work the lottery snapshotted, and the seat-level \
		stage replays it on a fresh chain with the same providers and keys but no jobs: before \
		each session ends, the verified work of one recorded session, drawn at random (a \
		bootstrap of the work process), is written into vm-proof's storage; the real lottery \
		opens the draw from it with its own seed, the providers claim with their strategies \
		(claiming first, or at the honest block), and the real seat planner seats the winners. \
		The seat-level seats decide the goal; the work-level seats are shown beside them. Rows \
		with main's old seed keep the work-level seats: grinding there exploits the link between \
		the seed and the routing of its work within a session, which the bootstrap would cut.\n",
		INCUMBENTS.len()
	);
	let header = "| strategy | capacity | sessions (work / seat) | seats, work level (mean / 95 % upper) | seats, seat level (mean / 95 % upper) | issuance (mean / 95 % upper) | tickets | verified work | smallest set | honest claims refused | goal |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";
	let line = |r: &Row| {
		format!(
			"| {} | {:.1} % | {} / {} | {} | {} | {} | {:.2} % | {:.2} % | {} | {} of {} | {} |",
			r.strategy.name(),
			100.0 * r.capacity_share,
			r.sessions,
			if r.seats_from_seat_stage() { r.seat_sessions.to_string() } else { "—".into() },
			mean_and_upper(r.work_level_seat_share, r.work_level_seat_share_upper),
			if r.seats_from_seat_stage() {
				mean_and_upper(r.seat_share, r.seat_share_upper)
			} else {
				"— (work level counts)".into()
			},
			mean_and_upper(r.issuance_share, r.issuance_share_upper),
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
		"\n## For comparison: main's seed before issue 12 (public during the work epoch)\n\n\
		The seats here are the work-level stage's (no seat-level stage: see above).\n"
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
			"| {} | {:.1} % | {} | {} | {} | {} | {} |",
			r.label(),
			100.0 * r.capacity_share,
			r.attacker_jobs,
			r.attacker_paid_to_others,
			r.attacker_paid_to_itself,
			r.invented_accepted,
			r.declined,
		);
	}
	let _ = writeln!(s, "\n## Time per row\n");
	let _ = writeln!(
		s,
		"| strategy | capacity | work level (s) | seat level (s) |\n| --- | --- | --- | --- |"
	);
	for r in rows.iter().chain(baseline) {
		let _ = writeln!(
			s,
			"| {} | {:.1} % | {:.0} | {:.0} |",
			r.label(),
			100.0 * r.capacity_share,
			r.work_seconds,
			r.seat_seconds,
		);
	}
	s
}

/// Seat-level sessions for a row with the attacker's capacity `share`, `base` being a 20 % row's.
///
/// The variance of a share estimate grows as `(1 − s) / s` relative to `s²`: for the same
/// relative precision a 5 % row needs about five times a 20 % row's sessions, a 33 % row about
/// half (it keeps `base`, which its bound already meets with room).
fn seat_sessions_for(base: u32, share: f64) -> u32 {
	let factor = (0.25 / share).round().max(1.0) as u32;
	base.saturating_mul(factor)
}

/// A session count from the environment variable `name`, or `default`.
fn sessions_from_env(name: &str, default: u32) -> u32 {
	std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
#[ignore = "benchmark: run with --ignored (see the module docs)"]
fn lottery_security() {
	let sessions = sessions_from_env("SESSIONS", DEFAULT_SESSIONS);
	let seat_sessions = sessions_from_env("SEAT_SESSIONS", DEFAULT_SEAT_SESSIONS);
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
	// Longest rows first, so that the threads finish together.
	let mut order: Vec<usize> = (0..plan.len()).collect();
	order.sort_by(|a, b| f64::total_cmp(&plan[*a].2, &plan[*b].2));
	let next = std::sync::atomic::AtomicUsize::new(0);
	let results = std::sync::Mutex::new(Vec::new());
	std::thread::scope(|scope| {
		for _ in 0..THREADS {
			scope.spawn(|| loop {
				let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
				let Some(k) = order.get(k).copied() else { break };
				let (mode, strategy, share, seed) = plan[k];
				let r =
					run(strategy, mode, share, sessions, seat_sessions_for(seat_sessions, share), seed);
				println!(
					"{} {:.1}%: seats {:.2}% (≤ {:.2}%) over {} seat-level sessions, work-level seats {:.2}% (≤ {:.2}%), issuance {:.2}% (≤ {:.2}%), tickets {:.2}%, smallest set {}, {:.0} s + {:.0} s",
					r.label(),
					100.0 * r.capacity_share,
					100.0 * r.seat_share,
					100.0 * r.seat_share_upper,
					r.seat_sessions,
					100.0 * r.work_level_seat_share,
					100.0 * r.work_level_seat_share_upper,
					100.0 * r.issuance_share,
					100.0 * r.issuance_share_upper,
					100.0 * r.ticket_share,
					r.smallest_set,
					r.work_seconds,
					r.seat_seconds,
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
