//! Files in every format: redaction round trips, parallel determinism, bad input.

use std::io::Write;
use std::path::{Path, PathBuf};

use aigov_pii::Scanner;
use aigov_pii::formats::json::Selector;
use aigov_pii::io::{Event, Format, Input, Options, Run};
use aigov_pii::redact::{Keys, Operator, Redactor, restore};
use aigov_pii::report::{FindingRecord, InputError};

use crate::py;

#[derive(Debug, Default)]
struct Outcome {
    findings: Vec<FindingRecord>,
    errors: Vec<InputError>,
    notes: Vec<InputError>,
    skipped: Vec<(String, String)>,
    records: u64,
}

fn input(path: &Path, output: Option<PathBuf>) -> Input {
    Input {
        path: Some(path.to_path_buf()),
        name: path.display().to_string(),
        output,
    }
}

fn run_with(
    inputs: &[Input],
    options: &Options,
    redactor: Option<&Redactor>,
    threads: usize,
) -> Outcome {
    let scanner = Scanner::with_defaults();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let run = Run {
        scanner: &scanner,
        options,
        redactor,
        pool: &pool,
    };
    let mut o = Outcome::default();
    run.run(inputs, &mut |ev| match ev {
        Event::Finding(f) => o.findings.push(f.to_record()),
        Event::Error(e) => o.errors.push(e),
        Event::Note(n) => o.notes.push(n),
        Event::File {
            name,
            records,
            skipped,
            ..
        } => {
            o.records += records;
            if let Some(s) = skipped {
                o.skipped.push((name, s));
            }
        }
        Event::Progress(..) => {}
    })
    .unwrap();
    o
}

fn keys() -> Keys {
    Keys::from_master(&[42; 32]).unwrap()
}

fn encrypting() -> Redactor {
    Redactor::new(Operator::Encrypt, Default::default(), Some(keys())).unwrap()
}

fn replacing() -> Redactor {
    Redactor::new(Operator::Replace, Default::default(), None).unwrap()
}

const TEXT: &str = "用户手机13812345678，邮箱zhang.san@163.com。\nCard 4111 1111 1111 1111\n\n-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n身份证11010519491231002X结束\n";
const JSONL: &str = "{\"id\":1,\"text\":\"手机13812345678\",\"meta\":{\"mail\":\"a.b@example.com\",\"n\":5}}\n{\"id\":2,\"text\":\"escaped \\u0031\\u0033812345678 and \\\"quoted\\\" x@y.cn\"}\r\n{\"id\":3,\"list\":[\"4111111111111111\",null,true]}\n";
const CSV: &str = "name,phone,note\n\"Zhang, San\",13912345678,\"said \"\"hi\"\" from 192.168.10.20\"\nLi,n/a,\"multi\nline 13812345678\"\n";

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(b), &mut out).unwrap();
    out
}

#[test]
fn encrypt_then_restore_is_byte_for_byte_in_every_text_format() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", TEXT.into()),
        ("b.jsonl", JSONL.into()),
        ("c.csv", CSV.into()),
        ("d.tsv", "k\tv\nx\t13812345678\n".into()),
        ("e.jsonl.gz", gzip(JSONL.as_bytes())),
        ("f.txt.zst", zstd::encode_all(TEXT.as_bytes(), 3).unwrap()),
    ];
    for (name, content) in &cases {
        let src = write(dir.path(), name, content);
        let out = dir.path().join(format!("red-{name}"));
        let o = run_with(
            &[input(&src, Some(out.clone()))],
            &Options::default(),
            Some(&encrypting()),
            2,
        );
        assert!(o.errors.is_empty(), "{name}: {:?}", o.errors);
        assert!(!o.findings.is_empty(), "{name}");
        let red = std::fs::read(&out).unwrap();
        let (plain, orig) = match name {
            n if n.ends_with(".gz") => (gunzip(&red), gunzip(content)),
            n if n.ends_with(".zst") => (
                zstd::decode_all(&red[..]).unwrap(),
                zstd::decode_all(&content[..]).unwrap(),
            ),
            _ => (red.clone(), content.clone()),
        };
        let red_text = String::from_utf8(plain).unwrap();
        assert!(
            !red_text.contains("13812345678") && red_text.contains("<ENC:"),
            "{name}: {red_text}"
        );
        // The redacted copy has nothing left to find, and stays valid in its format.
        let again = run_with(&[input(&out, None)], &Options::default(), None, 1);
        assert!(again.findings.is_empty(), "{name}: {:?}", again.findings);
        if name.contains(".jsonl") {
            for l in red_text.lines() {
                serde_json::from_str::<serde_json::Value>(l).unwrap();
            }
        }
        let (back, n) = restore(&red_text, &keys());
        assert_eq!(n, o.findings.len(), "{name}");
        assert_eq!(back.as_bytes(), &orig[..], "{name}");
    }
}

#[test]
fn findings_report_decoded_offsets_paths_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let j = write(dir.path(), "x.jsonl", JSONL.as_bytes());
    let o = run_with(&[input(&j, None)], &Options::default(), None, 1);
    let got: Vec<(u64, &str, u64, u64, &str)> = o
        .findings
        .iter()
        .map(|f| {
            (
                f.record,
                f.field.as_deref().unwrap(),
                f.start,
                f.end,
                f.entity_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "$.text", 6, 17, "CN_MOBILE"),
            (1, "$.meta.mail", 0, 15, "EMAIL_ADDRESS"),
            (2, "$.text", 8, 19, "CN_MOBILE"),
            (2, "$.text", 33, 39, "EMAIL_ADDRESS"),
            (3, "$.list[0]", 0, 16, "CREDIT_CARD"),
        ]
    );
    let only = Options {
        fields: Selector::parse(&["$.meta"]).unwrap(),
        ..Options::default()
    };
    assert_eq!(
        run_with(&[input(&j, None)], &only, None, 1).findings.len(),
        1
    );

    let c = write(dir.path(), "x.csv", CSV.as_bytes());
    let o = run_with(&[input(&c, None)], &Options::default(), None, 1);
    let got: Vec<(u64, &str, &str)> = o
        .findings
        .iter()
        .map(|f| {
            (
                f.record,
                f.field.as_deref().unwrap(),
                f.entity_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "phone", "CN_MOBILE"),
            (2, "note", "IP_ADDRESS"),
            (3, "note", "CN_MOBILE")
        ]
    );
    let only = Options {
        columns: vec!["phone".into()],
        ..Options::default()
    };
    assert_eq!(
        run_with(&[input(&c, None)], &only, None, 1).findings.len(),
        1
    );
    let t = write(dir.path(), "x.txt", TEXT.as_bytes());
    let o = run_with(&[input(&t, None)], &Options::default(), None, 1);
    let lines: Vec<(u64, &str)> = o
        .findings
        .iter()
        .map(|f| (f.record, f.entity_type.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, "CN_MOBILE"),
            (1, "EMAIL_ADDRESS"),
            (2, "CREDIT_CARD"),
            (4, "PRIVATE_KEY"),
            (7, "CN_RESIDENT_ID")
        ]
    );
    let f = &o.findings[4];
    assert_eq!(
        &TEXT.as_bytes()[f.start as usize..f.end as usize],
        b"11010519491231002X"
    );
}

#[test]
fn threads_and_batch_sizes_do_not_change_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let labels = dir.path().join("l.jsonl");
    py::run(
        &py::root().join("bench/pii/corpus.py"),
        &[
            "--records",
            "3000",
            "--seed",
            "5",
            "--out",
            corpus.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
    );
    let small = write(dir.path(), "small.txt", TEXT.as_bytes());
    let inputs = [
        input(&corpus, None),
        input(&small, None),
        input(&corpus, None),
    ];
    let one = run_with(&inputs, &Options::default(), None, 1);
    let tiny_batches = Options {
        batch_bytes: 777,
        ..Options::default()
    };
    let two = run_with(&inputs, &tiny_batches, None, 2);
    assert_eq!(one.findings, two.findings);
    assert_eq!(one.records, two.records);
    assert!(one.findings.len() > 3000);
}

#[test]
fn bad_input_is_reported_and_the_rest_continues() {
    let dir = tempfile::tempdir().unwrap();
    // Malformed JSON, invalid UTF-8, a too-long record, deep nesting: each reported with its
    // line number, the lines after still scanned; none of them reaches the redacted copy.
    let mut j = b"{\"t\":\"13812345678\"}\nnot json\n{\"t\":\"\xff\xfe\"}\n".to_vec();
    j.extend_from_slice(format!("{{\"t\":\"{}\"}}\n", "x".repeat(5000)).as_bytes());
    j.extend_from_slice(format!("{}{}\n", "[".repeat(300), "]".repeat(300)).as_bytes());
    j.extend_from_slice(b"{\"t\":\"13912345678\"}");
    let p = write(dir.path(), "bad.jsonl", &j);
    let opts = Options {
        max_record: 4096,
        ..Options::default()
    };
    let out = dir.path().join("bad.red.jsonl");
    let o = run_with(
        &[input(&p, Some(out.clone()))],
        &opts,
        Some(&replacing()),
        2,
    );
    let errs: Vec<u64> = o.errors.iter().map(|e| e.record.unwrap()).collect();
    assert_eq!(errs, vec![4, 2, 3, 5], "{:?}", o.errors);
    assert_eq!(
        o.findings.iter().map(|f| f.record).collect::<Vec<_>>(),
        vec![1, 6]
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "{\"t\":\"<CN_MOBILE>\"}\n{\"t\":\"<CN_MOBILE>\"}"
    );

    // Truncated gzip: what was read is scanned, then an error.
    let gz = gzip(JSONL.repeat(2000).as_bytes());
    let t = write(dir.path(), "cut.jsonl.gz", &gz[..gz.len() / 2]);
    let o = run_with(&[input(&t, None)], &Options::default(), None, 1);
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    assert!(
        o.errors[0].message.contains("truncated or corrupt"),
        "{}",
        o.errors[0].message
    );
    assert!(!o.findings.is_empty());

    // Binary files are skipped with a note; invalid UTF-8 in text is a note, the rest is scanned.
    let b = write(dir.path(), "model.bin", b"\x00\x01\x02 13812345678");
    let t = write(
        dir.path(),
        "mixed.txt",
        b"ok 13812345678 \xff\xfe then 13912345678\n",
    );
    let o = run_with(
        &[input(&b, None), input(&t, None)],
        &Options::default(),
        None,
        1,
    );
    assert_eq!(
        o.skipped,
        vec![(b.display().to_string(), "binary file".to_string())]
    );
    assert_eq!(o.findings.len(), 2);
    assert_eq!(o.notes.len(), 1);
    assert!(o.errors.is_empty());

    // CSV: an unclosed quote at the end of the file; a missing file; an unknown column.
    let c = write(
        dir.path(),
        "open.csv",
        b"a,b\n1,13812345678\n2,\"never closed\n",
    );
    let missing = dir.path().join("missing.csv");
    let o = run_with(
        &[input(&c, None), input(&missing, None)],
        &Options::default(),
        None,
        1,
    );
    assert_eq!(o.findings.len(), 1);
    assert_eq!(o.errors.len(), 2, "{:?}", o.errors);
    assert!(
        o.errors[0].message.contains("unclosed quoted field"),
        "{:?}",
        o.errors
    );
    assert!(o.errors[1].message.contains("cannot read"));
    let scanner = Scanner::with_defaults();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let opts = Options {
        columns: vec!["nope".into()],
        ..Options::default()
    };
    let run = Run {
        scanner: &scanner,
        options: &opts,
        redactor: None,
        pool: &pool,
    };
    let err = run.run(&[input(&c, None)], &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("no column \"nope\" (columns: a, b)"),
        "{err}"
    );

    // A text file with no newline at all is cut into batches without splitting characters.
    let long = "中".repeat(3000) + "13812345678" + &"文".repeat(3000);
    let l = write(dir.path(), "long.txt", long.as_bytes());
    let opts = Options {
        batch_bytes: 1000,
        max_record: 1000,
        ..Options::default()
    };
    let o = run_with(&[input(&l, None)], &opts, None, 2);
    assert!(o.notes.is_empty() && o.errors.is_empty());
    assert_eq!(o.findings.len(), 1);
    assert_eq!(o.findings[0].start, 9000);
}

#[test]
fn parquet_redaction_keeps_the_schema_and_restores() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("t.parquet");
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
    "id": pa.array([1, 2, 3, 4], pa.int64()),
    "text": pa.array(["手机13812345678", None, "mail a.b@example.com", "nothing"], pa.string()),
    "tags": pa.array([["x", "13912345678"], [], None, ["4111111111111111"]], pa.list_(pa.string())),
    "score": pa.array([0.5, 1.5, None, 2.0], pa.float64()),
})
pq.write_table(t, sys.argv[1], row_group_size=2, compression="zstd")
"#;
    let maker = write(dir.path(), "gen.py", script.as_bytes());
    py::run(&maker, &[src.to_str().unwrap()]);
    let red = dir.path().join("r.parquet");
    let o = run_with(
        &[input(&src, Some(red.clone()))],
        &Options::default(),
        Some(&encrypting()),
        2,
    );
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    let got: Vec<(u64, &str, &str)> = o
        .findings
        .iter()
        .map(|f| {
            (
                f.record,
                f.field.as_deref().unwrap(),
                f.entity_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "text", "CN_MOBILE"),
            (1, "tags.list.element", "CN_MOBILE"),
            (3, "text", "EMAIL_ADDRESS"),
            (4, "tags.list.element", "CREDIT_CARD")
        ]
    );
    assert_eq!(o.records, 4);
    let back = dir.path().join("b.parquet");
    let n = aigov_pii::io::parquet::restore(&input(&red, Some(back.clone())), &keys()).unwrap();
    assert_eq!(n, 4);
    // pyarrow reads both: the redacted copy has the same schema and no values left; the
    // restored copy equals the original table.
    let check = r#"
import sys, pyarrow.parquet as pq
a, r, b = (pq.read_table(p) for p in sys.argv[1:4])
assert a.schema == r.schema, (a.schema, r.schema)
assert r.num_rows == 4 and pq.ParquetFile(sys.argv[2]).num_row_groups == 2
flat = str(r.to_pylist())
assert "13812345678" not in flat and "<ENC:" in flat, flat
assert r.column("id").equals(a.column("id")) and r.column("score").equals(a.column("score"))
assert a.equals(b), (a.to_pylist(), b.to_pylist())
print("ok")
"#;
    let chk = write(dir.path(), "check.py", check.as_bytes());
    assert_eq!(
        py::run(
            &chk,
            &[
                src.to_str().unwrap(),
                red.to_str().unwrap(),
                back.to_str().unwrap()
            ]
        )
        .trim(),
        "ok"
    );
    // Not Parquet at all: an error, no output left behind.
    let fake = write(dir.path(), "fake.parquet", b"PAR1 not really");
    let out = dir.path().join("fake.out.parquet");
    let o = run_with(
        &[input(&fake, Some(out.clone()))],
        &Options::default(),
        Some(&replacing()),
        1,
    );
    assert_eq!(o.errors.len(), 1);
    assert!(!out.exists());
    // Files found by fuzzing that made parquet 57 panic (capacity overflow in the schema) or
    // allocate without bound (a huge declared row-group list): malformed files, bounded.
    for name in [
        "parquet-schema-overflow.parquet",
        "parquet-huge-list.parquet",
    ] {
        let hostile = py::root()
            .join("crates/aigov-pii/tests/pii/data")
            .join(name);
        let out = dir.path().join("hostile.out.parquet");
        let o = run_with(
            &[input(&hostile, Some(out.clone()))],
            &Options::default(),
            Some(&replacing()),
            1,
        );
        assert_eq!(o.errors.len(), 1, "{name}: {:?}", o.errors);
        let m = &o.errors[0].message;
        assert!(
            m.starts_with("malformed Parquet file") || m.starts_with("not a readable Parquet file"),
            "{name}: {m}"
        );
        assert!(!out.exists());
    }
    let _ = Format::Parquet;
}
