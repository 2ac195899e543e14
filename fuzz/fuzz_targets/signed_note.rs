//! Signed notes, checkpoints and verifier keys (`aigov log verify` reads them from servers).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = aigov_tlog::note::Verifier::parse(text);
    let _ = aigov_tlog::checkpoint::Checkpoint::parse_text(text);
    if let Ok(note) = aigov_tlog::note::Note::parse(text)
        && let Ok(signer) = aigov_tlog::note::NoteSigner::from_seed("fuzz", &[1; 32])
    {
        let _ = note.verify(&signer.verifier());
    }
});
