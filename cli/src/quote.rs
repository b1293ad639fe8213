//! `povm quote`: a spec's quote, in words a customer reads before submitting.

use povm_client::{types::Balance, Quote};
use std::fmt::Write as _;

/// Plancks per POVM.
const PLANCKS_PER_POVM: Balance = 1_000_000_000_000;

/// `amount` in POVM with up to 12 decimals (`1.5 POVM`).
pub fn povm(amount: Balance) -> String {
	let whole = amount / PLANCKS_PER_POVM;
	let frac = amount % PLANCKS_PER_POVM;
	if frac == 0 {
		return format!("{whole} POVM");
	}
	let digits = format!("{frac:012}");
	format!("{whole}.{} POVM", digits.trim_end_matches('0'))
}

/// The quote as lines of `field: value`, with the job file's `budget` set against the least
/// budget the chain accepts.
pub fn describe(quote: &Quote, budget: Balance) -> String {
	let v = &quote.view;
	let mut s = String::new();
	let verdict = match &quote.refusal {
		Some(name) => format!("refused ({name})"),
		None if budget < v.min_budget =>
			"refused (the file's budget is below the least budget)".into(),
		None => "accepted".into(),
	};
	let _ = writeln!(s, "submit_job:        {verdict}");
	let _ = writeln!(s, "least budget:      {} (the file's: {})", povm(v.min_budget), povm(budget));
	let _ =
		writeln!(s, "deposit:           {} (returned when the record is reaped)", povm(v.deposit));
	let _ = writeln!(
		s,
		"queue:             {} jobs ahead at price level {} ({} queued{})",
		v.jobs_ahead,
		v.price_level,
		v.queued,
		if v.queue_full { ", full: the cheapest job is evicted" } else { "" }
	);
	let _ = writeln!(
		s,
		"providers:         {} eligible now, {} needed{}",
		v.eligible_providers,
		v.needed_providers,
		if v.eligible_providers < v.needed_providers { " (it waits until enough are)" } else { "" }
	);
	let _ = writeln!(s, "first try:         block {} (estimate)", v.expected_start);
	let _ = writeln!(s, "expires unassigned after block {}", v.expires_at);
	s
}

#[cfg(test)]
mod tests {
	use super::*;
	use povm_client::types::QuoteView;

	fn view() -> QuoteView {
		QuoteView {
			refusal: None,
			min_budget: 1_200 * PLANCKS_PER_POVM / 1000,
			deposit: PLANCKS_PER_POVM,
			price_level: 40,
			jobs_ahead: 3,
			queued: 5,
			queue_full: false,
			eligible_providers: 2,
			needed_providers: 3,
			expected_start: 12,
			expires_at: 611,
		}
	}

	#[test]
	fn amounts_are_written_in_povm() {
		assert_eq!(povm(0), "0 POVM");
		assert_eq!(povm(PLANCKS_PER_POVM * 3), "3 POVM");
		assert_eq!(povm(PLANCKS_PER_POVM / 2 * 3), "1.5 POVM");
		assert_eq!(povm(1), "0.000000000001 POVM");
	}

	#[test]
	fn a_quote_names_its_refusal_and_a_budget_below_the_least() {
		let text = describe(&Quote { view: view(), refusal: None }, PLANCKS_PER_POVM);
		assert!(text.contains("submit_job:        refused (the file's budget"), "{text}");
		assert!(text.contains("least budget:      1.2 POVM"), "{text}");
		assert!(text.contains("2 eligible now, 3 needed (it waits"), "{text}");
		let ok = describe(&Quote { view: view(), refusal: None }, 2 * PLANCKS_PER_POVM);
		assert!(ok.contains("submit_job:        accepted"), "{ok}");
		let refused = Quote { view: view(), refusal: Some("JobQueue::ZeroPrice".into()) };
		assert!(describe(&refused, 0).contains("refused (JobQueue::ZeroPrice)"));
	}
}
