//! The integration tests of ir110-sigma (one test binary, as the house style asks).

// Test helpers outside `#[test]` functions may panic on bad fixtures: that is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builtin;
mod semantics;
mod sigmahq;
