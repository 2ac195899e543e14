//! Fact documents in JSON (the body of `POST /v1/classify` and of system registrations).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aigov_policy::parse_facts(text, aigov_policy::FactFormat::Json);
    }
    let _ = serde_json::from_slice::<aigov_registry::model::NewSystem>(data);
});
