//! Scanner throughput on mixed Chinese/English text (`cargo bench -p aigov-pii`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aigov_pii::Scanner;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// About 4 MiB of prose, one identifier per ~400 bytes.
fn corpus() -> String {
    let lines = [
        "The quarterly report was reviewed by the committee on Tuesday and approved without changes.",
        "我们在周二的会议上审议了季度报告，委员会一致同意，没有修改意见。",
        "Contact the support desk at support@example.com if the problem persists after 24 hours.",
        "用户张三的手机号码是13812345678，身份证号11010519491231002X，请妥善保管。",
        "In 2023 the model was trained on 1.2 trillion tokens over 90 days using 2048 accelerators.",
        "本公司统一社会信用代码为91110000600037341L，注册地址为北京市朝阳区建国路88号。",
        "Payment by card 4111 1111 1111 1111 was declined; please retry later today.",
        "模型在推理阶段会过滤敏感信息，并记录访问日志以便审计与追踪。",
    ];
    let mut s = String::new();
    while s.len() < 4 << 20 {
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let scanner = Scanner::with_defaults();
    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(20);
    g.bench_function("mixed_4MiB_by_line", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            out.clear();
            for line in text.lines() {
                scanner.scan_into(line, &mut out);
            }
            out.len()
        })
    });
    g.bench_function("mixed_4MiB_whole", |b| b.iter(|| scanner.scan(&text).len()));
    let english = "The quarterly report was reviewed by the committee on Tuesday and approved without changes. ".repeat(40_000);
    g.throughput(Throughput::Bytes(english.len() as u64));
    g.bench_function("clean_english", |b| b.iter(|| scanner.scan(&english).len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
