//! Benchmarks (v2) for the job queue: every call and the per-item cost of the hook.

use super::*;
use crate::pallet::{AgendaCursor, Counters, Expiring, Jobs, Params, RetryCursor};
use alloc::{boxed::Box, vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	weights::WeightMeter,
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use povm_primitives::{JobLedger, ProviderRegistry, RedundancyPolicy, Resources};
use sp_runtime::traits::Saturating;

/// The newest job and the block at which it expires (where its queue entry is).
fn newest_job<T: Config>() -> (JobId, BlockNumberFor<T>) {
	let id = Counters::<T>::get().next_job_id.saturating_sub(1);
	(id, Jobs::<T>::get(id).map(|j| j.expires_at).unwrap_or_default())
}

/// The number of queued jobs.
fn queued<T: Config>() -> u32 {
	Counters::<T>::get().queued
}

/// A valid spec, as large as the bounds allow, with `replicas` replicas.
pub fn bench_spec<T: Config>(replicas: u32) -> JobSpecOf<T> {
	bench_spec_sized::<T>(replicas, SPEC_SIZE_STEPS)
}

/// A valid spec with `replicas` replicas and `size` steps of its variable part: each list
/// (arguments, variables, inputs) holds `⌈bound × size / SPEC_SIZE_STEPS⌉` items, each item at
/// its bounds, and each text (command, registry repository) is that share of its bound long.
/// Its encoded length is so at least `size / SPEC_SIZE_STEPS` of the largest spec's, from the
/// smallest spec (`size` 0: no argument, variable, input or registry) to the largest.
pub fn bench_spec_sized<T: Config>(replicas: u32, size: u32) -> JobSpecOf<T> {
	let size = size.min(SPEC_SIZE_STEPS);
	let part = |bound: u32| bound.saturating_mul(size).div_ceil(SPEC_SIZE_STEPS) as usize;
	let replicas = replicas.clamp(1, Params::<T>::get().max_replicas);
	let arg: povm_primitives::Bytes<{ povm_primitives::MAX_ARG_LEN }> =
		BoundedVec::truncate_from(vec![b'x'; povm_primitives::MAX_ARG_LEN as usize]);
	// Every text field at its bound: the UTF-8 checks of `validate_spec` scan all of it.
	let var = povm_primitives::EnvVar {
		key: BoundedVec::truncate_from(vec![b'K'; povm_primitives::MAX_ENV_KEY_LEN as usize]),
		value: BoundedVec::truncate_from(vec![b'v'; povm_primitives::MAX_ENV_VALUE_LEN as usize]),
	};
	let registry = (size > 0).then(|| povm_primitives::RegistryRef {
		repository: BoundedVec::truncate_from(
			[&b"r.io/"[..], &vec![b'a'; part(povm_primitives::MAX_REPOSITORY_LEN - 5)]].concat(),
		),
		manifest: [0xbb; 32],
	});
	JobSpec {
		image: povm_primitives::ImageRef {
			id: [0xaa; 32],
			registry,
			arch: povm_primitives::Arch::X86_64,
		},
		command: BoundedVec::truncate_from(vec![b'c'; part(povm_primitives::MAX_COMMAND_LEN)]),
		args: BoundedVec::truncate_from(vec![arg; part(povm_primitives::MAX_ARGS)]),
		env: BoundedVec::truncate_from(vec![var; part(povm_primitives::MAX_ENV)]),
		inputs: BoundedVec::truncate_from(
			(0..part(povm_primitives::MAX_INPUTS) as u32)
				.map(bench_input)
				.collect::<Vec<_>>(),
		),
		resources: Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 },
		price_per_second: BalanceOf::<T>::from(1u32),
		redundancy: RedundancyPolicy { min_replicas: replicas, max_replicas: replicas, margin: 1 },
		checkpoint_interval: 10,
	}
}

/// Input `i` of a benchmark spec: a name and a URL at their bounds.
fn bench_input(i: u32) -> povm_primitives::InputRef {
	let mut name = vec![b'n'; povm_primitives::MAX_INPUT_NAME_LEN as usize];
	name[0] = b'0' + i as u8;
	let mut url = b"https://data.example.org/".to_vec();
	url.resize(povm_primitives::MAX_URL_LEN as usize, b'u');
	povm_primitives::InputRef {
		name: BoundedVec::truncate_from(name),
		url: BoundedVec::truncate_from(url),
		sha256: [i as u8; 32],
		size: povm_primitives::MAX_INPUT_BYTES,
	}
}

/// Give `who` enough to cover `spec`'s maximum cost and deposit, twice.
pub fn fund<T: Config>(who: &T::AccountId, spec: &JobSpecOf<T>) {
	let cost = Pallet::<T>::max_cost(spec).unwrap_or_default();
	let deposit = Pallet::<T>::deposit_for(spec).unwrap_or_default();
	let amount = cost
		.saturating_add(deposit)
		.saturating_mul(2u32.into())
		.saturating_add(T::Currency::minimum_balance().saturating_mul(2u32.into()));
	T::Currency::set_balance(who, amount);
}

/// The whitelisted caller, funded for a spec of `MaxReplicas` replicas and `size` steps at
/// 1,000 per VM-second (a price level above `queue_jobs`'s), and that spec's least budget.
fn dear_submission<T: Config>(
	size: u32,
) -> Result<(T::AccountId, JobSpecOf<T>, BalanceOf<T>), BenchmarkError> {
	let caller: T::AccountId = whitelisted_caller();
	let mut spec = bench_spec_sized::<T>(T::MaxReplicas::get(), size);
	spec.price_per_second = BalanceOf::<T>::from(1_000u32);
	let budget = Pallet::<T>::max_cost(&spec).ok_or(BenchmarkError::Stop("cost"))?;
	fund::<T>(&caller, &spec);
	Ok((caller, spec, budget))
}

/// Queue `n` jobs of one replica at 1 per VM-second (the lowest price level).
fn queue_jobs<T: Config>(n: u32) {
	for i in 0..n {
		let who: T::AccountId = account("customer", i, 0);
		let spec = bench_spec::<T>(1);
		let budget = Pallet::<T>::max_cost(&spec).unwrap_or_default();
		fund::<T>(&who, &spec);
		let _ = Pallet::<T>::do_submit_job(who, spec, budget);
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A submission that evicts nothing, at its worst: the job opens a price level (the
	/// level's bounds and both masks written); a spec of `s` size steps.
	#[benchmark]
	fn submit_job(s: Linear<0, SPEC_SIZE_STEPS>) -> Result<(), BenchmarkError> {
		queue_jobs::<T>(1);
		let (caller, spec, budget) = dear_submission::<T>(s)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), Box::new(spec), budget);
		assert_eq!(queued::<T>(), 2);
		Ok(())
	}

	/// The common submission: the job joins a price level that already holds a ready job (the
	/// level's bounds written, neither mask read nor written); a spec of `s` size steps.
	#[benchmark]
	fn submit_job_to_ready_level(s: Linear<0, SPEC_SIZE_STEPS>) -> Result<(), BenchmarkError> {
		let (caller, spec, budget) = dear_submission::<T>(s)?;
		let customer: T::AccountId = account("customer", 0, 0);
		fund::<T>(&customer, &spec);
		Pallet::<T>::do_submit_job(customer, spec.clone(), budget)?;
		#[extrinsic_call]
		submit_job(RawOrigin::Signed(caller), Box::new(spec), budget);
		assert_eq!(queued::<T>(), 2);
		Ok(())
	}

	/// The worst case: the queue is full, so the job evicts the cheapest queued one, found
	/// past `EVICTION_SCAN` empty places of its level's line; the victim's level empties and
	/// the new job opens a level (both masks change). Every queue operation costs the same
	/// whatever the number of queued jobs, so a full queue is a count at `MaxQueueLen`.
	#[benchmark]
	fn submit_job_evicting(s: Linear<0, SPEC_SIZE_STEPS>) -> Result<(), BenchmarkError> {
		// EVICTION_SCAN empty places at the head of the lowest level's line, then the victim.
		let scan = crate::queue::EVICTION_SCAN;
		queue_jobs::<T>(scan + 2);
		let first = Counters::<T>::get().next_job_id.saturating_sub(u64::from(scan + 2));
		for i in (1..=scan).chain(core::iter::once(0)) {
			let owner: T::AccountId = account("customer", i, 0);
			Pallet::<T>::do_cancel_job(owner, first.saturating_add(i.into()))?;
		}
		Counters::<T>::mutate(|c| c.queued = T::MaxQueueLen::get());
		let (caller, spec, budget) = dear_submission::<T>(s)?;
		#[extrinsic_call]
		submit_job(RawOrigin::Signed(caller), Box::new(spec), budget);
		assert_eq!(queued::<T>(), T::MaxQueueLen::get());
		assert_eq!(Expiring::<T>::iter_keys().count(), 1);
		Ok(())
	}

	/// Cancelling the only job of its level (its place, its level and both masks go).
	#[benchmark]
	fn cancel_job() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let spec = bench_spec::<T>(T::MaxReplicas::get());
		let budget = Pallet::<T>::max_cost(&spec).ok_or(BenchmarkError::Stop("cost"))?;
		fund::<T>(&caller, &spec);
		Pallet::<T>::do_submit_job(caller.clone(), spec, budget)?;
		let id = Counters::<T>::get().next_job_id.saturating_sub(1);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);
		assert!(!Jobs::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn set_params() {
		let params = Params::<T>::get();
		#[extrinsic_call]
		_(RawOrigin::Root, params);
	}

	#[benchmark]
	fn set_min_eligible_providers() {
		let min = T::MaxCandidates::get();
		#[extrinsic_call]
		_(RawOrigin::Root, min);
		assert_eq!(MinEligibleProviders::<T>::get(), min);
	}

	#[benchmark]
	fn reap_job() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let spec = bench_spec::<T>(1);
		let providers = T::Providers::bench_register(1, &spec.resources);
		let id = Pallet::<T>::bench_assigned_job(caller.clone(), providers)?;
		<Pallet<T> as JobLedger<_, _, _>>::dispute(id, None, vec![])?;
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);
		assert!(!Jobs::<T>::contains_key(id));
		Ok(())
	}

	/// The hook's fixed work: one agenda block probed with nothing due, the cursor written,
	/// the ready mask read with no ready job (each further block probed, level visited and try
	/// are charged on their own).
	#[benchmark]
	fn service_queue_base() {
		queue_jobs::<T>(1);
		let now = frame_system::Pallet::<T>::block_number();
		let (id, expires_at) = newest_job::<T>();
		Pallet::<T>::park(id, expires_at, now);
		AgendaCursor::<T>::put(now);
		RetryCursor::<T>::put(now);
		let mut meter = WeightMeter::new();
		#[block]
		{
			Pallet::<T>::service_queue(now, &mut meter);
		}
		assert!(Expiring::<T>::contains_key(expires_at, id));
		assert_eq!(AgendaCursor::<T>::get(), now.saturating_add(1u32.into()));
	}

	/// Expiring one queued job.
	#[benchmark]
	fn expire_job() {
		queue_jobs::<T>(1);
		let now = frame_system::Pallet::<T>::block_number()
			.saturating_add(Params::<T>::get().queue_timeout);
		let mut meter = WeightMeter::with_limit(T::WeightInfo::expire_job());
		let done;
		#[block]
		{
			done = Pallet::<T>::expire_due(now, &mut meter);
		}
		assert!(done);
		assert_eq!(queued::<T>(), 0);
	}

	/// Putting one waiting job back in line, its level without another ready job (the ready
	/// mask is written).
	#[benchmark]
	fn retry_job() {
		queue_jobs::<T>(1);
		let (id, expires_at) = newest_job::<T>();
		let now = frame_system::Pallet::<T>::block_number();
		Pallet::<T>::park(id, expires_at, now);
		let due = now.saturating_add(1u32.into());
		let mut meter = WeightMeter::with_limit(T::WeightInfo::retry_job());
		let done;
		#[block]
		{
			done = Pallet::<T>::retry_due(due, &mut meter);
		}
		assert!(done);
		let entry = Expiring::<T>::get(expires_at, id);
		assert!(matches!(entry.map(|q| q.place), Some(Place::Ready(_))));
	}

	/// Assigning one queued job of `r` replicas among `c` eligible providers: the draw descends
	/// the registry's index (`O(log c)` reads per pick), so `c` runs to `MaxCandidates`
	/// (100,000 in the runtime, the registry size), and each of the `r` providers drawn
	/// takes a slot. At least `max(MinEligibleProviders, min_replicas)` are registered, or the
	/// job would wait.
	#[benchmark]
	fn assign_job(
		c: Linear<1, { T::MaxCandidates::get() }>,
		r: Linear<1, { T::MaxReplicas::get() }>,
	) -> Result<(), BenchmarkError> {
		let spec = bench_spec::<T>(r);
		let need = spec.redundancy.min_replicas.max(MinEligibleProviders::<T>::get());
		T::Providers::bench_register(c.max(need), &spec.resources);
		let caller: T::AccountId = whitelisted_caller();
		let budget = Pallet::<T>::max_cost(&spec).ok_or(BenchmarkError::Stop("cost"))?;
		fund::<T>(&caller, &spec);
		Pallet::<T>::do_submit_job(caller, spec, budget)?;
		let id = Counters::<T>::get().next_job_id.saturating_sub(1);
		let now = frame_system::Pallet::<T>::block_number();
		let outcome;
		#[block]
		{
			outcome = Pallet::<T>::try_assign(id, now)?.outcome;
		}
		assert_eq!(outcome, crate::tick_impls::TryOutcome::Assigned);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
