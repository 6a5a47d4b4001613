#!/bin/bash
# tab-gan (plain and with its default InfoGAN codes) against the ctgan package on every shared
# table, the same epochs, batch 500 and pac 10 for all three, one thread each: seconds per epoch
# and the quality of as many sampled rows as the training split has, scored by tab-score with
# TabSyn's column types against bench/quality's split (adult: adult-test as holdout; the others
# the fixed 90/10 split). Beijing: the rows with pm2.5 missing are dropped for all three (the
# package rejects missing numbers; TabSyn drops them too).
#   bench/gan/tables.sh [EPOCHS] [TABLE...]      (default 30; all five tables)
# Needs bench/out/quality/<table>/gan/{train,holdout}.csv (bench/quality/run.py) and bench/.venv
# with ctgan. Writes bench/out/gan/tables/<table>/ and prints a table. REPORT=1 only prints the
# table from the runs already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${BIN:-.build/release}
epochs=${1:-30}
shift || true
tables=("$@")
[[ $# -gt 0 ]] || tables=(adult default shoppers magic beijing)
out=bench/out/gan/tables
py=bench/.venv/bin/python
for t in "${tables[@]}"; do
  [[ ${REPORT:-0} = 1 ]] && break
  q=bench/out/quality/$t/gan
  w=$out/$t
  mkdir -p "$w"
  target=$(python3 -c "import json; print(json.load(open('$q/result.json'))['score']['utility']['target'])")
  for split in train holdout; do
    if [[ $t = beijing ]]; then
      $py -c "import pandas as pd, sys; d = pd.read_csv('$q/$split.csv', keep_default_na=False, na_values=[]); d[d['pm2.5'] != 'NA'].to_csv('$w/$split.csv', index=False)"
    else
      cp "$q/$split.csv" "$w/$split.csv"
    fi
  done
  rows=$(($(wc -l < "$w/train.csv") - 1))
  "$bin/tab-encode" -q --numeric gmm --seed 0 -o "$w/tok" "$w/train.csv"
  for codes in none cat:10,cont:2; do
    rm -f "$w/$codes.log"  # --log appends
    "$bin/tab-gan" train -q --codes "$codes" --epochs "$epochs" --threads 1 --seed 0 -m "$w/$codes.model" --log "$w/$codes.log" "$w/tok"
    "$bin/tab-gan" sample -q -m "$w/$codes.model" -n "$rows" --seed 0 --threads 1 | "$bin/tab-decode" -q -o "$w/$codes.csv"
  done
  $py bench/gan/ctgan_fit.py "$w/train.csv" --epochs "$epochs" --threads 1 --out "$w/ctgan.csv" --rows "$rows" > "$w/ctgan.json"
  for run in none cat:10,cont:2 ctgan; do
    "$bin/tab-score" -q --real "$w/train.csv" --synthetic "$w/$run.csv" --holdout "$w/holdout.csv" --target "$target" \
      --schema "bench/quality/types/$t.json" --no-distances --threads 1 --json "$w/$run.score.json" > /dev/null || true
  done
done
python3 - "$out" "$epochs" "${tables[@]}" <<'PY'
import json, sys
out, epochs, tables = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print(f"| table | trainer | s/epoch | shape err % | trend err % | tree AUC | MLE (synthetic / real) |")
print("|---|---|---:|---:|---:|---:|---|")
for t in tables:
    for run, label in (("ctgan", "ctgan"), ("none", "tab-gan plain"), ("cat:10,cont:2", "tab-gan codes")):
        d = json.load(open(f"{out}/{t}/{run}.score.json"))
        h = {x["name"]: x["value"] for x in d["headline"]}
        trees = next(x["auc"] for x in d["detection"] if x["detector"] == "xgboost")
        if run == "ctgan":
            spe = json.load(open(f"{out}/{t}/ctgan.json"))["s_per_epoch"]
        else:
            log = [json.loads(l) for l in open(f"{out}/{t}/{run}.log")]
            spe = log[-1]["seconds"] / len(log)
        u = d.get("utility", {})
        mle = f"{u.get('synthetic', float('nan')):.3f} / {u.get('real', float('nan')):.3f} {u.get('metric', '')}"
        print(f"| {t} | {label} | {spe:.2f} | {100 * (1 - h['shape']):.2f} | {100 * (1 - h['trend']):.2f} | {trees:.3f} | {mle} |")
PY
