//! Model-signing bundles and statements on any bytes: parse errors, never panics; a parsed
//! statement's root digest matches its resources.
#![no_main]
use aigov_supply::oms::bundle::{Bundle, parse_statement};
use aigov_supply::oms::manifest::root_digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::parse(data) {
        let _ = b.to_json();
        let _ = parse_statement(&b.payload);
    }
    if let Ok(s) = parse_statement(data) {
        if let Some(r) = s.root_digest {
            let d = root_digest(s.manifest.resources.iter().map(|r| r.digest.value.as_slice()));
            assert_eq!(r, d);
        }
    }
});
