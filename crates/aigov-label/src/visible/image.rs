//! The explicit label of an image: a notice drawn on the pixels.
//!
//! [`overlay`] decodes the image, draws the notice — white anti-aliased text on a
//! semi-transparent dark box — in a corner with a margin, and encodes it again in the same
//! format. The text is sized so that its ink height (the height of its CJK characters, see
//! [`ImageNotice::placement`]) is at least [`ImageNotice::min_height_ratio`] (5% by default,
//! as GB 45438 asks) of the image's shorter side, and never smaller than
//! [`ImageNotice::min_text_px`]. Text too wide for the image is wrapped at spaces and between
//! CJK characters; it is never made smaller than that. An image too small to hold the notice
//! at that size is refused.
//!
//! Every character must have a glyph in the [`Font`]: a notice with a character the font
//! lacks is refused rather than drawn as empty boxes. [`Font::find_default`] looks for a CJK
//! font in the usual places ([`Font::default_paths`]).
//!
//! Formats (the output has the input's format):
//! - **PNG**: bit depth and colour type are kept (8 or 16 bits, grey, grey+alpha, RGB, RGBA);
//!   palette images come out as 8-bit RGB or RGBA. Animated PNG (APNG) is refused.
//! - **JPEG**: quality 92; CMYK images come out as RGB.
//! - **WebP**: lossless, whatever the input was. Animated WebP is refused.
//! - **GIF**: every frame of an animation gets the notice, with the frame delays and the loop
//!   count kept. Frames are written whole (as the decoder composes them), so an animation
//!   that updated small regions grows. The notice is drawn with two flat colours (an opaque
//!   box, no anti-aliasing) so that a frame keeps an exact palette: black and white when the
//!   frame has room for two more colours, else its own darkest and lightest colours; only a
//!   frame with more than 256 colours, or no contrast, is quantised again.
//! - **TIFF**: the first image only (further pages are dropped); 8, 16-bit and float samples
//!   are kept, other layouts are converted.
//!
//! The ICC profile is kept where the encoder can write one (PNG, JPEG, WebP, TIFF) and it
//! matches the output's colour model. An EXIF orientation is applied to the pixels first, so
//! the notice lands in the displayed corner. Other metadata (EXIF, XMP, text chunks, an `AIGC`
//! label, a C2PA manifest) is **not** carried over: add the visible notice first, then the
//! implicit label ([`crate::content`]) and any C2PA manifest.
//!
//! Bounded input: an image of more than [`ImageNotice::max_pixels`] pixels (100 megapixels by
//! default) is refused from its header, before any pixel is decoded, and the decoder's
//! allocations are capped accordingly.

use std::collections::HashSet;
use std::io::{BufReader, Cursor, Read, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ab_glyph::{Font as _, FontVec, GlyphId, PxScale, ScaleFont, point};
use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::codecs::tiff::{TiffDecoder, TiffEncoder};
use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::{
    AnimationDecoder, DynamicImage, ImageBuffer, ImageDecoder, ImageEncoder, ImageError, Pixel,
    RgbaImage,
};

use crate::format::{Counter, Limits, Source, read_up_to};
use crate::visible::check_wording;
use crate::{Error, Result};

/// The default notice drawn on images.
pub const DEFAULT_TEXT: &str = "AI生成 AI-generated";

/// The default bound on an image's size, in pixels (100 megapixels).
pub const MAX_PIXELS: u64 = 100_000_000;

/// Largest font file [`Font::from_path`] reads.
pub const MAX_FONT_BYTES: u64 = 256 * 1024 * 1024;

/// Opacity of the box behind the text.
const BOX_ALPHA: f32 = 0.6;

/// Pixels added to the required ink height, so that the rows that anti-aliasing leaves faint
/// at the top and bottom of the glyphs do not bring the visible height below it.
const AA_SLACK: f32 = 2.0;

/// Where the notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corner {
    /// Top left corner.
    TopLeft,
    /// Top right corner.
    TopRight,
    /// Bottom left corner.
    BottomLeft,
    /// Bottom right corner (the default).
    #[default]
    BottomRight,
    /// Centred at the top.
    TopCenter,
    /// Centred at the bottom.
    BottomCenter,
}

/// A notice to draw on an image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageNotice {
    /// The words (default [`DEFAULT_TEXT`]); must name AI and generation or synthesis (see
    /// [`crate::visible::check_wording`]). A `\n` starts a new line.
    pub text: String,
    /// Where the box goes (default [`Corner::BottomRight`]).
    pub position: Corner,
    /// Least ink height of the text as a fraction of the image's shorter side (default 0.05,
    /// the standard's 5%; a smaller value does not meet GB 45438).
    pub min_height_ratio: f32,
    /// Least ink height of the text in pixels, for legibility on small images (default 12).
    /// Set it to 0 to apply only [`ImageNotice::min_height_ratio`].
    pub min_text_px: f32,
    /// Largest image accepted, in pixels (width × height), checked before decoding (default
    /// [`MAX_PIXELS`]).
    pub max_pixels: u64,
}

impl Default for ImageNotice {
    fn default() -> Self {
        ImageNotice {
            text: DEFAULT_TEXT.to_string(),
            position: Corner::BottomRight,
            min_height_ratio: 0.05,
            min_text_px: 12.0,
            max_pixels: MAX_PIXELS,
        }
    }
}

/// The image formats [`overlay`] reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    WebP,
    /// GIF.
    Gif,
    /// TIFF.
    Tiff,
}

impl ImageKind {
    /// The kind for an IANA media type (`image/png`, `image/jpeg`, `image/webp`, `image/gif`,
    /// `image/tiff`; parameters after `;` are ignored).
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let mt = media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Some(match mt.as_str() {
            "image/png" | "image/apng" => ImageKind::Png,
            "image/jpeg" | "image/jpg" | "image/pjpeg" => ImageKind::Jpeg,
            "image/webp" => ImageKind::WebP,
            "image/gif" => ImageKind::Gif,
            "image/tiff" | "image/tiff-fx" => ImageKind::Tiff,
            _ => return None,
        })
    }

    /// The kind of an image by its leading bytes (at least 12).
    pub fn detect(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if head.starts_with(b"\xFF\xD8\xFF") {
            Some(ImageKind::Jpeg)
        } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
            Some(ImageKind::WebP)
        } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            Some(ImageKind::Gif)
        } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
            Some(ImageKind::Tiff)
        } else {
            None
        }
    }

    /// The IANA media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::WebP => "image/webp",
            ImageKind::Gif => "image/gif",
            ImageKind::Tiff => "image/tiff",
        }
    }

    fn name(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpeg",
            ImageKind::WebP => "webp",
            ImageKind::Gif => "gif",
            ImageKind::Tiff => "tiff",
        }
    }
}

/// A font to draw notices with: a TrueType or OpenType font, or one face of a collection.
pub struct Font {
    font: FontVec,
    source: String,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font")
            .field("source", &self.source)
            .finish()
    }
}

/// Well-known locations of fonts with Chinese glyphs, with the face to use in collections.
const DEFAULT_FONTS: &[(&str, u32)] = &[
    // Debian/Ubuntu fonts-wqy-microhei, fonts-wqy-zenhei.
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    // Debian/Ubuntu fonts-noto-cjk (face 2 is Noto Sans CJK SC).
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    // Fedora, Arch.
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        2,
    ),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),
    (
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
        0,
    ),
    // Debian fonts-droid-fallback, Android.
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
    ),
    ("/usr/share/fonts/truetype/droid/DroidSansFallback.ttf", 0),
    ("/system/fonts/NotoSansCJK-Regular.ttc", 2),
    ("/system/fonts/DroidSansFallback.ttf", 0),
    // macOS.
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("/System/Library/Fonts/STHeiti Medium.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
    // Windows.
    ("C:\\Windows\\Fonts\\msyh.ttc", 0),
    ("C:\\Windows\\Fonts\\simhei.ttf", 0),
];

static DEFAULT_PATHS: [&str; DEFAULT_FONTS.len()] = {
    let mut out = [""; DEFAULT_FONTS.len()];
    let mut i = 0;
    while i < DEFAULT_FONTS.len() {
        out[i] = DEFAULT_FONTS[i].0;
        i += 1;
    }
    out
};

impl Font {
    /// A font from the bytes of a font file; `index` picks the face of a collection (`.ttc`),
    /// 0 for a single font.
    pub fn from_bytes(data: Vec<u8>, index: u32) -> Result<Self> {
        let source = format!("<{} bytes>", data.len());
        Self::parse(data, index, source)
    }

    /// The first face of the font file at `path` (TrueType, OpenType, or a collection).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_path_index(path, 0)
    }

    /// Face `index` of the font file at `path`.
    pub fn from_path_index(path: impl AsRef<Path>, index: u32) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| {
            Error::Render(format!("cannot open the font file {}: {e}", path.display()))
        })?;
        let mut data = Vec::new();
        file.take(MAX_FONT_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| {
                Error::Render(format!("cannot read the font file {}: {e}", path.display()))
            })?;
        if data.len() as u64 > MAX_FONT_BYTES {
            return Err(Error::Render(format!(
                "the font file {} is larger than {MAX_FONT_BYTES} bytes",
                path.display()
            )));
        }
        Self::parse(data, index, path.display().to_string())
    }

    fn parse(data: Vec<u8>, index: u32, source: String) -> Result<Self> {
        let font = FontVec::try_from_vec_and_index(data, index).map_err(|e| {
            Error::Render(format!(
                "{source} face {index} is not a usable TrueType/OpenType font: {e}"
            ))
        })?;
        Ok(Font { font, source })
    }

    /// Well-known locations of fonts with Chinese glyphs that [`Font::find_default`] tries, in
    /// order: WenQuanYi Micro Hei and Zen Hei, Noto Sans CJK, Droid Sans Fallback (Linux,
    /// Android), PingFang, STHeiti, Arial Unicode (macOS), Microsoft YaHei, SimHei (Windows).
    pub fn default_paths() -> &'static [&'static str] {
        &DEFAULT_PATHS
    }

    /// The first of [`Font::default_paths`] that exists and loads (for Noto Sans CJK
    /// collections, the Simplified Chinese face). The library reads no environment: callers
    /// with a configured font use [`Font::find`] or [`Font::from_path`].
    ///
    /// The error names every path tried; pass a font file to [`Font::from_path`] instead (on
    /// Debian or Ubuntu, `apt-get install fonts-wqy-microhei` provides the first default).
    pub fn find_default() -> Result<Self> {
        Self::find_in(None, DEFAULT_FONTS)
    }

    /// The font at `path` when given, else [`Font::find_default`]; the error names every path
    /// tried.
    pub fn find(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(p) => Self::from_path(p),
            None => Self::find_default(),
        }
    }

    fn find_in(given: Option<PathBuf>, candidates: &[(&str, u32)]) -> Result<Self> {
        let mut tried = Vec::new();
        if let Some(p) = given {
            match Self::from_path(&p) {
                Ok(f) => return Ok(f),
                Err(e) => tried.push(format!("{} (given): {e}", p.display())),
            }
        }
        for &(path, index) in candidates {
            if !Path::new(path).is_file() {
                tried.push(format!("{path}: not found"));
                continue;
            }
            match Self::from_path_index(path, index) {
                Ok(f) => return Ok(f),
                Err(e) => tried.push(format!("{path}: {e}")),
            }
        }
        Err(Error::Render(format!(
            "no font with Chinese glyphs found; tried:\n  {}\npass a font file path \
             (the CLI's --font), or install a CJK font (Debian/Ubuntu: \
             apt-get install fonts-wqy-microhei)",
            tried.join("\n  ")
        )))
    }

    /// Where the font came from (its path), for messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The characters of `text` (other than line breaks) that the font has no glyph for, each
    /// once, in order.
    pub fn missing(&self, text: &str) -> Vec<char> {
        let mut seen = Vec::new();
        for c in text.chars() {
            if c != '\n' && self.font.glyph_id(c).0 == 0 && !seen.contains(&c) {
                seen.push(c);
            }
        }
        seen
    }
}

/// Where and how large a notice is drawn on an image of a given size.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Left edge of the box, in pixels.
    pub x: u32,
    /// Top edge of the box.
    pub y: u32,
    /// Width of the box.
    pub width: u32,
    /// Height of the box.
    pub height: u32,
    /// Ink height of the text as drawn, in pixels (see [`ImageNotice::placement`]).
    pub text_height: f32,
    /// The least ink height asked for: the larger of
    /// [`ImageNotice::min_height_ratio`] × the shorter side and [`ImageNotice::min_text_px`].
    pub required_height: f32,
    /// The text's lines after wrapping.
    pub lines: Vec<String>,
}

/// A laid out notice: the placement and the glyphs of each line.
struct Layout {
    placement: Placement,
    scale: PxScale,
    /// Per line: glyphs with their x offset in the box, and the line's baseline in the box.
    lines: Vec<(Vec<(GlyphId, f32)>, f32)>,
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF | 0x20000..=0x3FFFF)
}

impl ImageNotice {
    /// Checks the wording and that `font` has every character of the text.
    pub fn check(&self, font: &Font) -> Result<()> {
        check_wording(&self.text)?;
        let missing = font.missing(&self.text);
        if !missing.is_empty() {
            let list: Vec<String> = missing
                .iter()
                .map(|c| format!("'{c}' (U+{:04X})", u32::from(*c)))
                .collect();
            return Err(Error::Render(format!(
                "the font {} has no glyph for {}: use a font that covers the whole notice \
                 (it is not drawn with missing-glyph boxes)",
                font.source,
                list.join(", ")
            )));
        }
        let ratio_ok = self.min_height_ratio.is_finite() && self.min_height_ratio > 0.0;
        let px_ok = self.min_text_px.is_finite() && self.min_text_px >= 0.0;
        if !ratio_ok || !px_ok {
            return Err(Error::Render(format!(
                "min_height_ratio {} must be above 0 and min_text_px {} at least 0",
                self.min_height_ratio, self.min_text_px
            )));
        }
        Ok(())
    }

    /// Where the notice goes on a `width` × `height` image, and at what size.
    ///
    /// The text's *ink height* is the extent, from the highest to the lowest inked point, of
    /// its CJK characters on one line (with no CJK character: of its capital letters and
    /// digits; with none of those either: of all its characters); it is made at least
    /// [`Placement::required_height`] (plus two pixels for the anti-aliased edges).
    ///
    /// Errors: [`ImageNotice::check`]'s, and [`Error::Render`] when the image is too small to
    /// hold the notice at that size.
    pub fn placement(&self, font: &Font, width: u32, height: u32) -> Result<Placement> {
        Ok(self.layout(font, width, height)?.placement)
    }

    fn layout(&self, font: &Font, width: u32, height: u32) -> Result<Layout> {
        self.check(font)?;
        let f = &font.font;
        let short = width.min(height) as f32;
        let required = (self.min_height_ratio * short).max(self.min_text_px);
        let chars: Vec<char> = self.text.chars().filter(|c| !c.is_whitespace()).collect();
        // Ink extents (top, bottom; font units, y up) of a set of characters.
        let extent = |pick: &dyn Fn(char) -> bool| -> Option<(f32, f32)> {
            chars
                .iter()
                .filter(|&&c| pick(c))
                .filter_map(|&c| f.outline(f.glyph_id(c)))
                .map(|o| (o.bounds.min.y, o.bounds.max.y))
                .reduce(|a, b| (a.0.max(b.0), a.1.min(b.1)))
        };
        let reference = extent(&is_cjk)
            .or_else(|| extent(&|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()))
            .or_else(|| extent(&|_| true))
            .filter(|(top, bottom)| top > bottom)
            .ok_or_else(|| Error::Render("the notice has no visible character".into()))?;
        let (ink_top, ink_bottom) = extent(&|_| true).unwrap_or(reference);
        let target = required + AA_SLACK;
        let units_to_px = target / (reference.0 - reference.1);
        let scale = PxScale::from(units_to_px * f.height_unscaled());
        let sf = f.as_scaled(scale);

        let too_small = |why: &str| {
            Error::Render(format!(
                "the image ({width}×{height}) is too small to hold the notice {:?} with text \
                 {required:.1} px high ({}% of the shorter side {short}, at least {} px): {why}",
                self.text,
                self.min_height_ratio * 100.0,
                self.min_text_px
            ))
        };
        let margin = (short * 0.02).round().max(2.0);
        let pad = (required * 0.3).round().max(2.0);
        let max_line = width as f32 - 2.0 * (margin + pad);
        if max_line <= 0.0 {
            return Err(too_small("no room for the box"));
        }

        let measure = |s: &str| -> f32 {
            let mut w = 0.0;
            let mut prev: Option<GlyphId> = None;
            for c in s.trim_end().chars() {
                let id = f.glyph_id(c);
                if let Some(p) = prev {
                    w += sf.kern(p, id);
                }
                w += sf.h_advance(id);
                prev = Some(id);
            }
            w
        };
        let mut lines: Vec<String> = Vec::new();
        for para in self.text.split('\n') {
            let mut line = String::new();
            for unit in break_units(para) {
                if line.is_empty() && unit.trim().is_empty() {
                    continue;
                }
                let candidate = format!("{line}{unit}");
                if measure(&candidate) <= max_line {
                    line = candidate;
                    continue;
                }
                if measure(&unit) > max_line {
                    return Err(too_small(&format!(
                        "{:?} does not fit its width",
                        unit.trim()
                    )));
                }
                lines.push(line.trim_end().to_string());
                line = if unit.trim().is_empty() {
                    String::new()
                } else {
                    unit
                };
            }
            lines.push(line.trim_end().to_string());
        }

        let px = |units: f32| units * units_to_px;
        let line_h = px(ink_top - ink_bottom);
        let spacing = (required * 0.3).round();
        let n = lines.len() as f32;
        let box_h = (n * line_h + (n - 1.0) * spacing + 2.0 * pad).ceil();
        let box_w = (lines.iter().map(|l| measure(l)).fold(0.0, f32::max) + 2.0 * pad).ceil();
        if box_h > height as f32 - 2.0 * margin {
            return Err(too_small(&format!(
                "{} line(s) need {box_h} px of height",
                lines.len()
            )));
        }
        let (bw, bh, m) = (box_w as u32, box_h as u32, margin as u32);
        // The checks above keep the box and its margins inside the image.
        let right = width.saturating_sub(m + bw);
        let bottom = height.saturating_sub(m + bh);
        let centre = width.saturating_sub(bw) / 2;
        let (x, y) = match self.position {
            Corner::TopLeft => (m, m),
            Corner::TopRight => (right, m),
            Corner::BottomLeft => (m, bottom),
            Corner::BottomRight => (right, bottom),
            Corner::TopCenter => (centre, m),
            Corner::BottomCenter => (centre, bottom),
        };
        let mut laid = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let free = box_w - 2.0 * pad - measure(l);
            let x0 = pad
                + match self.position {
                    Corner::TopLeft | Corner::BottomLeft => 0.0,
                    Corner::TopRight | Corner::BottomRight => free,
                    Corner::TopCenter | Corner::BottomCenter => free / 2.0,
                };
            let baseline = (pad + px(ink_top) + i as f32 * (line_h + spacing)).round();
            let mut glyphs = Vec::new();
            let mut at = x0.round();
            let mut prev: Option<GlyphId> = None;
            for c in l.chars() {
                let id = f.glyph_id(c);
                if let Some(p) = prev {
                    at += sf.kern(p, id);
                }
                glyphs.push((id, at));
                at += sf.h_advance(id);
                prev = Some(id);
            }
            laid.push((glyphs, baseline));
        }
        Ok(Layout {
            placement: Placement {
                x,
                y,
                width: bw,
                height: bh,
                text_height: px(reference.0 - reference.1),
                required_height: required,
                lines,
            },
            scale,
            lines: laid,
        })
    }
}

/// Splits a paragraph where a line may break: runs of white space, single CJK characters,
/// and runs of anything else.
fn break_units(para: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut cur = String::new();
    let kind = |c: char| {
        if c.is_whitespace() {
            0
        } else if is_cjk(c) {
            1
        } else {
            2
        }
    };
    for c in para.chars() {
        let k = kind(c);
        let same = cur.chars().last().is_some_and(|p| kind(p) == k && k != 1);
        if !cur.is_empty() && !same {
            units.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        units.push(cur);
    }
    // A space stays with the word before it, so that lines break after spaces.
    let mut merged: Vec<String> = Vec::new();
    for u in units {
        match merged.last_mut() {
            Some(last) if u.trim().is_empty() => last.push_str(&u),
            _ => merged.push(u),
        }
    }
    merged
}

/// The notice as coverage over its box.
struct Layer {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    /// Text coverage 0..1, row by row.
    coverage: Vec<f32>,
    /// Box opacity.
    box_alpha: f32,
    /// Text coverage taken as all or nothing (no anti-aliasing), for GIF palettes.
    flat: bool,
}

impl Layer {
    fn new(layout: &Layout, font: &Font) -> Self {
        let p = &layout.placement;
        let (w, h) = (p.width as usize, p.height as usize);
        let mut coverage = vec![0.0f32; w * h];
        for (glyphs, baseline) in &layout.lines {
            for &(id, x) in glyphs {
                let g = id.with_scale_and_position(layout.scale, point(x, *baseline));
                if let Some(og) = font.font.outline_glyph(g) {
                    let b = og.px_bounds();
                    og.draw(|gx, gy, c| {
                        let px = b.min.x as i64 + i64::from(gx);
                        let py = b.min.y as i64 + i64::from(gy);
                        if px >= 0 && py >= 0 && (px as usize) < w && (py as usize) < h {
                            let cell = &mut coverage[py as usize * w + px as usize];
                            *cell = cell.max(c.min(1.0));
                        }
                    });
                }
            }
        }
        Layer {
            x: p.x,
            y: p.y,
            width: p.width,
            height: p.height,
            coverage,
            box_alpha: BOX_ALPHA,
            flat: false,
        }
    }

    /// Text coverage at a pixel of the box (two levels when flat).
    fn text(&self, bx: u32, by: u32) -> f32 {
        let c = self.coverage[(by * self.width + bx) as usize];
        if self.flat {
            if c >= 0.5 { 1.0 } else { 0.0 }
        } else {
            c
        }
    }
}

/// A channel value that can be blended in 0..1.
trait Sample: Copy {
    fn unit(self) -> f32;
    fn from_unit(v: f32) -> Self;
}

impl Sample for u8 {
    fn unit(self) -> f32 {
        f32::from(self) / 255.0
    }
    fn from_unit(v: f32) -> Self {
        (v * 255.0).round().clamp(0.0, 255.0) as u8
    }
}

impl Sample for u16 {
    fn unit(self) -> f32 {
        f32::from(self) / 65535.0
    }
    fn from_unit(v: f32) -> Self {
        (v * 65535.0).round().clamp(0.0, 65535.0) as u16
    }
}

impl Sample for f32 {
    fn unit(self) -> f32 {
        self
    }
    fn from_unit(v: f32) -> Self {
        v
    }
}

/// Draws white text on a black box of `layer.box_alpha` over the pixels ("over" compositing,
/// alpha kept straight).
fn paint<P>(img: &mut ImageBuffer<P, Vec<P::Subpixel>>, layer: &Layer)
where
    P: Pixel,
    P::Subpixel: Sample,
{
    let n = usize::from(P::CHANNEL_COUNT);
    let colours = if P::HAS_ALPHA { n - 1 } else { n };
    for by in 0..layer.height {
        for bx in 0..layer.width {
            let (x, y) = (layer.x + bx, layer.y + by);
            if x >= img.width() || y >= img.height() {
                continue;
            }
            let c = layer.text(bx, by);
            let top_a = c + layer.box_alpha * (1.0 - c);
            if top_a <= 0.0 {
                continue;
            }
            let top_c = c / top_a;
            let ch = img.get_pixel_mut(x, y).channels_mut();
            let under_a = if P::HAS_ALPHA { ch[n - 1].unit() } else { 1.0 };
            let out_a = top_a + under_a * (1.0 - top_a);
            for v in ch.iter_mut().take(colours) {
                let mixed = (top_c * top_a + v.unit() * under_a * (1.0 - top_a)) / out_a;
                *v = P::Subpixel::from_unit(mixed);
            }
            if P::HAS_ALPHA {
                ch[n - 1] = P::Subpixel::from_unit(out_a);
            }
        }
    }
}

fn paint_dynamic(img: &mut DynamicImage, layer: &Layer) {
    match img {
        DynamicImage::ImageLuma8(b) => paint(b, layer),
        DynamicImage::ImageLumaA8(b) => paint(b, layer),
        DynamicImage::ImageRgb8(b) => paint(b, layer),
        DynamicImage::ImageRgba8(b) => paint(b, layer),
        DynamicImage::ImageLuma16(b) => paint(b, layer),
        DynamicImage::ImageLumaA16(b) => paint(b, layer),
        DynamicImage::ImageRgb16(b) => paint(b, layer),
        DynamicImage::ImageRgba16(b) => paint(b, layer),
        DynamicImage::ImageRgb32F(b) => paint(b, layer),
        DynamicImage::ImageRgba32F(b) => paint(b, layer),
        other => {
            let mut b = other.to_rgba32f();
            paint(&mut b, layer);
            *other = DynamicImage::ImageRgba32F(b);
        }
    }
}

/// Draws the notice on a GIF frame with two colours from, or added to, its palette.
fn paint_gif_frame(frame: &mut RgbaImage, layer: &Layer) {
    let inside = |x: u32, y: u32| {
        x >= layer.x && y >= layer.y && x < layer.x + layer.width && y < layer.y + layer.height
    };
    // Colours as the GIF encoder sees them: alpha is all or nothing.
    let key = |p: &image::Rgba<u8>| {
        if p[3] == 0 {
            [0, 0, 0, 0]
        } else {
            [p[0], p[1], p[2], 255]
        }
    };
    let mut colours: HashSet<[u8; 4]> = HashSet::new();
    for (x, y, p) in frame.enumerate_pixels() {
        if !inside(x, y) {
            colours.insert(key(p));
            if colours.len() > 256 {
                break;
            }
        }
    }
    let luma = |c: &[u8; 4]| 299 * u32::from(c[0]) + 587 * u32::from(c[1]) + 114 * u32::from(c[2]);
    let (mut dark, mut light) = ([0, 0, 0, 255], [255, 255, 255, 255]);
    if (255..=256).contains(&colours.len()) {
        let opaque = colours.iter().filter(|c| c[3] == 255);
        if let (Some(d), Some(l)) = (
            opaque.clone().min_by_key(|c| luma(c)),
            opaque.max_by_key(|c| luma(c)),
        ) && luma(l) - luma(d) >= 128 * 1000
        {
            (dark, light) = (*d, *l);
        }
    }
    for by in 0..layer.height {
        for bx in 0..layer.width {
            let (x, y) = (layer.x + bx, layer.y + by);
            if x < frame.width() && y < frame.height() {
                let c = if layer.text(bx, by) > 0.0 {
                    light
                } else {
                    dark
                };
                frame.put_pixel(x, y, image::Rgba(c));
            }
        }
    }
}

fn image_error(kind: ImageKind, e: ImageError) -> Error {
    let name = kind.name();
    match e {
        ImageError::IoError(io) => Error::Io(io),
        ImageError::Decoding(d) => Error::malformed(name, 0, format!("cannot decode: {d}")),
        ImageError::Unsupported(u) => Error::Unsupported(format!("{name}: {u}")),
        ImageError::Limits(l) => Error::Render(format!(
            "{name}: the image is above the decoding limits ({l})"
        )),
        other => Error::Render(format!("{name}: {other}")),
    }
}

fn check_size(kind: ImageKind, (w, h): (u32, u32), max_pixels: u64) -> Result<image::Limits> {
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 {
        return Err(Error::malformed(
            kind.name(),
            0,
            format!("the image is {w}×{h} pixels"),
        ));
    }
    if pixels > max_pixels {
        return Err(Error::Render(format!(
            "the {} image is {w}×{h} = {:.1} megapixels, above the limit of {:.1} megapixels; \
             it was not decoded",
            kind.name(),
            pixels as f64 / 1e6,
            max_pixels as f64 / 1e6
        )));
    }
    Ok(alloc_limits(max_pixels))
}

/// The decoders' allocation cap for images of up to `max_pixels`.
fn alloc_limits(max_pixels: u64) -> image::Limits {
    let mut limits = image::Limits::default();
    // 8 bytes a pixel holds 16-bit RGBA, plus room for the decoders' own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(256 << 20));
    limits
}

/// Decodes a still image, orientation applied; with its ICC profile.
fn decode(
    mut d: impl ImageDecoder,
    kind: ImageKind,
    max_pixels: u64,
) -> Result<(DynamicImage, Option<Vec<u8>>)> {
    let limits = check_size(kind, d.dimensions(), max_pixels)?;
    d.set_limits(limits).map_err(|e| image_error(kind, e))?;
    let icc = d.icc_profile().ok().flatten();
    let orientation = d
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(d).map_err(|e| image_error(kind, e))?;
    img.apply_orientation(orientation);
    Ok((img, icc))
}

/// Encodes `img` with the ICC profile when it suits the colour model.
fn encode(
    img: &DynamicImage,
    icc: Option<Vec<u8>>,
    kind: ImageKind,
    dst: &mut dyn Write,
) -> Result<()> {
    let grey = !img.color().has_color();
    let icc = icc.filter(|p| p.len() >= 20 && &p[16..20] == if grey { b"GRAY" } else { b"RGB " });
    fn with_icc<E: ImageEncoder>(mut e: E, icc: Option<Vec<u8>>) -> E {
        if let Some(p) = icc {
            // An encoder that cannot write a profile simply does not.
            let _ = e.set_icc_profile(p);
        }
        e
    }
    let r = match kind {
        ImageKind::Png => img.write_with_encoder(with_icc(
            PngEncoder::new_with_quality(dst, CompressionType::Default, FilterType::Adaptive),
            icc,
        )),
        ImageKind::Jpeg => {
            img.write_with_encoder(with_icc(JpegEncoder::new_with_quality(dst, 92), icc))
        }
        ImageKind::WebP => img.write_with_encoder(with_icc(WebPEncoder::new_lossless(dst), icc)),
        ImageKind::Tiff => {
            // The TIFF encoder seeks.
            let mut out = Cursor::new(Vec::new());
            img.write_with_encoder(with_icc(TiffEncoder::new(&mut out), icc))
                .map_err(|e| image_error(kind, e))?;
            dst.write_all(out.get_ref())?;
            Ok(())
        }
        ImageKind::Gif => {
            return Err(Error::Unsupported(
                "gif: GIFs are written frame by frame".into(),
            ));
        }
    };
    r.map_err(|e| image_error(kind, e))
}

/// Copies the image `src` to `dst` with `notice` drawn on it, in the same format.
///
/// `media_type` names the format (`image/png`, …); `None` detects it from the leading bytes.
/// See the [module documentation](self) for what each format keeps.
///
/// Errors: [`Error::Label`] for a wording that does not name AI and generation;
/// [`Error::Render`] for a font that lacks a character (naming it), an image too small for the
/// notice or larger than [`ImageNotice::max_pixels`]; [`Error::Unsupported`] for another
/// format or an animated PNG or WebP; [`Error::Malformed`] when the image does not decode.
/// Nothing is written to `dst` before the image is decoded and the notice laid out; a GIF is
/// then written frame by frame, so a frame that fails to decode leaves a partial copy.
pub fn overlay(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    media_type: Option<&str>,
    notice: &ImageNotice,
    font: &Font,
) -> Result<()> {
    notice.check(font)?;
    let kind = match media_type {
        Some(mt) => ImageKind::from_media_type(mt).ok_or_else(|| {
            Error::Unsupported(format!(
                "{mt}: visible notices are drawn on PNG, JPEG, WebP, GIF and TIFF images"
            ))
        })?,
        None => {
            let mut head = [0u8; 16];
            src.seek(SeekFrom::Start(0))?;
            let n = read_up_to(src, &mut head)?;
            ImageKind::detect(&head[..n]).ok_or_else(|| {
                Error::Unsupported(format!(
                    "leading bytes {} are not a PNG, JPEG, WebP, GIF or TIFF image",
                    hex::encode(&head[..n])
                ))
            })?
        }
    };
    src.seek(SeekFrom::Start(0))?;
    let reader = BufReader::new(&mut *src);
    let err = |e| image_error(kind, e);
    let max = notice.max_pixels;
    let (mut img, icc) = match kind {
        ImageKind::Png => {
            let d = PngDecoder::with_limits(reader, alloc_limits(max)).map_err(err)?;
            if d.is_apng().map_err(err)? {
                return Err(Error::Unsupported(
                    "png: animated PNG (APNG) cannot be re-encoded with its animation; \
                     convert it to GIF or draw the notice on each frame"
                        .into(),
                ));
            }
            decode(d, kind, max)?
        }
        ImageKind::Jpeg => decode(JpegDecoder::new(reader).map_err(err)?, kind, max)?,
        ImageKind::WebP => {
            let d = WebPDecoder::new(reader).map_err(err)?;
            if d.has_animation() {
                return Err(Error::Unsupported(
                    "webp: animated WebP cannot be re-encoded with its animation".into(),
                ));
            }
            decode(d, kind, max)?
        }
        ImageKind::Tiff => decode(TiffDecoder::new(reader).map_err(err)?, kind, max)?,
        ImageKind::Gif => {
            drop(reader);
            return overlay_gif(src, dst, notice, font);
        }
    };
    let layout = notice.layout(font, img.width(), img.height())?;
    paint_dynamic(&mut img, &Layer::new(&layout, font));
    encode(&img, icc, kind, dst)
}

/// The loop count of a GIF (its NETSCAPE2.0 application extension), if it has one.
fn gif_repeat(src: &mut dyn Source) -> Result<Option<Repeat>> {
    src.seek(SeekFrom::Start(0))?;
    let mut r = BufReader::new(&mut *src);
    let mut head = [0u8; 13];
    r.read_exact(&mut head)
        .map_err(|_| Error::malformed("gif", 0, "header cut short"))?;
    if head[10] & 0x80 != 0 {
        let table = 3u64 << ((head[10] & 7) + 1);
        std::io::copy(&mut (&mut r).take(table), &mut std::io::sink())?;
    }
    let mut counter = Counter::new("gif", &Limits::default());
    let mut byte = [0u8; 1];
    let mut pos = 13u64;
    loop {
        counter.tick(pos)?;
        if r.read(&mut byte)? == 0 || byte[0] != 0x21 {
            // An image, the trailer or the end: no loop count before the first image.
            return Ok(None);
        }
        r.read_exact(&mut byte)?;
        let label = byte[0];
        let mut first = true;
        let mut app = false;
        loop {
            counter.tick(pos)?;
            r.read_exact(&mut byte)?;
            let size = usize::from(byte[0]);
            if size == 0 {
                break;
            }
            let mut block = vec![0u8; size];
            r.read_exact(&mut block)?;
            pos += 1 + size as u64;
            if label == 0xFF && first {
                app = block == b"NETSCAPE2.0" || block == b"ANIMEXTS1.0";
            } else if app && block.len() >= 3 && block[0] == 1 {
                let n = u16::from_le_bytes([block[1], block[2]]);
                return Ok(Some(if n == 0 {
                    Repeat::Infinite
                } else {
                    Repeat::Finite(n)
                }));
            }
            first = false;
        }
    }
}

fn overlay_gif(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    notice: &ImageNotice,
    font: &Font,
) -> Result<()> {
    let kind = ImageKind::Gif;
    let err = |e| image_error(kind, e);
    let repeat = gif_repeat(src)?;
    src.seek(SeekFrom::Start(0))?;
    let mut d = GifDecoder::new(BufReader::new(&mut *src)).map_err(err)?;
    let (w, h) = d.dimensions();
    let limits = check_size(kind, (w, h), notice.max_pixels)?;
    d.set_limits(limits).map_err(err)?;
    let layout = notice.layout(font, w, h)?;
    let mut layer = Layer::new(&layout, font);
    layer.flat = true;
    layer.box_alpha = 1.0;
    // Frames are decoded and written one at a time; the animation as a whole is bounded too.
    let max_frames = (notice.max_pixels.saturating_mul(10) / (u64::from(w) * u64::from(h))).max(1);
    let mut enc = GifEncoder::new_with_speed(dst, 10);
    if let Some(r) = repeat {
        enc.set_repeat(r).map_err(err)?;
    }
    let mut frames = 0u64;
    for frame in d.into_frames() {
        let frame = frame.map_err(err)?;
        frames += 1;
        if frames > max_frames {
            return Err(Error::Render(format!(
                "gif: more than {max_frames} frames of {w}×{h}: above ten times the pixel limit"
            )));
        }
        let delay = frame.delay();
        let mut buf = frame.into_buffer();
        paint_gif_frame(&mut buf, &layer);
        enc.encode_frame(image::Frame::from_parts(buf, 0, 0, delay))
            .map_err(err)?;
    }
    if frames == 0 {
        return Err(Error::malformed("gif", 0, "the GIF has no image"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            ImageKind::from_media_type("image/PNG"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::from_media_type("image/jpeg; q=1"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::from_media_type("image/avif"), None);
        assert_eq!(ImageKind::detect(b"GIF89a......"), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::detect(b"RIFF\0\0\0\0WEBPVP8L"),
            Some(ImageKind::WebP)
        );
        assert_eq!(ImageKind::detect(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(ImageKind::detect(b"MM\0*\0\0\0\x08"), Some(ImageKind::Tiff));
    }

    #[test]
    fn break_units_split_at_spaces_and_cjk() {
        assert_eq!(
            break_units("AI生成 AI-generated  x"),
            vec!["AI", "生", "成 ", "AI-generated  ", "x"]
        );
        assert_eq!(break_units(""), Vec::<String>::new());
    }

    #[test]
    fn default_paths_listed() {
        let p = Font::default_paths();
        assert_eq!(p[0], "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc");
        assert!(p.contains(&"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"));
        assert!(p.iter().any(|x| x.contains("DroidSansFallback")));
        assert!(p.iter().any(|x| x.contains("wqy-zenhei")));
    }

    #[test]
    fn gif_loop_count() {
        let mut g = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        g.extend([0u8; 6]); // two-colour table
        let before = g.clone();
        g.extend(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x05\x00\x00");
        g.extend(b"\x2C");
        let r = gif_repeat(&mut std::io::Cursor::new(&g)).unwrap();
        assert!(matches!(r, Some(Repeat::Finite(5))));
        let mut inf = before.clone();
        inf.extend(b"\x21\xFE\x02hi\x00\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00\x2C");
        let r = gif_repeat(&mut std::io::Cursor::new(&inf)).unwrap();
        assert!(matches!(r, Some(Repeat::Infinite)));
        let mut none = before;
        none.extend(b"\x2C");
        assert!(
            gif_repeat(&mut std::io::Cursor::new(&none))
                .unwrap()
                .is_none()
        );
        assert!(gif_repeat(&mut std::io::Cursor::new(&g[..20])).is_err());
    }

    #[test]
    fn find_default_names_every_path_tried() {
        let e = Font::find_in(
            Some("/nonexistent/env.ttf".into()),
            &[("/nonexistent/a.ttc", 0), ("/etc/hostname", 0)],
        )
        .unwrap_err()
        .to_string();
        for part in [
            "/nonexistent/env.ttf (given)",
            "/nonexistent/a.ttc: not found",
            "/etc/hostname: ",
            "pass a font file path",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        let e = Font::find_in(None, &[]).unwrap_err().to_string();
        assert!(e.contains("no font with Chinese glyphs"), "{e}");
    }

    #[test]
    fn from_bytes_rejects_garbage() {
        let r = Font::from_bytes(vec![0; 100], 0);
        assert!(matches!(r, Err(Error::Render(m)) if m.contains("<100 bytes>")));
    }
}
