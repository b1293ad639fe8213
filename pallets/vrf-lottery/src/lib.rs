#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
#[cfg(test)]
mod mock;
pub mod runtime_api;
mod session_impls;
#[cfg(test)]
mod tests;
pub mod types;
pub mod vrf;
pub mod weights;

pub use session_impls::ProviderView;

/// Benchmark support the runtime provides.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Make [`Config::Work`] report `vm_seconds` of verified work for `who` in `epoch`, listing
	/// `who` in `providers_with_work(epoch)`. In the runtime: write vm-proof's `VerifiedMillis`
	/// and `EpochProviders`.
	fn record_work(epoch: u32, who: &AccountId, vm_seconds: u64);
}
pub use types::*;
pub use weights::WeightInfo;

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
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency in which rewards are minted.
		type Currency: Mutate<Self::AccountId>;

		/// Verified work and reputation per epoch (the vm-proof pallet).
		type Work: VerifiedWork<Self::AccountId>;

		/// Registered providers: these may register a VRF key even without tickets.
		type Providers: Contains<Self::AccountId>;

		/// Accounts with session keys set (pallet-session's `NextKeys`): only these may be
		/// seated as validators.
		type ValidatorKeys: Contains<Self::AccountId>;

		/// The seed of a draw, read when it opens (in `SessionManager::new_session`): BABE's
		/// randomness from a past epoch in the runtime, so nobody can grind it; deterministic
		/// in tests.
		///
		/// In a BABE runtime use `pallet_babe::NextRandomness` (fixed by the VRF outputs of the
		/// epoch before last, public for one epoch): with `KeyActivationDelay = 2`, every key that
		/// may claim in a draw was registered before its seed could be known. With
		/// `pallet_babe::Randomness` (public one epoch longer) use a delay of 3.
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

		/// The most providers holding tickets in one draw; further providers with work are
		/// ignored (the ones listed first by `Work` are kept).
		#[pallet::constant]
		type MaxProviders: Get<u32>;

		/// The most accepted claims in one draw. Should be well above `ExpectedWinners`
		/// (e.g. 4×) so that an unlucky draw does not refuse genuine winners.
		#[pallet::constant]
		type MaxWinners: Get<u32>;

		/// The fewest validators a lottery outcome may seat (>= 1).
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// The most validators a lottery outcome may seat (>= `MinValidators`).
		#[pallet::constant]
		type MaxValidators: Get<u32>;

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

	/// Tickets per draw epoch and provider (only the open draw's are kept).
	#[pallet::storage]
	pub type Tickets<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u32, Blake2_128Concat, T::AccountId, u64, OptionQuery>;

	/// Accepted claims per draw epoch and provider (only the open draw's are kept).
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

	/// Registered VRF keys.
	#[pallet::storage]
	pub type VrfKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, VrfKeyRecord, OptionQuery>;

	/// The outcome of the last closed draw.
	#[pallet::storage]
	pub type LastOutcome<T: Config> = StorageValue<_, Outcome<T>, OptionQuery>;

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
		/// A draw opened: tickets are snapshotted and the seed fixed. Claims are accepted until
		/// the next session boundary.
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
		/// A provider's tickets for a draw (one per provider, with [`Event::DrawOpened`]).
		TicketsAssigned {
			/// The draw epoch.
			epoch: u32,
			/// The provider.
			who: T::AccountId,
			/// Its tickets: reputation × verified VM-milliseconds.
			tickets: u64,
		},
		/// A winning claim was accepted.
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
		/// The winners with session keys become the validators of session `session`.
		ValidatorsElected {
			/// The draw epoch.
			epoch: u32,
			/// The session they validate.
			session: u32,
			/// The new set, by ascending VRF output.
			validators: BoundedVec<T::AccountId, T::MaxValidators>,
		},
		/// Too few winners have session keys: the current validator set stays.
		ValidatorSetKept {
			/// The draw epoch.
			epoch: u32,
			/// The session that keeps the current set.
			session: u32,
			/// Winners with session keys.
			qualified: u32,
			/// `MinValidators`.
			required: u32,
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
		/// The draw already has `MaxWinners` claims.
		TooManyWinners,
		/// The caller's VRF key on record is already this key: registering it again would
		/// only restart its activation delay.
		KeyAlreadyRegistered,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MinValidators::get() >= 1, "a chain needs a validator");
			assert!(
				T::MinValidators::get() <= T::MaxValidators::get(),
				"MinValidators must not exceed MaxValidators"
			);
			assert!(T::ExpectedWinners::get() >= 1, "a draw needs expected winners");
			assert!(
				T::MaxWinners::get() >= T::ExpectedWinners::get(),
				"MaxWinners must be at least ExpectedWinners"
			);
			assert!(T::KeyActivationDelay::get() >= 1, "keys must not be chosen after the seed");
			let worst = Self::boundary_weight(T::MaxProviders::get(), T::MaxWinners::get());
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
		/// ## Events
		///
		/// [`Event::TicketClaimed`].
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
	}
}
