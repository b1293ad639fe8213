//! The inherent data every BABE block carries: the slot and the timestamp.

use povm_runtime::opaque::Block;
use sp_consensus_babe::SlotDuration;
use sp_runtime::traits::Block as BlockT;

/// The inherent data providers of a block: BABE's slot and the timestamp.
pub type InherentProviders =
	(sp_consensus_babe::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider);

/// Creates [`InherentProviders`] from the wall clock, for authoring and for import checks.
#[derive(Clone, Copy)]
pub struct SlotAndTimestamp {
	/// The slot length the chain was configured with.
	pub slot_duration: SlotDuration,
}

#[async_trait::async_trait]
impl sp_inherents::CreateInherentDataProviders<Block, ()> for SlotAndTimestamp {
	type InherentDataProviders = InherentProviders;

	async fn create_inherent_data_providers(
		&self,
		_parent: <Block as BlockT>::Hash,
		_extra_args: (),
	) -> Result<Self::InherentDataProviders, Box<dyn std::error::Error + Send + Sync>> {
		let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
		let slot =
			sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
				*timestamp,
				self.slot_duration,
			);
		Ok((slot, timestamp))
	}
}
