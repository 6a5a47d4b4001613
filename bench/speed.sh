#!/usr/bin/env bash
# Every speed comparison of the project in one run, one after the other on this machine, into
# bench/out/speed.md (bench/quality/run.py copies it into bench/RESULTS.md):
#   encode-speed.sh   tab-encode / tab-decode against pandas + scikit-learn     (issue #2)
#   core-speed.sh     one training step of each model against PyTorch          (issue #3)
#   vae/speed.sh      tab-vae seconds per epoch on adult against PyTorch       (issue #4)
#   diffusion         tab-diffuse sampling rows/s on adult-shaped latents      (issue #5)
#   gan/speed.sh      tab-gan seconds per epoch on adult against ctgan 0.12.1  (issue #7)
# Needs bench/.venv with torch 2.13.0+cpu, numpy, pandas, scikit-learn, ctgan (bench/README.md).
# Takes about 30-40 minutes on 2 quiet cores; the 1-minute load average is printed with each
# part: figures taken while other work runs are not comparable.
#   bench/speed.sh [--quick]     --quick: fewer epochs and steps (a smoke test of the harness)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
swift build -c release -q
bin="$(swift build -c release --show-bin-path)"
export TABPIPE_BIN="$bin" BIN="$bin"
out=bench/out
mkdir -p "$out"
page="$out/speed.md"
load() { cut -d' ' -f1-3 /proc/loadavg; }
section() { printf '\n## %s\n\n(load before: %s)\n\n```\n' "$1" "$(load)" >> "$page"; }
end() { printf '```\n' >> "$page"; }

printf '# Speed\n\nMade by `bench/speed.sh` on %s, %s, %s cores.\n' "$(date -u +%F)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)" > "$page"

section "Encoding and decoding (bench/encode-speed.sh)"
if [ $quick = 1 ]; then echo "(skipped with --quick)" >> "$page"; else BENCH_REPEAT=1 bench/encode-speed.sh >> "$page" 2>/dev/null; fi
end

section "One training step against PyTorch (bench/core-speed.sh)"
if [ $quick = 1 ]; then STEPS=2 WAIT_FOR_QUIET=0 bench/core-speed.sh 1 >> "$page" 2>/dev/null; else bench/core-speed.sh 1 2 >> "$page" 2>/dev/null; fi
end

section "tab-vae seconds per epoch on adult (bench/vae/speed.sh)"
bench/vae/speed.sh $([ $quick = 1 ] && echo 1 || echo 5) >> "$page" 2>/dev/null
end

section "tab-diffuse sampling (32,561 rows of adult-shaped latents, default model)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bench/.venv/bin/python bench/diffusion/latents.py toy 32561 60 7 > "$work/z.bin"
"$bin/tab-diffuse" train -q -m "$work/d.model" --epochs $([ $quick = 1 ] && echo 1 || echo 5) --log "$work/train.jsonl" < "$work/z.bin"
python3 -c "
import json; rows = [json.loads(l) for l in open('$work/train.jsonl')]
print(f'training: {rows[-1][\"seconds\"] / len(rows):.2f} s per epoch (32,561 rows, default width and batch)')" >> "$page"
for threads in 1 2; do
  start=$(date +%s.%N)
  "$bin/tab-diffuse" sample -q -m "$work/d.model" -n 32561 --seed 1 --threads "$threads" > "$work/s.bin"
  end_time=$(date +%s.%N)
  echo "sampling, $threads thread(s): $(echo "$end_time - $start" | bc -l | cut -c1-6) s for 32,561 rows (30 steps)" >> "$page"
done
end

section "tab-gan seconds per epoch on adult against ctgan (bench/gan/speed.sh)"
for threads in 1 2; do
  # Three interleaved rounds (one when quick): the medians line is the figure to quote.
  ROUNDS=$([ $quick = 1 ] && echo 1 || echo 3) bench/gan/speed.sh adult $([ $quick = 1 ] && echo 1 || echo 4) "$threads" >> "$page" 2>/dev/null
done
end

echo "speed: wrote $page" >&2
