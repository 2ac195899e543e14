//! Detection: one regex pass for every pattern, checks on candidates only, context words,
//! thresholds, allow and deny lists. Pure: no IO.

mod checks;
mod patterns;
mod phone;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::{Anchored, Input, meta};

use crate::entity::{Entity, EntityType};
use crate::normalize::{OffsetMap, needs_normalisation, normalise_into};
use checks::Verdict;
use patterns::{CONTEXT, PATTERNS, Pattern};

/// How far before and after a candidate context words are looked for, in bytes (about five
/// English words, or sixteen Chinese characters, before; half that after).
const CONTEXT_BEFORE: usize = 48;
const CONTEXT_AFTER: usize = 24;
/// Interesting tokens at most this many bytes apart are scanned as one window.
const GAP: usize = 6;
/// The shortest ASCII span an identifier takes (`A12345` after a plate's province character,
/// `a@b.cn`); shorter windows (`2024`, `Q3`, `10:30`) are not searched.
const MIN_SPAN: usize = 6;

/// Bytes of a token: printable ASCII.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c <= 0x7E {
        t[c] = true;
        c += 1;
    }
    t
};

/// Bytes that make a token worth a regex pass: digits, `@`, `:`, `_`.
static MARK: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'0' as usize;
    while c <= b'9' as usize {
        t[c] = true;
        c += 1;
    }
    t[b'@' as usize] = true;
    t[b':' as usize] = true;
    t[b'_' as usize] = true;
    t
};

/// Presidio's context enhancement: +0.35, and at least 0.4 with context.
const CONTEXT_BOOST: f32 = 0.35;
const CONTEXT_FLOOR: f32 = 0.4;

/// One detected entity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// Byte offset of the first byte, in the scanned text.
    pub start: usize,
    /// Byte offset just after the last byte.
    pub end: usize,
    /// What was found.
    pub entity: Entity,
    /// Confidence in 0..=1 (Presidio's meaning: base score per pattern, 1.0 for a passing
    /// checksum, raised by context words).
    pub score: f32,
    /// Whether a validator (checksum, numbering plan, parser) confirmed it.
    pub validated: bool,
}

/// A deny list: words always reported as `entity`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenyList {
    /// Entity name reported for these words (for example `EMPLOYEE_NAME`).
    pub entity: String,
    /// The words; ASCII words match case-insensitively at word boundaries.
    pub words: Vec<String>,
}

/// Scanner configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerConfig {
    /// Types to detect (`None`: all built-in types).
    pub entities: Option<Vec<EntityType>>,
    /// Minimum score reported, for types without their own threshold.
    pub threshold: f32,
    /// Per-type minimum scores.
    pub thresholds: HashMap<EntityType, f32>,
    /// Values never reported (exact match after full-width normalisation).
    pub allow: Vec<String>,
    /// Words always reported.
    pub deny: Vec<DenyList>,
    /// Whether context words raise scores (and admit context-only candidates).
    pub context: bool,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            entities: None,
            threshold: 0.4,
            thresholds: HashMap::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            context: true,
        }
    }
}

/// Why a scanner could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A threshold outside 0..=1.
    #[error("threshold {0} is outside 0..=1")]
    Threshold(f32),
    /// A deny list with an empty or invalid entity name or no words.
    #[error("deny list {0:?}: {1}")]
    DenyList(String, &'static str),
    /// The pattern table did not compile (a bug).
    #[error("pattern table: {0}")]
    Pattern(String),
}

/// A compiled scanner. Cheap to share between threads (`&Scanner` is `Sync`).
#[derive(Debug)]
pub struct Scanner {
    patterns: Vec<Pattern>,
    all: meta::Regex,
    single: Vec<meta::Regex>,
    context: Option<AhoCorasick>,
    context_masks: Vec<u32>,
    context_ascii: Vec<bool>,
    thresholds: [f32; 32],
    allow: HashSet<String>,
    deny: Option<AhoCorasick>,
    deny_entity: Vec<u16>,
    deny_ascii: Vec<bool>,
    deny_names: Vec<String>,
}

thread_local! {
    static NORMALISED: RefCell<(String, OffsetMap)> = RefCell::new((String::new(), OffsetMap::default()));
}

fn bit(e: EntityType) -> u32 {
    1 << (e as u32)
}

impl Scanner {
    /// Compiles a scanner.
    pub fn new(config: &ScannerConfig) -> Result<Scanner, ConfigError> {
        let enabled = |e: EntityType| config.entities.as_ref().is_none_or(|l| l.contains(&e));
        let patterns: Vec<Pattern> = PATTERNS
            .iter()
            .copied()
            .filter(|p| enabled(p.entity))
            .collect();
        let sources: Vec<String> = patterns.iter().map(patterns::expanded).collect();
        // The lazy DFA of ~30 patterns needs more than the default 2 MiB of cache, or it keeps
        // rebuilding states; 32 MiB per thread holds it.
        let all = meta::Builder::new()
            .configure(meta::Config::new().hybrid_cache_capacity(32 << 20))
            .build_many(&sources)
            .map_err(|e| ConfigError::Pattern(e.to_string()))?;
        let single = sources
            .iter()
            .map(|s| meta::Regex::new(s).map_err(|e| ConfigError::Pattern(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;

        let mut thresholds = [config.threshold; 32];
        for t in std::iter::once(&config.threshold).chain(config.thresholds.values()) {
            if !(0.0..=1.0).contains(t) {
                return Err(ConfigError::Threshold(*t));
            }
        }
        for (e, t) in &config.thresholds {
            thresholds[*e as usize] = *t;
        }

        let (context, context_masks, context_ascii) = if config.context {
            let mut words: Vec<&str> = Vec::new();
            let mut masks: Vec<u32> = Vec::new();
            for (e, list) in CONTEXT {
                for w in *list {
                    match words.iter().position(|x| x == w) {
                        Some(i) => masks[i] |= bit(*e),
                        None => {
                            words.push(w);
                            masks.push(bit(*e));
                        }
                    }
                }
            }
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(&words)
                .map_err(|e| ConfigError::Pattern(e.to_string()))?;
            let ascii = words.iter().map(|w| w.is_ascii()).collect();
            (Some(ac), masks, ascii)
        } else {
            (None, Vec::new(), Vec::new())
        };

        let mut deny_words = Vec::new();
        let mut deny_entity = Vec::new();
        let mut deny_names = Vec::new();
        for (i, d) in config.deny.iter().enumerate() {
            let name_ok = !d.entity.is_empty()
                && d.entity
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !name_ok {
                return Err(ConfigError::DenyList(
                    d.entity.clone(),
                    "entity names are A-Z, 0-9 and _",
                ));
            }
            if d.words.iter().all(|w| w.trim().is_empty()) {
                return Err(ConfigError::DenyList(d.entity.clone(), "no words"));
            }
            let idx = u16::try_from(i)
                .map_err(|_| ConfigError::DenyList(d.entity.clone(), "too many deny lists"))?;
            deny_names.push(d.entity.clone());
            for w in d.words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
                deny_words.push(w.to_string());
                deny_entity.push(idx);
            }
        }
        let deny = if deny_words.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&deny_words)
                    .map_err(|e| ConfigError::Pattern(e.to_string()))?,
            )
        };
        let deny_ascii = deny_words.iter().map(|w| w.is_ascii()).collect();
        let allow = config
            .allow
            .iter()
            .map(|a| {
                let (mut s, mut m) = (String::new(), OffsetMap::default());
                normalise_into(a.trim(), &mut s, &mut m);
                s
            })
            .collect();

        Ok(Scanner {
            patterns,
            all,
            single,
            context,
            context_masks,
            context_ascii,
            thresholds,
            allow,
            deny,
            deny_entity,
            deny_ascii,
            deny_names,
        })
    }

    /// A scanner for every built-in type with the default settings.
    pub fn with_defaults() -> Scanner {
        // The default table is covered by tests; failing to compile it is a bug caught there.
        #[allow(clippy::expect_used)]
        Scanner::new(&ScannerConfig::default()).expect("default pattern table compiles")
    }

    /// The name of an entity as reported (`CN_RESIDENT_ID`, or a deny list's name).
    pub fn entity_name(&self, e: Entity) -> &str {
        match e {
            Entity::Builtin(t) => t.name(),
            Entity::Custom(i) => self
                .deny_names
                .get(usize::from(i))
                .map_or("DENY_LIST", String::as_str),
        }
    }

    /// Scans one string. Allocates nothing when there is nothing to report (the returned
    /// vector is empty and unallocated; internal buffers are reused per thread).
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        self.scan_into(text, &mut out);
        out
    }

    /// Scans one string, appending findings (sorted by start, not overlapping) to `out`.
    pub fn scan_into(&self, text: &str, out: &mut Vec<Finding>) {
        let first = out.len();
        if needs_normalisation(text) {
            let done = NORMALISED.with(|cell| match cell.try_borrow_mut() {
                Ok(mut guard) => {
                    let (buf, map) = &mut *guard;
                    normalise_into(text, buf, map);
                    self.scan_ascii(buf, Some(map), out);
                    true
                }
                Err(_) => false,
            });
            if !done {
                let (mut buf, mut map) = (String::new(), OffsetMap::default());
                normalise_into(text, &mut buf, &mut map);
                self.scan_ascii(&buf, Some(&map), out);
            }
        } else {
            self.scan_ascii(text, None, out);
        }
        if self.deny.is_some() {
            self.scan_deny(text, first, out);
        }
    }

    /// Finds the windows of `hay` that can hold an identifier and runs the regex pass on
    /// those only. Every pattern needs a token (a run of printable ASCII) that holds a digit,
    /// `@`, `:` or `_`, is at least 20 bytes long (provider keys), or starts with `www.` or
    /// `-----` (PEM); tokens of plain words, spaces and CJK text are skipped at memory speed.
    /// Interesting tokens closer than [`GAP`] bytes share a window, so that grouped numbers
    /// (`4111 1111 1111 1111`, `GB82 WEST 1234 …`) stay whole; a window starts three bytes
    /// early for the province character of a licence plate, and a PEM header's window runs
    /// to the end of its line. The regex sees the whole text as context (boundaries), and its
    /// checks may extend a match past the window (a PEM block).
    fn scan_ascii(&self, hay: &str, map: Option<&OffsetMap>, out: &mut Vec<Finding>) {
        let b = hay.as_bytes();
        let n = b.len();
        let mut i = 0;
        // (start with a plate's province character, start of the first token, end)
        let mut window: Option<(usize, usize, usize)> = None;
        let mut done = 0; // end of the last finding
        while i < n {
            if !TOKEN[usize::from(b[i])] {
                i += 1;
                continue;
            }
            let s = i;
            let mut interesting = false;
            while i < n && TOKEN[usize::from(b[i])] {
                interesting |= MARK[usize::from(b[i])];
                i += 1;
            }
            let tok = &b[s..i];
            let pem = tok.starts_with(b"-----");
            if !(interesting
                || pem
                || tok.len() >= 20
                || tok.starts_with(b"www.")
                || tok.starts_with(b"WWW."))
            {
                continue;
            }
            let mut e = i;
            if pem {
                e = memchr::memchr(b'\n', &b[i..])
                    .map_or(n, |k| i + k)
                    .min(i + 200);
                i = e;
            }
            // After non-ASCII text, look back for a plate's province character (and the
            // letter and middle dot of `京A·12345`); that character counts toward the span.
            let (ws, t) = if s >= 3 && b[s - 1] >= 0x80 {
                let mut ws = s.saturating_sub(8);
                while !hay.is_char_boundary(ws) {
                    ws += 1;
                }
                (ws, s - 3)
            } else {
                (s, s)
            };
            window = match window {
                Some((a, t0, z)) if ws <= z + GAP => Some((a, t0, e)),
                Some((a, t, z)) => {
                    if z - t >= MIN_SPAN {
                        done = self.scan_window(hay, a.max(done), z, map, out).max(done);
                    }
                    Some((ws, t, e))
                }
                None => Some((ws, t, e)),
            };
        }
        if let Some((a, t, z)) = window
            && z - t >= MIN_SPAN
        {
            self.scan_window(hay, a.max(done), z, map, out);
        }
    }

    /// The regex pass over `hay[from..to]`; returns the end of the last finding.
    fn scan_window(
        &self,
        hay: &str,
        from: usize,
        to: usize,
        map: Option<&OffsetMap>,
        out: &mut Vec<Finding>,
    ) -> usize {
        let mut at = from;
        while !hay.is_char_boundary(at) {
            at += 1;
        }
        let mut last = 0;
        while at < to {
            let Some(m) = self.all.search(&Input::new(hay).range(at..to)) else {
                break;
            };
            let (start, pid) = (m.start(), m.pattern().as_usize());
            let mut found = self.accept(hay, start, m.end(), pid);
            if found.is_none() {
                for q in pid + 1..self.patterns.len() {
                    let input = Input::new(hay).range(start..to).anchored(Anchored::Yes);
                    if let Some(m2) = self.single[q].search(&input) {
                        found = self.accept(hay, start, m2.end(), q);
                        if found.is_some() {
                            break;
                        }
                    }
                }
            }
            match found {
                Some(mut f) => {
                    at = f.end.max(start + 1);
                    last = f.end;
                    if let Some(map) = map {
                        f.start = map.original(f.start);
                        f.end = map.original(f.end);
                    }
                    out.push(f);
                }
                None => at = next_char(hay, start),
            }
            while at < hay.len() && !hay.is_char_boundary(at) {
                at += 1;
            }
        }
        last
    }

    fn accept(&self, hay: &str, start: usize, end: usize, pid: usize) -> Option<Finding> {
        let p = self.patterns.get(pid)?;
        let (verdict, end) = checks::check(p.check, hay, start, end);
        let mut score = match verdict {
            Verdict::Invalid => return None,
            Verdict::Confirmed => p.confirmed,
            Verdict::Plausible | Verdict::NeedsContext => p.score,
        };
        if !self.allow.is_empty() && self.allow.contains(hay.get(start..end)?) {
            return None;
        }
        if score < 1.0 || verdict == Verdict::NeedsContext {
            if self.has_context(hay, start, end, p.entity) {
                score = (score + CONTEXT_BOOST).clamp(CONTEXT_FLOOR, 1.0);
            } else if verdict == Verdict::NeedsContext {
                return None;
            }
        }
        if score < self.thresholds[p.entity as usize] {
            return None;
        }
        Some(Finding {
            start,
            end,
            entity: Entity::Builtin(p.entity),
            score,
            validated: verdict == Verdict::Confirmed,
        })
    }

    fn has_context(&self, hay: &str, start: usize, end: usize, entity: EntityType) -> bool {
        let Some(ac) = &self.context else {
            return false;
        };
        let b = hay.as_bytes();
        let lo = start.saturating_sub(CONTEXT_BEFORE);
        let hi = (end + CONTEXT_AFTER).min(b.len());
        let want = bit(entity);
        ac.find_overlapping_iter(&b[lo..hi]).any(|m| {
            let i = m.pattern().as_usize();
            let (s, e) = (lo + m.start(), lo + m.end());
            let inside = s < end && e > start;
            self.context_masks[i] & want != 0
                && !inside
                && (!self.context_ascii[i] || word_bounded(b, s, e))
        })
    }

    fn scan_deny(&self, text: &str, first: usize, out: &mut Vec<Finding>) {
        let Some(ac) = &self.deny else {
            return;
        };
        let b = text.as_bytes();
        let before = out.len();
        for m in ac.find_iter(b) {
            let i = m.pattern().as_usize();
            if self.deny_ascii[i] && !word_bounded(b, m.start(), m.end()) {
                continue;
            }
            let overlaps = out[first..before]
                .iter()
                .any(|f| f.start < m.end() && m.start() < f.end);
            if !overlaps {
                out.push(Finding {
                    start: m.start(),
                    end: m.end(),
                    entity: Entity::Custom(self.deny_entity[i]),
                    score: 1.0,
                    validated: false,
                });
            }
        }
        if out.len() > before {
            out[first..].sort_by_key(|f| f.start);
        }
    }
}

fn word_bounded(b: &[u8], s: usize, e: usize) -> bool {
    let w = |i: Option<&u8>| i.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let before = s > 0 && w(b.get(s - 1));
    !before && !w(b.get(e))
}

fn next_char(s: &str, i: usize) -> usize {
    let mut j = i + 1;
    while j < s.len() && !s.is_char_boundary(j) {
        j += 1;
    }
    j
}

#[cfg(test)]
mod tests;
