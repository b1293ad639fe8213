//! Command-line interface: `sc_cli`'s run command plus the standard subcommands.

/// The node's subcommands, beside running it.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification.
	#[deprecated(
		note = "build-spec will be removed after 1/06/2025. Use export-chain-spec instead"
	)]
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Sub-commands concerned with benchmarking (only with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Write the runtime's metadata (SCALE-encoded `RuntimeMetadataPrefixed`) to stdout or a
	/// file: the source `povm-client` generates its typed calls, storage, events and runtime
	/// APIs from (`client/metadata/povm.scale`).
	ExportMetadata(ExportMetadataCmd),
}

/// `povm-node export-metadata`: the metadata of the runtime built into this node.
#[derive(Debug, clap::Parser)]
pub struct ExportMetadataCmd {
	/// The metadata version to export (15 or 16, as the runtime offers them).
	#[arg(long, default_value_t = 15)]
	pub version: u32,

	/// Write to this file instead of stdout.
	#[arg(long)]
	pub output: Option<std::path::PathBuf>,
}

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// The options of a running node.
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,
}
