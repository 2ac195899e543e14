//! Integration tests of aigov-supply (one binary).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod bom;
mod interop;
mod oms;
mod scan;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aigov_testkit::Venv;

/// The reference tools' virtualenv (model_signing 1.1.1 and friends).
pub fn venv() -> &'static Venv {
    static V: OnceLock<Venv> = OnceLock::new();
    V.get_or_init(|| Venv::get("supply", "bench/supply/requirements.txt"))
}

/// Runs tests/supply/oms.py in the virtualenv.
pub fn oms_py(args: &[&std::ffi::OsStr]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/supply/oms.py");
    let mut all = vec![script.as_os_str()];
    all.extend_from_slice(args);
    venv().run(&all)
}

/// The upstream model-signing vectors (tests/data/model-signing, see its README).
pub fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model-signing")
}

/// A model folder with nested folders, hidden, empty and non-ASCII names, files around a
/// shard size of 1000 bytes, and git files that are ignored by default.
pub fn make_model(dir: &Path) {
    let files: &[(&str, usize)] = &[
        ("config.json", 300),
        ("weights/part-00001.bin", 2500),
        ("weights/part-00002.bin", 1000),
        ("weights/empty.bin", 0),
        (".hidden/tokenizer.model", 999),
        ("a/b/c/deep.txt", 1001),
        ("模型说明.md", 77),
        ("a.b", 5),
        ("a-b", 5),
        ("a/z", 5),
        (".git/HEAD", 20),
        (".gitattributes", 12),
    ];
    for (name, size) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let data: Vec<u8> = (0..*size)
            .map(|i| (i as u8).wrapping_mul(31) ^ name.len() as u8)
            .collect();
        std::fs::write(p, data).unwrap();
    }
}
