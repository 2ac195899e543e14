//! The explicit label of audio as a tone cue: the rhythm *short-long-short-short* (Morse "AI",
//! `·– ··`) mixed into the samples of a PCM WAV file ([`add_cue`]) or a FLAC file
//! ([`add_cue_flac`]: decoded, mixed the same way, encoded again losslessly) at its start and,
//! if asked, its end. Lossy formats (MP3, Vorbis, Opus) get no cue: there is no well-kept Rust
//! encoder for them, and re-encoding would cost quality; their metadata label still applies.
//!
//! With the defaults ([`ToneCue::default`]) the cue is a 1 kHz sine: 120 ms on, 120 ms off,
//! 360 ms on, 120 ms off, 120 ms on, 120 ms off, 120 ms on — 1080 ms in all — each tone
//! faded in and out over 10 ms. Inside the cue's window every sample of every channel becomes
//!
//! ```text
//! out = original × (1 − duck·r(t)) + level × tone(t)
//! ```
//!
//! clipped to the sample format's range, where `r(t)` ramps from 0 to 1 over the fade time at
//! the window's edges (so ducking the original makes no click) and `tone(t)` is the faded sine
//! (0 in the gaps). Defaults: `duck` 0.5, `level` 0.5 of full scale.
//!
//! [`add_cue`] rewrites nothing else: every chunk other than `data` (`fmt `, `LIST`, `AIGC`,
//! `id3 `, unknown ones, …), the RIFF header and any bytes after the form are copied byte for
//! byte, and in `data` only the samples inside the cue windows change; the rest of the data
//! chunk is streamed unchanged. RIFF, RF64 and BW64 files are read (see
//! [`crate::formats::wav`]).
//!
//! Sample formats: PCM 8-bit unsigned and 16-, 24- and 32-bit signed (with fewer valid bits
//! in a larger container, as `WAVE_FORMAT_EXTENSIBLE` allows: the low bits stay zero), IEEE
//! float 32 and 64 bits, under `WAVE_FORMAT_PCM`, `WAVE_FORMAT_IEEE_FLOAT` or
//! `WAVE_FORMAT_EXTENSIBLE` with those subformats; any number of channels (the tone goes into
//! every channel). Other encodings (ADPCM, A-law, µ-law, MP3 in WAV, …) are refused with
//! [`Error::Unsupported`]; decode them to PCM first.
//!
//! Limit: a file shorter than the cue — or, with [`ToneCue::at_end`] and
//! [`ToneCue::at_start`] both set, shorter than two cues, which must not overlap — is refused
//! with [`Error::Render`]; the cue is never truncated.

use std::f64::consts::PI;
use std::io::Write;

use crate::format::{Limits, Source, copy_range, read_at};
use crate::formats::wav::scan;
use crate::{Error, Result};

const NAME: &str = "wav";

/// Frames processed at a time inside a cue window.
const BLOCK_FRAMES: u64 = 4096;

/// The tone cue and how it is mixed in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneCue {
    /// Frequency of the sine, in hertz (default 1000); below half the sample rate.
    pub frequency: f64,
    /// Length of a short tone in milliseconds (default 120).
    pub short_ms: u32,
    /// Length of a long tone in milliseconds (default 360).
    pub long_ms: u32,
    /// Silence between tones in milliseconds (default 120).
    pub gap_ms: u32,
    /// Fade in and fade out of each tone in milliseconds (default 10); at most half a short
    /// tone.
    pub fade_ms: u32,
    /// Peak level of the tone as a fraction of full scale, 0 to 1 (default 0.5).
    pub level: f64,
    /// How much the original is attenuated inside the cue window, 0 (not at all) to 1
    /// (silenced) (default 0.5).
    pub duck: f64,
    /// Put the cue at the start (default true).
    pub at_start: bool,
    /// Put the cue at the end too, ending with the last full sample frame (default false).
    pub at_end: bool,
}

impl Default for ToneCue {
    fn default() -> Self {
        ToneCue {
            frequency: 1000.0,
            short_ms: 120,
            long_ms: 360,
            gap_ms: 120,
            fade_ms: 10,
            level: 0.5,
            duck: 0.5,
            at_start: true,
            at_end: false,
        }
    }
}

impl ToneCue {
    /// The rhythm as (tone on, milliseconds) steps: short, gap, long, gap, short, gap, short.
    pub fn pattern(&self) -> [(bool, u32); 7] {
        let (s, l, g) = (self.short_ms, self.long_ms, self.gap_ms);
        [
            (true, s),
            (false, g),
            (true, l),
            (false, g),
            (true, s),
            (false, g),
            (true, s),
        ]
    }

    /// Length of one cue in milliseconds (1080 with the defaults).
    pub fn duration_ms(&self) -> u64 {
        self.pattern().iter().map(|&(_, ms)| u64::from(ms)).sum()
    }

    /// Checks the parameters against a sample rate.
    pub fn check(&self, rate: u32) -> Result<()> {
        let bad = |m: String| Err(Error::Render(format!("tone cue: {m}")));
        if !(self.frequency > 0.0 && self.frequency < f64::from(rate) / 2.0) {
            return bad(format!(
                "a frequency of {} Hz cannot be played at {rate} Hz (it must be above 0 and \
                 below half the sample rate)",
                self.frequency
            ));
        }
        if !(0.0..=1.0).contains(&self.level) || !(0.0..=1.0).contains(&self.duck) {
            return bad(format!(
                "level {} and duck {} must be between 0 and 1",
                self.level, self.duck
            ));
        }
        if self.short_ms == 0 || self.long_ms <= self.short_ms || self.gap_ms == 0 {
            return bad(format!(
                "short {} ms, long {} ms and gap {} ms must be positive, and long longer than \
                 short",
                self.short_ms, self.long_ms, self.gap_ms
            ));
        }
        if u64::from(self.fade_ms) * 2 > u64::from(self.short_ms) {
            return bad(format!(
                "a fade of {} ms does not fit twice in a short tone of {} ms",
                self.fade_ms, self.short_ms
            ));
        }
        if !self.at_start && !self.at_end {
            return bad("neither at_start nor at_end is set".into());
        }
        Ok(())
    }
}

/// How the samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Unsigned 8-bit.
    U8,
    /// Signed little-endian integer of `bytes` bytes with `valid` significant bits.
    Int {
        bytes: usize,
        valid: u32,
    },
    F32,
    F64,
}

#[derive(Debug, Clone, Copy)]
struct Fmt {
    encoding: Encoding,
    channels: usize,
    rate: u32,
    /// Bytes per frame.
    align: u64,
}

/// The subformat GUID of `WAVE_FORMAT_EXTENSIBLE` after its first four bytes.
const KSDATAFORMAT_TAIL: [u8; 12] = [
    0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

fn tag_name(tag: u32) -> &'static str {
    match tag {
        0x0002 => " (Microsoft ADPCM)",
        0x0006 => " (A-law)",
        0x0007 => " (µ-law)",
        0x0011 => " (IMA ADPCM)",
        0x0031 => " (GSM 6.10)",
        0x0050 => " (MPEG)",
        0x0055 => " (MPEG Layer III)",
        0x00FF => " (AAC)",
        _ => "",
    }
}

fn parse_fmt(b: &[u8], at: u64) -> Result<Fmt> {
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let mut tag = u32::from(u16_at(0));
    let channels = u16_at(2);
    let rate = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let align = u16_at(12);
    let bits = u32::from(u16_at(14));
    let mut valid = bits;
    if tag == 0xFFFE {
        if b.len() < 40 {
            return Err(Error::malformed(
                NAME,
                at,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE fmt chunk of {} bytes is shorter than 40",
                    b.len()
                ),
            ));
        }
        valid = u32::from(u16_at(18));
        if b[28..40] != KSDATAFORMAT_TAIL {
            return Err(Error::Unsupported(format!(
                "{NAME}: WAVE_FORMAT_EXTENSIBLE subformat {} is not PCM or IEEE float",
                hex::encode(&b[24..40])
            )));
        }
        tag = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
        if valid == 0 {
            valid = bits;
        }
    }
    if channels == 0 || rate == 0 {
        return Err(Error::malformed(
            NAME,
            at,
            format!("fmt chunk declares {channels} channels at {rate} Hz"),
        ));
    }
    let container = usize::from(align) / usize::from(channels);
    if container == 0 || usize::from(align) != container * usize::from(channels) {
        return Err(Error::malformed(
            NAME,
            at,
            format!("block align {align} is not a multiple of {channels} channels"),
        ));
    }
    let fits = bits <= 8 * container as u32 && valid <= bits && valid > 0;
    let encoding = match (tag, container) {
        (1, 1) if fits => Encoding::U8,
        (1, 2..=4) if fits => Encoding::Int {
            bytes: container,
            valid,
        },
        (3, 4) if bits == 32 => Encoding::F32,
        (3, 8) if bits == 64 => Encoding::F64,
        (1 | 3, _) => {
            return Err(Error::Unsupported(format!(
                "{NAME}: {} samples of {bits} bits ({valid} valid) in {container}-byte \
                 containers are not supported: the tone cue needs 8-bit unsigned, 16-, 24- or \
                 32-bit signed PCM, or 32- or 64-bit float",
                if tag == 1 { "PCM" } else { "IEEE float" }
            )));
        }
        _ => {
            return Err(Error::Unsupported(format!(
                "{NAME}: audio encoding 0x{tag:04X}{} is not supported: the tone cue needs PCM \
                 or IEEE float samples (decode the file to PCM first)",
                tag_name(tag)
            )));
        }
    };
    Ok(Fmt {
        encoding,
        channels: usize::from(channels),
        rate,
        align: u64::from(align),
    })
}

impl Encoding {
    fn bytes(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::Int { bytes, .. } => bytes,
            Encoding::F32 => 4,
            Encoding::F64 => 8,
        }
    }

    /// The sample in `b` (of [`Encoding::bytes`] bytes) as a value in [-1, 1).
    fn decode(self, b: &[u8]) -> f64 {
        match self {
            Encoding::U8 => (f64::from(b[0]) - 128.0) / 128.0,
            Encoding::Int { bytes, .. } => {
                let mut v = [0u8; 4];
                v[4 - bytes..].copy_from_slice(&b[..bytes]);
                // Left-justified in an i32: the scale is the same for every width.
                f64::from(i32::from_le_bytes(v)) / 2_147_483_648.0
            }
            Encoding::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Encoding::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    /// Writes `x`, clipped to the format's range, into `b`.
    fn encode(self, x: f64, b: &mut [u8]) {
        match self {
            Encoding::U8 => b[0] = (x * 128.0 + 128.0).round().clamp(0.0, 255.0) as u8,
            Encoding::Int { bytes, valid } => {
                let scale = f64::from(1u32 << (valid - 1));
                let q = (x * scale).round().clamp(-scale, scale - 1.0) as i64;
                let v = (q << (32 - valid)) as i32;
                b[..bytes].copy_from_slice(&v.to_le_bytes()[4 - bytes..]);
            }
            Encoding::F32 => b[..4].copy_from_slice(&(x.clamp(-1.0, 1.0) as f32).to_le_bytes()),
            Encoding::F64 => b[..8].copy_from_slice(&x.clamp(-1.0, 1.0).to_le_bytes()),
        }
    }
}

/// The cue's shape at one sample rate, in frames.
struct Shape {
    /// (tone on, frames) steps.
    steps: Vec<(bool, u64)>,
    fade: u64,
    total: u64,
    omega: f64,
    level: f64,
    duck: f64,
}

impl Shape {
    fn new(cue: &ToneCue, rate: u32) -> Self {
        let frames = |ms: u32| (u64::from(ms) * u64::from(rate) + 500) / 1000;
        let steps: Vec<(bool, u64)> = cue
            .pattern()
            .iter()
            .map(|&(on, ms)| (on, frames(ms)))
            .collect();
        let total = steps.iter().map(|s| s.1).sum();
        Shape {
            steps,
            fade: frames(cue.fade_ms),
            total,
            omega: 2.0 * PI * cue.frequency / f64::from(rate),
            level: cue.level,
            duck: cue.duck,
        }
    }

    /// Raised-cosine ramp: 0 at `u` = 0, 1 from `u` = fade on.
    fn ramp(&self, u: u64) -> f64 {
        if u >= self.fade || self.fade == 0 {
            1.0
        } else {
            0.5 - 0.5 * (PI * u as f64 / self.fade as f64).cos()
        }
    }

    /// (tone sample, duck factor) at frame `n` of the window.
    fn at(&self, n: u64) -> (f64, f64) {
        let edge = self
            .ramp(n)
            .min(self.ramp(self.total.saturating_sub(n + 1)));
        let mut start = 0;
        let mut tone = 0.0;
        for &(on, len) in &self.steps {
            if n < start + len {
                if on {
                    let u = n - start;
                    let env = self.ramp(u).min(self.ramp(len - 1 - u));
                    tone = env * (self.omega * n as f64).sin();
                }
                break;
            }
            start += len;
        }
        (self.level * tone, 1.0 - self.duck * edge)
    }
}

/// Copies the WAV file `src` to `dst` with the tone cue mixed in at its start and, if
/// [`ToneCue::at_end`], its end.
///
/// Only the samples inside the cue windows differ from the input; everything else is copied
/// byte for byte (see the [module documentation](self)). The data chunk is streamed; only one
/// block of samples and the chunk headers (bounded by `limits`) are held in memory.
///
/// Errors: [`Error::Malformed`] or [`Error::TooLarge`] for a broken RIFF structure,
/// [`Error::Unsupported`] for a sample encoding other than PCM or IEEE float,
/// [`Error::Render`] for a file shorter than the cue (or two cues) or cue parameters that
/// [`ToneCue::check`] refuses. On an error after writing began, `dst` holds a partial copy.
pub fn add_cue(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    cue: &ToneCue,
    limits: &Limits,
) -> Result<()> {
    let s = scan(src, limits)?;
    let Some(fmt_chunk) = s.chunks.iter().find(|c| &c.id == b"fmt ") else {
        return Err(Error::malformed(NAME, 12, "no fmt chunk"));
    };
    let Some(data) = s.chunks.iter().find(|c| &c.id == b"data") else {
        return Err(Error::malformed(NAME, 12, "no data chunk"));
    };
    let fmt_bytes = read_at(
        src,
        NAME,
        "fmt chunk",
        fmt_chunk.start + 8,
        fmt_chunk.size.min(40),
        40,
    )?;
    if fmt_bytes.len() < 16 {
        return Err(Error::malformed(
            NAME,
            fmt_chunk.start,
            format!("fmt chunk of {} bytes is shorter than 16", fmt_bytes.len()),
        ));
    }
    let fmt = parse_fmt(&fmt_bytes, fmt_chunk.start)?;
    cue.check(fmt.rate)?;
    let shape = Shape::new(cue, fmt.rate);
    let payload = data.payload();
    let frames = data.size / fmt.align;
    check_length(cue, &shape, frames, fmt.rate)?;

    let at = |frame: u64| payload.start + frame * fmt.align;
    let mut pos = 0u64;
    copy_range(src, dst, NAME, 0..payload.start)?;
    if cue.at_start {
        mix(src, dst, at(0), &fmt, &shape)?;
        pos = shape.total;
    }
    if cue.at_end {
        let from = frames - shape.total;
        copy_range(src, dst, NAME, at(pos)..at(from))?;
        mix(src, dst, at(from), &fmt, &shape)?;
        pos = frames;
    }
    copy_range(src, dst, NAME, at(pos)..s.file_len)
}

/// Refuses audio of `frames` frames that is shorter than the cue (or the two cues) needs.
fn check_length(cue: &ToneCue, shape: &Shape, frames: u64, rate: u32) -> Result<()> {
    let needed = shape.total * u64::from(cue.at_start) + shape.total * u64::from(cue.at_end);
    if frames < needed {
        let ms = |f: u64| f * 1000 / u64::from(rate);
        return Err(Error::Render(format!(
            "the audio is {} ms long, shorter than the {} ms that the tone cue{} needs",
            ms(frames),
            ms(needed),
            if cue.at_start && cue.at_end {
                " at the start and the end"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// Decoded FLAC audio is held in memory to be encoded again: at most this many bytes of
/// samples (about 100 minutes of 48 kHz stereo).
pub const MAX_FLAC_DECODED: u64 = 1 << 30;

/// Copies the FLAC file `src` to `dst` with the tone cue mixed in at its start and, if
/// [`ToneCue::at_end`], its end, as [`add_cue`] does for WAV.
///
/// FLAC is lossless: the samples are decoded (`claxon`), the cue is mixed into its windows
/// with the same formula, and the whole stream is encoded again (`flacenc`), so every sample
/// outside the windows decodes to exactly what it was, though the frames' bytes differ. Every
/// metadata block is kept in order (the `AIGC` Vorbis comment, pictures, …) but STREAMINFO,
/// which the encoder writes anew, and SEEKTABLE, whose offsets no longer hold; ID3v2 tags in
/// front of the stream are kept. The decoded samples are held in memory, up to
/// [`MAX_FLAC_DECODED`] bytes.
///
/// Errors: [`Error::Malformed`] for a FLAC stream that does not decode, [`Error::TooLarge`]
/// beyond [`MAX_FLAC_DECODED`], [`Error::Unsupported`] for a sample width the encoder does not
/// write (it takes 8 to 24 bits), and [`Error::Render`] as for WAV.
pub fn add_cue_flac(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    cue: &ToneCue,
    limits: &Limits,
) -> Result<()> {
    crate::formats::flac::with_new_audio(src, dst, limits, |src, start| mixed_flac(src, start, cue))
}

/// The FLAC stream at `src` (which begins at byte `start` of the file), decoded, with the cue
/// mixed in, encoded again.
fn mixed_flac(src: &mut dyn Source, start: u64, cue: &ToneCue) -> Result<Vec<u8>> {
    const FLAC: &str = "flac";
    let bad = |e: claxon::Error| Error::malformed(FLAC, start, format!("FLAC stream: {e}"));
    let mut reader = claxon::FlacReader::new(&mut *src).map_err(bad)?;
    let info = reader.streaminfo();
    let (rate, channels, bits) = (info.sample_rate, info.channels, info.bits_per_sample);
    if !(8..=24).contains(&bits) {
        return Err(Error::Unsupported(format!(
            "{FLAC}: {bits}-bit samples (the FLAC encoder writes 8 to 24 bits)"
        )));
    }
    cue.check(rate)?;
    let shape = Shape::new(cue, rate);
    let declared = info.samples.unwrap_or(0) * u64::from(channels) * 4;
    let too_large =
        |size: u64| Error::too_large(FLAC, start, "decoded audio", size, MAX_FLAC_DECODED);
    if declared > MAX_FLAC_DECODED {
        return Err(too_large(declared));
    }
    // Reserved from the declared length only up to 64 MiB: a small hostile file may declare
    // anything; past that the vector grows as samples actually decode.
    let reserve = (declared / 4).min(1 << 24);
    let mut samples: Vec<i32> = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
    for s in reader.samples() {
        samples.push(s.map_err(bad)?);
        if samples.len() as u64 * 4 > MAX_FLAC_DECODED {
            return Err(too_large(samples.len() as u64 * 4));
        }
    }
    drop(reader);
    let ch = channels as usize;
    let frames = (samples.len() / ch) as u64;
    check_length(cue, &shape, frames, rate)?;
    let scale = f64::from(1u32 << (bits - 1));
    let mut windows = Vec::new();
    if cue.at_start {
        windows.push(0);
    }
    if cue.at_end {
        windows.push(frames - shape.total);
    }
    for from in windows {
        for n in 0..shape.total {
            let (tone, keep) = shape.at(n);
            let at = usize::try_from(from + n).unwrap_or(usize::MAX) * ch;
            for s in samples.iter_mut().skip(at).take(ch) {
                let x = f64::from(*s) / scale;
                *s = ((x * keep + tone) * scale)
                    .round()
                    .clamp(-scale, scale - 1.0) as i32;
            }
        }
    }
    encode_flac(&samples, ch, bits as usize, rate as usize)
}

/// A whole FLAC stream of interleaved `samples` (flacenc, default settings, one thread).
fn encode_flac(samples: &[i32], channels: usize, bits: usize, rate: usize) -> Result<Vec<u8>> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let failed = |e: String| Error::Render(format!("FLAC encoder: {e}"));
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| failed(e.to_string()))?;
    let source = flacenc::source::MemSource::from_samples(samples, channels, bits, rate);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| failed(e.to_string()))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| failed(e.to_string()))?;
    Ok(sink.into_inner())
}

/// Mixes the cue into the `shape.total` frames at `offset`, writing them to `dst`.
fn mix(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    offset: u64,
    fmt: &Fmt,
    shape: &Shape,
) -> Result<()> {
    let width = fmt.encoding.bytes();
    let mut n = 0u64;
    while n < shape.total {
        let count = BLOCK_FRAMES.min(shape.total - n);
        let len = count * fmt.align;
        let mut block = read_at(src, NAME, "data chunk", offset + n * fmt.align, len, len)?;
        for (i, frame) in block.chunks_exact_mut(fmt.align as usize).enumerate() {
            let (tone, keep) = shape.at(n + i as u64);
            for sample in frame.chunks_exact_mut(width).take(fmt.channels) {
                let x = fmt.encoding.decode(sample);
                fmt.encoding.encode(x * keep + tone, sample);
            }
        }
        dst.write_all(&block)?;
        n += count;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn fmt_chunk(
        tag: u16,
        channels: u16,
        rate: u32,
        bits: u16,
        ext: Option<(u16, u16)>,
    ) -> Vec<u8> {
        let align = channels * bits.div_ceil(8);
        let mut b = if ext.is_some() { 0xFFFEu16 } else { tag }
            .to_le_bytes()
            .to_vec();
        b.extend(channels.to_le_bytes());
        b.extend(rate.to_le_bytes());
        b.extend((rate * u32::from(align)).to_le_bytes());
        b.extend(align.to_le_bytes());
        b.extend(bits.to_le_bytes());
        if let Some((valid, sub)) = ext {
            b.extend(22u16.to_le_bytes());
            b.extend(valid.to_le_bytes());
            b.extend(0u32.to_le_bytes());
            b.extend(u32::from(sub).to_le_bytes());
            b.extend(KSDATAFORMAT_TAIL);
        }
        b
    }

    fn wav(fmt: &[u8], data: &[u8]) -> Vec<u8> {
        let mut body = b"WAVEfmt ".to_vec();
        body.extend((fmt.len() as u32).to_le_bytes());
        body.extend(fmt);
        body.extend(b"data");
        body.extend((data.len() as u32).to_le_bytes());
        body.extend(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
        let mut f = b"RIFF".to_vec();
        f.extend((body.len() as u32).to_le_bytes());
        f.extend(body);
        f
    }

    fn cue(input: &[u8], cue: &ToneCue) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        add_cue(&mut Cursor::new(input), &mut out, cue, &Limits::default())?;
        Ok(out)
    }

    #[test]
    fn sample_codecs_round_trip_and_clip() {
        let cases = [
            (Encoding::U8, 1.0 / 128.0),
            (
                Encoding::Int {
                    bytes: 2,
                    valid: 16,
                },
                1.0 / 32768.0,
            ),
            (
                Encoding::Int {
                    bytes: 3,
                    valid: 24,
                },
                1.0 / 8_388_608.0,
            ),
            (
                Encoding::Int {
                    bytes: 3,
                    valid: 20,
                },
                1.0 / 524_288.0,
            ),
            (
                Encoding::Int {
                    bytes: 4,
                    valid: 32,
                },
                1.0 / 2_147_483_648.0,
            ),
            (Encoding::F32, 1e-7),
            (Encoding::F64, 1e-12),
        ];
        for (e, step) in cases {
            let mut b = [0u8; 8];
            for x in [-1.0, -0.5, 0.0, 0.25, 0.999] {
                e.encode(x, &mut b);
                assert!((e.decode(&b) - x).abs() <= step, "{e:?} {x}");
            }
            e.encode(3.0, &mut b);
            assert!((e.decode(&b) - 1.0).abs() <= step, "{e:?} clips high");
            e.encode(-3.0, &mut b);
            assert_eq!(e.decode(&b), -1.0, "{e:?} clips low");
        }
        // 20 valid bits in 24: the low four bits stay zero.
        let mut b = [0u8; 3];
        Encoding::Int {
            bytes: 3,
            valid: 20,
        }
        .encode(0.123_456, &mut b);
        assert_eq!(b[0] & 0x0F, 0);
    }

    #[test]
    fn formats_accepted_and_refused() {
        let data = vec![0u8; 48000 * 4];
        for fmt in [
            fmt_chunk(1, 1, 8000, 8, None),
            fmt_chunk(1, 2, 8000, 16, None),
            fmt_chunk(1, 1, 8000, 24, None),
            fmt_chunk(1, 3, 8000, 32, None),
            fmt_chunk(3, 1, 8000, 32, None),
            fmt_chunk(3, 2, 8000, 64, None),
            fmt_chunk(0, 6, 8000, 24, Some((20, 1))),
            fmt_chunk(0, 2, 8000, 32, Some((32, 3))),
        ] {
            let f = wav(&fmt, &data);
            let out = cue(&f, &ToneCue::default()).unwrap();
            assert_eq!(out.len(), f.len());
            assert_ne!(out, f);
        }
        for (fmt, what) in [
            (fmt_chunk(2, 1, 8000, 4, None), "Microsoft ADPCM"),
            (fmt_chunk(7, 1, 8000, 8, None), "µ-law"),
            (fmt_chunk(3, 1, 8000, 16, None), "IEEE float"),
            (fmt_chunk(0, 1, 8000, 16, Some((16, 6))), "0x0006 (A-law)"),
        ] {
            let r = cue(&wav(&fmt, &data), &ToneCue::default());
            match r {
                Err(Error::Unsupported(m)) => assert!(m.contains(what), "{m}"),
                r => panic!("{what}: {r:?}"),
            }
        }
    }

    #[test]
    fn short_files_and_bad_parameters_are_refused() {
        let fmt = fmt_chunk(1, 1, 8000, 16, None);
        // 1 s of audio: shorter than the 1080 ms cue.
        let f = wav(&fmt, &vec![0u8; 16000]);
        let r = cue(&f, &ToneCue::default());
        assert!(
            matches!(&r, Err(Error::Render(m)) if m.contains("1000 ms") && m.contains("1080 ms")),
            "{r:?}"
        );
        // 1.5 s: room for one cue, not two.
        let f = wav(&fmt, &vec![0u8; 24000]);
        assert!(cue(&f, &ToneCue::default()).is_ok());
        let both = ToneCue {
            at_end: true,
            ..ToneCue::default()
        };
        assert!(matches!(cue(&f, &both), Err(Error::Render(_))));
        for bad in [
            ToneCue {
                frequency: 4000.0,
                ..ToneCue::default()
            },
            ToneCue {
                level: 1.5,
                ..ToneCue::default()
            },
            ToneCue {
                fade_ms: 61,
                ..ToneCue::default()
            },
            ToneCue {
                long_ms: 100,
                ..ToneCue::default()
            },
            ToneCue {
                at_start: false,
                ..ToneCue::default()
            },
        ] {
            assert!(matches!(cue(&f, &bad), Err(Error::Render(_))), "{bad:?}");
        }
    }

    #[test]
    fn rf64_and_other_chunks_are_kept() {
        let fmt = fmt_chunk(1, 1, 8000, 16, None);
        let data: Vec<u8> = (0..20000u32).map(|i| (i % 251) as u8).collect();
        let mut ds64 = 0u64.to_le_bytes().to_vec();
        ds64.extend((data.len() as u64).to_le_bytes());
        ds64.extend(10000u64.to_le_bytes());
        ds64.extend(0u32.to_le_bytes());
        let mut f = b"RF64\xFF\xFF\xFF\xFFWAVEds64".to_vec();
        f.extend((ds64.len() as u32).to_le_bytes());
        f.extend(&ds64);
        f.extend(b"fmt ");
        f.extend((fmt.len() as u32).to_le_bytes());
        f.extend(&fmt);
        f.extend(b"data\xFF\xFF\xFF\xFF");
        let data_at = f.len();
        f.extend(&data);
        f.extend(b"JUNK\x03\0\0\0abc\0trailing");
        let riff_size = f.len() as u64 - 8 - 8;
        f[20..28].copy_from_slice(&riff_size.to_le_bytes());
        let out = cue(&f, &ToneCue::default()).unwrap();
        let window = 8640 * 2;
        assert_eq!(out.len(), f.len());
        assert_eq!(out[..data_at], f[..data_at]);
        assert_ne!(out[data_at..data_at + window], f[data_at..data_at + window]);
        assert_eq!(out[data_at + window..], f[data_at + window..]);
    }

    #[test]
    fn truncated_files_fail_cleanly() {
        let f = wav(&fmt_chunk(1, 1, 8000, 16, None), &vec![0u8; 20000]);
        for n in (0..f.len()).step_by(97).chain(0..60) {
            assert!(cue(&f[..n], &ToneCue::default()).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn envelope() {
        let shape = Shape::new(&ToneCue::default(), 8000);
        assert_eq!(shape.total, 8640);
        assert_eq!(shape.fade, 80);
        // Silent at the very start, full level mid-tone, silent in a gap.
        assert_eq!(shape.at(0).0, 0.0);
        assert!((shape.at(0).1 - 1.0).abs() < 1e-12);
        let peak = (400..560).map(|n| shape.at(n).0.abs()).fold(0.0, f64::max);
        assert!((peak - 0.5).abs() < 0.01, "{peak}");
        assert_eq!(shape.at(1200).0, 0.0);
        assert!((shape.at(1200).1 - 0.5).abs() < 1e-12);
        assert!((shape.at(8639).1 - 1.0).abs() < 1e-12);
    }
}
