//! Benchmarks (v2) for vm-proof: every call and the per-job cost of the deadline hook.

use super::*;
use crate::pallet::{Deadlines, FailedDeadlines, ProviderJobs, Providers, Rounds};
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

fn offer_for<T: Config>(r: &Resources) -> VmOffer {
	VmOffer {
		millicores: r.millicores.max(1),
		memory_mib: r.memory_mib.max(1),
		arch: Arch::X86_64,
		slots: T::MaxSlots::get(),
		grid_intensity: 400,
		pue_permille: 1_200,
		core_milliwatts: 10_000,
	}
}

fn fund<T: Config>(who: &T::AccountId) {
	let amount = T::MinBond::get()
		.saturating_mul(10u32.into())
		.saturating_add(T::Currency::minimum_balance().saturating_mul(10u32.into()));
	T::Currency::set_balance(who, amount);
}

/// Register `who` with an offer fitting `r` (benchmark helper used by the registry trait).
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
		result_digest: [9u8; 32],
		checkpoints_root: root,
		salt: [3u8; 32],
		output: BoundedVec::truncate_from(
			alloc::vec![1u8; povm_primitives::MAX_OUTPUT_LEN as usize],
		),
		usage: Usage { cpu_ms: 30_000, memory_mib_s: 7_680, wall_ms: 30_000 },
	};
	(reveal, leaves)
}

fn commit<T: Config>(job: JobId, who: &T::AccountId) -> sp_runtime::DispatchResult {
	let (r, _) = reveal_for::<T>(who);
	let c = Pallet::<T>::commitment_of(&r.result_digest, &r.checkpoints_root, &r.salt, who);
	Pallet::<T>::do_commit(who.clone(), job, c)
}

/// A job assigned to `m` fresh providers.
fn assigned_job<T: Config>(m: u32) -> Result<(JobId, Vec<T::AccountId>), BenchmarkError> {
	let providers = <Pallet<T> as ProviderRegistry<_, _>>::bench_register(m, &default_resources());
	let owner: T::AccountId = account("customer", 0, 0);
	let id = T::Jobs::bench_assigned_job(owner, providers.clone())?;
	Ok((id, providers))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_provider() {
		let caller: T::AccountId = whitelisted_caller();
		fund::<T>(&caller);
		let offer = offer_for::<T>(&default_resources());
		let bond = T::MinBond::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), offer, bond);
		assert!(Providers::<T>::contains_key(&caller));
	}

	#[benchmark]
	fn update_offer() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		let mut offer = offer_for::<T>(&default_resources());
		offer.grid_intensity = 50;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), offer);
		Ok(())
	}

	#[benchmark]
	fn heartbeat() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller));
		Ok(())
	}

	#[benchmark]
	fn unregister() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		register_provider_for::<T>(&caller, &default_resources())?;
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
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));
		assert!(!Providers::<T>::contains_key(&caller));
		Ok(())
	}

	/// The last commit of a job, which opens reveals.
	#[benchmark]
	fn commit_result() -> Result<(), BenchmarkError> {
		let m = T::Jobs::protocol_params().max_replicas;
		let (job, providers) = assigned_job::<T>(m)?;
		let (last, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			commit::<T>(job, p)?;
		}
		let (r, _) = reveal_for::<T>(last);
		let c = Pallet::<T>::commitment_of(&r.result_digest, &r.checkpoints_root, &r.salt, last);
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), job, c);
		assert!(matches!(Rounds::<T>::get(job).map(|r| r.phase), Some(Phase::Revealing { .. })));
		Ok(())
	}

	/// The last reveal of a job, which takes the verdict and settles.
	#[benchmark]
	fn reveal_result() -> Result<(), BenchmarkError> {
		let m = T::Jobs::protocol_params().max_replicas;
		let (job, providers) = assigned_job::<T>(m)?;
		for p in providers.iter() {
			commit::<T>(job, p)?;
		}
		let (last, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			let (r, l) = reveal_for::<T>(p);
			Pallet::<T>::do_reveal(p.clone(), job, r, l)?;
		}
		let (r, l) = reveal_for::<T>(last);
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), job, r, l);
		assert!(Rounds::<T>::get(job).is_none());
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
	/// settled.
	#[benchmark]
	fn process_deadline(m: Linear<2, { T::MaxMembers::get() }>) -> Result<(), BenchmarkError> {
		let (job, providers) = assigned_job::<T>(m)?;
		for p in providers.iter() {
			commit::<T>(job, p)?;
		}
		let (_, others) = providers.split_last().ok_or(BenchmarkError::Stop("no providers"))?;
		for p in others {
			let (r, l) = reveal_for::<T>(p);
			Pallet::<T>::do_reveal(p.clone(), job, r, l)?;
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

	/// A stuck job with `m` members, all committed and all but one revealed: the round is
	/// closed (every slot freed, every reveal dropped) and the job disputed.
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
			Pallet::<T>::do_reveal(p.clone(), job, r, l)?;
		}
		FailedDeadlines::<T>::insert(job, DeadlineFailure { attempts: 1, retry_at: None });
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, job);
		assert!(Rounds::<T>::get(job).is_none());
		assert!(providers.iter().all(|p| ProviderJobs::<T>::get(p).is_empty()));
		frame_system::Pallet::<T>::assert_last_event(
			<T as frame_system::Config>::RuntimeEvent::from(Event::<T>::JobForceDisputed {
				job,
				slots_freed: m,
			}),
		);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
