#!/usr/bin/env bash
# The issue-5 pipeline on adult, timed stage by stage, then scored with tab-score:
#
#   bench/diffusion/pipeline.sh [OUTDIR]            (default bench/out/diffusion)
#
# Environment: DIFF_OPTS / VAE_OPTS (extra train options), STEPS (sample steps), BIN (default
# the checkout's release build, built first). Prints one line per stage with its seconds and the scores at the end
# (shape error = 100·(1 − Column Shapes), trend error = 100·(1 − Column Pair Trends)), with the
# column types TabSyn's evaluation uses (bench/quality/types/adult.json: education-num numerical).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BIN:-$(cd "$root" && swift build -c release -q && swift build -c release --show-bin-path)}
out=${1:-$root/bench/out/diffusion}
mkdir -p "$out"
cd "$out"
data=$root/../shared/data
[[ -f adult.csv ]] || zstd -qdc "$data/adult.csv.zst" > adult.csv
stage() {
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@"
  printf '%-8s %6.1f s\n' "$name" "$(echo "$(date +%s.%N) - $t0" | bc)"
}
start=$(date +%s.%N)
stage encode sh -c "'$bin/tab-encode' --fit enc.model < adult.csv > x.bin"
# shellcheck disable=SC2086
stage vae sh -c "'$bin/tab-vae' train -q -m vae.model ${VAE_OPTS:-} < x.bin"
stage latents sh -c "'$bin/tab-vae' encode -m vae.model < x.bin > z.bin"
# shellcheck disable=SC2086
stage diffuse sh -c "'$bin/tab-diffuse' train -q -m diff.model --log diff.jsonl ${DIFF_OPTS:-} < z.bin"
stage sample sh -c "'$bin/tab-diffuse' sample -m diff.model -n 32561 --seed 7 ${STEPS:+--steps $STEPS} > s.bin"
stage decode sh -c "'$bin/tab-vae' decode -m vae.model < s.bin | '$bin/tab-decode' > synth.csv"
printf '%-8s %6.1f s\n' total "$(echo "$(date +%s.%N) - $start" | bc)"
"$bin/tab-score" -q --real adult.csv --synthetic synth.csv --holdout "$data/adult-test.csv" --target income \
  --schema "$root/bench/quality/types/adult.json" --no-distances --json score.json > /dev/null || true
python3 "$here/score.py" score.json
