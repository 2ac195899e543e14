#!/usr/bin/env python3
"""Presidio (regex recognizers only, no spaCy model) over the same JSONL corpus.

Writes findings as JSON lines {record, start, end, entity_type} with UTF-8 byte offsets (Presidio
reports character offsets) and prints MB/s on stderr.

usage: presidio_scan.py CORPUS.jsonl FINDINGS.jsonl
"""
import json
import logging
import sys
import time

# tldextract (used by the URL and e-mail recognizers) tries to download the public suffix
# list and logs a traceback when it cannot; it then uses its bundled snapshot.
logging.getLogger("tldextract").setLevel(logging.CRITICAL)

from presidio_analyzer import RecognizerRegistry
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer, CryptoRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer,
    PhoneRecognizer, UrlRecognizer, UsSsnRecognizer,
)

recognizers = [CreditCardRecognizer(), CryptoRecognizer(), EmailRecognizer(), IbanRecognizer(),
               IpRecognizer(), PhoneRecognizer(), UrlRecognizer(), UsSsnRecognizer()]
try:
    from presidio_analyzer.predefined_recognizers import MacAddressRecognizer
    recognizers.append(MacAddressRecognizer())
except ImportError:
    pass


def main():
    corpus, out_path = sys.argv[1], sys.argv[2]
    lines = open(corpus, encoding="utf-8").read().splitlines()
    texts = [(json.loads(l)["id"], json.loads(l)["text"]) for l in lines]
    nbytes = sum(len(l.encode()) + 1 for l in lines)
    start = time.perf_counter()
    results = []
    for rid, text in texts:
        for r in recognizers:
            for res in r.analyze(text, r.supported_entities, None):
                results.append((rid, text, res))
    elapsed = time.perf_counter() - start
    with open(out_path, "w") as out:
        for rid, text, res in results:
            if res.score < 0.4:
                continue
            s = len(text[:res.start].encode())
            e = s + len(text[res.start:res.end].encode())
            out.write(json.dumps({"record": rid, "start": s, "end": e, "entity_type": res.entity_type}) + "\n")
    print(f"presidio: {nbytes / 1e6:.2f} MB in {elapsed:.2f} s = {nbytes / 1e6 / elapsed:.3f} MB/s", file=sys.stderr)
    print(f"{nbytes / 1e6 / elapsed:.6f}")


if __name__ == "__main__":
    main()
