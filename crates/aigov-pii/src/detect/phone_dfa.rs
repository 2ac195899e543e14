//! How a phone-number pattern of libphonenumber's metadata becomes a DFA: shared by the build
//! script, which compiles every pattern and embeds the DFAs, and by the scanner, which compiles
//! a pattern itself only if an embedded DFA cannot be used (a big-endian target). A test
//! checks that both give the same bytes.
//!
//! Anchored DFAs over ASCII: national numbers are ASCII digits, so `\d` need not be Unicode's
//! 760 digits (as Unicode meta regexes, the patterns took 360 ms to compile; this way 60 ms,
//! and 1.5 MB stored sparse). Whitespace in the patterns is insignificant (libphonenumber
//! writes them over several lines).

use regex_automata::dfa::{StartKind, dense, sparse};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;

/// The sparse DFA of `pattern`, or `None` if it does not compile.
pub(crate) fn compile(pattern: &str) -> Option<sparse::DFA<Vec<u8>>> {
    dense::Builder::new()
        .syntax(syntax::Config::new().ignore_whitespace(true).unicode(false))
        .thompson(thompson::Config::new().which_captures(thompson::WhichCaptures::None))
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .minimize(false),
        )
        .build(pattern)
        .ok()?
        .to_sparse()
        .ok()
}
