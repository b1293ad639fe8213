//! A Monte Carlo estimate of π: the share of `samples` uniform points of the unit square that
//! fall in the quarter disc, times four.
//!
//! Pure and deterministic: the points come from splitmix64 seeded with `seed` (implemented
//! here so that no dependency can change the sequence), each coordinate the top 32 bits of one
//! draw, and the test `x² + y² < 2⁶⁴` is exact integer arithmetic — the same count on every
//! machine, so redundant replicas agree bit for bit and a customer can check the result
//! natively with [`estimate`].

/// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-known, full-period 64-bit generator.
#[derive(Clone, Copy, Debug)]
pub struct SplitMix64 {
	state: u64,
}

impl SplitMix64 {
	/// A generator seeded with `seed`.
	pub fn new(seed: u64) -> Self {
		Self { state: seed }
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
}

/// Where a run stands: samples drawn and how many fell inside the quarter disc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
	/// Samples drawn.
	pub samples: u64,
	/// Samples inside the quarter disc.
	pub inside: u64,
}

impl Tally {
	/// The estimate of π, `4 × inside / samples` (0 before any sample).
	pub fn pi(&self) -> f64 {
		if self.samples == 0 {
			return 0.0;
		}
		4.0 * self.inside as f64 / self.samples as f64
	}

	/// The tally as the job writes it (`pi.json`, stdout): integers exact, π to 9 decimals.
	pub fn to_json(&self, seed: u64) -> String {
		format!(
			"{{\"seed\":{seed},\"samples\":{},\"inside\":{},\"pi\":{:.9}}}\n",
			self.samples,
			self.inside,
			self.pi()
		)
	}
}

/// A sampler that can stop and report after any number of samples.
#[derive(Clone, Debug)]
pub struct Sampler {
	rng: SplitMix64,
	tally: Tally,
}

impl Sampler {
	/// A sampler from `seed`.
	pub fn new(seed: u64) -> Self {
		Self { rng: SplitMix64::new(seed), tally: Tally { samples: 0, inside: 0 } }
	}

	/// Draws `n` more samples.
	pub fn draw(&mut self, n: u64) {
		for _ in 0..n {
			let x = self.rng.next_u64() >> 32;
			let y = self.rng.next_u64() >> 32;
			// x, y < 2³², so x² + y² < 2⁶⁵: exact in u128.
			if u128::from(x * x) + u128::from(y * y) < 1u128 << 64 {
				self.tally.inside += 1;
			}
		}
		self.tally.samples += n;
	}

	/// The tally so far.
	pub fn tally(&self) -> Tally {
		self.tally
	}
}

/// The tally of `samples` samples from `seed`: what the job reports.
pub fn estimate(seed: u64, samples: u64) -> Tally {
	let mut sampler = Sampler::new(seed);
	sampler.draw(samples);
	sampler.tally()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_estimate_is_deterministic_and_splits_freely() {
		let whole = estimate(7, 10_000);
		let mut parts = Sampler::new(7);
		for n in [1, 999, 4000, 5000] {
			parts.draw(n);
		}
		assert_eq!(parts.tally(), whole);
		assert_eq!(estimate(7, 10_000), whole);
		assert_ne!(estimate(8, 10_000), whole);
	}

	#[test]
	fn the_estimate_converges_to_pi() {
		// The standard error of 4·p̂ is 4·sqrt(p(1−p)/n) ≈ 1.64/sqrt(n): 6 standard errors.
		let n = 1_000_000;
		let pi = estimate(42, n).pi();
		assert!((pi - core::f64::consts::PI).abs() < 6.0 * 1.65 / (n as f64).sqrt(), "{pi}");
	}

	#[test]
	fn the_json_is_exact() {
		let t = Tally { samples: 4, inside: 3 };
		assert_eq!(t.to_json(1), "{\"seed\":1,\"samples\":4,\"inside\":3,\"pi\":3.000000000}\n");
		assert_eq!(Tally { samples: 0, inside: 0 }.pi(), 0.0);
	}
}
