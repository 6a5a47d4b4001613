#!/usr/bin/env python3
"""Held-out reconstruction of a trained tab-vae (issue #4's quality figure).

Usage: reconstruction.py TOKENS.bin RECON.bin TOKENS.csv RECON.csv
  TOKENS.bin  held-out rows encoded with the training encoder (tab-encode --encoder)
  RECON.bin   the same rows through tab-vae encode | tab-vae decode
  *.csv       both streams through tab-decode
Prints, per int field, the share of exactly reproduced codes (categories and missing
indicators), the overall categorical share, and R^2 per numerical column in the table's own
units (rows missing in either file left out)."""
import csv, os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
from read_stream import read_stream

def main(tokens, recon, tokens_csv, recon_csv):
    h, _, ints = read_stream(tokens)
    _, _, rints = read_stream(recon)
    fields = h["layout"]["intFields"]
    cat_hits = cat_total = 0
    print(f"{len(ints)} held-out rows")
    for j, field in enumerate(fields):
        share = float(np.mean(ints[:, j] == rints[:, j]))
        print(f"  {field['name']:<24} {field['role']:<9} exact {100 * share:7.3f} %")
        if field["role"] == "category":
            cat_hits += int(np.sum(ints[:, j] == rints[:, j]))
            cat_total += len(ints)
    if cat_total:
        print(f"categorical cells exact: {100 * cat_hits / cat_total:.3f} %")
    numeric = [f["column"] or f["name"] for f in h["layout"]["floatFields"]]
    with open(tokens_csv) as a, open(recon_csv) as b:
        ra, rb = list(csv.DictReader(a)), list(csv.DictReader(b))
    worst = 1.0
    for name in numeric:
        pairs = []
        for x, y in zip(ra, rb):
            try:
                pairs.append((float(x[name]), float(y[name])))
            except ValueError:
                pass  # a missing cell in either file
        x, y = np.array(pairs).T
        r2 = 1 - np.sum((x - y) ** 2) / np.sum((x - x.mean()) ** 2)
        worst = min(worst, r2)
        print(f"  {name:<24} R^2 {r2:.5f}  ({len(pairs)} rows)")
    print(f"worst numerical R^2: {worst:.5f}")

if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
