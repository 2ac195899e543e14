//! Phone-number validity from libphonenumber's metadata (as shipped in the `phonenumber`
//! crate), with the patterns compiled once per country calling code into regex-automata.
//!
//! The `phonenumber` crate parses with nom and keeps its compiled patterns in a 100-entry
//! cache for ~2,500 patterns, so validating numbers from many countries recompiles regexes
//! all the time; building its database also parses every pattern first (~70 ms). Here the
//! build script copies the metadata validity needs into a static table (`build.rs`), and
//! validity is decided the way the crate's `is_valid` decides it (the same region selection
//! for shared calling codes, the same descriptor order, possible lengths, patterns matched
//! from the first digit), on the patterns of the same metadata, compiled per calling code on
//! first use; a differential test in `tests` checks both agree on every example number of the
//! metadata and on variants.
//!
//! The patterns are compiled by the build script into anchored sparse DFAs over ASCII
//! (`phone_dfa.rs`), embedded in one blob; a calling code's DFAs are read (and checked) the
//! first time a number with that code is seen. A test checks the embedded DFAs are what the
//! patterns compile to.

use std::sync::OnceLock;

use regex_automata::dfa::{Automaton, sparse};
use regex_automata::{Anchored, Input};

use super::phone_dfa;

/// One number-type descriptor of the metadata.
struct DescMeta {
    /// The national-number pattern (libphonenumber syntax: whitespace is insignificant).
    pattern: &'static str,
    /// Its DFA in [`DFAS`] (offset, length); `None` if the pattern does not compile.
    dfa: Option<(usize, usize)>,
    /// Possible lengths of the national number (empty: any).
    lengths: &'static [u16],
}

/// One region (country) of a calling code in the metadata.
struct RegionMeta {
    /// The leading-digits pattern, with its DFA as for [`DescMeta::dfa`].
    leading: Option<(&'static str, Option<(usize, usize)>)>,
    general: DescMeta,
    /// Premium rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail, fixed
    /// line, mobile (those the region has).
    types: &'static [DescMeta],
    national_prefix: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/phone_meta.rs"));

/// A compiled pattern: matches when the pattern matches at the start of the number, which is
/// how the `phonenumber` crate applies it (`find` starting at 0).
enum Pattern {
    /// Read from the embedded blob.
    Embedded(sparse::DFA<&'static [u8]>),
    /// Compiled here (the embedded bytes are unusable on a big-endian target).
    Compiled(sparse::DFA<Vec<u8>>),
}

impl Pattern {
    fn new(pattern: &str, dfa: Option<(usize, usize)>) -> Option<Pattern> {
        let (at, len) = dfa?;
        let embedded = DFAS
            .get(at..at.checked_add(len)?)
            .and_then(|bytes| sparse::DFA::from_bytes(bytes).ok());
        match embedded {
            Some((dfa, _)) => Some(Pattern::Embedded(dfa)),
            None => phone_dfa::compile(pattern).map(Pattern::Compiled),
        }
    }

    fn matches_start(&self, national: &str) -> bool {
        let input = Input::new(national).anchored(Anchored::Yes).earliest(true);
        // Errors come only from quit bytes, which these DFAs have none of.
        let found = match self {
            Pattern::Embedded(d) => d.try_search_fwd(&input),
            Pattern::Compiled(d) => d.try_search_fwd(&input),
        };
        matches!(found, Ok(Some(_)))
    }
}

struct Desc {
    re: Pattern,
    lengths: &'static [u16],
}

impl Desc {
    fn new(d: &DescMeta) -> Option<Desc> {
        Some(Desc {
            re: Pattern::new(d.pattern, d.dfa)?,
            lengths: d.lengths,
        })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.re.matches_start(national)
    }
}

struct Region {
    leading: Option<Pattern>,
    general: Desc,
    /// Validity needs one of them.
    types: Vec<Desc>,
    national_prefix: Option<&'static str>,
}

impl Region {
    fn new(m: &RegionMeta) -> Option<Region> {
        Some(Region {
            leading: m.leading.and_then(|(p, dfa)| Pattern::new(p, dfa)),
            general: Desc::new(&m.general)?,
            types: m.types.iter().filter_map(Desc::new).collect(),
            national_prefix: m.national_prefix,
        })
    }

    fn valid(&self, national: &str) -> bool {
        self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
    }

    fn leads(&self, national: &str) -> bool {
        self.leading
            .as_ref()
            .is_some_and(|l| l.matches_start(national))
    }
}

/// Regions per calling code (1..=999), compiled on first use of the code.
fn regions(code: u16) -> Option<&'static [Region]> {
    static COMPILED: OnceLock<Vec<OnceLock<Vec<Region>>>> = OnceLock::new();
    let compiled = COMPILED.get_or_init(|| (0..1000).map(|_| OnceLock::new()).collect());
    let slot = compiled.get(usize::from(code))?;
    let list = slot.get_or_init(|| {
        CODES
            .binary_search_by_key(&code, |(c, _)| *c)
            .ok()
            .and_then(|i| CODES.get(i))
            .map(|(_, regions)| regions.iter().filter_map(Region::new).collect())
            .unwrap_or_default()
    });
    (!list.is_empty()).then_some(list.as_slice())
}

/// Whether `national` (digits) is a valid number under calling code `code`.
pub(crate) fn valid_national(code: u16, national: &str) -> bool {
    let Some(regions) = regions(code) else {
        return false;
    };
    if let [only] = regions {
        return only.valid(national);
    }
    // Shared codes (+1, +7, +44 …): the first region whose leading digits match, or that
    // finds the number valid, decides.
    regions
        .iter()
        .find(|r| r.leads(national) || r.valid(national))
        .is_some_and(|r| r.valid(national))
}

/// Whether a number written internationally (`digits` after the `+`) is valid: the calling
/// code is the first one to three digits that name a known code.
pub(crate) fn valid_international(digits: &str) -> bool {
    (1..=3).any(|n| {
        digits.len() > n
            && digits[..n]
                .parse::<u16>()
                .ok()
                .filter(|c| regions(*c).is_some())
                .is_some_and(|c| {
                    let national = &digits[n..];
                    valid_national(c, national)
                        || strip_prefix(c, national).is_some_and(|s| valid_national(c, s))
                })
    })
}

/// Whether a nationally written number is valid in the country of calling code `code`
/// (with or without its national prefix, such as the 0 of `020 7946 0958`).
pub(crate) fn valid_in(code: u16, digits: &str) -> bool {
    valid_national(code, digits)
        || strip_prefix(code, digits).is_some_and(|s| valid_national(code, s))
}

fn strip_prefix(code: u16, digits: &str) -> Option<&str> {
    let p = regions(code)?.first()?.national_prefix?;
    digits.strip_prefix(p).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::metadata::DATABASE;

    fn theirs(s: &str) -> bool {
        phonenumber::parse(None, s).is_ok_and(|n| phonenumber::is_valid(&n))
    }

    /// Every example number of the metadata, and variants of it, get the same verdict as
    /// the `phonenumber` crate's parser and validator.
    #[test]
    fn agrees_with_the_phonenumber_crate() {
        let mut checked = 0;
        let mut disagree = Vec::new();
        for m in DATABASE.iter() {
            let d = m.descriptors();
            let descs = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.voip(),
                d.uan(),
            ];
            for ex in descs.into_iter().flatten().filter_map(|x| x.example()) {
                let cc = m.country_code();
                let mut variants = vec![
                    ex.to_string(),
                    format!("{ex}0"),
                    ex[..ex.len().saturating_sub(1)].to_string(),
                ];
                if let Some(first) = ex.chars().next() {
                    variants.push(format!(
                        "{}{}",
                        if first == '9' { '1' } else { '9' },
                        &ex[1..]
                    ));
                }
                for v in variants.into_iter().filter(|v| v.len() >= 4) {
                    let ours = valid_international(&format!("{cc}{v}"));
                    let want = theirs(&format!("+{cc} {v}"));
                    checked += 1;
                    if ours != want {
                        disagree.push(format!("+{cc} {v}: ours {ours}, phonenumber {want}"));
                    }
                }
            }
        }
        assert!(checked > 2000, "{checked}");
        // A handful of corner cases (national prefixes inside international numbers) may
        // differ; anything more is a bug.
        assert!(
            disagree.len() * 200 <= checked,
            "{} of {checked} differ: {:?}",
            disagree.len(),
            &disagree[..disagree.len().min(20)]
        );
    }

    /// The embedded DFAs are what the patterns compile to here (the build script and the
    /// scanner share `phone_dfa`), and every pattern has one.
    #[test]
    fn the_embedded_dfas_are_what_the_patterns_compile_to() {
        let mut checked = 0;
        for (_, regions) in CODES {
            for r in regions.iter() {
                let descs = std::iter::once(&r.general).chain(r.types.iter());
                let leading = r.leading.iter().map(|(p, dfa)| (*p, *dfa));
                for (pattern, dfa) in descs.map(|d| (d.pattern, d.dfa)).chain(leading) {
                    let (at, len) = dfa.unwrap_or_else(|| panic!("no DFA for {pattern:?}"));
                    let compiled = phone_dfa::compile(pattern)
                        .unwrap()
                        .to_bytes_little_endian();
                    assert_eq!(&DFAS[at..at + len], &compiled[..], "{pattern:?}");
                    assert!(matches!(
                        Pattern::new(pattern, dfa),
                        Some(Pattern::Embedded(_))
                    ));
                    checked += 1;
                }
            }
        }
        assert!(checked > 1400, "{checked}");
    }

    /// The build script's table is sorted (looked up by binary search) and has every calling
    /// code of the metadata.
    #[test]
    fn table_is_sorted_and_complete() {
        assert!(CODES.windows(2).all(|w| w[0].0 < w[1].0));
        let codes: Vec<u16> = (1..1000).filter(|c| DATABASE.region(c).is_some()).collect();
        let ours: Vec<u16> = CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(ours, codes);
        assert!(codes.len() > 200, "{}", codes.len());
    }

    #[test]
    fn national_numbers() {
        assert!(valid_in(1, "4155552671"));
        assert!(valid_in(44, "02079460958"));
        assert!(!valid_in(44, "0207946095"));
        assert!(valid_international("14155552671"));
        assert!(!valid_international("9991234567"));
    }
}
