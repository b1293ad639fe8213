//! Verdicts by iterative redundancy, settlement inputs, and the checkpoint Merkle fold.

use crate::{energy, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, BoundedVec};
use povm_primitives::{JobLedger, Settlement};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedFrom},
	DispatchResult,
};

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

impl<T: Config> Pallet<T> {
	/// Take the verdict on `job` once no committed member is left to reveal.
	///
	/// The revealed results are grouped by result digest. If at least `min_replicas` members
	/// revealed validly and the leader leads the runner-up by the policy margin, it is accepted.
	/// Otherwise (too few valid reveals, e.g. after no-shows, or no clear leader), while fewer
	/// than `max_replicas` replicas revealed validly, more providers are drawn (enough to reach
	/// `min_replicas`, at least one); when none can be drawn or the bound is reached, the job is
	/// disputed.
	pub(crate) fn evaluate(job: JobId) -> DispatchResult {
		let round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let terms = T::Jobs::job_terms(job).ok_or(Error::<T>::NoRound)?;
		let revealed: Vec<(T::AccountId, RevealRecord<T>)> = round
			.members
			.iter()
			.filter(|m| m.status == MemberStatus::Revealed)
			.filter_map(|m| Reveals::<T>::get(job, &m.who).map(|r| (m.who.clone(), r)))
			.collect();

		// Tally by result digest, in order of first appearance.
		let mut tally: Vec<(Digest, u32)> = Vec::new();
		for (_, r) in revealed.iter() {
			match tally.iter_mut().find(|(d, _)| *d == r.reveal.result_digest) {
				Some((_, n)) => *n = n.saturating_add(1),
				None => tally.push((r.reveal.result_digest, 1)),
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
			return Self::accept(job, round, terms, revealed, winner);
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
				return Ok(());
			}
		}
		// Divergence between the two leading results.
		let first_divergence = match (tally.first(), tally.get(1)) {
			(Some((a, _)), Some((b, _))) => {
				let la = revealed.iter().find(|(_, r)| r.reveal.result_digest == *a);
				let lb = revealed.iter().find(|(_, r)| r.reveal.result_digest == *b);
				match (la, lb) {
					(Some((_, x)), Some((_, y))) => first_difference(&x.leaves, &y.leaves),
					_ => None,
				}
			},
			_ => None,
		};
		Self::close_round(job, &round);
		T::Jobs::dispute(job, first_divergence)?;
		Self::deposit_event(Event::ResultDisputed { job, first_divergence });
		Ok(())
	}

	fn accept(
		job: JobId,
		round: Round<T>,
		terms: povm_primitives::JobTerms<T::AccountId, BalanceOf<T>>,
		revealed: Vec<(T::AccountId, RevealRecord<T>)>,
		winner: Digest,
	) -> DispatchResult {
		let params = T::Jobs::protocol_params();
		let epoch = T::Epoch::get();
		let (agree, dissent): (Vec<_>, Vec<_>) =
			revealed.into_iter().partition(|(_, r)| r.reveal.result_digest == winner);
		let leader = agree.first().map(|(_, r)| r.clone()).ok_or(Error::<T>::NoRound)?;

		let max_wall_ms = (terms.resources.max_seconds as u64).saturating_mul(1000);
		let med = Usage {
			cpu_ms: median(agree.iter().map(|(_, r)| r.reveal.usage.cpu_ms).collect()),
			memory_mib_s: median(agree.iter().map(|(_, r)| r.reveal.usage.memory_mib_s).collect()),
			wall_ms: median(agree.iter().map(|(_, r)| r.reveal.usage.wall_ms).collect())
				.min(max_wall_ms),
		};

		let mut payments = Vec::new();
		let mut total = Footprint::default();
		for (who, r) in agree.iter() {
			let u = r.reveal.usage;
			let capped = Usage {
				cpu_ms: u.cpu_ms.min(med.cpu_ms),
				memory_mib_s: u.memory_mib_s.min(med.memory_mib_s),
				wall_ms: u.wall_ms.min(med.wall_ms),
			};
			let pay = terms
				.price_per_second
				.saturating_mul(BalanceOf::<T>::unique_saturated_from(capped.wall_ms)) /
				BalanceOf::<T>::from(1000u32);
			payments.push((who.clone(), pay));

			let Some(mut info) = Providers::<T>::get(who) else { continue };
			let fp = energy::footprint(&capped, &info.offer);
			total = total.saturating_add(fp);
			info.agreed = info.agreed.saturating_add(1);
			info.total = info.total.saturating_add(1);
			let reputation = Self::reputation_of(&info);
			Providers::<T>::insert(who, info);
			ProviderFootprint::<T>::mutate(who, |f| *f = f.saturating_add(fp));
			VerifiedMillis::<T>::mutate(epoch, who, |v| *v = v.saturating_add(capped.wall_ms));
			EpochProviders::<T>::mutate(epoch, |list| {
				if !list.contains(who) {
					// Beyond the bound the work still counts per provider; only the listing is full.
					let _ = list.try_push(who.clone());
				}
			});
			Self::deposit_event(Event::WorkVerified {
				job,
				who: who.clone(),
				epoch,
				vm_millis: capped.wall_ms,
				energy_uwh: fp.energy_uwh,
				carbon_ug: fp.carbon_ug,
				reputation,
			});
		}
		EpochFootprint::<T>::mutate(epoch, |f| *f = f.saturating_add(total));

		let mut first_divergence: Option<u32> = None;
		for (who, r) in dissent.iter() {
			Self::fault(job, who, Fault::WrongResult, params.wrong_result_slash);
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
				result_digest: winner,
				checkpoints_root: leader.reveal.checkpoints_root,
				output: leader.reveal.output.clone(),
				usage: med,
				footprint: total,
				payments,
				first_divergence,
			},
		)?;
		Self::deposit_event(Event::ResultAccepted {
			job,
			result_digest: winner,
			agreeing,
			dissenting,
			first_divergence,
		});
		Ok(())
	}

	/// Free every remaining slot and remove the round, its reveals and its failure record.
	pub(crate) fn close_round(job: JobId, round: &Round<T>) {
		for m in round.members.iter() {
			Self::release_slot(job, &m.who);
		}
		Rounds::<T>::remove(job);
		let _ = Reveals::<T>::clear_prefix(job, T::MaxMembers::get(), None);
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
	fn median_is_lower_middle() {
		assert_eq!(median(vec![5, 1, 9]), 5);
		assert_eq!(median(vec![4, 8]), 4);
		assert_eq!(median(vec![]), 0);
	}
}
