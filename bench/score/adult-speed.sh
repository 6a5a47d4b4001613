#!/bin/sh
# Times tab-score with every metric on adult (32,561 x 15), against a "synthetic" table made by
# shuffling each column of adult on its own (right marginals, no dependence), with the adult
# test split as holdout and income as target. Prints the summary, the per-stage timings, and
# writes bench/out/score-adult.{json,html}.
# Usage: bench/score/adult-speed.sh   (builds tab-score in release first)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
data="$root/../shared/data"
out="$root/bench/out"
mkdir -p "$out"
swift build -c release --scratch-path "$root/.build-score" --product tab-score >/dev/null
bin=$(swift build -c release --scratch-path "$root/.build-score" --show-bin-path)
zstd -qdc "$data/adult.csv.zst" > "$out/adult-train.csv"
python3 - "$out/adult-train.csv" "$out/adult-shuffled.csv" <<'PY'
import csv, random, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header, body = rows[0], rows[1:]
rng = random.Random(0)
columns = [[r[c] for r in body] for c in range(len(header))]
for column in columns:
    rng.shuffle(column)
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(zip(*columns))
PY
/usr/bin/time -f "wall %e s, user %U s, max RSS %M KiB" "$bin/tab-score" \
  --real "$out/adult-train.csv" --synthetic "$out/adult-shuffled.csv" \
  --holdout "$data/adult-test.csv" --target income \
  --json "$out/score-adult.json" --report "$out/score-adult.html"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('stages (s):', {k: round(v, 2) for k, v in d['timings'].items()})" "$out/score-adult.json"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
