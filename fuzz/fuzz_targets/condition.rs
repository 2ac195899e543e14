//! The condition language: parse, type-check, print and re-parse.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(e) = aigov_policy::expr::parse(text) {
        let _ = aigov_policy::expr::check(&e, &Default::default());
        let printed = e.to_string();
        let again = aigov_policy::expr::parse(&printed);
        assert!(again.is_ok(), "printed condition does not parse: {printed}");
    }
});
