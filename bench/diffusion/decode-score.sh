#!/usr/bin/env bash
# Decodes sampled latents with a VAE and scores the table (shape and trend only, fast):
#   bench/diffusion/decode-score.sh VAE.model ENC.model REAL.csv SAMPLE.bin [more.bin ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-$(cd "$here/../.." && swift build -c release -q && swift build -c release --show-bin-path)}
vae=$1 enc=$2 real=$3
shift 3
for s in "$@"; do
  "$bin/tab-vae" decode -m "$vae" < "$s" | "$bin/tab-decode" > "${s%.bin}.csv"
  "$bin/tab-score" -q --real "$real" --synthetic "${s%.bin}.csv" --encoder "$enc" --no-distances --no-detection \
    --json "${s%.bin}.score.json"
  python3 "$here/score.py" "${s%.bin}.score.json"
done
