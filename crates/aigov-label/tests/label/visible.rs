//! Explicit labels end to end: text notices, notices drawn on images of every supported format
//! (measured on the decoded result), and the audio tone cue (found again with a Goertzel
//! detector).
//!
//! The image tests need a CJK font at one of `Font::default_paths()` (Debian:
//! `fonts-wqy-microhei`).

use std::io::Cursor;

use aigov_label::Error;
use aigov_label::format::{Format, Limits};
use aigov_label::formats::flac::Flac;
use aigov_label::formats::text::Text;
use aigov_label::formats::wav::Wav;
use aigov_label::visible::audio::{ToneCue, add_cue, add_cue_flac};
use aigov_label::visible::image::{Corner, Font, ImageKind, ImageNotice, Placement, overlay};
use aigov_label::visible::text::{Notice, Position, Wording, add_notice, find_notice};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

// ---------------------------------------------------------------------------------------------
// Text

fn text_notice(input: &str, notice: &Notice) -> String {
    let mut out = Vec::new();
    add_notice(
        &mut Cursor::new(input.as_bytes()),
        &mut out,
        notice,
        &Limits::default(),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn has_notice(s: &str) -> bool {
    find_notice(&mut Cursor::new(s.as_bytes()), &Limits::default()).unwrap()
}

#[test]
fn text_round_trip_with_front_matter_and_label() {
    let md = "---\r\ntitle: 报告\r\n---\r\n# 标题\r\n\r\n正文。\r\n";
    assert!(!has_notice(md));
    let both = Notice {
        wording: Wording::Both,
        position: Position::Both,
    };
    let once = text_notice(md, &both);
    assert_eq!(
        once,
        "---\r\ntitle: 报告\r\n---\r\nAI生成 / AI-generated\r\n\r\n# 标题\r\n\r\n正文。\r\n\
         \r\nAI生成 / AI-generated\r\n"
    );
    assert!(has_notice(&once));
    assert_eq!(text_notice(&once, &both), once);

    // The implicit label goes into the front matter; the notice stays right after it.
    let mut labelled = Vec::new();
    Text.write(
        &mut Cursor::new(once.as_bytes()),
        &mut labelled,
        r#"{"AIGC":{"Label":"1"}}"#,
        &Limits::default(),
    )
    .unwrap();
    let labelled = String::from_utf8(labelled).unwrap();
    assert!(
        labelled.contains("AIGC: '{\"AIGC\":{\"Label\":\"1\"}}'\r\n---\r\nAI生成 / AI-generated"),
        "{labelled}"
    );
    assert!(has_notice(&labelled));
    assert_eq!(text_notice(&labelled, &both), labelled);
}

#[test]
fn text_round_trip_without_front_matter() {
    let plain = "第一段。\n\n第二段。";
    let start = Notice {
        wording: Wording::Chinese,
        position: Position::Start,
    };
    let end = Notice {
        wording: Wording::English,
        position: Position::End,
    };
    let s = text_notice(plain, &start);
    assert_eq!(s, "AI生成\n\n第一段。\n\n第二段。");
    let e = text_notice(&s, &end);
    assert_eq!(e, "AI生成\n\n第一段。\n\n第二段。\n\nAI-generated\n");
    assert_eq!(text_notice(&e, &start), e);
    assert_eq!(text_notice(&e, &end), e);
    assert!(has_notice(&e));
    assert!(!has_notice(plain));
    // The notice is recognised after a label is added in front.
    let mut labelled = Vec::new();
    Text.write(
        &mut Cursor::new(e.as_bytes()),
        &mut labelled,
        "{}",
        &Limits::default(),
    )
    .unwrap();
    assert!(has_notice(std::str::from_utf8(&labelled).unwrap()));
}

#[test]
fn text_custom_wording_must_name_ai_and_generation() {
    let ok = Notice {
        wording: Wording::Custom("本文由人工智能合成".into()),
        position: Position::End,
    };
    assert_eq!(text_notice("x", &ok), "x\n\n本文由人工智能合成\n");
    let bad = Notice {
        wording: Wording::Custom("Written by a model".into()),
        position: Position::Start,
    };
    let r = add_notice(
        &mut Cursor::new(&b"x"[..]),
        &mut Vec::new(),
        &bad,
        &Limits::default(),
    );
    match r {
        Err(Error::Label(m)) => assert!(m.contains("人工智能") && m.contains("合成"), "{m}"),
        r => panic!("{r:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Images

fn font() -> Font {
    Font::find_default().unwrap_or_else(|e| {
        panic!("the image tests need a CJK font (apt-get install fonts-wqy-microhei): {e}")
    })
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / (w - 1)) as u8,
            (y * 255 / (h - 1)) as u8,
            ((x + y) * 127 / (w + h)) as u8 + 64,
        ])
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    if format == ImageFormat::Gif {
        // The default encoder quantises at speed 1, slow in a debug build.
        let mut out = Vec::new();
        image::codecs::gif::GifEncoder::new_with_speed(&mut out, 10)
            .encode_frame(image::Frame::new(img.to_rgba8()))
            .unwrap();
        return out;
    }
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn draw(
    input: &[u8],
    media_type: Option<&str>,
    notice: &ImageNotice,
) -> aigov_label::Result<Vec<u8>> {
    let mut out = Vec::new();
    overlay(
        &mut Cursor::new(input),
        &mut out,
        media_type,
        notice,
        &font(),
    )?;
    Ok(out)
}

fn luma(p: &Rgba<u8>) -> u32 {
    (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000
}

struct Measured {
    /// Bounding box (x0, y0, x1, y1), inclusive, of the pixels that changed.
    changed: (u32, u32, u32, u32),
    /// Rows from the first to the last that hold text-coloured pixels inside that box.
    ink_height: u32,
    /// Rows that hold text-coloured pixels inside that box.
    ink_rows: Vec<u32>,
}

/// Compares the decoded result with the original: where it changed, and how tall the white
/// text is.
fn measure(before: &RgbaImage, after: &RgbaImage, tolerance: i32) -> Measured {
    assert_eq!(before.dimensions(), after.dimensions());
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in after.enumerate_pixels() {
        let q = before.get_pixel(x, y);
        let d = (0..4)
            .map(|i| (i32::from(p[i]) - i32::from(q[i])).abs())
            .max()
            .unwrap();
        if d > tolerance {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    assert!(x0 <= x1, "nothing changed");
    let ink_rows: Vec<u32> = (y0..=y1)
        .filter(|&y| (x0..=x1).any(|x| luma(after.get_pixel(x, y)) >= 200))
        .collect();
    let ink_height = ink_rows.last().unwrap() - ink_rows[0] + 1;
    Measured {
        changed: (x0, y0, x1, y1),
        ink_height,
        ink_rows,
    }
}

fn first_frame(bytes: &[u8]) -> RgbaImage {
    image::load_from_memory(bytes).unwrap().to_rgba8()
}

#[test]
fn notice_on_every_format_is_tall_enough_and_local() {
    let font = font();
    let notice = ImageNotice::default();
    for (w, h) in [(640, 360), (300, 900)] {
        let src = DynamicImage::ImageRgb8(gradient(w, h));
        for (format, lossless) in [
            (ImageFormat::Png, true),
            (ImageFormat::Jpeg, false),
            (ImageFormat::WebP, true),
            (ImageFormat::Gif, true),
            (ImageFormat::Tiff, true),
        ] {
            let what = format!("{format:?} {w}x{h}");
            let input = encode(&src, format);
            let before = first_frame(&input);
            let out = draw(&input, None, &notice).unwrap();
            assert_eq!(image::guess_format(&out).unwrap(), format, "{what}");
            let after = first_frame(&out);
            assert_eq!(after.dimensions(), (w, h), "{what}");

            let m = measure(&before, &after, if lossless { 0 } else { 40 });
            let short = w.min(h);
            assert!(
                m.ink_height as f32 >= 0.05 * short as f32,
                "{what}: ink {} px < 5% of {short}",
                m.ink_height
            );
            // Where the library says it drew.
            let p = notice.placement(&font, w, h).unwrap();
            assert!(p.text_height >= p.required_height, "{what}: {p:?}");
            assert_eq!(p.lines.len(), 1, "{what}: {p:?}");
            let (x0, y0, x1, y1) = m.changed;
            let slack = if lossless { 0 } else { 8 };
            assert!(
                x0 + slack >= p.x
                    && y0 + slack >= p.y
                    && x1 <= p.x + p.width + slack
                    && y1 <= p.y + p.height + slack,
                "{what}: changed {:?} outside the box {p:?}",
                m.changed
            );
            // Bottom right, inside the image with a margin.
            assert!(
                x1 < w - 1 && y1 < h - 1 && x0 > w / 3 && y0 > h / 2,
                "{what}"
            );
            if lossless {
                assert_eq!((x0, y0), (p.x, p.y), "{what}");
                assert_eq!((x1 + 1, y1 + 1), (p.x + p.width, p.y + p.height), "{what}");
                for (x, y, q) in before.enumerate_pixels() {
                    if x < x0 || x > x1 || y < y0 || y > y1 {
                        assert_eq!(after.get_pixel(x, y), q, "{what} at {x},{y}");
                    }
                }
            } else {
                // Far from the notice, JPEG only re-quantises.
                let far: Vec<i32> = before
                    .enumerate_pixels()
                    .filter(|(x, y, _)| *x + 40 < x0 && *y + 40 < y0)
                    .map(|(x, y, q)| (i32::from(after.get_pixel(x, y)[1]) - i32::from(q[1])).abs())
                    .collect();
                let mean = far.iter().sum::<i32>() as f32 / far.len() as f32;
                assert!(mean < 2.0, "{what}: mean difference {mean}");
            }
        }
    }
}

#[test]
fn every_corner_and_wrapping() {
    let font = font();
    let input = encode(
        &DynamicImage::ImageRgb8(gradient(400, 300)),
        ImageFormat::Png,
    );
    let before = first_frame(&input);
    for corner in [
        Corner::TopLeft,
        Corner::TopRight,
        Corner::BottomLeft,
        Corner::BottomRight,
        Corner::TopCenter,
        Corner::BottomCenter,
    ] {
        let notice = ImageNotice {
            position: corner,
            ..ImageNotice::default()
        };
        let after = first_frame(&draw(&input, Some("image/png"), &notice).unwrap());
        let (x0, y0, x1, y1) = measure(&before, &after, 0).changed;
        let (cx, cy) = ((x0 + x1) / 2, (y0 + y1) / 2);
        let (left, top) = (cx < 200, cy < 150);
        match corner {
            Corner::TopLeft => assert!(left && top),
            Corner::TopRight => assert!(!left && top),
            Corner::BottomLeft => assert!(left && !top),
            Corner::BottomRight => assert!(!left && !top),
            Corner::TopCenter => assert!(top && cx.abs_diff(200) <= 1),
            Corner::BottomCenter => assert!(!top && cx.abs_diff(200) <= 1),
        }
    }
    // A narrow image: the text wraps, still at full height.
    let narrow = encode(
        &DynamicImage::ImageRgb8(gradient(150, 600)),
        ImageFormat::Png,
    );
    let notice = ImageNotice::default();
    let p = notice.placement(&font, 150, 600).unwrap();
    assert!(p.lines.len() >= 2, "{p:?}");
    assert!(p.text_height >= 12.0 && p.width <= 150);
    let after = first_frame(&draw(&narrow, None, &notice).unwrap());
    let m = measure(&first_frame(&narrow), &after, 0);
    assert!(m.ink_height as f32 >= 2.0 * 12.0, "{}", m.ink_height);
    // Some rows between the lines hold no text.
    let gaps = m.ink_rows.windows(2).filter(|w| w[1] > w[0] + 1).count();
    assert!(gaps >= 1);
}

#[test]
fn chinese_glyphs_are_really_drawn() {
    let font = font();
    let input = encode(
        &DynamicImage::ImageRgb8(gradient(640, 360)),
        ImageFormat::Png,
    );
    let before = first_frame(&input);
    let render = |text: &str| {
        let notice = ImageNotice {
            text: text.into(),
            position: Corner::BottomLeft,
            ..ImageNotice::default()
        };
        let p = notice.placement(&font, 640, 360).unwrap();
        (first_frame(&draw(&input, None, &notice).unwrap()), p)
    };
    let (a, _) = render("AI生成");
    let m = measure(&before, &a, 0);
    let (x0, y0, x1, y1) = m.changed;
    // Columns with white text, left to right: "AI" then the two ideographs.
    let ink_cols: Vec<u32> = (x0..=x1)
        .filter(|&x| (y0..=y1).any(|y| luma(a.get_pixel(x, y)) >= 200))
        .collect();
    let (first, last) = (ink_cols[0], *ink_cols.last().unwrap());
    let span = last - first;
    // "AI" takes about the first 30% of the text's width, 生成 the rest: from 40% on there
    // is ink on many rows and columns.
    let from = first + span * 40 / 100;
    let region: Vec<(u32, u32)> = (from..=last)
        .flat_map(|x| (y0..=y1).map(move |y| (x, y)))
        .filter(|&(x, y)| luma(a.get_pixel(x, y)) >= 200)
        .collect();
    let rows: std::collections::BTreeSet<u32> = region.iter().map(|p| p.1).collect();
    let cols: std::collections::BTreeSet<u32> = region.iter().map(|p| p.0).collect();
    assert!(region.len() > 100, "{} ink pixels under 生成", region.len());
    assert!(
        rows.len() as f32 >= 0.8 * m.ink_height as f32,
        "{}",
        rows.len()
    );
    assert!(cols.len() > 20);

    // The same glyphs in another order: 生成合成 and 合成生成 have the same box, "AI" and both
    // 成 are drawn identically, and 生 and 合 differ (missing-glyph boxes would not).
    let (c, pc) = render("AI生成合成");
    let (d, pd) = render("AI合成生成");
    assert_eq!(
        pc,
        Placement {
            lines: pc.lines.clone(),
            ..pd.clone()
        }
    );
    let m = measure(&before, &c, 0);
    let (x0, y0, x1, y1) = m.changed;
    let ink_cols: Vec<u32> = (x0..=x1)
        .filter(|&x| (y0..=y1).any(|y| luma(c.get_pixel(x, y)) >= 200))
        .collect();
    let (first, last) = (ink_cols[0], *ink_cols.last().unwrap());
    let span = last - first;
    let diff: Vec<u32> = (x0..=x1)
        .filter(|&x| (y0..=y1).any(|y| c.get_pixel(x, y) != d.get_pixel(x, y)))
        .collect();
    assert!(diff.len() > 20, "{diff:?}");
    // Not under "AI" (about the first sixth), nor under the last 成.
    assert!(diff[0] > first + span / 10, "{} vs {first}+{span}", diff[0]);
    assert!(*diff.last().unwrap() < last - span / 8, "{diff:?}");
    // Two separate runs of columns (生/合, then 合/生), with the first 成 between them.
    let breaks = diff.windows(2).filter(|w| w[1] > w[0] + 1).count();
    assert!(breaks >= 1, "{diff:?}");
}

#[test]
fn missing_glyph_is_named() {
    let input = encode(
        &DynamicImage::ImageRgb8(gradient(640, 360)),
        ImageFormat::Png,
    );
    let notice = ImageNotice {
        text: "AI生成 \u{13000}".into(),
        ..ImageNotice::default()
    };
    match draw(&input, None, &notice) {
        Err(Error::Render(m)) => assert!(m.contains("'\u{13000}' (U+13000)"), "{m}"),
        r => panic!("{:?}", r.map(|v| v.len())),
    }
}

#[test]
fn refusals() {
    let font = font();
    // Too small for legible text.
    let tiny = encode(&DynamicImage::ImageRgb8(gradient(20, 20)), ImageFormat::Png);
    match draw(&tiny, None, &ImageNotice::default()) {
        Err(Error::Render(m)) => assert!(m.contains("too small"), "{m}"),
        r => panic!("{:?}", r.map(|v| v.len())),
    }
    // Above the pixel bound, from the header alone: a PNG that claims 100000×100000.
    let png_chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend(kind);
        c.extend(data);
        let mut crc = flate2::Crc::new();
        crc.update(&c[4..]);
        c.extend(crc.sum().to_be_bytes());
        c
    };
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01"));
    png.extend(png_chunk(b"IEND", b""));
    match draw(&png, None, &ImageNotice::default()) {
        Err(Error::Render(m)) => assert!(m.contains("10000.0 megapixels"), "{m}"),
        r => panic!("{:?}", r.map(|v| v.len())),
    }
    let small_limit = ImageNotice {
        max_pixels: 10_000,
        ..ImageNotice::default()
    };
    let input = encode(
        &DynamicImage::ImageRgb8(gradient(640, 360)),
        ImageFormat::Gif,
    );
    assert!(matches!(
        draw(&input, None, &small_limit),
        Err(Error::Render(_))
    ));
    // Wording.
    let bad = ImageNotice {
        text: "Made by a model".into(),
        ..ImageNotice::default()
    };
    assert!(matches!(draw(&input, None, &bad), Err(Error::Label(_))));
    // Formats.
    assert!(matches!(
        draw(&input, Some("image/avif"), &ImageNotice::default()),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        draw(b"BM not an image", None, &ImageNotice::default()),
        Err(Error::Unsupported(_))
    ));
    assert_eq!(
        ImageKind::from_media_type("image/webp"),
        Some(ImageKind::WebP)
    );
    // A truncated image is malformed, not a panic.
    let good = encode(&DynamicImage::ImageRgb8(gradient(64, 64)), ImageFormat::Png);
    for n in [8, 30, good.len() / 2] {
        assert!(draw(&good[..n], None, &ImageNotice::default()).is_err());
    }
    // A font file that is not a font.
    let r = Font::from_path("/etc/hostname");
    assert!(matches!(r, Err(Error::Render(_))));
    drop(font);
}

#[test]
fn colour_types_bit_depth_and_alpha_are_kept() {
    let rgba16 = image::ImageBuffer::from_fn(320, 200, |x, y| {
        Rgba([
            (x * 200) as u16,
            (y * 300) as u16,
            30000u16,
            if x < 160 { 0 } else { 65535 },
        ])
    });
    let grey = image::GrayImage::from_fn(320, 200, |x, _| image::Luma([(x % 256) as u8]));
    for img in [
        DynamicImage::ImageRgba16(rgba16),
        DynamicImage::ImageLuma8(grey),
        DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(gradient(320, 200)).to_rgb16()),
    ] {
        let input = encode(&img, ImageFormat::Png);
        let out = draw(&input, None, &ImageNotice::default()).unwrap();
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!(decoded.color(), img.color());
        let m = measure(&img.to_rgba8(), &decoded.to_rgba8(), 0);
        assert!(m.ink_height >= 12);
    }
    // TIFF keeps 16 bits too.
    let img = DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(gradient(320, 200)).to_rgb16());
    let out = draw(
        &encode(&img, ImageFormat::Tiff),
        None,
        &ImageNotice::default(),
    )
    .unwrap();
    assert_eq!(image::load_from_memory(&out).unwrap().color(), img.color());
    // Transparent pixels under the box become opaque enough to read.
    let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(300, 200, Rgba([0, 0, 0, 0])));
    let out = draw(
        &encode(&clear, ImageFormat::Png),
        None,
        &ImageNotice::default(),
    )
    .unwrap();
    let after = image::load_from_memory(&out).unwrap().to_rgba8();
    assert!(after.pixels().any(|p| p[3] >= 150));
    assert_eq!(after.get_pixel(0, 0)[3], 0);
}

#[test]
fn animated_gif_every_frame_delays_and_loop() {
    use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
    use image::{AnimationDecoder, Delay, Frame};
    let frames: Vec<Frame> = (0..3u32)
        .map(|i| {
            let img = RgbaImage::from_fn(320, 180, |x, y| {
                Rgba([
                    ((x + 40 * i) % 256) as u8,
                    (y * 255 / 179) as u8,
                    (60 * i) as u8,
                    255,
                ])
            });
            Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(100 * (i + 1), 1))
        })
        .collect();
    let mut input = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut input, 10);
        enc.set_repeat(Repeat::Infinite).unwrap();
        enc.encode_frames(frames).unwrap();
    }
    let decode = |b: &[u8]| -> Vec<Frame> {
        GifDecoder::new(Cursor::new(b.to_vec()))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap()
    };
    let out = draw(&input, Some("image/gif"), &ImageNotice::default()).unwrap();
    let (a, b) = (decode(&input), decode(&out));
    assert_eq!(b.len(), 3);
    assert!(out.windows(11).any(|w| w == b"NETSCAPE2.0"));
    let mut boxes = Vec::new();
    for (fa, fb) in a.iter().zip(&b) {
        assert_eq!(fa.delay(), fb.delay());
        let m = measure(fa.buffer(), fb.buffer(), 0);
        assert!(m.ink_height >= 12, "{}", m.ink_height);
        boxes.push(m.changed);
    }
    assert!(boxes.windows(2).all(|w| w[0] == w[1]), "{boxes:?}");
}

// ---------------------------------------------------------------------------------------------
// Audio

#[derive(Clone, Copy, Debug)]
enum Pcm {
    I16,
    I24,
    F32,
}

impl Pcm {
    fn bytes(self) -> usize {
        match self {
            Pcm::I16 => 2,
            Pcm::I24 => 3,
            Pcm::F32 => 4,
        }
    }

    fn put(self, x: f64, out: &mut Vec<u8>) {
        match self {
            Pcm::I16 => out.extend(((x * 32767.0).round() as i16).to_le_bytes()),
            Pcm::I24 => out.extend(&((x * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
            Pcm::F32 => out.extend((x as f32).to_le_bytes()),
        }
    }

    fn get(self, b: &[u8]) -> f64 {
        match self {
            Pcm::I16 => f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0,
            Pcm::I24 => f64::from(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) / 8_388_608.0,
            Pcm::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        }
    }
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((body.len() as u32).to_le_bytes());
    c.extend(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

const LABEL: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"p","ProduceID":"id"}}"#;

/// A WAV of `seconds` of a quiet 440 Hz tone (different in each channel), with LIST and AIGC
/// chunks around the data.
fn make_wav(pcm: Pcm, channels: u16, rate: u32, seconds: f64) -> (Vec<u8>, usize) {
    let align = channels * pcm.bytes() as u16;
    let mut fmt = match pcm {
        Pcm::F32 => 3u16,
        _ => 1,
    }
    .to_le_bytes()
    .to_vec();
    fmt.extend(channels.to_le_bytes());
    fmt.extend(rate.to_le_bytes());
    fmt.extend((rate * u32::from(align)).to_le_bytes());
    fmt.extend(align.to_le_bytes());
    fmt.extend((pcm.bytes() as u16 * 8).to_le_bytes());
    let frames = (seconds * f64::from(rate)) as usize;
    let mut data = Vec::new();
    for n in 0..frames {
        for c in 0..channels {
            let t = n as f64 / f64::from(rate);
            let x = 0.3 * (2.0 * std::f64::consts::PI * 440.0 * t + f64::from(c)).sin();
            pcm.put(x, &mut data);
        }
    }
    let list = chunk(b"LIST", b"INFOISFT\x06\0\0\0aigov\0");
    let head = [chunk(b"fmt ", &fmt), list].concat();
    let data_at = 12 + head.len() + 8;
    let body = [
        head,
        chunk(b"data", &data),
        chunk(b"AIGC", LABEL.as_bytes()),
    ]
    .concat();
    let mut f = b"RIFF".to_vec();
    f.extend(((body.len() + 4) as u32).to_le_bytes());
    f.extend(b"WAVE");
    f.extend(body);
    (f, data_at)
}

/// Channel `ch` of the data chunk.
fn channel(wav: &[u8], data_at: usize, pcm: Pcm, channels: usize, ch: usize) -> Vec<f64> {
    let size = u32::from_le_bytes(wav[data_at - 4..data_at].try_into().unwrap()) as usize;
    wav[data_at..data_at + size]
        .chunks_exact(pcm.bytes() * channels)
        .map(|f| pcm.get(&f[ch * pcm.bytes()..]))
        .collect()
}

/// Amplitude of the `freq` component of `x` (Goertzel).
fn goertzel(x: &[f64], freq: f64, rate: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / rate;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / x.len() as f64
}

/// On/off run lengths (ms) of a 1 kHz tone in 10 ms windows, starting with the first "on".
fn runs(x: &[f64], rate: u32) -> Vec<(bool, u32)> {
    let win = rate as usize / 100;
    let on: Vec<bool> = x
        .chunks_exact(win)
        .map(|w| goertzel(w, 1000.0, f64::from(rate)) > 0.2)
        .collect();
    let mut runs: Vec<(bool, u32)> = Vec::new();
    for v in on.into_iter().skip_while(|v| !v) {
        match runs.last_mut() {
            Some((s, n)) if *s == v => *n += 10,
            _ => runs.push((v, 10)),
        }
    }
    runs
}

fn assert_rhythm(runs: &[(bool, u32)], what: &str) {
    let want = [120, 120, 360, 120, 120, 120, 120];
    assert!(runs.len() >= 7, "{what}: {runs:?}");
    for (i, (&(on, ms), &w)) in runs.iter().zip(&want).enumerate() {
        assert_eq!(on, i % 2 == 0, "{what}: {runs:?}");
        assert!(
            ms.abs_diff(w) <= 20,
            "{what}: run {i} is {ms} ms, want {w}: {runs:?}"
        );
    }
}

fn chunk_ids_and_payloads(wav: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 12;
    while pos + 8 <= wav.len() {
        let id: [u8; 4] = wav[pos..pos + 4].try_into().unwrap();
        let size = u32::from_le_bytes(wav[pos + 4..pos + 8].try_into().unwrap()) as usize;
        out.push((id, wav[pos + 8..pos + 8 + size].to_vec()));
        pos += 8 + size + size % 2;
    }
    out
}

fn cue(input: &[u8], cue: &ToneCue) -> Vec<u8> {
    let mut out = Vec::new();
    add_cue(&mut Cursor::new(input), &mut out, cue, &Limits::default()).unwrap();
    out
}

#[test]
fn tone_cue_rhythm_in_every_sample_format() {
    for (pcm, channels, rate) in [
        (Pcm::I16, 2u16, 44_100u32),
        (Pcm::I24, 1, 48_000),
        (Pcm::F32, 2, 44_100),
    ] {
        let what = format!("{pcm:?} {channels}ch {rate} Hz");
        let (input, data_at) = make_wav(pcm, channels, rate, 2.5);
        let out = cue(&input, &ToneCue::default());
        assert_eq!(out.len(), input.len(), "{what}");
        let ch = usize::from(channels);
        for c in 0..ch {
            let x = channel(&out, data_at, pcm, ch, c);
            let r = runs(&x[..rate as usize * 3 / 2], rate);
            assert_rhythm(&r, &what);
            // Nothing at 1 kHz after the cue.
            assert!(r.iter().skip(7).all(|r| !r.0), "{what}: {r:?}");
        }
        // Only the samples of the cue window differ.
        let window = (1080 * rate as usize / 1000) * ch * pcm.bytes();
        let first = input.iter().zip(&out).position(|(a, b)| a != b).unwrap();
        let last = input.iter().zip(&out).rposition(|(a, b)| a != b).unwrap();
        assert!(
            first >= data_at && last < data_at + window,
            "{what}: {first}..{last}"
        );
        assert_eq!(input[data_at + window..], out[data_at + window..], "{what}");
        // Every other chunk is kept; the label is still read.
        let (ci, co) = (chunk_ids_and_payloads(&input), chunk_ids_and_payloads(&out));
        assert_eq!(
            ci.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![*b"fmt ", *b"LIST", *b"data", *b"AIGC"]
        );
        for (a, b) in ci.iter().zip(&co) {
            assert_eq!(a.0, b.0);
            if &a.0 != b"data" {
                assert_eq!(a.1, b.1, "{what}: {:?}", String::from_utf8_lossy(&a.0));
            }
        }
        let layout = Wav
            .layout(&mut Cursor::new(&out), &Limits::default())
            .unwrap();
        assert_eq!(layout.carriers[0].text, LABEL);
        // The original is ducked, not replaced: the 440 Hz tone is still there in a gap.
        let x = channel(&out, data_at, pcm, ch, 0);
        let gap = &x[rate as usize * 125 / 1000..rate as usize * 235 / 1000];
        let a440 = goertzel(gap, 440.0, f64::from(rate));
        assert!((a440 - 0.15).abs() < 0.03, "{what}: {a440}");
    }
}

/// FLAC decoded by ffmpeg to 32-bit samples, interleaved.
fn ffmpeg_samples(ff: &std::path::Path, file: &std::path::Path) -> Vec<i32> {
    let raw = file.with_extension("raw");
    crate::mp4pdf::run_ffmpeg(
        ff,
        &[
            "-y",
            "-i",
            file.to_str().unwrap(),
            "-f",
            "s32le",
            raw.to_str().unwrap(),
        ],
    );
    std::fs::read(&raw)
        .unwrap()
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// The cue in FLAC files encoded by ffmpeg (16-bit stereo, 24-bit mono): ffmpeg decodes the
/// result without a complaint, the rhythm is there in every channel, every sample outside the
/// cue window is unchanged, and the metadata (a title, the `AIGC` label) is kept.
#[test]
fn tone_cue_in_flac_keeps_every_other_sample_and_the_metadata() {
    use crate::mp4pdf::{ffmpeg, run_ffmpeg, venv};
    let ff = ffmpeg(&venv());
    let dir = tempfile::tempdir().unwrap();
    for (pcm, channels, rate) in [(Pcm::I16, 2u16, 44_100u32), (Pcm::I24, 1, 48_000)] {
        let what = format!("{pcm:?} {channels}ch {rate} Hz");
        let wav = dir.path().join("in.wav");
        std::fs::write(&wav, make_wav(pcm, channels, rate, 2.5).0).unwrap();
        let flac = dir.path().join("in.flac");
        run_ffmpeg(
            &ff,
            &[
                "-y",
                "-i",
                wav.to_str().unwrap(),
                "-c:a",
                "flac",
                "-metadata",
                "title=A title",
                flac.to_str().unwrap(),
            ],
        );
        let mut labelled = Vec::new();
        Flac.write(
            &mut Cursor::new(std::fs::read(&flac).unwrap()),
            &mut labelled,
            LABEL,
            &Limits::default(),
        )
        .unwrap();
        let mut out = Vec::new();
        add_cue_flac(
            &mut Cursor::new(&labelled),
            &mut out,
            &ToneCue::default(),
            &Limits::default(),
        )
        .unwrap();
        let (a, b) = (dir.path().join("a.flac"), dir.path().join("b.flac"));
        std::fs::write(&a, &labelled).unwrap();
        std::fs::write(&b, &out).unwrap();
        let (before, after) = (ffmpeg_samples(&ff, &a), ffmpeg_samples(&ff, &b));
        assert_eq!(before.len(), after.len(), "{what}");
        let ch = usize::from(channels);
        let window = 1080 * rate as usize / 1000 * ch;
        assert_eq!(before[window..], after[window..], "{what}");
        assert_ne!(before[..window], after[..window], "{what}");
        for c in 0..ch {
            let x: Vec<f64> = after
                .iter()
                .skip(c)
                .step_by(ch)
                .take(rate as usize * 3 / 2)
                .map(|&s| f64::from(s) / 2_147_483_648.0)
                .collect();
            assert_rhythm(&runs(&x, rate), &what);
        }
        let layout = Flac
            .layout(&mut Cursor::new(&out), &Limits::default())
            .unwrap();
        assert!(
            layout.carriers.iter().any(|c| c.primary && c.text == LABEL),
            "{what}: {:?}",
            layout.carriers
        );
        let meta = run_ffmpeg(&ff, &["-i", b.to_str().unwrap(), "-f", "ffmetadata", "-"]);
        assert!(meta.lines().any(|l| l == "title=A title"), "{what}: {meta}");
    }
    // A stream that does not decode is an error, not a panic.
    let mut broken = std::fs::read(dir.path().join("in.flac")).unwrap();
    let n = broken.len();
    broken.truncate(n / 2);
    for b in broken.iter_mut().skip(n / 4).take(64) {
        *b = 0x55;
    }
    let r = add_cue_flac(
        &mut Cursor::new(&broken),
        &mut Vec::new(),
        &ToneCue::default(),
        &Limits::default(),
    );
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn tone_cue_at_the_end_too() {
    let rate = 44_100;
    let (input, data_at) = make_wav(Pcm::I16, 2, rate, 4.0);
    let both = ToneCue {
        at_end: true,
        ..ToneCue::default()
    };
    let out = cue(&input, &both);
    let x = channel(&out, data_at, Pcm::I16, 2, 1);
    let n = x.len();
    assert_rhythm(&runs(&x[..rate as usize * 3 / 2], rate), "start");
    // The end cue ends with the last frame: look at the last 1.2 s.
    let tail = &x[n - rate as usize * 6 / 5..];
    let r = runs(tail, rate);
    assert_rhythm(&r, "end");
    assert!(r.iter().skip(7).all(|r| !r.0), "{r:?}");
    // The middle is untouched.
    let frame = 4;
    let window = 1080 * rate as usize / 1000 * frame;
    let data_len = n * frame;
    assert_eq!(
        input[data_at + window..data_at + data_len - window],
        out[data_at + window..data_at + data_len - window]
    );
    // End only.
    let end = ToneCue {
        at_start: false,
        at_end: true,
        ..ToneCue::default()
    };
    let out = cue(&input, &end);
    assert_eq!(
        input[..data_at + data_len - window],
        out[..data_at + data_len - window]
    );
    assert_ne!(input, out);
}

#[test]
fn tone_cue_refusals() {
    let (short, _) = make_wav(Pcm::I16, 1, 8000, 0.5);
    let r = add_cue(
        &mut Cursor::new(&short),
        &mut Vec::new(),
        &ToneCue::default(),
        &Limits::default(),
    );
    assert!(matches!(r, Err(Error::Render(m)) if m.contains("shorter")));
    // Not a WAV.
    let r = add_cue(
        &mut Cursor::new(&b"fLaC\0\0\0\0\0\0\0\0"[..]),
        &mut Vec::new(),
        &ToneCue::default(),
        &Limits::default(),
    );
    assert!(matches!(r, Err(Error::Malformed { .. })), "{r:?}");
}
