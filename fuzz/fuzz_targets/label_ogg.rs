//! The ogg container: read, label, read back (see label_common.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "label_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::run(&aigov_label::formats::ogg::Ogg, data));
