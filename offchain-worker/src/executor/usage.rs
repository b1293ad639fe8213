//! Turning runtime samples into [`Usage`](super::Usage).

use std::time::Instant;

use bollard::models::ContainerStatsResponse;

use super::Usage;

const MIB: u64 = 1024 * 1024;

/// Accumulates stats samples: CPU from the cgroup's cumulative counter, memory integrated
/// over time with the trapezoid rule between samples (timed on receipt).
#[derive(Debug, Default)]
pub(crate) struct UsageMeter {
	last: Option<(Instant, u64)>,
	cpu_ns: u64,
	memory_bytes_ms: u128,
	peak_bytes: u64,
	samples: u32,
}

/// Memory in use as `docker stats` shows it: usage less the inactive page cache.
fn memory_in_use(s: &ContainerStatsResponse) -> Option<u64> {
	let m = s.memory_stats.as_ref()?;
	let usage = m.usage?;
	let cache = m
		.stats
		.as_ref()
		.and_then(|st| st.get("total_inactive_file").or_else(|| st.get("inactive_file")).copied())
		.unwrap_or(0);
	Some(usage.saturating_sub(cache))
}

impl UsageMeter {
	pub(crate) fn sample(&mut self, at: Instant, s: &ContainerStatsResponse) {
		if let Some(cpu) = s
			.cpu_stats
			.as_ref()
			.and_then(|c| c.cpu_usage.as_ref())
			.and_then(|u| u.total_usage)
		{
			// Cumulative; a stopped container reports 0, so keep the highest seen.
			self.cpu_ns = self.cpu_ns.max(cpu);
		}
		let Some(mem) = memory_in_use(s) else { return };
		if mem == 0 {
			return;
		}
		self.samples += 1;
		self.peak_bytes = self.peak_bytes.max(mem);
		if let Some((t0, m0)) = self.last {
			let dt_ms = at.saturating_duration_since(t0).as_millis();
			self.memory_bytes_ms += (m0 as u128 + mem as u128) * dt_ms / 2;
		}
		self.last = Some((at, mem));
	}

	/// Closes the integral at `end` (the exit) and returns the totals.
	pub(crate) fn finish(mut self, end: Instant, wall_ms: u64) -> Usage {
		if let Some((t0, m0)) = self.last {
			self.memory_bytes_ms += m0 as u128 * end.saturating_duration_since(t0).as_millis();
		}
		Usage {
			cpu_ms: self.cpu_ns / 1_000_000,
			memory_mib_ms: (self.memory_bytes_ms / MIB as u128) as u64,
			peak_memory_mib: self.peak_bytes.div_ceil(MIB),
			wall_ms,
			samples: self.samples,
		}
	}
}

#[cfg(test)]
mod tests {
	use std::{collections::HashMap, time::Duration};

	use bollard::models::{ContainerCpuStats, ContainerCpuUsage, ContainerMemoryStats};

	use super::*;

	fn sample(cpu_ns: u64, mem: u64) -> ContainerStatsResponse {
		ContainerStatsResponse {
			cpu_stats: Some(ContainerCpuStats {
				cpu_usage: Some(ContainerCpuUsage {
					total_usage: Some(cpu_ns),
					..Default::default()
				}),
				..Default::default()
			}),
			memory_stats: Some(ContainerMemoryStats {
				usage: Some(mem + MIB),
				stats: Some(HashMap::from([("total_inactive_file".to_owned(), MIB)])),
				..Default::default()
			}),
			..Default::default()
		}
	}

	#[test]
	fn memory_is_integrated_between_samples_and_cpu_is_the_last_counter() {
		let t0 = Instant::now();
		let mut m = UsageMeter::default();
		m.sample(t0, &sample(1_000_000, 10 * MIB));
		m.sample(t0 + Duration::from_secs(1), &sample(5_000_000, 30 * MIB));
		let u = m.finish(t0 + Duration::from_secs(2), 2000);
		// (10 + 30) / 2 MiB over 1 s, then 30 MiB over 1 s.
		assert_eq!(u.memory_mib_ms, 20_000 + 30_000);
		assert_eq!(u.memory_mib_seconds(), 50);
		assert_eq!(u.cpu_ms, 5);
		assert_eq!(u.peak_memory_mib, 30);
		assert_eq!(u.samples, 2);
	}
}
