//! A per-column summary of a CSV file: for each column of the header, how many rows have a
//! value, and of the numeric ones their count, minimum, maximum, sum and mean.
//!
//! Pure and deterministic: numbers are parsed by Rust's correctly rounded `f64` parser and
//! summed in row order (IEEE-754 addition is exact given the order), and the JSON is written
//! in header order with Rust's shortest round-trip formatting, so redundant replicas agree bit
//! for bit and a customer can check a result natively with [`summarize`].
//!
//! The CSV dialect is RFC 4180: comma-separated, `"`-quoted fields with `""` for a quote,
//! `\n` or `\r\n` line ends; the first record is the header. A record with more fields than
//! the header is an error; a shorter one leaves the missing columns empty.

use std::fmt::Write as _;

/// Why a file could not be summarised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsvError {
	/// The file is empty: no header.
	NoHeader,
	/// A record (1-based line of its start) has more fields than the header.
	TooManyFields {
		/// The record's line.
		line: usize,
	},
	/// A quoted field is not closed.
	UnclosedQuote {
		/// The line where the field starts.
		line: usize,
	},
	/// The file is not UTF-8.
	NotUtf8,
}

impl core::fmt::Display for CsvError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			CsvError::NoHeader => write!(f, "the file is empty (no header)"),
			CsvError::TooManyFields { line } =>
				write!(f, "line {line}: more fields than the header"),
			CsvError::UnclosedQuote { line } => write!(f, "line {line}: unclosed quote"),
			CsvError::NotUtf8 => write!(f, "the file is not UTF-8"),
		}
	}
}

/// The summary of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
	/// Its header.
	pub name: String,
	/// Rows with a non-empty value.
	pub present: u64,
	/// Rows whose value is a finite number.
	pub numeric: u64,
	/// Smallest number, if any.
	pub min: Option<f64>,
	/// Largest number, if any.
	pub max: Option<f64>,
	/// Sum of the numbers, in row order.
	pub sum: f64,
}

impl Column {
	/// Mean of the numbers, if any.
	pub fn mean(&self) -> Option<f64> {
		(self.numeric > 0).then(|| self.sum / self.numeric as f64)
	}
}

/// The summary of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
	/// Data rows (records after the header).
	pub rows: u64,
	/// One entry per header column, in order.
	pub columns: Vec<Column>,
}

impl Summary {
	/// The summary as JSON (`summary.json`): keys in a fixed order, numbers in Rust's shortest
	/// round-trip form, `null` where a column has no number.
	pub fn to_json(&self) -> String {
		let num = |v: Option<f64>| v.map_or("null".to_owned(), |v| format!("{v:?}"));
		let mut out = format!("{{\"rows\":{},\"columns\":[", self.rows);
		for (i, c) in self.columns.iter().enumerate() {
			if i > 0 {
				out.push(',');
			}
			let _ = write!(
				out,
				"{{\"name\":{},\"present\":{},\"numeric\":{},\"min\":{},\"max\":{},\"sum\":{},\"mean\":{}}}",
				json_string(&c.name),
				c.present,
				c.numeric,
				num(c.min),
				num(c.max),
				num((c.numeric > 0).then_some(c.sum)),
				num(c.mean()),
			);
		}
		out.push_str("]}\n");
		out
	}
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
	let mut out = String::from("\"");
	for ch in s.chars() {
		match ch {
			'"' => out.push_str("\\\""),
			'\\' => out.push_str("\\\\"),
			c if (c as u32) < 0x20 => {
				let _ = write!(out, "\\u{:04x}", c as u32);
			},
			c => out.push(c),
		}
	}
	out.push('"');
	out
}

/// The records of `text` (RFC 4180), each with the line it starts on.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
	let mut out = Vec::new();
	let mut chars = text.chars().peekable();
	let mut line = 1;
	while chars.peek().is_some() {
		let start = line;
		let mut fields = Vec::new();
		let mut field = String::new();
		let mut quoted = false;
		loop {
			match chars.next() {
				None => {
					if quoted {
						return Err(CsvError::UnclosedQuote { line: start });
					}
					fields.push(std::mem::take(&mut field));
					break;
				},
				Some('"') if quoted =>
					if chars.peek() == Some(&'"') {
						chars.next();
						field.push('"');
					} else {
						quoted = false;
					},
				Some('"') if field.is_empty() => quoted = true,
				Some('\n') if !quoted => {
					line += 1;
					fields.push(std::mem::take(&mut field));
					break;
				},
				Some('\r') if !quoted && chars.peek() == Some(&'\n') => {},
				Some(',') if !quoted => fields.push(std::mem::take(&mut field)),
				Some(c) => {
					if c == '\n' {
						line += 1;
					}
					field.push(c);
				},
			}
		}
		out.push((start, fields));
	}
	Ok(out)
}

/// The summary of the CSV file `bytes`.
pub fn summarize(bytes: &[u8]) -> Result<Summary, CsvError> {
	let text = core::str::from_utf8(bytes).map_err(|_| CsvError::NotUtf8)?;
	let mut records = records(text)?.into_iter();
	let (_, header) = records.next().ok_or(CsvError::NoHeader)?;
	let mut columns: Vec<Column> = header
		.into_iter()
		.map(|name| Column { name, present: 0, numeric: 0, min: None, max: None, sum: 0.0 })
		.collect();
	let mut rows = 0;
	for (line, fields) in records {
		if fields.len() > columns.len() {
			return Err(CsvError::TooManyFields { line });
		}
		rows += 1;
		for (column, value) in columns.iter_mut().zip(fields) {
			let value = value.trim();
			if value.is_empty() {
				continue;
			}
			column.present += 1;
			if let Some(v) = value.parse::<f64>().ok().filter(|v| v.is_finite()) {
				column.numeric += 1;
				column.sum += v;
				column.min = Some(column.min.map_or(v, |m| m.min(v)));
				column.max = Some(column.max.map_or(v, |m| m.max(v)));
			}
		}
	}
	Ok(Summary { rows, columns })
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_file_is_summarised_per_column() {
		let csv =
			b"city,temp,rain\r\nOslo,-3.5,12\nLima,19,\n\"Rio, de Janeiro\",27.25,\"0\"\nBern,x\n";
		let s = summarize(csv).unwrap();
		assert_eq!(s.rows, 4);
		assert_eq!(s.columns[0].present, 4);
		assert_eq!(s.columns[0].numeric, 0);
		let temp = &s.columns[1];
		assert_eq!((temp.present, temp.numeric), (4, 3));
		assert_eq!((temp.min, temp.max, temp.sum), (Some(-3.5), Some(27.25), 42.75));
		assert_eq!(temp.mean(), Some(14.25));
		assert_eq!(s.columns[2].numeric, 2);
		assert_eq!(
			s.to_json(),
			"{\"rows\":4,\"columns\":[\
			 {\"name\":\"city\",\"present\":4,\"numeric\":0,\"min\":null,\"max\":null,\"sum\":null,\"mean\":null},\
			 {\"name\":\"temp\",\"present\":4,\"numeric\":3,\"min\":-3.5,\"max\":27.25,\"sum\":42.75,\"mean\":14.25},\
			 {\"name\":\"rain\",\"present\":2,\"numeric\":2,\"min\":0.0,\"max\":12.0,\"sum\":12.0,\"mean\":6.0}]}\n"
		);
	}

	#[test]
	fn quoted_fields_keep_commas_quotes_and_newlines() {
		let r = records("a,b\n\"x,\"\"y\"\"\nz\",2\n").unwrap();
		assert_eq!(r[1], (2, vec!["x,\"y\"\nz".to_owned(), "2".to_owned()]));
	}

	#[test]
	fn bad_files_are_named_errors() {
		assert_eq!(summarize(b""), Err(CsvError::NoHeader));
		assert_eq!(summarize(b"a\n1,2\n"), Err(CsvError::TooManyFields { line: 2 }));
		assert_eq!(summarize(b"a\n\"1\n"), Err(CsvError::UnclosedQuote { line: 2 }));
		assert_eq!(summarize(b"a\n\xff\n"), Err(CsvError::NotUtf8));
	}

	#[test]
	fn names_are_json_escaped() {
		assert_eq!(json_string("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"");
	}
}
