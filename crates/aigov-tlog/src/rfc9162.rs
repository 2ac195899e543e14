//! Merkle Tree Hash, inclusion and consistency proofs of RFC 9162 §2.1, and their subtree
//! generalisation (proofs about the subtree `[start, end)` of a larger tree, as used by
//! transparency-dev and C2SP witnesses).
//!
//! Proof verification checks the exact proof length first, so a truncated or padded proof
//! is reported as such rather than as a root mismatch.

use crate::error::{Error, Result};
use crate::hash::{Hash, node_hash};

/// `x >> n`, zero when `n` is 64 (sizes near 2^64 come from untrusted input).
fn shr(x: u64, n: u32) -> u64 {
    x.checked_shr(n).unwrap_or(0)
}

fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (bit_len(n - 1) - 1)
}

/// MTH of RFC 9162 §2.1.1 over leaf hashes (the empty root for none).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::empty(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof of leaf `index` in the tree made of `leaves` (RFC 9162 §2.1.3.1).
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(leaves, index as usize, &mut out);
    Ok(out)
}

fn path(leaves: &[Hash], m: usize, out: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split_point(leaves.len() as u64) as usize;
    if m < k {
        path(&leaves[..k], m, out);
        out.push(root(&leaves[k..]));
    } else {
        path(&leaves[k..], m - k, out);
        out.push(root(&leaves[..k]));
    }
}

/// The consistency proof between the first `size1` leaves and all of `leaves`
/// (RFC 9162 §2.1.4.1). Empty when the sizes are equal.
pub fn consistency_proof(leaves: &[Hash], size1: u64) -> Result<Vec<Hash>> {
    let size2 = leaves.len() as u64;
    if size1 == 0 || size1 > size2 {
        return Err(Error::Precondition(format!(
            "a consistency proof needs 0 < size1 <= size2, got size1 {size1}, size2 {size2}"
        )));
    }
    let mut out = Vec::new();
    if size1 < size2 {
        subproof(leaves, size1 as usize, true, &mut out);
    }
    Ok(out)
}

fn subproof(leaves: &[Hash], m: usize, complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split_point(n as u64) as usize;
    if m <= k {
        subproof(&leaves[..k], m, complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(&leaves[k..], m - k, false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Number of proof hashes below and above the level where the paths to `index` and
/// `size - 1` part (`index < size`).
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = bit_len(index ^ (size - 1)) as usize;
    let border = shr(index, inner as u32).count_ones() as usize;
    (inner, border)
}

/// Hashes `seed` up the path at `index`, taking siblings from `proof` (lowest first).
fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (level, sibling) in proof.iter().enumerate() {
        seed = if (index >> level) & 1 == 0 {
            node_hash(&seed, sibling)
        } else {
            node_hash(sibling, &seed)
        };
    }
    seed
}

/// Like [`chain_inner`], but only the left siblings: the hash of the same subtree as it was
/// before the nodes to the right of the path existed.
fn chain_inner_left_only(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (level, sibling) in proof.iter().enumerate() {
        if (index >> level) & 1 == 1 {
            seed = node_hash(sibling, &seed);
        }
    }
    seed
}

/// Hashes `seed` with left siblings only (the right border of a tree).
fn chain_border(mut seed: Hash, proof: &[Hash]) -> Hash {
    for sibling in proof {
        seed = node_hash(sibling, &seed);
    }
    seed
}

fn check_len(got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::ProofLength { got, want })
    }
}

fn matches(calculated: Hash, expected: &[u8], what: &str) -> Result<()> {
    let expected = Hash::from_slice(expected, what)?;
    if calculated == expected {
        Ok(())
    } else {
        Err(Error::RootMismatch {
            calculated,
            expected,
        })
    }
}

/// Reads proof hashes from the wire, naming the first one of the wrong length.
fn hashes<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| Hash::from_slice(p.as_ref(), &format!("proof[{i}]")))
        .collect()
}

/// The root of a tree of `size` leaves implied by an inclusion proof of leaf `index`.
pub fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash]) -> Result<Hash> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    check_len(proof.len(), inner + border)?;
    let r = chain_inner(*leaf, &proof[..inner], index);
    Ok(chain_border(r, &proof[inner..]))
}

/// Verifies that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves with root
/// `root` (RFC 9162 §2.1.3.2). Hashes come as bytes, as read from the wire.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<()> {
    let leaf = Hash::from_slice(leaf, "leaf hash")?;
    matches(
        root_from_inclusion(index, size, &leaf, &hashes(proof)?)?,
        root,
        "root",
    )
}

/// Checks that `[start, end)` is a subtree: `start` is a multiple of the smallest power of two
/// not below `end - start`.
fn check_subtree(start: u64, end: u64) -> Result<()> {
    if start > end {
        return Err(Error::Precondition(format!(
            "subtree [{start}, {end}) has its start after its end"
        )));
    }
    if start == 0 || start == end {
        return Ok(());
    }
    let width = end - start;
    if width > 1 << 63 {
        return Err(Error::Precondition(format!(
            "subtree [{start}, {end}) is wider than 2^63 and does not start at 0"
        )));
    }
    let ceil = width.next_power_of_two();
    if !start.is_multiple_of(ceil) {
        return Err(Error::Precondition(format!(
            "subtree [{start}, {end}) is not aligned: {start} is not a multiple of {ceil}"
        )));
    }
    Ok(())
}

/// Verifies that `leaf` is leaf `index` of the subtree `[start, end)` whose root is `root`.
pub fn verify_subtree_inclusion<P: AsRef<[u8]>>(
    index: u64,
    start: u64,
    end: u64,
    leaf: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<()> {
    check_subtree(start, end)?;
    if index < start || index >= end {
        return Err(Error::IndexOutOfRange { index, size: end });
    }
    let leaf = Hash::from_slice(leaf, "leaf hash")?;
    let calculated = root_from_inclusion(index - start, end - start, &leaf, &hashes(proof)?)?;
    matches(calculated, root, "subtree root")
}

/// The root of the tree of `size2` leaves implied by a consistency proof from the tree of
/// `size1` leaves with root `root1` (RFC 9162 §2.1.4.2), `0 < size1 < size2`.
pub fn root_from_consistency(size1: u64, size2: u64, proof: &[Hash], root1: &Hash) -> Result<Hash> {
    check_sizes(size1, size2)?;
    if size1 == size2 {
        check_len(proof.len(), 0)?;
        return Ok(*root1);
    }
    if proof.is_empty() {
        return Err(Error::ProofLength { got: 0, want: 1 });
    }
    grow_subtree(0, size1, size2, proof, root1)
}

fn check_sizes(size1: u64, size2: u64) -> Result<()> {
    if size2 < size1 {
        return Err(Error::Precondition(format!(
            "the new tree ({size2} leaves) is smaller than the old one ({size1} leaves)"
        )));
    }
    if size1 == 0 {
        return Err(Error::Precondition(
            "a consistency proof from the empty tree proves nothing".into(),
        ));
    }
    Ok(())
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1`
/// leaves with root `root1`. Equal sizes need an empty proof and identical roots.
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<()> {
    check_sizes(size1, size2)?;
    if size1 == size2 {
        check_len(proof.len(), 0)?;
        return same_root(root1, root2);
    }
    let root1 = Hash::from_slice(root1, "old root")?;
    let calculated = root_from_consistency(size1, size2, &hashes(proof)?, &root1)?;
    matches(calculated, root2, "new root")
}

/// Two roots of the same tree must be the same bytes.
fn same_root(a: &[u8], b: &[u8]) -> Result<()> {
    if a == b {
        return Ok(());
    }
    Err(Error::Precondition(format!(
        "the trees have the same size but different roots ({} and {})",
        hex::encode(a),
        hex::encode(b)
    )))
}

/// Verifies that the subtree `[start, end)` with root `sub_root` is part of the tree of `size`
/// leaves with root `root`. An empty subtree (`start == end`) must have the empty root and says
/// nothing about the tree.
pub fn verify_subtree_consistency<P: AsRef<[u8]>>(
    start: u64,
    end: u64,
    size: u64,
    proof: &[P],
    sub_root: &[u8],
    root: &[u8],
) -> Result<()> {
    check_subtree(start, end)?;
    if end > size {
        return Err(Error::Precondition(format!(
            "subtree [{start}, {end}) ends after the tree of {size} leaves"
        )));
    }
    if start == end {
        check_len(proof.len(), 0)?;
        return matches(Hash::empty(), sub_root, "subtree root");
    }
    if start == 0 && end == size {
        check_len(proof.len(), 0)?;
        return same_root(sub_root, root);
    }
    if proof.is_empty() {
        return Err(Error::ProofLength { got: 0, want: 1 });
    }
    let sub = Hash::from_slice(sub_root, "subtree root")?;
    matches(
        grow_subtree(start, end, size, &hashes(proof)?, &sub)?,
        root,
        "tree root",
    )
}

/// From the root of subtree `[start, end)` (non-empty, `end <= size`, not the whole tree) and
/// a proof, checks the proof against `sub_root` and computes the root of the whole tree.
fn grow_subtree(start: u64, end: u64, size: u64, proof: &[Hash], sub_root: &Hash) -> Result<Hash> {
    if end == size {
        // The subtree sits on the right border: only left siblings of its ancestors are
        // needed, one per level where the ancestor is a right child.
        let height = bit_len((end - 1) ^ start);
        let want = shr(start, height).count_ones() as usize;
        check_len(proof.len(), want)?;
        return Ok(chain_border(*sub_root, proof));
    }
    // The paths to leaves `end - 1` and `size - 1` part at `fork`; below it the proof holds
    // the inner siblings of the path to `end - 1`, above it the border.
    let (fork, border) = decompose(end - 1, size);
    // Height of the rightmost perfect subtree inside [start, end): the proof starts there.
    let shift = (end - start).trailing_zeros() as usize;
    let inner = fork.checked_sub(shift).ok_or_else(|| {
        Error::Precondition(format!(
            "subtree [{start}, {end}) does not fit a tree of {size} leaves"
        ))
    })?;
    // A perfect subtree is its own rightmost perfect subtree: its root is `sub_root`, which the
    // verifier knows, so the proof does not repeat it.
    let perfect = end - start == 1u64 << shift;
    let (seed, rest) = if perfect {
        (*sub_root, proof)
    } else {
        let (first, rest) = proof
            .split_first()
            .ok_or(Error::ProofLength { got: 0, want: 1 })?;
        (*first, rest)
    };
    check_len(rest.len(), inner + border)?;
    let mask = (end - 1) >> shift;
    if !perfect {
        // Nodes inside the subtree must rebuild `sub_root`.
        let height = bit_len((end - 1) ^ start) as usize;
        let sub_inner = height.min(fork).saturating_sub(shift);
        let above = shr(end - 1, height as u32).count_ones() as usize;
        let sub_border = border.saturating_sub(above);
        let r = chain_inner_left_only(seed, &rest[..sub_inner], mask);
        let r = chain_border(r, &rest[inner..inner + sub_border]);
        if r != *sub_root {
            return Err(Error::RootMismatch {
                calculated: r,
                expected: *sub_root,
            });
        }
    }
    let r = chain_inner(seed, &rest[..inner], mask);
    Ok(chain_border(r, &rest[inner..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Sizes and indices near 2^64 give errors, not shift or arithmetic overflows.
    #[test]
    fn extreme_sizes_do_not_panic() {
        let h = [0u8; 32];
        let p = vec![h; 64];
        for (a, b, c) in [
            (0, 1u64 << 63 | 1, 0),
            (u64::MAX - 1, u64::MAX, 0),
            (0, u64::MAX, u64::MAX),
            (1 << 62, 1 << 63, u64::MAX),
        ] {
            let _ = verify_inclusion(a, b, &h, &p, &h);
            let _ = verify_consistency(a, b, &p, &h, &h);
            let _ = verify_subtree_inclusion(a, b, c, &h, &p, &h);
            let _ = verify_subtree_consistency(a, b, c, &p, &h, &h);
            let _ = verify_subtree_consistency(0, a, b, &p, &h, &h);
            let _ = verify_consistency(a.max(1), b, &p[..1], &h, &h);
        }
    }

    #[test]
    fn known_roots() {
        // RFC 6962 test tree: root of the empty tree and of one empty leaf.
        assert_eq!(
            root(&[]).to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            root(&[leaf_hash(b"")]).to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn every_proof_of_small_trees_verifies() {
        for n in 1..=33u64 {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n {
                let p = inclusion_proof(&l, i).unwrap();
                verify_inclusion(i, n, &l[i as usize].0, &p, &r.0).unwrap();
            }
            for m in 1..=n {
                let p = consistency_proof(&l, m).unwrap();
                verify_consistency(m, n, &p, &root(&l[..m as usize]).0, &r.0).unwrap();
            }
        }
    }
}
