//! The model scanner on any file content (archives, compressed streams, pickles, NumPy,
//! tensors): a report for every input, never a panic or unbounded memory.
#![no_main]
use aigov_supply::scan::{Limits, scan_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    std::fs::write(&path, data).unwrap();
    let limits = Limits {
        max_read: 1 << 20,
        max_expanded: 4 << 20,
        max_header: 1 << 20,
        ..Limits::default()
    };
    let reports = scan_file(&path, &limits);
    assert!(!reports.is_empty());
});
