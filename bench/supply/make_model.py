"""Writes a model folder of about GIB gibibytes: a few large weight shards (as big models ship
them) and a couple of hundred small files (configs, tokenizer pieces), from a fixed seed.

usage: make_model.py DIR GIB
"""
import os
import random
import sys

out, gib = sys.argv[1], float(sys.argv[2])
total = int(gib * (1 << 30))
os.makedirs(out, exist_ok=True)
rng = random.Random(42)
block = rng.randbytes(1 << 20)
small = 0
for i in range(200):
    size = rng.randint(100, 64 * 1024)
    sub = os.path.join(out, "extra", f"part{i % 10}")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"file-{i}.json"), "wb") as f:
        f.write(rng.randbytes(size))
    small += size
large = total - small
shards = 4
for s in range(shards):
    left = large // shards
    with open(os.path.join(out, f"model-{s + 1:05d}-of-{shards:05d}.safetensors"), "wb") as f:
        n = 0
        while left > 0:
            chunk = block[: min(left, len(block))]
            # Vary blocks so that no two are equal (defeats nothing, but keeps data honest).
            f.write(bytes([n & 0xFF]) + chunk[1:])
            left -= len(chunk)
            n += 1
open(os.path.join(out, ".done"), "w").close()
