"""Writes the unsafe-model test corpus into DIR and prints its expectations as JSON.

Every case is made here, with Python's own pickle module or hand-assembled opcodes; nothing is
downloaded. Expectations: the worst severity the scanner must report for the file
("clean" = nothing at medium or above), the rule that must appear, and a text that must
appear in a finding's message or callable.
"""
import gzip
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import types
import zipfile
import zlib

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
cases = []


def case(name, data, worst, rule=None, text=None):
    path = os.path.join(out, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    cases.append({"file": name, "worst": worst, "rule": rule, "text": text})


# Fake modules so that pickle records the real PyTorch/NumPy names without torch installed.
def fake(module, *names):
    m = types.ModuleType(module)
    for n in names:
        obj = type(n, (), {}) if n[0].isupper() else (lambda *a, **k: None)
        obj.__module__ = module
        obj.__qualname__ = n
        obj.__name__ = n
        setattr(m, n, obj)
    sys.modules[module] = m
    return m


torch = fake("torch", "FloatStorage", "Size")
tutils = fake("torch._utils", "_rebuild_tensor_v2")


class Storage:
    pass


class Tensor:
    def __init__(self, key):
        self.key = key

    def __reduce__(self):
        import collections
        return (tutils._rebuild_tensor_v2,
                (self.key, 0, (2, 2), (2, 1), False, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", torch.FloatStorage, "0", "cpu", 4)
        return None


def torch_pickle(obj):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def torch_zip(pkl, prefix="archive"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pkl)
        z.writestr(f"{prefix}/byteorder", "little")
        z.writestr(f"{prefix}/data/0", struct.pack("<4f", 1, 2, 3, 4))
        z.writestr(f"{prefix}/version", "3\n")
    return buf.getvalue()


import collections

state = collections.OrderedDict(
    [("layer.weight", Tensor(Storage())), ("layer.bias", Tensor(Storage()))])
benign = torch_pickle(state)
case("benign/pytorch_model.pt", torch_zip(benign), "clean")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


evil = pickle.dumps({"weights": [1, 2], "x": Evil()}, protocol=2)
# A raw pickle under a PyTorch file name (modelscan passed this one).
case("raw/pytorch_model.bin", evil, "critical", "pickle.import", "system")
case("torch/evil.pt", torch_zip(pickle.dumps(Evil(), protocol=2)), "critical", "pickle.import", "system")

# Protocol 4: STACK_GLOBAL with its operands fetched back from the memo.
body = (b"\x8c\x02os\x94\x8c\x06system\x94"
        b"0" b"0"                 # pop both: only the memo holds them now
        b"h\x00h\x01\x93"         # BINGET 0, BINGET 1, STACK_GLOBAL
        b"\x8c\x02id\x85R.")
p4 = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
case("tricks/stack_global_memo.pkl", p4, "critical", "pickle.import", "os.system")

# STACK_GLOBAL whose module is not a string (built at load time).
unres = b"\x80\x04)\x8c\x04eval\x93)R."
case("tricks/unresolvable.pkl", unres, "high", "pickle.import", "cannot be resolved")

# EXT1: the callable comes from the copyreg extension registry.
case("tricks/ext.pkl", b"\x80\x02\x82\x01)R.", "high", "pickle.extension", "extension code 1")

# Protocol 0 INST calling builtins.eval.
case("tricks/inst.pkl", b"(S'1+1'\nibuiltins\neval\n.", "critical", "pickle.import", "builtins.eval")

# Legacy (pre-zip) PyTorch file: magic, protocol, sys info, object, storage keys, storages.
legacy = (pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
          + pickle.dumps({"little_endian": True}, protocol=2)
          + pickle.dumps(Evil(), protocol=2) + pickle.dumps(["0"], protocol=2)
          + b"\x00" * 64)
case("legacy/model.pth", legacy, "critical", "pickle.import", "system")
legacy_ok = (pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
             + pickle.dumps({"little_endian": True}, protocol=2)
             + torch_pickle(state) + pickle.dumps(["0"], protocol=2) + b"\x01" * 64)
case("legacy/ok.pth", legacy_ok, "clean")

# Nested: a PyTorch zip inside a zip inside a tar.gz.
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("model.pt", torch_zip(pickle.dumps(Evil(), protocol=4)))
tgz = io.BytesIO()
with tarfile.open(fileobj=tgz, mode="w:gz") as t:
    info = tarfile.TarInfo("release/bundle.zip")
    info.size = len(inner.getvalue())
    t.addfile(info, io.BytesIO(inner.getvalue()))
case("nested/release.tar.gz", tgz.getvalue(), "critical", "pickle.import", "system")

# A 7z archive (LZMA2) with a payload beside a benign checkpoint.
import py7zr

buf = io.BytesIO()
with py7zr.SevenZipFile(buf, "w") as z:
    z.writestr(torch_zip(benign), "release/pytorch_model.pt")
    z.writestr(evil, "release/extra/optimizer.bin")
case("nested/release.7z", buf.getvalue(), "critical", "pickle.import", "system")
buf = io.BytesIO()
with py7zr.SevenZipFile(buf, "w") as z:
    z.writestr(torch_zip(benign), "pytorch_model.pt")
case("nested/clean.7z", buf.getvalue(), "clean")

# joblib-style zlib-compressed pickle.
case("joblib/model.joblib", zlib.compress(evil), "critical", "pickle.import", "system")

# Real joblib files: array bytes sit between pickle opcodes, object arrays are nested pickles.
import joblib
import numpy as np

arrays = {"w": np.arange(1000, dtype="f4"), "names": np.array(["a", "bb"]),
          "o": np.array([1, "a"], dtype=object), "i": np.zeros((3, 4), dtype="i8"),
          "t": np.array(["2020-01-01"], dtype="M8[ns]")}
for name, obj, worst, rule, text in [
        ("joblib/arrays.joblib", arrays, "clean", None, None),
        ("joblib/evil-after-arrays.joblib", {"w": np.arange(10.0), "x": Evil()}, "critical", "pickle.import", "system"),
        ("joblib/evil-in-object-array.joblib", {"o": np.array([Evil()], dtype=object)}, "critical", "pickle.import", "system")]:
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    case(name, buf.getvalue(), worst, rule, text)
buf = io.BytesIO()
joblib.dump({"w": np.arange(10.0), "x": Evil()}, buf, compress=3)
case("joblib/compressed.joblib", buf.getvalue(), "critical", "pickle.import", "system")

# NumPy object array: the data after the header is a pickle.
hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
hdr = hdr + " " * (63 - (10 + len(hdr)) % 64) + "\n"
npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + pickle.dumps([Evil()], protocol=3)
case("numpy/objects.npy", npy, "critical", "pickle.import", "system")
hdr2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
hdr2 = hdr2 + " " * (63 - (10 + len(hdr2)) % 64) + "\n"
case("numpy/floats.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr2)) + hdr2.encode() + struct.pack("<4f", 1, 2, 3, 4), "clean")

# Structured dtypes with object fields: joblib writes a nested pickle, .npy a pickle body.
buf = io.BytesIO()
joblib.dump({"s": np.array([(Evil(),)], dtype=[("a", "O")])}, buf)
case("joblib/structured-object.joblib", buf.getvalue(), "high", "pickle.malformed", "structured")
buf = io.BytesIO()
np.save(buf, np.array([(Evil(),)], dtype=[("a", "O")]), allow_pickle=True)
case("numpy/structured-object.npy", buf.getvalue(), "critical", "pickle.import", "system")

# A gzip-compressed protocol-1 pickle without PROTO, judged by the name it decompresses to.
case("raw/model.pkl.gz", gzip.compress(pickle.dumps(Evil(), protocol=1)), "critical", "pickle.import", "system")

# A GNU tar with a long member name (the name header is skipped, the member still scanned).
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    info = tarfile.TarInfo("release/" + "very-long-folder-name/" * 8 + "pytorch_model.bin")
    info.size = len(evil)
    t.addfile(info, io.BytesIO(evil))
case("nested/longname.tar", buf.getvalue(), "critical", "pickle.import", "system")

# NumPy .npz (a zip of .npy members): an object array member hides the payload.
buf = io.BytesIO()
np.savez(buf, weights=np.arange(4.0), meta=np.array([Evil()], dtype=object))
case("numpy/archive.npz", buf.getvalue(), "critical", "pickle.import", "system")
buf = io.BytesIO()
np.savez_compressed(buf, weights=np.arange(4.0))
case("numpy/clean.npz", buf.getvalue(), "clean")

# Keras 2 HDF5 file: the model configuration attribute names a Lambda layer.
config = json.dumps({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "Lambda", "config": {"function": ["4wEAAAAA", None, None]}}]}})
case("keras/model.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64 + b"model_config" + config.encode() + b"\x00" * 64,
     "critical", "keras.lambda", "Lambda")

# Keras v3 archive with a Lambda layer.
keras = io.BytesIO()
with zipfile.ZipFile(keras, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
    # Spacing and a unicode escape that a plain text search would miss.
    z.writestr("config.json", '{"class_name": "Sequential", "config": {"layers": [{"class_name" :  "\\u004cambda", "config": {}}]}}')
    z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 32)
case("keras/lambda.keras", keras.getvalue(), "critical", "keras.lambda", "Lambda")

# safetensors: valid, overlapping, lying header length.
def st(header, data):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


case("tensors/ok.safetensors", st({"__metadata__": {"format": "pt"},
                                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                    "b": {"dtype": "F16", "shape": [2, 2], "data_offsets": [8, 16]}}, b"\x00" * 16), "clean")
case("tensors/overlap.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\x00" * 12),
     "high", "safetensors.header", "overlaps")
case("tensors/size.safetensors", st({"a": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 8]}}, b"\x00" * 8),
     "high", "safetensors.header", "needs 4000 bytes")
case("tensors/huge-header.safetensors", struct.pack("<Q", 2**40) + b"{}", "high", "safetensors.header", "declares a header")


def gguf(kvs, tensors, data_len, count_lie=None):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    body = b"GGUF" + struct.pack("<I", 3)
    body += struct.pack("<QQ", count_lie or len(tensors), len(kvs))
    for k, v in kvs:
        body += s(k) + struct.pack("<I", 8) + s(v)
    for name, dims, off in tensors:
        body += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        body += struct.pack("<I", 0) + struct.pack("<Q", off)
    body += b"\x00" * ((32 - len(body) % 32) % 32)
    return body + b"\x00" * data_len


case("gguf/ok.gguf", gguf([("general.name", "tiny")], [("w", [4], 0)], 16), "clean")
case("gguf/template.gguf", gguf([("tokenizer.chat_template",
                                  "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read() }}")],
                                [("w", [4], 0)], 16), "critical", "gguf.chat-template", "__globals__")
case("gguf/beyond.gguf", gguf([], [("w", [1000], 0)], 16), "high", "gguf.header", "beyond")
case("gguf/counts.gguf", gguf([], [], 0, count_lie=2**60), "high", "gguf.header", "more than")

# Broken files never pass.
case("broken/truncated.pkl", benign[: len(benign) // 2], "high", "pickle.malformed", "truncated")
case("broken/hostile-length.pkl", b"\x80\x04\x8d" + struct.pack("<Q", 2**62) + b"abc", "high", "pickle.malformed", "declares")
case("broken/deep.pkl", b"\x80\x02" + b"(" * 200000 + b"t" * 199999 + b".", "clean")
case("broken/model.bin", os.urandom(4096), "medium", "scan.unrecognised", "cannot be checked")
case("broken/archive.7z", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 64, "high", "archive.malformed", "7z")
case("broken/bad.zip", b"PK\x03\x04" + b"\x00" * 40, "high", "archive.malformed", None)

print(json.dumps(cases))
