//! A deterministic random source and the confidence bounds the benchmarks report.

/// SplitMix64: a small, seedable generator (no `rand` in the runtime's dependency tree).
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// Uniform in `0..n` (`n > 0`).
	pub fn below(&mut self, n: u64) -> u64 {
		self.next_u64() % n.max(1)
	}
}

/// Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (table for the batch
/// counts used here; the normal 1.96 beyond 120).
pub fn t_975(df: usize) -> f64 {
	const TABLE: [(usize, f64); 12] = [
		(1, 12.706),
		(2, 4.303),
		(3, 3.182),
		(4, 2.776),
		(5, 2.571),
		(9, 2.262),
		(14, 2.145),
		(19, 2.093),
		(29, 2.045),
		(39, 2.023),
		(59, 2.001),
		(119, 1.980),
	];
	for (d, t) in TABLE {
		if df <= d {
			return t;
		}
	}
	1.96
}

/// The mean of the ratios `Σ num / Σ den` over batches, and its 95 % upper bound by batch
/// means: the sessions are split into consecutive batches (each long enough that batches are
/// nearly independent although the validator set carries over between sessions), and the
/// bound is `mean + t × sd / √batches` of the per-batch ratios.
pub fn batch_ratio_upper(per_session: &[(f64, f64)], batches: usize) -> (f64, f64) {
	let num: f64 = per_session.iter().map(|(n, _)| n).sum();
	let den: f64 = per_session.iter().map(|(_, d)| d).sum();
	let mean = if den > 0.0 { num / den } else { 0.0 };
	let size = per_session.len() / batches.max(1);
	if size == 0 || batches < 2 {
		return (mean, mean);
	}
	let ratios: Vec<f64> = per_session
		.chunks(size)
		.take(batches)
		.map(|c| {
			let n: f64 = c.iter().map(|(n, _)| n).sum();
			let d: f64 = c.iter().map(|(_, d)| d).sum();
			if d > 0.0 {
				n / d
			} else {
				0.0
			}
		})
		.collect();
	let k = ratios.len() as f64;
	let m = ratios.iter().sum::<f64>() / k;
	let var = ratios.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (k - 1.0);
	(mean, mean + t_975(ratios.len() - 1) * (var / k).sqrt())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn batch_means_bound_a_known_rate() {
		// Sessions where a fifth of the seats are the attacker's, with noise.
		let mut rng = Rng(7);
		let sessions: Vec<(f64, f64)> =
			(0..2_000).map(|_| ((rng.below(3) + 3) as f64, 20.0)).collect();
		let (mean, upper) = batch_ratio_upper(&sessions, 20);
		assert!((mean - 0.2).abs() < 0.01, "mean {mean}");
		assert!(upper > mean && upper < mean + 0.01, "upper {upper}");
	}

	#[test]
	fn rng_is_deterministic_and_spread() {
		let mut a = Rng(1);
		let mut b = Rng(1);
		let xs: Vec<u64> = (0..1_000).map(|_| a.below(10)).collect();
		let ys: Vec<u64> = (0..1_000).map(|_| b.below(10)).collect();
		assert_eq!(xs, ys);
		for d in 0..10 {
			let c = xs.iter().filter(|x| **x == d).count();
			assert!((60..140).contains(&c), "digit {d}: {c}");
		}
	}
}
