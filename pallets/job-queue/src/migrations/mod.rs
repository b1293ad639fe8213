//! Storage migrations of the job queue, one module per version step.

pub mod v2;
pub mod v3;
pub mod v4;
