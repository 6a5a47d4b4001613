#!/usr/bin/env bash
# The TabSyn pipeline as one command, and as documentation of how the stages chain:
#
#   examples/synthesize.sh IN.csv OUT.csv [ROWS]
#
# IN.csv -> tab-encode -> tab-vae train/encode -> tab-diffuse train/sample -> tab-vae decode
# -> tab-decode -> OUT.csv, written atomically (tab-decode -o renames a finished file into
# place). ROWS defaults to the number of rows of IN.csv. Knobs, as environment variables:
#   BUDGET=5m      wall-clock budget for each of the two training stages (--max-time)
#   SEED=0         seed of every stage: the same seed and input give the same OUT.csv
#   MODELS=DIR     keep the models in DIR (default: a temporary folder removed at exit)
#   TABPIPE_BIN=.. where the tab-* tools are (default: PATH, else this checkout's release build)
#   VAE_OPTIONS, DIFFUSE_OPTIONS   extra options for the trainers, e.g. VAE_OPTIONS="--epochs 50"
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 IN.csv OUT.csv [ROWS]" >&2
  exit 64
fi
in="$1" out="$2"
budget="${BUDGET:-5m}" seed="${SEED:-0}"

# The tools: $TABPIPE_BIN, PATH, or a release build of this checkout.
if [ -n "${TABPIPE_BIN:-}" ]; then PATH="$TABPIPE_BIN:$PATH"
elif ! command -v tab-encode >/dev/null; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  (cd "$root" && swift build -c release -q)
  PATH="$(cd "$root" && swift build -c release --show-bin-path):$PATH"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/synthesize.XXXXXX")"
trap 'rm -rf "$work"' EXIT
models="${MODELS:-$work}"
mkdir -p "$models"

echo "synthesize: encoding $in" >&2
tab-encode -q -o "$work/tokens.bin" "$in"
# Rows to generate: as many as the input has.
rows="${3:-$(tab-info "$work/tokens.bin" | awk '/^rows:/ { print $2 }')}"

echo "synthesize: training the VAE (budget $budget)" >&2
tab-vae train -m "$models/vae.model" --seed "$seed" --max-time "$budget" ${VAE_OPTIONS:-} < "$work/tokens.bin"
tab-vae encode -m "$models/vae.model" < "$work/tokens.bin" > "$work/latents.bin"

echo "synthesize: training the diffusion model (budget $budget)" >&2
tab-diffuse train -m "$models/diffusion.model" --seed "$seed" --max-time "$budget" ${DIFFUSE_OPTIONS:-} < "$work/latents.bin"

echo "synthesize: sampling $rows rows into $out" >&2
tab-diffuse sample -m "$models/diffusion.model" -n "$rows" --seed "$seed" \
  | tab-vae decode -m "$models/vae.model" \
  | tab-decode -o "$out"
echo "synthesize: wrote $out" >&2
