//! The file readers on any bytes, as text, JSON lines, CSV and TSV, plain or gzip/zstd
//! (sniffed from the bytes): reports, never a panic; small batches to exercise the cuts.
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

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let format = [Format::Text, Format::Jsonl, Format::Csv, Format::Tsv][usize::from(sel % 4)];
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(body).unwrap();
    let options = Options { format: Some(format), batch_bytes: 64, max_record: 256, ..Options::default() };
    let run = Run { scanner: scanner(), options: &options, redactor: None, pool: pool() };
    let input = Input { path: Some(f.path().to_path_buf()), name: "fuzz".into(), output: None };
    let _ = run.run(&[input], &mut |_| {});
});
