//! The pickle interpreter on any bytes: never panics, offsets and lengths stay in bounds.
#![no_main]
use aigov_supply::scan::pickle::{analyse, looks_like_pickle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_pickle(data);
    match analyse(data, 7) {
        Ok(a) => {
            assert!(a.length as usize <= data.len());
            for i in &a.imports {
                assert!(i.offset >= 7 && i.offset < 7 + data.len() as u64);
            }
        }
        Err(e) => assert!(e.offset <= 7 + data.len() as u64),
    }
});
