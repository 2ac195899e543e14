//! Audio adapters against files made and read by third-party tools (libsndfile through
//! soundfile, mutagen, Python's `wave`).

use std::fs::File;
use std::path::{Path, PathBuf};

use aigov_label::format::{Format, Layout, Limits};
use aigov_label::formats::{flac::Flac, mp3::Mp3, ogg::Ogg, wav::Wav};
use aigov_testkit::Venv;
use serde_json::Value;

const JSON_A: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"001191110000600037341L00001","ProduceID":"audio-1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;
const JSON_B: &str = r#"{"AIGC":{"Label":"2","ContentProducer":"生成服务","ProduceID":"audio-2 ✓","ReservedCode1":"3045022100ab","ContentPropagator":"平台","PropagateID":"p-9","ReservedCode2":""}}"#;

const PY: &str = r#"
import hashlib, json, struct, sys, wave
import numpy as np
import soundfile as sf

cmd, args = sys.argv[1], sys.argv[2:]

def sine(rate, frames, ch):
    t = np.arange(frames) / rate
    cols = [0.4 * np.sin(2 * np.pi * (440 + 220 * c) * t) for c in range(ch)]
    return np.stack(cols, 1)

def noisy(rate, frames, ch):
    rng = np.random.default_rng(7)
    return 0.6 * sine(rate, frames, ch) + 0.2 * rng.uniform(-1, 1, (frames, ch))

if cmd == "make":
    d = args[0]
    sf.write(f"{d}/pcm16.wav", sine(44100, 44100, 2), 44100, subtype="PCM_16")
    sf.write(f"{d}/float.wav", sine(48000, 48000, 1), 48000, subtype="FLOAT")
    sf.write(f"{d}/odd.wav", sine(22050, 1001, 1), 22050, subtype="PCM_U8")
    sf.write(f"{d}/rf64.wav", sine(44100, 4410, 2), 44100, format="RF64", subtype="PCM_16")
    sf.write(f"{d}/s.flac", sine(44100, 44100, 2), 44100, format="FLAC", subtype="PCM_16")
    sf.write(f"{d}/s.ogg", noisy(44100, 3 * 44100, 2), 44100, format="OGG", subtype="VORBIS")
    sf.write(f"{d}/s.opus", noisy(48000, 3 * 48000, 2), 48000, format="OGG", subtype="OPUS")
    sf.write(f"{d}/s.mp3", sine(44100, 44100, 2), 44100, format="MP3", subtype="MPEG_LAYER_III")
    sf.write(f"{d}/m48.mp3", sine(48000, 48000, 1), 48000, format="MP3", subtype="MPEG_LAYER_III")
elif cmd == "decode":
    data, rate = sf.read(args[0], dtype="float32", always_2d=True)
    print(json.dumps({"rate": rate, "channels": data.shape[1], "frames": data.shape[0],
                      "sha": hashlib.sha256(data.tobytes()).hexdigest()}))
elif cmd in ("get", "set"):
    kind, path = args[0], args[1]
    from mutagen.id3 import ID3, TXXX, TIT2
    if kind == "mp3":
        if cmd == "set":
            try:
                t = ID3(path)
            except Exception:
                t = ID3()
            t.add(TIT2(encoding=3, text=["mutagen title"]))
            t.add(TXXX(encoding=3, desc="AIGC", text=[args[2]]))
            t.save(path, v2_version=int(args[3]) if len(args) > 3 else 4)
        from mutagen.mp3 import MP3
        f = MP3(path)
        tags = f.tags
        out = {"aigc": [x.text[0] for x in tags.getall("TXXX:AIGC")] if tags else [],
               "title": [str(x) for x in tags.getall("TIT2")] if tags else [],
               "version": list(tags.version) if tags else None,
               "rate": f.info.sample_rate, "channels": f.info.channels}
    elif kind == "wav":
        from mutagen.wave import WAVE
        f = WAVE(path)
        if cmd == "set":
            if f.tags is None:
                f.add_tags()
            f.tags.add(TIT2(encoding=3, text=["mutagen title"]))
            f.tags.add(TXXX(encoding=3, desc="AIGC", text=[args[2]]))
            f.save()
            f = WAVE(path)
        tags = f.tags
        out = {"aigc": [x.text[0] for x in tags.getall("TXXX:AIGC")] if tags else [],
               "title": [str(x) for x in tags.getall("TIT2")] if tags else [],
               "rate": f.info.sample_rate, "channels": f.info.channels}
    else:
        from mutagen.flac import FLAC
        from mutagen.oggvorbis import OggVorbis
        from mutagen.oggopus import OggOpus
        cls = {"flac": FLAC, "vorbis": OggVorbis, "opus": OggOpus}[kind]
        f = cls(path)
        if cmd == "set":
            if f.tags is None:
                f.add_tags()
            f["title"] = ["mutagen title"]
            f["AIGC"] = [args[2]]
            f.save()
            f = cls(path)
        out = {"aigc": f.get("aigc", []), "title": f.get("title", []),
               "rate": getattr(f.info, "sample_rate", 48000), "channels": f.info.channels}
        if kind != "flac":
            out["vendor"] = f.tags.vendor
    print(json.dumps(out))
elif cmd == "ffmpeg":
    # Decode with ffmpeg, reporting any error, and read the metadata it sees.
    import re, subprocess, imageio_ffmpeg
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    dec = subprocess.run([exe, "-nostdin", "-v", "error", "-i", args[0], "-f", "null", "-"],
                         capture_output=True, text=True)
    # Ogg comments are stream metadata in ffmpeg: map them to the output's global metadata.
    mapping = ["-map_metadata", "0:s:a:0"] if open(args[0], "rb").read(4) == b"OggS" else []
    meta = subprocess.run([exe, "-nostdin", "-v", "error", "-i", args[0], *mapping,
                           "-f", "ffmetadata", "-"], capture_output=True, text=True)
    tags = {}
    for line in meta.stdout.splitlines():
        m = re.match(r"((?:[^=\\]|\\.)*)=(.*)$", line)
        if m and not line.startswith(";"):
            un = lambda s: re.sub(r"\\(.)", r"\1", s)
            tags.setdefault(un(m.group(1)).lower(), []).append(un(m.group(2)))
    print(json.dumps({"errors": dec.stderr + meta.stderr, "rc": dec.returncode, "tags": tags}))
elif cmd == "riff":
    path = args[0]
    b = open(path, "rb").read()
    chunks = []
    pos = 12
    riff_size = struct.unpack_from("<I", b, 4)[0]
    end = len(b) if b[:4] != b"RIFF" else 8 + riff_size
    while pos + 8 <= end:
        cid, size = b[pos:pos + 4].decode("latin-1"), struct.unpack_from("<I", b, pos + 4)[0]
        if b[:4] != b"RIFF" and cid == "data" and size == 0xFFFFFFFF:
            size = struct.unpack_from("<Q", b, 28)[0]
        chunks.append([cid, size, b[pos + 8:pos + 8 + size].decode("utf-8") if cid == "AIGC" else None])
        pos += 8 + size + (size & 1)
    out = {"magic": b[:4].decode(), "riff_size": riff_size, "file_size": len(b), "walk_end": pos,
           "chunks": chunks}
    if b[:4] == b"RIFF":
        try:
            with wave.open(path, "rb") as w:
                out["wave"] = [w.getframerate(), w.getnchannels(), w.getnframes()]
        except wave.Error as e:
            out["wave_error"] = str(e)
    else:
        out["ds64_riff_size"] = struct.unpack_from("<Q", b, 20)[0]
    info = sf.info(path)
    out["sf"] = [info.samplerate, info.channels, info.frames]
    print(json.dumps(out))
"#;

/// The Python helper: the virtualenv and the script (kept in a file so that failures print
/// short command lines).
struct Py {
    venv: Venv,
    script: tempfile::NamedTempFile,
}

impl Py {
    fn new() -> Py {
        let script = tempfile::Builder::new().suffix(".py").tempfile().unwrap();
        std::fs::write(script.path(), PY).unwrap();
        Py {
            venv: Venv::get("label", "bench/label/requirements.txt"),
            script,
        }
    }

    fn run(&self, args: &[&str]) -> Value {
        let mut all = vec![self.script.path().to_str().unwrap()];
        all.extend_from_slice(args);
        let out = self.venv.run(&all);
        if out.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(out.trim()).unwrap()
    }

    fn make(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        self.run(&["make", dir.path().to_str().unwrap()]);
        dir
    }

    fn decode(&self, p: &Path) -> Value {
        self.run(&["decode", p.to_str().unwrap()])
    }

    fn get(&self, kind: &str, p: &Path) -> Value {
        self.run(&["get", kind, p.to_str().unwrap()])
    }

    fn set(&self, kind: &str, p: &Path, json: &str, extra: &[&str]) -> Value {
        let mut a = vec!["set", kind, p.to_str().unwrap(), json];
        a.extend_from_slice(extra);
        self.run(&a)
    }

    /// ffmpeg decodes `p` without any error and sees `aigc` (when given) as its `AIGC` tag.
    fn ffmpeg(&self, p: &Path, aigc: Option<&str>) {
        let v = self.run(&["ffmpeg", p.to_str().unwrap()]);
        assert_eq!(v["rc"], 0, "{}: {v}", p.display());
        assert_eq!(v["errors"], "", "{}: {v}", p.display());
        if let Some(want) = aigc {
            assert_eq!(strs(&v["tags"]["aigc"]), vec![want], "{}: {v}", p.display());
        }
    }

    fn riff(&self, p: &Path) -> Value {
        self.run(&["riff", p.to_str().unwrap()])
    }
}

fn layout(f: &dyn Format, p: &Path) -> Layout {
    f.layout(&mut File::open(p).unwrap(), &Limits::default())
        .unwrap_or_else(|e| panic!("layout of {}: {e}", p.display()))
}

fn write(f: &dyn Format, src: &Path, dst: &Path, json: &str) {
    let mut out = File::create(dst).unwrap();
    f.write(
        &mut File::open(src).unwrap(),
        &mut out,
        json,
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("write of {}: {e}", src.display()));
}

fn essence(p: &Path, l: &Layout) -> Vec<u8> {
    let b = std::fs::read(p).unwrap();
    let mut out = Vec::new();
    let mut last = 0;
    for r in &l.essence {
        assert!(
            r.start >= last && r.start < r.end && r.end <= b.len() as u64,
            "{r:?}"
        );
        last = r.end;
        out.extend_from_slice(&b[r.start as usize..r.end as usize]);
    }
    out
}

fn primaries(l: &Layout) -> Vec<&str> {
    l.carriers
        .iter()
        .filter(|c| c.primary)
        .map(|c| c.text.as_str())
        .collect()
}

fn detected(f: &dyn Format, p: &Path) -> bool {
    let b = std::fs::read(p).unwrap();
    f.detect(&b[..b.len().min(64)])
}

/// Walks the Ogg pages of `p`: checks that sequence numbers count up from 0 and returns how
/// many pages there are.
fn ogg_pages(p: &Path) -> usize {
    let b = std::fs::read(p).unwrap();
    let mut pos = 0;
    let mut n = 0u32;
    while pos < b.len() {
        assert_eq!(&b[pos..pos + 4], b"OggS");
        let seq = u32::from_le_bytes(b[pos + 18..pos + 22].try_into().unwrap());
        assert_eq!(seq, n, "{}: page at {pos}", p.display());
        let segs = usize::from(b[pos + 26]);
        let body: usize = b[pos + 27..pos + 27 + segs]
            .iter()
            .map(|&x| usize::from(x))
            .sum();
        pos += 27 + segs + body;
        n += 1;
    }
    n as usize
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Labels `name` twice and checks essence, carriers and decoded samples; returns the paths of
/// the once- and twice-labelled files.
fn label_twice(py: &Py, f: &dyn Format, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let src = dir.join(name);
    assert!(detected(f, &src), "{name} not detected as {}", f.name());
    let l0 = layout(f, &src);
    let e0 = essence(&src, &l0);
    assert!(!e0.is_empty());
    let d0 = py.decode(&src);

    let once = dir.join(format!("once-{name}"));
    write(f, &src, &once, JSON_A);
    assert!(detected(f, &once));
    let l1 = layout(f, &once);
    assert_eq!(primaries(&l1), vec![JSON_A], "{name}");
    assert_eq!(
        essence(&once, &l1),
        e0,
        "{name}: essence changed by labelling"
    );
    assert_eq!(l1.shape, l0.shape);
    assert_eq!(py.decode(&once), d0, "{name}: decoded samples changed");

    let twice = dir.join(format!("twice-{name}"));
    write(f, &once, &twice, JSON_B);
    let l2 = layout(f, &twice);
    assert_eq!(primaries(&l2), vec![JSON_B], "{name}");
    assert_eq!(
        l2.carriers.len(),
        l0.carriers.len() + 1,
        "{name}: {:?}",
        l2.carriers
    );
    assert_eq!(
        essence(&twice, &l2),
        e0,
        "{name}: essence changed by relabelling"
    );
    assert_eq!(py.decode(&twice), d0, "{name}: decoded samples changed");
    // ffmpeg reads the label from ID3 TXXX and Vorbis comments, not from a WAV chunk.
    let ff_label = (f.name() != "wav").then_some(JSON_B);
    py.ffmpeg(&twice, ff_label);
    (once, twice)
}

#[test]
fn wav_files_from_libsndfile() {
    let py = Py::new();
    let dir = py.make();
    for (name, shape) in [
        ("pcm16.wav", "44100Hz/2ch/44100"),
        ("float.wav", "48000Hz/1ch/48000"),
        ("odd.wav", "22050Hz/1ch/1001"),
        ("rf64.wav", "44100Hz/2ch/4410"),
    ] {
        let src = dir.path().join(name);
        assert_eq!(layout(&Wav, &src).shape, shape);
        let before = py.riff(&src);
        let (once, twice) = label_twice(&py, &Wav, dir.path(), name);
        for (p, json) in [(&once, JSON_A), (&twice, JSON_B)] {
            let r = py.riff(p);
            assert_eq!(r["walk_end"], r["file_size"], "{name}: {r}");
            if r["magic"] == "RIFF" {
                assert_eq!(
                    r["riff_size"].as_u64().unwrap() + 8,
                    r["file_size"].as_u64().unwrap()
                );
            } else {
                assert_eq!(
                    r["ds64_riff_size"].as_u64().unwrap() + 8,
                    r["file_size"].as_u64().unwrap()
                );
            }
            let aigc: Vec<_> = r["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c[0] == "AIGC")
                .collect();
            assert_eq!(aigc.len(), 1, "{name}: {r}");
            assert_eq!(aigc[0][2], json);
            // Other chunks unchanged, in order, AIGC appended.
            let ids = |v: &Value| -> Vec<String> {
                v["chunks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c[0].as_str().unwrap().to_string())
                    .filter(|c| c != "AIGC")
                    .collect()
            };
            assert_eq!(ids(&r), ids(&before));
            assert_eq!(r["sf"], before["sf"]);
            assert_eq!(r["wave"], before["wave"]);
            assert!(r.get("wave_error").is_none() || before.get("wave_error").is_some());
        }
        if name == "pcm16.wav" {
            assert_eq!(py.riff(&once)["wave"], serde_json::json!([44100, 2, 44100]));
            // mutagen's RIFF parser accepts the file.
            py.get("wav", &twice);
        }
    }
}

#[test]
fn wav_id3_chunk_written_by_mutagen() {
    let py = Py::new();
    let dir = py.make();
    let src = dir.path().join("pcm16.wav");
    let e0 = essence(&src, &layout(&Wav, &src));
    let tagged = dir.path().join("mutagen.wav");
    std::fs::copy(&src, &tagged).unwrap();
    let m = py.set("wav", &tagged, JSON_B, &[]);
    assert_eq!(strs(&m["aigc"]), vec![JSON_B]);
    let l = layout(&Wav, &tagged);
    assert_eq!(l.carriers.len(), 1);
    assert_eq!(l.carriers[0].kind, "wav:id3:TXXX:AIGC");
    assert!(!l.carriers[0].primary);
    assert_eq!(l.carriers[0].text, JSON_B);
    assert_eq!(
        essence(&tagged, &l),
        e0,
        "mutagen's id3 chunk is in the essence"
    );
    // Our label goes next to it; mutagen still reads its tags.
    let out = dir.path().join("both.wav");
    write(&Wav, &tagged, &out, JSON_A);
    let l = layout(&Wav, &out);
    assert_eq!(primaries(&l), vec![JSON_A]);
    assert_eq!(l.carriers.len(), 2);
    assert_eq!(essence(&out, &l), e0);
    let m = py.get("wav", &out);
    assert_eq!(strs(&m["title"]), vec!["mutagen title"]);
    assert_eq!(strs(&m["aigc"]), vec![JSON_B]);
    assert_eq!(py.decode(&out), py.decode(&src));
}

#[test]
fn flac_files_from_libsndfile() {
    let py = Py::new();
    let dir = py.make();
    let src = dir.path().join("s.flac");
    assert_eq!(layout(&Flac, &src).shape, "44100Hz/2ch/44100");
    let (once, twice) = label_twice(&py, &Flac, dir.path(), "s.flac");
    assert_eq!(strs(&py.get("flac", &once)["aigc"]), vec![JSON_A]);
    let m = py.get("flac", &twice);
    assert_eq!(strs(&m["aigc"]), vec![JSON_B]);
    assert_eq!(m["rate"], 44100);

    // A file tagged by mutagen: we read its AIGC comment, keep its other comments.
    let tagged = dir.path().join("mutagen.flac");
    std::fs::copy(&src, &tagged).unwrap();
    py.set("flac", &tagged, JSON_B, &[]);
    let e0 = essence(&src, &layout(&Flac, &src));
    let l = layout(&Flac, &tagged);
    assert_eq!(primaries(&l), vec![JSON_B]);
    assert_eq!(
        essence(&tagged, &l),
        e0,
        "mutagen's tagging changed the essence"
    );
    let out = dir.path().join("relabelled.flac");
    write(&Flac, &tagged, &out, JSON_A);
    let l = layout(&Flac, &out);
    assert_eq!(primaries(&l), vec![JSON_A]);
    assert_eq!(l.carriers.len(), 1);
    assert_eq!(essence(&out, &l), e0);
    let m = py.get("flac", &out);
    assert_eq!(strs(&m["aigc"]), vec![JSON_A]);
    assert_eq!(strs(&m["title"]), vec!["mutagen title"]);
    assert_eq!(py.decode(&out), py.decode(&src));
}

#[test]
fn ogg_vorbis_and_opus_from_libsndfile() {
    let py = Py::new();
    let dir = py.make();
    for (name, kind, shape) in [
        ("s.ogg", "vorbis", "44100Hz/2ch"),
        ("s.opus", "opus", "48000Hz/2ch"),
    ] {
        let src = dir.path().join(name);
        assert_eq!(layout(&Ogg, &src).shape, shape);
        let vendor = py.get(kind, &src)["vendor"].clone();
        let pages = ogg_pages(&src);
        assert!(pages >= 8, "{name}: only {pages} pages");
        let (once, twice) = label_twice(&py, &Ogg, dir.path(), name);
        assert!(ogg_pages(&once) >= pages - 1);
        ogg_pages(&twice);
        let m = py.get(kind, &once);
        assert_eq!(strs(&m["aigc"]), vec![JSON_A], "{name}");
        let m = py.get(kind, &twice);
        assert_eq!(strs(&m["aigc"]), vec![JSON_B], "{name}");
        assert_eq!(m["vendor"], vendor);

        // Tagged by mutagen (which repaginates the headers itself).
        let tagged = dir.path().join(format!("mutagen-{name}"));
        std::fs::copy(&src, &tagged).unwrap();
        py.set(kind, &tagged, JSON_B, &[]);
        let e0 = essence(&src, &layout(&Ogg, &src));
        let l = layout(&Ogg, &tagged);
        assert_eq!(primaries(&l), vec![JSON_B], "{name}");
        assert_eq!(
            essence(&tagged, &l),
            e0,
            "{name}: mutagen's tagging changed the essence"
        );
        let out = dir.path().join(format!("relabelled-{name}"));
        write(&Ogg, &tagged, &out, JSON_A);
        ogg_pages(&out);
        let l = layout(&Ogg, &out);
        assert_eq!(primaries(&l), vec![JSON_A]);
        assert_eq!(l.carriers.len(), 1);
        assert_eq!(essence(&out, &l), e0);
        let m = py.get(kind, &out);
        assert_eq!(strs(&m["aigc"]), vec![JSON_A]);
        assert_eq!(strs(&m["title"]), vec!["mutagen title"]);
        assert_eq!(py.decode(&out), py.decode(&src), "{name}");
    }
}

#[test]
fn ogg_large_label_spans_pages() {
    let py = Py::new();
    let dir = py.make();
    let src = dir.path().join("s.ogg");
    let big = format!(
        r#"{{"AIGC":{{"Label":"1","ContentProducer":"p","ProduceID":"x","ReservedCode1":"{}","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}}}"#,
        "0a".repeat(70_000)
    );
    let out = dir.path().join("big.ogg");
    write(&Ogg, &src, &out, &big);
    let l = layout(&Ogg, &out);
    assert_eq!(primaries(&l), vec![big.as_str()]);
    assert_eq!(essence(&out, &l), essence(&src, &layout(&Ogg, &src)));
    assert_eq!(strs(&py.get("vorbis", &out)["aigc"]), vec![big.clone()]);
    assert_eq!(py.decode(&out), py.decode(&src));
}

#[test]
fn mp3_files_from_libsndfile() {
    let py = Py::new();
    let dir = py.make();
    for (name, shape) in [("s.mp3", "44100Hz/2ch"), ("m48.mp3", "48000Hz/1ch")] {
        let src = dir.path().join(name);
        assert_eq!(layout(&Mp3, &src).shape, shape);
        let (once, twice) = label_twice(&py, &Mp3, dir.path(), name);
        let m = py.get("mp3", &once);
        assert_eq!(strs(&m["aigc"]), vec![JSON_A]);
        assert_eq!(m["version"], serde_json::json!([2, 4, 0]));
        let m = py.get("mp3", &twice);
        assert_eq!(strs(&m["aigc"]), vec![JSON_B]);
        let rate: u64 = shape.split("Hz").next().unwrap().parse().unwrap();
        assert_eq!(m["rate"], rate);
    }
}

#[test]
fn mp3_tagged_by_mutagen_v23_and_v24() {
    let py = Py::new();
    let dir = py.make();
    let src = dir.path().join("s.mp3");
    let e0 = essence(&src, &layout(&Mp3, &src));
    let d0 = py.decode(&src);
    for version in ["3", "4"] {
        let tagged = dir.path().join(format!("mutagen-v2{version}.mp3"));
        std::fs::copy(&src, &tagged).unwrap();
        let m = py.set("mp3", &tagged, JSON_B, &[version]);
        assert_eq!(m["version"][1].to_string(), version);
        let l = layout(&Mp3, &tagged);
        assert_eq!(primaries(&l), vec![JSON_B], "v2.{version}");
        assert_eq!(
            essence(&tagged, &l),
            e0,
            "v2.{version}: mutagen's tag is in the essence"
        );
        for (i, json) in [JSON_A, JSON_B].into_iter().enumerate() {
            let out = dir.path().join(format!("relabelled{i}-v2{version}.mp3"));
            write(&Mp3, &tagged, &out, json);
            let l = layout(&Mp3, &out);
            assert_eq!(primaries(&l), vec![json]);
            assert_eq!(l.carriers.len(), 1);
            assert_eq!(essence(&out, &l), e0);
            let m = py.get("mp3", &out);
            assert_eq!(strs(&m["aigc"]), vec![json], "v2.{version}");
            assert_eq!(strs(&m["title"]), vec!["mutagen title"]);
            assert_eq!(m["version"][1].to_string(), version, "tag version kept");
            assert_eq!(py.decode(&out), d0);
        }
    }
}

#[test]
fn truncated_real_files_never_panic() {
    let py = Py::new();
    let dir = py.make();
    let cases: [(&dyn Format, &str); 5] = [
        (&Wav, "odd.wav"),
        (&Flac, "s.flac"),
        (&Ogg, "s.opus"),
        (&Ogg, "s.ogg"),
        (&Mp3, "s.mp3"),
    ];
    for (f, name) in cases {
        let labelled = dir.path().join(format!("l-{name}"));
        write(f, &dir.path().join(name), &labelled, JSON_A);
        let b = std::fs::read(&labelled).unwrap();
        let step = (b.len() / 300).max(1);
        let mut errs = 0;
        for n in (0..b.len()).step_by(step).chain(0..200.min(b.len())) {
            let r = f.layout(&mut std::io::Cursor::new(&b[..n]), &Limits::default());
            if r.is_err() {
                errs += 1;
            }
            let mut out = Vec::new();
            let _ = f.write(
                &mut std::io::Cursor::new(&b[..n]),
                &mut out,
                JSON_B,
                &Limits::default(),
            );
        }
        assert!(errs > 0, "{name}");
    }
}
