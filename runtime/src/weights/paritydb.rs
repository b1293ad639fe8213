//! The database weights of `povm-node`'s ParityDB, measured by `scripts/bench-db-weights.sh`
//! (`povm-node benchmark storage`, substrate benchmark CLI 64.0.0) on a dev chain filled
//! by the throughput benchmark. Generated: edit the script, not this file.
//!
//! DATE: 2026-12-05 (Y/M/D); HOSTNAME: `vm`; CPU: `AMD EPYC`
//! DATABASE: `ParityDb`; RUNTIME: `PoVM Development`; BLOCK: `Number(27)`
//! WARMUPS: `1`; STATE-VERSION: `V1`
//! METRIC: `Average`, multiplied by `1.1`, plus `0` ns

// Executed command:
//   /root/.cache/povm-target/release/povm-node
//   benchmark
//   storage
//   --chain
//   /tmp/tmp.SKIlJ5LPAu/spec.json
//   --base-path
//   /tmp/tmp.SKIlJ5LPAu/db
//   --database
//   paritydb
//   --state-version
//   1
//   --warmups
//   1
//   --mul
//   1.1
//   --batch-size
//   1000
//   --template-path
//   scripts/db-weight-template.hbs
//   --weight-path
//   runtime/src/weights/paritydb.rs
//   --json-read-path
//   bench/weights/paritydb_read.json
//   --json-write-path
//   bench/weights/paritydb_write.json

/// The runtime's database weights (`frame_system::Config::DbWeight`).
pub mod constants {
	use frame_support::{
		parameter_types,
		weights::{constants, RuntimeDbWeight},
	};

	parameter_types! {
		/// One read and one write of a storage item in `povm-node`'s database (ParityDB, the
		/// node's default), measured on every key of the benchmarked state.
		pub const ParityDbWeight: RuntimeDbWeight = RuntimeDbWeight {
			// Time to read one storage item: the *Average* of all
			// reads × `1.1` + `0` ns.
			//
			// Nanoseconds: min 570, max 148_311,
			// average 3_060, median 2_814,
			// std-dev 2069.51; 99th 6_299, 95th
			// 4_126, 75th 3_325 percentile.
			read: 3_367 * constants::WEIGHT_REF_TIME_PER_NANOS,

			// Time to write one storage item (its share of the storage root included): the
			// *Average* of all writes × `1.1` + `0` ns.
			//
			// Nanoseconds: min 6_162, max 8_395,
			// average 7_263, median 7_294,
			// std-dev 388.63; 99th 8_395, 95th
			// 7_738, 75th 7_444 percentile.
			write: 7_990 * constants::WEIGHT_REF_TIME_PER_NANOS,
		};
	}

	#[cfg(test)]
	mod tests {
		use super::ParityDbWeight as W;
		use frame_support::weights::constants;

		/// The measured figures are within what a database can take: 1 µs to 1 ms an item.
		#[test]
		fn measured_weights_are_plausible() {
			for w in [W::get().reads(1), W::get().writes(1)] {
				assert!(w.ref_time() >= constants::WEIGHT_REF_TIME_PER_MICROS);
				assert!(w.ref_time() <= constants::WEIGHT_REF_TIME_PER_MILLIS);
			}
			assert!(W::get().writes(1).ref_time() >= W::get().reads(1).ref_time());
		}
	}
}
