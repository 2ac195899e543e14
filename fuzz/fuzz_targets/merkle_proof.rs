//! Proof verification on arbitrary sizes, indices and hash bytes never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u64, u64, u64, Vec<Vec<u8>>, Vec<u8>, Vec<u8>)| {
    let (a, b, c, proof, x, y) = input;
    use aigov_tlog::rfc9162::*;
    let _ = verify_inclusion(a, b, &x, &proof, &y);
    let _ = verify_consistency(a, b, &proof, &x, &y);
    let _ = verify_subtree_inclusion(a, b, c, &x, &proof, &y);
    let _ = verify_subtree_consistency(a, b, c, &proof, &x, &y);
});
