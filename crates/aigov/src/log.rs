//! `aigov log verify`: an auditor's check of a registry's transparency log, from its signed
//! checkpoint and its tiles alone (the server is not trusted to compute anything).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use aigov_tlog::checkpoint::Checkpoint;
use aigov_tlog::note::Verifier;
use aigov_tlog::tile::{self, TileId};
use aigov_tlog::tree::{self, CompactRange, TileReader, TileSource};
use aigov_tlog::{Hash, leaf_hash, rfc9162};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::Exit;
use crate::client::Client;

/// `aigov log …`
#[derive(Subcommand)]
pub enum LogCommand {
    /// Check the log: checkpoint signature, consistency with the last checkpoint seen,
    /// inclusion of chosen entries, or every entry (`--all`). Reports every check.
    Verify(VerifyArgs),
}

/// `aigov log verify`
#[derive(Args)]
pub struct VerifyArgs {
    /// Registry server URL.
    #[arg(long, env = "AIGOV_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The log's verifier key (`<origin>+<key id>+<key>`); default: the one in the state file,
    /// else the server's `/log/key` (trusted on first use).
    #[arg(long)]
    log_key: Option<String>,
    /// Verify a downloaded copy instead of the server: a folder holding `checkpoint`, `key`
    /// (unless --log-key is given) and the `tile/...` files, as served under `/log/`.
    #[arg(long)]
    tiles: Option<PathBuf>,
    /// File that keeps the last verified checkpoint; the next run proves the log only grew.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Check that entry N is in the log (repeatable).
    #[arg(long = "entry")]
    entries: Vec<u64>,
    /// Download every entry and check that they hash to the checkpoint's root.
    #[arg(long)]
    all: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Deserialize)]
struct State {
    log_key: String,
    checkpoint: String,
}

/// One check and its outcome.
#[derive(Serialize)]
struct Check {
    check: String,
    ok: bool,
    detail: String,
}

struct Remote {
    client: Client,
    /// A local mirror of the server's `log/` files, read instead of the server.
    mirror: Option<PathBuf>,
}

impl Remote {
    async fn get(&self, path: &str) -> Result<Vec<u8>> {
        if let Some(dir) = &self.mirror {
            let file = dir.join(path.strip_prefix("log/").unwrap_or(path));
            return std::fs::read(&file)
                .with_context(|| format!("failed to read {} from the mirror", file.display()));
        }
        self.client.get_bytes(&format!("/{path}")).await
    }
}

/// Hash tiles fetched so far; asking for a missing one records it for the next round.
#[derive(Default)]
struct Tiles {
    have: HashMap<(u8, u64), Vec<Hash>>,
    missing: RefCell<Vec<(u8, u64)>>,
}

impl TileSource for &Tiles {
    fn tile(&self, level: u8, index: u64) -> aigov_tlog::Result<Vec<Hash>> {
        match self.have.get(&(level, index)) {
            Some(t) => Ok(t.clone()),
            None => {
                self.missing.borrow_mut().push((level, index));
                Err(aigov_tlog::Error::Tile(format!(
                    "tile {level}/{index} not fetched yet"
                )))
            }
        }
    }
}

impl Tiles {
    /// Runs `f` over the tiles of a log of `size` entries, fetching what it asks for.
    async fn with<T>(
        &mut self,
        remote: &Remote,
        size: u64,
        f: impl Fn(&TileReader<&Tiles>) -> aigov_tlog::Result<T>,
    ) -> Result<T> {
        for _ in 0..64 {
            self.missing.borrow_mut().clear();
            let result = f(&TileReader(&*self));
            let missing = self.missing.take();
            if missing.is_empty() {
                return result.map_err(|e| anyhow::anyhow!("{e}"));
            }
            for (level, index) in missing {
                let id = tile::tile_for(level, index * tile::WIDTH, size).ok_or_else(|| {
                    anyhow::anyhow!("the log of {size} entries has no tile {level}/{index}")
                })?;
                let bytes = remote.get(&format!("log/{}", id.path())).await?;
                let hashes =
                    tile::tile_hashes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", id.path()))?;
                if hashes.len() != usize::from(id.width) {
                    return Err(anyhow::anyhow!(
                        "{} has {} hashes, expected {}",
                        id.path(),
                        hashes.len(),
                        id.width
                    ));
                }
                self.have.insert((level, index), hashes);
            }
        }
        Err(anyhow::anyhow!("too many tile rounds"))
    }
}

async fn bundle(remote: &Remote, index: u64, size: u64) -> Result<Vec<Vec<u8>>> {
    let width = (size - index * tile::WIDTH).min(tile::WIDTH) as u16;
    let id = TileId {
        level: None,
        index,
        width,
    };
    let bytes = remote.get(&format!("log/{}", id.path())).await?;
    let entries = tile::unbundle(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", id.path()))?;
    if entries.len() != usize::from(width) {
        return Err(anyhow::anyhow!(
            "{} has {} entries, expected {width}",
            id.path(),
            entries.len()
        ));
    }
    Ok(entries)
}

/// `aigov log …`
pub async fn run(c: LogCommand) -> Result<()> {
    let LogCommand::Verify(a) = c;
    let remote = Remote {
        mirror: a.tiles.clone(),
        client: Client::new(&a.server, None)?,
    };
    let mut checks = Vec::new();
    let mut push = |check: &str, r: std::result::Result<String, String>| {
        let (ok, detail) = match r {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        checks.push(Check {
            check: check.to_string(),
            ok,
            detail,
        });
        ok
    };

    let state: Option<State> = match &a.state {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("failed to read {}", p.display()))?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| Exit(2, format!("{}: not a log state file: {e}", p.display())))?,
            )
        }
        _ => None,
    };
    let (key_text, key_source) = match (&a.log_key, &state) {
        (Some(k), _) => (k.clone(), "given"),
        (None, Some(s)) => (s.log_key.clone(), "from the state file"),
        (None, None) => (
            String::from_utf8_lossy(&remote.get("log/key").await?)
                .trim()
                .to_string(),
            "from the server (trusted on first use)",
        ),
    };
    let key = Verifier::parse(&key_text).map_err(|e| Exit(2, format!("log key: {e}")))?;
    push("log key", Ok(format!("{} ({key_source})", key.encode())));

    let note = String::from_utf8_lossy(&remote.get("log/checkpoint").await?).into_owned();
    let cp = match Checkpoint::open(&note, &key) {
        Ok(cp) => {
            push(
                "checkpoint signature",
                Ok(format!("size {}, root {}", cp.size, cp.root)),
            );
            cp
        }
        Err(e) => {
            push("checkpoint signature", Err(e.to_string()));
            return finish(&a, checks, None);
        }
    };
    let mut tiles = Tiles::default();

    if let Some(prev) = &state {
        let check = "consistency with the saved checkpoint";
        match Checkpoint::open(&prev.checkpoint, &key) {
            Err(e) => {
                push(
                    check,
                    Err(format!("the saved checkpoint does not verify: {e}")),
                );
            }
            Ok(old) if old.size > cp.size => {
                push(
                    check,
                    Err(format!(
                        "the log shrank from {} to {} entries",
                        old.size, cp.size
                    )),
                );
            }
            Ok(old) if old.size == cp.size => {
                let r = if old.root == cp.root {
                    Ok(format!("unchanged at size {}", cp.size))
                } else {
                    Err(format!(
                        "same size {} but a different root: the log was rewritten",
                        cp.size
                    ))
                };
                push(check, r);
            }
            Ok(old) if old.size == 0 => {
                push(
                    check,
                    Ok("the saved checkpoint was of the empty log".into()),
                );
            }
            Ok(old) => {
                let proof = tiles
                    .with(&remote, cp.size, |r| {
                        tree::consistency_proof(r, old.size, cp.size)
                    })
                    .await;
                let r = match proof {
                    Err(e) => Err(format!(
                        "cannot build the proof from the server's tiles: {e}"
                    )),
                    Ok(p) => {
                        rfc9162::verify_consistency(old.size, cp.size, &p, &old.root.0, &cp.root.0)
                            .map(|_| {
                                format!("{} → {} entries: the log only grew", old.size, cp.size)
                            })
                            .map_err(|e| format!("{e}: the log was rewritten"))
                    }
                };
                push(check, r);
            }
        }
    }

    for &n in &a.entries {
        let check = format!("inclusion of entry {n}");
        if n >= cp.size {
            push(&check, Err(format!("the log has only {} entries", cp.size)));
            continue;
        }
        let entries = match bundle(&remote, n / tile::WIDTH, cp.size).await {
            Ok(e) => e,
            Err(e) => {
                push(&check, Err(e.to_string()));
                continue;
            }
        };
        let entry = &entries[(n % tile::WIDTH) as usize];
        let leaf = leaf_hash(entry);
        let r = match tiles
            .with(&remote, cp.size, |r| tree::inclusion_proof(r, n, cp.size))
            .await
        {
            Err(e) => Err(format!(
                "cannot build the proof from the server's tiles: {e}"
            )),
            Ok(p) => rfc9162::verify_inclusion(n, cp.size, &leaf.0, &p, &cp.root.0)
                .map(|_| describe(entry))
                .map_err(|e| format!("{e}: the entry was altered or is not in the log")),
        };
        push(&check, r);
    }

    if a.all {
        let mut range = CompactRange::new();
        let mut problem = None;
        let bundles = cp.size.div_ceil(tile::WIDTH);
        for b in 0..bundles {
            let entries = bundle(&remote, b, cp.size).await?;
            let level0 = tiles
                .with(&remote, cp.size, |r| {
                    (0..entries.len() as u64)
                        .map(|i| aigov_tlog::tree::HashReader::node(r, 0, b * tile::WIDTH + i))
                        .collect::<aigov_tlog::Result<Vec<_>>>()
                })
                .await?;
            for (i, e) in entries.iter().enumerate() {
                let leaf = leaf_hash(e);
                if problem.is_none() && leaf != level0[i] {
                    problem = Some(b * tile::WIDTH + i as u64);
                }
                range.append(leaf);
            }
        }
        let r = match problem {
            Some(i) => Err(format!(
                "entry {i} does not match the log's hash of it: the entry was altered"
            )),
            None if range.root() != cp.root => Err(format!(
                "the entries hash to {}, the checkpoint says {}",
                range.root(),
                cp.root
            )),
            None => Ok(format!(
                "all {} entries hash to the checkpoint's root",
                cp.size
            )),
        };
        push("every entry", r);
    }

    finish(&a, checks, Some((&note, key.encode())))
}

fn describe(entry: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(entry).unwrap_or_default();
    format!(
        "event {} {} on {} by {} at {}",
        v["seq"],
        v["action"].as_str().unwrap_or("?"),
        v["subject"].as_str().unwrap_or("?"),
        v["actor"].as_str().unwrap_or("?"),
        v["at"].as_str().unwrap_or("?")
    )
}

fn finish(a: &VerifyArgs, checks: Vec<Check>, verified: Option<(&str, String)>) -> Result<()> {
    let ok = checks.iter().all(|c| c.ok);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": ok, "checks": checks}))?
        );
    } else {
        for c in &checks {
            println!(
                "{} {}: {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.check,
                c.detail
            );
        }
    }
    if !ok {
        return Err(Exit(
            1,
            format!(
                "{} of {} log checks failed",
                checks.iter().filter(|c| !c.ok).count(),
                checks.len()
            ),
        )
        .into());
    }
    if let (Some(path), Some((note, log_key))) = (&a.state, verified) {
        let state = State {
            log_key,
            checkpoint: note.to_string(),
        };
        std::fs::write(path, serde_json::to_string_pretty(&state)?)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    Ok(())
}

/// Checks that entry `index` is in the log of `server` under its signed checkpoint (the log key
/// is the server's, trusted on first use) and returns the entry.
pub async fn entry_included(server: &str, index: u64) -> std::result::Result<Vec<u8>, String> {
    let go = async {
        let remote = Remote {
            mirror: None,
            client: Client::new(server, None)?,
        };
        let key = Verifier::parse(String::from_utf8_lossy(&remote.get("log/key").await?).trim())
            .map_err(|e| anyhow::anyhow!("log key: {e}"))?;
        let note = String::from_utf8_lossy(&remote.get("log/checkpoint").await?).into_owned();
        let cp = Checkpoint::open(&note, &key).map_err(|e| anyhow::anyhow!("{e}"))?;
        if index >= cp.size {
            anyhow::bail!("the log has only {} entries", cp.size);
        }
        let entries = bundle(&remote, index / tile::WIDTH, cp.size).await?;
        let entry = entries[(index % tile::WIDTH) as usize].clone();
        let mut tiles = Tiles::default();
        let proof = tiles
            .with(&remote, cp.size, |r| {
                tree::inclusion_proof(r, index, cp.size)
            })
            .await?;
        rfc9162::verify_inclusion(index, cp.size, &leaf_hash(&entry).0, &proof, &cp.root.0)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok::<_, anyhow::Error>(entry)
    };
    go.await.map_err(|e| e.to_string())
}
