#!/bin/sh
# Issue #4's quality and time figures: train tab-vae on adult with the defaults (--threads 2),
# then reconstruct the held-out adult-test rows (encoded with the training encoder) and report
# categorical exactness and R^2 per numerical column (bench/vae/reconstruction.py).
# Usage: bench/vae/reconstruction.sh [EXTRA TRAIN OPTIONS...]   (outputs in bench/out/vae/)
set -eu
cd "$(dirname "$0")/../.."
BIN=${BIN:-$(swift build -c release --scratch-path "${SCRATCH:-.build}" --show-bin-path)}
OUT=bench/out/vae
mkdir -p "$OUT"
DATA=../shared/data
zstd -dcf "$DATA/adult.csv.zst" -o "$OUT/adult.csv" 2>/dev/null
"$BIN/tab-encode" "$OUT/adult.csv" -o "$OUT/train.bin"
"$BIN/tab-encode" --encoder "$OUT/train.bin" --unknown missing "$DATA/adult-test.csv" -o "$OUT/test.bin"
echo "load before: $(uptime)"
start=$(date +%s)
"$BIN/tab-vae" train -m "$OUT/vae.model" --threads 2 --log "$OUT/train.jsonl" --progress "$@" "$OUT/train.bin"
echo "training took $(( $(date +%s) - start )) s; load after: $(uptime)"
"$BIN/tab-vae" encode -m "$OUT/vae.model" "$OUT/test.bin" | "$BIN/tab-vae" decode -m "$OUT/vae.model" -o "$OUT/recon.bin"
"$BIN/tab-decode" "$OUT/test.bin" -o "$OUT/test.csv"
"$BIN/tab-decode" "$OUT/recon.bin" -o "$OUT/recon.csv"
python3 bench/vae/reconstruction.py "$OUT/test.bin" "$OUT/recon.bin" "$OUT/test.csv" "$OUT/recon.csv"
