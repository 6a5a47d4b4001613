#!/usr/bin/env bash
# encode-speed.sh: how fast tab-encode and tab-decode are on ~100 MB of CSV, against the Python
# way TabSyn encodes (pandas + scikit-learn, bench/python_reference.py). Prints figures; asserts
# nothing. Best of 3 runs on one thread; peak memory from /usr/bin/time. See bench/README.md.
#
# Environment: TABPIPE_BIN  directory holding tab-encode and tab-decode (absent: build release
#                           into .build-bench at the repository root)
#              BENCH_REPEAT runs per measurement (default 3; the best is reported)
#              BENCH_PYTHON the Python with pandas and scikit-learn (default bench/.venv/bin/python)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
shared=$(cd "$root/../shared" && pwd)
out=$here/out
repeat=${BENCH_REPEAT:-3}
python=${BENCH_PYTHON:-$here/.venv/bin/python}
reference=$here/python_reference.py
adult_repeats=28       # 28 x 3.5 MB of adult rows: 98.5 MB
hard_rows=925000       # about 100 MB of the hard table
hard_sample_rows=50000 # the hard table's encoder is fitted on its first rows

# Single thread for the Python side too (numpy may call a threaded BLAS).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

die() { echo "encode-speed.sh: $*" >&2; exit 1; }
note() { echo "encode-speed.sh: $*" >&2; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing; install it (apt-get install -y time)"
[[ -x $python ]] || die "no Python at $python; set BENCH_PYTHON or create bench/.venv"
[[ -f $shared/data/adult.csv.zst ]] || die "no $shared/data/adult.csv.zst"

if [[ -n ${TABPIPE_BIN:-} ]]; then
  bin=$(cd "$TABPIPE_BIN" && pwd)
else
  note "building release binaries into .build-bench"
  (cd "$root" && swift build -c release --scratch-path .build-bench >&2)
  bin=$root/.build-bench/release
fi
encode=$bin/tab-encode
decode=$bin/tab-decode
[[ -x $encode && -x $decode ]] || die "no tab-encode/tab-decode in $bin"

mkdir -p "$out"
cd "$out"

# --- Inputs (kept between runs; remove bench/out to remake them) ---------------------------------

if [[ ! -s adult.csv ]]; then zstd -qdc "$shared/data/adult.csv.zst" > adult.csv; fi
if [[ ! -s big.csv ]]; then
  note "making big.csv: adult's rows $adult_repeats times"
  {
    head -n 1 adult.csv
    for ((i = 0; i < adult_repeats; i++)); do tail -n +2 adult.csv; done
  } > big.csv.tmp
  mv big.csv.tmp big.csv
fi
if [[ ! -s hard.csv ]]; then
  note "making hard.csv: $hard_rows rows of random floats and categories"
  "$python" "$reference" generate hard.csv.tmp "$hard_rows" --seed 1
  mv hard.csv.tmp hard.csv
fi
head -n $((hard_sample_rows + 1)) hard.csv > hard-sample.csv
hard_numerical=normal,lognormal,uniform,exponential,student,bimodal

bytes() { stat -c %s "$1"; }
rows() { echo $(($(wc -l < "$1") - 1)); }
adult_bytes=$(bytes adult.csv) big_bytes=$(bytes big.csv) hard_bytes=$(bytes hard.csv)
adult_rows=$(rows adult.csv) big_rows=$(rows big.csv) hard_rows=$(rows hard.csv)

# --- Measuring ------------------------------------------------------------------------------------

declare -A wall cpu rss
# measure NAME INPUT OUTPUT COMMAND...: the best wall and CPU (user + system) seconds of $repeat
# runs, and the largest peak RSS (KiB).
measure() {
  local name=$1 input=$2 output=$3
  shift 3
  local best_wall="" best_cpu="" peak=0 start end elapsed kib user system used
  for ((run = 0; run < repeat; run++)); do
    start=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S' -o usage.txt "$@" < "$input" > "$output" || die "$name failed: $*"
    end=$EPOCHREALTIME
    elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')
    read -r kib user system < <(tail -n 1 usage.txt)
    used=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')
    best_wall=$(awk -v a="$elapsed" -v b="${best_wall:-$elapsed}" 'BEGIN { print (a < b ? a : b) }')
    best_cpu=$(awk -v a="$used" -v b="${best_cpu:-$used}" 'BEGIN { print (a < b ? a : b) }')
    if ((kib > peak)); then peak=$kib; fi
  done
  wall[$name]=$best_wall cpu[$name]=$best_cpu rss[$name]=$peak
  note "$(printf '%-14s %8.3f s wall %8.2f s CPU %7.1f MiB' "$name" "$best_wall" "$best_cpu" \
    "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')")"
}

declare -A python_phases
# python_run NAME MODE ARGS...: runs the reference once (it repeats inside) under /usr/bin/time;
# keeps the best total wall and CPU seconds, the phases as text and the process's peak RSS.
python_run() {
  local name=$1
  shift
  /usr/bin/time -f %M -o usage.txt "$python" "$reference" "$@" --repeat "$repeat" > phases.txt \
    || die "python $name failed"
  rss[$name]=$(tail -n 1 usage.txt)
  wall[$name]=$(awk -F '\t' '$1 == "total" { print $2 }' phases.txt)
  cpu[$name]=$(awk -F '\t' '$1 == "total" { print $3 }' phases.txt)
  python_phases[$name]=$(awk -F '\t' '$1 != "total" { printf "%s%s %.2f", n++ ? ", " : "", $1, $3 }' phases.txt)
  note "$(printf '%-14s %8.3f s wall %8.2f s CPU %7.1f MiB  (%s)' "$name" "${wall[$name]}" \
    "${cpu[$name]}" "$(awk -v k="${rss[$name]}" 'BEGIN { print k / 1024 }')" "${python_phases[$name]}")"
}

load_before=$(cut -d ' ' -f 1 /proc/loadavg)
note "load average before: $load_before"

# 1. Fit mode on adult itself (small: start-up and fitting dominate).
measure fit-adult adult.csv /dev/null "$encode" --fit enc.model
python_run py-fit-adult fit adult.csv
# 2. Apply mode on the big CSV, with the encoder fitted on adult.
measure apply-big big.csv big.bin "$encode" --encoder enc.model
"$python" "$reference" save adult.csv . --repeat 1 > /dev/null
python_run py-apply-big apply . big.csv
# 3. Decode the big stream.
measure decode-big big.bin /dev/null "$decode"
python_run py-decode-big decode . big.csv
# 4. Fit mode on the big CSV (everything is held in memory to fit).
measure fit-big big.csv /dev/null "$encode"
python_run py-fit-big fit big.csv
# 5. Apply mode where cells rarely repeat, with an encoder fitted on a sample.
"$encode" --fit hard.model < hard-sample.csv > /dev/null
measure apply-hard hard.csv hard.bin "$encode" --encoder hard.model
"$python" "$reference" save hard-sample.csv . --repeat 1 --numerical "$hard_numerical" > /dev/null
python_run py-apply-hard apply . hard.csv --numerical "$hard_numerical"
measure decode-hard hard.bin /dev/null "$decode"

load_after=$(cut -d ' ' -f 1 /proc/loadavg)
note "load average after: $load_after"

# Round trip: the decoded big stream should be the big CSV byte for byte.
"$decode" < big.bin > big.decoded.csv
if cmp -s big.csv big.decoded.csv; then
  round_trip="tab-decode of big.bin equals big.csv byte for byte"
else
  round_trip="tab-decode of big.bin DIFFERS from big.csv: $(cmp big.csv big.decoded.csv 2>&1 | head -n 1)"
fi
rm -f big.decoded.csv

# --- Report ---------------------------------------------------------------------------------------

mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
krows() { awk -v r="$1" -v s="$2" 'BEGIN { printf "%.0f", r / s / 1e3 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# row WHAT OURS PYTHON BYTES ROWS: one line of the table; speeds from CPU seconds.
row() {
  local what=$1 ours=$2 python=$3 size=$4 count=$5
  local s=${cpu[$ours]} py="| - | - | - | - | - |"
  if [[ -n $python ]]; then
    py=$(printf '| %.2f | %.2f | %s | %s | %s |' "${wall[$python]}" "${cpu[$python]}" \
      "$(mbs "$size" "${cpu[$python]}")" "$(mib "${rss[$python]}")" \
      "$(awk -v p="${cpu[$python]}" -v o="$s" 'BEGIN { printf "%.1fx", p / o }')")
  fi
  printf '| %s | %.2f | %.2f | %s | %s | %s %s\n' "$what" "${wall[$ours]}" "$s" "$(mbs "$size" "$s")" \
    "$(krows "$count" "$s")" "$(mib "${rss[$ours]}")" "$py"
}

target() {  # target WHAT VALUE GOAL UNIT
  local verdict="NOT met"
  if awk -v v="$2" -v g="$3" 'BEGIN { exit !(v >= g) }'; then verdict=met; fi
  echo "- $1: $2 $4 (target $3 $4: $verdict)"
}

megabytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

report() {
  echo "# encode-speed: tab-encode and tab-decode against pandas + scikit-learn"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ); $(getconf _NPROCESSORS_ONLN) cores ($(grep -m 1 'model name' /proc/cpuinfo | cut -d : -f 2 | sed 's/^ //')); load average $load_before before, $load_after after;"
  echo "best of $repeat runs, one thread. Inputs: adult.csv $(megabytes "$adult_bytes") MB ($adult_rows rows);"
  echo "big.csv $(megabytes "$big_bytes") MB (adult's rows ${adult_repeats}x, $big_rows rows); hard.csv"
  echo "$(megabytes "$hard_bytes") MB ($hard_rows rows of 6 random floats + 4 categories, encoder fitted on $hard_sample_rows)."
  echo
  echo "MB/s and krows/s are CSV bytes (read by encode, written by decode) and rows per CPU second"
  echo "(user + system; one thread, so wall time on an idle core), ratios are of CPU seconds too."
  echo
  echo "| what | wall s | CPU s | MB/s | krows/s | peak MiB | Python wall s | Python CPU s | Python MB/s | Python peak MiB | ours faster by |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  row "1. fit, adult (tab-encode --fit)" fit-adult py-fit-adult "$adult_bytes" "$adult_rows"
  row "2. apply, big (tab-encode --encoder)" apply-big py-apply-big "$big_bytes" "$big_rows"
  row "3. decode, big (tab-decode)" decode-big py-decode-big "$big_bytes" "$big_rows"
  row "4. fit, big (tab-encode)" fit-big py-fit-big "$big_bytes" "$big_rows"
  row "5. apply, hard (tab-encode --encoder)" apply-hard py-apply-hard "$hard_bytes" "$hard_rows"
  row "6. decode, hard (tab-decode)" decode-hard "" "$hard_bytes" "$hard_rows"
  echo
  target "apply, big" "$(mbs "$big_bytes" "${cpu[apply-big]}")" 100 MB/s
  target "apply, hard" "$(mbs "$hard_bytes" "${cpu[apply-hard]}")" 100 MB/s
  target "decode, big" "$(krows "$big_rows" "${cpu[decode-big]}")" 500 krows/s
  echo "- round trip: $round_trip"
  echo
  echo "Python phases (best CPU seconds): read_csv, the transforms, to_csv."
  echo
  local name
  for name in py-fit-adult py-apply-big py-decode-big py-fit-big py-apply-hard; do
    echo "- $name: ${python_phases[$name]}"
  done
  echo
  echo "Python peak MiB is the whole process (the table as a DataFrame; decode also fits first)."
  echo "Python decode starts from float32 arrays in memory; ours reads and decompresses the stream."
  echo "Python apply excludes unpickling the transformers; ours includes loading enc.model."
}

report | tee encode-speed.md
rm -f usage.txt phases.txt
