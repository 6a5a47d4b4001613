#!/usr/bin/env bash
# The CTGAN + InfoGAN pipeline as one command:
#
#   examples/synthesize-gan.sh IN.csv OUT.csv [ROWS]
#
# IN.csv -> tab-encode --numeric gmm (CTGAN's mode-specific normalization) -> tab-gan train
# -> tab-gan sample -> tab-decode -> OUT.csv (written atomically). Knobs, as environment
# variables: BUDGET=10m (--max-time), SEED=0, MODELS=DIR (keep gan.model there),
# TABPIPE_BIN=DIR, GAN_OPTIONS (e.g. "--epochs 300 --codes cat:10,cont:2"),
# WHERE (e.g. "sex=Female": every generated row satisfies it).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 IN.csv OUT.csv [ROWS]" >&2
  exit 64
fi
in="$1" out="$2"
budget="${BUDGET:-10m}" seed="${SEED:-0}"

if [ -n "${TABPIPE_BIN:-}" ]; then PATH="$TABPIPE_BIN:$PATH"
elif ! command -v tab-encode >/dev/null; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  (cd "$root" && swift build -c release -q)
  PATH="$(cd "$root" && swift build -c release --show-bin-path):$PATH"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/synthesize-gan.XXXXXX")"
trap 'rm -rf "$work"' EXIT
models="${MODELS:-$work}"
mkdir -p "$models"

echo "synthesize-gan: encoding $in (mode-specific normalization)" >&2
tab-encode -q --numeric gmm --seed "$seed" -o "$work/tokens.bin" "$in"
rows="${3:-$(tab-info "$work/tokens.bin" | awk '/^rows:/ { print $2 }')}"

echo "synthesize-gan: training (budget $budget)" >&2
tab-gan train -m "$models/gan.model" --seed "$seed" --max-time "$budget" ${GAN_OPTIONS:-} < "$work/tokens.bin"

echo "synthesize-gan: sampling $rows rows into $out" >&2
where=()
if [ -n "${WHERE:-}" ]; then where=(--where "$WHERE"); fi
tab-gan sample -m "$models/gan.model" -n "$rows" --seed "$seed" "${where[@]}" | tab-decode -o "$out"
echo "synthesize-gan: wrote $out" >&2
