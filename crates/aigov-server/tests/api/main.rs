//! Black-box tests of the HTTP API: a real server on port 0 over a fresh SQLite database per
//! test, driven over real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod browser;
mod certificates;
mod helpers;
mod labels;
mod registry;
mod scopes;
mod validation;
