#!/usr/bin/env bash
# One row of the second recipe search (docs/diffusion-recipe.md): train tab-diffuse on a fixed
# VAE's latents with the given options on one thread, sample as many rows as the table has
# (seed 7), decode them, score the table with tab-score (fidelity, detection, utility), and print
# one JSON line.
#
#   bench/diffusion/trial.sh OUTDIR "TRAIN OPTIONS"
#   e.g. bench/diffusion/trial.sh /tmp/lr3 "--epochs 400 --lr 3e-3 --clip 1"
#
# Environment: CELL, a folder holding vae.model, latents.bin (its latents of the training table),
# tokens.bin (the encoder), train.csv and holdout.csv (default: bench/out/quality/adult/tabsyn,
# which bench/quality/run.py --tables adult --methods tabsyn leaves behind); TARGET (income);
# SAMPLE_OPTIONS (extra tab-diffuse sample options); BIN (default the release build); SCHEMA, a
# tab-score schema file to score with instead of the encoder's column types (e.g.
# bench/diffusion/adult-tabsyn-types.json, the types TabSyn's evaluation uses).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BIN:-$root/.build/release}
cell=${CELL:-$root/bench/out/quality/adult/tabsyn}
out=$1
train_opts=$2
mkdir -p "$out"
rows=$(($(wc -l < "$cell/train.csv") - 1))
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin/tab-diffuse" train -q -m "$out/d.model" --threads 1 --log "$out/log.jsonl" $train_opts < "$cell/latents.bin"
t1=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin/tab-diffuse" sample -m "$out/d.model" -n "$rows" --seed 7 --threads 1 ${SAMPLE_OPTIONS:-} > "$out/s.bin"
t2=$(date +%s.%N)
types=(--encoder "$cell/tokens.bin")
[[ -n "${SCHEMA:-}" ]] && types=(--schema "$SCHEMA")
"$bin/tab-vae" decode -m "$cell/vae.model" < "$out/s.bin" | "$bin/tab-decode" > "$out/synthetic.csv"
"$bin/tab-score" -q --real "$cell/train.csv" --synthetic "$out/synthetic.csv" --holdout "$cell/holdout.csv" \
  --target "${TARGET:-income}" "${types[@]}" --no-distances --threads 1 --json "$out/score.json" > /dev/null || true
python3 - "$out" "$train_opts" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" <<'PY'
import json, sys
out, opts, train_s, sample_s = sys.argv[1:5]
s = json.load(open(f"{out}/score.json"))
h = {x["name"]: x["value"] for x in s["headline"]}
log = [json.loads(line) for line in open(f"{out}/log.jsonl")]
trees = next(d["auc"] for d in s["detection"] if d["detector"] == "xgboost")
print(json.dumps({"train": opts, "epochs": len(log), "train_s": round(float(train_s)), "sample_s": round(float(sample_s)),
                  "loss": round(log[-1]["loss"], 4), "shape_err": round(100 * (1 - h["shape"]), 2),
                  "trend_err": round(100 * (1 - h["trend"]), 2), "tree_auc": round(trees, 3),
                  "c2st": round(h["logistic"], 3), "mle": round(h["utility"], 3)}))
PY
