#!/usr/bin/env bash
# clgan on NVIDIA's OpenCL against PyTorch CUDA on the same card: dcgan28 and dcgan64 at batch
# 64 and 256, after `clgan tune` for each, one device call. Written for a lent GPU machine
# (../shared/gpu/README.md); results go to $OUT (or ./gpu-results) as text and JSON.
#
# Here, once (downloads the runtime libraries into .gpu/, builds build-gpu/):
#     bench/gpu.sh prepare
# On the device, carrying [".gpu", "build-gpu"]:
#     bash .gpu/on-device.sh bench/gpu.sh run
#
# The run takes about 5-8 minutes on an H100 (the tunes dominate; --budget-s below caps them).
#
# GPU_SH_DRY=1 rehearses the whole script on this machine's CPU device instead (PyTorch on
# the CPU, 2 iterations, tiny tune budgets, batch 16 and 32): it checks the plumbing (the
# carried libraries, the tune, the JSON and the RESULT lines), not the speed:
#     GPU_SH_DRY=1 OUT=/tmp/gpu-dry bash .gpu/on-device.sh bench/gpu.sh run
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

if [ "${1:-}" = prepare ]; then
  set -e
  cd "$root"
  ../shared/gpu/prepare.sh 2>/dev/null || /work/shared/gpu/prepare.sh
  # what build-gpu/clgan links beyond ../shared/gpu/prepare.sh's list (see `ldd`)
  extra="libjson-c5 libcairo2 libpixman-1-0 libfontconfig1 libfreetype6 libxcb-shm0 libxcb1
         libxcb-render0 libxrender1 libx11-6 libxext6 libexpat1 libbrotli1 libxau6 libxdmcp6
         libbsd0 libmd0 libpng16-16 libssl3 zlib1g"
  (cd .gpu/debs && apt-get download $extra >/dev/null)
  [ -d build-gpu ] || meson setup build-gpu --buildtype=release
  ninja -C build-gpu clgan
  du -sh .gpu build-gpu
  exit 0
fi
[ "${1:-}" = run ] || { sed -n '2,12p' "$0"; exit 2; }

out=${OUT:-$root/gpu-results}   # at most a few files come back from $OUT: keep it to three
mkdir -p "$out"
work=$(mktemp -d)
clgan="$root/build-gpu/clgan"
log="$out/gpu.txt"
results="$out/results.jsonl"
: >"$results"
export CLGAN_CACHE_DIR="$work/cache"   # a fresh tune, not a stale file
{
  echo "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
  "$clgan" --version
  "$clgan" devices
} 2>&1 | tee "$log"
dev=gpu tdev=cuda iters=20 warmup=3 budget=90 batches="64 256" prof_batch=256 cands=""
if [ "${GPU_SH_DRY:-0}" = 1 ]; then
  dev=cpu tdev=cpu iters=2 warmup=1 budget=5 batches="16 32" prof_batch=16 cands="--candidates 1"
  echo "== GPU_SH_DRY=1: a rehearsal on the CPU device, not a measurement" | tee -a "$log"
fi

# PyTorch runs outside the carried libraries (they are for clgan only)
# (the first of $PYTHON, python3, /usr/bin/python3 that imports torch: a pyenv or venv
# python3 first on PATH may lack it)
py=""
for c in ${PYTHON:-} python3 /usr/bin/python3; do
  if env -u LD_LIBRARY_PATH -u OCL_ICD_VENDORS "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
done
[ -n "$py" ] || echo "== warning: no python3 with torch found (set PYTHON=...)" | tee -a "$log"
torch_py() { env -u LD_LIBRARY_PATH -u OCL_ICD_VENDORS "${py:-python3}" "$here/torch_twin.py" "$@"; }
torch_py --device "$tdev" --iters 2 --warmup 1 >/dev/null 2>>"$log" || echo "== warning: PyTorch ($tdev) did not run" | tee -a "$log"
oneline() { tr -d '\n' <"$1"; echo; }

for model in dcgan28 dcgan64; do
  for batch in $batches; do
    echo "== $model batch $batch" | tee -a "$log"
    timeout 150 "$clgan" tune --device "$dev" --model "$model" --batch "$batch" --budget-s "$budget" $cands \
      --candidate-timeout-s 60 --max-programs 2 >"$work/tune.txt" 2>&1
    sed -n '/^shape/,$p' "$work/tune.txt" >>"$log"
    tail -n 3 "$work/tune.txt"
    "$clgan" bench train --device "$dev" --model "$model" --batch "$batch" --iters "$iters" \
      --warmup "$warmup" --profile-iters 2 --json >"$work/clgan.json" 2>>"$log"
    oneline "$work/clgan.json" >>"$results"
    c=$(sed -n 's/.*"ms_per_iter":\([0-9.]*\).*/\1/p' "$work/clgan.json" | head -n 1)
    torch_py --device "$tdev" --model "$model" --batch "$batch" --iters "$iters" --warmup "$warmup" --json \
      >"$work/torch.json" 2>>"$log"
    cat "$work/torch.json" >>"$results"
    t=$(sed -n 's/.*"ms_per_iter": \([0-9.]*\).*/\1/p' "$work/torch.json" | head -n 1)
    awk -v c="$c" -v t="$t" -v m="$model" -v b="$batch" -v td="$tdev" 'BEGIN {
      if (c == "" || t == "") { printf "RESULT %s batch %d: missing (clgan %s ms, torch %s ms)\n", m, b, c, t; exit }
      printf "RESULT %s batch %d: clgan %.2f ms/iter (%.0f img/s), torch %s %.2f ms/iter (%.0f img/s): %.2fx\n",
             m, b, c, b * 1000 / c, td, t, b * 1000 / t, t / c }' | tee -a "$log"
  done
done
# the breakdown of the largest case, for the record
"$clgan" bench train --device "$dev" --model dcgan64 --batch "$prof_batch" --iters 5 --profile-iters 2 \
  >>"$log" 2>&1
rm -rf "$work"
ls -la "$out"
