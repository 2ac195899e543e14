"""Side-by-side benchmark of aigov's model signing and model scanning against the anchors.

usage: bench.py AIGOV VENV_PYTHON MODEL_DIR CORPUS_DIR RUNS

Signing: sha256sum/b3sum over the same files in parallel (the hashing ceiling), then
`model_signing sign key` and `aigov model sign` with the same key, root digests compared,
each tool verifying its own and the other's signature. Scanning: aigov against picklescan and
modelscan on the same corpus (files per second, and which tool flags which case).
Prints a report in Markdown; wall times are the median of RUNS runs, page cache warm.
"""
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

aigov, py, model, corpus, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
bindir = os.path.dirname(py)
nproc = os.cpu_count() or 1
work = os.path.dirname(os.path.abspath(model))


def run(cmd, ok=(0,), env=None):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate()
    dt = time.perf_counter() - t
    if p.returncode not in ok:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {err.decode()[-2000:]}")
    return dt, out.decode(), p.returncode


def median(cmd, ok=(0,)):
    times = []
    for _ in range(runs):
        dt, out, _ = run(cmd, ok)
        times.append(dt)
    return statistics.median(times), out


def files_of(d):
    fs = []
    for root, _, names in os.walk(d):
        for n in names:
            if n not in (".done", "model.sig", "py.sig"):
                fs.append(os.path.join(root, n))
    return sorted(fs)


def root_of(sig):
    b = json.load(open(sig))
    st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
    return st["subject"][0]["digest"]["sha256"]


size = sum(os.path.getsize(f) for f in files_of(model))
gib = size / (1 << 30)
print(f"# Model signing: {len(files_of(model))} files, {gib:.2f} GiB, {nproc} cores, median of {runs}\n")
# Warm the page cache.
for f in files_of(model):
    with open(f, "rb") as h:
        while h.read(1 << 24):
            pass

rows = []
files = files_of(model)
# One file per sha256sum process, nproc at a time: the large files never queue on one core.
t_sha, _ = median(["sh", "-c", f"printf '%s\\0' \"$@\" | xargs -0 -P {nproc} -n 1 sha256sum > /dev/null", "sh", *files])
rows.append(("sha256sum, parallel (xargs -P)", t_sha))
b3 = shutil.which("b3sum") or os.path.join(work, "tools/bin/b3sum")
t_b3 = None
if os.path.exists(b3):
    t_b3, _ = median([b3, "--num-threads", str(nproc), *files])
    rows.append(("b3sum", t_b3))
t_dig, _ = median([aigov, "model", "digest", model, "--quiet"])
rows.append(("aigov model digest (sha256)", t_dig))
t_dig3, _ = median([aigov, "model", "digest", model, "--quiet", "--hash", "blake3"])
rows.append(("aigov model digest --hash blake3", t_dig3))

key = os.path.join(work, "bench-key")
if not os.path.exists(key + ".key"):
    run([aigov, "model", "keygen", key])
aig_sig = os.path.join(model, "model.sig")
py_sig = os.path.join(work, "py.sig")
t_pys, _ = median([py, "-m", "model_signing", "sign", "key", "--private_key", key + ".key", "--signature", py_sig, "--ignore-paths", aig_sig, model])
rows.append(("model_signing sign key (CLI)", t_pys))
t_as, _ = median([aigov, "model", "sign", model, "--key", key + ".key", "--quiet"])
rows.append(("aigov model sign", t_as))
same = root_of(py_sig) == root_of(aig_sig)
t_pyv, _ = median([py, "-m", "model_signing", "verify", "key", "--public_key", key + ".pub", "--signature", py_sig, model, "--ignore-paths", aig_sig])
rows.append(("model_signing verify key (CLI)", t_pyv))
t_av, _ = median([aigov, "model", "verify", model, "--public-key", key + ".pub", "--quiet"])
rows.append(("aigov model verify", t_av))
# Each verifies the other's signature.
run([py, "-m", "model_signing", "verify", "key", "--public_key", key + ".pub", "--signature", aig_sig, model])
run([aigov, "model", "verify", model, "--public-key", key + ".pub", "--signature", py_sig, "--quiet"])

print("| operation | wall (s) | GiB/s |\n| --- | ---: | ---: |")
for name, t in rows:
    print(f"| {name} | {t:.2f} | {gib / t:.2f} |")
print(f"\nSame root digest from both tools: {same} (sha256:{root_of(aig_sig)})")
print("Each tool verified the other's signature: yes")
print(f"\naigov digest vs sha256sum in parallel: {t_sha / t_dig:.2f} of its speed")
if t_b3:
    print(f"aigov blake3 digest vs b3sum: {t_b3 / t_dig3:.2f} of its speed")
print(f"sign: aigov {t_pys / t_as:.1f}x faster than model_signing; verify: {t_pyv / t_av:.1f}x")

# A small model: start-up dominates.
small = os.path.join(work, "model-small")
if not os.path.exists(os.path.join(small, ".done")):
    run([sys.executable, os.path.join(os.path.dirname(__file__), "make_model.py"), small, "0.0625"])
small_sig = os.path.join(work, "small-py.sig")
t_pys_small, _ = median([py, "-m", "model_signing", "sign", "key", "--private_key", key + ".key", "--signature", small_sig, small])
t_as_small, _ = median([aigov, "model", "sign", small, "--key", key + ".key", "--quiet", "--signature", os.path.join(work, "small-aigov.sig")])
print(f"\nSmall model (64 MiB, 204 files): model_signing sign {t_pys_small:.2f} s, aigov sign {t_as_small:.2f} s ({t_pys_small / t_as_small:.1f}x)")

# Scanning.
cases = json.load(open(os.path.join(corpus, "cases.json")))
bulk = os.path.join(corpus, "bulk")
nbulk = len(files_of(bulk))
print(f"\n# Model scanning: {nbulk} files (the {len(cases)} cases x 40 copies, without the broken 7z), median of {runs}\n")
t_ag, _ = median([aigov, "model", "scan", bulk, "--quiet", "--json"], ok=(0, 1))
t_ps, _ = median([os.path.join(bindir, "picklescan"), "-p", bulk], ok=(0, 1, 2))
t_ms, _ = median([os.path.join(bindir, "modelscan"), "-p", bulk], ok=(0, 1, 2, 3, 4))
print("| tool | wall (s) | files/s |\n| --- | ---: | ---: |")
for name, t in [("aigov model scan", t_ag), ("picklescan 1.0.5", t_ps), ("modelscan 0.8.8", t_ms)]:
    print(f"| {name} | {t:.2f} | {nbulk / t:.0f} |")
_, ps_out, _ = run([os.path.join(bindir, "picklescan"), "-p", bulk], ok=(0, 1, 2))
scanned = [l for l in ps_out.splitlines() if l.startswith("Scanned files")]
print(f"\naigov is {t_ps / t_ag:.1f}x faster than picklescan and {t_ms / t_ag:.1f}x faster than modelscan")
print(f"picklescan's own count: {scanned[0] if scanned else 'no summary (it stopped early)'}; aigov scans every file and archive member")


def verdict(tool, path):
    """What the tool's exit code says: flagged (1: findings), error (could not scan),
    skipped (modelscan's 3: no supported file, nothing scanned), passed (0)."""
    if tool == "aigov":
        cmd = [aigov, "model", "scan", path, "--quiet", "--json"]
    elif tool == "picklescan":
        cmd = [os.path.join(bindir, "picklescan"), "-p", path]
    else:
        cmd = [os.path.join(bindir, "modelscan"), "-p", path]
    _, out, code = run(cmd, ok=(0, 1, 2, 3, 4))
    if tool == "picklescan" and code == 0 and "Unhandled exception" in out:
        return "error"
    return {0: "passed", 1: "flagged", 3: "skipped"}.get(code, "error")


print("\nVerdicts from exit codes; a hostile or broken file is handled right when it is flagged or")
print("reported as an error, a benign one when it passes.\n")
print("| case | expected | aigov | picklescan | modelscan |\n| --- | --- | --- | --- | --- |")
missed = {"aigov": 0, "picklescan": 0, "modelscan": 0}
for c in cases:
    path = os.path.join(corpus, "cases", c["file"])
    bad = c["worst"] != "clean"
    cells = []
    for tool in ("aigov", "picklescan", "modelscan"):
        v = verdict(tool, path)
        right = v in ("flagged", "error") if bad else v == "passed"
        if not right:
            missed[tool] += 1
        cells.append(v + ("" if right else " ✗"))
    print(f"| {c['file']} | {'flag' if bad else 'pass'} | " + " | ".join(cells) + " |")
print(f"\nWrong verdicts: aigov {missed['aigov']}, picklescan {missed['picklescan']}, modelscan {missed['modelscan']} (of {len(cases)})")
