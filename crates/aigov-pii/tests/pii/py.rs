//! The test oracles' virtualenv (Faker, phonenumbers, python-stdnum, pyarrow), made from
//! bench/pii/requirements.txt on first use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aigov_testkit::Venv;

pub fn root() -> PathBuf {
    aigov_testkit::root()
}

fn venv() -> &'static Venv {
    static V: OnceLock<Venv> = OnceLock::new();
    V.get_or_init(|| Venv::get("pii", "bench/pii/requirements.txt"))
}

/// Runs a Python script from bench/pii or the tests with arguments; panics with stderr on failure.
pub fn run(script: &Path, args: &[&str]) -> String {
    let mut all = vec![script.as_os_str()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    venv().run(&all)
}
