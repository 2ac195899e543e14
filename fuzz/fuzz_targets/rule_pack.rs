//! Rule packs (`aigov rules check`, `--rules DIR`): load and lint never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aigov_policy::load_pack("fuzz.toml", text);
        let _ = aigov_policy::TierCatalogue::parse(text);
    }
});
