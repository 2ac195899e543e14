//! Detection: one regex pass for every pattern, checks on candidates only, context words,
//! thresholds, allow and deny lists. Pure: no IO.

mod checks;
mod patterns;
mod phone;
mod phone_dfa;
mod tokens;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::dfa::{Automaton, OverlappingState, dense};
use regex_automata::util::start;
use regex_automata::{Anchored, Input};

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

// Rows are tracked in a `u64` bit set.
const _: () = assert!(PATTERNS.len() < 64);

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
    /// Every pattern, anchored, leftmost-first: which row matches first at a start.
    all: dense::DFA<Vec<u32>>,
    /// Every pattern, anchored, reporting all matches: which rows match at a start at all.
    every: dense::DFA<Vec<u32>>,
    /// Each pattern alone, anchored: the later rows tried when a check rejects a candidate.
    single: Vec<dense::DFA<Vec<u32>>>,
    /// `pairs[a] & (1 << (b & 63))` in row `b >> 6`: whether any row can start with the bytes
    /// `a b` (read off `all`), so that most positions are skipped without a DFA search.
    pairs: Box<[[u64; 4]; 256]>,
    prefixes: tokens::Prefixes,
    /// The fewest bytes any row matches: no search starts closer than this to a window's end.
    min_len: usize,
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
        // The whole table's DFAs come from the build; a subset's are determinised here.
        let built = (patterns.len() == PATTERNS.len())
            .then(built::dfas)
            .flatten();
        let (all, every, single) = match built {
            Some(dfas) => dfas,
            None => (
                table_dfa(&sources, patterns::MatchKind::LeftmostFirst)?,
                table_dfa(&sources, patterns::MatchKind::All)?,
                sources
                    .iter()
                    .map(|s| table_dfa(std::slice::from_ref(s), patterns::MatchKind::LeftmostFirst))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };

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

        let pairs = start_pairs(&all);
        let mut min_len = usize::MAX;
        for src in &sources {
            let hir = regex_automata::util::syntax::parse(src)
                .map_err(|e| ConfigError::Pattern(e.to_string()))?;
            min_len = min_len.min(hir.properties().minimum_len().unwrap_or(0));
        }
        Ok(Scanner {
            patterns,
            pairs,
            prefixes: tokens::Prefixes::new(),
            min_len: if sources.is_empty() { 0 } else { min_len },
            all,
            every,
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
        let mut tokens = tokens::Tokens::new(b, &self.prefixes);
        // (start with a plate's province character, start of the first token, end)
        let mut window: Option<(usize, usize, usize)> = None;
        let mut done = 0; // end of the last finding
        while let Some((s, i)) = tokens.next() {
            let mut e = i;
            if b[s..i].starts_with(b"-----") {
                e = memchr::memchr(b'\n', &b[i..])
                    .map_or(n, |k| i + k)
                    .min(i + 200);
                tokens.skip_to(e);
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

    /// The pattern pass over `hay[from..to]`; returns the end of the last finding.
    ///
    /// Every row of the table starts at an ASCII word boundary before a word character, or
    /// with `+`, `(`, `:`, `-` or a CJK character (a plate's province); the anchored DFAs are
    /// run from those positions only, in order, which finds the same leftmost match as an
    /// unanchored search without the state blow-up of tracking every possible start at once.
    fn scan_window(
        &self,
        hay: &str,
        from: usize,
        to: usize,
        map: Option<&OffsetMap>,
        out: &mut Vec<Finding>,
    ) -> usize {
        let b = hay.as_bytes();
        let mut at = from;
        let mut last = 0;
        // A match lies inside `start..to`: none starts closer to the end than the shortest row.
        while at < to && to - at >= self.min_len {
            if !self.may_start(b, at) {
                at += 1;
                continue;
            }
            let start = at;
            match self.at_start(hay, start, to) {
                Some(mut f) => {
                    at = f.end.max(start + 1);
                    last = f.end;
                    if let Some(map) = map {
                        f.start = map.original(f.start);
                        f.end = map.original(f.end);
                    }
                    out.push(f);
                }
                None => {
                    // No row starts inside a run of word characters.
                    at = start + 1;
                    if is_word(b[start]) {
                        while at < to && is_word(b[at]) {
                            at += 1;
                        }
                    }
                }
            }
        }
        last
    }

    /// Whether a row of the table can start at `i` (see [`Scanner::scan_window`]): the two
    /// bytes there begin some row, and a word character follows a non-word byte.
    fn may_start(&self, b: &[u8], i: usize) -> bool {
        let Some(&a) = b.get(i) else {
            return false;
        };
        if is_word(a) && i > 0 && is_word(b[i - 1]) {
            return false;
        }
        match b.get(i + 1) {
            Some(&n) => self.pairs[usize::from(a)][usize::from(n >> 6)] & (1 << (n & 63)) != 0,
            None => self.pairs[usize::from(a)].iter().any(|r| *r != 0),
        }
    }

    /// The first row, in table order, that matches at `start` and passes its check.
    fn at_start(&self, hay: &str, start: usize, to: usize) -> Option<Finding> {
        let input = Input::new(hay).range(start..to).anchored(Anchored::Yes);
        let m = self.all.try_search_fwd(&input).ok()??;
        let pid = m.pattern().as_usize();
        if let Some(f) = self.accept(hay, start, m.offset(), pid) {
            return Some(f);
        }
        // Rejected: the later rows that match here at all, in one walk, then each of them
        // alone for its own (leftmost-first) end.
        let mut rows = 0u64;
        let mut state = OverlappingState::start();
        while let Ok(()) = self.every.try_search_overlapping_fwd(&input, &mut state) {
            match state.get_match() {
                Some(hm) => rows |= 1 << (hm.pattern().as_usize() & 63),
                None => break,
            }
        }
        rows &= !((2u64 << pid) - 1);
        while rows != 0 {
            let q = rows.trailing_zeros() as usize;
            rows &= rows - 1;
            if let Ok(Some(m2)) = self.single[q].try_search_fwd(&input)
                && let Some(f) = self.accept(hay, start, m2.offset(), q)
            {
                return Some(f);
            }
        }
        None
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

/// A dense DFA of the rows `sources` (see [`patterns::dfa_config`]; ASCII word boundaries
/// only, so it needs no lazy states at search time).
fn table_dfa(
    sources: &[String],
    kind: patterns::MatchKind,
) -> Result<dense::DFA<Vec<u32>>, ConfigError> {
    dense::Builder::new()
        .configure(patterns::dfa_config(kind))
        .build_many(sources)
        .map_err(|e| ConfigError::Pattern(e.to_string()))
}

/// The DFAs of the whole table as `build.rs` determinised them (determinising them took most
/// of a scan's start-up, about 70 ms), serialised in this machine's byte order.
mod built {
    use regex_automata::dfa::dense;

    #[repr(C)]
    struct Aligned<B: ?Sized> {
        _align: [u32; 0],
        bytes: B,
    }

    include!(concat!(env!("OUT_DIR"), "/table_dfas.rs"));

    /// Deserialises (and so checks) one DFA.
    fn load(a: &Aligned<[u8]>) -> Option<dense::DFA<Vec<u32>>> {
        dense::DFA::from_bytes(&a.bytes)
            .ok()
            .map(|(dfa, _)| dfa.to_owned())
    }

    /// `all`, `every` and `single` of the whole table; `None` if one does not load (the
    /// scanner then builds them).
    #[allow(clippy::type_complexity)]
    pub(super) fn dfas() -> Option<(
        dense::DFA<Vec<u32>>,
        dense::DFA<Vec<u32>>,
        Vec<dense::DFA<Vec<u32>>>,
    )> {
        Some((
            load(ALL)?,
            load(EVERY)?,
            SINGLE.iter().map(|a| load(a)).collect::<Option<Vec<_>>>()?,
        ))
    }
}

/// Which two-byte prefixes can begin a match of `dfa` (anchored, after any kind of byte).
fn start_pairs(dfa: &dense::DFA<Vec<u32>>) -> Box<[[u64; 4]; 256]> {
    let mut pairs = Box::new([[0u64; 4]; 256]);
    for before in [None, Some(b'a'), Some(b' '), Some(b'\n')] {
        let config = start::Config::new()
            .anchored(Anchored::Yes)
            .look_behind(before);
        let Ok(s0) = dfa.start_state(&config) else {
            // No start state for this context: allow everything (only slower).
            *pairs = [[u64::MAX; 4]; 256];
            return pairs;
        };
        for a in 0..=255u8 {
            let s1 = dfa.next_state(s0, a);
            if dfa.is_dead_state(s1) {
                continue;
            }
            for b in 0..=255u8 {
                let s2 = dfa.next_state(s1, b);
                if dfa.is_match_state(s1) || !dfa.is_dead_state(s2) {
                    pairs[usize::from(a)][usize::from(b >> 6)] |= 1 << (b & 63);
                }
            }
        }
    }
    pairs
}

/// Word characters of ASCII word boundaries (`[0-9A-Za-z_]`), as a table: this is asked of
/// every byte of every window.
static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    t
};

/// A word character of ASCII word boundaries.
fn is_word(c: u8) -> bool {
    WORD[usize::from(c)]
}

fn word_bounded(b: &[u8], s: usize, e: usize) -> bool {
    let w = |i: Option<&u8>| i.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    let before = s > 0 && w(b.get(s - 1));
    !before && !w(b.get(e))
}

#[cfg(test)]
mod tests;
