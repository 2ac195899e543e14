//! C2SP tlog-tiles (`c2sp.org/tlog-tiles`): paths of hash tiles and entry bundles, and their
//! contents. A tile at level `L`, index `N` holds up to 256 hashes of the tree nodes at height
//! `8·L` numbered `256·N …`; a partial tile of width `W < 256` is served at `….p/W`. Full tiles
//! never change and can be cached forever.

use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::tree::HashReader;

/// Hashes per full tile.
pub const WIDTH: u64 = 256;

/// Tile coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    /// Level (0 for leaf hashes); `None` for an entry bundle.
    pub level: Option<u8>,
    /// Tile index at its level.
    pub index: u64,
    /// Number of hashes (or entries), 1..=256.
    pub width: u16,
}

fn encode_index(n: u64) -> String {
    let digits = format!("{n:03}");
    let groups: Vec<&str> = {
        let mut v = Vec::new();
        let mut end = digits.len();
        while end > 0 {
            let start = end.saturating_sub(3);
            v.push(&digits[start..end]);
            end = start;
        }
        v.reverse();
        v
    };
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{g:0>3}/"));
        } else {
            out.push_str(&format!("{g:0>3}"));
        }
    }
    out
}

impl TileId {
    /// The tile's path, e.g. `tile/0/x001/234.p/7` or `tile/entries/005`.
    pub fn path(&self) -> String {
        let level = self
            .level
            .map_or_else(|| "entries".to_string(), |l| l.to_string());
        let mut p = format!("tile/{level}/{}", encode_index(self.index));
        if u64::from(self.width) < WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a path as produced by [`TileId::path`] (with or without the leading `tile/`).
    pub fn parse(path: &str) -> Result<TileId> {
        let bad = |m: &str| Error::Tile(format!("'{path}': {m}"));
        let p = path.strip_prefix("tile/").unwrap_or(path);
        let (level, rest) = p
            .split_once('/')
            .ok_or_else(|| bad("expected <level>/<index>"))?;
        let level = match level {
            "entries" => None,
            l => {
                let v: u8 = l.parse().map_err(|_| bad("level is not a small number"))?;
                if l.len() > 1 && l.starts_with('0') || v > 63 {
                    return Err(bad("level must be 0-63 without leading zeros"));
                }
                Some(v)
            }
        };
        let (idx, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w: u16 = w
                    .parse()
                    .map_err(|_| bad("partial width is not a number"))?;
                if w == 0
                    || u64::from(w) >= WIDTH
                    || w.to_string().len() != rest.len() - i.len() - 3
                {
                    return Err(bad("partial width must be 1-255 without leading zeros"));
                }
                (i, w)
            }
            None => (rest, WIDTH as u16),
        };
        let groups: Vec<&str> = idx.split('/').collect();
        let mut index: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let digits = if last {
                *g
            } else {
                g.strip_prefix('x')
                    .ok_or_else(|| bad("inner index groups start with 'x'"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index groups have three digits"));
            }
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(digits.parse::<u64>().unwrap_or(0)))
                .ok_or_else(|| bad("index too large"))?;
        }
        let id = TileId {
            level,
            index,
            width,
        };
        if id.path() != format!("tile/{p}") {
            return Err(bad("not in canonical form"));
        }
        Ok(id)
    }
}

/// The tile that holds hash `index` at tile level `level` in a tree of `size` leaves, with its
/// width in that tree (`None` if the tree has no such hash yet).
pub fn tile_for(level: u8, node_index: u64, size: u64) -> Option<TileId> {
    let available = nodes_at(level, size);
    if node_index >= available {
        return None;
    }
    let index = node_index / WIDTH;
    let width = (available - index * WIDTH).min(WIDTH) as u16;
    Some(TileId {
        level: Some(level),
        index,
        width,
    })
}

/// Number of complete nodes at height `8·level` in a tree of `size` leaves.
fn nodes_at(level: u8, size: u64) -> u64 {
    let h = 8 * u32::from(level);
    if h >= 64 { 0 } else { size >> h }
}

/// The bytes of a hash tile (`width` hashes of 32 bytes) of a tree of `size` leaves.
pub fn tile_bytes(reader: &impl HashReader, id: TileId, size: u64) -> Result<Vec<u8>> {
    let level = id
        .level
        .ok_or_else(|| Error::Tile("entry bundles are not hash tiles".into()))?;
    let first = id
        .index
        .checked_mul(WIDTH)
        .ok_or_else(|| Error::Tile("tile index too large".into()))?;
    let end = first
        .checked_add(u64::from(id.width))
        .ok_or_else(|| Error::Tile("tile index too large".into()))?;
    if end > nodes_at(level, size) {
        return Err(Error::Tile(format!(
            "{} is beyond the tree of {size} entries",
            id.path()
        )));
    }
    let mut out = Vec::with_capacity(32 * usize::from(id.width));
    for i in first..end {
        out.extend_from_slice(&reader.node(8 * u32::from(level), i)?.0);
    }
    Ok(out)
}

/// Splits tile bytes into hashes.
pub fn tile_hashes(bytes: &[u8]) -> Result<Vec<Hash>> {
    if !bytes.len().is_multiple_of(32) || bytes.is_empty() || bytes.len() > 32 * WIDTH as usize {
        return Err(Error::Tile(format!(
            "a tile of {} bytes is not 1-256 hashes",
            bytes.len()
        )));
    }
    bytes
        .chunks(32)
        .enumerate()
        .map(|(i, c)| Hash::from_slice(c, &format!("tile hash {i}")))
        .collect()
}

/// Encodes an entry bundle: each entry prefixed by its length as a big-endian u16.
pub fn bundle(entries: &[Vec<u8>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let len = u16::try_from(e.len())
            .map_err(|_| Error::Tile(format!("entry {i} is longer than 65535 bytes")))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Decodes an entry bundle.
pub fn unbundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let [a, b, tail @ ..] = rest else {
            return Err(Error::Tile(format!(
                "entry {} has a truncated length",
                out.len()
            )));
        };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if tail.len() < len {
            return Err(Error::Tile(format!(
                "entry {} is truncated ({} of {len} bytes)",
                out.len(),
                tail.len()
            )));
        }
        out.push(tail[..len].to_vec());
        rest = &tail[len..];
        if out.len() > WIDTH as usize {
            return Err(Error::Tile("a bundle holds at most 256 entries".into()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let t = |level, index, width| TileId {
            level,
            index,
            width,
        };
        assert_eq!(t(Some(0), 5, 256).path(), "tile/0/005");
        assert_eq!(t(Some(1), 1234067, 256).path(), "tile/1/x001/x234/067");
        assert_eq!(t(Some(0), 1234, 7).path(), "tile/0/x001/234.p/7");
        assert_eq!(t(None, 0, 3).path(), "tile/entries/000.p/3");
        for id in [
            t(Some(2), 1234067, 256),
            t(None, 999, 255),
            t(Some(0), 1000, 1),
        ] {
            assert_eq!(TileId::parse(&id.path()).unwrap(), id);
        }
        for bad in [
            "tile/0/5",
            "tile/0/x1/234",
            "tile/0/005.p/256",
            "tile/0/005.p/07",
            "tile/64/000",
            "tile/00/000",
            "tile/0/001/002",
        ] {
            assert!(TileId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tile_contents() {
        use crate::tree::{MemoryTree, range_root};
        let mut t = MemoryTree::new();
        let n = 256 * 2 + 70;
        for i in 0..n {
            t.append(crate::hash::leaf_hash(&(i as u32).to_be_bytes()));
        }
        let n = n as u64;
        // Level 0: two full tiles and a partial one of 70 leaf hashes.
        let partial = tile_for(0, 520, n).unwrap();
        assert_eq!(
            partial,
            TileId {
                level: Some(0),
                index: 2,
                width: 70
            }
        );
        assert!(tile_for(0, n, n).is_none());
        let bytes = tile_bytes(&t, partial, n).unwrap();
        let hashes = tile_hashes(&bytes).unwrap();
        assert_eq!(hashes.len(), 70);
        assert_eq!(hashes[0], range_root(&t, 512, 513).unwrap());
        // Level 1 holds the roots of each 256-leaf block: two so far.
        let l1 = tile_for(1, 0, n).unwrap();
        assert_eq!(l1.width, 2);
        let h = tile_hashes(&tile_bytes(&t, l1, n).unwrap()).unwrap();
        assert_eq!(h[1], range_root(&t, 256, 512).unwrap());
        // Asking for more than the tree has is an error, not a short tile.
        assert!(
            tile_bytes(
                &t,
                TileId {
                    level: Some(0),
                    index: 2,
                    width: 71
                },
                n
            )
            .is_err()
        );
        assert!(tile_hashes(&[0; 33]).is_err());
        let far = TileId {
            level: Some(0),
            index: u64::MAX / 256,
            width: 256,
        };
        assert!(tile_bytes(&t, far, n).is_err());
    }

    #[test]
    fn bundles() {
        let e = vec![b"a".to_vec(), vec![], vec![7; 300]];
        assert_eq!(unbundle(&bundle(&e).unwrap()).unwrap(), e);
        assert!(unbundle(&[0, 5, 1]).is_err());
        assert!(unbundle(&[0]).is_err());
    }
}
