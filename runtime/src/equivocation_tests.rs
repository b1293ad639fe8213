//! Equivocation reports end to end, natively: real BABE and GRANDPA equivocation proofs signed
//! with the dev keys, real key-ownership proofs from the historical pallet, the report checked
//! as an unsigned transaction and dispatched, the offence recorded by pallet-offences and the
//! offender's provider bond slashed in vm-proof.

// BABE and GRANDPA validate their unsigned reports with `ValidateUnsigned` (deprecated for
// `#[pallet::authorize]`, which they do not use yet); the tests call it as the pool does.
#![allow(deprecated)]

use alloc::{boxed::Box, vec, vec::Vec};
use codec::Encode;
use frame_support::{
	assert_err, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		Hooks, KeyOwnerProofSystem,
	},
};
use sp_consensus_babe::{
	digests::{CompatibleDigestItem, PreDigest, SecondaryPlainPreDigest},
	Slot, BABE_ENGINE_ID,
};
use sp_core::{Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{
	traits::{Header as _, ValidateUnsigned},
	transaction_validity::{InvalidTransaction, TransactionSource},
	BuildStorage, Digest, DigestItem, Perbill,
};
use sp_session::MembershipProof;

use crate::{
	configs::offences::ReportSessions, AccountId, Babe, BabeConfig, Balances, BalancesConfig,
	Executive, Grandpa, Header, Historical, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, RuntimeOrigin, Session, SessionConfig, SessionKeys, System,
	UncheckedExtrinsic, VmProof, BABE_GENESIS_EPOCH_CONFIG, EPOCH_DURATION_IN_SLOTS, UNIT,
};

/// The genesis validators, in session order: Alice, Bob, Charlie, Dave ([`new_ext`]), and Eve,
/// Ferdie, One and Two too ([`new_ext_with`]).
const VALIDATORS: [(Sr25519Keyring, Ed25519Keyring); 8] = [
	(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
	(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
	(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
	(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
	(Sr25519Keyring::Eve, Ed25519Keyring::Eve),
	(Sr25519Keyring::Ferdie, Ed25519Keyring::Ferdie),
	(Sr25519Keyring::One, Ed25519Keyring::One),
	(Sr25519Keyring::Two, Ed25519Keyring::Two),
];
/// The slot of block 1 (BABE's genesis slot).
const GENESIS_SLOT: u64 = 1_000;
/// Alice's provider bond.
const BOND: u128 = 1_000 * UNIT;

fn account(i: usize) -> AccountId {
	VALIDATORS[i].0.to_account_id()
}

fn babe_id(i: usize) -> sp_consensus_babe::AuthorityId {
	VALIDATORS[i].0.public().into()
}

fn grandpa_id(i: usize) -> sp_consensus_grandpa::AuthorityId {
	VALIDATORS[i].1.public().into()
}

/// Four validators (Alice, Bob, Charlie, Dave) with their session keys, funded.
fn new_ext() -> sp_io::TestExternalities {
	new_ext_with(4)
}

/// The first `count` of [`VALIDATORS`] with their session keys, funded.
fn new_ext_with(count: usize) -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: (0..count).map(|i| (account(i), 1_000_000 * UNIT)).collect(),
			..Default::default()
		},
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG, ..Default::default() },
		session: SessionConfig {
			keys: (0..count)
				.map(|i| {
					(
						account(i),
						account(i),
						SessionKeys { babe: babe_id(i), grandpa: grandpa_id(i) },
					)
				})
				.collect(),
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| start_block(1, GENESIS_SLOT));
	ext
}

fn babe_pre_digest(authority_index: u32, slot: u64) -> Digest {
	let pre = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
		authority_index,
		slot: Slot::from(slot),
	});
	Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre.encode())] }
}

/// Finalize the current block (BABE's bookkeeping) and start block `number` at `slot`,
/// authored by Alice, running BABE's and pallet-session's `on_initialize` (a session rotates
/// when `slot` ends BABE's epoch).
fn start_block(number: u32, slot: u64) {
	let parent_hash = if number > 1 {
		Babe::on_finalize(number - 1);
		System::finalize().hash()
	} else {
		System::parent_hash()
	};
	System::reset_events();
	System::initialize(&number, &parent_hash, &babe_pre_digest(0, slot));
	Babe::on_initialize(number);
	Session::on_initialize(number);
}

/// One block per session: each starts exactly one epoch after the one before.
fn start_session(index: u32) {
	while Session::current_index() < index {
		let number = System::block_number() + 1;
		let slot = GENESIS_SLOT + u64::from(Session::current_index() + 1) * EPOCH_DURATION_IN_SLOTS;
		start_block(number, slot);
	}
	assert_eq!(Session::current_index(), index);
}

fn register_provider(who: &AccountId) {
	let offer = pallet_vm_proof::VmOffer {
		millicores: 2000,
		memory_mib: 2048,
		arch: pallet_vm_proof::Arch::X86_64,
		slots: 2,
		grid_intensity: 400,
		pue_permille: 1200,
		core_milliwatts: 10_000,
		max_seconds: 3_600,
	};
	assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who.clone()), offer, BOND));
}

fn bond_of(who: &AccountId) -> u128 {
	pallet_vm_proof::Providers::<Runtime>::get(who).expect("a provider").bond
}

fn held_bond(who: &AccountId) -> u128 {
	<Balances as InspectHold<_>>::balance_on_hold(
		&pallet_vm_proof::HoldReason::ProviderBond.into(),
		who,
	)
}

/// Two different headers for `slot`, both with a BABE pre-digest of authority `index` and
/// sealed with `signer`'s sr25519 key: a BABE equivocation.
fn babe_equivocation(
	index: u32,
	signer: Sr25519Keyring,
	slot: u64,
) -> sp_consensus_babe::EquivocationProof<Header> {
	let header = |state_root: H256| {
		let mut header = Header::new(
			System::block_number(),
			H256::zero(),
			state_root,
			System::parent_hash(),
			babe_pre_digest(index, slot),
		);
		let signature: sp_consensus_babe::AuthoritySignature =
			signer.pair().sign(header.hash().as_ref()).into();
		header
			.digest_mut()
			.push(<DigestItem as CompatibleDigestItem>::babe_seal(signature));
		header
	};
	sp_consensus_babe::EquivocationProof {
		offender: signer.public().into(),
		slot: Slot::from(slot),
		first_header: header(H256::repeat_byte(1)),
		second_header: header(H256::repeat_byte(2)),
	}
}

/// Two prevotes of `signer` in `round` of set `set_id` for different blocks: a GRANDPA
/// equivocation.
fn grandpa_equivocation(
	signer: Ed25519Keyring,
	set_id: u64,
	round: u64,
) -> sp_consensus_grandpa::EquivocationProof<H256, u32> {
	let vote = |target: H256| {
		let prevote = finality_grandpa::Prevote { target_hash: target, target_number: 1u32 };
		let payload = sp_consensus_grandpa::localized_payload(
			round,
			set_id,
			&finality_grandpa::Message::Prevote(prevote.clone()),
		);
		let signature: sp_consensus_grandpa::AuthoritySignature =
			signer.pair().sign(&payload).into();
		(prevote, signature)
	};
	sp_consensus_grandpa::EquivocationProof::new(
		set_id,
		sp_consensus_grandpa::Equivocation::Prevote(finality_grandpa::Equivocation {
			round_number: round,
			identity: signer.public().into(),
			first: vote(H256::repeat_byte(1)),
			second: vote(H256::repeat_byte(2)),
		}),
	)
}

fn babe_key_proof(i: usize) -> MembershipProof {
	Historical::prove((sp_consensus_babe::KEY_TYPE, babe_id(i))).expect("a validator's key")
}

fn grandpa_key_proof(i: usize) -> MembershipProof {
	Historical::prove((sp_consensus_grandpa::KEY_TYPE, grandpa_id(i))).expect("a validator's key")
}

/// The slash fraction of one offender among four validators: min((3·1/4)², 1) = 56.25%.
fn one_of_four() -> Perbill {
	Perbill::from_rational(3u32, 4u32).square()
}

fn offence_kinds() -> Vec<[u8; 16]> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Offences(pallet_offences::Event::Offence { kind, .. }) => Some(kind),
			_ => None,
		})
		.collect()
}

fn offence_slashes() -> Vec<pallet_vm_proof::Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::VmProof(e @ pallet_vm_proof::Event::OffenceSlashed { .. }) => Some(e),
			_ => None,
		})
		.collect()
}

/// Every session since genesis has a key-ownership root, and the lottery seats the genesis
/// validators again (no provider has work yet).
#[test]
fn every_session_has_a_historical_root() {
	new_ext().execute_with(|| {
		start_session(3);
		for session in 0..=3 {
			let (_, count) =
				pallet_session::historical::HistoricalSessions::<Runtime>::get(session)
					.expect("a root for every session");
			assert_eq!(count, 4);
		}
		assert_eq!(Session::validators(), (0..4).map(account).collect::<Vec<_>>());
	});
}

/// The report goes the way the node sends it: the runtime API's submission builds a bare
/// extrinsic into the offchain pool; the pool's validation accepts it from the local node only;
/// applied in a block it reports the offence and slashes Alice's bond by the offence's fraction.
#[test]
fn a_babe_equivocation_report_slashes_the_provider_bond() {
	let (pool, pool_state) = sp_core::offchain::testing::TestTransactionPoolExt::new();
	let mut ext = new_ext();
	ext.register_extension(sp_core::offchain::TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		register_provider(&account(0));
		start_session(2);
		let slot = GENESIS_SLOT + 2 * EPOCH_DURATION_IN_SLOTS + 5;
		let proof = babe_equivocation(0, Sr25519Keyring::Alice, slot);
		let key_proof = babe_key_proof(0);
		assert_eq!(key_proof.session, 2);

		// The runtime API's path: `BabeApi::submit_report_equivocation_unsigned_extrinsic`.
		assert_eq!(Babe::submit_unsigned_equivocation_report(proof, key_proof), Some(()));
		let xt = pool_state.write().transactions.pop().expect("the report was submitted");
		let xt = <UncheckedExtrinsic as codec::Decode>::decode(&mut &xt[..]).unwrap();
		let call = xt.function.clone();
		assert!(matches!(
			call,
			RuntimeCall::Babe(pallet_babe::Call::report_equivocation_unsigned { .. })
		));

		// Accepted from the local node, refused from the network.
		assert_ok!(<Runtime as ValidateUnsigned>::validate_unsigned(
			TransactionSource::Local,
			&call
		));
		assert_err!(
			<Runtime as ValidateUnsigned>::validate_unsigned(TransactionSource::External, &call),
			InvalidTransaction::Call
		);

		let issuance = Balances::total_issuance();
		assert_ok!(Executive::apply_extrinsic(xt).expect("applied"));

		let slashed = one_of_four() * BOND;
		assert_eq!(offence_kinds(), vec![*b"babe:equivocatio"]);
		assert_eq!(
			offence_slashes(),
			vec![pallet_vm_proof::Event::OffenceSlashed {
				who: account(0),
				session: 2,
				fraction: one_of_four(),
				slashed,
			}]
		);
		assert_eq!(bond_of(&account(0)), BOND - slashed);
		assert_eq!(held_bond(&account(0)), BOND - slashed);
		assert_eq!(Balances::total_issuance(), issuance - slashed);
		// An offence of the current session disables the offender.
		assert_eq!(Session::disabled_validators(), vec![0]);
		// The same report again is stale.
		assert_err!(
			<Runtime as ValidateUnsigned>::validate_unsigned(TransactionSource::Local, &call),
			InvalidTransaction::Stale
		);
		VmProof::do_try_state().expect("vm-proof invariants hold");
	});
}

/// An equivocation of an earlier session is proven against that session's historical root
/// (the key-ownership proof was generated while it was current).
#[test]
fn an_equivocation_of_an_earlier_session_is_proven_by_its_historical_root() {
	new_ext().execute_with(|| {
		register_provider(&account(1));
		start_session(1);
		let slot = GENESIS_SLOT + EPOCH_DURATION_IN_SLOTS + 3;
		let proof = babe_equivocation(1, Sr25519Keyring::Bob, slot);
		let key_proof = babe_key_proof(1);
		start_session(3);
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(proof),
			key_proof
		));
		let slashed = one_of_four() * BOND;
		assert_eq!(bond_of(&account(1)), BOND - slashed);
		assert_eq!(held_bond(&account(1)), BOND - slashed);
		// Not the current session: the offender keeps its seat.
		assert!(Session::disabled_validators().is_empty());
	});
}

/// A forged report changes nothing: headers sealed by another key than the offender's, a
/// key-ownership proof of another validator, a proof of another session than the slot's.
#[test]
fn forged_babe_reports_are_refused() {
	new_ext().execute_with(|| {
		register_provider(&account(0));
		start_session(2);
		let slot = GENESIS_SLOT + 2 * EPOCH_DURATION_IN_SLOTS + 5;

		// Bob seals headers that name Alice as the offender.
		let mut forged = babe_equivocation(0, Sr25519Keyring::Bob, slot);
		forged.offender = babe_id(0);
		assert_err!(
			Babe::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(forged),
				babe_key_proof(0)
			),
			pallet_babe::Error::<Runtime>::InvalidEquivocationProof
		);

		// Alice's equivocation with Bob's key-ownership proof.
		assert_err!(
			Babe::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(babe_equivocation(0, Sr25519Keyring::Alice, slot)),
				babe_key_proof(1)
			),
			pallet_babe::Error::<Runtime>::InvalidKeyOwnershipProof
		);

		// A slot of session 1 with a key proof of session 2.
		let earlier = GENESIS_SLOT + EPOCH_DURATION_IN_SLOTS + 5;
		assert_err!(
			Babe::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(babe_equivocation(0, Sr25519Keyring::Alice, earlier)),
				babe_key_proof(0)
			),
			pallet_babe::Error::<Runtime>::InvalidKeyOwnershipProof
		);

		assert_eq!(bond_of(&account(0)), BOND);
		assert!(offence_kinds().is_empty());
	});
}

/// A validator that is not a provider is reported (and disabled) but nothing is slashed.
#[test]
fn an_offender_without_a_provider_bond_loses_nothing() {
	new_ext().execute_with(|| {
		start_session(1);
		let free = Balances::balance(&account(2));
		let slot = GENESIS_SLOT + EPOCH_DURATION_IN_SLOTS + 7;
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(babe_equivocation(2, Sr25519Keyring::Charlie, slot)),
			babe_key_proof(2)
		));
		assert_eq!(offence_kinds(), vec![*b"babe:equivocatio"]);
		assert!(offence_slashes().is_empty());
		assert_eq!(Balances::balance(&account(2)), free);
		assert_eq!(Session::disabled_validators(), vec![2]);
	});
}

/// Two prevotes for different blocks in one round, signed by Dave's GRANDPA key: the report
/// slashes Dave's provider bond.
#[test]
fn a_grandpa_equivocation_report_slashes_the_provider_bond() {
	new_ext().execute_with(|| {
		register_provider(&account(3));
		start_session(2);
		let set_id = Grandpa::current_set_id();
		let proof = grandpa_equivocation(Ed25519Keyring::Dave, set_id, 7);
		let key_proof = grandpa_key_proof(3);
		let call = RuntimeCall::Grandpa(pallet_grandpa::Call::report_equivocation_unsigned {
			equivocation_proof: Box::new(proof.clone()),
			key_owner_proof: key_proof.clone(),
		});
		assert_ok!(<Runtime as ValidateUnsigned>::validate_unsigned(
			TransactionSource::Local,
			&call
		));
		assert_ok!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(proof),
			key_proof
		));
		let slashed = one_of_four() * BOND;
		assert_eq!(offence_kinds(), vec![*b"grandpa:equivoca"]);
		assert_eq!(bond_of(&account(3)), BOND - slashed);
		assert_eq!(held_bond(&account(3)), BOND - slashed);
		assert_err!(
			<Runtime as ValidateUnsigned>::validate_unsigned(TransactionSource::Local, &call),
			InvalidTransaction::Stale
		);

		// The same validator's BABE equivocation in the same session: the session's slash
		// stays at the highest fraction (56.25%), so nothing more is taken.
		let slot = GENESIS_SLOT + 2 * EPOCH_DURATION_IN_SLOTS + 9;
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(babe_equivocation(3, Sr25519Keyring::Dave, slot)),
			babe_key_proof(3)
		));
		assert_eq!(bond_of(&account(3)), BOND - slashed);
		VmProof::do_try_state().expect("vm-proof invariants hold");
	});
}

/// A second offender of the same slot raises the fraction for both (pallet-offences reports the
/// first again): the first pays only the difference, so each loses the raised fraction once.
#[test]
fn a_second_offender_of_the_slot_raises_the_first_ones_slash_to_the_new_fraction_only() {
	new_ext_with(8).execute_with(|| {
		register_provider(&account(0));
		register_provider(&account(1));
		start_session(1);
		let slot = GENESIS_SLOT + EPOCH_DURATION_IN_SLOTS + 4;
		// One offender among eight: (3/8)² = 14.0625%.
		let alone = Perbill::from_rational(3u32, 8u32).square();
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(babe_equivocation(0, Sr25519Keyring::Alice, slot)),
			babe_key_proof(0)
		));
		assert_eq!(bond_of(&account(0)), BOND - alone * BOND);
		// Two offenders of the slot: (6/8)² = 56.25% each.
		let both = Perbill::from_rational(6u32, 8u32).square();
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(babe_equivocation(1, Sr25519Keyring::Bob, slot)),
			babe_key_proof(1)
		));
		assert_eq!(bond_of(&account(1)), BOND - both * BOND);
		// Alice lost 56.25% of her bond in all, not 14.0625% and then 56.25% of the rest
		// (the bond left after the first slash is 85.9375%; the raise takes a share of it).
		// Up to `Perbill`'s precision of the raise's share (a billionth of the bond).
		let alice = bond_of(&account(0));
		assert!(alice.abs_diff(BOND - both * BOND) <= BOND / 1_000_000_000, "Alice keeps {alice}");
		assert_eq!(held_bond(&account(0)), alice);
		// Alice's first slash, then Alice's raise and Bob's slash.
		assert_eq!(offence_slashes().len(), 3);
		VmProof::do_try_state().expect("vm-proof invariants hold");
	});
}

/// Roots and offence-slash records older than the reporting window are pruned.
#[test]
fn roots_older_than_the_reporting_window_are_pruned() {
	new_ext().execute_with(|| {
		assert!(ReportSessions::get() > 2);
		pallet_vm_proof::OffenceSlashes::<Runtime>::insert(0, account(0), Perbill::one());
		pallet_vm_proof::OffenceSlashes::<Runtime>::insert(1, account(0), Perbill::one());
		let window = ReportSessions::get();
		start_session(window + 1);
		// Session `window + 1` started: sessions before 1 left the window.
		assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(0).is_none());
		assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(1).is_some());
		assert!(pallet_vm_proof::OffenceSlashes::<Runtime>::get(0, account(0)).is_none());
		assert!(pallet_vm_proof::OffenceSlashes::<Runtime>::get(1, account(0)).is_some());
	});
}

/// The bond-withdrawal escape: Bob, a validator and provider, equivocates, unregisters and
/// waits out the provider unbonding delay (2 hours) before the report lands (it may for 28
/// days). His bond stays held while he is seated, so the report still slashes it.
#[test]
fn a_validator_cannot_withdraw_its_bond_before_its_equivocation_is_reported() {
	new_ext().execute_with(|| {
		let bob = account(1);
		register_provider(&bob);
		start_session(1);
		let slot = GENESIS_SLOT + EPOCH_DURATION_IN_SLOTS + 3;
		let proof = babe_equivocation(1, Sr25519Keyring::Bob, slot);
		let key_proof = babe_key_proof(1);
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(bob.clone())));
		let unbonded = System::block_number() + crate::timing::UNBONDING_DELAY;
		System::set_block_number(unbonded);
		assert_err!(
			VmProof::withdraw_bond(RuntimeOrigin::signed(bob.clone())),
			pallet_vm_proof::Error::<Runtime>::BondAtStakeAsValidator
		);
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(proof),
			key_proof
		));
		let slashed = one_of_four() * BOND;
		assert_eq!(bond_of(&bob), BOND - slashed);
		assert_eq!(held_bond(&bob), BOND - slashed);
	});
}

/// A former validator's bond is at stake for `ReportSessions` sessions after the last session
/// it sat in, then it may be withdrawn, and the lottery forgets its seat.
#[test]
fn a_former_validators_bond_is_released_after_the_reporting_window() {
	use crate::configs::offences::ValidatorBondsAtStake;
	use frame_support::traits::fungible::Mutate;
	use povm_primitives::ValidatorBonds;
	new_ext().execute_with(|| {
		// Eve is not in the four-validator set; say she sat last in session 2.
		let eve = account(4);
		assert_ok!(<Balances as Mutate<_>>::mint_into(&eve, 1_000_000 * UNIT));
		register_provider(&eve);
		pallet_vrf_lottery::LastSeatedSession::<Runtime>::insert(&eve, 2);
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(eve.clone())));
		System::set_block_number(System::block_number() + crate::timing::UNBONDING_DELAY);
		let last_reportable = 2 + ReportSessions::get();
		pallet_session::CurrentIndex::<Runtime>::put(last_reportable);
		assert!(ValidatorBondsAtStake::at_stake(&eve));
		assert_err!(
			VmProof::withdraw_bond(RuntimeOrigin::signed(eve.clone())),
			pallet_vm_proof::Error::<Runtime>::BondAtStakeAsValidator
		);
		pallet_session::CurrentIndex::<Runtime>::put(last_reportable + 1);
		assert!(!ValidatorBondsAtStake::at_stake(&eve));
		assert_ok!(VmProof::withdraw_bond(RuntimeOrigin::signed(eve.clone())));
		assert_eq!(held_bond(&eve), 0);
		assert!(pallet_vrf_lottery::LastSeatedSession::<Runtime>::get(&eve).is_none());
		// A genesis validator is seated now, hence at stake.
		assert!(ValidatorBondsAtStake::at_stake(&account(0)));
	});
}
