//! A growing Merkle tree over any store of node hashes: a compact range for appends, and
//! proofs computed from the hashes of perfect subtrees (which is what tiles hold).

use crate::error::{Error, Result};
use crate::hash::{Hash, node_hash};

/// Access to the hashes of perfect subtrees: the node at `height` and `index` covers leaves
/// `[index·2^height, (index+1)·2^height)`.
pub trait HashReader {
    /// The node's hash; an error if the store does not have it.
    fn node(&self, height: u32, index: u64) -> Result<Hash>;
}

fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// MTH of the leaves `[start, end)` when that range is a subtree of a larger tree (`start`
/// aligned to the power of two at or above `end - start`), or a prefix (`start == 0`).
pub fn range_root(r: &impl HashReader, start: u64, end: u64) -> Result<Hash> {
    let n = end
        .checked_sub(start)
        .ok_or_else(|| Error::Precondition(format!("range [{start}, {end}) is reversed")))?;
    if n == 0 {
        return Ok(Hash::empty());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let h = n.trailing_zeros();
        return r.node(h, start >> h);
    }
    let k = 1u64 << (bit_len(n - 1) - 1);
    Ok(node_hash(
        &range_root(r, start, start + k)?,
        &range_root(r, start + k, end)?,
    ))
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
pub fn inclusion_proof(r: &impl HashReader, index: u64, size: u64) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(r, index, 0, size, &mut out)?;
    Ok(out)
}

fn path(r: &impl HashReader, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<()> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = 1u64 << (bit_len(n - 1) - 1);
    if m < start + k {
        path(r, m, start, start + k, out)?;
        out.push(range_root(r, start + k, end)?);
    } else {
        path(r, m, start + k, end, out)?;
        out.push(range_root(r, start, start + k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `size1` leaves to the tree of `size2` leaves.
pub fn consistency_proof(r: &impl HashReader, size1: u64, size2: u64) -> Result<Vec<Hash>> {
    if size1 == 0 || size1 > size2 {
        return Err(Error::Precondition(format!(
            "a consistency proof needs 0 < size1 <= size2, got {size1} and {size2}"
        )));
    }
    let mut out = Vec::new();
    if size1 < size2 {
        subproof(r, size1, 0, size2, true, &mut out)?;
    }
    Ok(out)
}

fn subproof(
    r: &impl HashReader,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = end - start;
    if m == end {
        if !complete {
            out.push(range_root(r, start, end)?);
        }
        return Ok(());
    }
    let k = 1u64 << (bit_len(n - 1) - 1);
    if m <= start + k {
        subproof(r, m, start, start + k, complete, out)?;
        out.push(range_root(r, start + k, end)?);
    } else {
        subproof(r, m, start + k, end, false, out)?;
        out.push(range_root(r, start, start + k)?);
    }
    Ok(())
}

/// A node that became complete when a leaf was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewNode {
    /// Height (0 for the leaf itself).
    pub height: u32,
    /// Index at that height.
    pub index: u64,
    /// Hash.
    pub hash: Hash,
}

/// The perfect subtrees that cover the first `size` leaves, largest first: enough to append
/// and to compute the root without reading anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The compact range of the first `size` leaves, read from a store.
    pub fn load(r: &impl HashReader, size: u64) -> Result<Self> {
        let mut hashes = Vec::new();
        let mut start = 0u64;
        for h in (0..64u32).rev() {
            if size & (1 << h) != 0 {
                hashes.push(r.node(h, start >> h)?);
                start += 1 << h;
            }
        }
        Ok(CompactRange { size, hashes })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns every node that became complete (the leaf first).
    pub fn append(&mut self, leaf: Hash) -> Vec<NewNode> {
        let index = self.size;
        let mut new = vec![NewNode {
            height: 0,
            index,
            hash: leaf,
        }];
        let mut hash = leaf;
        let mut height = 0;
        // Each trailing one bit of the old size is a left sibling to merge with.
        while (index >> height) & 1 == 1 {
            let left = self.hashes.pop().unwrap_or_else(Hash::empty);
            hash = node_hash(&left, &hash);
            height += 1;
            new.push(NewNode {
                height,
                index: index >> height,
                hash,
            });
        }
        self.hashes.push(hash);
        self.size += 1;
        new
    }

    /// The tree's root.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return Hash::empty();
        };
        it.fold(*last, |acc, h| node_hash(h, &acc))
    }
}

/// A tree held in memory (tests, tools, small logs).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
    range: CompactRange,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash.
    pub fn append(&mut self, leaf: Hash) {
        for n in self.range.append(leaf) {
            let h = n.height as usize;
            if self.levels.len() <= h {
                self.levels.push(Vec::new());
            }
            self.levels[h].push(n.hash);
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// The root.
    pub fn root(&self) -> Hash {
        self.range.root()
    }
}

impl HashReader for MemoryTree {
    fn node(&self, height: u32, index: u64) -> Result<Hash> {
        self.levels
            .get(height as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or_else(|| Error::Precondition(format!("node {height}/{index} is not in the tree")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::rfc9162;

    #[test]
    fn stored_proofs_match_the_reference_algorithm() {
        let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut t = MemoryTree::new();
        for (i, l) in leaves.iter().enumerate() {
            t.append(*l);
            let n = i + 1;
            assert_eq!(t.root(), rfc9162::root(&leaves[..n]));
            assert_eq!(range_root(&t, 0, n as u64).unwrap(), t.root());
            assert_eq!(CompactRange::load(&t, n as u64).unwrap().root(), t.root());
        }
        for size in [1u64, 2, 7, 8, 9, 64, 70] {
            for i in 0..size {
                assert_eq!(
                    inclusion_proof(&t, i, size).unwrap(),
                    rfc9162::inclusion_proof(&leaves[..size as usize], i).unwrap()
                );
            }
            for m in 1..=size {
                assert_eq!(
                    consistency_proof(&t, m, size).unwrap(),
                    rfc9162::consistency_proof(&leaves[..size as usize], m).unwrap()
                );
            }
        }
    }
}

/// Runs `f` once against a reader that answers with placeholders, to learn which nodes it
/// reads. Storage with asynchronous access fetches those, then runs `f` for real on a
/// [`NodeMap`]. The functions of this module read nodes that depend only on sizes and indices,
/// never on hash values, so the two runs read the same nodes.
pub fn nodes_needed<T>(f: impl FnOnce(&Recorder) -> Result<T>) -> Vec<(u32, u64)> {
    let rec = Recorder::default();
    let _ = f(&rec);
    let mut ids = rec.ids.into_inner();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A reader that records what is asked of it (see [`nodes_needed`]).
#[derive(Debug, Default)]
pub struct Recorder {
    ids: std::cell::RefCell<Vec<(u32, u64)>>,
}

impl HashReader for Recorder {
    fn node(&self, height: u32, index: u64) -> Result<Hash> {
        self.ids.borrow_mut().push((height, index));
        Ok(Hash::empty())
    }
}

/// Node hashes fetched from storage.
#[derive(Debug, Clone, Default)]
pub struct NodeMap(pub std::collections::HashMap<(u32, u64), Hash>);

impl HashReader for NodeMap {
    fn node(&self, height: u32, index: u64) -> Result<Hash> {
        self.0
            .get(&(height, index))
            .copied()
            .ok_or_else(|| Error::Precondition(format!("node {height}/{index} was not fetched")))
    }
}

/// Node hashes computed from hash tiles: nodes at heights that are multiples of 8 are read from
/// the tile of that level; the others are hashed up from the level below.
pub trait TileSource {
    /// The hashes of tile `index` at `level`, at least up to the position asked.
    fn tile(&self, level: u8, index: u64) -> Result<Vec<Hash>>;
}

/// A [`HashReader`] over a [`TileSource`].
#[derive(Debug)]
pub struct TileReader<T>(pub T);

impl<T: TileSource> HashReader for TileReader<T> {
    fn node(&self, height: u32, index: u64) -> Result<Hash> {
        if height.is_multiple_of(8) {
            let level = u8::try_from(height / 8)
                .map_err(|_| Error::Precondition("height too large".into()))?;
            let tile = self.0.tile(level, index / 256)?;
            return tile.get((index % 256) as usize).copied().ok_or_else(|| {
                Error::Tile(format!(
                    "tile {level}/{} has no hash {}",
                    index / 256,
                    index % 256
                ))
            });
        }
        let left = self.node(height - 1, 2 * index)?;
        let right = self.node(height - 1, 2 * index + 1)?;
        Ok(node_hash(&left, &right))
    }
}
