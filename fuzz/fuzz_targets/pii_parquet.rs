//! Parquet input from any bytes: an error event, never a panic.
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

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let options = Options { format: Some(Format::Parquet), ..Options::default() };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let run = Run { scanner: scanner(), options: &options, redactor: None, pool: &pool };
    let input = Input { path: Some(f.path().to_path_buf()), name: "fuzz".into(), output: None };
    let _ = run.run(&[input], &mut |_| {});
});
