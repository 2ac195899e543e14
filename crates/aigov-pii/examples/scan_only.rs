//! Scanner core throughput on a file, without IO, parsing or output: each line is scanned as
//! one string (`cargo run --release -p aigov-pii --example scan_only FILE [ROUNDS]`).
#![allow(missing_docs)]

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: scan_only FILE [ROUNDS]")?;
    let rounds: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let text = std::fs::read_to_string(path)?;
    let t = Instant::now();
    let scanner = aigov_pii::Scanner::with_defaults();
    println!("scanner built in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let mut out = Vec::new();
    // Loads the phone metadata (once per process) before timing.
    scanner.scan_into("call +44 20 7946 0958", &mut out);
    for _ in 0..rounds {
        let t = Instant::now();
        out.clear();
        for line in text.lines() {
            scanner.scan_into(line, &mut out);
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{} findings, {:.1} MB/s",
            out.len(),
            text.len() as f64 / s / 1e6
        );
    }
    Ok(())
}
