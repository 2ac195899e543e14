//! Finding the tokens worth a pattern pass, 64 bytes at a time.
//!
//! A *token* is a maximal run of printable ASCII (`!`..=`~`). Every identifier lies in one
//! (plus, for a licence plate, the CJK character before it), and a token is *interesting*
//! when it holds a digit, `@`, `:` or `_`, is at least [`LONG`] bytes long (provider keys),
//! or starts with `www.`/`WWW.` or `-----` (a PEM header). Plain words, spaces and CJK text are
//! never interesting, and most text is made of them.
//!
//! The byte loop that decides this one byte at a time costs about three cycles a byte. Here
//! each 64-byte block is classified with loops the compiler vectorises (a flag byte per input
//! byte, packed eight at a time into a bit mask by one multiplication), and bit operations on
//! two consecutive blocks find the positions that make a token interesting: a mark byte or the
//! start of a run of [`LONG`] token bytes; the rare prefixes `www.`, `WWW.` and `-----` are
//! found once per text by substring search. Only the tokens around those
//! positions are looked at byte by byte. [`Tokens`] yields exactly the interesting tokens the
//! byte loop yields (a test checks both on random text).

/// A token this long is interesting without a mark (an API key of letters only).
pub(crate) const LONG: usize = 20;

/// Whether `c` is a token byte (printable ASCII).
pub(crate) fn is_token(c: u8) -> bool {
    c.wrapping_sub(0x21) < 0x5E
}

/// Whether `c` makes its token interesting: a digit, `@`, `:`, `_`.
pub(crate) fn is_mark(c: u8) -> bool {
    c.wrapping_sub(b'0') < 10 || c == b'@' || c == b':' || c == b'_'
}

/// Bit masks of one 64-byte block (bit `k` is byte `k`).
#[derive(Debug, Clone, Copy, Default)]
struct Block {
    token: u64,
    mark: u64,
}

/// Packs 64 flag bytes (each 0 or 1) into a mask.
fn pack(flags: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (j, chunk) in flags.chunks_exact(8).enumerate() {
        let mut le = [0u8; 8];
        le.copy_from_slice(chunk);
        // Each flag byte lands in its own bit of the top byte, without carries.
        let bits = u64::from_le_bytes(le).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        m |= bits << (8 * j);
    }
    m
}

fn classify(b: &[u8], at: usize) -> Block {
    match b
        .get(at..at + 64)
        .and_then(|s| <&[u8; 64]>::try_from(s).ok())
    {
        Some(chunk) => classify_chunk(chunk),
        None => {
            // The last, partial block: padded with zeros (no token, no mark).
            let mut chunk = [0u8; 64];
            if at < b.len() {
                chunk[..b.len() - at].copy_from_slice(&b[at..]);
            }
            classify_chunk(&chunk)
        }
    }
}

fn classify_chunk(chunk: &[u8; 64]) -> Block {
    // Branch-free flags (`|`, not `||`), so that the loops vectorise.
    let mut flags = [[0u8; 64]; 2];
    for (i, &c) in chunk.iter().enumerate() {
        flags[0][i] = u8::from(c.wrapping_sub(0x21) < 0x5E);
        flags[1][i] = u8::from(c.wrapping_sub(b'0') < 10)
            | u8::from(c == b'@')
            | u8::from(c == b':')
            | u8::from(c == b'_');
    }
    Block {
        token: pack(&flags[0]),
        mark: pack(&flags[1]),
    }
}

/// Positions of block `cur` (followed by `next`) that make their token interesting, other
/// than the prefixes (see [`Prefixes`]).
fn hot(cur: &Block, next: &Block) -> u64 {
    let t = u128::from(cur.token) | (u128::from(next.token) << 64);
    // Runs of at least 2, 4, 8, 16 and then LONG (= 20) token bytes, by their first byte.
    let r2 = t & (t >> 1);
    let r4 = r2 & (r2 >> 2);
    let r8 = r4 & (r4 >> 4);
    let r16 = r8 & (r8 >> 8);
    let long = r16 & (r4 >> 16);
    cur.mark | long as u64
}

/// Finders of the prefixes that make a token interesting (`www.`, `WWW.`, `-----`): rare, so
/// they are searched once per text with SIMD substring search rather than per block.
#[derive(Debug)]
pub(crate) struct Prefixes {
    finders: [memchr::memmem::Finder<'static>; 3],
}

impl Prefixes {
    pub(crate) fn new() -> Prefixes {
        use memchr::memmem::Finder;
        Prefixes {
            finders: [
                Finder::new(b"www.").into_owned(),
                Finder::new(b"WWW.").into_owned(),
                Finder::new(b"-----").into_owned(),
            ],
        }
    }

    /// Where the prefixes occur in `b`, sorted (empty and unallocated when none do).
    fn find(&self, b: &[u8]) -> Vec<usize> {
        let mut at: Vec<usize> = Vec::new();
        for f in &self.finders {
            at.extend(f.find_iter(b));
        }
        at.sort_unstable();
        at
    }
}

/// The interesting tokens of a text, in order, as `(start, end)`.
pub(crate) struct Tokens<'a> {
    b: &'a [u8],
    /// Start of the current block.
    at: usize,
    cur: Block,
    next: Block,
    /// Hot positions of the current block not yet looked at.
    mask: u64,
    /// Tokens start no earlier than this (the end of the last token, or a skip).
    floor: usize,
    /// Positions of the prefixes, and how many of them are behind.
    prefixes: Vec<usize>,
    seen: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(b: &'a [u8], prefixes: &Prefixes) -> Tokens<'a> {
        let mut t = Tokens {
            b,
            at: 0,
            cur: classify(b, 0),
            next: classify(b, 64),
            mask: 0,
            floor: 0,
            prefixes: prefixes.find(b),
            seen: 0,
        };
        t.mask = t.hot();
        t
    }

    /// Hot positions of the current block.
    fn hot(&mut self) -> u64 {
        let mut m = hot(&self.cur, &self.next);
        while let Some(&p) = self.prefixes.get(self.seen) {
            if p >= self.at + 64 {
                break;
            }
            if p >= self.at {
                m |= 1 << (p - self.at);
            }
            self.seen += 1;
        }
        m
    }

    /// Continues at `pos`: a token running across it restarts there.
    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.floor = self.floor.max(pos);
    }

    /// The next hot position at or after the floor.
    fn next_hot(&mut self) -> Option<usize> {
        loop {
            if self.floor >= self.at + 64 {
                // Jump to the floor's block.
                let at = self.floor & !63;
                if at >= self.b.len() {
                    return None;
                }
                self.at = at;
                self.cur = classify(self.b, at);
                self.next = classify(self.b, at + 64);
                self.mask = self.hot();
            }
            if self.floor > self.at {
                let below = self.floor - self.at;
                self.mask &= !((1u64 << below) - 1);
            }
            if self.mask != 0 {
                let k = self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                return Some(self.at + k);
            }
            self.at += 64;
            if self.at >= self.b.len() {
                return None;
            }
            self.cur = self.next;
            self.next = classify(self.b, self.at + 64);
            self.mask = self.hot();
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let b = self.b;
        while let Some(p) = self.next_hot() {
            let k = p - self.at;
            if self.cur.token >> k & 1 == 0 {
                continue;
            }
            // The token's ends from the masks: the last non-token byte before `p` in this
            // block (or the block's start, then byte by byte), the first one after it in this
            // block or the next (or byte by byte beyond).
            let before = !self.cur.token & ((1u64 << k) - 1);
            let mut s = if before != 0 {
                self.at + 64 - before.leading_zeros() as usize
            } else {
                let mut s = self.at;
                while s > 0 && is_token(b[s - 1]) {
                    s -= 1;
                }
                s
            };
            s = s.max(self.floor);
            let t = u128::from(self.cur.token) | (u128::from(self.next.token) << 64);
            let run = (t >> k).trailing_ones() as usize;
            let mut e = (p + run).min(b.len());
            if k + run == 128 {
                while e < b.len() && is_token(b[e]) {
                    e += 1;
                }
            }
            self.floor = e;
            if self.cur.mark >> k & 1 == 1 || interesting(&b[s..e]) {
                return Some((s, e));
            }
        }
        None
    }
}

/// The byte loop's rule for one token.
pub(crate) fn interesting(tok: &[u8]) -> bool {
    tok.iter().any(|&c| is_mark(c))
        || tok.len() >= LONG
        || tok.starts_with(b"www.")
        || tok.starts_with(b"WWW.")
        || tok.starts_with(b"-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte loop: every maximal token run, kept when interesting.
    fn reference(b: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !is_token(b[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < b.len() && is_token(b[i]) {
                i += 1;
            }
            if interesting(&b[s..i]) {
                out.push((s, i));
            }
        }
        out
    }

    #[test]
    fn pack_puts_byte_k_in_bit_k() {
        let mut f = [0u8; 64];
        for k in [0, 1, 7, 8, 31, 62, 63] {
            f[k] = 1;
        }
        assert_eq!(
            pack(&f),
            (1 << 0) | (1 << 1) | (1 << 7) | (1 << 8) | (1 << 31) | (1 << 62) | (1 << 63)
        );
    }

    #[test]
    fn same_tokens_as_the_byte_loop_on_random_text() {
        // Pieces that exercise every rule, glued at random, so that tokens cross blocks.
        let pieces: &[&str] = &[
            " ",
            "  ",
            "\n",
            "中文",
            "。",
            "word",
            "Words",
            "a",
            "7",
            "2024",
            "x@y.cn",
            "10:30",
            "snake_case",
            "www.",
            "WWW.",
            "Www.",
            "www",
            ".",
            "-",
            "-----",
            "----",
            "-----BEGIN",
            "AAAAAAAAAAAAAAAAAAA",
            "A",
            "abcdefghij",
            "sk-proj-abcdefghijKLMNOP",
            "\t",
            "é",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let prefixes = Prefixes::new();
        for round in 0..3000 {
            let len = 1 + rnd(120);
            let mut s = String::new();
            for _ in 0..len {
                s.push_str(pieces[rnd(pieces.len())]);
            }
            let got: Vec<_> = Tokens::new(s.as_bytes(), &prefixes).collect();
            assert_eq!(got, reference(s.as_bytes()), "round {round}: {s:?}");
        }
    }

    #[test]
    fn skip_restarts_a_token() {
        let text = "-----BEGIN KEY----- abc 123 def 456";
        let mut t = Tokens::new(text.as_bytes(), &Prefixes::new());
        assert_eq!(t.next(), Some((0, 10)));
        t.skip_to(25); // inside "123": the token restarts at "23"
        assert_eq!(t.next(), Some((25, 27)));
        assert_eq!(t.next(), Some((32, 35)));
        assert_eq!(t.next(), None);
    }
}
