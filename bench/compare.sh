#!/usr/bin/env bash
# clgan against its PyTorch twin on the same machine, one after the other in one run:
# `clgan bench train`, then bench/torch_twin.py in three thread settings (torch threads /
# OpenBLAS threads: 1/1, 2/2 and 2/1, the last being PyTorch's best on the 2-core VM, see
# issue 18), then clgan's throughput as a ratio of the twin's best one. Rounds alternate
# (clgan, torch 1/1, torch 2/2, torch 2/1, clgan, ...) so that a busy machine slows all of them
# alike; each number is the median of its rounds. OPENBLAS_CORETYPE is unset for the twin
# (forcing a core type made OpenBLAS slower here).
#
#   bench/compare.sh [--build DIR] [--model dcgan28] [--batch 64] [--iters 10] [--rounds 3]
#                    [--device D] [--blas DIR|system] [--python /usr/bin/python3]
#
# PyTorch's BLAS: Debian's python3-torch runs linear and transposed-convolution layers through
# libblas.so.3. With Debian's reference BLAS (the default alternative) the twin is about 10x
# slower than with OpenBLAS, which would flatter clgan, so by default the twin runs with
# OpenBLAS from the libopenblas0-pthread package, unpacked (not installed) into
# $DIR/openblas with `apt-get download` + `dpkg -x` and put first on LD_LIBRARY_PATH, with
# OPENBLAS_NUM_THREADS as the setting says. --blas system uses whatever libblas.so.3 is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
model=dcgan28 batch=64 iters=10 rounds=3 device="" blas="" py=/usr/bin/python3
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --blas) blas=$2; shift 2 ;;
    --python) py=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
clgan="$build/clgan"
[ -x "$clgan" ] || { echo "compare.sh: no $clgan (meson setup $build && ninja -C $build)" >&2; exit 2; }

if [ -z "$blas" ]; then
  blas="$build/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread"
  if [ ! -e "$blas/libblas.so.3" ]; then
    echo "compare.sh: unpacking OpenBLAS for the twin into $build/openblas" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download libopenblas0-pthread >/dev/null 2>&1) &&
      dpkg -x "$tmp"/libopenblas0-pthread_*.deb "$build/openblas" ||
      { echo "compare.sh: could not fetch libopenblas0-pthread; use --blas system or --blas DIR" >&2; exit 1; }
    rm -rf "$tmp"
  fi
fi

devarg=()
[ -n "$device" ] && devarg=(--device "$device")
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$clgan" devices 2>/dev/null | sed -n '1,6p' | sed 's/^/== /'
echo "== clgan $("$clgan" --version | cut -d' ' -f2), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "== torch: $($py -c 'import torch; print(torch.__version__)'), BLAS: ${blas}"

run_torch() { # torch-threads openblas-threads
  if [ "$blas" = system ]; then
    env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS="$2" \
      "$py" "$here/torch_twin.py" --model "$model" --batch "$batch" --iters "$iters" --threads "$1" --json
  else
    env -u OPENBLAS_CORETYPE LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      OPENBLAS_NUM_THREADS="$2" \
      "$py" "$here/torch_twin.py" --model "$model" --batch "$batch" --iters "$iters" --threads "$1" --json
  fi
}
num() { sed -n "s/.*\"$1\": *\([0-9.e+-]*\).*/\1/p" | head -n 1; }

c_ms=() t1_ms=() t2_ms=() t21_ms=()
for r in $(seq 1 "$rounds"); do
  echo "-- round $r of $rounds (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  out=$("$clgan" bench train "${devarg[@]}" --model "$model" --batch "$batch" --iters "$iters" \
        --profile-iters 0 --json 2>/dev/null)
  c_ms+=("$(echo "$out" | tr -d '\n' | num ms_per_iter)")
  [ "$r" = 1 ] && echo "$out" | sed -n 's/.*"gemm_plan": *"\(.*\)".*/== clgan GEMM plan: \1/p'
  t1_ms+=("$(run_torch 1 1 | num ms_per_iter)")
  t2_ms+=("$(run_torch 2 2 | num ms_per_iter)")
  t21_ms+=("$(run_torch 2 1 | num ms_per_iter)")
  echo "   clgan ${c_ms[-1]} ms, torch 1/1 ${t1_ms[-1]} ms, 2/2 ${t2_ms[-1]} ms, 2/1 ${t21_ms[-1]} ms" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cm=$(median "${c_ms[@]}") t1=$(median "${t1_ms[@]}") t2=$(median "${t2_ms[@]}")
t21=$(median "${t21_ms[@]}")
awk -v cm="$cm" -v t1="$t1" -v t2="$t2" -v t21="$t21" -v b="$batch" -v m="$model" -v r="$rounds" 'BEGIN {
  best = t1; bt = "1 torch thread, OpenBLAS 1"
  if (t2 < best) { best = t2; bt = "2 torch threads, OpenBLAS 2" }
  if (t21 < best) { best = t21; bt = "2 torch threads, OpenBLAS 1" }
  printf "RESULT clgan %s batch %d: %.1f ms/iter, %.1f img/s (median of %d rounds)\n", m, b, cm, b * 1000 / cm, r
  printf "RESULT torch 1 thread,  OpenBLAS 1: %.1f ms/iter, %.1f img/s\n", t1, b * 1000 / t1
  printf "RESULT torch 2 threads, OpenBLAS 2: %.1f ms/iter, %.1f img/s\n", t2, b * 1000 / t2
  printf "RESULT torch 2 threads, OpenBLAS 1: %.1f ms/iter, %.1f img/s\n", t21, b * 1000 / t21
  printf "RATIO clgan / torch (best: %s) = %.2fx throughput\n", bt, best / cm
}'
