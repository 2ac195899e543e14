//! Header validation of the formats that hold tensors but no code: safetensors and GGUF.
//! A header that lies (sizes, offsets, overlaps, lengths beyond the file) is a finding: loaders
//! have crashed or read out of bounds on such files. GGUF chat templates are checked for
//! the Jinja escapes that ran code in llama-cpp-python (CVE-2024-34359).

use std::collections::BTreeMap;

use serde_json::Value;

/// Largest safetensors header accepted (the reference implementation's limit).
pub const SAFETENSORS_MAX_HEADER: u64 = 100_000_000;

/// What a header check found.
#[derive(Debug, Clone, Default)]
pub struct HeaderReport {
    /// Problems, each a sentence naming the tensor or key concerned.
    pub problems: Vec<String>,
    /// Number of tensors described.
    pub tensors: usize,
    /// Metadata worth reporting (e.g. a GGUF chat template's suspicious constructs).
    pub notes: Vec<String>,
    /// Suspicious template constructs (GGUF).
    pub template_findings: Vec<String>,
}

fn dtype_size(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 1,
        "I16" | "U16" | "F16" | "BF16" => 2,
        "I32" | "U32" | "F32" => 4,
        "I64" | "U64" | "F64" | "C64" => 8,
        "F4" | "F6_E2M3" | "F6_E3M2" => return None,
        _ => return None,
    })
}

/// Checks a safetensors file given its first bytes (header) and its total length.
pub fn check_safetensors(head: &[u8], file_len: u64) -> HeaderReport {
    let mut r = HeaderReport::default();
    if head.len() < 8 {
        r.problems
            .push("shorter than the 8-byte header length".into());
        return r;
    }
    let n = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
    if n > SAFETENSORS_MAX_HEADER {
        r.problems.push(format!(
            "declares a header of {n} bytes (limit {SAFETENSORS_MAX_HEADER})"
        ));
        return r;
    }
    if 8 + n > file_len {
        r.problems.push(format!(
            "declares a header of {n} bytes but the file has {file_len}"
        ));
        return r;
    }
    let Some(text) = head.get(8..8 + n as usize) else {
        r.problems.push("header not read whole".into());
        return r;
    };
    let v: Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            r.problems.push(format!("header is not JSON: {e}"));
            return r;
        }
    };
    let Some(obj) = v.as_object() else {
        r.problems.push("header is not a JSON object".into());
        return r;
    };
    let data_len = file_len - 8 - n;
    let mut spans: Vec<(u64, u64, &str)> = Vec::new();
    for (name, t) in obj {
        if name == "__metadata__" {
            if !t
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string))
            {
                r.problems
                    .push("__metadata__ is not a map of strings".into());
            }
            continue;
        }
        r.tensors += 1;
        let dtype = t["dtype"].as_str().unwrap_or("");
        let shape: Option<Vec<u64>> = t["shape"]
            .as_array()
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let offs: Option<Vec<u64>> = t["data_offsets"]
            .as_array()
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let (Some(shape), Some(offs)) = (shape, offs) else {
            r.problems.push(format!(
                "tensor `{name}`: shape or data_offsets missing or not integers"
            ));
            continue;
        };
        if offs.len() != 2 || offs[0] > offs[1] {
            r.problems
                .push(format!("tensor `{name}`: data_offsets is not [begin, end]"));
            continue;
        }
        if offs[1] > data_len {
            r.problems.push(format!(
                "tensor `{name}`: data ends at {} beyond the {data_len} bytes of data",
                offs[1]
            ));
        }
        match dtype_size(dtype) {
            Some(size) => {
                let want = shape.iter().try_fold(size, |acc, d| acc.checked_mul(*d));
                if want != Some(offs[1] - offs[0]) {
                    r.problems.push(format!(
                        "tensor `{name}`: {dtype} {shape:?} needs {} bytes, data_offsets give {}",
                        want.map_or("more than 2^64".into(), |w| w.to_string()),
                        offs[1] - offs[0]
                    ));
                }
            }
            None if dtype.is_empty() => {
                r.problems.push(format!("tensor `{name}`: dtype missing"));
            }
            None => r
                .notes
                .push(format!("tensor `{name}`: dtype {dtype} not checked")),
        }
        spans.push((offs[0], offs[1], name));
    }
    spans.sort();
    let mut end = 0;
    for (b, e, name) in &spans {
        if *b < end {
            r.problems.push(format!(
                "tensor `{name}` overlaps the previous tensor's data"
            ));
        } else if *b > end {
            r.problems
                .push(format!("a gap of {} bytes before tensor `{name}`", b - end));
        }
        end = end.max(*e);
    }
    if end != data_len && r.problems.is_empty() {
        r.problems.push(format!(
            "tensors cover {end} bytes but the file holds {data_len} bytes of data"
        ));
    }
    r
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], String> {
        let rest = (self.data.len() - self.pos) as u64;
        if n > rest {
            return Err(format!(
                "{what} at byte {} declares {n} bytes but only {rest} remain in the header read",
                self.pos
            ));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().unwrap_or([0; 4]),
        ))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8, what)?.try_into().unwrap_or([0; 8]),
        ))
    }

    fn skip_string(&mut self, what: &str) -> Result<(), String> {
        let n = self.u64(what)?;
        self.take(n, what).map(|_| ())
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        let n = self.u64(what)?;
        Ok(String::from_utf8_lossy(self.take(n, what)?).into_owned())
    }
}

/// A key as shown in messages (keys can be megabytes long in hostile files).
fn clip_key(key: &str) -> String {
    if key.len() <= 80 {
        return key.to_string();
    }
    let mut end = 80;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &key[..end])
}

/// GGUF value types with a fixed size.
fn gguf_scalar_size(t: u32) -> Option<u64> {
    Some(match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

/// GGUF tensor types: (block size in elements, bytes per block).
fn ggml_type(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),      // F32
        1 => (1, 2),      // F16
        2 => (32, 18),    // Q4_0
        3 => (32, 20),    // Q4_1
        6 => (32, 22),    // Q5_0
        7 => (32, 24),    // Q5_1
        8 => (32, 34),    // Q8_0
        9 => (32, 36),    // Q8_1
        10 => (256, 84),  // Q2_K
        11 => (256, 110), // Q3_K
        12 => (256, 144), // Q4_K
        13 => (256, 176), // Q5_K
        14 => (256, 210), // Q6_K
        15 => (256, 292), // Q8_K
        24 => (1, 1),     // I8
        25 => (1, 2),     // I16
        26 => (1, 4),     // I32
        27 => (1, 8),     // I64
        28 => (1, 8),     // F64
        30 => (1, 2),     // BF16
        _ => return None,
    })
}

/// Jinja constructs that reach Python internals from a chat template.
pub fn template_escapes(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let gadgets = [
        "__class__",
        "__mro__",
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__import__",
        "__init__",
        "__base__",
        "__bases__",
        "__dict__",
        "__getattribute__",
        "func_globals",
        "lipsum",
        "cycler",
        "joiner",
        "namespace.__",
        "os.popen",
        "subprocess",
        "eval(",
        "exec(",
        "|attr(",
        "attr('__",
        "attr(\"__",
        "\\x5f\\x5f",
        "request.application",
        "config.items",
        "self._TemplateReference",
    ];
    for g in gadgets {
        if template.contains(g) {
            out.push(format!("chat template uses `{g}`"));
        }
    }
    out
}

/// Checks a GGUF header (the first bytes of the file, up to the end of its tensor infos or
/// as much as was read) against the file's length.
pub fn check_gguf(head: &[u8], file_len: u64) -> HeaderReport {
    let mut r = HeaderReport::default();
    if let Err(e) = gguf_inner(head, file_len, &mut r) {
        r.problems.push(e);
    }
    r
}

fn gguf_inner(head: &[u8], file_len: u64, r: &mut HeaderReport) -> Result<(), String> {
    let mut c = Cursor { data: head, pos: 0 };
    if c.take(4, "magic")? != b"GGUF" {
        return Err("not a GGUF file".into());
    }
    let version = c.u32("version")?;
    if !(2..=3).contains(&version) {
        return Err(format!("GGUF version {version} is not supported (2, 3)"));
    }
    let tensors = c.u64("tensor count")?;
    let kvs = c.u64("metadata count")?;
    // Each entry needs at least a few bytes: counts larger than the file are lies.
    if tensors > file_len / 24 || kvs > file_len / 12 {
        return Err(format!(
            "declares {tensors} tensors and {kvs} metadata entries, more than a {file_len}-byte file can hold"
        ));
    }
    let mut alignment = 32u64;
    let mut meta: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..kvs {
        let key = c.string("metadata key")?;
        let t = c.u32("metadata type")?;
        match t {
            8 => {
                let s = c.string(&format!("value of `{key}`"))?;
                meta.insert(key.clone(), s);
            }
            9 => {
                let et = c.u32(&format!("array type of `{key}`"))?;
                let n = c.u64(&format!("array length of `{key}`"))?;
                if n > file_len {
                    return Err(format!("array `{key}` declares {n} items"));
                }
                match (et, gguf_scalar_size(et)) {
                    (_, Some(sz)) => {
                        let bytes = n
                            .checked_mul(sz)
                            .ok_or(format!("array `{key}` too large"))?;
                        c.take(bytes, &format!("array `{key}`"))?;
                    }
                    (8, None) => {
                        let what = format!("array `{}`", clip_key(&key));
                        for _ in 0..n {
                            c.skip_string(&what)?;
                        }
                    }
                    _ => return Err(format!("array `{key}` has unsupported item type {et}")),
                }
            }
            t => {
                let sz = gguf_scalar_size(t)
                    .ok_or_else(|| format!("metadata `{key}` has unknown type {t}"))?;
                let b = c.take(sz, &format!("value of `{key}`"))?;
                if key == "general.alignment" && t == 4 {
                    alignment = u64::from(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
                }
            }
        }
    }
    if alignment == 0 || !alignment.is_power_of_two() {
        return Err(format!(
            "general.alignment {alignment} is not a power of two"
        ));
    }
    for (k, v) in &meta {
        if k.starts_with("tokenizer.chat_template") {
            for f in template_escapes(v) {
                r.template_findings.push(format!("{k}: {f}"));
            }
        }
    }
    let mut spans = Vec::new();
    for i in 0..tensors {
        let name = c.string(&format!("tensor {i} name"))?;
        let dims = c.u32(&format!("tensor `{name}` dimensions"))?;
        if dims == 0 || dims > 8 {
            return Err(format!("tensor `{name}` has {dims} dimensions"));
        }
        let mut elems: u64 = 1;
        for _ in 0..dims {
            let d = c.u64(&format!("tensor `{name}` shape"))?;
            elems = elems
                .checked_mul(d)
                .ok_or_else(|| format!("tensor `{name}` has more than 2^64 elements"))?;
        }
        let ty = c.u32(&format!("tensor `{name}` type"))?;
        let off = c.u64(&format!("tensor `{name}` offset"))?;
        if off % alignment != 0 {
            r.problems.push(format!(
                "tensor `{name}` offset {off} is not aligned to {alignment}"
            ));
        }
        let size = ggml_type(ty).and_then(|(block, bytes)| {
            elems
                .is_multiple_of(block)
                .then(|| (elems / block).checked_mul(bytes))?
        });
        spans.push((off, size, name));
        r.tensors += 1;
    }
    let data_start = (c.pos as u64).div_ceil(alignment) * alignment;
    let data_len = file_len.saturating_sub(data_start);
    spans.sort_by_key(|s| s.0);
    let mut end = 0u64;
    for (off, size, name) in &spans {
        if *off < end {
            r.problems
                .push(format!("tensor `{name}` overlaps the previous tensor"));
        }
        match size {
            Some(sz) => {
                let e = off.checked_add(*sz).unwrap_or(u64::MAX);
                if e > data_len {
                    r.problems.push(format!(
                        "tensor `{name}` ends at {e}, beyond the {data_len} bytes of tensor data"
                    ));
                }
                end = end.max(e);
            }
            None => {
                r.notes
                    .push(format!("tensor `{name}`: size of its type not checked"));
                end = end.max(*off);
            }
        }
    }
    Ok(())
}
