//! Test support shared by the integration tests of the workspace.
//!
//! [`Venv`] creates a Python virtualenv under `target/` from a requirements file on first use
//! (PyPI needed then), guarded by a file lock so that test processes running at the same time
//! share it. Tests that need Python fail when it cannot be created: they are never skipped.
//! [`png`] makes a small valid PNG for the labelling tests.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A valid 8-bit RGB PNG of `w`×`h` (a gradient that `seed` varies), built with flate2.
pub fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.extend_from_slice(&[(x as u8).wrapping_mul(seed), y as u8, seed]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", idat), (b"IEND", Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(&data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(&data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    out
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A Python virtualenv made from a requirements file.
#[derive(Debug, Clone)]
pub struct Venv {
    dir: PathBuf,
}

impl Venv {
    /// Creates (or reuses) `target/pyenv-<name>` from `requirements` (relative to the
    /// workspace root). Recreated whenever the requirements file changes.
    pub fn get(name: &str, requirements: &str) -> Venv {
        let req = root().join(requirements);
        let target = target_dir();
        std::fs::create_dir_all(&target).unwrap();
        let dir = target.join(format!("pyenv-{name}"));
        let lock = std::fs::File::create(target.join(format!("pyenv-{name}.lock"))).unwrap();
        lock.lock().unwrap();
        let marker = dir.join("requirements.done");
        let want =
            std::fs::read(&req).unwrap_or_else(|e| panic!("cannot read {}: {e}", req.display()));
        if std::fs::read(&marker).ok().as_ref() != Some(&want) {
            let ok = Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "python3 -m venv failed");
            let ok = Command::new(dir.join("bin/pip"))
                .args(["install", "-q", "--disable-pip-version-check", "-r"])
                .arg(&req)
                .status()
                .unwrap()
                .success();
            assert!(
                ok,
                "pip install -r {} failed (PyPI is needed on the first run)",
                req.display()
            );
            std::fs::write(&marker, &want).unwrap();
        }
        Venv { dir }
    }

    /// The virtualenv's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The virtualenv's Python.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// A command running the virtualenv's Python.
    pub fn command(&self) -> Command {
        Command::new(self.python())
    }

    /// Runs `python <args>`; panics with stderr when it fails; returns stdout.
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "python {:?} failed: {}{}",
            args.iter()
                .map(|a| a.as_ref().to_owned())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A file inside the virtualenv's site-packages (`python3.X` found automatically).
    pub fn site_file(&self, rel: &str) -> PathBuf {
        let lib = self.dir.join("lib");
        for e in std::fs::read_dir(&lib).unwrap() {
            let p = e.unwrap().path().join("site-packages").join(rel);
            if p.exists() {
                return p;
            }
        }
        panic!("{rel} not found in {}", lib.display());
    }
}
