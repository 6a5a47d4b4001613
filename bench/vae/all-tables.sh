#!/bin/sh
# Issue #4's "every shared table" check: for each table, train tab-vae with its defaults on the
# training split (bench/quality/run.py's: adult-test for adult, a fixed 90/10 split otherwise),
# then encode | decode the held-out rows and print reconstruction.py's figures (categorical
# cells exact, R^2 per numerical column).
# Usage: bench/vae/all-tables.sh [TABLE ...]   (default: default shoppers magic beijing adult)
# Environment: THREADS (default 2), EPOCHS (default: tab-vae's), BIN (default: release build).
set -eu
cd "$(dirname "$0")/../.."
BIN=${BIN:-$(swift build -c release -q && swift build -c release --show-bin-path)}
tables=${*:-default shoppers magic beijing adult}
for table in $tables; do
  out=bench/out/vae-tables/$table
  mkdir -p "$out"
  python3 - "$table" "$out" <<'PY'
import sys
sys.path.insert(0, "bench/quality")
import run
run.prepare(sys.argv[1], False, sys.argv[2])
PY
  "$BIN/tab-encode" -q "$out/train.csv" -o "$out/train.bin"
  "$BIN/tab-encode" -q --encoder "$out/train.bin" --unknown frequent "$out/holdout.csv" -o "$out/test.bin"
  start=$(date +%s)
  "$BIN/tab-vae" train -q -m "$out/vae.model" --threads "${THREADS:-2}" ${EPOCHS:+--epochs $EPOCHS} "$out/train.bin"
  seconds=$(( $(date +%s) - start ))
  "$BIN/tab-vae" encode -m "$out/vae.model" "$out/test.bin" | "$BIN/tab-vae" decode -m "$out/vae.model" -o "$out/recon.bin"
  "$BIN/tab-decode" -q "$out/test.bin" -o "$out/test.csv"
  "$BIN/tab-decode" -q "$out/recon.bin" -o "$out/recon.csv"
  echo "== $table: trained in ${seconds}s (load $(cut -d' ' -f1 /proc/loadavg))"
  python3 bench/vae/reconstruction.py "$out/test.bin" "$out/recon.bin" "$out/test.csv" "$out/recon.csv" | grep -v '^  .* exact '
done
