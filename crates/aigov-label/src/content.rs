//! Reading and labelling files: detection, content digest, writing a (signed) label.

use std::io::{Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use crate::format::{self, Format, Layout, Limits, Source};
use crate::sign::{Binding, Hop, Role, SecurityData, Signer};
use crate::{Aigc, Error, Result};

/// The hash of a content digest, written `<name>:<64 hex digits>` in a signature's `d=` item
/// and in the `digest=` line of the signed bytes.
///
/// SHA-256 is the default. BLAKE3 is the option for large media and for platforms that verify
/// many files: it hashes several times faster per core (docs/performance.md), which is most of
/// the cost of signing a video or verifying a large image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum DigestAlg {
    /// SHA-256 (FIPS 180-4).
    #[default]
    Sha256,
    /// BLAKE3 with its default 32-byte output.
    Blake3,
}

impl DigestAlg {
    /// Every algorithm, in the order names are listed in messages.
    pub const ALL: [DigestAlg; 2] = [DigestAlg::Sha256, DigestAlg::Blake3];

    /// The name written before the `:` (`sha256`, `blake3`).
    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha256 => "sha256",
            DigestAlg::Blake3 => "blake3",
        }
    }

    /// The algorithm named `name`, if aigov knows it.
    pub fn from_name(name: &str) -> Option<DigestAlg> {
        DigestAlg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The algorithm of a `<name>:<hex>` digest, if aigov knows it.
    pub fn of(digest: &str) -> Option<DigestAlg> {
        digest.split_once(':').and_then(|(n, _)| Self::from_name(n))
    }
}

impl std::str::FromStr for DigestAlg {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s).ok_or_else(|| {
            let names: Vec<&str> = DigestAlg::ALL.iter().map(|a| a.name()).collect();
            Error::Signature(format!(
                "unknown digest algorithm {s:?} (known: {})",
                names.join(", ")
            ))
        })
    }
}

/// One running hash of either algorithm.
enum Hasher {
    Sha256(Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    fn new(alg: DigestAlg) -> Hasher {
        match alg {
            DigestAlg::Sha256 => Hasher::Sha256(Sha256::new()),
            DigestAlg::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Blake3(h) => {
                h.update(bytes);
            }
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Blake3(h) => format!("blake3:{}", h.finalize().to_hex()),
        }
    }
}

/// What a file is and what it carries.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The container format.
    pub format: &'static dyn Format,
    /// Carriers, essence and shape.
    pub layout: Layout,
    /// `<alg>:<hex>` of the essence: with the algorithm the label's producer signature uses
    /// (or the one asked for when signing), SHA-256 when there is none.
    pub digest: String,
    /// The essence's digest with the other algorithms the label's signatures use, if any.
    pub other_digests: Vec<String>,
}

impl Inspection {
    fn set_digests(&mut self, all: Vec<String>) {
        let mut all = all.into_iter();
        self.digest = all.next().unwrap_or_default();
        self.other_digests = all.collect();
    }

    /// The essence's digest with `alg`, if it was computed.
    pub fn digest_with(&self, alg: DigestAlg) -> Option<&str> {
        std::iter::once(&self.digest)
            .chain(&self.other_digests)
            .find(|d| DigestAlg::of(d) == Some(alg))
            .map(String::as_str)
    }

    /// What a signature over this content binds to.
    pub fn binding(&self) -> Binding {
        Binding {
            digest: self.digest.clone(),
            media_type: self.format.media_type().to_string(),
            shape: self.layout.shape.clone(),
        }
    }

    /// The label of the primary carrier, or of the first alternative one.
    pub fn label_text(&self) -> Option<&str> {
        let c = &self.layout.carriers;
        c.iter()
            .find(|c| c.primary)
            .or_else(|| c.first())
            .map(|c| c.text.as_str())
    }
}

/// Hashes the essence ranges of `src` with `alg`.
pub fn digest(src: &mut dyn Source, layout: &Layout, alg: DigestAlg) -> Result<String> {
    let mut all = digests(src, layout, &[alg])?;
    all.pop()
        .ok_or_else(|| Error::Signature("no digest computed".into()))
}

/// Hashes the essence ranges of `src` once, with each of `algs` (in that order).
pub fn digests(src: &mut dyn Source, layout: &Layout, algs: &[DigestAlg]) -> Result<Vec<String>> {
    hash_with(algs, |update| {
        let mut buf = vec![0u8; 256 * 1024];
        for r in &layout.essence {
            src.seek(SeekFrom::Start(r.start))?;
            let mut left = r.end - r.start;
            while left > 0 {
                let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
                let n = src.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(shrank());
                }
                update(&buf[..n]);
                left -= n as u64;
            }
        }
        Ok(())
    })
}

/// Hashes the essence ranges of a file held in memory (or mapped) with each of `algs`.
pub fn digests_of_bytes(bytes: &[u8], layout: &Layout, algs: &[DigestAlg]) -> Result<Vec<String>> {
    hash_with(algs, |update| {
        for r in &layout.essence {
            let piece = usize::try_from(r.start)
                .ok()
                .zip(usize::try_from(r.end).ok())
                .and_then(|(a, b)| bytes.get(a..b))
                .ok_or_else(shrank)?;
            update(piece);
        }
        Ok(())
    })
}

/// One hasher per algorithm, fed every piece `feed` passes on; the digests in `algs` order.
fn hash_with(
    algs: &[DigestAlg],
    feed: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<()>,
) -> Result<Vec<String>> {
    let mut hashers: Vec<Hasher> = algs.iter().map(|a| Hasher::new(*a)).collect();
    feed(&mut |piece| {
        for h in &mut hashers {
            h.update(piece);
        }
    })?;
    Ok(hashers.into_iter().map(Hasher::finish).collect())
}

fn shrank() -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "file shrank while being read",
    ))
}

/// Detects the format, finds the carriers and hashes the essence with every algorithm the
/// current label's signatures use (SHA-256 when it has none).
pub fn inspect(src: &mut dyn Source, limits: &Limits) -> Result<Inspection> {
    inspect_with(src, limits, None)
}

/// [`inspect`], hashing with `alg` alone when it is given (to sign).
pub fn inspect_with(
    src: &mut dyn Source,
    limits: &Limits,
    alg: Option<DigestAlg>,
) -> Result<Inspection> {
    let mut insp = inspect_layout(src, limits)?;
    let all = digests(src, &insp.layout, &digest_algs(&insp, alg))?;
    insp.set_digests(all);
    Ok(insp)
}

/// [`inspect_with`] for a file held in memory or mapped: the essence is hashed in place.
pub fn inspect_bytes(bytes: &[u8], limits: &Limits, alg: Option<DigestAlg>) -> Result<Inspection> {
    let mut insp = inspect_layout(&mut std::io::Cursor::new(bytes), limits)?;
    let all = digests_of_bytes(bytes, &insp.layout, &digest_algs(&insp, alg))?;
    insp.set_digests(all);
    Ok(insp)
}

/// Format and layout, digests not yet computed.
fn inspect_layout(src: &mut dyn Source, limits: &Limits) -> Result<Inspection> {
    let format = format::detect(src)?;
    let layout = format.layout(src, limits)?;
    Ok(Inspection {
        format,
        layout,
        digest: String::new(),
        other_digests: Vec::new(),
    })
}

/// `alg` alone when given, else every algorithm the label's signatures use.
fn digest_algs(insp: &Inspection, alg: Option<DigestAlg>) -> Vec<DigestAlg> {
    match alg {
        Some(a) => vec![a],
        None => signed_algs(insp),
    }
}

/// The digest algorithms the current label's signatures (producer, propagator, earlier hops)
/// use, the producer's first; SHA-256 when there are none.
fn signed_algs(insp: &Inspection) -> Vec<DigestAlg> {
    let mut codes: Vec<String> = Vec::new();
    if let Some(label) = current_label(insp) {
        let hops = SecurityData::parse(&label.reserved_code2).and_then(|sd| sd.previous());
        codes.push(label.reserved_code1);
        codes.push(label.reserved_code2);
        codes.extend(hops.into_iter().flatten().map(|h| h.code));
    }
    let mut algs = Vec::new();
    for code in &codes {
        if let Some(a) = SecurityData::parse(code)
            .ok()
            .and_then(|sd| DigestAlg::of(&sd.binding.digest))
            && !algs.contains(&a)
        {
            algs.push(a);
        }
    }
    if algs.is_empty() {
        algs.push(DigestAlg::default());
    }
    algs
}

/// The label currently in a file, if any, read leniently.
pub fn current_label(insp: &Inspection) -> Option<Aigc> {
    insp.label_text()
        .and_then(|t| Aigc::parse(t).ok())
        .map(|(l, _)| l)
}

/// Writes a copy of `src` to `dst` carrying `label` (strict form) in the primary carrier.
pub fn write_label(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    format: &dyn Format,
    label: &Aigc,
    limits: &Limits,
) -> Result<()> {
    let json = label.to_json_unchecked()?;
    src.seek(SeekFrom::Start(0))?;
    format.write(src, dst, &json, limits)
}

/// [`write_label`] from a file into a file: through the format's plan when it has one
/// (unchanged ranges copied inside the kernel), else streamed.
pub fn write_label_file(
    src: &mut std::fs::File,
    dst: &mut std::fs::File,
    format: &dyn Format,
    label: &Aigc,
    limits: &Limits,
) -> Result<()> {
    let json = label.to_json_unchecked()?;
    src.seek(SeekFrom::Start(0))?;
    if let Some(plan) = format.plan(src, &json, limits)? {
        format::write_plan_file(src, dst, format.name(), &plan, b"")?;
        return Ok(());
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut *dst);
    write_label(src, &mut out, format, label, limits)?;
    out.flush()?;
    Ok(())
}

/// What a producer states about a file it generated.
#[derive(Debug, Clone)]
pub struct Production {
    /// `Label` ("1" for content the system generated).
    pub kind: crate::LabelKind,
    /// `ContentProducer`.
    pub producer: String,
    /// `ProduceID`.
    pub produce_id: String,
}

/// Labels a generated file as its producer: the label's producer fields, `ReservedCode1` signed
/// by `signer` (left empty without one), propagation fields empty. Returns the label written.
pub fn produce(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    production: &Production,
    signer: Option<&Signer>,
    limits: &Limits,
) -> Result<Aigc> {
    let mut label = Aigc {
        label: production.kind.code().into(),
        content_producer: production.producer.clone(),
        produce_id: production.produce_id.clone(),
        ..Aigc::default()
    };
    label.check_strict()?;
    // The content digest is needed only for a signature.
    let format = match signer {
        Some(s) => {
            let insp = inspect_with(src, limits, Some(s.digest_alg()))?;
            label.reserved_code1 = s.security_data(Role::Producer, &label, &insp.binding(), &[])?;
            insp.format
        }
        None => format::detect(src)?,
    };
    write_label(src, dst, format, &label, limits)?;
    Ok(label)
}

/// What a platform states when it passes content on.
#[derive(Debug, Clone)]
pub struct Propagation {
    /// `ContentPropagator`.
    pub propagator: String,
    /// `PropagateID`.
    pub propagate_id: String,
    /// The `Label` to write when the file has no label (art. 6: "2" when the uploader declared
    /// AI, "3" when only traces suggest it); ignored when the file is labelled.
    pub kind_if_unlabelled: crate::LabelKind,
}

/// Adds a platform's propagation record: keeps the producer fields, sets `ContentPropagator`,
/// `PropagateID` and `ReservedCode2` (signed by `signer`), and keeps earlier platforms' records
/// in the new signature's `p=` list. Returns the label written.
pub fn propagate(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    propagation: &Propagation,
    signer: Option<&Signer>,
    limits: &Limits,
) -> Result<Aigc> {
    let (insp, label, hops) = start_propagation(src, propagation, limits)?;
    finish_propagation(src, dst, insp, label, &hops, signer, limits)
}

/// The file's format and layout (without a digest), the label a propagation writes (before its
/// signature) and the earlier hops to keep.
fn start_propagation(
    src: &mut dyn Source,
    propagation: &Propagation,
    limits: &Limits,
) -> Result<(Inspection, Aigc, Vec<Hop>)> {
    let insp = inspect_layout(src, limits)?;
    let (label, hops) = propagation_label(&insp, propagation)?;
    Ok((insp, label, hops))
}

/// Signs the propagation record (when there is a signer) and writes the labelled copy.
fn finish_propagation(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    mut insp: Inspection,
    mut label: Aigc,
    hops: &[Hop],
    signer: Option<&Signer>,
    limits: &Limits,
) -> Result<Aigc> {
    if let Some(s) = signer {
        // The content digest is needed only for a signature.
        insp.digest = digest(src, &insp.layout, s.digest_alg())?;
        label.reserved_code2 = s.security_data(Role::Propagator, &label, &insp.binding(), hops)?;
    }
    write_label(src, dst, insp.format, &label, limits)?;
    Ok(label)
}

/// The label a propagation writes (before its signature) and the earlier hops to keep.
fn propagation_label(insp: &Inspection, propagation: &Propagation) -> Result<(Aigc, Vec<Hop>)> {
    let mut label = current_label(insp).unwrap_or_else(|| Aigc {
        label: propagation.kind_if_unlabelled.code().into(),
        ..Aigc::default()
    });
    if label.kind().is_none() {
        label.label = propagation.kind_if_unlabelled.code().into();
    }
    // Earlier hops: the previous propagator's own record, after the hops it kept.
    let mut hops = Vec::new();
    if !label.content_propagator.is_empty() || !label.reserved_code2.is_empty() {
        if SecurityData::is_aigov(&label.reserved_code2)
            && let Ok(sd) = SecurityData::parse(&label.reserved_code2)
        {
            hops = sd.previous()?;
        }
        hops.push(Hop {
            propagator: std::mem::take(&mut label.content_propagator),
            id: std::mem::take(&mut label.propagate_id),
            code: std::mem::take(&mut label.reserved_code2),
        });
    }
    label.content_propagator = propagation.propagator.clone();
    label.propagate_id = propagation.propagate_id.clone();
    label.reserved_code2.clear();
    crate::gb45438::check_value("ContentPropagator", &label.content_propagator)?;
    crate::gb45438::check_value("PropagateID", &label.propagate_id)?;
    Ok((label, hops))
}

/// Files at least this large are labelled in one pass when signed (see [`produce_file`]).
pub const ONE_PASS_MIN: u64 = 8 * 1024 * 1024;

/// [`produce`] from a file on disk into a file: for a large file in a format that stores the
/// label verbatim ([`Format::patchable`]), the copy is written with a placeholder of the
/// signature's exact length while a second thread hashes the essence; the signature is then
/// written over the placeholder. The file is read once more for hashing, but in parallel
/// with the copy instead of before it. Other files take the two-pass route of [`produce`].
pub fn produce_file(
    src_path: &std::path::Path,
    dst: &mut std::fs::File,
    production: &Production,
    signer: Option<&Signer>,
    limits: &Limits,
) -> Result<Aigc> {
    let mut src = std::fs::File::open(src_path)?;
    let label = Aigc {
        label: production.kind.code().into(),
        content_producer: production.producer.clone(),
        produce_id: production.produce_id.clone(),
        ..Aigc::default()
    };
    label.check_strict()?;
    let Some(signer) = signer else {
        let format = format::detect(&mut src)?;
        write_label_file(&mut src, dst, format, &label, limits)?;
        return Ok(label);
    };
    if !one_pass(&mut src) {
        return produce(&mut src, dst, production, Some(signer), limits);
    }
    let format = format::detect(&mut src)?;
    if !format.patchable() {
        return produce(&mut src, dst, production, Some(signer), limits);
    }
    let layout = format.layout(&mut src, limits)?;
    one_pass_sign(
        src_path,
        &mut src,
        dst,
        format,
        &layout,
        label,
        Role::Producer,
        signer,
        &[],
        limits,
    )
}

/// [`propagate`] from a file on disk into a file, in one pass for large files like
/// [`produce_file`].
pub fn propagate_file(
    src_path: &std::path::Path,
    dst: &mut std::fs::File,
    propagation: &Propagation,
    signer: Option<&Signer>,
    limits: &Limits,
) -> Result<Aigc> {
    let mut src = std::fs::File::open(src_path)?;
    let (insp, label, hops) = start_propagation(&mut src, propagation, limits)?;
    match signer {
        None => {
            write_label_file(&mut src, dst, insp.format, &label, limits)?;
            Ok(label)
        }
        Some(s) if insp.format.patchable() && one_pass(&mut src) => one_pass_sign(
            src_path,
            &mut src,
            dst,
            insp.format,
            &insp.layout,
            label,
            Role::Propagator,
            s,
            &hops,
            limits,
        ),
        Some(s) => finish_propagation(&mut src, dst, insp, label, &hops, Some(s), limits),
    }
}

fn one_pass(src: &mut std::fs::File) -> bool {
    src.metadata().is_ok_and(|m| m.len() >= ONE_PASS_MIN)
}

#[allow(clippy::too_many_arguments)]
fn one_pass_sign(
    src_path: &std::path::Path,
    src: &mut std::fs::File,
    dst: &mut std::fs::File,
    format: &'static dyn Format,
    layout: &Layout,
    mut label: Aigc,
    role: Role,
    signer: &Signer,
    hops: &[Hop],
    limits: &Limits,
) -> Result<Aigc> {
    let mut binding = Binding {
        digest: String::new(),
        media_type: format.media_type().to_string(),
        shape: layout.shape.clone(),
    };
    let nonce = hex::encode(rand_nonce(src_path)?);
    let placeholder = signer.placeholder(&binding, hops, &nonce)?;
    match role {
        Role::Producer => label.reserved_code1 = placeholder.clone(),
        Role::Propagator => label.reserved_code2 = placeholder.clone(),
    }
    let json = label.to_json_unchecked()?;
    let (digest_result, write_result) = std::thread::scope(|scope| {
        let hasher = scope.spawn(|| -> Result<String> {
            let mut again = std::fs::File::open(src_path)?;
            digest(&mut again, layout, signer.digest_alg())
        });
        let written = (|| -> Result<Option<u64>> {
            src.seek(SeekFrom::Start(0))?;
            if let Some(plan) = format.plan(src, &json, limits)? {
                // Unchanged ranges are copied inside the kernel; the placeholder can only be
                // in the new bytes (the source cannot hold an unpredictable nonce).
                let found = format::write_plan_file(
                    src,
                    dst,
                    format.name(),
                    &plan,
                    placeholder.as_bytes(),
                )?;
                return Ok(match found.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                });
            }
            let mut finder = Finder::new(
                std::io::BufWriter::with_capacity(1 << 20, &mut *dst),
                placeholder.as_bytes(),
            );
            format.write(src, &mut finder, &json, limits)?;
            finder.finish()
        })();
        let digested = hasher
            .join()
            .unwrap_or_else(|_| Err(Error::Signature("the hashing thread failed".into())));
        (digested, written)
    });
    binding.digest = digest_result?;
    let at = write_result?;
    let value = signer.padded_security_data(role, &label, &binding, hops)?;
    match role {
        Role::Producer => label.reserved_code1 = value.clone(),
        Role::Propagator => label.reserved_code2 = value.clone(),
    }
    match at {
        Some(offset) if value.len() == placeholder.len() => {
            dst.seek(SeekFrom::Start(offset))?;
            dst.write_all(value.as_bytes())?;
            dst.flush()?;
        }
        _ => {
            // The placeholder was not stored verbatim exactly once: write the copy again.
            dst.set_len(0)?;
            dst.seek(SeekFrom::Start(0))?;
            write_label_file(src, dst, format, &label, limits)?;
        }
    }
    Ok(label)
}

/// 32 bytes for the placeholder that content cannot contain by chance and an author cannot
/// predict: hashed from the clock, the path and the process. Should the content hold it
/// anyway, or the carrier not store it verbatim, the copy is written again (see
/// [`Finder::finish`]).
fn rand_nonce(path: &std::path::Path) -> Result<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(path.as_os_str().as_encoded_bytes());
    h.update(std::process::id().to_le_bytes());
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.update(t.to_le_bytes());
    Ok(h.finalize().into())
}

/// A writer that passes everything through and finds where `needle` was written.
struct Finder<'a, W: Write> {
    inner: W,
    needle: &'a [u8],
    /// Bytes written so far.
    pos: u64,
    /// The last `needle.len() - 1` bytes written, to find a needle split across writes.
    tail: Vec<u8>,
    found: Vec<u64>,
}

impl<'a, W: Write> Finder<'a, W> {
    fn new(inner: W, needle: &'a [u8]) -> Self {
        Finder {
            inner,
            needle,
            pos: 0,
            tail: Vec::new(),
            found: Vec::new(),
        }
    }

    /// Flushes; the offset of the needle when it was written exactly once.
    fn finish(mut self) -> Result<Option<u64>> {
        self.inner.flush()?;
        Ok(match self.found.as_slice() {
            [one] => Some(*one),
            _ => None,
        })
    }
}

impl<W: Write> Write for Finder<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = &buf[..n];
        let k = self.needle.len();
        if k > 0 {
            // Search the carried tail joined with the new bytes' head, then the new bytes.
            let head = &written[..written.len().min(k - 1)];
            let mut joined = self.tail.clone();
            joined.extend_from_slice(head);
            let base = self.pos - self.tail.len() as u64;
            for i in memchr::memmem::find_iter(&joined, self.needle) {
                if i < self.tail.len() {
                    self.found.push(base + i as u64);
                }
            }
            for i in memchr::memmem::find_iter(written, self.needle) {
                self.found.push(self.pos + i as u64);
            }
            let mut t = std::mem::take(&mut self.tail);
            t.extend_from_slice(written);
            let keep = t.len().min(k - 1);
            self.tail = t[t.len() - keep..].to_vec();
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn find(chunks: &[&[u8]], needle: &[u8]) -> (Vec<u8>, Option<u64>) {
        let mut out = Vec::new();
        let mut f = Finder::new(&mut out, needle);
        for c in chunks {
            f.write_all(c).unwrap();
        }
        let at = f.finish().unwrap();
        (out, at)
    }

    #[test]
    fn finder_sees_needles_split_across_writes_and_refuses_duplicates() {
        let (out, at) = find(&[b"aaaNEE", b"D", b"LEbbb"], b"NEEDLE");
        assert_eq!(out, b"aaaNEEDLEbbb");
        assert_eq!(at, Some(3));
        assert_eq!(
            find(&[b"N", b"E", b"E", b"D", b"L", b"E"], b"NEEDLE").1,
            Some(0)
        );
        assert_eq!(find(&[b"NEEDLE", b"xNEEDLE"], b"NEEDLE").1, None);
        assert_eq!(find(&[b"NEED", b"LExNEE", b"DLE"], b"NEEDLE").1, None);
        assert_eq!(find(&[b"nothing here"], b"NEEDLE").1, None);
    }
}
