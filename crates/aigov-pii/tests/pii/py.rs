//! A Python virtualenv with the test oracles (Faker, phonenumbers, python-stdnum, pyarrow),
//! created on first use from bench/pii/requirements.txt. Creation needs PyPI; without it the
//! tests that need Python fail (they are never skipped).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let root = root();
        let req = root.join("bench/pii/requirements.txt");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        std::fs::create_dir_all(&target).unwrap();
        let dir = target.join("pyenv-pii");
        // Other test processes may be creating it too.
        let lock = std::fs::File::create(target.join("pyenv-pii.lock")).unwrap();
        lock.lock().unwrap();
        let marker = dir.join("requirements.done");
        let want = std::fs::read(&req).unwrap();
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
                "pip install -r {} failed (PyPI needed for the test oracles)",
                req.display()
            );
            std::fs::write(&marker, &want).unwrap();
        }
        dir.join("bin/python")
    })
    .clone()
}

/// Runs a Python script from bench/pii or the tests with arguments; panics with stderr on failure.
pub fn run(script: &Path, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
