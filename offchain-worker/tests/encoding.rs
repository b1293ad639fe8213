//! The worker's hand-built extrinsics against the real SDK types.
//!
//! A mock runtime with the same `TxExtension` tuple as `povm-runtime` (whose configuration
//! is elsewhere) builds the expected `SignedPayload` and decodes the worker's extrinsic as an
//! `UncheckedExtrinsic`. The call here is `System::remark`; the PoVM calls differ only in
//! their call bytes, which `tx`'s unit tests pin.

// `construct_runtime!` checks a `std` feature this crate does not have.
#![allow(unexpected_cfgs)]

use codec::{Decode, Encode};
use frame_support::{derive_impl, weights::IdentityFee};
use povm_worker::{
	prelude::H256,
	signer::Signer,
	tx::{signed_extrinsic_raw, signing_payload_raw, TxParams},
};
use sp_core::{sr25519, Pair};
use sp_runtime::{
	generic::{Era, Preamble, SignedPayload, UncheckedExtrinsic},
	traits::IdentityLookup,
	AccountId32, MultiAddress, MultiSignature,
};

type Block = frame_system::mocking::MockBlockU32<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system = 0,
		Balances: pallet_balances = 4,
		TransactionPayment: pallet_transaction_payment = 5,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId32;
	type Lookup = IdentityLookup<AccountId32>;
	type Nonce = u32;
	type AccountData = pallet_balances::AccountData<u128>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type AccountStore = System;
}

#[derive_impl(pallet_transaction_payment::config_preludes::TestDefaultConfig)]
impl pallet_transaction_payment::Config for Test {
	type OnChargeTransaction = pallet_transaction_payment::FungibleAdapter<Balances, ()>;
	type WeightToFee = IdentityFee<u128>;
	type LengthToFee = IdentityFee<u128>;
}

/// The runtime's extension tuple, over the mock.
type TxExtension = (
	frame_system::CheckNonZeroSender<Test>,
	frame_system::CheckSpecVersion<Test>,
	frame_system::CheckTxVersion<Test>,
	frame_system::CheckGenesis<Test>,
	frame_system::CheckEra<Test>,
	frame_system::CheckNonce<Test>,
	frame_system::CheckWeight<Test>,
	pallet_transaction_payment::ChargeTransactionPayment<Test>,
	frame_metadata_hash_extension::CheckMetadataHash<Test>,
	frame_system::WeightReclaim<Test>,
);

type Xt =
	UncheckedExtrinsic<MultiAddress<AccountId32, ()>, RuntimeCall, MultiSignature, TxExtension>;

fn params(nonce: u32, tip: u128) -> TxParams {
	TxParams {
		spec_version: 101,
		transaction_version: 3,
		genesis_hash: H256::repeat_byte(0x11),
		era_block_number: 4321,
		era_block_hash: H256::repeat_byte(0x22),
		mortality: 64,
		nonce,
		tip,
	}
}

fn extension(p: &TxParams) -> TxExtension {
	(
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::mortal(p.mortality, p.era_block_number.into())),
		frame_system::CheckNonce::from(p.nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(p.tip),
		frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	)
}

fn expected_payload(call: &RuntimeCall, p: &TxParams) -> Vec<u8> {
	let implicit = (
		(),
		p.spec_version,
		p.transaction_version,
		p.genesis_hash,
		p.era_block_hash,
		(),
		(),
		(),
		None,
		(),
	);
	SignedPayload::<RuntimeCall, TxExtension>::from_raw(call.clone(), extension(p), implicit)
		.encode()
}

fn check(remark_len: usize, nonce: u32, tip: u128) {
	let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![7; remark_len] });
	let p = params(nonce, tip);
	let ours = signing_payload_raw(&call.encode(), &p);
	assert_eq!(ours, expected_payload(&call, &p), "signing payload (remark {remark_len} bytes)");

	let signer = Signer::from_uri("//Bob").unwrap();
	let xt = signed_extrinsic_raw(&call.encode(), &p, &signer);
	let decoded = Xt::decode(&mut &xt[..]).expect("the runtime's extrinsic type decodes it");
	assert_eq!(decoded.encode(), xt, "re-encodes to the same bytes");
	assert_eq!(decoded.function, call);
	let Preamble::Signed(address, MultiSignature::Sr25519(sig), ext) = decoded.preamble else {
		panic!("not a signed sr25519 extrinsic")
	};
	assert_eq!(address, MultiAddress::Id(signer.account().clone()));
	assert_eq!(ext.encode(), extension(&p).encode());
	let public = sr25519::Public::from_raw(*signer.account().as_ref());
	assert!(sr25519::Pair::verify(&sig, expected_payload(&call, &p), &public));
}

#[test]
fn the_remark_call_encodes_like_the_sdk() {
	let ours = povm_worker::tx::Call::Remark { remark: vec![1, 2, 3] }.encode();
	let sdk = RuntimeCall::System(frame_system::Call::remark { remark: vec![1, 2, 3] }).encode();
	assert_eq!(ours, sdk);
}

#[test]
fn short_payloads_match_the_sdk() {
	check(3, 0, 0);
	check(10, 1_000_000, 5);
}

#[test]
fn long_payloads_are_hashed_like_the_sdk() {
	check(400, 42, 10u128.pow(20));
}
