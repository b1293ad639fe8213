//! Storage version 1 → 2: images by reference and input files (issue 14).
//!
//! Version 1 named a job's image by its image ID alone, as the text `sha256:<hex>`, and held
//! an unused `input` digest. Version 2 holds an [`ImageRef`] (the image ID as 32 bytes, an
//! optional registry to pull it from, and its architecture) and a list of [`InputRef`]s.
//!
//! # What the jobs stored at the upgrade get
//!
//! - `image.id`: the ID their text named (the job queue refused any other text, so every
//!   stored job has one; a record that does not is left undecodable and counted).
//! - `image.registry`: `None`: they ran from providers' own image stores, as before.
//! - `image.arch`: [`Arch::X86_64`], the only architecture a job could be drawn for in
//!   practice (the draw did not look at it, and every provider on record offers it).
//! - `inputs`: none. Version 1's `input` digest named no place to fetch from, and no worker
//!   ever fetched it: dropping it changes nothing a job does.

use crate::{pallet::*, types::*};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::{Arch, Bytes, Digest, EnvVar, ImageRef, RedundancyPolicy, Resources};
use scale_info::TypeInfo;

/// The layouts of storage version 1.
pub mod v1 {
	use super::*;
	use povm_primitives::{MAX_ARGS, MAX_ARG_LEN, MAX_COMMAND_LEN, MAX_ENV};

	/// Version 1's bound of the image text: `sha256:` and 64 hex digits.
	pub const IMAGE_REF_LEN: u32 = 71;

	/// A job spec of version 1.
	#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
	pub struct JobSpec<Balance> {
		/// Image ID as text: `sha256:<64 lowercase hex>`.
		pub image: Bytes<IMAGE_REF_LEN>,
		/// Command.
		pub command: Bytes<MAX_COMMAND_LEN>,
		/// Arguments.
		pub args: BoundedVec<Bytes<MAX_ARG_LEN>, ConstU32<MAX_ARGS>>,
		/// Environment.
		pub env: BoundedVec<EnvVar, ConstU32<MAX_ENV>>,
		/// Unused input digest.
		pub input: Option<Digest>,
		/// Resources.
		pub resources: Resources,
		/// Price per VM-second.
		pub price_per_second: Balance,
		/// Redundancy.
		pub redundancy: RedundancyPolicy,
		/// Checkpoint interval.
		pub checkpoint_interval: u32,
	}

	/// A job record of version 1: [`Job`](crate::Job) with a version-1 spec.
	#[derive(
		Encode,
		Decode,
		TypeInfo,
		MaxEncodedLen,
		DebugNoBound,
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct Job<T: crate::Config> {
		/// Owner.
		pub owner: T::AccountId,
		/// Spec.
		pub spec: JobSpec<BalanceOf<T>>,
		/// Escrow.
		pub budget: BalanceOf<T>,
		/// Storage deposit.
		pub deposit: BalanceOf<T>,
		/// State.
		pub state: JobState,
		/// Submission block.
		pub submitted_at: BlockNumberFor<T>,
		/// Queue expiry.
		pub expires_at: BlockNumberFor<T>,
		/// Providers.
		pub providers: ProvidersOf<T>,
		/// Commit deadline.
		pub commit_deadline: Option<BlockNumberFor<T>>,
		/// Reveal deadline.
		pub reveal_deadline: Option<BlockNumberFor<T>>,
	}
}

/// The image ID a version-1 image text names: `sha256:` and 64 lowercase hex digits.
pub fn image_id_of(text: &[u8]) -> Option<Digest> {
	let hex = text.strip_prefix(b"sha256:").filter(|h| h.len() == 64)?;
	let mut id = [0u8; 32];
	for (byte, pair) in id.iter_mut().zip(hex.chunks_exact(2)) {
		let nibble = |c: u8| match c {
			b'0'..=b'9' => Some(c - b'0'),
			b'a'..=b'f' => Some(c - b'a' + 10),
			_ => None,
		};
		*byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
	}
	Some(id)
}

/// The version-2 spec of a version-1 spec (see the module docs), if its image text is an ID.
pub fn migrated_spec<Balance>(spec: v1::JobSpec<Balance>) -> Option<JobSpec<Balance>> {
	Some(JobSpec {
		image: ImageRef { id: image_id_of(&spec.image)?, registry: None, arch: Arch::X86_64 },
		command: spec.command,
		args: spec.args,
		env: spec.env,
		inputs: BoundedVec::new(),
		resources: spec.resources,
		price_per_second: spec.price_per_second,
		redundancy: spec.redundancy,
		checkpoint_interval: spec.checkpoint_interval,
	})
}

/// The version-1 spec that [`migrated_spec`] turns into `spec`, if there is one: an x86-64
/// image without a registry, and no inputs. For a client that submits a job to a runtime not
/// yet upgraded to job-queue storage version 2 (before spec 107).
pub fn spec_as_v1<Balance>(spec: JobSpec<Balance>) -> Option<v1::JobSpec<Balance>> {
	if spec.image.registry.is_some() || spec.image.arch != Arch::X86_64 || !spec.inputs.is_empty() {
		return None;
	}
	const HEX: &[u8; 16] = b"0123456789abcdef";
	let mut image = b"sha256:".to_vec();
	for byte in spec.image.id {
		image.push(HEX[usize::from(byte >> 4)]);
		image.push(HEX[usize::from(byte & 0xf)]);
	}
	Some(v1::JobSpec {
		image: BoundedVec::truncate_from(image),
		command: spec.command,
		args: spec.args,
		env: spec.env,
		input: None,
		resources: spec.resources,
		price_per_second: spec.price_per_second,
		redundancy: spec.redundancy,
		checkpoint_interval: spec.checkpoint_interval,
	})
}

/// The version-2 record of a version-1 job (see the module docs), if its image text is an ID.
pub fn migrated_job<T: crate::Config>(old: v1::Job<T>) -> Option<Job<T>> {
	Some(Job {
		owner: old.owner,
		spec: migrated_spec(old.spec)?,
		budget: old.budget,
		deposit: old.deposit,
		state: old.state,
		submitted_at: old.submitted_at,
		expires_at: old.expires_at,
		providers: old.providers,
		commit_deadline: old.commit_deadline,
		reveal_deadline: old.reveal_deadline,
	})
}

/// The unversioned step; run it through [`MigrateV1ToV2`].
pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut translated = 0u64;
		let mut dropped = 0u64;
		Jobs::<T>::translate::<v1::Job<T>, _>(|_, old| {
			translated = translated.saturating_add(1);
			let new = migrated_job::<T>(old);
			if new.is_none() {
				dropped = dropped.saturating_add(1);
			}
			new
		});
		if dropped > 0 {
			log::error!(target: "runtime::job-queue", "{dropped} job records without an image ID dropped");
		}
		T::DbWeight::get().reads_writes(translated, translated)
	}

	/// The number of job records, and each one's encoded spec.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let mut jobs = Vec::new();
		for key in Jobs::<T>::iter_keys() {
			let raw = frame_support::storage::unhashed::get_raw(&Jobs::<T>::hashed_key_for(key))
				.ok_or("a listed job has no value")?;
			let old = v1::Job::<T>::decode(&mut &raw[..])
				.map_err(|_| "a job record does not decode as version 1")?;
			ensure!(image_id_of(&old.spec.image).is_some(), "a version-1 job without an image ID");
			jobs.push((key, old));
		}
		Ok(jobs.encode())
	}

	/// Every job is still there, decodes in the new layout, and keeps all it held, with its
	/// image ID from its old text, no registry, `x86_64` and no inputs.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let before =
			Vec::<(JobId, v1::Job<T>)>::decode(&mut &state[..]).map_err(|_| "pre-upgrade state")?;
		ensure!(Jobs::<T>::iter_keys().count() == before.len(), "jobs lost or added");
		for (id, old) in before {
			let new = Jobs::<T>::get(id).ok_or("a job lost its record")?;
			ensure!(Some(new) == migrated_job::<T>(old), "a job changed beyond its spec");
		}
		Ok(())
	}
}

/// Version 1 → 2, run only when the on-chain version is 1.
pub type MigrateV1ToV2<T> = VersionedMigration<
	1,
	2,
	InnerMigrateV1ToV2<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
