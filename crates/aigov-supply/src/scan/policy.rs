//! Which imported callables are safe to load.
//!
//! Allow-list first: a callable is accepted only if it is one the common model formats need
//! (PyTorch tensor rebuilds and storages, NumPy array reconstruction, `collections`
//! containers, plain builtin constructors). Everything else is a finding; callables known to
//! run code, spawn processes, touch files or the network, or reach Python internals are
//! critical.

/// Severity of a finding, most severe first when sorted descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Worth a look.
    Low,
    /// Not known to be safe.
    Medium,
    /// Likely unsafe or hiding something.
    High,
    /// Runs code when loaded.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }
}

/// Exact `module.name` pairs that model files legitimately import.
const ALLOWED: &[&str] = &[
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.deque",
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.complex",
    "builtins.bytearray",
    "builtins.range",
    "builtins.list",
    "builtins.dict",
    "builtins.tuple",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.str",
    "builtins.bytes",
    "__builtin__.set",
    "__builtin__.frozenset",
    "__builtin__.slice",
    "__builtin__.complex",
    "copy_reg._reconstructor",
    "copyreg._reconstructor",
    "_codecs.encode",
    "datetime.datetime",
    "datetime.date",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "argparse.Namespace",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.dtypes.Float32DType",
    "numpy.dtypes.Float64DType",
    "numpy.dtypes.Int64DType",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_nested_tensor",
    "torch._tensor._rebuild_from_type_v2",
    "torch.serialization._get_layout",
    "torch.Size",
    "torch.device",
    "torch.dtype",
    "torch.Tensor",
    "torch.nn.parameter.Parameter",
    "torch.storage.UntypedStorage",
    "torch.storage.TypedStorage",
    "torch.storage._load_from_bytes",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.preserve_format",
    "torch.strided",
    "torch.sparse_coo",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.utils._bunch.Bunch",
];

/// Module prefixes whose every member is a data type or storage class (e.g.
/// `torch.FloatStorage`, `torch.float16`).
fn allowed_by_shape(module: &str, name: &str) -> bool {
    (module == "torch"
        && (name.ends_with("Storage")
            || matches!(
                name,
                "float16"
                    | "float32"
                    | "float64"
                    | "bfloat16"
                    | "half"
                    | "float"
                    | "double"
                    | "int8"
                    | "int16"
                    | "int32"
                    | "int64"
                    | "uint8"
                    | "bool"
                    | "long"
                    | "int"
                    | "complex64"
                    | "complex128"
                    | "float8_e4m3fn"
                    | "float8_e5m2"
            )))
        || (module == "numpy" && name.starts_with("dtype"))
}

/// Modules that execute code, spawn processes, reach the file system, the network or Python
/// internals; any member is critical.
const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "runpy",
    "importlib",
    "pty",
    "socket",
    "shutil",
    "commands",
    "webbrowser",
    "code",
    "codeop",
    "pickle",
    "_pickle",
    "cPickle",
    "dill",
    "marshal",
    "ctypes",
    "asyncio",
    "multiprocessing",
    "threading",
    "_thread",
    "requests",
    "urllib",
    "urllib2",
    "httplib",
    "http",
    "aiohttp",
    "ftplib",
    "smtplib",
    "telnetlib",
    "pip",
    "setuptools",
    "distutils",
    "timeit",
    "bdb",
    "pdb",
    "profile",
    "cProfile",
    "trace",
    "doctest",
    "tempfile",
    "glob",
    "pathlib",
    "io",
    "_io",
    "builtins",
    "__builtin__",
    "types",
    "operator",
    "functools",
    "inspect",
    "gc",
    "signal",
    "platform",
    "venv",
    "zipimport",
    "pkgutil",
    "uuid",
    "torch.hub",
    "torch.jit",
    "torch.package",
    "torch.utils.cpp_extension",
    "torch.serialization",
    "numpy.testing",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.lib.npyio",
    "joblib",
    "jinja2",
    "yaml",
    "shelve",
    "dbm",
    "sqlite3",
];

/// Verdict on one imported callable.
pub fn classify(module: Option<&str>, name: Option<&str>) -> (Severity, &'static str) {
    let (Some(module), Some(name)) = (module, name) else {
        return (
            Severity::High,
            "callable that cannot be resolved statically (operands built at load time)",
        );
    };
    let qualified = format!("{module}.{name}");
    if ALLOWED.contains(&qualified.as_str()) || allowed_by_shape(module, name) {
        return (Severity::Info, "on the allow list");
    }
    // Dotted names reach attributes of attributes (`os.path.join` → `os`).
    let root_hit = DANGEROUS_MODULES.iter().any(|d| {
        module == *d
            || module.starts_with(&format!("{d}."))
            || qualified == *d
            || qualified.starts_with(&format!("{d}."))
    });
    if root_hit || name.contains("__") {
        return (
            Severity::Critical,
            "can run code, start processes or reach files, the network or Python internals",
        );
    }
    (Severity::Medium, "not on the allow list")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(
            classify(Some("torch._utils"), Some("_rebuild_tensor_v2")).0,
            Severity::Info
        );
        assert_eq!(
            classify(Some("torch"), Some("FloatStorage")).0,
            Severity::Info
        );
        assert_eq!(
            classify(Some("posix"), Some("system")).0,
            Severity::Critical
        );
        assert_eq!(
            classify(Some("builtins"), Some("eval")).0,
            Severity::Critical
        );
        assert_eq!(classify(Some("builtins"), Some("set")).0, Severity::Info);
        assert_eq!(
            classify(Some("os.path"), Some("join")).0,
            Severity::Critical
        );
        assert_eq!(
            classify(Some("torch.serialization"), Some("load")).0,
            Severity::Critical
        );
        assert_eq!(classify(Some("mylib"), Some("Thing")).0, Severity::Medium);
        assert_eq!(
            classify(Some("mylib"), Some("__reduce__")).0,
            Severity::Critical
        );
        assert_eq!(classify(None, Some("x")).0, Severity::High);
    }
}
