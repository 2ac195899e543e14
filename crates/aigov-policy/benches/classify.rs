//! Classification speed: evaluation alone, and evaluation plus the JSON the API returns.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use aigov_policy::{FactFormat, builtin, parse_facts};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let classifier = builtin::classifier().unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/systems/");
    for name in ["public-chatbot", "spam-filter"] {
        let text = std::fs::read_to_string(format!("{dir}{name}.toml")).unwrap();
        let facts = parse_facts(&text, FactFormat::Toml).unwrap();
        let json = serde_json::to_vec(&facts).unwrap();
        c.bench_function(&format!("classify/{name}"), |b| {
            b.iter(|| classifier.classify(std::hint::black_box(&facts), date))
        });
        c.bench_function(&format!("classify+json/{name}"), |b| {
            b.iter(|| {
                let facts: aigov_policy::SystemFacts = serde_json::from_slice(&json).unwrap();
                serde_json::to_vec(&classifier.classify(&facts, date)).unwrap()
            })
        });
    }
    c.bench_function("load_builtin_packs", |b| {
        b.iter(|| builtin::classifier().unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
