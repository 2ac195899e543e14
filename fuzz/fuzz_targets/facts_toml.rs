//! Fact files in TOML: parse, then classify whatever parses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(facts) = aigov_policy::parse_facts(text, aigov_policy::FactFormat::Toml)
        && let Ok(c) = aigov_policy::builtin::classifier()
        && let Some(date) = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
    {
        let _ = c.classify(&facts, date);
    }
});
