//! Equivocation reports: BABE and GRANDPA offences, checked against pallet-session's
//! historical key-ownership proofs, recorded by pallet-offences and punished by slashing the
//! offender's provider bond in vm-proof.
//!
//! - [`pallet_session::historical`] keeps, per session, the root of a trie of the validators'
//!   session keys. A report carries a proof that the offending key belonged to a validator of
//!   the offence's session (`Historical::prove` builds it in the runtime API
//!   `generate_key_ownership_proof`). PoVM has no staking, so a validator's full identification
//!   is `()`: what is at stake is its provider bond, read when the offence is reported.
//! - [`HistoricalLottery`] is pallet-session's session manager: the VRF lottery wrapped so that
//!   the historical pallet notes each session's root (see its docs).
//! - pallet-offences de-duplicates reports and computes the slash fraction; [`SlashProviderBond`]
//!   slashes that fraction of each offender's provider bond (vm-proof's
//!   [`pallet_vm_proof::Pallet::slash_for_offence`]) and, for an offence of the current session,
//!   asks pallet-session to disable the offender (its `DisablingStrategy` decides).
//! - Reports are kept and verifiable for [`ReportSessions`] sessions (28 days, as GRANDPA's
//!   set-id history); older roots and slash records are pruned at each new session.

use alloc::vec::Vec;
use frame_support::{parameter_types, weights::Weight};
use sp_runtime::{traits::Convert, Perbill};
use sp_staking::{
	offence::{OffenceDetails, OffenceSeverity, OnOffenceHandler},
	SessionIndex,
};

use crate::{AccountId, Historical, Runtime, RuntimeEvent, Session, VmProof, VrfLottery};

parameter_types! {
	/// Sessions in which an offence can still be reported: its session's key-ownership root is
	/// kept this long (28 days, the GRANDPA set-id history).
	pub const ReportSessions: u32 = crate::timing::MAX_SET_ID_SESSION_ENTRIES as u32;
	/// How long an equivocation report stays valid in the transaction pool, in blocks: the
	/// reporting window.
	pub const ReportLongevity: u64 =
		crate::timing::MAX_SET_ID_SESSION_ENTRIES * crate::EPOCH_DURATION_IN_SLOTS;
}

/// The identification of an offender: its account and `()` (no staking exposure).
pub type IdentificationTuple = pallet_session::historical::IdentificationTuple<Runtime>;

/// Every validator's full identification is `()`: the bond at stake is read from vm-proof when
/// the offence is reported, not frozen in the session's trie.
pub struct UnitIdentification;

impl Convert<AccountId, Option<()>> for UnitIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = UnitIdentification;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = IdentificationTuple;
	type OnOffenceHandler = SlashProviderBond;
}

/// Punishes reported offences: slashes the provider bond, disables offenders of the current
/// session.
pub struct SlashProviderBond;

impl OnOffenceHandler<AccountId, IdentificationTuple, Weight> for SlashProviderBond {
	/// pallet-offences passes every offender of the slot (earlier ones again, with the fraction
	/// raised by the newcomers); vm-proof slashes each at most the highest fraction of the
	/// session. An offender without a provider record is not slashed (nothing is held), but is
	/// disabled like any other.
	fn on_offence(
		offenders: &[OffenceDetails<AccountId, IdentificationTuple>],
		slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		let current = pallet_session::CurrentIndex::<Runtime>::get();
		let db = <Runtime as frame_system::Config>::DbWeight::get();
		let mut weight = db.reads(1);
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			let (who, ()) = &details.offender;
			VmProof::slash_for_offence(who, session, *fraction);
			weight = weight.saturating_add(VmProof::offence_slash_weight());
			if session == current {
				Session::report_offence(who.clone(), OffenceSeverity(*fraction));
				weight = weight.saturating_add(db.reads_writes(2, 1));
			}
		}
		weight
	}
}

/// A provider's bond answers for its conduct as a validator until an equivocation of its last
/// session can no longer be reported: while it is seated or planned, and for
/// [`ReportSessions`] sessions after the last session it sat in (the lottery's
/// `last_seated_session`). vm-proof's `withdraw_bond` waits for it, so an offender cannot
/// unregister and take its bond (2 hours) before a report lands (28 days).
pub struct ValidatorBondsAtStake;

impl povm_primitives::ValidatorBonds<AccountId> for ValidatorBondsAtStake {
	fn at_stake(who: &AccountId) -> bool {
		let current = pallet_session::CurrentIndex::<Runtime>::get();
		VrfLottery::last_seated_session(who, current)
			.is_some_and(|last| current <= last.saturating_add(ReportSessions::get()))
	}
	fn released(who: &AccountId) {
		VrfLottery::forget_seat(who);
	}
}

/// The VRF lottery seen as a historical session manager: its validators with `()` as their
/// identification.
pub struct LotteryIdentified;

impl pallet_session::SessionManager<AccountId> for LotteryIdentified {
	fn new_session(new_index: SessionIndex) -> Option<Vec<AccountId>> {
		<VrfLottery as pallet_session::SessionManager<_>>::new_session(new_index)
	}
	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<AccountId>> {
		<VrfLottery as pallet_session::SessionManager<_>>::new_session_genesis(new_index)
	}
	fn end_session(end_index: SessionIndex) {
		<VrfLottery as pallet_session::SessionManager<_>>::end_session(end_index)
	}
	fn start_session(start_index: SessionIndex) {
		<VrfLottery as pallet_session::SessionManager<_>>::start_session(start_index)
	}
}

fn identified(validators: Vec<AccountId>) -> Vec<(AccountId, ())> {
	validators.into_iter().map(|v| (v, ())).collect()
}

impl pallet_session::historical::SessionManager<AccountId, ()> for LotteryIdentified {
	fn new_session(new_index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session(new_index).map(identified)
	}
	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session_genesis(new_index).map(identified)
	}
	fn start_session(start_index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::start_session(start_index)
	}
	fn end_session(end_index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::end_session(end_index)
	}
}

/// The current validators, as a session manager that always names them: used only to note the
/// root of a session that started without one (see [`HistoricalLottery`]).
struct CurrentValidators;

impl pallet_session::SessionManager<AccountId> for CurrentValidators {
	fn new_session(_: SessionIndex) -> Option<Vec<AccountId>> {
		Some(pallet_session::Validators::<Runtime>::get())
	}
	fn end_session(_: SessionIndex) {}
	fn start_session(_: SessionIndex) {}
}

impl pallet_session::historical::SessionManager<AccountId, ()> for CurrentValidators {
	fn new_session(_: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		Some(identified(pallet_session::Validators::<Runtime>::get()))
	}
	fn start_session(_: SessionIndex) {}
	fn end_session(_: SessionIndex) {}
}

type NoteRoot<I> = pallet_session::historical::NoteHistoricalRoot<Runtime, I>;

/// pallet-session's session manager: the VRF lottery, with the historical pallet noting each
/// session's key-ownership root.
///
/// `NoteHistoricalRoot` notes a session's root when its validators are planned (a session
/// before it starts), from the lottery's winners, or copies the previous session's root when
/// the lottery keeps the validators. The genesis sessions have no winners (the lottery keeps
/// the genesis validators), so there is no root to copy: when a session starts without a root,
/// its root is noted then from its validators (the genesis ones). Each session start also
/// prunes the roots and vm-proof's offence-slash records that left the reporting window
/// ([`ReportSessions`]).
pub struct HistoricalLottery;

impl pallet_session::SessionManager<AccountId> for HistoricalLottery {
	fn new_session(new_index: SessionIndex) -> Option<Vec<AccountId>> {
		<NoteRoot<LotteryIdentified> as pallet_session::SessionManager<_>>::new_session(new_index)
	}
	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<AccountId>> {
		<NoteRoot<LotteryIdentified> as pallet_session::SessionManager<_>>::new_session_genesis(
			new_index,
		)
	}
	fn end_session(end_index: SessionIndex) {
		<NoteRoot<LotteryIdentified> as pallet_session::SessionManager<_>>::end_session(end_index)
	}
	fn start_session(start_index: SessionIndex) {
		<NoteRoot<LotteryIdentified> as pallet_session::SessionManager<_>>::start_session(
			start_index,
		);
		if pallet_session::historical::HistoricalSessions::<Runtime>::get(start_index).is_none() {
			// Notes the root of the validators that just took their seats. The stored range
			// ends at `start_index + 1` already (the next session is planned after this call).
			let _ = <NoteRoot<CurrentValidators> as pallet_session::SessionManager<_>>::new_session(
				start_index,
			);
		}
		let window = ReportSessions::get();
		if let Some(oldest) = start_index.checked_sub(window) {
			Historical::prune_up_to(oldest);
			if let Some(gone) = oldest.checked_sub(1) {
				VmProof::prune_offence_slashes(gone);
			}
		}
	}
}
