#!/bin/sh
# Issue #4's speed figure: seconds per training epoch of tab-vae on adult with the reference's
# defaults (batch 4096, as the PyTorch twin; tab-vae's own default is 512), against TabSyn's VAE in PyTorch (bench/vae/torch_vae_epoch.py) on the same CPU, run
# back to back for each thread count so both see about the same load.
# Usage: bench/vae/speed.sh [EPOCHS]   (needs bench/.venv with torch; see bench/torch-reference.md)
set -eu
cd "$(dirname "$0")/../.."
BIN=${BIN:-$(swift build -c release --scratch-path "${SCRATCH:-.build}" --show-bin-path)}
EPOCHS=${1:-3}
OUT=bench/out/vae
mkdir -p "$OUT"
zstd -dcf ../shared/data/adult.csv.zst -o "$OUT/adult.csv" 2>/dev/null
"$BIN/tab-encode" "$OUT/adult.csv" -o "$OUT/train.bin"
for threads in 1 2; do
  rm -f "$OUT/speed.jsonl"
  "$BIN/tab-vae" train -q -m "$OUT/speed.model" --threads "$threads" --epochs $((EPOCHS + 1)) --batch-size 4096 \
    --log "$OUT/speed.jsonl" "$OUT/train.bin"
  # epoch_s of each epoch after the first (a warm-up), median
  python3 -c "
import json, os, statistics
s = [json.loads(l)['epoch_s'] for l in open('$OUT/speed.jsonl')][1:]
print(f'tab-vae threads $threads: seconds/epoch median {statistics.median(s):.3f} min {min(s):.3f} (load {os.getloadavg()[0]:.2f})')"
  if [ -x bench/.venv/bin/python ]; then
    bench/.venv/bin/python bench/vae/torch_vae_epoch.py "$OUT/train.bin" --threads "$threads" --epochs "$EPOCHS"
  fi
done
