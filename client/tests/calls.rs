//! Every call PoVM's tools send, encoded offline with the committed metadata: each is checked
//! against the metadata by subxt (the generated shape), placed at the pallet and call index
//! the metadata gives, and decodes back as the metadata describes its arguments (so the
//! pallet crates' own Rust types that stand in for generated ones encode as the runtime
//! expects). Milliseconds, no node.

use std::sync::Arc;

use povm_client::{
	metadata::{pallets, COMMITTED},
	types::*,
	Call, PovmConfig,
};
use subxt::{
	client::OfflineClient,
	config::substrate::{SpecVersionForRange, SubstrateConfig},
	metadata::Metadata,
};

fn offline_at(
) -> subxt::client::ClientAtBlock<PovmConfig, subxt::client::OfflineClientAtBlockImpl<PovmConfig>> {
	let metadata = Metadata::decode_from(COMMITTED).expect("the committed metadata decodes");
	let config = SubstrateConfig::builder()
		.set_genesis_hash(H256::repeat_byte(1))
		.set_spec_version_for_block_ranges([SpecVersionForRange {
			block_range: 0..u64::MAX,
			spec_version: 1,
			transaction_version: 1,
		}])
		.set_metadata_for_spec_versions([(1, Arc::new(metadata))])
		.build();
	OfflineClient::new_with_config(config)
		.at_block(0u64)
		.expect("a client at block 0")
}

fn offer() -> VmOffer {
	VmOffer {
		millicores: 2000,
		memory_mib: 1024,
		arch: Arch::X86_64,
		slots: 2,
		grid_intensity: 300,
		pue_permille: 1200,
		core_milliwatts: 10_000,
		max_seconds: 600,
	}
}

fn spec() -> JobSpec {
	JobSpec {
		image: povm_primitives::ImageRef {
			id: [0x12; 32],
			registry: Some(povm_primitives::RegistryRef {
				repository: b"127.0.0.1:5000/povm/coinflip".to_vec().try_into().unwrap(),
				manifest: [0x34; 32],
			}),
			arch: Arch::X86_64,
		},
		command: b"/coinflip".to_vec().try_into().unwrap(),
		args: vec![b"--seed".to_vec().try_into().unwrap()].try_into().unwrap(),
		env: Default::default(),
		inputs: vec![povm_primitives::InputRef {
			name: b"data.csv".to_vec().try_into().unwrap(),
			url: b"http://127.0.0.1:8080/data.csv".to_vec().try_into().unwrap(),
			sha256: [0x56; 32],
			size: 1234,
		}]
		.try_into()
		.unwrap(),
		resources: povm_primitives::Resources { millicores: 500, memory_mib: 64, max_seconds: 30 },
		price_per_second: 1_000_000_000,
		redundancy: RedundancyPolicy { min_replicas: 2, max_replicas: 3, margin: 2 },
		checkpoint_interval: 0,
	}
}

fn every_call() -> Vec<(Call, &'static str, &'static str)> {
	let reveal = Reveal {
		result_digest: [1; 32],
		checkpoints_root: [2; 32],
		salt: [3; 32],
		output: b"{\"heads\":3}".to_vec().try_into().unwrap(),
		usage: Usage { cpu_ms: 5, memory_mib_s: 6, wall_ms: 7 },
	};
	vec![
		(
			Call::RegisterProvider { offer: offer(), bond: 10u128.pow(15) },
			"VmProof",
			"register_provider",
		),
		(Call::UpdateOffer { offer: offer() }, "VmProof", "update_offer"),
		(Call::Heartbeat, "VmProof", "heartbeat"),
		(Call::Unregister, "VmProof", "unregister"),
		(Call::CommitResult { job: 7, commitment: [9; 32] }, "VmProof", "commit_result"),
		(
			Call::RevealResult {
				job: 7,
				reveal,
				leaves: vec![[4; 32]; 3],
				outcome: Some(RunOutcome {
					exit_code: 137,
					timed_out: true,
					oom_killed: false,
					truncated: true,
					contents_digest: [8; 32],
				}),
			},
			"VmProof",
			"reveal_result",
		),
		(
			Call::SetResultService {
				service: Some(ResultService {
					url: b"https://results.example.org/povm".to_vec().try_into().unwrap(),
					retention_secs: 86_400,
				}),
			},
			"VmProof",
			"set_result_service",
		),
		(Call::SetResultService { service: None }, "VmProof", "set_result_service"),
		(
			Call::DeclineJob { job: 7, reason: DeclineReason::ImageUnavailable },
			"VmProof",
			"decline_job",
		),
		(Call::Remark { remark: vec![1, 2, 3] }, "System", "remark"),
		(
			Call::SubmitJob { spec: Box::new(spec()), budget: 10u128.pow(15) },
			"JobQueue",
			"submit_job",
		),
		(Call::CancelJob { job: 7 }, "JobQueue", "cancel_job"),
		(Call::RegisterVrfKey { key: [5; 32] }, "VrfLottery", "register_vrf_key"),
		(
			Call::ClaimTicket {
				epoch: 3,
				signature: VrfProofBytes { pre_output: [6; 32], proof: [7; 64] },
			},
			"VrfLottery",
			"claim_ticket",
		),
		(Call::SetSessionKeys { keys: vec![8; 64], proof: vec![9; 64] }, "Session", "set_keys"),
		(Call::SudoSetCode { code: b"\0asm code".to_vec() }, "Sudo", "sudo"),
	]
}

#[test]
fn every_call_encodes_at_the_metadata_indices_and_decodes_as_the_metadata_says() {
	let at = offline_at();
	let tx = at.transactions();
	let indices = pallets(COMMITTED).unwrap();
	for (call, pallet, name) in every_call() {
		assert_eq!(call.name(), name);
		let data = call.encode_with(&tx).unwrap_or_else(|e| panic!("{name}: {e}"));
		let index = indices.iter().find(|(p, _)| p == pallet).map(|(_, i)| *i).unwrap();
		assert_eq!(data[0], index, "{name}: the pallet index of {pallet} in the metadata");
		let payload = tx
			.from_call_data_bytes(&data)
			.unwrap_or_else(|e| panic!("{name}: the runtime could not decode it: {e}"));
		assert_eq!((payload.pallet_name(), payload.call_name()), (pallet, name));
	}
}

#[test]
fn session_keys_of_the_wrong_length_are_refused_before_signing() {
	let at = offline_at();
	for len in [10, 65] {
		let err = Call::SetSessionKeys { keys: vec![8; len], proof: vec![] }
			.encode_with(&at.transactions())
			.unwrap_err();
		assert!(matches!(err, povm_client::Error::Decode { what: "session keys", .. }), "{err}");
	}
}
