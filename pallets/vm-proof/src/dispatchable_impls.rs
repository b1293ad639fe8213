//! Implementations of the calls (`do_*`) and shared helpers.

use crate::{pallet::*, tick_impls::LOG_TARGET, types::*, verdict};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::JobLedger;
use sp_runtime::{traits::Saturating, DispatchResult, Perbill};

impl<T: Config> Pallet<T> {
	/// Whether an offer is acceptable: every field non-zero, at most `MaxSlots` slots, every
	/// footprint input within its physical range (see [`MAX_GRID_INTENSITY`],
	/// [`MAX_PUE_PERMILLE`], [`MAX_CORE_MILLIWATTS`], [`povm_primitives::MAX_MILLICORES`],
	/// [`povm_primitives::MAX_MEMORY_MIB`]), and a run-time limit of at most
	/// [`MAX_OFFER_SECONDS`].
	pub fn offer_valid(offer: &VmOffer) -> bool {
		(1..=povm_primitives::MAX_MILLICORES).contains(&offer.millicores) &&
			(1..=povm_primitives::MAX_MEMORY_MIB).contains(&offer.memory_mib) &&
			offer.slots >= 1 &&
			offer.slots <= T::MaxSlots::get() &&
			(1..=MAX_GRID_INTENSITY).contains(&offer.grid_intensity) &&
			(1..=MAX_CORE_MILLIWATTS).contains(&offer.core_milliwatts) &&
			(1000..=MAX_PUE_PERMILLE).contains(&offer.pue_permille) &&
			(1..=MAX_OFFER_SECONDS).contains(&offer.max_seconds)
	}

	/// The share of the bond a reveal no-show loses: the larger of the no-show and the
	/// wrong-result shares, so that a committed provider that sees it would dissent gains
	/// nothing by withholding its reveal.
	pub fn reveal_no_show_slash(
		params: &povm_primitives::ProtocolParams<BlockNumberFor<T>>,
	) -> Perbill {
		params.no_show_slash.max(params.wrong_result_slash)
	}

	/// `who`'s reputation ([`Pallet::reputation_of`]); 1/2, a newcomer's, when unregistered.
	pub fn reputation(who: &T::AccountId) -> Perbill {
		Providers::<T>::get(who)
			.map(|i| Self::reputation_of(&i))
			.unwrap_or_else(|| Perbill::from_rational(1u32, 2u32))
	}

	/// Reputation `(agreed + 1) / (total + 2)`.
	pub fn reputation_of(info: &ProviderInfo<T>) -> Perbill {
		Perbill::from_rational(
			(info.agreed as u64).saturating_add(1),
			(info.total as u64).saturating_add(2),
		)
	}

	/// Record a verdict `who` took part in without agreeing (an unslashed dissent, or a
	/// decline): `total + 1`. Returns its reputation after it, or `None` if `who` has no
	/// provider record.
	pub(crate) fn count_disagreement(who: &T::AccountId) -> Option<Perbill> {
		Providers::<T>::mutate(who, |maybe| {
			maybe.as_mut().map(|info| {
				info.total = info.total.saturating_add(1);
				Self::reputation_of(info)
			})
		})
	}

	/// The commitment `who`, assigned to `job` in `wave`, must submit for `reveal` (shared
	/// with the worker through [`povm_primitives::attestation::commitment`]).
	pub fn commitment_of(job: JobId, wave: u32, reveal: &Reveal, who: &T::AccountId) -> Digest {
		povm_primitives::attestation::commitment(&reveal.attestation(job, wave), &reveal.salt, who)
	}

	/// Whether `reveal` opens the commitment of member `m` of `job`.
	///
	/// A member drawn after the upgrade to storage version 2 is checked against
	/// [`Self::commitment_of`] only. A [`RoundMember::legacy`] member (committed under the
	/// version-1 rule before the upgrade, and not yet revealed) is checked against
	/// [`povm_primitives::attestation::legacy_commitment`] only: its output and usage are not
	/// bound by its commitment. That weaker check applies to rounds open at the upgrade alone;
	/// there the output must still agree with the majority to be accepted and the usage is
	/// capped at the job's bound at the reveal (not refused: a version-1 worker never capped
	/// it) and again at the verdict.
	pub fn opens_commitment(
		job: JobId,
		m: &RoundMember<T>,
		reveal: &Reveal,
		who: &T::AccountId,
	) -> bool {
		let expected = if m.legacy {
			povm_primitives::attestation::legacy_commitment(
				&reveal.result_digest,
				&reveal.checkpoints_root,
				&reveal.salt,
				who,
			)
		} else {
			Self::commitment_of(job, m.wave, reveal, who)
		};
		m.commitment == Some(expected)
	}

	/// The draw wave `who` was assigned to `job` in, if it is a member of the job's round.
	pub fn wave_of(job: JobId, who: &T::AccountId) -> Option<u32> {
		Rounds::<T>::get(job)?.members.iter().find(|m| &m.who == who).map(|m| m.wave)
	}

	pub(crate) fn do_register(
		who: T::AccountId,
		offer: VmOffer,
		bond: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!Providers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(Self::offer_valid(&offer), Error::<T>::BadOffer);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		ensure!(
			T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite) >= bond,
			Error::<T>::InsufficientBalance
		);
		ensure!(ProviderCount::<T>::get() < T::MaxProviders::get(), Error::<T>::TooManyProviders);
		T::Currency::hold(&HoldReason::ProviderBond.into(), &who, bond)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		Providers::<T>::insert(
			&who,
			ProviderInfo {
				offer,
				bond,
				status: ProviderStatus::Active,
				last_heartbeat: T::Epoch::get(),
				agreed: 0,
				total: 0,
			},
		);
		Self::reindex(&who)?;
		ProviderCount::<T>::mutate(|c| *c = c.saturating_add(1));
		Self::deposit_event(Event::ProviderRegistered { who, offer, bond });
		Ok(())
	}

	fn active_info(who: &T::AccountId) -> Result<ProviderInfo<T>, DispatchError> {
		let info = Providers::<T>::get(who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(info.status == ProviderStatus::Active, Error::<T>::NotActive);
		Ok(info)
	}

	pub(crate) fn do_update_offer(who: T::AccountId, offer: VmOffer) -> DispatchResult {
		let mut info = Self::active_info(&who)?;
		ensure!(Self::offer_valid(&offer), Error::<T>::BadOffer);
		ensure!(
			offer.slots as usize >= ProviderJobs::<T>::decode_len(&who).unwrap_or(0),
			Error::<T>::SlotsInUse
		);
		info.offer = offer;
		Providers::<T>::insert(&who, info);
		Self::reindex(&who)?;
		Self::deposit_event(Event::OfferUpdated { who, offer });
		Ok(())
	}

	pub(crate) fn do_heartbeat(who: T::AccountId) -> DispatchResult {
		let mut info = Self::active_info(&who)?;
		let epoch = T::Epoch::get();
		info.last_heartbeat = epoch;
		Providers::<T>::insert(&who, info);
		Self::reindex(&who)?;
		Self::deposit_event(Event::Heartbeat { who, epoch });
		Ok(())
	}

	pub(crate) fn do_unregister(who: T::AccountId) -> DispatchResult {
		let mut info = Self::active_info(&who)?;
		ensure!(ProviderJobs::<T>::decode_len(&who).unwrap_or(0) == 0, Error::<T>::HasAssignments);
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingDelay::get());
		info.status = ProviderStatus::Unbonding { until };
		Providers::<T>::insert(&who, info);
		Self::reindex(&who)?;
		Self::deposit_event(Event::ProviderUnregistered { who, until });
		Ok(())
	}

	pub(crate) fn do_withdraw_bond(who: T::AccountId) -> DispatchResult {
		let info = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let ProviderStatus::Unbonding { until } = info.status else {
			return Err(Error::<T>::NotActive.into());
		};
		ensure!(frame_system::Pallet::<T>::block_number() >= until, Error::<T>::StillUnbonding);
		ensure!(
			!<T::ValidatorBonds as povm_primitives::ValidatorBonds<_>>::at_stake(&who),
			Error::<T>::BondAtStakeAsValidator
		);
		let amount = T::Currency::release(
			&HoldReason::ProviderBond.into(),
			&who,
			info.bond,
			Precision::BestEffort,
		)?;
		Providers::<T>::remove(&who);
		ResultServices::<T>::remove(&who);
		Trust::<T>::remove(&who);
		ProviderCount::<T>::mutate(|c| *c = c.saturating_sub(1));
		<T::ValidatorBonds as povm_primitives::ValidatorBonds<_>>::released(&who);
		Self::deposit_event(Event::BondWithdrawn { who, amount });
		Ok(())
	}

	/// Seal `who`'s commitment to `job`, then close the commits if nobody is left to commit.
	/// Returns whether a draw of providers was tried (see [`Self::maybe_close_commits`]).
	pub(crate) fn do_commit(
		who: T::AccountId,
		job: JobId,
		commitment: Digest,
	) -> Result<bool, DispatchError> {
		let mut round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let now = frame_system::Pallet::<T>::block_number();
		let m = round.members.iter_mut().find(|m| m.who == who).ok_or(Error::<T>::NotAssigned)?;
		ensure!(m.status == MemberStatus::Assigned, Error::<T>::AlreadyCommitted);
		ensure!(now <= m.commit_deadline, Error::<T>::CommitDeadlinePassed);
		m.status = MemberStatus::Committed;
		m.commitment = Some(commitment);
		Rounds::<T>::insert(job, round);
		SlotHolds::<T>::mutate(job, &who, |h| {
			if let Some(h) = h {
				h.committed_at = Some(now);
			}
		});
		JobHeartbeats::<T>::remove(job, &who);
		Self::deposit_event(Event::ResultCommitted { job, who });
		Self::maybe_close_commits(job, now, DrawError::Ignore)
	}

	pub(crate) fn do_set_result_service(
		who: T::AccountId,
		service: Option<ResultService>,
	) -> DispatchResult {
		ensure!(Providers::<T>::contains_key(&who), Error::<T>::NotRegistered);
		match &service {
			Some(s) => {
				ensure!(s.is_valid(), Error::<T>::BadResultService);
				ResultServices::<T>::insert(&who, s);
			},
			None => ResultServices::<T>::remove(&who),
		}
		Self::deposit_event(Event::ResultServiceSet { who, service });
		Ok(())
	}

	/// Check `who`'s reveal of `job` against its commitment and keep it; the last reveal takes
	/// the verdict. Returns which of these it was, and whether the verdict tried a draw of
	/// providers.
	pub(crate) fn do_reveal(
		who: T::AccountId,
		job: JobId,
		mut reveal: Reveal,
		leaves: BoundedVec<Digest, T::MaxCheckpoints>,
		outcome: Option<RunOutcome>,
	) -> Result<RevealEnd, DispatchError> {
		let mut round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let now = frame_system::Pallet::<T>::block_number();
		let idx = round.members.iter().position(|m| m.who == who).ok_or(Error::<T>::NotAssigned)?;
		let Phase::Revealing { deadline } = round.phase else {
			return Err(Error::<T>::CommitsNotClosed.into());
		};
		let m = &mut round.members[idx];
		match m.status {
			MemberStatus::Committed => {},
			MemberStatus::Revealed => return Err(Error::<T>::AlreadyRevealed.into()),
			MemberStatus::Assigned if m.commit_deadline >= now =>
				return Err(Error::<T>::CommitsNotClosed.into()),
			_ => return Err(Error::<T>::NotCommitted.into()),
		}
		ensure!(now <= deadline, Error::<T>::RevealDeadlinePassed);
		// Everything published or paid on must be what was committed: the output's digest is
		// computed here from the revealed bytes, the job and wave from the round (members
		// committed before the upgrade: the version-1 rule, see `opens_commitment`).
		ensure!(Self::opens_commitment(job, m, &reveal, &who), Error::<T>::RevealMismatch);
		let terms = T::Jobs::job_terms(job).ok_or(Error::<T>::NoRound)?;
		let bound = terms.resources.usage_bound();
		if m.legacy {
			// The version-1 commitment does not cover usage, and a version-1 worker never
			// capped it (a job killed at `max_seconds` has a wall time slightly over): cap it
			// rather than refuse, which would make the member a reveal no-show.
			reveal.usage = reveal.usage.capped_at(&bound);
		} else {
			ensure!(reveal.usage.within(&bound), Error::<T>::UsageOutOfBounds);
		}
		ensure!(
			verdict::merkle_root(&leaves) == reveal.checkpoints_root,
			Error::<T>::CheckpointsMismatch
		);
		ensure!(
			outcome.map_or(true, |o| o.result_digest() == reveal.result_digest),
			Error::<T>::OutcomeMismatch
		);
		m.status = MemberStatus::Revealed;
		let result_digest = reveal.result_digest;
		Rounds::<T>::insert(job, &round);
		Reveals::<T>::insert(job, &who, RevealRecord { reveal, leaves, outcome });
		Self::deposit_event(Event::ResultRevealed { job, who, result_digest });
		if !round.members.iter().any(|m| m.status == MemberStatus::Committed) {
			return Self::evaluate(job).map(|tried_a_draw| RevealEnd::Verdict { tried_a_draw });
		}
		Ok(RevealEnd::Kept)
	}

	/// If no member still has to commit, open reveals, draw more replicas first, or go to the
	/// verdict.
	///
	/// Reveals open only once at least `min_replicas` results are sealed: members that
	/// committed, plus members that already revealed in an earlier wave. While fewer are
	/// sealed and more providers can be drawn (below `max_replicas` sealed results and the
	/// job queue's `MaxAssignees`), replacements are drawn at once and the round stays in
	/// `Committing`, so that a replacement commits while every result of this round is still
	/// sealed: nobody drawn late can copy a reveal (see the copier in `docs/protocol.md`).
	/// When none can be drawn, reveals open with what was committed (the verdict then disputes
	/// if too few reveal); if nobody committed at all, the verdict is taken at once.
	///
	/// A draw that fails is handled by `on_draw_error`: at a commit deadline
	/// ([`DrawError::Propagate`]) the error is returned, so that the deadline is rolled back and
	/// retried (see [`Self::deadline_failed`]) instead of opening reveals with too few sealed
	/// results; in a provider's commit ([`DrawError::Ignore`]) it counts as nobody drawn, since
	/// the commit that closed the round must not fail for it.
	///
	/// Returns whether a draw of providers was tried (here or in the verdict), whatever it drew:
	/// the caller is charged for one then ([`Pallet::commit_weight_with_draw`]).
	pub(crate) fn maybe_close_commits(
		job: JobId,
		now: BlockNumberFor<T>,
		on_draw_error: DrawError,
	) -> Result<bool, DispatchError> {
		let Some(mut round) = Rounds::<T>::get(job) else { return Ok(false) };
		if round.phase != Phase::Committing ||
			round.members.iter().any(|m| m.status == MemberStatus::Assigned)
		{
			return Ok(false);
		}
		let count = |s: MemberStatus| round.members.iter().filter(|m| m.status == s).count();
		let committed = u32::try_from(count(MemberStatus::Committed)).unwrap_or(u32::MAX);
		let revealed = u32::try_from(count(MemberStatus::Revealed)).unwrap_or(u32::MAX);
		let sealed = committed.saturating_add(revealed);
		let redundancy = T::Jobs::job_terms(job).ok_or(Error::<T>::NoRound)?.redundancy;
		let mut tried_a_draw = false;
		if sealed < redundancy.min_replicas {
			let room = redundancy.max_replicas.saturating_sub(sealed);
			let want = redundancy.min_replicas.saturating_sub(sealed).min(room);
			if want > 0 {
				tried_a_draw = true;
				let added = match (T::Jobs::assign_more(job, want), on_draw_error) {
					(Ok(added), _) => added,
					(Err(e), DrawError::Propagate) => return Err(e),
					(Err(e), DrawError::Ignore) => {
						log::warn!(target: LOG_TARGET, "draw for {job} failed: {e:?}");
						alloc::vec::Vec::new()
					},
				};
				if !added.is_empty() {
					Self::deposit_event(Event::MoreReplicasRequested {
						job,
						added: u32::try_from(added.len()).unwrap_or(u32::MAX),
					});
					return Ok(true);
				}
			}
		}
		if committed > 0 {
			let deadline = now.saturating_add(T::Jobs::protocol_params().reveal_window);
			round.phase = Phase::Revealing { deadline };
			Rounds::<T>::insert(job, round);
			T::Jobs::set_revealing(job, deadline)?;
			Self::schedule(job, deadline.saturating_add(1u32.into()));
			Ok(tried_a_draw)
		} else {
			Ok(Self::evaluate(job)? || tried_a_draw)
		}
	}

	/// While members of `round` (of `job`) still have to commit, replace at once the members
	/// that left it (declined, or missed the deadline of an earlier wave) if the members still
	/// to commit and the sealed results together are fewer than `min_replicas`: draw the
	/// difference (at most `max_replicas` results can then be sealed).
	///
	/// [`Self::maybe_close_commits`] draws only once nobody is left to commit; without this, a
	/// decline would be replaced only when the others had committed or at the commit deadline,
	/// and the co-replicas that committed would hold their slots, idle, until then. Called from
	/// the deadline hook only: a decline schedules its job for the next block, so the draw is
	/// keyed by the parent hash of a block built after the decline was sent. Does nothing when
	/// nobody is left to commit (closing the commits is `maybe_close_commits`'s), and at most
	/// one draw, so it is covered by the hook's `process_commit_deadline` charge. A failed draw
	/// counts as nobody drawn: the commits' close draws again.
	pub(crate) fn replace_leavers(job: JobId, round: &Round<T>) -> DispatchResult {
		if round.phase != Phase::Committing {
			return Ok(());
		}
		let count = |s: MemberStatus| round.members.iter().filter(|m| m.status == s).count();
		let assigned = count(MemberStatus::Assigned);
		if assigned == 0 {
			return Ok(());
		}
		let live = assigned
			.saturating_add(count(MemberStatus::Committed))
			.saturating_add(count(MemberStatus::Revealed));
		let live = u32::try_from(live).unwrap_or(u32::MAX);
		let redundancy = T::Jobs::job_terms(job).ok_or(Error::<T>::NoRound)?.redundancy;
		let room = redundancy.max_replicas.saturating_sub(live);
		let want = redundancy.min_replicas.saturating_sub(live).min(room);
		if want == 0 {
			return Ok(());
		}
		match T::Jobs::assign_more(job, want) {
			Ok(added) if !added.is_empty() => Self::deposit_event(Event::MoreReplicasRequested {
				job,
				added: u32::try_from(added.len()).unwrap_or(u32::MAX),
			}),
			Ok(_) => {},
			Err(e) => log::warn!(target: LOG_TARGET, "replacement draw for {job} failed: {e:?}"),
		}
		Ok(())
	}

	/// Slash `ratio` of `who`'s bond, count a failed verdict, and emit the fault.
	pub(crate) fn fault(job: JobId, who: &T::AccountId, fault: Fault, ratio: Perbill) {
		use frame_support::traits::{fungible::BalancedHold, OnUnbalanced};
		Self::lose_trust(who);
		let Some(mut info) = Providers::<T>::get(who) else { return };
		let amount = ratio * info.bond;
		let (credit, missing) = <T::Currency as BalancedHold<T::AccountId>>::slash(
			&HoldReason::ProviderBond.into(),
			who,
			amount,
		);
		T::OnSlash::on_unbalanced(credit);
		let slashed = amount.saturating_sub(missing);
		info.bond = info.bond.saturating_sub(slashed);
		info.total = info.total.saturating_add(1);
		let reputation = Self::reputation_of(&info);
		Providers::<T>::insert(who, info);
		// Same class: the weight only falls, which cannot fail.
		let _ = Self::reindex(who);
		Self::deposit_event(Event::ProviderFaulted {
			job,
			who: who.clone(),
			fault,
			slashed,
			reputation,
		});
	}

	/// Free `who`'s slot for `job`.
	pub(crate) fn release_slot(job: JobId, who: &T::AccountId) {
		ProviderJobs::<T>::mutate_exists(who, |maybe| {
			if let Some(jobs) = maybe {
				jobs.retain(|j| *j != job);
				if jobs.is_empty() {
					*maybe = None;
				}
			}
		});
		// Same class: the weight only changes, which cannot fail.
		let _ = Self::reindex(who);
	}

	/// Close `job`'s round without a verdict and dispute it (see [`Pallet::force_dispute`]).
	pub(crate) fn do_force_dispute(job: JobId) -> DispatchResult {
		let round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let slots_freed = round.members.iter().filter(|m| m.holds_slot()).count() as u32;
		// A round whose job is gone or already finished (which `try_state` flags) is only closed.
		let terms = T::Jobs::job_terms(job).filter(|t| t.state.is_open());
		// As in any dispute, the valid revealers are paid their capped time: their outputs are
		// public whatever stalled the round.
		let payments = terms
			.as_ref()
			.map(|t| Self::dispute_payments(t, &Self::revealed_records(job, &round)))
			.unwrap_or_default();
		Self::close_round(job, &round);
		let paid = match terms {
			None => false,
			Some(_) => {
				// Each attempt in its own storage layer: a failed one leaves nothing behind.
				let pays = !payments.is_empty();
				match frame_support::storage::with_storage_layer(|| {
					T::Jobs::dispute(job, None, payments)
				}) {
					Ok(()) => true,
					// Paying the revealers may be what keeps failing (why the job is stuck):
					// fall back to refunding the whole escrow, so root always has a way out.
					Err(e) if pays => {
						log::warn!(
							target: LOG_TARGET,
							"force_dispute of {job}: paying the revealers failed ({e:?}), refunding all"
						);
						frame_support::storage::with_storage_layer(|| {
							T::Jobs::dispute(job, None, alloc::vec::Vec::new())
						})?;
						false
					},
					Err(e) => return Err(e),
				}
			},
		};
		Self::deposit_event(Event::JobForceDisputed { job, slots_freed, paid });
		Ok(())
	}
}
