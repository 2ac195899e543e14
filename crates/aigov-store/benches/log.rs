//! Transparency-log benchmark on the embedded store: appends per second (one entry per
//! transaction, and batched), then inclusion and consistency proof latency, and memory.
//!
//!   LOG_ENTRIES=1000000 LOG_BATCH=1000 cargo bench -p aigov-store --bench log
//!
//! Prints figures; it asserts nothing (see docs/performance.md for recorded results).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use aigov_registry::log;
use aigov_registry::store::{Store, Tx};
use aigov_store::SqliteStore;
use aigov_tlog::note::NoteSigner;
use aigov_tlog::tree;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn entry(i: u64) -> Vec<u8> {
    format!(
        "{{\"seq\":{},\"action\":\"bench.append\",\"subject\":\"{i:016x}\",\"padding\":\"{}\"}}",
        i + 1,
        "x".repeat(120)
    )
    .into_bytes()
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total = env("LOG_ENTRIES", 200_000);
    let batch = env("LOG_BATCH", 1000).max(1);
    let singles = env("LOG_SINGLES", 2_000);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("aigov.db"))
        .await
        .unwrap();
    let key = NoteSigner::from_seed("bench.aigov/log", &[5; 32]).unwrap();
    let rss0 = rss_kib();

    // One entry per transaction (sequence + integrate + commit, fsync each).
    let t = Instant::now();
    for i in 0..singles {
        let mut tx = store.write().await.unwrap();
        log::sequence(&mut tx, &entry(i)).await.unwrap();
        log::integrate(&mut tx, &key).await.unwrap();
        tx.commit().await.unwrap();
    }
    let single_rate = singles as f64 / t.elapsed().as_secs_f64();
    println!(
        "single appends: {singles} entries, {single_rate:.0} entries/s (one transaction and checkpoint each)"
    );

    // Batched: the sequencer's job, `batch` entries per transaction and checkpoint.
    let t = Instant::now();
    let mut done = singles;
    let mut rss_mid = 0;
    while done < total {
        let n = batch.min(total - done);
        let entries: Vec<Vec<u8>> = (done..done + n).map(entry).collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let mut tx = store.write().await.unwrap();
        log::sequence_many(&mut tx, &refs).await.unwrap();
        log::integrate(&mut tx, &key).await.unwrap();
        tx.commit().await.unwrap();
        done += n;
        if done >= total / 2 && rss_mid == 0 {
            rss_mid = rss_kib();
        }
    }
    let batched = total - singles;
    let rate = batched as f64 / t.elapsed().as_secs_f64();
    println!("batched appends: {batched} entries in batches of {batch}, {rate:.0} entries/s");

    // Proof latency at the final size.
    let mut incl = Vec::new();
    let mut cons = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = x % total;
        let mut tx = store.read().await.unwrap();
        let t = Instant::now();
        let p = log::with_nodes(&mut tx, |r| tree::inclusion_proof(&r, i, total))
            .await
            .unwrap();
        incl.push(t.elapsed());
        assert!(!p.is_empty());
        let m = i.max(1);
        let t = Instant::now();
        log::with_nodes(&mut tx, |r| tree::consistency_proof(&r, m, total))
            .await
            .unwrap();
        cons.push(t.elapsed());
    }
    println!(
        "inclusion proof at {total} entries: p50 {:?}, p99 {:?}",
        pct(&mut incl, 0.5),
        pct(&mut incl, 0.99)
    );
    println!(
        "consistency proof at {total} entries: p50 {:?}, p99 {:?}",
        pct(&mut cons, 0.5),
        pct(&mut cons, 0.99)
    );
    println!(
        "resident memory: start {} MiB, half-way {} MiB, end {} MiB",
        rss0 / 1024,
        rss_mid / 1024,
        rss_kib() / 1024
    );
}
