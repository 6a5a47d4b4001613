#!/bin/sh
# Seconds per epoch of tab-gan against the ctgan package (PyPI), back to back: same table, same
# epochs, batch 500, pac 10, THREADS threads each. tab-gan runs plain (--codes none) and with
# its default InfoGAN codes. Wall time and CPU time (user + system) of the training loop; on a
# shared machine the CPU time is the steadier figure.
# Usage: [CTGAN=0] bench/gan/speed.sh [TABLE] [EPOCHS] [THREADS]   (TABLE: a name in ../shared/data)
set -eu
cd "$(dirname "$0")/../.."
table=${1:-adult}
epochs=${2:-5}
threads=${3:-1}
bin=${TABPIPE_BIN:-.build/release}
out=bench/out/gan
mkdir -p "$out"
data=../shared/data
if [ -f "$data/$table.csv.zst" ]; then zstd -qdc "$data/$table.csv.zst" > "$out/$table.csv"; else cp "$data/$table.csv" "$out/$table.csv"; fi
"$bin/tab-encode" --numeric gmm "$out/$table.csv" -o "$out/$table.tok"
echo "# $table, $epochs epochs, batch 500, pac 10, $threads thread(s); $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for codes in none cat:10,cont:2; do
  rm -f "$out/$table-$codes.log"
  /usr/bin/time -f "%U %S %e" -o "$out/time.txt" "$bin/tab-gan" train -q --codes "$codes" \
    --epochs "$epochs" --threads "$threads" --log "$out/$table-$codes.log" -m "$out/$table-$codes.model" "$out/$table.tok"
  seconds=$(tail -n 1 "$out/$table-$codes.log" | sed 's/.*"seconds":\([0-9.e-]*\).*/\1/')
  # CPU time of the whole process (reading and encoding the stream included: an upper bound).
  cpu=$(awk '{print $1 + $2}' "$out/time.txt")
  echo "{\"tool\": \"tab-gan --codes $codes\", \"s_per_epoch\": $(echo "$seconds / $epochs" | bc -l | cut -c1-6), \"cpu_s_per_epoch\": $(echo "$cpu / $epochs" | bc -l | cut -c1-6)}"
done
# CTGAN=0 skips the ctgan run (its preprocessing alone takes about two minutes on adult).
[ "${CTGAN:-1}" = 0 ] || bench/.venv/bin/python bench/gan/ctgan_fit.py "$out/$table.csv" --epochs "$epochs" --threads "$threads" \
  --out "$out/$table-ctgan.csv" --rows 10000
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
