//! Benchmarks (v2) for vm-proof: every call and the per-job cost of the deadline hook.

use super::*;
use crate::pallet::{Deadlines, FailedDeadlines, ProviderCount, ProviderJobs, Providers, Rounds};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	weights::WeightMeter,
	BoundedVec,
};
use frame_system::RawOrigin;
use povm_primitives::{JobLedger, ProviderRegistry};
use sp_runtime::traits::Saturating;

pub(crate) fn offer_for<T: Config>(r: &Resources) -> VmOffer {
	VmOffer {
		millicores: r.millicores.max(1),
		memory_mib: r.memory_mib.max(1),
		arch: Arch::X86_64,
		slots: T::MaxSlots::get(),
		grid_intensity: 400,
		pue_permille: 1_200,
		core_milliwatts: 10_000,
		max_seconds: r.max_seconds.max(1),
	}
}

pub(crate) fn fund<T: Config>(who: &T::AccountId) {
	let amount = T::MinBond::get()
		.saturating_mul(10u32.into())
		.saturating_add(T::Currency::minimum_balance().saturating_mul(10u32.into()));
	T::Currency::set_balance(who, amount);
}

/// Register `who` with an offer fitting `r` (benchmark helper used by the registry trait).
/// A valid result service whose URL has the most bytes.
pub fn longest_result_service() -> ResultService {
	use povm_primitives::results::{MAX_RETENTION_SECONDS, MAX_SERVICE_URL_LEN};
	let prefix = b"https://results.example.org/";
	let mut url = prefix.to_vec();
	url.resize(MAX_SERVICE_URL_LEN as usize, b'a');
	ResultService { url: BoundedVec::truncate_from(url), retention_secs: MAX_RETENTION_SECONDS }
}

pub fn register_provider_for<T: Config>(
	who: &T::AccountId,
	r: &Resources,
) -> sp_runtime::DispatchResult {
	fund::<T>(who);
	Pallet::<T>::do_register(who.clone(), offer_for::<T>(r), T::MinBond::get())
}

fn default_resources() -> Resources {
	Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 }
}

fn leaves<T: Config>() -> BoundedVec<Digest, T::MaxCheckpoints> {
	BoundedVec::truncate_from(
		(0..T::MaxCheckpoints::get()).map(|i| [i as u8; 32]).collect::<Vec<_>>(),
	)
}

fn reveal_for<T: Config>(who: &T::AccountId) -> (Reveal, BoundedVec<Digest, T::MaxCheckpoints>) {
	let leaves = leaves::<T>();
	let root = verdict::merkle_root(&leaves);
	let _ = who;
	let reveal = Reveal {
		result_digest: bench_outcome().result_digest(),
		checkpoints_root: root,
		salt: [3u8; 32],
		output: BoundedVec::truncate_from(
			alloc::vec![1u8; povm_primitives::MAX_OUTPUT_LEN as usize],
		),
		usage: Usage { cpu_ms: 30_000, memory_mib_s: 7_680, wall_ms: 30_000 },
	};
	(reveal, leaves)
}

/// The outcome every benchmark reveal carries (its digest is [`reveal_for`]'s result digest).
fn bench_outcome() -> RunOutcome {
	RunOutcome {
		exit_code: 0,
		timed_out: false,
		oom_killed: false,
		truncated: true,
		contents_digest: [9u8; 32],
	}
}

/// The commitment `who` makes on `job` to [`reveal_for`].
fn commitment_for<T: Config>(job: JobId, who: &T::AccountId) -> Result<Digest, BenchmarkError> {
	let (r, _) = reveal_for::<T>(who);
	let wave = Pallet::<T>::wave_of(job, who).ok_or(BenchmarkError::Stop("not a member"))?;
	Ok(Pallet::<T>::commitment_of(job, wave, &r, who))
}

fn commit<T: Config>(job: JobId, who: &T::AccountId) -> Result<(), BenchmarkError> {
	let c = commitment_for::<T>(job, who)?;
	Pallet::<T>::do_commit(who.clone(), job, c)?;
	Ok(())
}

/// A job assigned to `m` fresh providers.
fn assigned_job<T: Config>(m: u32) -> Result<(JobId, Vec<T::AccountId>), BenchmarkError> {
	let providers = <Pallet<T> as ProviderRegistry<_, _>>::bench_register(m, &default_resources());
	let owner: T::AccountId = account("customer", 0, 0);
	let id = T::Jobs::bench_assigned_job(owner, providers.clone())?;
	Ok((id, providers))
}

/// Move one block on, so that the members drawn in this block have held their slots for a
/// block when they commit and their agreement is credited verified time (a commit in the block
/// of the draw is credited nothing): the worst case credits the lottery's tickets
/// (`Config::Lottery`).
fn hold_a_block<T: Config>() {
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now.saturating_add(1u32.into()));
}

/// Mark `members` of `job` as having missed an earlier commit deadline (as
/// `process_deadline` leaves them: `NoShow`, slot freed).
fn miss_commits<T: Config>(job: JobId, members: &[T::AccountId]) -> Result<(), BenchmarkError> {
	let mut round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
	for m in round.members.iter_mut().filter(|m| members.contains(&m.who)) {
		m.status = MemberStatus::NoShow;
		Pallet::<T>::release_slot(job, &m.who);
	}
	Rounds::<T>::insert(job, round);
	Ok(())
}

/// Mark `members` of `job` as having declined (as `decline_job` leaves them: `Declined`, slot
/// freed), without the decline call's own checks.
fn declined<T: Config>(job: JobId, members: &[T::AccountId]) -> Result<(), BenchmarkError> {
	let mut round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
	for m in round.members.iter_mut().filter(|m| members.contains(&m.who)) {
		m.status = MemberStatus::Declined;
		Pallet::<T>::release_slot(job, &m.who);
	}
	Rounds::<T>::insert(job, round);
	Ok(())
}

/// Providers in the registry when a benchmark draws replacements: the 100,000. A draw
/// costs `O(log n)` (see [`crate::index`]), so the largest registry the chain is sized for is
/// the worst case.
pub const BENCH_POOL: u32 = 100_000;

/// Fill the registry with eligible providers up to [`BENCH_POOL`] (at most `MaxProviders`).
fn candidate_pool<T: Config>() {
	// Room for the providers the benchmark registers itself.
	let pool = BENCH_POOL.min(T::MaxProviders::get().saturating_sub(8));
	let have = ProviderCount::<T>::get();
	Pallet::<T>::bench_fill(pool.saturating_sub(have), offer_for::<T>(&default_resources()));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Filed at the first position of a class not listed yet, beside a class of [`BENCH_POOL`]
	/// providers: the longest climb of the index (every level) and a new class total.
	#[benchmark]
	fn register_provider() {
		candidate_pool::<T>();
		let caller: T::AccountId = whitelisted_caller();
		fund::<T>(&caller);
		let mut offer = offer_for::<T>(&default_resources());
		offer.memory_mib = offer.memory_mib.saturating_mul(4);
		let bond = T::MinBond::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), offer, bond);
		assert!(Providers::<T>::contains_key(&caller));
	}

	/// The offer moves to another resource class: out of the first position of a class of
	/// [`BENCH_POOL`] providers (the last one moved into it) and into another.
	#[benchmark]
	fn update_offer() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		candidate_pool::<T>();
		let mut offer = offer_for::<T>(&default_resources());
		offer.memory_mib = offer.memory_mib.saturating_mul(4);
		offer.grid_intensity = 50;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), offer);
		Ok(())
	}

	/// The provider comes back into the index (its weight was 0, as after a lapsed heartbeat)
	/// at the first position of a class of [`BENCH_POOL`] providers: every level is written.
	#[benchmark]
	fn heartbeat() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		candidate_pool::<T>();
		let place = IndexPlaces::<T>::get(&caller).ok_or(BenchmarkError::Stop("not indexed"))?;
		Pallet::<T>::set_index_weight(&caller, place, 0, place.epoch);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller));
		Ok(())
	}

	/// Out of the first position of a class of [`BENCH_POOL`] providers: the last one is moved
	/// into it.
	#[benchmark]
	fn unregister() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		candidate_pool::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller));
		Ok(())
	}

	#[benchmark]
	fn withdraw_bond() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		Pallet::<T>::do_unregister(caller.clone())?;
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingDelay::get());
		frame_system::Pallet::<T>::set_block_number(later);
		Pallet::<T>::do_set_result_service(caller.clone(), Some(longest_result_service()))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));
		assert!(!Providers::<T>::contains_key(&caller));
		assert!(!crate::pallet::ResultServices::<T>::contains_key(&caller));
		Ok(())
	}

	/// Recording the longest result service (validated byte by byte) over an existing one.
	#[benchmark]
	fn set_result_service() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		Pallet::<T>::do_set_result_service(caller.clone(), Some(longest_result_service()))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), Some(longest_result_service()));
		assert!(crate::pallet::ResultServices::<T>::contains_key(&caller));
		Ok(())
	}

	/// A job heartbeat of the last member of a round of `max_replicas` (the member list is
	/// scanned), free (a quarter of `StallTimeout` after its draw).
	#[benchmark]
	fn job_heartbeat() -> Result<(), BenchmarkError> {
		let m = T::Jobs::protocol_params().max_replicas;
		let (job, providers) = assigned_job::<T>(m)?;
		let last = providers.last().cloned().ok_or(BenchmarkError::Stop("no providers"))?;
		let drawn = frame_system::Pallet::<T>::block_number();
		let at = drawn.saturating_add(T::StallTimeout::get() / 4u32.into());
		// A long job's window: its members owe heartbeats.
		let window = T::StallTimeout::get().saturating_mul(2u32.into());
		Rounds::<T>::mutate(job, |round| {
			for m in round.iter_mut().flat_map(|r| r.members.iter_mut()) {
				m.commit_deadline = drawn.saturating_add(window);
			}
		});
		crate::pallet::JobHeartbeats::<T>::insert(job, &last, drawn);
		frame_system::Pallet::<T>::set_block_number(at);
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), job);
		assert_eq!(crate::pallet::JobHeartbeats::<T>::get(job, &last), Some(at));
		Ok(())
	}

	/// The last commit of a round, in its worst case: every other member missed its commit,
	/// so fewer than `min_replicas` results are sealed and `min_replicas − 1` replacements are
	/// drawn from a full candidate list while the round stays in the commit phase. The last
	/// commit that opens reveals instead (enough results sealed, or nobody to draw) writes the
	/// round, the job and one deadline, and costs less.
	#[benchmark]
	fn commit_result() -> Result<(), BenchmarkError> {
		let m = T::Jobs::protocol_params().max_replicas;
		let (job, providers) = assigned_job::<T>(m)?;
		let (last, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		miss_commits::<T>(job, others)?;
		candidate_pool::<T>();
		let c = commitment_for::<T>(job, last)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), job, c);
		let round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
		if m > 1 {
			assert_eq!(round.phase, Phase::Committing);
			assert_eq!(round.members.len() as u32, m.saturating_mul(2).saturating_sub(1));
		}
		Ok(())
	}

	/// The costliest commit that tries no draw: the last of `max_replicas` members commits and
	/// reveals open (the round, the job and one deadline written). What a commit is refunded to
	/// when it tries no draw; a commit that leaves members to commit writes only the round.
	#[benchmark]
	fn commit_result_without_draw() -> Result<(), BenchmarkError> {
		let m = T::Jobs::protocol_params().max_replicas;
		let (job, providers) = assigned_job::<T>(m)?;
		let (last, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			commit::<T>(job, p)?;
		}
		let c = commitment_for::<T>(job, last)?;
		#[extrinsic_call]
		commit_result(RawOrigin::Signed(last.clone()), job, c);
		let round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
		assert!(matches!(round.phase, Phase::Revealing { .. }));
		assert_eq!(round.members.len() as u32, m);
		Ok(())
	}

	/// The last reveal of a job, which takes the verdict and settles.
	///
	/// Acceptance by all `max_replicas` replicas is the worst verdict: per replica it pays from
	/// escrow and writes four provider records (`Providers`, `ProviderFootprint`,
	/// the lottery's tickets, the slot). A dispute of as many distinct results pays each revealer
	/// the same one transfer but writes no provider record, and an outvoted dissenter writes at
	/// most its `Providers` record (and a slash).
	#[benchmark]
	fn reveal_result() -> Result<(), BenchmarkError> {
		let m = T::Jobs::protocol_params().max_replicas;
		let (job, providers) = assigned_job::<T>(m)?;
		hold_a_block::<T>();
		for p in providers.iter() {
			commit::<T>(job, p)?;
		}
		let (last, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			let (r, l) = reveal_for::<T>(p);
			Pallet::<T>::do_reveal(p.clone(), job, r, l, Some(bench_outcome()))?;
		}
		let (r, l) = reveal_for::<T>(last);
		// The worst case credits every member's verified time to the lottery: each held its
		// slot a block before committing, and at least two members agree.
		let credited = providers
			.iter()
			.all(|p| Pallet::<T>::credited_millis(job, p, r.usage.wall_ms) > 0);
		assert!(m < 2 || credited, "every member is credited verified time");
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), job, r, l, Some(bench_outcome()));
		assert!(Rounds::<T>::get(job).is_none());
		Ok(())
	}

	/// A reveal that is not the last: checked against its commitment (the largest output, as
	/// many checkpoint leaves as allowed) and kept, the round written, no verdict. The round
	/// holds `MaxMembers` members (the most a round with replacements holds), all committed,
	/// and the caller is the last listed (the longest search for it): what a reveal is
	/// refunded to while members are still to reveal.
	#[benchmark]
	fn reveal_result_kept() -> Result<(), BenchmarkError> {
		let m = T::MaxMembers::get();
		let (job, providers) = assigned_job::<T>(m)?;
		for p in providers.iter() {
			commit::<T>(job, p)?;
		}
		let caller = providers.last().ok_or(BenchmarkError::Stop("no providers"))?;
		let (r, l) = reveal_for::<T>(caller);
		#[extrinsic_call]
		reveal_result(RawOrigin::Signed(caller.clone()), job, r, l, Some(bench_outcome()));
		let round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
		assert_eq!(round.members.len() as u32, m);
		assert!(matches!(round.phase, Phase::Revealing { .. }), "no verdict was taken");
		assert!(m < 2 || round.members.iter().any(|x| x.status == MemberStatus::Committed));
		assert!(Reveals::<T>::contains_key(job, caller));
		Ok(())
	}

	#[benchmark]
	fn process_deadlines_base() {
		let now = frame_system::Pallet::<T>::block_number();
		let mut meter = WeightMeter::new();
		#[block]
		{
			Pallet::<T>::process_deadlines(now, &mut meter);
		}
	}

	/// A reveal deadline with `m` members: the last one no-shows, the rest agree; the job is
	/// settled. While `m` is within the job's `max_replicas`, the `m − 1` reveals are below
	/// `min_replicas`, no replacement can be drawn, and the job is disputed, paying all `m − 1`
	/// revealers; above it, the `m − 1` agree and are paid and credited, which costs more per
	/// member. The hook charges `m = MaxMembers`.
	#[benchmark]
	fn process_deadline(m: Linear<2, { T::MaxMembers::get() }>) -> Result<(), BenchmarkError> {
		let (job, providers) = assigned_job::<T>(m)?;
		hold_a_block::<T>();
		for p in providers.iter() {
			commit::<T>(job, p)?;
		}
		let (_, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			let (r, l) = reveal_for::<T>(p);
			Pallet::<T>::do_reveal(p.clone(), job, r, l, Some(bench_outcome()))?;
		}
		let Some(Phase::Revealing { deadline }) = Rounds::<T>::get(job).map(|r| r.phase) else {
			return Err(BenchmarkError::Stop("not revealing"));
		};
		let now = deadline.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::process_deadline(job, now)?;
		}
		assert!(Rounds::<T>::get(job).is_none());
		let _ = (Deadlines::<T>::get(now), ProviderJobs::<T>::iter().count());
		Ok(())
	}

	/// A commit deadline, in its worst case: of `MaxMembers − (min_replicas − 1)` members one
	/// committed and the rest missed the deadline, so each is faulted (slashed, its slot freed)
	/// and `min_replicas − 1` replacements are drawn from a full candidate list, filling the
	/// round to `MaxMembers`. The hook charges the larger of this and
	/// [`process_deadline`](Self::process_deadline) at `MaxMembers`.
	#[benchmark]
	fn process_commit_deadline() -> Result<(), BenchmarkError> {
		let min = T::Jobs::protocol_params().max_replicas;
		let n = T::MaxMembers::get().saturating_sub(min.saturating_sub(1)).max(1);
		let (job, providers) = assigned_job::<T>(n)?;
		let (first, _) = providers.split_first().ok_or(BenchmarkError::Stop("no providers"))?;
		commit::<T>(job, first)?;
		candidate_pool::<T>();
		let round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
		let deadline = round.members.last().map(|m| m.commit_deadline).unwrap_or_default();
		let now = deadline.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::process_deadline(job, now)?;
		}
		let round = Rounds::<T>::get(job).ok_or(BenchmarkError::Stop("no round"))?;
		if min > 1 && n > 1 {
			assert_eq!(round.phase, Phase::Committing);
			assert_eq!(round.members.len() as u32, T::MaxMembers::get());
		}
		Ok(())
	}

	/// A stuck job with `m` members, all committed and all but one revealed (the most valid
	/// revealers an open round can have: the last reveal takes the verdict): the round is
	/// closed (every slot freed, every reveal dropped) and the job disputed, each of the
	/// `m − 1` revealers paid from the escrow (`paid: true`).
	#[benchmark]
	fn force_dispute(m: Linear<1, { T::MaxMembers::get() }>) -> Result<(), BenchmarkError> {
		let origin =
			<T::ForceOrigin as frame_support::traits::EnsureOrigin<_>>::try_successful_origin()
				.map_err(|_| BenchmarkError::Weightless)?;
		let (job, providers) = assigned_job::<T>(m)?;
		for p in providers.iter() {
			commit::<T>(job, p)?;
		}
		let (_, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			let (r, l) = reveal_for::<T>(p);
			Pallet::<T>::do_reveal(p.clone(), job, r, l, Some(bench_outcome()))?;
		}
		FailedDeadlines::<T>::insert(job, DeadlineFailure { attempts: 1, retry_at: None });
		let before: Vec<_> = others.iter().map(T::Currency::balance).collect();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, job);
		assert!(Rounds::<T>::get(job).is_none());
		assert!(others.iter().zip(before).all(|(p, b)| T::Currency::balance(p) > b));
		assert!(providers.iter().all(|p| ProviderJobs::<T>::get(p).is_empty()));
		frame_system::Pallet::<T>::assert_last_event(
			<T as frame_system::Config>::RuntimeEvent::from(Event::<T>::JobForceDisputed {
				job,
				slots_freed: m,
				paid: true,
			}),
		);
		Ok(())
	}

	/// The last decline of a full round, in its worst case: sent at the member's commit
	/// deadline, so it is late and slashed as a no-show (the bond's hold and the slash's
	/// handler), and every other of the `MaxMembers` members declined already, so this one
	/// ends the job as unrunnable: the round is closed
	/// (every slot freed, reveals dropped), the escrow refunded and the owner's deposit paid to
	/// `MaxMembers` decliners. A decline that does not end the job writes only the round, one
	/// slot, one provider record and the next block's deadline list (where the hook draws its
	/// replacement).
	#[benchmark]
	fn decline_job() -> Result<(), BenchmarkError> {
		let (job, providers) = assigned_job::<T>(T::MaxMembers::get())?;
		let (last, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		declined::<T>(job, others)?;
		// At the last member's commit deadline: the decline is late and slashed as a no-show.
		let deadline = Rounds::<T>::get(job)
			.and_then(|r| r.members.iter().find(|m| m.who == *last).map(|m| m.commit_deadline))
			.ok_or(BenchmarkError::Stop("no member"))?;
		frame_system::Pallet::<T>::set_block_number(deadline);
		let before: Vec<_> = others.iter().map(T::Currency::balance).collect();
		let bond = Providers::<T>::get(last).map(|p| p.bond).unwrap_or_default();
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), job, DeclineReason::ImageUnavailable);
		assert!(Providers::<T>::get(last).map(|p| p.bond).unwrap_or_default() < bond);
		if providers.len() as u32 >= MIN_DECLINES_TO_END {
			assert!(Rounds::<T>::get(job).is_none());
			assert!(T::Jobs::job_terms(job).is_none());
			assert!(others.iter().zip(before).all(|(p, b)| T::Currency::balance(p) > b));
		}
		assert!(providers.iter().all(|p| ProviderJobs::<T>::get(p).is_empty()));
		Ok(())
	}

	/// Appointing an anchor when `MaxAnchors − 1` are appointed (the counter and the map
	/// entry; removing one costs the same).
	#[benchmark]
	fn set_anchor() -> Result<(), BenchmarkError> {
		let origin =
			<T::ForceOrigin as frame_support::traits::EnsureOrigin<_>>::try_successful_origin()
				.map_err(|_| BenchmarkError::Weightless)?;
		for i in 0..T::MaxAnchors::get().saturating_sub(1) {
			let who: T::AccountId = account("anchor", i, 0);
			crate::pallet::Anchors::<T>::insert(&who, ());
		}
		let who: T::AccountId = account("anchor", u32::MAX, 0);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), true);
		assert!(crate::pallet::Anchors::<T>::contains_key(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
