//! Hugging Face model cards (YAML front matter and Markdown body) on any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = aigov_supply::bom::card::parse(&text);
    let framed = format!("---\n{text}\n---\nbody\n");
    let _ = aigov_supply::bom::card::parse(&framed);
});
