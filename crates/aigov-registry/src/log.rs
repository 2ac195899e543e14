//! The registry's transparency log over the store: sequencing, batched integration and
//! receipts.
//!
//! Writing an event *sequences* its entry: the entry gets the next index inside the same
//! transaction as the change it records, so it is durable when the change is. *Integration*
//! then adds every pending entry to the Merkle tree at once — node hashes, one signed
//! checkpoint — in a single transaction: many writers share one tree update and one signature.

use aigov_tlog::checkpoint::Checkpoint;
use aigov_tlog::leaf_hash;
use aigov_tlog::note::NoteSigner;
use aigov_tlog::tree::{self, CompactRange, HashReader, NodeMap, nodes_needed};

use crate::error::{Error, Result};
use crate::model::LogReceipt;
use crate::store::Tx;

/// A [`HashReader`] usable as a trait object.
pub trait HashReaderDyn {
    /// See [`HashReader::node`].
    fn node_dyn(&self, height: u32, index: u64) -> aigov_tlog::Result<aigov_tlog::Hash>;
}

impl<R: HashReader> HashReaderDyn for R {
    fn node_dyn(&self, height: u32, index: u64) -> aigov_tlog::Result<aigov_tlog::Hash> {
        self.node(height, index)
    }
}

impl HashReader for &dyn HashReaderDyn {
    fn node(&self, height: u32, index: u64) -> aigov_tlog::Result<aigov_tlog::Hash> {
        // Dispatch on the trait object itself: `self.node_dyn` would pick the blanket impl for
        // `&dyn HashReaderDyn` and recurse.
        (**self).node_dyn(height, index)
    }
}

fn log_err(e: aigov_tlog::Error) -> Error {
    Error::Store(format!("transparency log: {e}"))
}

/// Fetches the log nodes that `f` reads, then runs it on them.
pub async fn with_nodes<T: Tx, R>(
    tx: &mut T,
    f: impl Fn(&dyn HashReaderDyn) -> aigov_tlog::Result<R>,
) -> Result<R> {
    let ids = nodes_needed(|r| f(r));
    let map = NodeMap(tx.log_nodes(&ids).await?.into_iter().collect());
    f(&map).map_err(log_err)
}

/// Sequences an entry: gives it the next index. Returns the index.
pub async fn sequence<T: Tx>(tx: &mut T, entry: &[u8]) -> Result<u64> {
    sequence_many(tx, &[entry]).await
}

/// Sequences entries in order. Returns the index of the first.
pub async fn sequence_many<T: Tx>(tx: &mut T, entries: &[&[u8]]) -> Result<u64> {
    let start = tx.log_size().await?;
    tx.log_sequence(start, entries).await?;
    Ok(start)
}

/// Integrates every sequenced entry not yet in the tree and signs the new checkpoint. Returns
/// the integrated size (unchanged if nothing was pending).
pub async fn integrate<T: Tx>(tx: &mut T, key: &NoteSigner) -> Result<u64> {
    let done = tx.latest_checkpoint().await?.map_or(0, |(s, _)| s);
    let size = tx.log_size().await?;
    if size == done {
        return Ok(done);
    }
    let mut range = with_nodes(tx, |r| CompactRange::load(&r, done)).await?;
    let entries = tx.log_entries(done, size).await?;
    if entries.len() as u64 != size - done {
        return Err(Error::Store(format!(
            "log entries {done}..{size} are incomplete"
        )));
    }
    let mut nodes = Vec::new();
    for e in &entries {
        nodes.extend(range.append(leaf_hash(e)));
    }
    tx.log_put_nodes(&nodes).await?;
    let checkpoint = Checkpoint {
        origin: key.verifier().name().to_string(),
        size,
        root: range.root(),
        extensions: Vec::new(),
    }
    .sign(key)
    .map_err(log_err)?;
    tx.put_checkpoint(size, &checkpoint).await?;
    Ok(size)
}

/// The receipt of entry `index` against the latest checkpoint (which must include it).
pub async fn receipt<T: Tx>(tx: &mut T, index: u64) -> Result<Option<LogReceipt>> {
    let Some((size, checkpoint)) = tx.latest_checkpoint().await? else {
        return Ok(None);
    };
    if index >= size {
        return Ok(None);
    }
    let proof = with_nodes(tx, |r| tree::inclusion_proof(&r, index, size)).await?;
    let root = with_nodes(tx, |r| tree::range_root(&r, 0, size)).await?;
    Ok(Some(LogReceipt {
        index,
        size,
        root: root.to_hex(),
        inclusion_proof: proof.iter().map(|h| h.to_hex()).collect(),
        checkpoint,
    }))
}
