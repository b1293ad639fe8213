//! Planning the next validator set from the incumbents and the draw's winners: a pure function,
//! so that every rule is unit-tested on its own.
//!
//! # Why not just seat the winners
//!
//! Seating the winners alone lets one self-dealing party that wins a draw (for example by
//! submitting all the verified work of an epoch) become the whole validator set in one step, and
//! a set of one machine halts the chain when that machine stops. The plan below moves the set
//! towards the winners by at most [`SeatLimits::max_changes`] seats per session and never below
//! a floor of [`SeatLimits::min`] validators.
//!
//! # The algorithm
//!
//! Inputs: the incumbents `I` (the current set, in its order, keeping only those with session
//! keys; the caller filters), the qualified winners `W` (winners with session keys, by
//! ascending VRF output, best first), and the limits `min`, `max`, `c = max_changes`. Duplicates
//! are ignored (the first occurrence counts).
//!
//! 1. `R` = winners that are incumbents (re-elected), by output; `C` = winners that are not
//!    (candidates), by output; `H` = incumbents that did not win (holdovers), in the current
//!    order.
//! 2. Tentatively `enter = min(c, |C|)` candidates enter (the best outputs first), and each
//!    takes the seat of a holdover: `leave = min(enter, |H|)` holdovers leave (the LAST ones in
//!    the current order). A holdover leaves only to make room for a newcomer, so the set never
//!    shrinks while nobody new wins: a draw without claims changes nothing.
//! 3. Floor: while the size `|R| + |H| + enter − leave` is below `min` (only when the keyed
//!    incumbents are fewer than `min`), first fewer holdovers leave, then more candidates enter
//!    (beyond `c`: only seats no keyed incumbent holds, so no keyed incumbent is ever displaced
//!    by more than `c` newcomers). If even every keyed winner and every keyed incumbent together
//!    are fewer than `min`, there is no plan: the current set stays ([`Err`]).
//! 4. Ceiling: while the size is above `max`, first fewer candidates enter without taking a
//!    holdover's seat, then more holdovers leave, then fewer candidates enter at all, then the
//!    worst re-elected winners leave.
//!    (Beyond `c` departures happen only when the incumbents alone exceed `max`, i.e. after
//!    `max` was lowered.)
//! 5. The set is `R` and the entering candidates, merged by output (best first), followed by
//!    the holdovers that stay, in their current order.
//!
//! Consequences (each a unit test below): the size is within `[min, max]`; at most `c`
//! newcomers enter unless the keyed incumbents cannot fill the floor; at most `c` keyed
//! incumbents leave unless they alone exceed `max`, and only for newcomers; the set grows (up to
//! `max`) only when every keyed incumbent won again; a party that wins every draw holds at most
//! `n × c` seats after `n` sessions while honest keyed incumbents remain. Because holdovers are
//! listed after the winners, a holdover that keeps not winning moves to the end of the set and
//! leaves first: the incumbents longest without a win leave first (the genesis order breaks
//! ties).

use alloc::{collections::BTreeSet, vec::Vec};

/// The limits of a plan: the configured `MinValidators`, `MaxValidators` and `MaxSeatChanges`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SeatLimits {
	/// The floor: no planned set is smaller.
	pub min: u32,
	/// The ceiling: no planned set is larger.
	pub max: u32,
	/// The most newcomers that enter and the most incumbents that leave in one plan (save the
	/// floor and ceiling exceptions in the module docs).
	pub max_changes: u32,
}

/// A planned validator set.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SeatPlan<A> {
	/// The new set: winners by ascending output, then the holdovers that stay.
	pub validators: Vec<A>,
	/// How many of them are not incumbents.
	pub newcomers: u32,
	/// How many of them are incumbents (re-elected winners and holdovers).
	pub incumbents: u32,
}

/// How many keyed winners and keyed incumbents there are, when they cannot fill the floor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Shortfall {
	/// Distinct qualified winners.
	pub winners: u32,
	/// Distinct keyed incumbents that did not win.
	pub holdovers: u32,
}

fn len32<X>(v: &[X]) -> u32 {
	u32::try_from(v.len()).unwrap_or(u32::MAX)
}

/// Plan the next set; see the module docs. `incumbents` must hold only accounts with session
/// keys (in the current set's order), `winners` only qualified winners (best output first).
pub fn plan<A: Ord + Clone>(
	incumbents: &[A],
	winners: &[A],
	limits: SeatLimits,
) -> Result<SeatPlan<A>, Shortfall> {
	let mut seen = BTreeSet::new();
	let winners: Vec<&A> = winners.iter().filter(|w| seen.insert(*w)).collect();
	let winner_set = seen;
	let mut seen = BTreeSet::new();
	let incumbents: Vec<&A> = incumbents.iter().filter(|i| seen.insert(*i)).collect();
	let incumbent_set = seen;

	// 1. Re-elected, candidates (both by output) and holdovers (current order).
	let reelected = u32::try_from(winners.iter().filter(|w| incumbent_set.contains(**w)).count())
		.unwrap_or(u32::MAX);
	let candidates = len32(&winners).saturating_sub(reelected);
	let holdovers: Vec<&A> =
		incumbents.iter().filter(|i| !winner_set.contains(**i)).copied().collect();
	let held = len32(&holdovers);

	// 2. Tentative changes.
	let c = limits.max_changes;
	let mut enter = c.min(candidates);
	let mut leave = enter.min(held);
	let mut keep_reelected = reelected;
	let size = |r: u32, e: u32, l: u32| r.saturating_add(held).saturating_add(e).saturating_sub(l);

	// 3. Floor: fewer departures, then more newcomers, else keep the set.
	let short = limits.min.saturating_sub(size(keep_reelected, enter, leave));
	leave = leave.saturating_sub(short);
	let short = limits.min.saturating_sub(size(keep_reelected, enter, leave));
	enter = enter.saturating_add(short).min(candidates);
	if size(keep_reelected, enter, leave) < limits.min {
		return Err(Shortfall { winners: len32(&winners), holdovers: held });
	}

	// 4. Ceiling: fewer newcomers that take no holdover's seat, then more holdovers leave,
	// then fewer newcomers at all, then the worst re-elected.
	let over = size(keep_reelected, enter, leave).saturating_sub(limits.max);
	enter = enter.saturating_sub(over.min(enter.saturating_sub(leave)));
	let over = size(keep_reelected, enter, leave).saturating_sub(limits.max);
	leave = leave.saturating_add(over).min(held);
	let over = size(keep_reelected, enter, leave).saturating_sub(limits.max);
	enter = enter.saturating_sub(over);
	let over = size(keep_reelected, enter, leave).saturating_sub(limits.max);
	keep_reelected = keep_reelected.saturating_sub(over);

	// 5. Winners by output (the kept re-elected and the entering candidates), then holdovers.
	let mut validators = Vec::with_capacity(size(keep_reelected, enter, leave) as usize);
	let (mut r, mut e) = (0u32, 0u32);
	for w in winners {
		if incumbent_set.contains(w) {
			if r < keep_reelected {
				r = r.saturating_add(1);
				validators.push(w.clone());
			}
		} else if e < enter {
			e = e.saturating_add(1);
			validators.push(w.clone());
		}
	}
	let stay = held.saturating_sub(leave) as usize;
	validators.extend(holdovers.into_iter().take(stay).cloned());
	Ok(SeatPlan {
		newcomers: enter,
		incumbents: keep_reelected.saturating_add(u32::try_from(stay).unwrap_or(u32::MAX)),
		validators,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn limits(min: u32, max: u32, max_changes: u32) -> SeatLimits {
		SeatLimits { min, max, max_changes }
	}

	fn set(plan: Result<SeatPlan<u32>, Shortfall>) -> Vec<u32> {
		plan.expect("a plan").validators
	}

	#[test]
	fn one_newcomer_replaces_the_last_holdover() {
		// Floor 4, four keyed incumbents, one keyed winner: 1 newcomer + 3 incumbents.
		let p = plan(&[1, 2, 3, 4], &[9], limits(4, 10, 1)).unwrap();
		assert_eq!(p.validators, vec![9, 1, 2, 3]);
		assert_eq!((p.newcomers, p.incumbents), (1, 3));
	}

	#[test]
	fn the_best_outputs_enter_first() {
		let p = plan(&[1, 2, 3, 4], &[7, 8, 9], limits(4, 10, 2)).unwrap();
		assert_eq!(p.validators, vec![7, 8, 1, 2]);
		assert_eq!((p.newcomers, p.incumbents), (2, 2));
	}

	#[test]
	fn reelected_incumbents_keep_their_seats_and_are_not_newcomers() {
		// 3 won again, 9 is new: 9 enters, 4 (the last holdover) leaves.
		let p = plan(&[1, 2, 3, 4], &[3, 9], limits(4, 10, 1)).unwrap();
		assert_eq!(p.validators, vec![3, 9, 1, 2]);
		assert_eq!((p.newcomers, p.incumbents), (1, 3));
	}

	#[test]
	fn holdovers_leave_only_to_make_room_for_newcomers() {
		// Only incumbents won: nobody leaves, the winners move to the front.
		assert_eq!(set(plan(&[1, 2, 3, 4, 5], &[2, 4], limits(1, 10, 1))), vec![2, 4, 1, 3, 5]);
		// One newcomer: the last holdover leaves for it.
		let p = plan(&[1, 2, 3, 4, 5], &[2, 9], limits(1, 10, 1)).unwrap();
		assert_eq!(p.validators, vec![2, 9, 1, 3, 4]);
		assert_eq!((p.newcomers, p.incumbents), (1, 4));
		// Every incumbent won again: the newcomer is added, the set grows.
		assert_eq!(set(plan(&[1, 2], &[2, 9, 1], limits(1, 10, 1))), vec![2, 9, 1]);
	}

	#[test]
	fn a_party_winning_every_draw_gains_at_most_c_seats_per_session() {
		let attacker: Vec<u32> = (100..110).collect();
		for c in 1..=3u32 {
			let mut current = vec![1, 2, 3, 4];
			for n in 1..=4u32 {
				current = set(plan(&current, &attacker, limits(4, 4, c)));
				let theirs = current.iter().filter(|v| **v >= 100).count() as u32;
				assert!(theirs <= (n * c).min(4), "c {c}, session {n}: {theirs} seats");
				assert_eq!(theirs, (n * c).min(4));
				assert_eq!(current.len(), 4);
			}
		}
	}

	#[test]
	fn the_set_never_falls_below_the_floor() {
		// Nothing won: the incumbents stay, none leaves.
		assert_eq!(set(plan(&[1, 2, 3], &[], limits(3, 10, 1))), vec![1, 2, 3]);
		assert_eq!(set(plan(&[1, 2, 3, 4], &[], limits(1, 10, 1))), vec![1, 2, 3, 4]);
		// Keyless incumbents are gone: a newcomer fills the floor without displacing anyone.
		assert_eq!(set(plan(&[1, 2], &[9], limits(3, 10, 1))), vec![9, 1, 2]);
	}

	#[test]
	fn newcomers_beyond_c_fill_only_seats_no_keyed_incumbent_holds() {
		// Two keyed incumbents, floor 4, c = 1: two newcomers are needed and enter; no
		// incumbent leaves.
		let p = plan(&[1, 2], &[7, 8, 9], limits(4, 10, 1)).unwrap();
		assert_eq!(p.validators, vec![7, 8, 1, 2]);
		assert_eq!((p.newcomers, p.incumbents), (2, 2));
		// No incumbents at all (the first plan of a chain whose genesis set has no keys).
		assert_eq!(set(plan(&[], &[7, 8, 9], limits(2, 10, 1))), vec![7, 8]);
	}

	#[test]
	fn too_few_keyed_winners_and_incumbents_keep_the_set() {
		assert_eq!(
			plan(&[1, 2], &[9], limits(4, 10, 1)),
			Err(Shortfall { winners: 1, holdovers: 2 })
		);
		// A winner that is an incumbent counts once.
		assert_eq!(
			plan(&[1, 2, 3], &[3], limits(4, 10, 1)),
			Err(Shortfall { winners: 1, holdovers: 2 })
		);
	}

	#[test]
	fn the_ceiling_holds() {
		// Full of re-elected incumbents: no newcomer enters.
		assert_eq!(set(plan(&[1, 2, 3], &[3, 9, 2, 1], limits(1, 3, 1))), vec![3, 2, 1]);
		// No incumbents, many winners, many changes allowed: the best `max`.
		assert_eq!(set(plan(&[], &[5, 6, 7, 8, 9], limits(1, 3, 10))), vec![5, 6, 7]);
		// Incumbents beyond a lowered ceiling: holdovers leave first, then the worst winners.
		assert_eq!(set(plan(&[1, 2, 3, 4, 5], &[4, 5], limits(1, 3, 1))), vec![4, 5, 1]);
		assert_eq!(set(plan(&[1, 2, 3, 4, 5], &[5, 4, 3, 2], limits(1, 3, 1))), vec![5, 4, 3]);
	}

	#[test]
	fn duplicates_count_once() {
		let p = plan(&[1, 1, 2], &[9, 9], limits(2, 10, 1)).unwrap();
		assert_eq!(p.validators, vec![9, 1]);
		assert_eq!((p.newcomers, p.incumbents), (1, 1));
	}

	#[test]
	fn size_and_change_bounds_hold_for_every_small_case() {
		// Exhaustive over small inputs: incumbents 0..6 of 1..=6, winners any subset order of
		// 1..=9 prefixes, limits small.
		for n_inc in 0..=6u32 {
			let incumbents: Vec<u32> = (1..=n_inc).collect();
			for first in 1..=9u32 {
				for n_win in 0..=5u32 {
					let winners: Vec<u32> = (first..first + n_win).collect();
					for min in 1..=5u32 {
						for max in min..=6u32 {
							for c in 1..=3u32 {
								let l = limits(min, max, c);
								let Ok(p) = plan(&incumbents, &winners, l) else { continue };
								let v = &p.validators;
								let size = v.len() as u32;
								assert!(
									size >= min && size <= max,
									"{incumbents:?} {winners:?} {l:?} {v:?}"
								);
								assert_eq!(p.newcomers + p.incumbents, size);
								let mut dedup = v.clone();
								dedup.sort();
								dedup.dedup();
								assert_eq!(dedup.len(), v.len(), "duplicates in {v:?}");
								assert!(v
									.iter()
									.all(|x| incumbents.contains(x) || winners.contains(x)));
								let left = n_inc - p.incumbents;
								if n_inc <= max {
									assert!(left <= c, "{left} left ({incumbents:?}, {l:?})");
								}
								if n_inc + c >= min {
									assert!(p.newcomers <= c);
								}
							}
						}
					}
				}
			}
		}
	}
}
