//! MP4 and PDF adapters against third-party tools: ffmpeg (imageio-ffmpeg's static build) and
//! pikepdf (qpdf).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use aigov_label::format::{Format, Layout, Limits};
use aigov_label::formats::mp4::Mp4;
use aigov_label::formats::pdf::Pdf;
use aigov_testkit::Venv;

const JSON: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"001191100006000373414LABEL","ProduceID":"vid-0001","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;
const JSON2: &str = r#"{"AIGC":{"Label":"2","ContentProducer":"生成 (test) \\ producer","ProduceID":"vid-0002-a-longer-id","ReservedCode1":"","ContentPropagator":"p","PropagateID":"q","ReservedCode2":""}}"#;

pub fn venv() -> Venv {
    Venv::get("label", "bench/label/requirements.txt")
}

pub fn ffmpeg(venv: &Venv) -> PathBuf {
    PathBuf::from(
        venv.run(&[
            "-c",
            "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())",
        ])
        .trim(),
    )
}

/// Runs ffmpeg with `args`; panics on failure; returns stdout.
pub fn run_ffmpeg(ff: &Path, args: &[&str]) -> String {
    let out = Command::new(ff)
        .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "ffmpeg {args:?} reported: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn layout(f: &dyn Format, p: &Path) -> Layout {
    f.layout(&mut File::open(p).unwrap(), &Limits::default())
        .unwrap_or_else(|e| panic!("layout of {}: {e}", p.display()))
}

fn write(f: &dyn Format, from: &Path, to: &Path, json: &str) {
    let mut dst = std::io::BufWriter::new(File::create(to).unwrap());
    f.write(
        &mut File::open(from).unwrap(),
        &mut dst,
        json,
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("write of {}: {e}", from.display()));
    std::io::Write::flush(&mut dst).unwrap();
}

fn essence(f: &dyn Format, p: &Path) -> Vec<u8> {
    let bytes = std::fs::read(p).unwrap();
    layout(f, p)
        .essence
        .iter()
        .flat_map(|r| bytes[r.start as usize..r.end as usize].to_vec())
        .collect()
}

fn primary(l: &Layout) -> Vec<String> {
    l.carriers
        .iter()
        .filter(|c| c.primary)
        .map(|c| c.text.clone())
        .collect()
}

/// Decoded frames of every stream, as ffmpeg's framemd5 lines (without the header comments).
pub fn framemd5(ff: &Path, p: &Path) -> String {
    let out = run_ffmpeg(
        ff,
        &[
            "-i",
            p.to_str().unwrap(),
            "-map",
            "0",
            "-f",
            "framemd5",
            "-",
        ],
    );
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(lines.len() > 50, "too few frames: {out}");
    lines.join("\n")
}

/// The `key=value` lines ffmpeg reports as global metadata.
fn ffmetadata(ff: &Path, p: &Path) -> Vec<String> {
    run_ffmpeg(ff, &["-i", p.to_str().unwrap(), "-f", "ffmetadata", "-"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// ffmetadata escapes `=`, `;`, `#`, `\` and newlines with a backslash.
fn ffescape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '=' | ';' | '#' | '\\' | '\n') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn make_mp4(ff: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        "2",
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
    ];
    args.extend_from_slice(extra);
    args.push(out.to_str().unwrap());
    run_ffmpeg(ff, &args);
}

#[test]
fn mp4_labelled_files_decode_identically_and_ffmpeg_reads_the_label() {
    let venv = venv();
    let ff = ffmpeg(&venv);
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("faststart", &["-movflags", "+faststart"][..]),
        ("moov-last", &[][..]),
    ] {
        let src = dir.path().join(format!("{name}.mp4"));
        make_mp4(&ff, &src, extra);
        let l0 = layout(&Mp4, &src);
        assert!(l0.carriers.is_empty(), "{name}: {:?}", l0.carriers);
        assert_eq!(l0.shape, "320x240");
        let frames = framemd5(&ff, &src);
        let meta0 = ffmetadata(&ff, &src);
        assert!(meta0.iter().any(|l| l.starts_with("encoder=")), "{meta0:?}");

        let out1 = dir.path().join(format!("{name}-1.mp4"));
        write(&Mp4, &src, &out1, JSON);
        let l1 = layout(&Mp4, &out1);
        assert_eq!(primary(&l1), [JSON], "{name}");
        assert_eq!(l1.shape, "320x240");
        assert_eq!(essence(&Mp4, &src), essence(&Mp4, &out1), "{name}");
        assert_eq!(framemd5(&ff, &out1), frames, "{name}: frames differ");
        let meta1 = ffmetadata(&ff, &out1);
        assert!(
            meta1.contains(&format!("AIGC={}", ffescape(JSON))),
            "{name}: {meta1:?}"
        );
        // Every metadata item ffmpeg saw before is still there.
        for m in &meta0 {
            assert!(meta1.contains(m), "{name}: lost {m}: {meta1:?}");
        }
        // ffmpeg copies the label along when remuxing (it reads it as a real tag).
        let remux = dir.path().join(format!("{name}-remux.mp4"));
        run_ffmpeg(
            &ff,
            &[
                "-y",
                "-i",
                out1.to_str().unwrap(),
                "-c",
                "copy",
                "-movflags",
                "use_metadata_tags",
                remux.to_str().unwrap(),
            ],
        );
        assert_eq!(primary(&layout(&Mp4, &remux)), [JSON]);

        // Relabel: replaced, not added.
        let out2 = dir.path().join(format!("{name}-2.mp4"));
        write(&Mp4, &out1, &out2, JSON2);
        let l2 = layout(&Mp4, &out2);
        assert_eq!(primary(&l2), [JSON2], "{name}");
        assert_eq!(essence(&Mp4, &src), essence(&Mp4, &out2), "{name}");
        assert_eq!(framemd5(&ff, &out2), frames, "{name}: frames differ");
        let meta2 = ffmetadata(&ff, &out2);
        let aigc: Vec<_> = meta2.iter().filter(|l| l.starts_with("AIGC=")).collect();
        assert_eq!(aigc, [&format!("AIGC={}", ffescape(JSON2))], "{name}");
        // And back: the same bytes as the first labelling.
        let out3 = dir.path().join(format!("{name}-3.mp4"));
        write(&Mp4, &out2, &out3, JSON);
        assert_eq!(std::fs::read(&out3).unwrap(), std::fs::read(&out1).unwrap());
    }
}

#[test]
fn mp4_label_written_by_ffmpeg_is_read_and_replaced() {
    let venv = venv();
    let ff = ffmpeg(&venv);
    let dir = tempfile::tempdir().unwrap();
    for (name, faststart) in [("fs", true), ("last", false)] {
        let src = dir.path().join(format!("ff-{name}.mp4"));
        let flags = if faststart {
            "use_metadata_tags+faststart"
        } else {
            "use_metadata_tags"
        };
        let tag = format!("AIGC={JSON}");
        make_mp4(
            &ff,
            &src,
            &[
                "-movflags",
                flags,
                "-metadata",
                &tag,
                "-metadata",
                "title=Clip",
            ],
        );
        let l = layout(&Mp4, &src);
        assert_eq!(primary(&l), [JSON], "{name}: {:?}", l.carriers);
        let frames = framemd5(&ff, &src);
        let out = dir.path().join(format!("ff-{name}-relabelled.mp4"));
        write(&Mp4, &src, &out, JSON2);
        assert_eq!(primary(&layout(&Mp4, &out)), [JSON2]);
        assert_eq!(essence(&Mp4, &src), essence(&Mp4, &out));
        assert_eq!(framemd5(&ff, &out), frames);
        let meta = ffmetadata(&ff, &out);
        let aigc: Vec<_> = meta.iter().filter(|l| l.starts_with("AIGC=")).collect();
        assert_eq!(aigc, [&format!("AIGC={}", ffescape(JSON2))], "{meta:?}");
        assert!(meta.contains(&"title=Clip".to_string()), "{meta:?}");
    }
}

/// Peak resident memory of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn mp4_memory_stays_flat_for_a_1_gib_file() {
    let venv = venv();
    let ff = ffmpeg(&venv);
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.mp4");
    make_mp4(&ff, &small, &["-movflags", "+faststart"]);
    // Grow the last box (mdat) by 1 GiB of zeros (a sparse file).
    let mut bytes = std::fs::read(&small).unwrap();
    let last = {
        let mut at = 0usize;
        let mut last = 0;
        while at < bytes.len() {
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            last = at;
            at += size;
        }
        last
    };
    assert_eq!(&bytes[last + 4..last + 8], b"mdat");
    let extra: u64 = 1 << 30;
    let old = u32::from_be_bytes(bytes[last..last + 4].try_into().unwrap());
    bytes[last..last + 4].copy_from_slice(&(old + extra as u32).to_be_bytes());
    let big = dir.path().join("big.mp4");
    std::fs::write(&big, &bytes).unwrap();
    File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(bytes.len() as u64 + extra)
        .unwrap();
    let before = peak_rss_kib();
    let l = layout(&Mp4, &big);
    let total: u64 = l.essence.iter().map(|r| r.end - r.start).sum();
    assert!(total > extra);
    let mut sink = CountingSink(0);
    Mp4.write(
        &mut File::open(&big).unwrap(),
        &mut sink,
        JSON,
        &Limits::default(),
    )
    .unwrap();
    assert!(sink.0 > bytes.len() as u64 + extra);
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "peak memory grew by {grown} KiB");
}

struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// PDF

const MAKE_PDF: &str = r#"
import sys, pikepdf
path, mode, info, label = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
pdf = pikepdf.new()
for i in range(3):
    pdf.add_blank_page(page_size=(200, 200))
    pdf.pages[-1].Contents = pdf.make_stream(f"0 0 m {50 + i * 10} {60 + i} l S".encode())
if info == "yes":
    pdf.docinfo["/Title"] = "A (title) with \\ and é"
    pdf.docinfo["/Author"] = "someone"
if label:
    pdf.docinfo["/AIGC"] = label
mode = {"classic": pikepdf.ObjectStreamMode.disable,
        "streams": pikepdf.ObjectStreamMode.generate}[mode]
pdf.save(path, object_stream_mode=mode)
"#;

const READ_PDF: &str = r#"
import sys, json, hashlib, warnings, pikepdf
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    pdf = pikepdf.open(sys.argv[1])
    info = pdf.docinfo
    out = {
        "aigc": str(info["/AIGC"]) if "/AIGC" in info else None,
        "info": {str(k): str(v) for k, v in info.items() if str(k) != "/AIGC"},
        "pages": len(pdf.pages),
        "contents": [hashlib.sha256(p.Contents.read_bytes()).hexdigest() for p in pdf.pages],
        "check": [str(x) for x in (getattr(pdf, "check_pdf_syntax", None) or pdf.check)()],
        "qpdf_warnings": [str(x) for x in pdf.get_warnings()],
    }
out["python_warnings"] = [str(w.message) for w in caught]
print(json.dumps(out))
"#;

fn make_pdf(venv: &Venv, path: &Path, mode: &str, info: bool, label: &str) {
    venv.run(&[
        "-c",
        MAKE_PDF,
        path.to_str().unwrap(),
        mode,
        if info { "yes" } else { "no" },
        label,
    ]);
}

fn read_pdf(venv: &Venv, path: &Path) -> serde_json::Value {
    serde_json::from_str(&venv.run(&["-c", READ_PDF, path.to_str().unwrap()])).unwrap()
}

fn assert_clean(v: &serde_json::Value, what: &str) {
    for k in ["check", "qpdf_warnings", "python_warnings"] {
        assert_eq!(v[k], serde_json::json!([]), "{what}: {k}: {v}");
    }
}

#[test]
fn pdf_labelled_files_open_in_pikepdf_with_the_same_pages() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    for mode in ["classic", "streams"] {
        for info in [true, false] {
            let what = format!("{mode}, info={info}");
            let src = dir.path().join(format!("{mode}-{info}.pdf"));
            make_pdf(&venv, &src, mode, info, "");
            let before = read_pdf(&venv, &src);
            assert_clean(&before, &what);
            let l0 = layout(&Pdf, &src);
            assert!(l0.carriers.is_empty(), "{what}");
            assert_eq!(l0.shape, "pages=3");

            let out1 = dir.path().join(format!("{mode}-{info}-1.pdf"));
            write(&Pdf, &src, &out1, JSON);
            let after = read_pdf(&venv, &out1);
            assert_clean(&after, &what);
            assert_eq!(after["aigc"], JSON, "{what}");
            for k in ["info", "pages", "contents"] {
                assert_eq!(after[k], before[k], "{what}: {k}");
            }
            let l1 = layout(&Pdf, &out1);
            assert_eq!(primary(&l1), [JSON], "{what}");
            assert_eq!(l1.shape, "pages=3");
            assert_eq!(essence(&Pdf, &src), essence(&Pdf, &out1), "{what}");
            // The original bytes are the start of the labelled file.
            let (a, b) = (std::fs::read(&src).unwrap(), std::fs::read(&out1).unwrap());
            assert_eq!(b[..a.len()], a[..], "{what}");

            // Relabel twice: the previous update is replaced, not stacked.
            let out2 = dir.path().join(format!("{mode}-{info}-2.pdf"));
            write(&Pdf, &out1, &out2, JSON2);
            let after2 = read_pdf(&venv, &out2);
            assert_clean(&after2, &what);
            assert_eq!(after2["aigc"], JSON2, "{what}");
            for k in ["info", "pages", "contents"] {
                assert_eq!(after2[k], before[k], "{what}: {k}");
            }
            assert_eq!(primary(&layout(&Pdf, &out2)), [JSON2]);
            assert_eq!(essence(&Pdf, &src), essence(&Pdf, &out2), "{what}");
            let out3 = dir.path().join(format!("{mode}-{info}-3.pdf"));
            write(&Pdf, &out2, &out3, JSON);
            assert_eq!(std::fs::read(&out3).unwrap(), b, "{what}");

            // A file pikepdf rewrites (no incremental update left) still carries the label.
            let resaved = dir.path().join(format!("{mode}-{info}-resaved.pdf"));
            venv.run(&[
                "-c",
                "import sys, pikepdf; pikepdf.open(sys.argv[1]).save(sys.argv[2])",
                out2.to_str().unwrap(),
                resaved.to_str().unwrap(),
            ]);
            assert_eq!(primary(&layout(&Pdf, &resaved)), [JSON2], "{what}");
        }
    }
}

#[test]
fn pdf_label_written_by_pikepdf_is_read_and_replaced() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    for mode in ["classic", "streams"] {
        for label in [JSON, JSON2] {
            let src = dir.path().join(format!("pk-{mode}-{}.pdf", label.len()));
            make_pdf(&venv, &src, mode, true, label);
            let l = layout(&Pdf, &src);
            assert_eq!(primary(&l), [label], "{mode}");
            let out = dir
                .path()
                .join(format!("pk-{mode}-{}-relabelled.pdf", label.len()));
            let other = if label == JSON { JSON2 } else { JSON };
            write(&Pdf, &src, &out, other);
            let v = read_pdf(&venv, &out);
            assert_clean(&v, mode);
            assert_eq!(v["aigc"], other);
            assert_eq!(v["info"]["/Author"], "someone");
            assert_eq!(primary(&layout(&Pdf, &out)), [other]);
            assert_eq!(essence(&Pdf, &src), essence(&Pdf, &out));
        }
    }
}
