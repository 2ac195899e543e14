//! Identifier validators take any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    use aigov_pii::validate::*;
    let _ = resident_id(s);
    let _ = uscc_check(s);
    let _ = luhn(s);
    let _ = iban(s);
    let _ = us_ssn(s);
    let _ = bitcoin_address(s);
});
