//! Verdicts by iterative redundancy, settlement inputs, and the checkpoint Merkle fold.

use crate::{energy, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, BoundedVec};
use povm_primitives::{JobLedger, Settlement};
use sp_runtime::DispatchResult;

/// Merkle root of checkpoint leaves, shared with the worker: domain-separated leaf and inner
/// nodes, an odd last node promoted unchanged, no leaves give 32 zero bytes (see
/// [`povm_primitives::attestation`]).
pub use povm_primitives::attestation::merkle_root;

/// First index where two leaf sequences differ (the shorter length if one is a prefix).
pub fn first_difference(a: &[Digest], b: &[Digest]) -> Option<u32> {
	let n = a.iter().zip(b.iter()).position(|(x, y)| x != y).or_else(|| {
		if a.len() != b.len() {
			Some(a.len().min(b.len()))
		} else {
			None
		}
	})?;
	u32::try_from(n).ok()
}

/// What replicas must agree on: the result digest and the digest of the small output.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AgreementKey {
	/// The result digest (exit code, flags, stdout/stderr digests, output files).
	pub result_digest: Digest,
	/// blake2-256 of the small output published on chain.
	pub output_digest: Digest,
}

/// The agreement key of a reveal, its output digest computed from the revealed bytes.
pub fn agreement_key(reveal: &Reveal) -> AgreementKey {
	AgreementKey {
		result_digest: reveal.result_digest,
		output_digest: povm_primitives::attestation::output_digest(&reveal.output),
	}
}

/// The agreeing reveal whose output and checkpoints root are published for `winner`.
///
/// Among the records that agree on `winner`, the checkpoints root most of them share is
/// taken (the earliest such record on a tie), so that one agreeing replica alone cannot
/// publish a root of its own. Returns `None` when no record's output hashes to
/// `winner.output_digest` or its result differs: the chain never publishes an output that
/// does not hash to the agreed digest.
pub fn published_record<'a, R: AsRef<Reveal>>(
	records: &[&'a R],
	winner: &AgreementKey,
) -> Option<&'a R> {
	let matching: Vec<&'a R> = records
		.iter()
		.copied()
		.filter(|r| agreement_key(r.as_ref()) == *winner)
		.collect();
	let votes =
		|root: &Digest| matching.iter().filter(|r| r.as_ref().checkpoints_root == *root).count();
	let mut best: Option<(&'a R, usize)> = None;
	for r in matching.iter() {
		let n = votes(&r.as_ref().checkpoints_root);
		if best.map_or(true, |(_, b)| n > b) {
			best = Some((*r, n));
		}
	}
	best.map(|(r, _)| r)
}

/// `records` with every reveal's usage capped at `bound`, the job's
/// [`Resources::usage_bound`].
///
/// A reveal accepted since storage version 2 is within the bound already (`reveal_result`
/// refuses one above it); a reveal stored before the upgrade may not be, and must not reach the
/// medians, the pay, the verified time or the footprint.
pub fn capped_usage<A, R: AsMut<Reveal>>(records: Vec<(A, R)>, bound: &Usage) -> Vec<(A, R)> {
	records
		.into_iter()
		.map(|(who, mut r)| {
			let reveal = r.as_mut();
			reveal.usage = reveal.usage.capped_at(bound);
			(who, r)
		})
		.collect()
}

fn median(mut v: Vec<u64>) -> u64 {
	if v.is_empty() {
		return 0;
	}
	v.sort_unstable();
	let mid = v.len() / 2;
	if v.len() % 2 == 1 {
		v[mid]
	} else {
		// Lower median of an even count: never above either middle claim.
		v[mid - 1]
	}
}

/// Upper median: the middle value, or the higher of the two middle values of an even count
/// (0 for none).
fn upper_median(mut v: Vec<u64>) -> u64 {
	v.sort_unstable();
	v.get(v.len() / 2).copied().unwrap_or(0)
}

/// `price_per_second × wall_ms / 1000`, saturating.
fn pay_for<B: sp_runtime::traits::AtLeast32BitUnsigned + Copy>(
	price_per_second: B,
	wall_ms: u64,
) -> B {
	price_per_second.saturating_mul(B::unique_saturated_from(wall_ms)) / B::from(1000u32)
}

/// Whether `agreeing` replicas of the accepted result are a clear majority against the `group`
/// replicas that revealed one dissenting result, so that the dissent is a wrong result and
/// slashed: the accepted result has at least twice the votes (two thirds of the two) and leads
/// by at least two.
///
/// A lead of one is what chance gives a non-deterministic program (three replicas of a coin
/// flip split 2 : 1 three times in four), so 2 : 1 never slashes the single dissenter, nor a
/// colluding pair that outvotes one honest replica; 3 : 1 does. A pair that dissents together
/// is slashed at 4 : 2, not at 3 : 2. Each dissenting result is judged against its own group,
/// so several random cheaters cannot shield one another by each adding a dissent.
pub fn clear_majority(agreeing: u32, group: u32) -> bool {
	agreeing >= group.saturating_mul(2) && agreeing >= group.saturating_add(2)
}

impl<T: Config> Pallet<T> {
	/// Take the verdict on `job` once no committed member is left to reveal.
	///
	/// The revealed results are grouped by [`AgreementKey`]: result digest and output digest
	/// (usage differs between honest replicas and is never part of agreement). If at least
	/// `min_replicas` members
	/// revealed validly and the leader leads the runner-up by the policy margin, it is accepted.
	/// Otherwise (too few valid reveals, e.g. after no-shows, or no clear leader), while fewer
	/// than `max_replicas` replicas revealed validly, more providers are drawn (enough to reach
	/// `min_replicas`, at least one); when none can be drawn or the bound is reached, the job is
	/// disputed.
	///
	/// Returns whether a draw of providers was tried, whatever it drew: its caller is charged
	/// for one then.
	pub(crate) fn evaluate(job: JobId) -> Result<bool, DispatchError> {
		let round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let terms = T::Jobs::job_terms(job).ok_or(Error::<T>::NoRound)?;
		let revealed = Self::revealed_records(job, &round);

		// Each reveal's agreement key (a hash of its output), computed once.
		let keys: Vec<AgreementKey> =
			revealed.iter().map(|(_, r)| agreement_key(&r.reveal)).collect();
		// Tally by agreement key, in order of first appearance.
		let mut tally: Vec<(AgreementKey, u32)> = Vec::new();
		for key in keys.iter() {
			match tally.iter_mut().find(|(k, _)| k == key) {
				Some((_, n)) => *n = n.saturating_add(1),
				None => tally.push((*key, 1)),
			}
		}
		tally.sort_by(|a, b| b.1.cmp(&a.1));
		let lead = tally.first().map(|t| t.1).unwrap_or(0);
		let runner = tally.get(1).map(|t| t.1).unwrap_or(0);

		let valid = revealed.len() as u32;
		// No-shows must not shrink the replica count a verdict rests on.
		if valid >= terms.redundancy.min_replicas &&
			lead >= 1 && lead.saturating_sub(runner) >= terms.redundancy.margin
		{
			let winner = tally[0].0;
			// A leader without a trusted member is not accepted: one more replica is drawn
			// below, or the job is disputed (see `crate::trust`).
			let agreeing = revealed
				.iter()
				.zip(keys.iter())
				.filter(|(_, k)| **k == winner)
				.map(|((w, _), _)| w);
			if Self::carries_verdict(agreeing) {
				return Self::accept(job, round, terms, revealed, keys, winner).map(|()| false);
			}
		}

		let room = terms.redundancy.max_replicas.saturating_sub(valid);
		let want = terms.redundancy.min_replicas.saturating_sub(valid).max(1).min(room);
		if want > 0 {
			let added = T::Jobs::assign_more(job, want)?;
			if !added.is_empty() {
				Self::deposit_event(Event::MoreReplicasRequested {
					job,
					added: added.len() as u32,
				});
				return Ok(true);
			}
		}
		// Divergence between the two leading results.
		let first_divergence = match (tally.first(), tally.get(1)) {
			(Some((a, _)), Some((b, _))) => {
				let first_with = |key: &AgreementKey| {
					revealed.iter().zip(keys.iter()).find(|(_, k)| *k == key).map(|((_, r), _)| r)
				};
				match (first_with(a), first_with(b)) {
					(Some(x), Some(y)) => first_difference(&x.leaves, &y.leaves),
					_ => None,
				}
			},
			_ => None,
		};
		Self::close_round(job, &round);
		let payments = Self::dispute_payments(&terms, &revealed);
		let paid = BoundedVec::truncate_from(payments.iter().map(|(w, _)| w.clone()).collect());
		T::Jobs::dispute(job, first_divergence, payments)?;
		Self::deposit_event(Event::ResultDisputed { job, first_divergence, paid });
		Ok(want > 0)
	}

	fn accept(
		job: JobId,
		round: Round<T>,
		terms: povm_primitives::JobTerms<T::AccountId, BalanceOf<T>>,
		revealed: Vec<(T::AccountId, RevealRecord<T>)>,
		keys: Vec<AgreementKey>,
		winner: AgreementKey,
	) -> DispatchResult {
		let params = T::Jobs::protocol_params();
		let epoch = T::Epoch::get();
		// `keys[i]` is `revealed[i]`'s agreement key, from the tally.
		let (agree, dissent): (Vec<_>, Vec<_>) =
			revealed.into_iter().zip(keys).partition(|(_, k)| *k == winner);
		let agree: Vec<_> = agree.into_iter().map(|(record, _)| record).collect();
		let (dissent, dissent_keys): (Vec<_>, Vec<AgreementKey>) = dissent.into_iter().unzip();
		let agree = capped_usage(agree, &terms.resources.usage_bound());
		let agreed: Vec<&RevealRecord<T>> = agree.iter().map(|(_, r)| r).collect();
		let leader = published_record(&agreed, &winner).ok_or(Error::<T>::RevealMismatch)?;

		let max_wall_ms = (terms.resources.max_seconds as u64).saturating_mul(1000);
		let med = Usage {
			cpu_ms: median(agree.iter().map(|(_, r)| r.reveal.usage.cpu_ms).collect()),
			memory_mib_s: median(agree.iter().map(|(_, r)| r.reveal.usage.memory_mib_s).collect()),
			wall_ms: median(agree.iter().map(|(_, r)| r.reveal.usage.wall_ms).collect())
				.min(max_wall_ms),
		};

		// Verified time (lottery tickets) needs independent agreement (issue 12): a result
		// resting on fewer than two agreeing replicas of providers other than the job's owner is
		// paid and its footprint recorded, but earns no verified time; the owner's own replica
		// never earns any on its job; and no replica is credited more than the blocks it held
		// its slot before committing (`SlotHold::held_ms`). See `credited_millis`.
		let independent = agree.iter().filter(|(who, _)| *who != terms.owner).count();
		let credits_time = independent >= 2;
		let mut payments = Vec::new();
		let mut total = Footprint::default();
		let mut epoch_total = FootprintTotal::default();
		for (who, r) in agree.iter() {
			let u = r.reveal.usage;
			let capped = Usage {
				cpu_ms: u.cpu_ms.min(med.cpu_ms),
				memory_mib_s: u.memory_mib_s.min(med.memory_mib_s),
				wall_ms: u.wall_ms.min(med.wall_ms),
			};
			// Pay, verified time and footprint all follow the capped claim: a replica that claims
			// more than the agreeing replicas' (lower) median is paid the median, so a lazy
			// over-claimer is never paid more than the honest replica beside it. The other way
			// round, a replica claiming less lowers everyone's cap; it must still have run the job
			// to agree (commitments are sealed), and it cuts its own pay as much as the others'
			// (docs/protocol.md, known limitations).
			payments.push((who.clone(), pay_for(terms.price_per_second, capped.wall_ms)));

			let Some(mut info) = Providers::<T>::get(who) else { continue };
			let fp = energy::footprint(&capped, &info.offer);
			total = total.saturating_add(fp);
			epoch_total = epoch_total.add(fp);
			info.agreed = info.agreed.saturating_add(1);
			info.total = info.total.saturating_add(1);
			let reputation = Self::reputation_of(&info);
			Providers::<T>::insert(who, info);
			ProviderFootprint::<T>::mutate(who, |f| *f = f.add(fp));
			let vm_millis = if credits_time && *who != terms.owner {
				Self::credited_millis(job, who, capped.wall_ms)
			} else {
				0
			};
			// Tickets are credited now, at the reputation after this verdict: every provider's
			// verified work counts, however many there are (the lottery's ticket ledger).
			if vm_millis > 0 {
				<T::Lottery as povm_primitives::TicketLedger<T::AccountId>>::credit(
					epoch, who, vm_millis, reputation,
				);
			}
			Self::deposit_event(Event::WorkVerified {
				job,
				who: who.clone(),
				epoch,
				vm_millis,
				energy_uwh: fp.energy_uwh,
				carbon_ug: fp.carbon_ug,
				reputation,
			});
		}
		EpochFootprint::<T>::mutate(epoch, |f| {
			f.energy_uwh = f.energy_uwh.saturating_add(epoch_total.energy_uwh);
			f.carbon_ug = f.carbon_ug.saturating_add(epoch_total.carbon_ug);
		});

		// Trust as it stood when the verdict was taken: vouching below must not let a member
		// vouched for by this verdict dissent as a trusted one in it.
		let dissent_trusted: Vec<bool> =
			dissent.iter().map(|(who, _)| Self::is_trusted(who)).collect();
		let first_wave =
			|who: &T::AccountId| round.members.iter().any(|m| &m.who == who && m.wave == 0);
		Self::vouch(&agree.iter().map(|(w, _)| (w.clone(), first_wave(w))).collect::<Vec<_>>());

		let mut first_divergence: Option<u32> = None;
		for (((who, r), key), trusted) in
			dissent.iter().zip(dissent_keys.iter()).zip(dissent_trusted.iter())
		{
			// Replicas that revealed this dissenter's result.
			let group = dissent_keys.iter().filter(|k| *k == key).count();
			if *trusted {
				Self::trusted_dissent(job, who);
			} else {
				Self::judge_dissent(job, who, agree.len(), group, params.wrong_result_slash);
			}
			if let Some(i) = first_difference(&leader.leaves, &r.leaves) {
				first_divergence = Some(first_divergence.map_or(i, |d| d.min(i)));
			}
		}

		Self::close_round(job, &round);
		let to_bounded = |v: Vec<T::AccountId>| -> BoundedVec<T::AccountId, T::MaxMembers> {
			BoundedVec::truncate_from(v)
		};
		let agreeing = to_bounded(agree.iter().map(|(w, _)| w.clone()).collect());
		let dissenting = to_bounded(dissent.iter().map(|(w, _)| w.clone()).collect());
		T::Jobs::complete(
			job,
			Settlement {
				result_digest: winner.result_digest,
				checkpoints_root: leader.reveal.checkpoints_root,
				output_digest: winner.output_digest,
				output: leader.reveal.output.clone(),
				usage: med,
				footprint: total,
				payments,
				first_divergence,
				// Every outcome was checked against the agreed digest at its reveal, so any
				// agreeing reveal's is the one.
				outcome: agreed.iter().find_map(|r| r.outcome),
			},
		)?;
		Self::deposit_event(Event::ResultAccepted {
			job,
			result_digest: winner.result_digest,
			agreeing,
			dissenting,
			first_divergence,
		});
		Ok(())
	}

	/// The verified time an agreeing replica of `job` run by `who` is credited for its capped
	/// wall time `wall_ms`: at most the blocks it held its slot before committing, at
	/// `MillisecsPerBlock` each ([`SlotHold::held_ms`]), and nothing without a record.
	///
	/// A replica could otherwise commit right after its assignment claiming the job's whole
	/// `max_seconds`, and two colluders would be credited hours per few blocks of slot time. An
	/// honest worker commits after its run has finished, so the blocks it held cover its run
	/// (unless the chain skipped slots, which only lowers its credit, never its pay).
	pub(crate) fn credited_millis(job: JobId, who: &T::AccountId, wall_ms: u64) -> u64 {
		SlotHolds::<T>::get(job, who)
			.map_or(0, |h| wall_ms.min(h.held_ms(T::MillisecsPerBlock::get())))
	}

	/// What each valid revealer of a disputed job is paid, in reveal order.
	///
	/// A dispute has no accepted result to pay for, but every revealed output is public, so the
	/// customer pays for the runs it saw: each revealer its wall time at the job's price, capped
	/// at the job's `max_seconds` (as in an accepted job) and at the upper median of all valid
	/// reveals' wall times. The upper median keeps a lone inflated claim from being paid in full
	/// when three or more revealed, and keeps one low claim (say, of the customer's own
	/// provider) from setting everyone else's pay.
	pub(crate) fn dispute_payments(
		terms: &povm_primitives::JobTerms<T::AccountId, BalanceOf<T>>,
		revealed: &[(T::AccountId, RevealRecord<T>)],
	) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let max_wall_ms = (terms.resources.max_seconds as u64).saturating_mul(1000);
		let cap = upper_median(revealed.iter().map(|(_, r)| r.reveal.usage.wall_ms).collect())
			.min(max_wall_ms);
		revealed
			.iter()
			.map(|(who, r)| {
				let wall_ms = r.reveal.usage.wall_ms.min(cap);
				(who.clone(), pay_for(terms.price_per_second, wall_ms))
			})
			.collect()
	}

	/// Settle with a provider whose result differs from the accepted one: slashed for a wrong
	/// result when `agreeing` replicas form a [`clear_majority`] against the `group` that
	/// revealed its result; otherwise only its reputation records the disagreement. Either way
	/// it is not paid.
	pub(crate) fn judge_dissent(
		job: JobId,
		who: &T::AccountId,
		agreeing: usize,
		group: usize,
		slash: sp_runtime::Perbill,
	) {
		let (agreeing, group) =
			(u32::try_from(agreeing).unwrap_or(u32::MAX), u32::try_from(group).unwrap_or(u32::MAX));
		if clear_majority(agreeing, group) {
			// `fault` halves the trust points.
			Self::fault(job, who, Fault::WrongResult, slash);
			return;
		}
		Self::lose_trust(who);
		let Some(reputation) = Self::count_disagreement(who) else { return };
		Self::deposit_event(Event::DissentNotSlashed {
			job,
			who: who.clone(),
			agreeing,
			group,
			reputation,
		});
	}

	/// Settle with a trusted provider whose result differs from the accepted one: not paid,
	/// not slashed, its trust points halved (see [`crate::trust`]).
	pub(crate) fn trusted_dissent(job: JobId, who: &T::AccountId) {
		let trust = Self::lose_trust(who);
		let Some(reputation) = Self::count_disagreement(who) else { return };
		Self::deposit_event(Event::TrustedDissent { job, who: who.clone(), trust, reputation });
	}

	/// The members of `job`'s round that revealed validly, with their reveals, in draw order.
	pub(crate) fn revealed_records(
		job: JobId,
		round: &Round<T>,
	) -> Vec<(T::AccountId, RevealRecord<T>)> {
		round
			.members
			.iter()
			.filter(|m| m.status == MemberStatus::Revealed)
			.filter_map(|m| Reveals::<T>::get(job, &m.who).map(|r| (m.who.clone(), r)))
			.collect()
	}

	/// Free every remaining slot and remove the round, its reveals and its failure record.
	pub(crate) fn close_round(job: JobId, round: &Round<T>) {
		for m in round.members.iter() {
			Self::release_slot(job, &m.who);
		}
		Rounds::<T>::remove(job);
		let _ = Reveals::<T>::clear_prefix(job, T::MaxMembers::get(), None);
		let _ = SlotHolds::<T>::clear_prefix(job, T::MaxMembers::get(), None);
		let _ = JobHeartbeats::<T>::clear_prefix(job, T::MaxMembers::get(), None);
		StallChecks::<T>::remove(job);
		FailedDeadlines::<T>::remove(job);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn merkle_root_is_domain_separated_and_promotes_odd_node() {
		let h = |parts: &[&[u8]]| sp_io::hashing::blake2_256(&parts.concat());
		let a = [1u8; 32];
		let b = [2u8; 32];
		let c = [3u8; 32];
		let (la, lb, lc) = (h(&[&[0], &a]), h(&[&[0], &b]), h(&[&[0], &c]));
		assert_eq!(merkle_root(&[]), [0u8; 32]);
		assert_eq!(merkle_root(&[a]), la);
		let ab = h(&[&[1], &la, &lb]);
		assert_eq!(merkle_root(&[a, b]), ab);
		assert_eq!(merkle_root(&[a, b, c]), h(&[&[1], &ab, &lc]));
	}

	#[test]
	fn first_difference_locates_divergence() {
		let a = [1u8; 32];
		let b = [2u8; 32];
		assert_eq!(first_difference(&[a, a, a], &[a, b, a]), Some(1));
		assert_eq!(first_difference(&[a, a], &[a, a, b]), Some(2));
		assert_eq!(first_difference(&[a], &[a]), None);
	}

	#[test]
	fn clear_majority_needs_two_thirds_and_a_lead_of_two() {
		// A single dissenter: 2 : 1 is chance, 3 : 1 is clear.
		assert!(!clear_majority(1, 1));
		assert!(!clear_majority(2, 1));
		assert!(clear_majority(3, 1));
		// A dissenting pair: 3 : 2 is not, 4 : 2 is.
		assert!(!clear_majority(3, 2));
		assert!(clear_majority(4, 2));
		// Three: 5 : 3 is not, 6 : 3 is.
		assert!(!clear_majority(5, 3));
		assert!(clear_majority(6, 3));
		assert!(!clear_majority(u32::MAX - 1, u32::MAX));
	}

	#[test]
	fn upper_median_is_upper_middle() {
		assert_eq!(upper_median(vec![5, 1, 9]), 5);
		assert_eq!(upper_median(vec![4, 8]), 8);
		assert_eq!(upper_median(vec![7]), 7);
		assert_eq!(upper_median(vec![]), 0);
	}

	#[test]
	fn pay_for_prices_milliseconds() {
		assert_eq!(pay_for(10u64, 20_000), 200);
		assert_eq!(pay_for(10u64, 999), 9);
		assert_eq!(pay_for(u64::MAX, u64::MAX), u64::MAX / 1000);
	}

	#[test]
	fn median_is_lower_middle() {
		assert_eq!(median(vec![5, 1, 9]), 5);
		assert_eq!(median(vec![4, 8]), 4);
		assert_eq!(median(vec![]), 0);
	}
}
