//! Declining jobs.
