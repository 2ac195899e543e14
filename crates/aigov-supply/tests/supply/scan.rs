//! The unsafe-serialisation scanner on a corpus the tests generate with Python's pickle module
//! and hand-assembled opcodes (tests/supply/corpus.py).

use std::path::Path;

use aigov_supply::scan::report::ScanReport;
use aigov_supply::scan::{self, Limits, Severity};
use serde_json::Value;

use crate::venv;

fn corpus(dir: &Path) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/supply/corpus.py");
    let out = venv().run(&[script.as_os_str(), dir.as_os_str()]);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn every_corpus_case_gets_its_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = corpus(tmp.path());
    assert!(cases.len() >= 25);
    for c in &cases {
        let file = c["file"].as_str().unwrap();
        let reports = scan::scan_file(&tmp.path().join(file), &Limits::default());
        let worst = reports.iter().filter_map(|r| r.worst()).max();
        let want = c["worst"].as_str().unwrap();
        let shown = format!("{file}: {reports:#?}");
        if want == "clean" {
            assert!(worst.is_none_or(|w| w < Severity::Medium), "{shown}");
            assert!(reports.iter().all(|r| r.error.is_none()), "{shown}");
        } else {
            assert_eq!(worst, Severity::parse(want), "{shown}");
        }
        let findings: Vec<_> = reports.iter().flat_map(|r| r.findings.iter()).collect();
        if let Some(rule) = c["rule"].as_str() {
            assert!(findings.iter().any(|f| f.rule == rule), "{shown}");
        }
        if let Some(text) = c["text"].as_str() {
            assert!(
                findings.iter().any(|f| f.message.contains(text)
                    || f.callable.as_deref().is_some_and(|x| x.contains(text))),
                "{shown}"
            );
        }
    }
}

#[test]
fn members_are_named_by_their_path_through_archives() {
    let tmp = tempfile::tempdir().unwrap();
    corpus(tmp.path());
    let reports = scan::scan_file(
        &tmp.path().join("nested/release.tar.gz"),
        &Limits::default(),
    );
    let hit = reports
        .iter()
        .find(|r| r.worst() == Some(Severity::Critical))
        .unwrap();
    assert!(
        hit.path.ends_with(
            "release.tar.gz!/release.tar!/release/bundle.zip!/model.pt!/archive/data.pkl"
        ),
        "{}",
        hit.path
    );
    // Benign PyTorch checkpoints list what they import, all on the allow list.
    let ok = scan::scan_file(
        &tmp.path().join("benign/pytorch_model.pt"),
        &Limits::default(),
    );
    assert_eq!(ok[0].format, "pytorch");
    let pkl = ok.iter().find(|r| r.path.ends_with("data.pkl")).unwrap();
    assert!(
        pkl.allowed_imports
            .contains(&"torch._utils._rebuild_tensor_v2".to_string())
    );
    assert!(
        pkl.allowed_imports
            .contains(&"collections.OrderedDict".to_string())
    );
    let legacy = scan::scan_file(&tmp.path().join("legacy/ok.pth"), &Limits::default());
    assert_eq!(legacy[0].format, "pytorch-legacy");
}

#[test]
fn decompression_bombs_and_deep_nesting_stay_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    // 64 MiB of zeros compress to ~64 KiB; a 16 MiB expansion limit catches it.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    // It starts like a pickle, so the scanner has to read it.
    std::io::Write::write_all(&mut gz, b"\x80\x02(").unwrap();
    for _ in 0..64 {
        std::io::Write::write_all(&mut gz, &zeros).unwrap();
    }
    let bomb = tmp.path().join("weights.pkl.gz");
    std::fs::write(&bomb, gz.finish().unwrap()).unwrap();
    let limits = Limits {
        max_expanded: 16 << 20,
        max_read: 8 << 20,
        ..Limits::default()
    };
    let r = scan::scan_file(&bomb, &limits);
    assert!(
        r.iter().any(|x| x
            .findings
            .iter()
            .any(|f| f.rule == "archive.bomb" || f.rule == "scan.too-large")),
        "{r:#?}"
    );
    // Archives nested deeper than the limit are a finding.
    let mut data = b"\x80\x02cos\nsystem\n.".to_vec();
    for _ in 0..10 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &data).unwrap();
        data = gz.finish().unwrap();
    }
    let deep = tmp.path().join("deep.gz");
    std::fs::write(&deep, data).unwrap();
    let r = scan::scan_file(&deep, &Limits::default());
    assert!(
        r.iter()
            .any(|x| x.findings.iter().any(|f| f.rule == "archive.depth")),
        "{r:#?}"
    );
}

#[test]
fn reports_render_as_json_table_and_sarif() {
    let tmp = tempfile::tempdir().unwrap();
    corpus(tmp.path());
    let (files, errors) = scan::list_files(&[tmp.path().join("raw"), tmp.path().join("missing")]);
    assert_eq!(errors.len(), 1);
    let mut all = errors;
    for f in files {
        all.extend(scan::scan_file(&f, &Limits::default()));
    }
    let report = ScanReport::new(all);
    assert_eq!(report.worst(), Some(Severity::Critical));
    assert_eq!(report.errors, 1);
    let table = report.table();
    assert!(
        table.contains("CRITICAL") && table.contains("pytorch_model.bin"),
        "{table}"
    );
    let sarif = report.sarif();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "error");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["format"], "aigov-model-scan/v1");
}

#[test]
fn call_results_nested_a_million_deep_do_not_overflow_the_stack() {
    // memo 0 = a callable, memo 1 = its argument; each round calls it on the previous result.
    let mut p = b"\x80\x02cbuiltins\nlen\nq\x00)q\x0100".to_vec();
    for _ in 0..200_000 {
        p.extend_from_slice(b"h\x00h\x01Rq\x010");
    }
    p.extend_from_slice(b"N.");
    // A small stack, like the scanner's worker threads.
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || aigov_supply::scan::pickle::analyse(&p, 0).map(|a| a.imports.len()))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(r.unwrap(), 1);
}
