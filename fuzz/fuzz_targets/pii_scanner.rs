//! The scanner on any text: findings in bounds, on character boundaries, sorted and not
//! overlapping; encrypting every finding and restoring gives the text back.
#![no_main]
use std::sync::OnceLock;

use aigov_pii::redact::{Keys, Operator, Redactor, restore};
use aigov_pii::Scanner;
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(Scanner::with_defaults)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let s = scanner();
    let found = s.scan(text);
    let mut last = 0;
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        assert!(f.start >= last, "overlap or unsorted: {found:?}");
        assert!((0.0..=1.0).contains(&f.score));
        last = f.end;
    }
    if text.contains("<ENC:") {
        return; // restore would also decode tokens already in the input
    }
    let keys = Keys::from_master(&[7; 32]).unwrap();
    let r = Redactor::new(Operator::Encrypt, Default::default(), Some(keys.clone())).unwrap();
    let mut out = String::new();
    let mut at = 0;
    for f in &found {
        out.push_str(&text[at..f.start]);
        let v = &text[f.start..f.end];
        r.replacement(s.entity_name(f.entity), v, v, &mut out);
        at = f.end;
    }
    out.push_str(&text[at..]);
    let (back, n) = restore(&out, &keys);
    assert_eq!(n, found.len());
    assert_eq!(back, text);
});
