//! The audio tone cue: any bytes through the WAV mixer and the FLAC decode–mix–encode path.
//! Never a panic; when a FLAC file gets its cue, the copy reads back as FLAC.
#![no_main]
use std::io::Cursor;

use aigov_label::format::{Format, Limits};
use aigov_label::visible::audio::{ToneCue, add_cue, add_cue_flac};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_metadata: 1 << 20,
        max_structures: 10_000,
        max_depth: 16,
    };
    // A short cue, so that small inputs get that far.
    let cue = ToneCue {
        short_ms: 2,
        long_ms: 4,
        gap_ms: 2,
        fade_ms: 1,
        frequency: 100.0,
        ..ToneCue::default()
    };
    let _ = add_cue(&mut Cursor::new(data), &mut Vec::new(), &cue, &limits);
    let mut out = Vec::new();
    if add_cue_flac(&mut Cursor::new(data), &mut out, &cue, &limits).is_ok() {
        aigov_label::formats::flac::Flac
            .layout(&mut Cursor::new(&out), &limits)
            .expect("a FLAC file aigov wrote must read back");
    }
});
