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

/// DER inputs (a SEQUENCE) are wrapped as PEM, so that mutations reach the DER parsers (a
/// mutated PEM text mostly breaks its base64).
fn pem(label: &str, der: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for c in der.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            b64.push(if i <= c.len() { A[((n >> (18 - 6 * i)) & 63) as usize] as char } else { '=' });
        }
    }
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
}

fuzz_target!(|data: &[u8]| {
    let text = match data.first() {
        Some(0x30) => pem("CERTIFICATE REQUEST", data) + &pem("CERTIFICATE", data),
        _ => match std::str::from_utf8(data) {
            Ok(t) => t.to_string(),
            Err(_) => return,
        },
    };
    let text = text.as_str();
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
