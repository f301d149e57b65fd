#!/usr/bin/env bash
# Correctness of clgan on a lent GPU: `clgan doctor`, every device test binary of the suite
# (the operators against their float64 references, the graph network against finite
# differences, the freezing rules, the PyTorch fixtures, cdcgan28 learning its classes), a
# conditional training run on Fashion-MNIST with its samples, and bench train of each preset,
# in one device call of about 3 minutes. Results go to $OUT (or ./gpu-results).
#
# Here, once (the runtime libraries into .gpu/, build-gpu/ with the tests, the test list):
#     bench/gpu.sh prepare && bench/gpu_check.sh prepare
# On the device, carrying [".gpu", "build-gpu"]:
#     bash .gpu/on-device.sh bench/gpu_check.sh run
# GPU_CHECK_DEVICE=cpu rehearses it on this machine's POCL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [ "${1:-}" = prepare ]; then
  set -e
  cd "$root"
  ninja -C build-gpu >/dev/null
  # the suite's device tests that are programs of the build (scripts need the host's tools)
  meson introspect build-gpu --tests | python3 -c '
import json, os, sys
root = os.getcwd()
for t in json.load(sys.stdin):
    c = t["cmd"]
    if any(s.startswith("clgan:device") for s in t["suite"]) and c[0].startswith(root + "/build-gpu/"):
        print(t["name"], " ".join(a.replace(root + "/", "") for a in c))
' >.gpu/device-tests.txt
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz; do
    [ -f .gpu/data/$f ] || cp /usr/share/datasets/fashion-mnist/$f .gpu/data/
  done
  wc -l .gpu/device-tests.txt
  du -sh .gpu build-gpu
  exit 0
fi
[ "${1:-}" = run ] || { sed -n '2,12p' "$0"; exit 2; }
cd "$root"
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
log="$out/check.txt"
: >"$log"
dev=${GPU_CHECK_DEVICE:-gpu}
export CLGAN_DEVICE=$dev CLGAN_CACHE_DIR=$(mktemp -d)
export CLGAN_TEST_FMNIST=$root/.gpu/data/train-images-idx3-ubyte.gz
clgan=build-gpu/clgan
start=$SECONDS
phase() { echo "== [+$((SECONDS - start))s] $*" | tee -a "$log"; }
phase "device $dev: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
$clgan devices >>"$log" 2>&1
phase "doctor"
timeout 240 $clgan doctor >"$out/doctor.txt" 2>&1
echo "doctor exit $?" | tee -a "$log"
grep -v '^pass ' "$out/doctor.txt" | tail -n 5 | tee -a "$log"
pass=0 fail=0 skip=0
while read -r name cmd; do
  t0=$SECONDS
  timeout 240 $cmd >"$out/t.txt" 2>&1
  rc=$?
  case $rc in
    0) pass=$((pass + 1)); r=OK ;;
    77) skip=$((skip + 1)); r=SKIP ;;
    *) fail=$((fail + 1)); r="FAIL ($rc)" ;;
  esac
  echo "test $name: $r in $((SECONDS - t0)) s: $(tail -n 1 "$out/t.txt")" | tee -a "$log"
  [ $rc -ne 0 ] && [ $rc -ne 77 ] && tail -n 15 "$out/t.txt" >>"$log"
done <.gpu/device-tests.txt
rm -f "$out/t.txt"
phase "device tests: $pass passed, $fail failed, $skip skipped"
phase "train cdcgan28 on Fashion-MNIST, 600 iterations"
timeout 180 $clgan train --model cdcgan28 --data .gpu/data/train-images-idx3-ubyte.gz --iters ${GPU_CHECK_ITERS:-600} \
  --out "$out/cdcgan28" --sample-every 300 --checkpoint-every 100000 >"$out/train.txt" 2>&1
echo "train exit $?" | tee -a "$log"
grep -v ETA "$out/train.txt" | tail -n 4 | tee -a "$log"
rm -rf "$out/cdcgan28/checkpoints" "$out/cdcgan28/samples" "$out/cdcgan28/latest.safetensors" "$out/cdcgan28/real.png"
for m in dcgan28 cdcgan28 cdcgan28-proj dcgan64; do
  timeout 90 $clgan bench train --model $m --batch 64 --iters 20 --warmup 3 --profile-iters 0 2>&1 |
    grep -E 'RESULT|planned|error' | tee -a "$log"
done
phase "done"
