//! Parquet input from any bytes: an error event, never a panic that escapes.
#![no_main]
use std::io::Write;
use std::sync::OnceLock;

use aigov_pii::io::{Format, Input, Options, Run};
use aigov_pii::Scanner;
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(Scanner::with_defaults)
}

fn pool() -> &'static rayon::ThreadPool {
    static P: OnceLock<rayon::ThreadPool> = OnceLock::new();
    P.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap())
}

/// libfuzzer-sys aborts on any panic; a decoder panic that aigov-pii contains (reports as a
/// malformed file) is not a crash of aigov, so let it through to `catch_unwind`.
fn quiet_contained_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !aigov_pii::io::in_contained_decoder() {
                fuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    quiet_contained_panics();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let options = Options { format: Some(Format::Parquet), ..Options::default() };
    let run = Run { scanner: scanner(), options: &options, redactor: None, pool: pool() };
    let input = Input { path: Some(f.path().to_path_buf()), name: "fuzz".into(), output: None };
    let _ = run.run(&[input], &mut |_| {});
});
