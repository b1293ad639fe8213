//! The draw index: active providers filed by resource class, each class a Fenwick tree of
//! free slots, so that a weighted draw over every eligible provider costs `O(log n)` storage
//! reads, and a change of one provider's free slots `O(log n)` writes, whatever the number of
//! providers.
//!
//! # Resource classes
//!
//! An offer is filed under the class of the tier floors its CPU, memory and run-time limit
//! reach ([`CPU_TIERS`], [`MEMORY_TIERS`], [`SECONDS_TIERS`]); a job is drawn among the
//! classes whose three floors all cover it. Every provider so drawn fits the job (its offer is
//! at least the floor, which is at least the job's need); an offer between two floors is
//! drawn only for jobs up to the lower one (an offer of 3,000 millicores takes jobs of up to
//! 2,000). There are at most [`MAX_CLASSES`] classes per architecture, whatever the offers.
//!
//! # Weights and eligibility
//!
//! A provider's weight in its class is its free slots while it is active, has a valid offer,
//! a bond of at least `MinBond` and a heartbeat in this epoch or the last, and 0 otherwise
//! ([`Pallet::drawable_slots`]). It is brought up to date ([`Pallet::reindex`]) whenever one
//! of those changes by a call or a verdict: registration, offer, heartbeat, unregistration,
//! a slot taken or freed, a slash. Only the lapse of a heartbeat happens without a call: a
//! provider whose heartbeat lapsed keeps its weight until a draw picks it, which then finds
//! it ineligible, sets its weight to 0 and draws again ([`MAX_DRAW_REJECTIONS`] times per
//! draw at most).

use crate::{pallet::*, types::*};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use frame_support::pallet_prelude::*;
use povm_primitives::{Arch, Drawn, Resources, MAX_JOB_SECONDS, MAX_MEMORY_MIB, MAX_MILLICORES};

/// Tier floors of CPU, in millicores per slot: powers of two of cores from a quarter to 64,
/// then 256 cores and the bound.
pub const CPU_TIERS: [u32; 12] =
	[1, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 256_000, MAX_MILLICORES];
/// Tier floors of memory, in MiB per slot: powers of two from 128 MiB to 16 GiB, then 64 GiB,
/// 256 GiB, 1 TiB and the bound.
pub const MEMORY_TIERS: [u32; 13] = [
	1,
	128,
	256,
	512,
	1_024,
	2_048,
	4_096,
	8_192,
	16_384,
	65_536,
	262_144,
	1_048_576,
	MAX_MEMORY_MIB,
];
/// Tier floors of the run-time limit, in seconds: 30 s to 2 min, 5, 10 and 30 min, 1, 4 and 12
/// hours, 1 and 2 days, and the bound (7 days).
pub const SECONDS_TIERS: [u32; 14] =
	[1, 30, 60, 90, 120, 300, 600, 1_800, 3_600, 14_400, 43_200, 86_400, 172_800, MAX_JOB_SECONDS];
/// The most resource classes of one architecture and CPU tier (one entry of `ClassTotals`).
pub const CLASSES_PER_CPU_TIER: u32 = (MEMORY_TIERS.len() * SECONDS_TIERS.len()) as u32;
/// The most resource classes of one architecture.
pub const MAX_CLASSES: u32 = CPU_TIERS.len() as u32 * CLASSES_PER_CPU_TIER;
/// Levels of each class's Fenwick tree: a class holds at most `2^INDEX_DEPTH` providers.
pub const INDEX_DEPTH: u32 = 20;
/// The most providers one class holds.
pub const CLASS_CAPACITY: u32 = 1 << INDEX_DEPTH;
/// The most picks of one draw that may find a provider no longer eligible (its heartbeat
/// lapsed) before the draw gives up: each costs a pick and a reindex.
pub const MAX_DRAW_REJECTIONS: u32 = 2;

/// The index of the largest tier floor at most `value` (0 when `value` is below every floor).
fn floor_tier(tiers: &[u32], value: u32) -> u8 {
	tiers.iter().rposition(|t| *t <= value).unwrap_or(0) as u8
}

/// The class an offer is filed under.
pub fn class_of_offer(offer: &VmOffer) -> ResourceClass {
	ResourceClass {
		arch: offer.arch,
		cpu: floor_tier(&CPU_TIERS, offer.millicores),
		memory: floor_tier(&MEMORY_TIERS, offer.memory_mib),
		seconds: floor_tier(&SECONDS_TIERS, offer.max_seconds),
	}
}

/// The `ClassTotals` entry `class` is listed in.
fn totals_key(class: &ResourceClass) -> (Arch, u8) {
	(class.arch, class.cpu)
}

/// The tier floor of `tier` in `tiers` (0 for an index out of range, which covers nothing).
fn floor_of(tiers: &[u32], tier: u8) -> u32 {
	tiers.get(tier as usize).copied().unwrap_or(0)
}

/// Whether every offer filed under `class` fits `r`: each of its floors covers the need.
pub fn class_covers(class: &ResourceClass, r: &Resources) -> bool {
	floor_of(&CPU_TIERS, class.cpu) >= r.millicores &&
		floor_of(&MEMORY_TIERS, class.memory) >= r.memory_mib &&
		floor_of(&SECONDS_TIERS, class.seconds) >= r.max_seconds
}

/// The Fenwick nodes covering position `pos` (1-based), from the leaf up to the root.
fn update_path(pos: u32) -> impl Iterator<Item = u32> {
	let mut at = pos as u64;
	core::iter::from_fn(move || {
		if at == 0 || at > CLASS_CAPACITY as u64 {
			return None;
		}
		let node = at as u32;
		at += at & at.wrapping_neg();
		Some(node)
	})
}

/// Weight taken out of a draw in memory, so that a provider is not drawn twice and an
/// excluded one not at all, without writing storage.
#[derive(Default)]
struct Overlay {
	/// Subtracted from each (class, node).
	nodes: BTreeMap<(ResourceClass, u32), u32>,
	/// Subtracted from each class's total.
	classes: BTreeMap<ResourceClass, u32>,
}

impl Overlay {
	fn take(&mut self, class: ResourceClass, pos: u32, weight: u32) {
		if weight == 0 {
			return;
		}
		for node in update_path(pos) {
			let n = self.nodes.entry((class, node)).or_default();
			*n = n.saturating_add(weight);
		}
		let c = self.classes.entry(class).or_default();
		*c = c.saturating_add(weight);
	}

	fn node<T: Config>(&self, class: ResourceClass, node: u32) -> u32 {
		IndexNodes::<T>::get(class, node)
			.saturating_sub(self.nodes.get(&(class, node)).copied().unwrap_or(0))
	}

	fn class_weight(&self, total: &ClassTotal) -> u32 {
		total
			.weight
			.saturating_sub(self.classes.get(&total.class).copied().unwrap_or(0))
	}
}

impl<T: Config> Pallet<T> {
	/// The weight `who` should have in the draw index: its free slots when it is active with a
	/// valid offer, a bond of at least `MinBond` and a heartbeat in this epoch or the last; 0
	/// otherwise.
	pub fn drawable_slots(who: &T::AccountId, info: &ProviderInfo<T>) -> u32 {
		let live = info.status == ProviderStatus::Active &&
			Self::offer_valid(&info.offer) &&
			info.last_heartbeat.saturating_add(1) >= T::Epoch::get() &&
			info.bond >= T::MinBond::get();
		if !live {
			return 0;
		}
		let held = ProviderJobs::<T>::decode_len(who).unwrap_or(0) as u32;
		info.offer.slots.saturating_sub(held)
	}

	/// Bring `who`'s place in the draw index up to date with its record: filed under its
	/// offer's class with [`Self::drawable_slots`] while it is active, out of the index
	/// otherwise. Fails only when its class is full ([`CLASS_CAPACITY`]); nothing is changed
	/// then.
	pub(crate) fn reindex(who: &T::AccountId) -> DispatchResult {
		let info = Providers::<T>::get(who).filter(|i| i.status == ProviderStatus::Active);
		let place = IndexPlaces::<T>::get(who);
		match (info, place) {
			(None, None) => Ok(()),
			(None, Some(place)) => {
				Self::unindex(who, place);
				Ok(())
			},
			(Some(info), place) => {
				let class = class_of_offer(&info.offer);
				let weight = Self::drawable_slots(who, &info);
				let epoch = info.last_heartbeat;
				match place {
					Some(place) if place.class == class => {
						Self::set_index_weight(who, place, weight, epoch);
						Ok(())
					},
					place => {
						let size = Self::class_total(&class).map_or(0, |t| t.size);
						ensure!(size < CLASS_CAPACITY, Error::<T>::TooManyProviders);
						if let Some(place) = place {
							Self::unindex(who, place);
						}
						Self::index(who, class, weight, epoch)
					},
				}
			},
		}
	}

	/// File `who` at the end of `class` with `weight`, its last heartbeat in `epoch`.
	fn index(who: &T::AccountId, class: ResourceClass, weight: u32, epoch: u32) -> DispatchResult {
		let position = Self::mutate_class_total(class, |t| {
			t.size = t.size.saturating_add(1);
			t.weight = t.weight.saturating_add(weight);
			if weight > 0 {
				t.count_in(epoch);
			}
			t.size
		})?;
		IndexMembers::<T>::insert(class, position, who);
		IndexPlaces::<T>::insert(who, IndexPlace { class, position, weight, epoch });
		Self::add_to_nodes(class, position, weight as i64);
		Ok(())
	}

	/// Take `who` out of the index: its weight to 0, and the last provider of its class moved
	/// into its position, so that positions stay `1..=size`.
	fn unindex(who: &T::AccountId, place: IndexPlace) {
		Self::set_index_weight(who, place, 0, place.epoch);
		let class = place.class;
		let last = Self::class_total(&class).map_or(0, |t| t.size);
		if last != place.position {
			if let Some(moved) = IndexMembers::<T>::get(class, last) {
				if let Some(mut moved_place) = IndexPlaces::<T>::get(&moved) {
					let w = moved_place.weight as i64;
					Self::add_to_nodes(class, last, -w);
					Self::add_to_nodes(class, place.position, w);
					moved_place.position = place.position;
					IndexPlaces::<T>::insert(&moved, moved_place);
				}
				IndexMembers::<T>::insert(class, place.position, moved);
			}
		}
		IndexMembers::<T>::remove(class, last);
		IndexPlaces::<T>::remove(who);
		// Cannot fail: the class is listed (it holds `who`), and shrinking adds no entry.
		let _ = Self::mutate_class_total(class, |t| t.size = t.size.saturating_sub(1));
	}

	/// Set the weight of `who` (at `place`) to `weight`, its last heartbeat in `epoch`.
	pub(crate) fn set_index_weight(
		who: &T::AccountId,
		mut place: IndexPlace,
		weight: u32,
		epoch: u32,
	) {
		if place.weight == weight && place.epoch == epoch {
			return;
		}
		let before = place.weight;
		Self::add_to_nodes(place.class, place.position, weight as i64 - before as i64);
		// Cannot fail: the class is listed (it holds `who`).
		let _ = Self::mutate_class_total(place.class, |t| {
			t.weight = t.weight.saturating_sub(before).saturating_add(weight);
			if before > 0 {
				t.uncount_in(place.epoch);
			}
			if weight > 0 {
				t.count_in(epoch);
			}
		});
		place.weight = weight;
		place.epoch = epoch;
		IndexPlaces::<T>::insert(who, place);
	}

	/// Apply `f` to the total of `class`, listing the class if it is not yet; a class left
	/// with no provider is delisted, and an entry left with no class removed.
	fn mutate_class_total<R>(
		class: ResourceClass,
		f: impl FnOnce(&mut ClassTotal) -> R,
	) -> Result<R, DispatchError> {
		ClassTotals::<T>::try_mutate_exists(totals_key(&class), |maybe| {
			let totals = maybe.get_or_insert_with(Default::default);
			let at = match totals.iter().position(|t| t.class == class) {
				Some(at) => at,
				None => {
					totals
						.try_push(ClassTotal::empty(class))
						.map_err(|_| Error::<T>::TooManyProviders)?;
					totals.len().saturating_sub(1)
				},
			};
			let total = totals.get_mut(at).ok_or(Error::<T>::TooManyProviders)?;
			let out = f(total);
			if total.size == 0 {
				totals.remove(at);
			}
			if totals.is_empty() {
				*maybe = None;
			}
			Ok(out)
		})
	}

	/// Add `delta` to every Fenwick node covering `position` of `class`; a node that reaches 0
	/// is removed.
	fn add_to_nodes(class: ResourceClass, position: u32, delta: i64) {
		if delta == 0 {
			return;
		}
		for node in update_path(position) {
			IndexNodes::<T>::mutate_exists(class, node, |v| {
				let now = (v.unwrap_or(0) as i64).saturating_add(delta).max(0);
				*v = u32::try_from(now).ok().filter(|n| *n > 0);
			});
		}
	}

	/// The most weight one draw spends beyond what a benchmark of a draw among live providers
	/// measures: [`MAX_DRAW_REJECTIONS`] picks that find a lapsed provider, each a pick (the
	/// class totals, a descent of the tree, the member, its place, record and slots) and a
	/// reindex, which costs at most what a heartbeat that brings a provider back into the index
	/// costs (benchmarked so).
	pub fn draw_rejections_weight() -> Weight {
		Self::rejection_weight().saturating_mul(u64::from(MAX_DRAW_REJECTIONS))
	}

	/// What one pick may cost beyond a pick in a class of `candidates` providers: a descent
	/// reads `⌊log2 size⌋ + 1` nodes, so a class of `2^INDEX_DEPTH` reads
	/// `INDEX_DEPTH − ⌊log2 candidates⌋` more.
	pub fn pick_weight_beyond(candidates: u32) -> Weight {
		let measured = candidates.max(1).ilog2();
		T::DbWeight::get().reads(u64::from(INDEX_DEPTH.saturating_sub(measured)))
	}

	/// One pick that finds a lapsed provider: the pick (the class totals, a descent of the
	/// tree, the member, its place, record and slots) and the reindex, at most what a
	/// heartbeat that brings a provider back into the index costs.
	pub fn rejection_weight() -> Weight {
		T::DbWeight::get()
			.reads(u64::from(INDEX_DEPTH).saturating_add(5))
			.saturating_add(<T::WeightInfo as crate::WeightInfo>::heartbeat())
	}

	/// The total of `class`, if it is listed.
	fn class_total(class: &ResourceClass) -> Option<ClassTotal> {
		ClassTotals::<T>::get(totals_key(class)).into_iter().find(|t| t.class == *class)
	}

	/// Every listed class of `arch` that covers `r`: one read per CPU tier that covers it.
	fn classes_covering(r: &Resources, arch: Arch) -> Vec<ClassTotal> {
		(0..CPU_TIERS.len() as u8)
			.filter(|cpu| floor_of(&CPU_TIERS, *cpu) >= r.millicores)
			.flat_map(|cpu| ClassTotals::<T>::get((arch, cpu)))
			.filter(|t| class_covers(&t.class, r))
			.collect()
	}

	/// Every listed class of `arch`.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	fn classes_of(arch: Arch) -> Vec<ClassTotal> {
		(0..CPU_TIERS.len() as u8)
			.flat_map(|cpu| ClassTotals::<T>::get((arch, cpu)))
			.collect()
	}

	/// How many indexed providers of `arch` in a class that covers `r` have a free slot and a
	/// heartbeat in this epoch or the last: exactly the providers a draw for `r` can take (a
	/// provider whose heartbeat lapsed is not counted, though it weighs until a draw meets it).
	pub fn drawable_count(r: &Resources, arch: Arch) -> u32 {
		let now = T::Epoch::get();
		Self::classes_covering(r, arch)
			.iter()
			.fold(0u32, |n, t| n.saturating_add(t.live(now)))
	}

	/// Draw up to `count` distinct providers eligible for `r` on `arch`, none of `exclude`,
	/// each pick with probability proportional to the free slots of the provider among those
	/// not drawn yet. `random(i)` gives the i-th random number of the draw.
	///
	/// A pick that finds a provider no longer eligible (a lapsed heartbeat) reindexes it and
	/// draws again, at most [`MAX_DRAW_REJECTIONS`] times; the draw reports how many times it
	/// did, so that its caller is charged for them ([`Self::rejection_weight`] each). Storage
	/// reads: the class totals, then per pick at most [`INDEX_DEPTH`] + 1 nodes, the member and
	/// its record.
	pub fn draw_from_index(
		r: &Resources,
		arch: Arch,
		count: u32,
		exclude: &[T::AccountId],
		random: &mut dyn FnMut(u32) -> u64,
	) -> Drawn<T::AccountId> {
		let mut classes = Self::classes_covering(r, arch);
		let mut overlay = Overlay::default();
		for who in exclude {
			if let Some(place) = IndexPlaces::<T>::get(who) {
				if classes.iter().any(|t| t.class == place.class) {
					overlay.take(place.class, place.position, place.weight);
				}
			}
		}
		let mut out = Vec::new();
		let mut rejections = 0u32;
		let mut n = 0u32;
		while (out.len() as u32) < count {
			let total = classes
				.iter()
				.fold(0u64, |acc, t| acc.saturating_add(overlay.class_weight(t) as u64));
			if total == 0 {
				break;
			}
			let mut pick = random(n) % total;
			n = n.saturating_add(1);
			let Some(class) = classes.iter().find_map(|t| {
				let w = overlay.class_weight(t) as u64;
				if pick < w {
					Some(t.class)
				} else {
					pick -= w;
					None
				}
			}) else {
				break;
			};
			let size = classes.iter().find(|t| t.class == class).map_or(0, |t| t.size);
			let position = Self::find_position(class, size, pick as u32, &overlay);
			let Some(who) = IndexMembers::<T>::get(class, position) else { break };
			let Some(place) = IndexPlaces::<T>::get(&who) else { break };
			let eligible = Providers::<T>::get(&who)
				.is_some_and(|info| info.offer.arch == arch && Self::eligible(&who, &info, r)) &&
				!exclude.contains(&who) &&
				!out.contains(&who);
			if eligible {
				overlay.take(class, position, place.weight);
				out.push(who);
				continue;
			}
			rejections = rejections.saturating_add(1);
			// Reindexed (a lapsed heartbeat: weight 0); what weight is left, if any, is
			// taken out of this draw.
			let _ = Self::reindex(&who);
			let left = IndexPlaces::<T>::get(&who).map_or(0, |p| p.weight);
			let dropped = place.weight.saturating_sub(left);
			if let Some(t) = classes.iter_mut().find(|t| t.class == class) {
				t.weight = t.weight.saturating_sub(dropped);
			}
			overlay.take(class, position, left);
			if rejections >= MAX_DRAW_REJECTIONS {
				break;
			}
		}
		Drawn { providers: out, rejections }
	}

	/// The position of `class` (of `size` positions) whose prefix of weights first exceeds
	/// `target`: a descent of the Fenwick tree from the largest power of two within `size`.
	fn find_position(class: ResourceClass, size: u32, target: u32, overlay: &Overlay) -> u32 {
		let mut pos = 0u32;
		let mut left = target;
		let mut step = if size == 0 { 0 } else { 1u32 << (31 - size.leading_zeros()) };
		while step > 0 {
			let next = pos.saturating_add(step);
			if next <= size {
				let w = overlay.node::<T>(class, next);
				if w <= left {
					pos = next;
					left -= w;
				}
			}
			step >>= 1;
		}
		pos.saturating_add(1)
	}

	/// Benchmark helper: register `n` new active providers offering `offer` (funded, bonded at
	/// `MinBond`, live, no job) at the end of its class, writing each Fenwick node once: the
	/// state a registry of `n` more providers has, built in `O(n)` writes instead of `n`
	/// registrations' `O(n log n)`.
	#[cfg(feature = "runtime-benchmarks")]
	pub fn bench_fill(n: u32, offer: VmOffer) -> Vec<T::AccountId> {
		let class = class_of_offer(&offer);
		let w = offer.slots;
		let epoch = T::Epoch::get();
		let start = Self::class_total(&class).map_or(0, |t| t.size);
		Self::bench_list_every_class(class.arch);
		let n = n.min(CLASS_CAPACITY.saturating_sub(start));
		let end = start.saturating_add(n);
		let mut out = Vec::with_capacity(n as usize);
		for position in start.saturating_add(1)..=end {
			// Unique per class and position.
			let seed =
				u32::from_le_bytes([class.cpu, class.memory, class.seconds, class.arch as u8]);
			let who: T::AccountId = frame_benchmarking::account("indexed", position, seed);
			crate::benchmarking::fund::<T>(&who);
			let _ = <T::Currency as frame_support::traits::fungible::MutateHold<_>>::hold(
				&HoldReason::ProviderBond.into(),
				&who,
				T::MinBond::get(),
			);
			Providers::<T>::insert(
				&who,
				ProviderInfo {
					offer,
					bond: T::MinBond::get(),
					status: ProviderStatus::Active,
					last_heartbeat: epoch,
					agreed: 0,
					total: 0,
				},
			);
			IndexMembers::<T>::insert(class, position, &who);
			IndexPlaces::<T>::insert(&who, IndexPlace { class, position, weight: w, epoch });
			out.push(who);
		}
		// Node `i` covers `(i - lowbit(i), i]`: the new positions `start+1..=end` end the
		// ranges of their own nodes and of the ancestors of `end`.
		let overlap = |node: u32| {
			let low = node - (node & node.wrapping_neg());
			node.min(end).saturating_sub(low.max(start))
		};
		let nodes = (start.saturating_add(1)..=end).chain(update_path(end).filter(|i| *i > end));
		for node in nodes {
			let added = overlap(node).saturating_mul(w);
			if added > 0 {
				IndexNodes::<T>::mutate(class, node, |v| *v = v.saturating_add(added));
			}
		}
		let _ = Self::mutate_class_total(class, |t| {
			t.size = end;
			t.weight = t.weight.saturating_add(n.saturating_mul(w));
			for _ in 0..n {
				t.count_in(epoch);
			}
		});
		ProviderCount::<T>::mutate(|c| *c = c.saturating_add(n));
		out
	}

	/// Benchmark helper: list every class of `arch` in [`ClassTotals`] (the ones not listed yet
	/// empty), so that the class totals a draw reads are at their largest.
	#[cfg(feature = "runtime-benchmarks")]
	pub fn bench_list_every_class(arch: Arch) {
		for cpu in 0..CPU_TIERS.len() as u8 {
			ClassTotals::<T>::mutate((arch, cpu), |totals| {
				for memory in 0..MEMORY_TIERS.len() as u8 {
					for seconds in 0..SECONDS_TIERS.len() as u8 {
						let class = ResourceClass { arch, cpu, memory, seconds };
						if !totals.iter().any(|t| t.class == class) {
							let _ = totals.try_push(ClassTotal::empty(class));
						}
					}
				}
			});
		}
	}

	/// Every indexed provider of `arch` in a class covering `r` that is eligible now, with its
	/// free slots, in index order. Reads every indexed provider: for tests, the quote's
	/// checks and `try_state`, never on a hot path.
	pub fn candidates(r: &Resources, arch: Arch) -> Vec<(T::AccountId, u32)> {
		let mut out = Vec::new();
		for t in Self::classes_covering(r, arch).iter() {
			for position in 1..=t.size {
				let Some(who) = IndexMembers::<T>::get(t.class, position) else { continue };
				let Some(info) = Providers::<T>::get(&who) else { continue };
				let free = Self::free_slots(&who, &info, r);
				if free > 0 {
					out.push((who, free));
				}
			}
		}
		out
	}

	/// The draw index agrees with the records: every active provider, and only those, is
	/// filed under its offer's class at a position that names it, with a weight that is its
	/// drawable slots or (heartbeat lapsed since) 0 less; each class's total, drawable count
	/// and size match its members, and every Fenwick node is the sum of the positions it
	/// covers.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn try_state_index() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut indexed = 0u32;
		for (who, place) in IndexPlaces::<T>::iter() {
			indexed += 1;
			let info = Providers::<T>::get(&who).ok_or("indexed without a record")?;
			ensure!(info.status == ProviderStatus::Active, "indexed while not active");
			ensure!(place.class == class_of_offer(&info.offer), "filed under another class");
			ensure!(
				IndexMembers::<T>::get(place.class, place.position).as_ref() == Some(&who),
				"position names another provider"
			);
			let due = Self::drawable_slots(&who, &info);
			let lapsed = info.last_heartbeat.saturating_add(1) < T::Epoch::get();
			ensure!(place.weight == due || lapsed, "index weight out of date");
			ensure!(place.epoch == info.last_heartbeat, "index epoch out of date");
		}
		let active = Providers::<T>::iter_values()
			.filter(|i| i.status == ProviderStatus::Active)
			.count() as u32;
		ensure!(indexed == active, "an active provider is not indexed");
		for arch in [Arch::X86_64, Arch::Aarch64, Arch::Riscv64] {
			for t in Self::classes_of(arch).iter() {
				ensure!(t.class.arch == arch && t.size > 0, "class listed under the wrong arch");
				let mut places = Vec::with_capacity(t.size as usize);
				for position in 1..=t.size {
					let who = IndexMembers::<T>::get(t.class, position).ok_or("index gap")?;
					let place = IndexPlaces::<T>::get(&who).ok_or("member without a place")?;
					places.push(place);
				}
				let weights: Vec<u32> = places.iter().map(|p| p.weight).collect();
				ensure!(
					IndexMembers::<T>::get(t.class, t.size.saturating_add(1)).is_none(),
					"member past the class size"
				);
				let sum = weights.iter().fold(0u32, |a, w| a.saturating_add(*w));
				ensure!(sum == t.weight, "class weight off");
				let now = T::Epoch::get();
				let live = places
					.iter()
					.filter(|p| p.weight > 0 && p.epoch.saturating_add(1) >= now)
					.count() as u32;
				ensure!(live == t.live(now), "class live count off");
				// Prefix sums: positions `(a, b]` weigh `prefix[b] - prefix[a]`.
				let mut prefix = Vec::with_capacity(weights.len().saturating_add(1));
				prefix.push(0u64);
				for w in weights.iter() {
					let last = prefix.last().copied().unwrap_or(0);
					prefix.push(last.saturating_add(u64::from(*w)));
				}
				let covered = |node: u32| {
					let low = node - (node & node.wrapping_neg());
					let at = |p: u32| prefix.get(p.min(t.size) as usize).copied().unwrap_or(0);
					at(node).saturating_sub(at(low))
				};
				for (node, value) in IndexNodes::<T>::iter_prefix(t.class) {
					ensure!((1..=CLASS_CAPACITY).contains(&node), "node out of range");
					ensure!(covered(node) == u64::from(value), "Fenwick node off");
				}
				// Every node a descent reads, present or not.
				for node in (1..=t.size).chain(update_path(t.size)) {
					let value = u64::from(IndexNodes::<T>::get(t.class, node));
					ensure!(covered(node) == value, "Fenwick node missing");
				}
			}
		}
		for ((arch, cpu), totals) in ClassTotals::<T>::iter() {
			ensure!(
				totals.iter().all(|t| t.class.arch == arch && t.class.cpu == cpu),
				"class listed under another architecture or CPU tier"
			);
		}
		// Nothing is left of a class that is not listed.
		for (class, position) in IndexMembers::<T>::iter_keys() {
			let listed = Self::class_total(&class).is_some_and(|t| position <= t.size);
			ensure!(listed, "member of an unlisted class or past its size");
		}
		for (class, _) in IndexNodes::<T>::iter_keys() {
			let listed = Self::class_total(&class).is_some();
			ensure!(listed, "node of an unlisted class");
		}
		Ok(())
	}
}
