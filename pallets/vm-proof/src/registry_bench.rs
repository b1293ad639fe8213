//! Scale benchmark of the registry (issue 13): 100,000 providers registered through
//! `register_provider` into the draw index ([`crate::index`]), the native cost of each
//! registry operation at that size against a small registry, the state per provider, and the
//! fairness of the draw: 100,000 one-replica draws among 10,000 equal providers, put to a
//! chi-square test. Figures go to `bench/registry.md` and into `bench/scale.json`.
//!
//! Run it with (about 20 seconds in release; ignored by the default `cargo test`):
//!
//! ```text
//! cargo test --release -p pallet-vm-proof registry_bench -- --ignored --nocapture
//! ```
//!
//! Nothing stands in for the registry: providers register, heartbeat and are drawn through
//! the pallet's own calls and index on the mock's storage. The times are native, on this
//! machine: they show how a cost grows with the number of providers; the charged weights are
//! the runtime benchmarks' (`scripts/bench-weights.sh`).

use crate::{index, mock::*, pallet::*, types::*};
use codec::Encode;
use frame_support::{assert_ok, traits::fungible::Mutate};
use povm_primitives::{Arch, Resources};
use std::{fmt::Write as _, time::Instant};

/// The command that writes the bench files (named in `docs/testing.md`).
const COMMAND: &str =
	"cargo test --release -p pallet-vm-proof registry_bench -- --ignored --nocapture";
/// Providers registered for the scale figures.
const PROVIDERS: u64 = 100_000;
/// The small registry the same operations are timed on, for comparison.
const SMALL: u64 = 100;
/// Operations of each kind timed at each size.
const SAMPLE: u64 = 2_000;
/// Providers in the fairness draw.
const FAIR_PROVIDERS: u64 = 10_000;
/// Replicas drawn among them.
const FAIR_REPLICAS: u64 = 100_000;
/// The first provider account.
const FIRST: AccountId = 1_000_000;
/// A job the mock offer covers.
const JOB: Resources = Resources { millicores: 1_000, memory_mib: 256, max_seconds: 60 };

/// The `i`-th random number of draw `key`: blake2 of both, as the runtime's randomness would
/// give (a fixed sequence, so the figures repeat).
fn random(key: u64, i: u32) -> u64 {
	let h = sp_io::hashing::blake2_256(&(b"bench/draw", key, i).encode());
	u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// Register `n` providers from `FIRST` with `slots` slots each.
fn register_many(n: u64, slots: u32) -> f64 {
	MaxProviders::set(u32::MAX);
	let started = Instant::now();
	for who in FIRST..FIRST + n {
		assert_ok!(<Balances as Mutate<_>>::mint_into(&who, 10_000));
		assert_ok!(VmProof::register_provider(
			RuntimeOrigin::signed(who),
			VmOffer { slots, ..offer() },
			1_000
		));
	}
	started.elapsed().as_secs_f64() / n as f64 * 1e6
}

/// Bytes (keys and values) the vm-proof pallet holds in storage.
fn pallet_bytes() -> u64 {
	let prefix = sp_io::hashing::twox_128(b"VmProof").to_vec();
	let mut key = prefix.clone();
	let mut total = 0u64;
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(&prefix) {
			break;
		}
		let value = sp_io::storage::get(&next).map_or(0, |v| v.len());
		total += (next.len() + value) as u64;
		key = next;
	}
	total
}

/// Native µs of each operation at one registry size.
#[derive(Clone, Copy, Default)]
struct Costs {
	providers: u64,
	register_us: f64,
	draw_1_us: f64,
	draw_3_us: f64,
	heartbeat_back_us: f64,
	take_and_free_us: f64,
	bytes_per_provider: u64,
}

/// Register `n` providers, then time draws, a heartbeat that brings a provider back into the
/// index, and a slot taken and freed.
fn costs(n: u64) -> Costs {
	let mut out = Costs { providers: n, ..Default::default() };
	ExtBuilder::default().build().execute_with(|| {
		let before = pallet_bytes();
		out.register_us = register_many(n, 2);
		out.bytes_per_provider = (pallet_bytes() - before) / n;
		let time = |f: &mut dyn FnMut(u64)| {
			let started = Instant::now();
			for k in 0..SAMPLE {
				f(k);
			}
			started.elapsed().as_secs_f64() / SAMPLE as f64 * 1e6
		};
		out.draw_1_us = time(&mut |k| {
			let d = VmProof::draw_from_index(&JOB, Arch::X86_64, 1, &[], &mut |i| random(k, i))
				.providers;
			assert_eq!(d.len(), 1);
		});
		out.draw_3_us = time(&mut |k| {
			let d = VmProof::draw_from_index(&JOB, Arch::X86_64, 3, &[], &mut |i| random(k, i))
				.providers;
			assert_eq!(d.len(), 3);
		});
		// A provider out of the index (weight 0: its heartbeat lapsed) heartbeats back in: the
		// worst heartbeat. Only the heartbeat is timed.
		let mut spent = 0f64;
		for k in 0..SAMPLE {
			let who = FIRST + (k * 7919) % n;
			Providers::<Test>::mutate(who, |i| i.as_mut().expect("registered").last_heartbeat = 0);
			Epoch::set(2);
			assert_ok!(VmProof::reindex(&who));
			assert_eq!(IndexPlaces::<Test>::get(who).map(|p| p.weight), Some(0));
			Epoch::set(0);
			let started = Instant::now();
			assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(who)));
			spent += started.elapsed().as_secs_f64();
		}
		out.heartbeat_back_us = spent / SAMPLE as f64 * 1e6;
		// A slot taken (the draw's assignment) and freed (the verdict).
		out.take_and_free_us = time(&mut |k| {
			let who = FIRST + (k * 104_729) % n;
			ProviderJobs::<Test>::mutate(who, |jobs| jobs.try_push(1_000_000 + k).expect("slot"));
			assert_ok!(VmProof::reindex(&who));
			VmProof::release_slot(1_000_000 + k, &who);
		});
		assert_ok!(VmProof::try_state_index());
	});
	out
}

struct Fairness {
	providers: u64,
	replicas: u64,
	chi2: f64,
	p: f64,
	last_count: u64,
	expected: f64,
	min: u64,
	max: u64,
	seconds: f64,
}

/// 100,000 one-replica draws among 10,000 providers of one free slot each, registered one
/// after another, through the index's draw.
fn fairness() -> Fairness {
	let mut out = None;
	ExtBuilder::default().build().execute_with(|| {
		register_many(FAIR_PROVIDERS, 1);
		let mut counts = vec![0u64; FAIR_PROVIDERS as usize];
		let started = Instant::now();
		for job in 0..FAIR_REPLICAS {
			let drawn =
				VmProof::draw_from_index(&JOB, Arch::X86_64, 1, &[], &mut |i| random(job, i))
					.providers;
			counts[(drawn[0] - FIRST) as usize] += 1;
		}
		let seconds = started.elapsed().as_secs_f64();
		let expected = FAIR_REPLICAS as f64 / FAIR_PROVIDERS as f64;
		let chi2: f64 = counts.iter().map(|c| (*c as f64 - expected).powi(2) / expected).sum();
		let p = chi2_upper_tail(chi2, (FAIR_PROVIDERS - 1) as f64);
		out = Some(Fairness {
			providers: FAIR_PROVIDERS,
			replicas: FAIR_REPLICAS,
			chi2,
			p,
			last_count: counts[counts.len() - 1],
			expected,
			min: *counts.iter().min().unwrap_or(&0),
			max: *counts.iter().max().unwrap_or(&0),
			seconds,
		});
	});
	out.expect("figures")
}

/// `erfc(x)` (Numerical Recipes' `erfcc`, fractional error below 1.2e-7).
fn erfc(x: f64) -> f64 {
	let z = x.abs();
	let t = 1.0 / (1.0 + 0.5 * z);
	let poly = -z * z - 1.265_512_23 +
		t * (1.000_023_68 +
			t * (0.374_091_96 +
				t * (0.096_784_18 +
					t * (-0.186_288_06 +
						t * (0.278_868_07 +
							t * (-1.135_203_98 +
								t * (1.488_515_87 +
									t * (-0.822_152_23 + t * 0.170_872_77))))))));
	let r = t * poly.exp();
	if x >= 0.0 {
		r
	} else {
		2.0 - r
	}
}

/// `P(X ≥ x)` for a chi-square variable of `k` degrees of freedom, by the Wilson–Hilferty
/// cube-root normal approximation (accurate to about 1e-3 at `k` = 10, far better at the
/// 9,999 degrees of freedom used here).
fn chi2_upper_tail(x: f64, k: f64) -> f64 {
	let h = 2.0 / (9.0 * k);
	let z = ((x / k).powf(1.0 / 3.0) - (1.0 - h)) / h.sqrt();
	0.5 * erfc(z / std::f64::consts::SQRT_2)
}

#[test]
fn the_chi_square_tail_matches_the_tables() {
	// Critical values from the chi-square table: P(X ≥ x) at k degrees of freedom.
	for (x, k, p) in [(18.307, 10.0, 0.05), (23.209, 10.0, 0.01), (124.342, 100.0, 0.05)] {
		let got = chi2_upper_tail(x, k);
		assert!((got - p).abs() < 0.002, "P(X ≥ {x}; {k}) = {got}, table {p}");
	}
	// The mean k of a chi-square of many degrees of freedom lies just above its median.
	let at_mean = chi2_upper_tail(9_999.0, 9_999.0);
	assert!((0.49..0.5).contains(&at_mean), "{at_mean}");
	assert!((erfc(0.0) - 1.0).abs() < 1e-7 && (erfc(1.0) - 0.157_299_2).abs() < 1e-6);
}

#[test]
#[ignore = "the registry benchmark writes bench/registry.md and bench/scale.json: run it with --ignored"]
fn registry_bench() {
	let started = Instant::now();
	let small = costs(SMALL);
	let large = costs(PROVIDERS);
	for c in [&small, &large] {
		println!(
			"{} providers: register {:.1} µs, draw of 1 {:.1} µs, of 3 {:.1} µs, heartbeat back \
			 {:.1} µs, slot taken and freed {:.1} µs, {} bytes per provider",
			c.providers,
			c.register_us,
			c.draw_1_us,
			c.draw_3_us,
			c.heartbeat_back_us,
			c.take_and_free_us,
			c.bytes_per_provider
		);
	}
	let f = fairness();
	println!(
		"fairness: {} replicas among {} providers: chi2 {:.1}, p {:.4}; last registered {} \
		 (expected {:.1}), min {}, max {} ({:.1} s)",
		f.replicas, f.providers, f.chi2, f.p, f.last_count, f.expected, f.min, f.max, f.seconds
	);
	let wall = started.elapsed().as_secs_f64();
	let bench = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
	std::fs::create_dir_all(&bench).expect("bench directory");
	let existing = std::fs::read_to_string(bench.join("scale.json")).ok();
	std::fs::write(bench.join("scale.json"), json(&small, &large, &f, wall, existing.as_deref()))
		.expect("write scale.json");
	std::fs::write(bench.join("registry.md"), markdown(&small, &large, &f, wall))
		.expect("write registry.md");
	assert!(f.p >= 0.01, "the draw fails the chi-square test: p = {}", f.p);
}

fn round2(x: f64) -> f64 {
	(x * 100.0).round() / 100.0
}

fn costs_json(c: &Costs) -> serde_json::Value {
	serde_json::json!({
		"providers": c.providers,
		"state_bytes_per_provider": c.bytes_per_provider,
		"native_us": {
			"register_provider": round2(c.register_us),
			"draw_1_replica": round2(c.draw_1_us),
			"draw_3_replicas": round2(c.draw_3_us),
			"heartbeat_back_into_the_index": round2(c.heartbeat_back_us),
			"slot_taken_and_freed": round2(c.take_and_free_us),
		},
	})
}

/// The figures merged into `existing` (the former `bench/scale.json`): this benchmark owns
/// `providers`, `fairness_chi2_p`, `fairness` and `registry`.
fn json(small: &Costs, large: &Costs, f: &Fairness, wall: f64, existing: Option<&str>) -> String {
	use serde_json::{json, Map, Value};
	let mut out: Map<String, Value> = existing
		.and_then(|text| serde_json::from_str::<Value>(text).ok())
		.and_then(|v| v.as_object().cloned())
		.unwrap_or_default();
	out.insert("providers".into(), json!(large.providers));
	out.insert("fairness_chi2_p".into(), json!((f.p * 10_000.0).round() / 10_000.0));
	out.insert(
		"fairness".into(),
		json!({
			"generated_by": COMMAND,
			"providers": f.providers,
			"replicas": f.replicas,
			"chi2": (f.chi2 * 10.0).round() / 10.0,
			"degrees_of_freedom": f.providers - 1,
			"last_registered_count": f.last_count,
			"expected_count": f.expected,
			"min_count": f.min,
			"max_count": f.max,
			"seconds": (f.seconds * 10.0).round() / 10.0,
			"note": "providers of one free slot each registered one after another, one-replica \
				draws through the registry's index (Pallet::draw_from_index)",
		}),
	);
	out.insert(
		"registry".into(),
		json!({
			"generated_by": COMMAND,
			"wall_seconds": (wall * 10.0).round() / 10.0,
			"index_depth": index::INDEX_DEPTH,
			"class_capacity": index::CLASS_CAPACITY,
			"at_scale": costs_json(large),
			"small": costs_json(small),
		}),
	);
	format!("{}\n", serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default())
}

fn markdown(small: &Costs, large: &Costs, f: &Fairness, wall: f64) -> String {
	let mut s = String::new();
	let _ = writeln!(s, "# Registry benchmark (issue 13)\n");
	let _ = writeln!(
		s,
		"Generated by `{COMMAND}` ({wall:.0} s). Native times on this machine (mock runtime, \
		the registry's real storage and code, every provider registered through \
		`register_provider`); the charged weights come from `pallets/vm-proof/src/weights.rs` and \
		`pallets/job-queue/src/weights.rs`.\n"
	);
	let _ = writeln!(s, "## Cost against the number of providers\n");
	let _ = writeln!(
		s,
		"| native µs each | {} providers | {} providers |",
		small.providers, large.providers
	);
	let _ = writeln!(s, "|---|---:|---:|");
	let rows: [(&str, fn(&Costs) -> f64); 5] = [
		("`register_provider`", |c| c.register_us),
		("a draw of 1 replica", |c| c.draw_1_us),
		("a draw of 3 replicas", |c| c.draw_3_us),
		("a heartbeat that brings a provider back into the index", |c| c.heartbeat_back_us),
		("a slot taken and freed (assignment and verdict)", |c| c.take_and_free_us),
	];
	for (name, get) in rows {
		let _ = writeln!(s, "| {name} | {:.2} | {:.2} |", get(small), get(large));
	}
	let _ = writeln!(
		s,
		"| state bytes per provider (vm-proof storage, keys included) | {} | {} |\n",
		small.bytes_per_provider, large.bytes_per_provider
	);
	let _ = writeln!(
		s,
		"A draw reads the class totals, then per pick at most {} Fenwick nodes, the member, its \
		place and its record: `O(log n)`; a change of one provider's free slots writes at most {} \
		nodes. Each resource class holds at most {} providers.\n",
		index::INDEX_DEPTH + 1,
		index::INDEX_DEPTH,
		index::CLASS_CAPACITY
	);
	let _ = writeln!(s, "## Fairness of the draw\n");
	let _ = writeln!(
		s,
		"{} one-replica draws through the index among {} providers of one free slot each, \
		registered one after another: chi-square {:.1} on {} degrees of freedom, **p = {:.4}** \
		(goal ≥ 0.01). The provider registered last was drawn {} times against {:.1} expected; \
		counts ranged from {} to {}. ({:.1} s)",
		f.replicas,
		f.providers,
		f.chi2,
		f.providers - 1,
		f.p,
		f.last_count,
		f.expected,
		f.min,
		f.max,
		f.seconds
	);
	s
}
