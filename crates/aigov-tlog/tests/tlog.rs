//! Every transparency-dev Merkle vector (including those that must fail), and property tests
//! over random tree sizes: every proof verifies, any single bit flip fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use aigov_tlog::rfc9162::*;
use aigov_tlog::{Hash, Result, leaf_hash};
use base64::Engine;
use serde::Deserialize;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn proof(p: &Option<Vec<String>>) -> Vec<Vec<u8>> {
    p.iter().flatten().map(|h| b64(h)).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: u64,
    #[serde(default)]
    tree_size: u64,
    #[serde(default)]
    start: Option<u64>,
    #[serde(default)]
    end: Option<u64>,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
struct Consistency {
    #[serde(default)]
    size1: u64,
    #[serde(default)]
    size2: u64,
    #[serde(default)]
    start: Option<u64>,
    #[serde(default)]
    end: Option<u64>,
    #[serde(default)]
    size: Option<u64>,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

fn files(kind: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/merkle")
            .join(kind),
        &mut out,
    );
    out.sort();
    assert!(!out.is_empty(), "no vectors for {kind}");
    out
}

fn run<T: for<'de> Deserialize<'de>>(
    kind: &str,
    check: impl Fn(&T) -> (bool, Result<()>, String),
) -> usize {
    let mut failures = Vec::new();
    let all = files(kind);
    for path in &all {
        let case: T = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let (want_err, got, desc) = check(&case);
        if want_err == got.is_ok() {
            failures.push(format!(
                "{}: {desc}: want error {want_err}, got {got:?}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    all.len()
}

#[test]
fn transparency_dev_inclusion_vectors() {
    let n = run::<Inclusion>("inclusion", |c| {
        let r = verify_inclusion(
            c.leaf_idx,
            c.tree_size,
            &b64(&c.leaf_hash),
            &proof(&c.proof),
            &b64(&c.root),
        );
        (c.want_err, r, c.desc.clone())
    });
    assert!(n > 50);
}

#[test]
fn transparency_dev_consistency_vectors() {
    let n = run::<Consistency>("consistency", |c| {
        let r = verify_consistency(
            c.size1,
            c.size2,
            &proof(&c.proof),
            &b64(&c.root1),
            &b64(&c.root2),
        );
        (c.want_err, r, c.desc.clone())
    });
    assert!(n > 50);
}

#[test]
fn transparency_dev_subtree_inclusion_vectors() {
    run::<Inclusion>("subtreeinclusion", |c| {
        let r = verify_subtree_inclusion(
            c.leaf_idx,
            c.start.unwrap(),
            c.end.unwrap(),
            &b64(&c.leaf_hash),
            &proof(&c.proof),
            &b64(&c.root),
        );
        (c.want_err, r, c.desc.clone())
    });
}

#[test]
fn transparency_dev_subtree_consistency_vectors() {
    run::<Consistency>("subtreeconsistency", |c| {
        let r = verify_subtree_consistency(
            c.start.unwrap(),
            c.end.unwrap(),
            c.size.unwrap(),
            &proof(&c.proof),
            &b64(&c.root1),
            &b64(&c.root2),
        );
        (c.want_err, r, c.desc.clone())
    });
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    fn flip(h: &mut Hash, bit: usize) {
        h.0[bit / 8 % 32] ^= 1 << (bit % 8);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn inclusion_proofs_verify_and_any_bit_flip_fails(size in 1u64..300, seed in any::<u64>(), bit in 0usize..256) {
            let l = leaves(size);
            let r = root(&l);
            let i = seed % size;
            let p = inclusion_proof(&l, i).unwrap();
            prop_assert!(verify_inclusion(i, size, &l[i as usize].0, &p, &r.0).is_ok());
            // Flip a bit of the leaf, of the root, or of one proof hash.
            let mut leaf = l[i as usize];
            flip(&mut leaf, bit);
            prop_assert!(verify_inclusion(i, size, &leaf.0, &p, &r.0).is_err());
            let mut r2 = r;
            flip(&mut r2, bit);
            prop_assert!(verify_inclusion(i, size, &l[i as usize].0, &p, &r2.0).is_err());
            if !p.is_empty() {
                let mut p2 = p.clone();
                let k = (seed as usize / 7) % p2.len();
                flip(&mut p2[k], bit);
                prop_assert!(verify_inclusion(i, size, &l[i as usize].0, &p2, &r.0).is_err());
                // Truncated and reordered proofs fail too.
                prop_assert!(verify_inclusion(i, size, &l[i as usize].0, &p[1..], &r.0).is_err());
                if p.len() > 1 && p[0] != p[1] {
                    let mut p3 = p.clone();
                    p3.swap(0, 1);
                    prop_assert!(verify_inclusion(i, size, &l[i as usize].0, &p3, &r.0).is_err());
                }
            }
            // Another index or size does not verify with the same proof.
            if size > 1 {
                let j = (i + 1) % size;
                if l[j as usize] != l[i as usize] {
                    prop_assert!(verify_inclusion(j, size, &l[i as usize].0, &p, &r.0).is_err());
                }
            }
        }

        #[test]
        fn consistency_proofs_verify_and_any_bit_flip_fails(size2 in 1u64..300, seed in any::<u64>(), bit in 0usize..256) {
            let l = leaves(size2);
            let size1 = seed % size2 + 1;
            let r1 = root(&l[..size1 as usize]);
            let r2 = root(&l);
            let p = consistency_proof(&l, size1).unwrap();
            prop_assert!(verify_consistency(size1, size2, &p, &r1.0, &r2.0).is_ok());
            let mut bad = r1;
            flip(&mut bad, bit);
            prop_assert!(verify_consistency(size1, size2, &p, &bad.0, &r2.0).is_err());
            let mut bad = r2;
            flip(&mut bad, bit);
            prop_assert!(verify_consistency(size1, size2, &p, &r1.0, &bad.0).is_err());
            if !p.is_empty() {
                let mut p2 = p.clone();
                let k = (seed as usize / 7) % p2.len();
                flip(&mut p2[k], bit);
                prop_assert!(verify_consistency(size1, size2, &p2, &r1.0, &r2.0).is_err());
                prop_assert!(verify_consistency(size1, size2, &p[..p.len() - 1], &r1.0, &r2.0).is_err());
            }
            // A log that rewrote an entry before size1 is caught.
            let mut rewritten = l.clone();
            let k = (seed as usize / 3) % size1 as usize;
            flip(&mut rewritten[k], bit);
            let p3 = consistency_proof(&rewritten, size1).unwrap();
            prop_assert!(verify_consistency(size1, size2, &p3, &r1.0, &root(&rewritten).0).is_err());
        }
    }
}
