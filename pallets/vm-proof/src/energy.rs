//! Energy and carbon of verified work (Green Algorithms model), in integers.
//!
//! Units: usage in CPU core-milliseconds, memory MiB·seconds and wall milliseconds; the offer's
//! power per core in milliwatts, PUE in per-mille and grid intensity in gCO2e/kWh.
//!
//! ```text
//! E [µJ]  = (cpu_ms × core_mW  +  memory_MiB·s × 372_500 / 1024) × PUE‰ / 1000
//! energy [µWh]    = E / 3_600
//! carbon [µg CO2e] = E × intensity / 3_600_000
//! ```
//!
//! `core-ms × mW = µJ`; memory draws 0.3725 W per GiB, i.e. `372_500 µJ` per GiB·s, or
//! `372_500 / 1024 µJ` per MiB·s. `1 kWh = 3.6·10^12 µJ`, so grams per µJ is
//! `intensity / 3.6·10^12` and micrograms per µJ `intensity / 3.6·10^6`. Intermediate values
//! are `u128`; results saturate at `u64::MAX`.

use crate::types::{Footprint, Usage, VmOffer};

/// Memory power in µJ per GiB·s (0.3725 W).
pub const MEMORY_UJ_PER_GIB_S: u128 = 372_500;

/// Energy in µJ of `usage` on `offer`, PUE included.
pub fn energy_uj(usage: &Usage, offer: &VmOffer) -> u128 {
	let cpu = (usage.cpu_ms as u128).saturating_mul(offer.core_milliwatts as u128);
	let mem = (usage.memory_mib_s as u128).saturating_mul(MEMORY_UJ_PER_GIB_S) / 1024;
	cpu.saturating_add(mem).saturating_mul(offer.pue_permille as u128) / 1000
}

/// Energy (µWh) and carbon (µg CO2e) of `usage` on `offer`.
pub fn footprint(usage: &Usage, offer: &VmOffer) -> Footprint {
	let e = energy_uj(usage, offer);
	let energy = e / 3_600;
	let carbon = e.saturating_mul(offer.grid_intensity as u128) / 3_600_000;
	Footprint {
		energy_uwh: u64::try_from(energy).unwrap_or(u64::MAX),
		carbon_ug: u64::try_from(carbon).unwrap_or(u64::MAX),
	}
}
