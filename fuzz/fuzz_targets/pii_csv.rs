//! CSV records on any bytes: the splitter and the field parser never panic; spans in bounds.
#![no_main]
use aigov_pii::formats::csv::{RecordSplitter, fields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sp = RecordSplitter::new(b',');
    if let Some(end) = sp.feed(data) {
        assert!(end <= data.len());
    }
    let Ok(rec) = std::str::from_utf8(data) else { return };
    for delim in [b',', b'\t'] {
        if let Ok(fs) = fields(rec, delim) {
            for f in fs {
                assert!(f.raw.end <= rec.len());
                assert!(f.raw_offset(f.value.len()) <= f.raw.end);
            }
        }
    }
});
