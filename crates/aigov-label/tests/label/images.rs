//! Image containers against Pillow: files Pillow writes are labelled losslessly (Pillow decodes
//! the same pixels, every frame), Pillow sees the XMP packet with `TC260:AIGC`, and labels that
//! Pillow wrote in the alternative carriers (PNG `tEXt`, EXIF `UserComment`) are read.

use std::io::Cursor;
use std::path::Path;

use aigov_label::format::{self, Layout, Limits};
use aigov_testkit::Venv;
use serde_json::Value;

const PY: &str = r#"
import hashlib, io, json, sys
from PIL import Image, ImageSequence, PngImagePlugin

cmd, args = sys.argv[1], sys.argv[2:]

def gradient(mode, w, h):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(h) for x in range(w)])
    return im.convert(mode)

if cmd == "make":
    d, label = args
    g = gradient("RGB", 64, 48)
    g.save(f"{d}/rgb.png")
    gradient("RGBA", 33, 17).save(f"{d}/rgba.png")
    gradient("P", 40, 30).save(f"{d}/palette.png")
    gradient("I;16", 20, 10).save(f"{d}/grey16.png")
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/png"/></rdf:RDF></x:xmpmeta>')
    info.add_text("Comment", "kept")
    g.save(f"{d}/xmp.png", pnginfo=info)
    alt = PngImagePlugin.PngInfo()
    alt.add_text("AIGC", label)
    g.save(f"{d}/alt-text.png", pnginfo=alt)
    exif = Image.Exif()
    exif[0x0110] = "Camera"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + label.encode()
    g.save(f"{d}/exif.jpg", quality=90, exif=exif.tobytes())
    g.save(f"{d}/progressive.jpg", quality=80, progressive=True)
    gradient("L", 31, 9).save(f"{d}/grey.jpg")
    g.save(f"{d}/lossy.webp", quality=80)
    gradient("RGBA", 50, 20).save(f"{d}/lossless.webp", lossless=True)
    frames = [gradient("RGB", 24, 16).rotate(90 * i, expand=False) for i in range(3)]
    frames[0].save(f"{d}/anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"hello")
    gradient("P", 16, 16).save(f"{d}/still.gif")
    g.save(f"{d}/plain.tif")
    g.save(f"{d}/lzw.tif", compression="tiff_lzw")
    gradient("L", 30, 40).save(f"{d}/strips.tif", tiffinfo={278: 7})
elif cmd == "read":
    out = {}
    for p in args:
        im = Image.open(p)
        h = hashlib.sha256()
        n = 0
        for fr in ImageSequence.Iterator(im):
            h.update(fr.convert("RGBA").tobytes())
            n += 1
        im = Image.open(p)
        xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
        if xmp is None and hasattr(im, "tag_v2"):
            xmp = im.tag_v2.get(700)
        if isinstance(xmp, bytes):
            xmp = xmp.decode("utf-8", "replace")
        out[p] = {"pixels": h.hexdigest(), "frames": n, "size": list(im.size), "xmp": xmp,
                  "comment": (im.info.get("comment") or b"").decode("latin-1") if isinstance(im.info.get("comment"), bytes) else im.info.get("Comment")}
    print(json.dumps(out))
"#;

const LABEL: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"0011911000000000000000000X00001","ProduceID":"img-1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;
const LABEL2: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"0011911000000000000000000X00001","ProduceID":"img-1","ReservedCode1":"","ContentPropagator":"PLATFORM","PropagateID":"p-1","ReservedCode2":""}}"#;

fn venv() -> Venv {
    Venv::get("label", "bench/label/requirements.txt")
}

fn py(venv: &Venv, args: &[&str]) -> String {
    let mut all = vec!["-c", PY];
    all.extend_from_slice(args);
    venv.run(&all)
}

/// The XMP packet as ExifTool (Debian's libimage-exiftool-perl, installed by .ci/run) reads it.
pub fn exiftool_xmp(p: &Path) -> String {
    let out = std::process::Command::new("exiftool")
        .args(["-b", "-XMP"])
        .arg(p)
        .output()
        .unwrap_or_else(|e| {
            panic!("exiftool is needed (apt-get install libimage-exiftool-perl): {e}")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn layout(p: &Path) -> (&'static str, Layout) {
    let mut f = std::fs::File::open(p).unwrap();
    let fmt = format::detect(&mut f).unwrap();
    (fmt.name(), fmt.layout(&mut f, &Limits::default()).unwrap())
}

fn essence(p: &Path) -> Vec<u8> {
    let bytes = std::fs::read(p).unwrap();
    let (_, l) = layout(p);
    l.essence
        .iter()
        .flat_map(|r| bytes[r.start as usize..r.end as usize].to_vec())
        .collect()
}

fn label(src: &Path, dst: &Path, json: &str) {
    let input = std::fs::read(src).unwrap();
    let mut cur = Cursor::new(&input);
    let fmt = format::detect(&mut cur).unwrap();
    let mut out = Vec::new();
    fmt.write(&mut cur, &mut out, json, &Limits::default())
        .unwrap();
    std::fs::write(dst, out).unwrap();
}

#[test]
fn pillow_files_are_labelled_losslessly_and_pillow_reads_the_xmp() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    py(
        &venv,
        &[
            "make",
            d.to_str().unwrap(),
            r#"{"Label":"3","ContentProducer":"third-party"}"#,
        ],
    );
    let names = [
        ("rgb.png", "png"),
        ("rgba.png", "png"),
        ("palette.png", "png"),
        ("grey16.png", "png"),
        ("xmp.png", "png"),
        ("exif.jpg", "jpeg"),
        ("progressive.jpg", "jpeg"),
        ("grey.jpg", "jpeg"),
        ("lossy.webp", "webp"),
        ("lossless.webp", "webp"),
        ("anim.gif", "gif"),
        ("still.gif", "gif"),
        ("plain.tif", "tiff"),
        ("lzw.tif", "tiff"),
        ("strips.tif", "tiff"),
    ];
    let mut paths = Vec::new();
    for (name, fmt) in names {
        let src = d.join(name);
        let once = d.join(format!("once-{name}"));
        let twice = d.join(format!("twice-{name}"));
        assert_eq!(layout(&src).0, fmt, "{name} detected");
        label(&src, &once, LABEL);
        label(&once, &twice, LABEL2);
        assert_eq!(essence(&src), essence(&twice), "{name}: essence changed");
        let (_, l) = layout(&twice);
        let primary: Vec<_> = l.carriers.iter().filter(|c| c.primary).collect();
        assert_eq!(primary.len(), 1, "{name}: {:?}", l.carriers);
        assert_eq!(primary[0].text, LABEL2, "{name}");
        paths.push((name, src, twice));
    }
    let mut args = vec!["read".to_string()];
    for (_, a, b) in &paths {
        args.push(a.to_str().unwrap().into());
        args.push(b.to_str().unwrap().into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let read: Value = serde_json::from_str(&py(&venv, &args)).unwrap();
    for (name, a, b) in &paths {
        let before = &read[a.to_str().unwrap()];
        let after = &read[b.to_str().unwrap()];
        assert_eq!(before["pixels"], after["pixels"], "{name}: pixels differ");
        assert_eq!(before["frames"], after["frames"], "{name}");
        assert_eq!(before["size"], after["size"], "{name}");
        // Pillow reads XMP from every format here but GIF.
        if !name.ends_with(".gif") {
            let xmp = after["xmp"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: Pillow sees no XMP: {after}"));
            assert_eq!(
                aigov_label::xmp::find_aigc(xmp).as_deref(),
                Some(LABEL2),
                "{name}: {xmp}"
            );
        }
        // ExifTool reads it from all of them.
        let xmp = exiftool_xmp(b);
        assert_eq!(
            aigov_label::xmp::find_aigc(&xmp).as_deref(),
            Some(LABEL2),
            "{name}: exiftool read {xmp:?}"
        );
    }
    // Other XMP properties and text chunks survive.
    let xmp = read[paths[4].2.to_str().unwrap()]["xmp"].as_str().unwrap();
    assert!(xmp.contains(r#"dc:format="image/png""#), "{xmp}");
    assert_eq!(read[paths[4].2.to_str().unwrap()]["comment"], "kept");
    assert_eq!(read[paths[10].2.to_str().unwrap()]["comment"], "hello");
}

#[test]
fn alternative_carriers_written_by_pillow_are_read() {
    let venv = venv();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let alt = r#"{"Label":"3","ContentProducer":"third-party"}"#;
    py(&venv, &["make", d.to_str().unwrap(), alt]);
    for (name, kind) in [
        ("alt-text.png", "png:tEXt:AIGC"),
        ("exif.jpg", "jpeg:APP1:EXIF:UserComment"),
    ] {
        let (_, l) = layout(&d.join(name));
        assert_eq!(l.carriers.len(), 1, "{name}: {:?}", l.carriers);
        assert_eq!(l.carriers[0].kind, kind);
        assert!(!l.carriers[0].primary);
        assert_eq!(l.carriers[0].text, alt);
        // Labelling adds the primary carrier; the alternative one is left as it was.
        let out = d.join(format!("labelled-{name}"));
        label(&d.join(name), &out, LABEL);
        let (_, l) = layout(&out);
        assert_eq!(l.carriers.len(), 2, "{name}");
        assert!(l.carriers.iter().any(|c| c.primary && c.text == LABEL));
    }
}
