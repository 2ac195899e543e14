//! Certificate requests and certificates from untrusted hands: refused or read, never a panic.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn ca() -> &'static aigov_pki::CaMaterial {
    static CA: OnceLock<aigov_pki::CaMaterial> = OnceLock::new();
    CA.get_or_init(|| {
        aigov_pki::create_ca("fuzz", aigov_pki::KeyAlgorithm::EcdsaP256, chrono::Utc::now())
            .unwrap_or_else(|_| std::process::abort())
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let subject = aigov_pki::SystemSubject {
        filing_number: "AIG-2026-000001-4".into(),
        system_name: "fuzz".into(),
        organisation: "fuzz".into(),
        tier: "minimal".into(),
    };
    let now = chrono::Utc::now();
    let _ = aigov_pki::issue(ca(), text, &subject, &[1], now, 30);
    let _ = aigov_pki::inspect(text);
    let _ = aigov_pki::verify(text, &ca().issuing_cert, &ca().root_cert, now);
});
