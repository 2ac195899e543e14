#!/usr/bin/env python3
"""Precision and recall per entity type on exact spans.

usage: evaluate.py LABELS.jsonl FINDINGS.jsonl [MAX_RECORD]
FINDINGS: aigov's findings JSONL (record, start, end, entity_type) or presidio_scan.py's output.
"""
import collections
import json
import sys

labels, findings = sys.argv[1], sys.argv[2]
max_record = int(sys.argv[3]) if len(sys.argv) > 3 else None


def load(path):
    out = set()
    for l in open(path):
        v = json.loads(l)
        if max_record is None or v["record"] <= max_record:
            out.add((v["record"], v["start"], v["end"], v["entity_type"]))
    return out


truth, found = load(labels), load(findings)
c = collections.defaultdict(lambda: [0, 0, 0])
for t in truth:
    c[t[3]][0 if t in found else 2] += 1
for f in found - truth:
    c[f[3]][1] += 1
print(f"{'entity':<18} {'tp':>6} {'fp':>6} {'fn':>6} {'precision':>9} {'recall':>7}")
for e in sorted(c):
    tp, fp, fn = c[e]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    print(f"{e:<18} {tp:>6} {fp:>6} {fn:>6} {p:>9.4f} {r:>7.4f}")
