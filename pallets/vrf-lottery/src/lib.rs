#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
#[cfg(test)]
mod lottery_bench;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
pub mod seats;
mod session_impls;
#[cfg(test)]
mod tests;
pub mod tickets;
pub mod types;
pub mod vrf;
pub mod weights;

pub use session_impls::ProviderView;

/// Benchmark support the runtime provides.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Give `who` session keys, so that [`Config::ValidatorKeys`] contains it. In the runtime:
	/// write pallet-session's `NextKeys`.
	fn set_session_keys(who: &AccountId);

	/// Make `validators` the set [`Config::CurrentValidators`] returns. In the runtime: write
	/// pallet-session's `Validators`.
	fn set_current_validators(validators: alloc::vec::Vec<AccountId>);
}
pub use types::*;
pub use weights::WeightInfo;

/// The validator-set floor a genesis config gets when it names none (`minValidators = 0`):
/// four validators, so that GRANDPA finalises with one of them offline (three of four are
/// more than two thirds) and no single machine can be the whole set.
pub const DEFAULT_MIN_VALIDATORS: u32 = 4;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible::Mutate, Contains},
	};
	use frame_system::pallet_prelude::*;
	use povm_primitives::VerifiedWork;
	use sp_core::sr25519;

	/// The in-code storage version.
	///
	/// - 1: the first release.
	/// - 2: the open draw's claims are also kept in [`Ranking`], sorted by output (see
	///   [`migrations::v2`]).
	/// - 3: tickets are credited as work is verified ([`TicketTotals`]) instead of snapshotted
	///   from a bounded list of providers when a draw opens; closed draws' tickets are pruned
	///   in pages from [`FirstUnprunedDraw`] (see [`migrations::v3`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency in which rewards are minted.
		type Currency: Mutate<Self::AccountId>;

		/// The verifier (the vm-proof pallet), told when the work of an epoch is in a draw. It
		/// credits the work as it verifies it through this pallet's
		/// [`povm_primitives::TicketLedger`].
		type Work: VerifiedWork<Self::AccountId>;

		/// Registered providers: these may register a VRF key even without tickets.
		type Providers: Contains<Self::AccountId>;

		/// Accounts with session keys set (pallet-session's `NextKeys`): only these may be
		/// seated as validators.
		type ValidatorKeys: Contains<Self::AccountId>;

		/// The seed of a draw, read when it opens (in `SessionManager::new_session`); it must be
		/// unknown while the tickets it draws on were earned (the epoch that just ended), or a
		/// party with many keyed accounts routes its work to the ones it knows will win.
		///
		/// In a BABE runtime do not use `pallet_babe::NextRandomness` alone: pallet-session calls
		/// the session manager before BABE's epoch change, so at that point it was made from the
		/// epoch before last and was public during the work epoch. Hash it with BABE's
		/// `UnderConstruction` outputs (every VRF output of the work epoch, not yet consumed), as
		/// the PoVM runtime does (`runtime/src/configs/lottery_seed.rs`). Keys then need
		/// `KeyActivationDelay >= 1`.
		type Seed: Get<[u8; 32]>;

		/// How many winners a draw expects (the sum of all winning probabilities when no
		/// provider's share reaches `1 / ExpectedWinners`).
		#[pallet::constant]
		type ExpectedWinners: Get<u32>;

		/// Issuance shared by the winners of one draw. Unclaimed issuance and the remainder of
		/// the division are not minted.
		#[pallet::constant]
		type EpochIssuance: Get<BalanceOf<Self>>;

		/// Draw epochs between registering a VRF key and its first use. Must be at least 2 in a
		/// BABE runtime (the seed of a draw is known one epoch before it opens).
		#[pallet::constant]
		type KeyActivationDelay: Get<u32>;

		/// The most claims a draw keeps: the `MaxWinners` lowest VRF outputs (see
		/// [`Ranking`]). Every valid claim counts while the window is open; when the draw is
		/// full a lower output displaces the highest kept one, so claiming early buys nothing.
		/// Should be well above `ExpectedWinners` (e.g. 4×) so that an unlucky draw keeps
		/// every genuine winner. Do not lower it while a draw is open (the [`Ranking`] would no
		/// longer decode).
		#[pallet::constant]
		type MaxWinners: Get<u32>;

		/// The most validators a planned set holds (>= the chain's [`MinValidators`]).
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// The most newcomers that enter, and the most incumbents that leave, the validator set
		/// at one session boundary (>= 1): a party that wins every draw gains at most this many
		/// seats per session. Newcomers beyond it enter only to fill seats the keyed incumbents
		/// cannot (the floor); see [`seats`].
		#[pallet::constant]
		type MaxSeatChanges: Get<u32>;

		/// The validators now seated, the incumbents a plan starts from (pallet-session's
		/// `Validators` in the runtime: the set of the session that has just started when
		/// `new_session` plans the one after). Only the first `MaxValidators` are considered.
		type CurrentValidators: Get<alloc::vec::Vec<Self::AccountId>>;

		/// Weight information for the calls and the session-boundary work.
		type WeightInfo: WeightInfo;

		/// Makes `Work` report verified work, for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The draw whose claim window is open.
	#[pallet::storage]
	pub type CurrentDraw<T: Config> = StorageValue<_, DrawInfoOf<T>, OptionQuery>;

	/// Tickets per draw epoch and provider: credited as work is verified
	/// ([`povm_primitives::TicketLedger::credit`]) to the draw after the work's epoch, fixed
	/// when that draw opens, pruned in pages once it has closed (from [`FirstUnprunedDraw`]).
	#[pallet::storage]
	pub type Tickets<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u32, Blake2_128Concat, T::AccountId, u64, OptionQuery>;

	/// The tickets credited to each draw that has not opened yet (the one after the open draw):
	/// taken into its [`DrawInfo`] when it opens, so that opening a draw reads no provider.
	#[pallet::storage]
	pub type TicketTotals<T: Config> = StorageMap<_, Twox64Concat, u32, TicketTotal, ValueQuery>;

	/// The first draw epoch whose [`Tickets`] may remain: every draw before it has closed and
	/// its tickets are gone. The tickets of closed draws from here up to the open draw are
	/// removed in pages ([`Pallet::prune_tickets`]) at session boundaries and in idle time.
	#[pallet::storage]
	pub type FirstUnprunedDraw<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Accepted claims per draw epoch and provider (only the open draw's are kept). A claim
	/// displaced by a lower output is removed, so it is not paid.
	#[pallet::storage]
	pub type Claims<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		u32,
		Blake2_128Concat,
		T::AccountId,
		ClaimRecord,
		OptionQuery,
	>;

	/// The open draw's kept claims, by ascending `(vrf::output_value(output), output)`: the
	/// same accounts and outputs as its [`Claims`], at most `MaxWinners`. The last is the worst
	/// kept claim; when the draw is full a claim must be lower to enter, and displaces it.
	///
	/// One bounded value read and written per claim (`MaxWinners × 64` bytes for 32-byte
	/// accounts) keeps a claim's cost independent of how many claims came before; finding the
	/// worst kept claim among the [`Claims`] instead would read all of them. Emptied when the
	/// draw closes.
	#[pallet::storage]
	pub type Ranking<T: Config> =
		StorageValue<_, BoundedVec<RankedClaim<T::AccountId>, T::MaxWinners>, ValueQuery>;

	/// Registered VRF keys.
	#[pallet::storage]
	pub type VrfKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, VrfKeyRecord, OptionQuery>;

	/// The floor of the validator set (1..=`MaxValidators`): no planned set is smaller. When
	/// too few winners have session keys, incumbents with session keys fill the set up to the
	/// floor; only if even they cannot, the current set stays ([`Event::ValidatorSetKept`]).
	/// See [`seats`].
	///
	/// A chain parameter, set by the genesis config (`minValidators`, see [`GenesisConfig`]): a
	/// production chain's floor (4, or more) keeps one machine from halting it, while a one-node
	/// development chain needs 1. Absent (a chain from before it was stored), it reads 1, the
	/// floor such chains had.
	#[pallet::storage]
	pub type MinValidators<T: Config> =
		StorageValue<_, u32, ValueQuery, frame_support::traits::ConstU32<1>>;

	/// The outcome of the last closed draw.
	#[pallet::storage]
	pub type LastOutcome<T: Config> = StorageValue<_, Outcome<T>, OptionQuery>;

	/// The last session a former validator sat in, written when a plan leaves it out; an
	/// equivocation of that session can be reported for the reporting window after it, and
	/// the provider bond it would slash must stay held until then (see
	/// [`Pallet::last_seated_session`]). Removed with [`Pallet::forget_seat`] when the bond is
	/// withdrawn; at most one entry per account ever seated (each one a bonded provider).
	// Also written when a kept set drops a validator without session keys (`note_leavers`);
	// not in the doc above, which is part of the committed metadata.
	#[pallet::storage]
	pub type LastSeatedSession<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, OptionQuery>;

	/// The lottery's chain parameters at genesis.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The floor of the validator set ([`MinValidators`]), 1..=`MaxValidators`. `0` (the
		/// default) stands for [`DEFAULT_MIN_VALIDATORS`].
		pub min_validators: u32,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let floor =
				if self.min_validators == 0 { DEFAULT_MIN_VALIDATORS } else { self.min_validators };
			assert!(
				floor <= T::MaxValidators::get(),
				"the genesis minValidators must not exceed MaxValidators"
			);
			MinValidators::<T>::put(floor);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered (or replaced) its VRF key.
		VrfKeyRegistered {
			/// The provider.
			who: T::AccountId,
			/// The sr25519 public key.
			key: sr25519::Public,
			/// The first draw epoch it may claim in.
			active_from: u32,
		},
		/// A draw opened: its tickets (credited as the work was verified) and the seed are
		/// fixed. Claims are accepted until the next session boundary.
		DrawOpened {
			/// The draw epoch (the session now running).
			epoch: u32,
			/// The epoch whose verified work became tickets.
			work_epoch: u32,
			/// The seed of every VRF evaluation in this draw.
			seed: [u8; 32],
			/// Sum of all tickets.
			total_tickets: u128,
			/// Providers holding tickets.
			providers: u32,
			/// Expected winners.
			expected_winners: u32,
		},
		/// A winning claim was accepted (and is kept unless a lower output displaces it).
		TicketClaimed {
			/// The draw epoch.
			epoch: u32,
			/// The winner.
			who: T::AccountId,
			/// Its VRF output.
			output: VrfOutput,
			/// The threshold it was below.
			threshold: u128,
		},
		/// A kept claim was displaced by a lower output in a full draw: its record is removed
		/// and it will not be paid. Emitted before the [`Event::TicketClaimed`] of the claim
		/// that displaced it.
		ClaimDisplaced {
			/// The draw epoch.
			epoch: u32,
			/// The account whose claim was displaced.
			who: T::AccountId,
		},
		/// A winner was paid its share of the epoch's issuance (newly minted).
		RewardPaid {
			/// The draw epoch.
			epoch: u32,
			/// The winner.
			who: T::AccountId,
			/// Amount minted.
			amount: BalanceOf<T>,
		},
		/// A draw closed.
		DrawClosed {
			/// The draw epoch.
			epoch: u32,
			/// Winners, by ascending VRF output.
			winners: BoundedVec<T::AccountId, T::MaxWinners>,
			/// Paid to each winner.
			payout: BalanceOf<T>,
		},
		/// The validators of session `session`, planned from the incumbents and the winners
		/// with session keys (see [`seats`]).
		ValidatorsElected {
			/// The draw epoch.
			epoch: u32,
			/// The session they validate.
			session: u32,
			/// The new set: winners by ascending VRF output, then the incumbents that stay.
			validators: BoundedVec<T::AccountId, T::MaxValidators>,
			/// How many of them were not seated before (at most `MaxSeatChanges` unless the
			/// keyed incumbents could not fill `MinValidators`).
			newcomers: u32,
			/// How many of them were seated before.
			incumbents: u32,
		},
		/// Winners and incumbents with session keys together are fewer than `MinValidators`:
		/// the current validator set stays.
		ValidatorSetKept {
			/// The draw epoch.
			epoch: u32,
			/// The session that keeps the current set.
			session: u32,
			/// Winners with session keys.
			qualified: u32,
			/// Incumbents with session keys that did not win.
			incumbents: u32,
			/// `MinValidators`.
			required: u32,
		},
		/// Root set the floor of the validator set ([`MinValidators`]).
		MinValidatorsSet {
			/// The new floor.
			floor: u32,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only registered providers or accounts holding tickets may register a VRF key.
		NotProvider,
		/// The key is not a valid sr25519 public key.
		InvalidVrfKey,
		/// The caller has no registered VRF key; call `register_vrf_key` first.
		NoVrfKey,
		/// The caller's VRF key was registered too recently to claim in this draw.
		KeyNotYetActive,
		/// No draw is open (before the first session boundary).
		NoDraw,
		/// The claim names an epoch whose window has closed; claim in the open draw's epoch.
		ClaimWindowClosed,
		/// The claim names an epoch that has not opened yet.
		WrongEpoch,
		/// The caller already claimed in this draw.
		AlreadyClaimed,
		/// The caller holds no tickets in this draw.
		NoTickets,
		/// The VRF signature does not verify against the caller's key on the draw's transcript.
		InvalidVrfProof,
		/// The VRF output is not below the caller's threshold: it did not win.
		AboveThreshold,
		/// The draw keeps `MaxWinners` claims, all with lower outputs than the caller's: it
		/// cannot enter (nothing changed). (Index 11 was `TooManyWinners`, refused whenever
		/// the draw was full, before storage version 2.)
		OutbidByLowerOutputs,
		/// The caller's VRF key on record is already this key: registering it again would
		/// only restart its activation delay.
		KeyAlreadyRegistered,
		/// The floor must be at least 1 and at most `MaxValidators`.
		FloorOutOfRange,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Prunes the tickets of closed draws with the block's leftover weight.
		fn on_idle(_n: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune_tickets_within(remaining)
		}

		fn integrity_test() {
			assert!(
				DEFAULT_MIN_VALIDATORS <= T::MaxValidators::get(),
				"the default floor must not exceed MaxValidators"
			);
			assert!(T::ExpectedWinners::get() >= 1, "a draw needs expected winners");
			assert!(
				T::MaxWinners::get() >= T::ExpectedWinners::get(),
				"MaxWinners must be at least ExpectedWinners"
			);
			assert!(T::KeyActivationDelay::get() >= 1, "keys must not be chosen after the seed");
			assert!(T::MaxSeatChanges::get() >= 1, "the validator set must be able to change");
			let worst = Self::boundary_weight(T::MaxWinners::get())
				.saturating_add(Self::prune_weight(tickets::PRUNE_AT_BOUNDARY));
			assert!(
				worst.all_lte(T::BlockWeights::get().max_block),
				"the session-boundary work must fit in a block"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Register (or replace) the sr25519 key the caller evaluates its lottery VRF with.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a registered provider or by an account holding tickets in the open draw.
		///
		/// ## Details
		///
		/// The key may claim from draw epoch `current + KeyActivationDelay` on, so that nobody
		/// chooses a key after the seed is known. Replacing a key restarts the delay;
		/// registering the key already on record is refused ([`Error::KeyAlreadyRegistered`]).
		///
		/// ## Events
		///
		/// [`Event::VrfKeyRegistered`].
		#[pallet::call_index(0)]
		pub fn register_vrf_key(origin: OriginFor<T>, key: sr25519::Public) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_vrf_key(who, key)
		}

		/// Claim a winning lottery ticket in the open draw.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a provider holding tickets in draw `epoch` with an active VRF key.
		///
		/// ## Details
		///
		/// `signature` is the caller's sr25519 VRF signature on
		/// [`vrf::lottery_transcript`]`(seed, epoch, caller)`. The runtime verifies the proof and
		/// that the output is below the caller's threshold ([`vrf::threshold`],
		/// [`vrf::is_winner`]). Only the open draw's epoch is accepted, once per provider. A
		/// successful claim pays no fee.
		///
		/// Every valid claim counts while the window is open, whenever it arrives: the draw
		/// keeps the `MaxWinners` lowest outputs ([`Ranking`]). When it is full, a claim whose
		/// output is lower than the worst kept one displaces it ([`Event::ClaimDisplaced`]: that
		/// claim is removed and not paid); any other is refused with
		/// [`Error::OutbidByLowerOutputs`]. The cost is one bounded [`Ranking`] read and write.
		///
		/// ## Events
		///
		/// [`Event::TicketClaimed`], preceded by [`Event::ClaimDisplaced`] when the draw was
		/// full.
		#[pallet::call_index(1)]
		pub fn claim_ticket(
			origin: OriginFor<T>,
			epoch: u32,
			signature: VrfProofBytes,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_claim_ticket(who, epoch, signature)?;
			Ok(Pays::No.into())
		}

		/// Set the floor of the validator set ([`MinValidators`]).
		///
		/// ## Dispatch Origin
		///
		/// Root.
		///
		/// ## Details
		///
		/// `1 <= floor <= MaxValidators`. Applies from the next session boundary's plan: a floor
		/// above the current set is met by seating more keyed winners (fewer incumbents leave,
		/// winners enter only seats no keyed incumbent holds); while keyed winners and
		/// incumbents together are fewer than the floor, the current set stays
		/// ([`Event::ValidatorSetKept`]). Lowering it lets incumbents without a win leave once
		/// newcomers take their seats; it never removes validators by itself.
		///
		/// ## Errors
		///
		/// [`Error::FloorOutOfRange`]; `BadOrigin` unless root.
		///
		/// ## Events
		///
		/// [`Event::MinValidatorsSet`].
		#[pallet::call_index(2)]
		pub fn set_min_validators(origin: OriginFor<T>, floor: u32) -> DispatchResult {
			ensure_root(origin)?;
			ensure!((1..=T::MaxValidators::get()).contains(&floor), Error::<T>::FloorOutOfRange);
			MinValidators::<T>::put(floor);
			Self::deposit_event(Event::MinValidatorsSet { floor });
			Ok(())
		}
	}
}
