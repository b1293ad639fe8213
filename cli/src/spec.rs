//! A job file (TOML) and the [`JobSpec`] and budget it stands for, checked locally with the
//! rules the chain's `submit_job` applies (`validate_spec` in the job queue), so that a typo is
//! told before anything is signed. See `cli/README.md` for the format.

use std::collections::BTreeMap;

use povm_client::types::{Balance, JobSpec};
use povm_primitives::{
	is_env_name, is_exec_text, is_input_name, is_input_url, is_repository, Arch, Bytes, Digest,
	EnvVar, ImageRef, InputRef, RedundancyPolicy, RegistryRef, Resources, MAX_ARGS, MAX_ENV,
	MAX_INPUTS, MAX_INPUT_BYTES,
};
use serde::Deserialize;

/// Plancks in one POVM (12 decimals).
pub const UNIT: Balance = 1_000_000_000_000;

/// Why a job file does not make a valid job.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
	/// Not TOML, or not this format (an unknown or missing field, a wrong type).
	#[error("not a valid job file: {0}")]
	Toml(String),
	/// A digest is not 32 bytes of hex (with or without `sha256:` or `0x`).
	#[error("{field}: not a sha-256 digest (`sha256:` and 64 hex digits): {value:?}")]
	BadDigest {
		/// The field.
		field: String,
		/// Its text.
		value: String,
	},
	/// An amount is not a number of plancks or a decimal with a unit.
	#[error("{field}: not an amount (plancks, or a decimal with POVM, mPOVM or uPOVM): {value:?}")]
	BadAmount {
		/// The field.
		field: String,
		/// Its text.
		value: String,
	},
	/// An architecture other than `x86_64`, `aarch64` or `riscv64`.
	#[error("image.arch: unknown architecture {0:?} (x86_64, aarch64 or riscv64)")]
	BadArch(String),
	/// `repository` without `manifest`, or the other way round.
	#[error("image: set both `repository` and `manifest`, or neither")]
	HalfRegistry,
	/// A repository the chain refuses (`BadImageRef`).
	#[error("image.repository: {0:?} is not `host[:port]/path` (lowercase path, no scheme, tag or digest)")]
	BadRepository(String),
	/// A field longer than its bound on chain.
	#[error("{field}: too long or too many (at most {max})")]
	TooLong {
		/// The field.
		field: String,
		/// The bound.
		max: u32,
	},
	/// Text a worker cannot hand to a process (`BadCommand`, `BadArg`, `BadEnvVar`).
	#[error("{0}: must be text without NUL (and an env name non-empty, without `=`)")]
	BadText(String),
	/// An input name the chain refuses (`BadInputName`).
	#[error("inputs: {0:?} is not a plain file name (A-Za-z0-9._-, not starting with `.`)")]
	BadInputName(String),
	/// Two inputs with one name (`DuplicateInputName`).
	#[error("inputs: the name {0:?} is used twice")]
	DuplicateInputName(String),
	/// An input URL the chain refuses (`BadInputUrl`).
	#[error("inputs: {0:?} is not an http(s) URL without credentials")]
	BadInputUrl(String),
	/// An input above 16 GiB (`InputTooLarge`).
	#[error("inputs: {name:?} has {size} bytes, more than the 16 GiB the chain allows")]
	InputTooLarge {
		/// The input.
		name: String,
		/// Its declared size.
		size: u64,
	},
	/// A zero resource (`ZeroResources`).
	#[error("resources: millicores, memory_mib and max_seconds must all be above zero")]
	ZeroResources,
	/// A resource above the physical bounds (`ResourcesTooLarge`).
	#[error("resources: above the chain's bounds (1 024 000 millicores, 32 TiB, 7 days)")]
	ResourcesTooLarge,
	/// `price_per_second = 0` (`ZeroPrice`).
	#[error("price_per_second must be above zero")]
	ZeroPrice,
	/// A redundancy policy the chain refuses.
	#[error("redundancy: {0}")]
	BadRedundancy(&'static str),
	/// `max_replicas × max_seconds × price_per_second` overflows.
	#[error("the job's greatest cost overflows")]
	Overflow,
	/// A budget below the greatest cost (`BudgetTooLow`).
	#[error("budget {budget} plancks is below max_replicas × max_seconds × price_per_second = {least} plancks")]
	BudgetTooLow {
		/// The budget given.
		budget: Balance,
		/// The least the chain accepts.
		least: Balance,
	},
}

/// The job file as written (see `cli/README.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
	image: ImageFile,
	#[serde(default)]
	command: String,
	#[serde(default)]
	args: Vec<String>,
	#[serde(default)]
	env: BTreeMap<String, String>,
	#[serde(default)]
	inputs: Vec<InputFile>,
	resources: ResourcesFile,
	redundancy: RedundancyFile,
	price_per_second: Amount,
	budget: Option<Amount>,
	#[serde(default)]
	checkpoint_interval: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageFile {
	id: String,
	repository: Option<String>,
	manifest: Option<String>,
	#[serde(default = "default_arch")]
	arch: String,
}

fn default_arch() -> String {
	"x86_64".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputFile {
	name: String,
	url: String,
	sha256: String,
	size: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesFile {
	millicores: u32,
	memory_mib: u32,
	max_seconds: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedundancyFile {
	min_replicas: u32,
	max_replicas: u32,
	margin: u32,
}

/// An amount: an integer number of plancks, or text (`"1.5 POVM"`, `"2 mPOVM"`, `"7"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Amount {
	Plancks(u64),
	Text(String),
}

/// A job ready to submit: its spec and the budget to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
	/// The spec.
	pub spec: JobSpec,
	/// The budget (the file's, else the least the chain accepts).
	pub budget: Balance,
}

/// The 32 bytes of a digest written `sha256:<hex>`, `0x<hex>` or `<hex>` (64 hex digits).
pub fn parse_digest(field: &str, text: &str) -> Result<Digest, SpecError> {
	let bad = || SpecError::BadDigest { field: field.into(), value: text.into() };
	let hex_digits =
		text.strip_prefix("sha256:").or_else(|| text.strip_prefix("0x")).unwrap_or(text);
	let bytes = hex::decode(hex_digits).map_err(|_| bad())?;
	bytes.try_into().map_err(|_| bad())
}

/// Plancks of an amount written as plancks (`"1000"`) or a decimal with a unit (`"1.5 POVM"`,
/// `"2 mPOVM"`, `"3 uPOVM"`; 12 decimals at most below the planck).
pub fn parse_amount(field: &str, text: &str) -> Result<Balance, SpecError> {
	let bad = || SpecError::BadAmount { field: field.into(), value: text.into() };
	let text = text.trim();
	let (number, scale) = match text.split_once(char::is_whitespace) {
		None => (text, 1),
		Some((number, unit)) => {
			let scale = match unit.trim() {
				"POVM" => UNIT,
				"mPOVM" => UNIT / 1_000,
				"uPOVM" | "µPOVM" => UNIT / 1_000_000,
				"planck" | "plancks" => 1,
				_ => return Err(bad()),
			};
			(number, scale)
		},
	};
	let (whole, fraction) = match number.split_once('.') {
		Some((whole, fraction)) => (whole, Some(fraction)),
		None => (number, None),
	};
	let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
	if !digits(whole) || !fraction.map_or(true, digits) {
		return Err(bad());
	}
	let whole: Balance = whole.parse().map_err(|_| bad())?;
	let mut amount = whole.checked_mul(scale).ok_or_else(bad)?;
	// The fraction, digit by digit: each must land on a whole planck.
	let mut place = scale;
	for d in fraction.unwrap_or_default().bytes() {
		if place % 10 != 0 {
			return Err(bad());
		}
		place /= 10;
		amount = amount.checked_add(Balance::from(d - b'0') * place).ok_or_else(bad)?;
	}
	Ok(amount)
}

fn amount(field: &str, a: &Amount) -> Result<Balance, SpecError> {
	match a {
		Amount::Plancks(n) => Ok(Balance::from(*n)),
		Amount::Text(t) => parse_amount(field, t),
	}
}

fn arch(text: &str) -> Result<Arch, SpecError> {
	match text.to_ascii_lowercase().as_str() {
		"x86_64" | "amd64" | "x86-64" => Ok(Arch::X86_64),
		"aarch64" | "arm64" => Ok(Arch::Aarch64),
		"riscv64" => Ok(Arch::Riscv64),
		_ => Err(SpecError::BadArch(text.into())),
	}
}

/// `text` as a bounded byte string, or [`SpecError::TooLong`] naming `field`.
fn bounded<const N: u32>(field: &str, text: &str) -> Result<Bytes<N>, SpecError> {
	text.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| SpecError::TooLong { field: field.into(), max: N })
}

/// A list as the spec's bounded vector of at most `max` items, or [`SpecError::TooLong`]
/// naming `field`.
fn bounded_vec<T, B: TryFrom<Vec<T>>>(
	field: &str,
	items: Vec<T>,
	max: u32,
) -> Result<B, SpecError> {
	items.try_into().map_err(|_| SpecError::TooLong { field: field.into(), max })
}

/// Parses a job file and checks it as the chain would (all but the chain's parameters: the
/// longest run (`MaxRunSeconds`) and the replica bound, which the chain checks at submission).
pub fn parse_job(text: &str) -> Result<Job, SpecError> {
	let file: JobFile = toml::from_str(text).map_err(|e| SpecError::Toml(e.to_string()))?;
	let registry = match (&file.image.repository, &file.image.manifest) {
		(Some(repository), Some(manifest)) => Some(RegistryRef {
			repository: bounded("image.repository", repository)?,
			manifest: parse_digest("image.manifest", manifest)?,
		}),
		(None, None) => None,
		_ => return Err(SpecError::HalfRegistry),
	};
	let image = ImageRef {
		id: parse_digest("image.id", &file.image.id)?,
		registry,
		arch: arch(&file.image.arch)?,
	};
	let args = file.args.iter().map(|a| bounded("args", a)).collect::<Result<Vec<_>, _>>()?;
	let env = file
		.env
		.iter()
		.map(|(k, v)| Ok(EnvVar { key: bounded("env name", k)?, value: bounded("env value", v)? }))
		.collect::<Result<Vec<_>, SpecError>>()?;
	let inputs = file
		.inputs
		.iter()
		.map(|i| {
			Ok(InputRef {
				name: bounded("inputs.name", &i.name)?,
				url: bounded("inputs.url", &i.url)?,
				sha256: parse_digest(&format!("inputs.{}.sha256", i.name), &i.sha256)?,
				size: i.size,
			})
		})
		.collect::<Result<Vec<_>, SpecError>>()?;
	let spec = JobSpec {
		image,
		command: bounded("command", &file.command)?,
		args: bounded_vec("args", args, MAX_ARGS)?,
		env: bounded_vec("env", env, MAX_ENV)?,
		inputs: bounded_vec("inputs", inputs, MAX_INPUTS)?,
		resources: Resources {
			millicores: file.resources.millicores,
			memory_mib: file.resources.memory_mib,
			max_seconds: file.resources.max_seconds,
		},
		price_per_second: amount("price_per_second", &file.price_per_second)?,
		redundancy: RedundancyPolicy {
			min_replicas: file.redundancy.min_replicas,
			max_replicas: file.redundancy.max_replicas,
			margin: file.redundancy.margin,
		},
		checkpoint_interval: file.checkpoint_interval,
	};
	let least = validate(&spec)?;
	let budget = match &file.budget {
		Some(b) => amount("budget", b)?,
		None => least,
	};
	if budget < least {
		return Err(SpecError::BudgetTooLow { budget, least });
	}
	Ok(Job { spec, budget })
}

/// Checks `spec` with the chain's rules (`validate_spec`), but for the chain's parameters;
/// returns the least budget (`max_replicas × max_seconds × price_per_second`).
pub fn validate(spec: &JobSpec) -> Result<Balance, SpecError> {
	if let Some(registry) = &spec.image.registry {
		if !is_repository(&registry.repository) {
			return Err(SpecError::BadRepository(lossy(&registry.repository)));
		}
	}
	for (i, input) in spec.inputs.iter().enumerate() {
		let name = lossy(&input.name);
		if !is_input_name(&input.name) {
			return Err(SpecError::BadInputName(name));
		}
		if spec.inputs[..i].iter().any(|earlier| earlier.name == input.name) {
			return Err(SpecError::DuplicateInputName(name));
		}
		if !is_input_url(&input.url) {
			return Err(SpecError::BadInputUrl(lossy(&input.url)));
		}
		if input.size > MAX_INPUT_BYTES {
			return Err(SpecError::InputTooLarge { name, size: input.size });
		}
	}
	if !is_exec_text(&spec.command) {
		return Err(SpecError::BadText("command".into()));
	}
	if !spec.args.iter().all(|a| is_exec_text(a)) {
		return Err(SpecError::BadText("args".into()));
	}
	if !spec.env.iter().all(|e| is_env_name(&e.key) && is_exec_text(&e.value)) {
		return Err(SpecError::BadText("env".into()));
	}
	let r = &spec.resources;
	if r.millicores == 0 || r.memory_mib == 0 || r.max_seconds == 0 {
		return Err(SpecError::ZeroResources);
	}
	if !r.within_physical_bounds() {
		return Err(SpecError::ResourcesTooLarge);
	}
	if spec.price_per_second == 0 {
		return Err(SpecError::ZeroPrice);
	}
	let p = &spec.redundancy;
	if p.min_replicas == 0 {
		return Err(SpecError::BadRedundancy("min_replicas must be at least 1"));
	}
	if p.max_replicas < p.min_replicas {
		return Err(SpecError::BadRedundancy("max_replicas must be at least min_replicas"));
	}
	if p.margin == 0 {
		return Err(SpecError::BadRedundancy("margin must be at least 1"));
	}
	if p.margin > p.max_replicas {
		return Err(SpecError::BadRedundancy("margin must be at most max_replicas"));
	}
	spec.price_per_second
		.checked_mul(Balance::from(p.max_replicas))
		.and_then(|c| c.checked_mul(Balance::from(r.max_seconds)))
		.ok_or(SpecError::Overflow)
}

fn lossy(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
	use super::*;

	const PI: &str = include_str!("../examples/pi.toml");

	fn hex32(b: u8) -> String {
		hex::encode([b; 32])
	}

	/// A minimal job file with `extra` appended (TOML tables after the top-level keys).
	fn minimal(top: &str, extra: &str) -> String {
		format!(
			"price_per_second = 1000\n{top}\n[image]\nid = \"sha256:{}\"\n\
			 [resources]\nmillicores = 500\nmemory_mib = 64\nmax_seconds = 30\n\
			 [redundancy]\nmin_replicas = 1\nmax_replicas = 2\nmargin = 1\n{extra}",
			hex32(1)
		)
	}

	#[test]
	fn the_example_file_parses_into_the_spec_it_says() {
		let job = parse_job(PI).expect("the example is valid");
		let spec = &job.spec;
		assert_eq!(spec.image.arch, Arch::X86_64);
		let registry = spec.image.registry.as_ref().expect("a registry");
		assert_eq!(&registry.repository[..], b"127.0.0.1:5000/povm/pi");
		assert_eq!(&spec.command[..], b"/pi");
		let args: Vec<&[u8]> = spec.args.iter().map(|a| &a[..]).collect();
		assert_eq!(args, [&b"--samples"[..], b"1000000", b"--seed", b"7"]);
		assert_eq!(spec.env.len(), 1);
		assert_eq!(&spec.env[0].key[..], b"RUST_BACKTRACE");
		assert_eq!(spec.inputs.len(), 1);
		assert_eq!(&spec.inputs[0].name[..], b"params.json");
		assert_eq!(spec.inputs[0].size, 42);
		assert_eq!(spec.resources, Resources { millicores: 1000, memory_mib: 64, max_seconds: 30 });
		assert_eq!(
			spec.redundancy,
			RedundancyPolicy { min_replicas: 2, max_replicas: 3, margin: 1 }
		);
		assert_eq!(spec.price_per_second, UNIT / 1000);
		assert_eq!(job.budget, UNIT / 10);
		assert_eq!(spec.checkpoint_interval, 0);
	}

	#[test]
	fn the_budget_defaults_to_the_least_the_chain_accepts() {
		let job = parse_job(&minimal("", "")).unwrap();
		assert_eq!(job.budget, 2 * 30 * 1000);
		assert_eq!(job.spec.image.registry, None);
		assert_eq!(job.spec.image.arch, Arch::X86_64);
		let low = parse_job(&minimal("budget = 10", "")).unwrap_err();
		assert_eq!(low, SpecError::BudgetTooLow { budget: 10, least: 60_000 });
	}

	#[test]
	fn amounts_take_units_and_refuse_fractions_of_a_planck() {
		assert_eq!(parse_amount("a", "7"), Ok(7));
		assert_eq!(parse_amount("a", "1.5 POVM"), Ok(1_500_000_000_000));
		assert_eq!(parse_amount("a", "2 mPOVM"), Ok(2_000_000_000));
		assert_eq!(parse_amount("a", "0.000001 uPOVM"), Ok(1));
		for bad in ["", "x", "1.", ".5 POVM", "1 DOT", "-1", "0.0000001 uPOVM", "1e3"] {
			assert!(parse_amount("a", bad).is_err(), "{bad}");
		}
	}

	#[test]
	fn digests_take_the_usual_spellings() {
		let d = [0xab; 32];
		assert_eq!(parse_digest("f", &format!("sha256:{}", hex::encode(d))), Ok(d));
		assert_eq!(parse_digest("f", &format!("0x{}", hex::encode(d))), Ok(d));
		assert_eq!(parse_digest("f", &hex::encode(d)), Ok(d));
		assert!(parse_digest("f", "sha256:abcd").is_err());
		assert!(parse_digest("f", &format!("sha512:{}", hex::encode(d))).is_err());
	}

	#[test]
	fn the_chains_rules_are_told_before_submission() {
		let cases: Vec<(String, &str)> = vec![
			(minimal("bogus = 1", ""), "not a valid job file"),
			(minimal("", "[[inputs]]\nname = \"../x\"\nurl = \"https://a.org/x\"\nsha256 = \"00\"\nsize = 1\n"), "sha-256"),
			(
				minimal("", &format!("[[inputs]]\nname = \"../x\"\nurl = \"https://a.org/x\"\nsha256 = \"{}\"\nsize = 1\n", hex32(0))),
				"not a plain file name",
			),
			(
				minimal("", &format!("[[inputs]]\nname = \"x\"\nurl = \"https://u:p@a.org/x\"\nsha256 = \"{}\"\nsize = 1\n", hex32(0))),
				"without credentials",
			),
			(
				minimal("", &format!("[[inputs]]\nname = \"x\"\nurl = \"https://a.org/x\"\nsha256 = \"{0}\"\nsize = 1\n[[inputs]]\nname = \"x\"\nurl = \"https://a.org/y\"\nsha256 = \"{0}\"\nsize = 1\n", hex32(0))),
				"used twice",
			),
			(minimal("command = \"a\\u0000b\"", ""), "without NUL"),
			(minimal("", "[env]\n\"A=B\" = \"x\"\n"), "without NUL"),
			(minimal("args = [\"x\"]", "").replace("margin = 1", "margin = 3"), "at most max_replicas"),
			(minimal("", "").replace("min_replicas = 1", "min_replicas = 3"), "at least min_replicas"),
			(minimal("", "").replace("max_seconds = 30", "max_seconds = 0"), "above zero"),
			(minimal("", "").replace("price_per_second = 1000", "price_per_second = 0"), "above zero"),
			(minimal("", "").replace("[image]\n", "[image]\nrepository = \"Registry/pi\"\n"), "both"),
			(
				minimal("", "").replace("[image]\n", &format!("[image]\nrepository = \"https://r.org/pi\"\nmanifest = \"{}\"\n", hex32(2))),
				"host[:port]/path",
			),
			(minimal("", "").replace("[image]\n", "[image]\narch = \"sparc\"\n"), "unknown architecture"),
		];
		for (text, expected) in cases {
			let err = parse_job(&text).expect_err(&text).to_string();
			assert!(err.contains(expected), "{err:?} should say {expected:?} for\n{text}");
		}
	}

	#[test]
	fn bounds_are_named() {
		let long = "x".repeat(300);
		let err = parse_job(&minimal(&format!("command = \"{long}\""), "")).unwrap_err();
		assert_eq!(err, SpecError::TooLong { field: "command".into(), max: 256 });
		let many = format!("args = [{}]", vec!["\"a\""; 33].join(","));
		let err = parse_job(&minimal(&many, "")).unwrap_err();
		assert_eq!(err, SpecError::TooLong { field: "args".into(), max: 32 });
	}
}
