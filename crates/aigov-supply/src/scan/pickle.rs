//! A pickle opcode interpreter that never executes anything.
//!
//! It follows the stack, the memo and marks through protocols 0 to 5 and records every
//! callable the pickle imports (`GLOBAL`, `INST`, `STACK_GLOBAL` with its operands rebuilt from
//! the stack or the memo) and every site that calls or builds objects (`REDUCE`, `BUILD`,
//! `NEWOBJ`, `NEWOBJ_EX`, `INST`, `OBJ`), with a short preview of the arguments. Operands it
//! cannot resolve (a `STACK_GLOBAL` whose module or name is not a plain string, extension
//! registry codes) are reported as such: a scanner that guesses is a scanner that is bypassed.
//!
//! Limits keep hostile input bounded: stack and memo sizes, nesting of marks, previews cut
//! at a few hundred bytes, and string lengths checked against the bytes actually present.

use std::collections::HashMap;
use std::rc::Rc;

/// Largest stack (values) followed.
const MAX_STACK: usize = 1 << 20;
/// Largest memo (entries).
const MAX_MEMO: usize = 1 << 20;
/// Longest string kept whole (longer ones keep a preview and cannot name a callable).
const MAX_KEEP: usize = 1024;
/// Items kept in a tuple, list or dict (keys and values), for previews and for the joblib
/// array headers (six key/value pairs).
const MAX_ITEMS: usize = 16;
/// Most distinct callables recorded (imports, first calls).
const MAX_DISTINCT: usize = 100_000;
/// Deepest nesting of pickles inside pickles (joblib object arrays).
const MAX_NESTED: usize = 8;
/// The joblib class whose `BUILD` is followed by raw array bytes.
const JOBLIB_WRAPPER: (&str, &str) = ("joblib.numpy_pickle", "NumpyArrayWrapper");

/// A value on the interpreter's stack, reduced to what matters for the analysis.
#[derive(Debug, Clone)]
pub enum Value {
    /// A text or bytes string (whole if short, else `truncated`).
    Str {
        /// The text (lossy for bytes).
        text: Rc<str>,
        /// Whether the string was longer than what is kept.
        truncated: bool,
    },
    /// An integer (or a long too large to keep, as `None`).
    Int(Option<i64>),
    /// Float, bool, None and other scalars.
    Scalar(&'static str),
    /// A callable imported by the pickle.
    Global(Rc<Callable>),
    /// The result of calling or instantiating a callable, with its first arguments.
    Object(Rc<Callable>, Rc<Vec<Value>>),
    /// A tuple, list, dict or set; the first items are kept for previews.
    Container {
        /// `tuple`, `list`, `dict`, `set`, `frozenset`.
        kind: &'static str,
        /// First items.
        items: Rc<Vec<Value>>,
    },
    /// A persistent id reference (how PyTorch points at tensor storages).
    Persistent,
    /// A value the analysis does not know.
    Unknown,
}

impl Value {
    fn preview(&self, out: &mut String, depth: usize) {
        if out.len() > 200 {
            return;
        }
        match self {
            Value::Str { text, truncated } => {
                let t: String = text.chars().take(80).collect();
                out.push_str(&format!("{t:?}"));
                if *truncated || text.chars().count() > 80 {
                    out.push('…');
                }
            }
            Value::Int(Some(i)) => out.push_str(&i.to_string()),
            Value::Int(None) => out.push_str("<int>"),
            Value::Scalar(s) => out.push_str(s),
            Value::Global(c) => out.push_str(&c.qualified()),
            Value::Object(c, _) => {
                out.push_str(&c.qualified());
                out.push_str("(…)");
            }
            Value::Container { kind, items } => {
                if depth > 3 {
                    out.push_str(kind);
                    return;
                }
                let (open, close) = match *kind {
                    "list" => ("[", "]"),
                    "dict" | "set" | "frozenset" => ("{", "}"),
                    _ => ("(", ")"),
                };
                out.push_str(open);
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.preview(out, depth + 1);
                }
                out.push_str(close);
            }
            Value::Persistent => out.push_str("<persistent id>"),
            Value::Unknown => out.push('?'),
        }
    }

    /// A short rendering for reports.
    pub fn render(&self) -> String {
        let mut s = String::new();
        self.preview(&mut s, 0);
        s
    }

    /// Nesting kept for previews: containers more than a few levels deep lose their items,
    /// so that hostile nesting cannot build (or recursively drop) deep structures.
    fn depth(&self) -> usize {
        match self {
            Value::Container { items, .. } | Value::Object(_, items) => {
                1 + items.iter().map(Value::depth).max().unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Keeps kept values shallow: hostile nesting (of containers or of call results fed to
    /// other calls) can neither grow deep structures nor overflow the stack when they are
    /// dropped.
    fn flatten_deep(&mut self) {
        match self {
            Value::Container { items, .. } | Value::Object(_, items)
                if items.iter().any(|v| v.depth() >= 3) =>
            {
                *items = Rc::new(Vec::new());
            }
            _ => {}
        }
    }

    fn as_name(&self) -> Option<Rc<str>> {
        match self {
            Value::Str {
                text,
                truncated: false,
            } => Some(text.clone()),
            _ => None,
        }
    }
}

/// A callable a pickle imports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Callable {
    /// Module (`None` when it could not be resolved).
    pub module: Option<String>,
    /// Attribute name (`None` when it could not be resolved).
    pub name: Option<String>,
}

impl Callable {
    /// `module.name`, with `?` for unresolved parts.
    pub fn qualified(&self) -> String {
        format!(
            "{}.{}",
            self.module.as_deref().unwrap_or("?"),
            self.name.as_deref().unwrap_or("?")
        )
    }
}

/// How a callable got on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOp {
    /// `GLOBAL` (protocols 0–3).
    Global,
    /// `INST` (protocol 0).
    Inst,
    /// `STACK_GLOBAL` (protocol 4+).
    StackGlobal,
    /// `EXT1`/`EXT2`/`EXT4`: a code in the copyreg extension registry.
    Extension,
}

/// An import seen in the pickle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Byte offset of the first import of this callable.
    pub offset: u64,
    /// The opcode.
    pub op: ImportOp,
    /// The callable.
    pub callable: Callable,
    /// How many times the pickle imports it.
    pub count: u64,
}

/// A call or construction site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Byte offset of the opcode.
    pub offset: u64,
    /// `REDUCE`, `BUILD`, `NEWOBJ`, `NEWOBJ_EX`, `INST`, `OBJ`.
    pub op: &'static str,
    /// The callable, if the interpreter knows it.
    pub callable: Option<Callable>,
    /// Preview of the arguments.
    pub args: String,
}

/// What one pickle (up to its `STOP`) contains.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Every distinct callable imported, in order of first import.
    pub imports: Vec<Import>,
    /// The first call site of each callable, in order.
    pub calls: Vec<Call>,
    /// Call sites not kept in `calls` (later calls, unknown callees).
    pub call_count: u64,
    /// Highest protocol declared.
    pub protocol: u8,
    /// Bytes consumed, `STOP` included.
    pub length: u64,
    /// The value the pickle returns (its top of stack at `STOP`).
    pub result: Option<Value>,
    /// Uses persistent ids (PyTorch storages).
    pub persistent_ids: bool,
}

/// A pickle that cannot be interpreted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed pickle at byte {offset}: {message}")]
pub struct PickleError {
    /// Offset of the failing opcode.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
    /// Whether the data ran out (truncated input, or a length beyond the bytes present).
    pub truncated: bool,
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    out: Analysis,
    op_at: usize,
    nested: usize,
    import_index: HashMap<Callable, usize>,
    called: std::collections::HashSet<Callable>,
}

type R<T> = Result<T, PickleError>;

impl<'a> Machine<'a> {
    fn fail<T>(&self, message: impl Into<String>) -> R<T> {
        Err(PickleError {
            offset: self.base + self.op_at as u64,
            message: message.into(),
            truncated: false,
        })
    }

    fn fail_short<T>(&self, message: impl Into<String>) -> R<T> {
        Err(PickleError {
            offset: self.base + self.op_at as u64,
            message: message.into(),
            truncated: true,
        })
    }

    fn take(&mut self, n: u64) -> R<&'a [u8]> {
        let rest = self.data.len() - self.pos;
        if n > rest as u64 {
            return self.fail_short(format!(
                "declares {n} bytes but only {rest} remain (truncated or hostile length)"
            ));
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn le(&mut self, n: usize) -> R<u64> {
        let b = self.take(n as u64)?;
        let mut v = 0u64;
        for (i, x) in b.iter().enumerate() {
            v |= u64::from(*x) << (8 * i);
        }
        Ok(v)
    }

    fn line(&mut self) -> R<&'a [u8]> {
        let rest = &self.data[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => self.fail_short("a line argument has no newline (truncated)"),
        }
    }

    fn push(&mut self, v: Value) -> R<()> {
        if self.stack.len() >= MAX_STACK {
            return self.fail("stack grows beyond the scanner's limit (hostile nesting)");
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> R<Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.fail("pops from an empty stack");
        }
        Ok(self.stack.pop().unwrap_or(Value::Unknown))
    }

    fn top(&mut self) -> R<&mut Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.fail("reads an empty stack");
        }
        let i = self.stack.len() - 1;
        Ok(&mut self.stack[i])
    }

    fn pop_mark(&mut self) -> R<Vec<Value>> {
        let Some(m) = self.marks.pop() else {
            return self.fail("no mark on the stack");
        };
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn string(&self, bytes: &[u8]) -> Value {
        let truncated = bytes.len() > MAX_KEEP;
        let kept = &bytes[..bytes.len().min(MAX_KEEP)];
        Value::Str {
            text: Rc::from(String::from_utf8_lossy(kept).as_ref()),
            truncated,
        }
    }

    fn import(&mut self, op: ImportOp, module: Option<Rc<str>>, name: Option<Rc<str>>) -> R<()> {
        let callable = Rc::new(Callable {
            module: module.map(|m| m.to_string()),
            name: name.map(|n| n.to_string()),
        });
        match self.import_index.get(callable.as_ref()) {
            Some(&i) => self.out.imports[i].count += 1,
            None if self.import_index.len() >= MAX_DISTINCT => {
                return self.fail(format!(
                    "imports more than {MAX_DISTINCT} distinct callables; not analysed further"
                ));
            }
            None => {
                self.import_index
                    .insert((*callable).clone(), self.out.imports.len());
                self.out.imports.push(Import {
                    offset: self.base + self.op_at as u64,
                    op,
                    callable: (*callable).clone(),
                    count: 1,
                });
            }
        }
        if op != ImportOp::Inst {
            self.push(Value::Global(callable))?;
        }
        Ok(())
    }

    fn call(&mut self, op: &'static str, callee: &Value, args: &Value) -> Value {
        let callable = match callee {
            Value::Global(c) | Value::Object(c, _) => Some((**c).clone()),
            _ => None,
        };
        // The first call of each callable is kept (with its arguments); later ones are counted.
        match &callable {
            Some(c) if !self.called.contains(c) && self.called.len() < MAX_DISTINCT => {
                self.called.insert(c.clone());
                self.out.calls.push(Call {
                    offset: self.base + self.op_at as u64,
                    op,
                    callable: callable.clone(),
                    args: args.render(),
                });
            }
            _ => self.out.call_count += 1,
        }
        match callable {
            Some(c) => {
                let mut kept = match args {
                    Value::Container { items, .. } => items.as_ref().clone(),
                    other => vec![other.clone()],
                };
                kept.truncate(MAX_ITEMS);
                for v in &mut kept {
                    v.flatten_deep();
                }
                Value::Object(Rc::new(c), Rc::new(kept))
            }
            None => Value::Unknown,
        }
    }

    fn memo_put(&mut self, key: u64) -> R<()> {
        let v = self.top()?.clone();
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&key) {
            return self.fail("memo grows beyond the scanner's limit");
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> R<()> {
        match self.memo.get(&key) {
            Some(v) => {
                let v = v.clone();
                self.push(v)
            }
            None => self.fail(format!("memo key {key} read before it was written")),
        }
    }

    fn container(kind: &'static str, items: Vec<Value>) -> Value {
        let mut items = items;
        items.truncate(MAX_ITEMS);
        for v in &mut items {
            v.flatten_deep();
        }
        Value::Container {
            kind,
            items: Rc::new(items),
        }
    }

    fn extend_top(&mut self, items: Vec<Value>) -> R<()> {
        let top = self.top()?;
        if let Value::Container { items: kept, .. } = top
            && kept.len() < MAX_ITEMS
        {
            let v = Rc::make_mut(kept);
            let room = MAX_ITEMS - v.len();
            v.extend(items.into_iter().take(room).map(|mut x| {
                x.flatten_deep();
                x
            }));
        }
        Ok(())
    }

    /// joblib writes an array's bytes right after the `BUILD` of its `NumpyArrayWrapper`: a
    /// nested pickle for object arrays, else an optional alignment padding (one length byte,
    /// then that many bytes) and `prod(shape) * itemsize` raw bytes. They are skipped (or, for
    /// object arrays, interpreted) so that the opcodes after them are read too.
    fn joblib_array(&mut self, state: &Value) -> R<()> {
        let Value::Container { items, .. } = state else {
            return self.fail("joblib array header is not a dict");
        };
        if items.len() >= MAX_ITEMS {
            return self.fail("joblib array header has more keys than the scanner keeps");
        }
        let mut shape = None;
        let mut dtype = None;
        let mut aligned = false;
        let mut seen = std::collections::HashSet::new();
        for kv in items.chunks(2) {
            let [Value::Str { text: k, .. }, v] = kv else {
                continue;
            };
            if !seen.insert(k.clone()) {
                return self.fail(format!("joblib array header repeats the key `{k}`"));
            }
            match (k.as_ref(), v) {
                ("shape", Value::Container { items, .. }) if items.len() < MAX_ITEMS => {
                    shape = items
                        .iter()
                        .map(|d| match d {
                            Value::Int(Some(n)) => u64::try_from(*n).ok(),
                            _ => None,
                        })
                        .collect::<Option<Vec<u64>>>();
                }
                ("dtype", Value::Object(c, args)) if c.name.as_deref() == Some("dtype") => {
                    if let Some(Value::Str { text, .. }) = args.first() {
                        dtype = Some(text.clone());
                    }
                }
                ("numpy_array_alignment_bytes", Value::Int(Some(_))) => aligned = true,
                _ => {}
            }
        }
        let (Some(shape), Some(dtype)) = (shape, dtype) else {
            return self.fail(
                "joblib array of unknown shape or dtype: the array data that follows cannot be skipped",
            );
        };
        let code = dtype.trim_start_matches(['<', '>', '|', '=']);
        let kind: String = code
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let digits = &code[kind.len()..];
        let digits = digits.split('[').next().unwrap_or("");
        if kind == "O" {
            if self.nested >= MAX_NESTED {
                return self.fail("pickles nested deeper than the scanner follows");
            }
            let inner = analyse_nested(
                &self.data[self.pos..],
                self.base + self.pos as u64,
                self.nested + 1,
            )?;
            self.pos += inner.length as usize;
            for imp in inner.imports {
                match self.import_index.get(&imp.callable) {
                    Some(&i) => self.out.imports[i].count += imp.count,
                    None => {
                        self.import_index
                            .insert(imp.callable.clone(), self.out.imports.len());
                        self.out.imports.push(imp);
                    }
                }
            }
            for call in inner.calls {
                if let Some(c) = &call.callable
                    && self.called.insert(c.clone())
                {
                    self.out.calls.push(call);
                } else {
                    self.out.call_count += 1;
                }
            }
            self.out.call_count += inner.call_count;
            return Ok(());
        }
        // Only NumPy's canonical one-letter codes (as `dtype.__reduce__` writes them) are
        // skipped; anything else (structured `V` dtypes, which may hold objects, or names
        // like `float64`) could make the scanner lose its place.
        if !matches!(
            kind.as_str(),
            "b" | "i" | "u" | "f" | "c" | "M" | "m" | "S" | "U"
        ) {
            return self.fail(format!(
                "joblib array dtype `{dtype}` cannot be sized safely (structured or non-canonical)"
            ));
        }
        let Ok(size) = digits.parse::<u64>() else {
            return self.fail(format!("joblib array dtype `{dtype}` has no item size"));
        };
        let itemsize = if kind == "U" {
            size.saturating_mul(4)
        } else {
            size
        };
        if aligned {
            let pad = self.u8()?;
            self.take(u64::from(pad))?;
        }
        let bytes = shape
            .iter()
            .try_fold(itemsize, |acc, d| acc.checked_mul(*d));
        match bytes {
            Some(n) => {
                self.take(n)?;
                Ok(())
            }
            None => self.fail("joblib array size overflows"),
        }
    }

    fn decimal(&self, line: &[u8]) -> Value {
        let t = std::str::from_utf8(line)
            .unwrap_or("")
            .trim_end_matches('L');
        match t {
            "00" => Value::Scalar("False"),
            "01" => Value::Scalar("True"),
            _ => Value::Int(t.parse().ok()),
        }
    }

    fn step(&mut self) -> R<bool> {
        self.op_at = self.pos;
        let op = self.u8()?;
        match op {
            b'(' => {
                if self.marks.len() >= MAX_STACK {
                    return self.fail("too many marks");
                }
                self.marks.push(self.stack.len());
            }
            b'.' => return Ok(true),
            b'0' => {
                self.pop()?;
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.push(v)?;
            }
            b'F' => {
                self.line()?;
                self.push(Value::Scalar("float"))?;
            }
            b'I' | b'L' => {
                let l = self.line()?;
                let v = self.decimal(l);
                self.push(v)?;
            }
            b'J' => {
                let v = self.le(4)? as u32 as i32;
                self.push(Value::Int(Some(i64::from(v))))?;
            }
            b'K' => {
                let v = self.le(1)?;
                self.push(Value::Int(Some(v as i64)))?;
            }
            b'M' => {
                let v = self.le(2)?;
                self.push(Value::Int(Some(v as i64)))?;
            }
            b'N' => self.push(Value::Scalar("None"))?,
            0x88 => self.push(Value::Scalar("True"))?,
            0x89 => self.push(Value::Scalar("False"))?,
            0x8a => {
                let n = self.le(1)?;
                let b = self.take(n)?;
                let v = if b.len() <= 8 && !b.is_empty() {
                    let mut x: i64 = if b[b.len() - 1] & 0x80 != 0 { -1 } else { 0 };
                    for byte in b.iter().rev() {
                        x = (x << 8) | i64::from(*byte);
                    }
                    Some(x)
                } else if b.is_empty() {
                    Some(0)
                } else {
                    None
                };
                self.push(Value::Int(v))?;
            }
            0x8b => {
                let n = self.le(4)?;
                self.take(n)?;
                self.push(Value::Int(None))?;
            }
            b'G' => {
                self.take(8)?;
                self.push(Value::Scalar("float"))?;
            }
            b'P' => {
                self.line()?;
                self.out.persistent_ids = true;
                self.push(Value::Persistent)?;
            }
            b'Q' => {
                self.pop()?;
                self.out.persistent_ids = true;
                self.push(Value::Persistent)?;
            }
            b'S' => {
                let l = self.line()?;
                let t = l
                    .strip_prefix(b"'")
                    .and_then(|x| x.strip_suffix(b"'"))
                    .or_else(|| l.strip_prefix(b"\"").and_then(|x| x.strip_suffix(b"\"")));
                let Some(t) = t else {
                    return self.fail("STRING argument is not quoted");
                };
                let v = self.string(t);
                self.push(v)?;
            }
            b'V' => {
                let l = self.line()?;
                let v = self.string(l);
                self.push(v)?;
            }
            b'T' | b'X' | b'B' => {
                let n = self.le(4)?;
                let b = self.take(n)?;
                let v = self.string(b);
                self.push(v)?;
            }
            b'U' | b'C' | 0x8c => {
                let n = self.le(1)?;
                let b = self.take(n)?;
                let v = self.string(b);
                self.push(v)?;
            }
            0x8d | 0x8e | 0x96 => {
                let n = self.le(8)?;
                let b = self.take(n)?;
                let v = self.string(b);
                self.push(v)?;
            }
            0x97 => self.push(Value::Unknown)?,
            0x98 => {}
            b'a' => {
                let v = self.pop()?;
                self.extend_top(vec![v])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend_top(items)?;
            }
            b'b' => {
                let state = self.pop()?;
                let obj = self.top()?.clone();
                // BUILD sets state on the object in place: the object keeps its identity.
                self.call("BUILD", &obj, &state);
                if let Value::Object(c, _) = &obj
                    && c.module.as_deref() == Some(JOBLIB_WRAPPER.0)
                    && c.name.as_deref() == Some(JOBLIB_WRAPPER.1)
                {
                    self.joblib_array(&state)?;
                }
            }
            b'c' => {
                let m = self.line()?;
                let n = self.line()?;
                let m = self.string(m).as_name();
                let n = self.string(n).as_name();
                self.import(ImportOp::Global, m, n)?;
            }
            0x93 => {
                let n = self.pop()?;
                let m = self.pop()?;
                self.import(ImportOp::StackGlobal, m.as_name(), n.as_name())?;
            }
            b'i' => {
                let m = self.line()?;
                let n = self.line()?;
                let m = self.string(m).as_name();
                let n = self.string(n).as_name();
                self.import(ImportOp::Inst, m.clone(), n.clone())?;
                let args = self.pop_mark()?;
                let callee = Value::Global(Rc::new(Callable {
                    module: m.map(|x| x.to_string()),
                    name: n.map(|x| x.to_string()),
                }));
                let r = self.call("INST", &callee, &Self::container("tuple", args));
                self.push(r)?;
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return self.fail("OBJ without a class");
                }
                let cls = items.remove(0);
                let r = self.call("OBJ", &cls, &Self::container("tuple", items));
                self.push(r)?;
            }
            0x82..=0x84 => {
                let n = match op {
                    0x82 => 1,
                    0x83 => 2,
                    _ => 4,
                };
                let code = self.le(n)?;
                self.import(
                    ImportOp::Extension,
                    None,
                    Some(Rc::from(format!("<extension code {code}>").as_str())),
                )?;
            }
            b'R' => {
                let args = self.pop()?;
                let f = self.pop()?;
                let r = self.call("REDUCE", &f, &args);
                self.push(r)?;
            }
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let r = self.call("NEWOBJ", &cls, &args);
                self.push(r)?;
            }
            0x92 => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let all = Self::container("tuple", vec![args, kwargs]);
                let r = self.call("NEWOBJ_EX", &cls, &all);
                self.push(r)?;
            }
            b'd' => {
                let items = self.pop_mark()?;
                self.push(Self::container("dict", items))?;
            }
            b'}' => self.push(Self::container("dict", Vec::new()))?,
            b'l' => {
                let items = self.pop_mark()?;
                self.push(Self::container("list", items))?;
            }
            b']' => self.push(Self::container("list", Vec::new()))?,
            b't' => {
                let items = self.pop_mark()?;
                self.push(Self::container("tuple", items))?;
            }
            b')' => self.push(Self::container("tuple", Vec::new()))?,
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                items.reverse();
                self.push(Self::container("tuple", items))?;
            }
            0x8f => self.push(Self::container("set", Vec::new()))?,
            0x90 => {
                let items = self.pop_mark()?;
                self.extend_top(items)?;
            }
            0x91 => {
                let items = self.pop_mark()?;
                self.push(Self::container("frozenset", items))?;
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                self.extend_top(vec![k, v])?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                self.extend_top(items)?;
            }
            b'g' => {
                let l = self.line()?;
                let Some(k) = std::str::from_utf8(l).ok().and_then(|s| s.parse().ok()) else {
                    return self.fail("GET argument is not a number");
                };
                self.memo_get(k)?;
            }
            b'h' => {
                let k = self.le(1)?;
                self.memo_get(k)?;
            }
            b'j' => {
                let k = self.le(4)?;
                self.memo_get(k)?;
            }
            b'p' => {
                let l = self.line()?;
                let Some(k) = std::str::from_utf8(l).ok().and_then(|s| s.parse().ok()) else {
                    return self.fail("PUT argument is not a number");
                };
                self.memo_put(k)?;
            }
            b'q' => {
                let k = self.le(1)?;
                self.memo_put(k)?;
            }
            b'r' => {
                let k = self.le(4)?;
                self.memo_put(k)?;
            }
            0x94 => {
                let k = self.memo.len() as u64;
                self.memo_put(k)?;
            }
            0x80 => {
                let p = self.u8()?;
                if p > 5 {
                    return self.fail(format!("unsupported protocol {p}"));
                }
                self.out.protocol = self.out.protocol.max(p);
            }
            0x95 => {
                let n = self.le(8)?;
                let rest = (self.data.len() - self.pos) as u64;
                if n > rest {
                    return self.fail(format!(
                        "frame of {n} bytes but only {rest} remain (truncated or hostile length)"
                    ));
                }
            }
            other => {
                return self.fail(format!("unknown opcode 0x{other:02x}"));
            }
        }
        Ok(false)
    }
}

/// Interprets one pickle starting at `data[0]`; `base` is its offset in the file (for
/// reports).
pub fn analyse(data: &[u8], base: u64) -> Result<Analysis, PickleError> {
    analyse_nested(data, base, 0)
}

fn analyse_nested(data: &[u8], base: u64, nested: usize) -> Result<Analysis, PickleError> {
    let mut m = Machine {
        data,
        pos: 0,
        base,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        out: Analysis::default(),
        op_at: 0,
        nested,
        import_index: HashMap::new(),
        called: std::collections::HashSet::new(),
    };
    loop {
        if m.pos >= data.len() {
            m.op_at = m.pos;
            return m.fail_short("ends without a STOP opcode (truncated)");
        }
        if m.step()? {
            m.out.length = m.pos as u64;
            m.out.result = m.stack.pop();
            return Ok(m.out);
        }
    }
}

/// Whether a byte is a pickle opcode (protocols 0–5).
fn is_opcode(b: u8) -> bool {
    matches!(b, 0x80..=0x98) || b"(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu})]G".contains(&b)
}

/// Whether `data` starts like a pickle: a `PROTO` opcode with a known protocol followed by an
/// opcode, or opcodes that interpret cleanly up to a `STOP` or up to the end of `data` (a
/// pickle longer than the bytes looked at).
pub fn looks_like_pickle(data: &[u8]) -> bool {
    match data {
        [0x80, p, next, ..] => *p <= 5 && is_opcode(*next),
        [first, ..] if is_opcode(*first) => {
            let probe = &data[..data.len().min(1 << 20)];
            match analyse(probe, 0) {
                Ok(a) => !a.imports.is_empty() || a.length >= 4,
                Err(e) => e.truncated && e.offset >= 4,
            }
        }
        _ => false,
    }
}
