//! Integration tests of aigov-pii: accuracy on a labelled corpus, validators against
//! python-stdnum, files in every format (round trips, bad input), allocation-free scanning.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod accuracy;
mod alloc;
mod files;
mod oracle;
mod py;
