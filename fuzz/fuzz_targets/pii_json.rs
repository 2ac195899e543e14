//! The JSON line walker on any text: no panic, raw spans inside the line.
#![no_main]
use aigov_pii::formats::json::{Selector, walk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    let sel = Selector::default();
    let _ = walk(line, &sel, |_, s| {
        assert!(s.raw.end <= line.len());
        let end = s.raw_offset(s.value.len());
        assert!(s.raw_offset(0) <= end && end <= s.raw.end);
    });
});
