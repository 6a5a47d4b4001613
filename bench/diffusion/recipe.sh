#!/usr/bin/env bash
# One point of the recipe search: train tab-diffuse on a latent stream with the given options,
# then for each step count sample ROWS rows (default: as many as were trained on) and print one
# JSON line with the timings and the latent-space figures of latents.py compare.
#
#   bench/diffusion/recipe.sh LATENTS "TRAIN OPTIONS" "STEP COUNTS"
#   e.g. bench/diffusion/recipe.sh z.bin "--width 256 --epochs 100" "25 50"
#
# Environment: TAB_DIFFUSE (default: the release build of this checkout), ROWS, KEEP=DIR (keep
# the model and samples there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${TAB_DIFFUSE:-$(cd "$here/../.." && swift build -c release -q --product tab-diffuse && swift build -c release --show-bin-path)/tab-diffuse}
latents=$1
train_opts=$2
steps_list=${3:-50}
if [[ -n "${KEEP:-}" ]]; then work=$KEEP; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
rows=${ROWS:-$(python3 -c "import sys; sys.path.insert(0, '$here'); import latents; print(len(latents.read_latents('$latents')[1]))")}
rm -f "$work/log.jsonl"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin" train -q -m "$work/d.model" $train_opts --log "$work/log.jsonl" < "$latents"
t1=$(date +%s.%N)
for steps in $steps_list; do
  s0=$(date +%s.%N)
  "$bin" sample -m "$work/d.model" -n "$rows" --seed 7 --steps "$steps" > "$work/s$steps.bin"
  s1=$(date +%s.%N)
  python3 -c "
import json, sys
sys.path.insert(0, '$here')
import latents
_, real = latents.read_latents('$latents')
_, synth = latents.read_latents('$work/s$steps.bin')
log = [json.loads(l) for l in open('$work/log.jsonl')]
out = {'train': '$train_opts', 'steps': $steps, 'epochs': len(log),
       'train_s': round($t1 - $t0, 1), 's_per_epoch': round(($t1 - $t0) / max(len(log), 1), 2),
       'sample_s': round($s1 - $s0, 1), 'final_loss': round(log[-1]['loss'], 4),
       'load': open('/proc/loadavg').read().split()[0]}
out.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in latents.compare(real, synth).items()})
print(json.dumps(out))
"
done
