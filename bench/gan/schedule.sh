#!/bin/bash
# Equal-epoch quality of tab-gan's two step schedules: the generator update reusing the critic
# update's fake batch (the default) against a fresh batch (--fresh-fake, the ctgan package's).
# Trains each on bench/quality's training split of each table (run bench/quality/run.py first),
# samples as many rows, scores with tab-score against the split, prints one line per run.
#   bench/gan/schedule.sh [EPOCHS] [TABLE...]     (default: 60 adult shoppers magic)
# Environment: BIN (default .build/release), OUT (default bench/out/gan/schedule).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${BIN:-.build/release}
epochs=${1:-60}
shift || true
tables=("$@")
[[ $# -gt 0 ]] || tables=(adult shoppers magic)
out=${OUT:-bench/out/gan/schedule}
for t in "${tables[@]}"; do
  q=bench/out/quality/$t/gan
  w=$out/$t
  mkdir -p "$w"
  target=$(python3 -c "import json; print(json.load(open('$q/result.json'))['score']['utility']['target'])")
  "$bin/tab-encode" -q --numeric gmm --seed 0 -o "$w/tok" "$q/train.csv"
  rows=$(($(wc -l < "$q/train.csv") - 1))
  for mode in reuse fresh; do
    flag=()
    [[ $mode = fresh ]] && flag=(--fresh-fake)
    /usr/bin/time -f "%U" -o "$w/$mode.cpu" "$bin/tab-gan" train -q "${flag[@]}" --epochs "$epochs" --threads 1 \
      -m "$w/$mode.model" --log "$w/$mode.log" "$w/tok"
    "$bin/tab-gan" sample -q -m "$w/$mode.model" -n "$rows" --seed 0 --threads 1 | "$bin/tab-decode" -q -o "$w/$mode.csv"
    "$bin/tab-score" -q --real "$q/train.csv" --synthetic "$w/$mode.csv" --holdout "$q/holdout.csv" --target "$target" \
      --no-distances --threads 1 --json "$w/$mode.json" > /dev/null || true
    python3 - "$t" "$mode" "$(cat "$w/$mode.cpu")" "$w/$mode.json" <<'PY'
import json, sys
table, mode, cpu, path = sys.argv[1:5]
d = json.load(open(path))
h = {x["name"]: x["value"] for x in d["headline"]}
trees = next(x["auc"] for x in d["detection"] if x["detector"] == "xgboost")
print(f"{table} {mode}: CPU {cpu} s, shape err {100 * (1 - h['shape']):.2f}%, trend err {100 * (1 - h['trend']):.2f}%, "
      f"tree AUC {trees:.3f}, MLE {h.get('utility', float('nan')):.3f}")
PY
  done
done
