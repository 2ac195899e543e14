//! Filing numbers and Unified Social Credit Codes (public lookups take them from anyone).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(n) = aigov_registry::FilingNumber::parse(text) {
            assert_eq!(aigov_registry::FilingNumber::parse(n.as_str()).ok(), Some(n));
        }
        let _ = aigov_registry::filing::check_uscc(text);
    }
});
