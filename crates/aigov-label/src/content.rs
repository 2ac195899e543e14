//! Reading and labelling files: detection, content digest, writing a (signed) label.

use std::io::{SeekFrom, Write};

use sha2::{Digest, Sha256};

use crate::format::{self, Format, Layout, Limits, Source};
use crate::sign::{Binding, Hop, Role, SecurityData, Signer};
use crate::{Aigc, Error, Result};

/// What a file is and what it carries.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The container format.
    pub format: &'static dyn Format,
    /// Carriers, essence and shape.
    pub layout: Layout,
    /// `sha256:<hex>` of the essence.
    pub digest: String,
}

impl Inspection {
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

/// Hashes the essence ranges of `src`.
pub fn digest(src: &mut dyn Source, layout: &Layout) -> Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    for r in &layout.essence {
        src.seek(SeekFrom::Start(r.start))?;
        let mut left = r.end - r.start;
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = src.read(&mut buf[..want])?;
            if n == 0 {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "file shrank while being read",
                )));
            }
            h.update(&buf[..n]);
            left -= n as u64;
        }
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

/// Detects the format, finds the carriers and hashes the essence.
pub fn inspect(src: &mut dyn Source, limits: &Limits) -> Result<Inspection> {
    let format = format::detect(src)?;
    let layout = format.layout(src, limits)?;
    let digest = digest(src, &layout)?;
    Ok(Inspection {
        format,
        layout,
        digest,
    })
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
    let insp = inspect(src, limits)?;
    let mut label = Aigc {
        label: production.kind.code().into(),
        content_producer: production.producer.clone(),
        produce_id: production.produce_id.clone(),
        ..Aigc::default()
    };
    label.check_strict()?;
    if let Some(s) = signer {
        label.reserved_code1 = s.security_data(Role::Producer, &label, &insp.binding(), &[])?;
    }
    write_label(src, dst, insp.format, &label, limits)?;
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
    let insp = inspect(src, limits)?;
    let mut label = current_label(&insp).unwrap_or_else(|| Aigc {
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
    if let Some(s) = signer {
        label.reserved_code2 = s.security_data(Role::Propagator, &label, &insp.binding(), &hops)?;
    }
    write_label(src, dst, insp.format, &label, limits)?;
    Ok(label)
}
