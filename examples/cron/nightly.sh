#!/usr/bin/env bash
# A nightly job: keep a synthetic extract of a source table fresh and gated by quality.
#
#   examples/cron/nightly.sh SOURCE.csv EXTRACT.csv STATE_DIR
#
# - Retrains the models (in STATE_DIR) only when SOURCE.csv changed since the last good run.
# - Generates a fresh synthetic table beside EXTRACT.csv, scores it against SOURCE.csv with
#   tab-score's gates, and only then renames it over EXTRACT.csv: a reader sees the previous
#   extract or the new one, never a half-written or failed one.
# - When the gate fails, keeps the last good extract (and the models it came from) and exits 1.
# - Logs one line per event on stderr with a syslog priority prefix ("<6>" info, "<3>" error),
#   which journald reads as levels under systemd and `logger --prio-prefix` maps from cron:
#
#     15 3 * * *  /opt/tabpipe/examples/cron/nightly.sh /data/customers.csv /share/customers-synth.csv /var/lib/tabpipe 2>&1 | logger --prio-prefix -t tabpipe-nightly
#
# Knobs (environment): GATES="shape=0.95 trend=0.90" (tab-score --min pairs), BUDGET=10m per
# training stage, SEED (default: the day number, so each night's extract is new but
# reproducible), TABPIPE_BIN (where the tools are), VAE_OPTIONS / DIFFUSE_OPTIONS / SCORE_OPTIONS
# (extra options for tab-vae train, tab-diffuse train and tab-score).
# Exit statuses: 0 published, 1 gate failed (previous extract kept), 64 usage, other: a stage
# failed (previous extract kept; the stage's own message is in the log).
set -uo pipefail

log() { printf '<%s>%s\n' "$1" "$2" >&2; }
if [ $# -ne 3 ]; then
  echo "usage: $0 SOURCE.csv EXTRACT.csv STATE_DIR" >&2
  exit 64
fi
source_csv="$1" extract="$2" state="$3"
gates="${GATES:-shape=0.95 trend=0.90}"
budget="${BUDGET:-10m}"
seed="${SEED:-$(( $(date +%s) / 86400 ))}"
if [ -n "${TABPIPE_BIN:-}" ]; then PATH="$TABPIPE_BIN:$PATH"; fi
for tool in tab-encode tab-vae tab-diffuse tab-decode tab-score; do
  command -v "$tool" >/dev/null || { log 3 "cannot find $tool (set TABPIPE_BIN)"; exit 69; }
done
mkdir -p "$state" || exit 73

# Everything new is made in a work folder first; nothing in STATE_DIR or at EXTRACT changes
# until it passed.
work="$(mktemp -d "$state/.work.XXXXXX")" || exit 73
trap 'rm -rf "$work"' EXIT
fail() { log 3 "$1; kept the previous extract"; exit "${2:-70}"; }

checksum="$(sha256sum < "$source_csv" | cut -d' ' -f1)" || fail "cannot read $source_csv" 66
models="$state/models"
if [ -f "$state/source.sha256" ] && [ "$(cat "$state/source.sha256")" = "$checksum" ] \
  && [ -f "$models/vae.model" ] && [ -f "$models/diffusion.model" ]; then
  log 6 "source unchanged (sha256 ${checksum:0:12}); reusing the models"
  trained="$models"
else
  log 6 "source changed (sha256 ${checksum:0:12}); retraining with budget $budget"
  trained="$work/models"
  mkdir -p "$trained"
  tab-encode -q -o "$work/tokens.bin" "$source_csv" || fail "tab-encode failed" $?
  tab-vae train -q -m "$trained/vae.model" --seed "$seed" --max-time "$budget" ${VAE_OPTIONS:-} < "$work/tokens.bin" || fail "tab-vae train failed" $?
  tab-vae encode -m "$trained/vae.model" < "$work/tokens.bin" > "$work/latents.bin" || fail "tab-vae encode failed" $?
  tab-diffuse train -q -m "$trained/diffusion.model" --seed "$seed" --max-time "$budget" ${DIFFUSE_OPTIONS:-} < "$work/latents.bin" || fail "tab-diffuse train failed" $?
fi

rows="$(tab-encode -q "$source_csv" | tab-info - | awk '/^rows:/ { print $2 }')"
[ -n "$rows" ] || fail "cannot count the rows of $source_csv" 65
# The candidate lives beside the extract (same file system) so the final rename is atomic.
candidate="$(dirname "$extract")/.$(basename "$extract").candidate-$$"
trap 'rm -rf "$work"; rm -f "$candidate"' EXIT
tab-diffuse sample -q -m "$trained/diffusion.model" -n "$rows" --seed "$seed" \
  | tab-vae decode -m "$trained/vae.model" \
  | tab-decode -q -o "$candidate" || fail "sampling failed" $?

min=()
for gate in $gates; do min+=(--min "$gate"); done
tab-score -q --real "$source_csv" --synthetic "$candidate" --json "$work/score.json" "${min[@]}" ${SCORE_OPTIONS:-} > "$work/score.txt"
status=$?
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 1 ]; then
    log 3 "quality gate failed ($gates): $(grep -i fail "$work/score.txt" | head -3 | tr '\n' ' ')"
    fail "not publishing" 1
  fi
  fail "tab-score failed" "$status"
fi

# Publish: models first (if retrained), then the extract, each by rename.
if [ "$trained" != "$models" ]; then
  rm -rf "$state/models.old"
  [ -d "$models" ] && mv "$models" "$state/models.old"
  mv "$trained" "$models" && rm -rf "$state/models.old"
  echo "$checksum" > "$state/source.sha256.tmp" && mv "$state/source.sha256.tmp" "$state/source.sha256"
fi
mv -f "$candidate" "$extract" || fail "cannot publish $extract" 73
cp "$work/score.json" "$state/last-score.json" 2>/dev/null
log 6 "published $extract ($rows rows, seed $seed; gates $gates passed)"
