//! safetensors and GGUF header checks on any bytes and any declared file length.
#![no_main]
use aigov_supply::scan::tensors::{check_gguf, check_safetensors};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    for file_len in [len, len.saturating_mul(2), u64::MAX] {
        let _ = check_safetensors(data, file_len);
        let mut g = b"GGUF".to_vec();
        g.extend_from_slice(data);
        let _ = check_gguf(&g, file_len);
        let _ = check_gguf(data, file_len);
    }
});
