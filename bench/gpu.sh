#!/usr/bin/env bash
# clgan on NVIDIA's OpenCL against PyTorch CUDA on the same card, in one device call:
# `clgan doctor` (every kernel against its C reference), a short `clgan train` that writes
# samples, then dcgan64 at batch 64, 128, 256 and dcgan28 at 64, 256: `clgan bench train`
# with CLBlast's parameters, the PyTorch twin, then `clgan tune` and the bench again.
# Written for a lent GPU machine (../shared/gpu/README.md); results go to $OUT (or
# ./gpu-results), at most 6 files. docs/PERFORMANCE.md has the H200 results (2026-12-04).
#
# Here, once (downloads the runtime libraries and Fashion-MNIST into .gpu/, builds build-gpu/):
#     bench/gpu.sh prepare
# On the device, carrying [".gpu", "build-gpu"] (about 34 MiB), with timeout_s 480-540:
#     bash .gpu/on-device.sh bench/gpu.sh run
#
# The run aims to end within GPU_SH_DEADLINE seconds (default 400; 236 s on the H200): the
# cheap phases come first, so a run cut short still has doctor, the samples and the untuned
# table; the tunes share what time is left (at most GPU_SH_TUNE_MAX = 60 s each) and are
# skipped when it runs out. Every phase line carries the UTC time and the seconds since the
# start. GPU_SH_CASES / GPU_SH_TUNE override the MODEL:BATCH lists. Kernel sources put in
# .gpu/kernels/ (git-ignored) replace the embedded ones after the first doctor, to measure a
# candidate kernel fix without a rebuild; the log says so.
#
# GPU_SH_DRY=1 rehearses the whole script on this machine's CPU device instead (PyTorch on
# the CPU, 2 iterations, tiny tunes, batch 16 and 32, 40 training iterations): it checks the
# plumbing (the carried libraries, the tune, the JSON and the RESULT lines), not the speed:
#     GPU_SH_DRY=1 OUT=/tmp/gpu-dry bash .gpu/on-device.sh bench/gpu.sh run
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data_name=train-images-idx3-ubyte.gz

if [ "${1:-}" = prepare ]; then
  set -e
  cd "$root"
  ../shared/gpu/prepare.sh 2>/dev/null || /work/shared/gpu/prepare.sh
  # what build-gpu/clgan links beyond ../shared/gpu/prepare.sh's list (see `ldd`)
  extra="libjson-c5 libcairo2 libpixman-1-0 libfontconfig1 libfreetype6 libxcb-shm0 libxcb1
         libxcb-render0 libxrender1 libx11-6 libxext6 libexpat1 libbrotli1 libxau6 libxdmcp6
         libbsd0 libmd0 libpng16-16 libssl3 zlib1g"
  (cd .gpu/debs && apt-get download $extra >/dev/null)
  # the training data: the device has no dataset-fashion-mnist (26 MiB, the 60,000 images)
  mkdir -p .gpu/data
  cp /usr/share/datasets/fashion-mnist/$data_name .gpu/data/ ||
    echo "gpu.sh: no Fashion-MNIST here (tools/install-deps.sh installs it); train will be skipped" >&2
  [ -d build-gpu ] || meson setup build-gpu --buildtype=release
  ninja -C build-gpu clgan
  du -sh .gpu build-gpu
  exit 0
fi
[ "${1:-}" = run ] || { sed -n '2,25p' "$0"; exit 2; }

start=$SECONDS
deadline=${GPU_SH_DEADLINE:-400}
tune_max=${GPU_SH_TUNE_MAX:-60}
out=${OUT:-$root/gpu-results}   # flat, at most 6 files: the device tool brings back 8
mkdir -p "$out"
work=$(mktemp -d)
clgan="$root/build-gpu/clgan"
log="$out/gpu.txt"
results="$out/results.jsonl"
plans="$out/plans.txt"
: >"$log"; : >"$results"; : >"$plans"
export CLGAN_CACHE_DIR="$work/cache"   # fresh kernels and no stale tune
left() { echo $((deadline - (SECONDS - start))); }
cap() { local l; l=$(left); [ "$l" -lt 15 ] && l=15; [ "$1" -lt "$l" ] && l=$1; echo "$l"; }  # min(N, left)
phase() { echo "== [$(date -u +%T) +$((SECONDS - start))s] $*" | tee -a "$log"; }
oneline() { tr -d '\n' <"$1"; echo; }
msof() { sed -n 's/.*"ms_per_iter": *\([0-9.]*\).*/\1/p' "$1" | head -n 1; }

dev=gpu tdev=cuda iters=20 warmup=3 train_iters="" train_to=90
cases="dcgan64:64 dcgan64:128 dcgan64:256 dcgan28:64 dcgan28:256"
tune_order="dcgan64:256 dcgan64:128 dcgan64:64 dcgan28:256 dcgan28:64"
prof_case=dcgan64:256 cands=""
if [ "${GPU_SH_DRY:-0}" = 1 ]; then
  dev=cpu tdev=cpu iters=2 warmup=1 train_iters="--iters 40" train_to=200 cands="--candidates 1"
  cases="dcgan64:16 dcgan64:32 dcgan28:16 dcgan28:32" tune_order="dcgan64:32 dcgan28:16"
  prof_case=dcgan64:32 tune_max=5 deadline=${GPU_SH_DEADLINE:-1500}
fi
cases=${GPU_SH_CASES:-$cases} tune_order=${GPU_SH_TUNE:-$tune_order}   # MODEL:BATCH lists

phase "start: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"
[ "${GPU_SH_DRY:-0}" = 1 ] && echo "== GPU_SH_DRY=1: a rehearsal on the CPU device, not a measurement" | tee -a "$log"
{
  nvidia-smi 2>/dev/null
  ls -l /usr/local/nvidia/lib64/libnvidia-opencl* 2>/dev/null
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-} ($(cat "${OCL_ICD_VENDORS:-/nonexistent}"/*.icd 2>/dev/null | tr '\n' ' '))"
  clinfo -l
  "$clgan" --version
  "$clgan" devices
} >>"$log" 2>&1
"$clgan" devices 2>&1 | grep -i '^\*\|platform' | head -n 6

# ---- 1. correctness: every kernel against its C reference on this device
phase "doctor --device $dev"
timeout "$(cap 150)" "$clgan" doctor --device "$dev" >"$work/doctor.txt" 2>&1
echo "doctor exit $?" >>"$work/doctor.txt"
cat "$work/doctor.txt" >>"$log"
grep -v '^pass ' "$work/doctor.txt" | tail -n 8
# Kernel sources in .gpu/kernels (git-ignored, none by default) replace the embedded ones
# from here on, through $CLGAN_KERNEL_DIR: a way to measure a candidate fix for a kernel
# that fails on this device without a rebuild. The doctor above ran on the embedded ones.
kdir=${GPU_SH_KERNEL_DIR:-$root/.gpu/kernels}
if ls "$kdir"/*.cl* >/dev/null 2>&1; then
  export CLGAN_KERNEL_DIR=$kdir
  phase "NOTE: kernels from $kdir replace the embedded ones from here on: $(cd "$kdir" && ls | tr '\n' ' ')"
  timeout "$(cap 150)" "$clgan" doctor --device "$dev" >"$work/doctor.txt" 2>&1
  echo "doctor exit $?" >>"$work/doctor.txt"
  cat "$work/doctor.txt" >>"$log"
  grep -v '^pass ' "$work/doctor.txt" | tail -n 8
fi

# ---- 2. PyTorch: every case in one process (one import, one CUDA start), with PyTorch's
# defaults (cuDNN convolutions may use TF32) and again in strict fp32 (clgan computes in fp32)
# (PyTorch runs without the carried libraries, with the LD_LIBRARY_PATH the machine had
# before on-device.sh put them first: the driver's folder may be on it)
ld0=${LD_LIBRARY_PATH:-}
ld0=${ld0#/tmp/gpu-deps/usr/lib/x86_64-linux-gnu}; ld0=${ld0#:}
plain() { if [ -n "$ld0" ]; then env -u OCL_ICD_VENDORS LD_LIBRARY_PATH="$ld0" "$@"
          else env -u OCL_ICD_VENDORS -u LD_LIBRARY_PATH "$@"; fi; }
py=""
for c in ${PYTHON:-} python3 /usr/bin/python3; do
  if plain "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
done
if [ -z "$py" ]; then
  phase "no python3 with torch found (set PYTHON=...): clgan's numbers only"
else
  phase "torch twin, $tdev, all cases ($py)"
  PYTHONUNBUFFERED=1 plain timeout "$(cap 200)" "$py" - "$here" "$tdev" \
    "$iters" "$warmup" $cases >"$work/torch.jsonl" 2>>"$log" <<'EOF'
import contextlib, io, json, sys, time
here, dev, iters, warmup = sys.argv[1:5]
cases = sys.argv[5:]
sys.path.insert(0, here)
import torch
import torch_twin

def precision(tf32):
    """cuDNN's fp32 convolutions: TF32 allowed (PyTorch's default) or IEEE fp32. The legacy
    switch, which PyTorch 2.x still honours (matmul TF32 is off by default either way)."""
    try:
        if tf32 is not None:
            torch.backends.cudnn.allow_tf32 = tf32
        return "cudnn.allow_tf32=%s matmul.allow_tf32=%s" % (
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    except Exception as e:
        return "unknown (%r)" % e

print("torch %s, cuda %s, cudnn %s, %s" % (torch.__version__, torch.version.cuda,
      torch.backends.cudnn.version(), torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"),
      file=sys.stderr)
for mode, tf32 in (("default", None), ("fp32", False)):
    setting = precision(tf32)
    for case in cases:
        m, b = case.split(":")
        sys.argv = ["torch_twin", "--device", dev, "--model", m, "--batch", b, "--iters", iters,
                    "--warmup", warmup, "--json"]
        t0, buf = time.time(), io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                torch_twin.main()
            r = json.loads(buf.getvalue())
        except BaseException as e:  # SystemExit too: the next case still runs
            r = {"framework": "torch", "model": m, "batch": int(b), "error": repr(e)}
        r.update(gpu_sh=mode, precision=setting)
        print(json.dumps(r), flush=True)
        print("torch %s %s batch %s: %s ms/iter (%.1f s)" % (mode, m, b,
              "%.2f" % r["ms_per_iter"] if "ms_per_iter" in r else r.get("error"),
              time.time() - t0), file=sys.stderr, flush=True)
EOF
  echo "torch exit $?" >>"$log"
  cat "$work/torch.jsonl" >>"$results"
fi
tms() {  # tms MODE MODEL BATCH: the twin's ms/iter
  grep "\"gpu_sh\": \"$1\"" "$work/torch.jsonl" 2>/dev/null | grep "\"model\": \"$2\", \"batch\": $3," |
    sed -n 's/.*"ms_per_iter": \([0-9.]*\).*/\1/p' | head -n 1
}

# ---- 3. clgan with CLBlast's own parameters (no tune): the whole table early
declare -A c0 c1 tuned
for cb in $cases; do
  m=${cb%:*} b=${cb#*:}
  phase "clgan bench train $m batch $b (untuned)"
  timeout "$(cap 120)" "$clgan" bench train --device "$dev" --model "$m" --batch "$b" --iters "$iters" \
    --warmup "$warmup" --profile-iters 0 --json >"$work/c.json" 2>>"$log" || echo "  exit $?" | tee -a "$log"
  oneline "$work/c.json" | sed 's/^{/{"gpu_sh":"untuned",/' | grep '^{"' >>"$results"
  c0[$cb]=$(msof "$work/c.json")
  echo "  clgan ${c0[$cb]:-?} ms/iter, torch $(tms default "$m" "$b") ms/iter" | tee -a "$log"
done

# ---- 4. a short training run on the real data, samples and all
data="$root/.gpu/data/$data_name"
if [ ! -f "$data" ] && [ "$dev" = cpu ]; then data=/usr/share/datasets/fashion-mnist/$data_name; fi
if [ -f "$data" ]; then
  phase "clgan train dcgan28 batch 64 on Fashion-MNIST (${train_iters:-one epoch, 937 iterations}, at most ${train_to} s)"
  timeout -s INT -k 20 "$(cap "$train_to")" "$clgan" train --device "$dev" --data "$data" $train_iters \
    --out "$work/train" --sample-every 100 --checkpoint-every 100000 >"$work/train.txt" 2>&1
  echo "train exit $?" >>"$work/train.txt"
  grep -v 'ETA' "$work/train.txt" | tail -n 8 | tee -a "$log"
  grep 'ETA' "$work/train.txt" | awk 'NR % 10 == 1 {print; next} END {print}' | tail -n 10 >>"$log"
  for f in samples.png plot.png metrics.csv; do
    [ -f "$work/train/$f" ] && cp "$work/train/$f" "$out/train-$f"
  done
else
  phase "no training data at $data (bench/gpu.sh prepare copies it): train skipped"
fi

# ---- 5. clgan tune per case, sharing what time is left, then the bench on the tuned plan
ntune=$(echo $tune_order | wc -w)
for cb in $tune_order; do
  m=${cb%:*} b=${cb#*:}
  # 35 s for the tune's own extra runs and the bench after it, 25 s kept for the profile
  bud=$(( ($(left) - 25) / ntune - 35 ))
  [ "$bud" -gt "$tune_max" ] && bud=$tune_max
  ntune=$((ntune - 1))
  if [ "$bud" -lt 5 ]; then phase "tune $m batch $b skipped: $(left) s left"; continue; fi
  phase "clgan tune $m batch $b, budget ${bud} s"
  timeout $((bud + 60)) "$clgan" tune --device "$dev" --model "$m" --batch "$b" --budget-s "$bud" $cands \
    --candidate-timeout-s 30 --max-programs 2 --fresh --out "$work/plan-$m-$b" >"$work/tune.txt" 2>&1
  rc=$?
  { echo "---- $m batch $b, budget $bud s, exit $rc"; sed -n '/^candidate/,$p' "$work/tune.txt"
    cat "$work/plan-$m-$b" 2>/dev/null; } >>"$plans"
  sed -n '/^shape/,$p' "$work/tune.txt" | tail -n 12 | tee -a "$log"
  [ -s "$work/plan-$m-$b" ] || { echo "  no plan saved (exit $rc)" | tee -a "$log"; continue; }
  tuned[$cb]=1
  phase "clgan bench train $m batch $b (tuned)"
  CLGAN_GEMM="$work/plan-$m-$b" timeout "$(cap 120)" "$clgan" bench train --device "$dev" --model "$m" \
    --batch "$b" --iters "$iters" --warmup "$warmup" --profile-iters 2 --json >"$work/c.json" 2>>"$log"
  oneline "$work/c.json" | sed 's/^{/{"gpu_sh":"tuned",/' | grep '^{"' >>"$results"
  c1[$cb]=$(msof "$work/c.json")
  echo "  clgan tuned ${c1[$cb]:-?} ms/iter (untuned ${c0[$cb]:-?})" | tee -a "$log"
done

# ---- 6. where the largest case's iteration goes (text breakdown, for the record)
if [ "$(left)" -gt 10 ]; then
  m=${prof_case%:*} b=${prof_case#*:} plan=clblast
  [ -s "$work/plan-$m-$b" ] && plan="$work/plan-$m-$b"
  phase "breakdown $m batch $b ($(basename "$plan"))"
  CLGAN_GEMM=$plan timeout 60 "$clgan" bench train --device "$dev" --model "$m" --batch "$b" \
    --iters 5 --profile-iters 2 >>"$log" 2>&1
fi

# ---- the table: clgan's best (tuned where a tune ran) against the twin
phase "results (ms/iter, median of $iters after $warmup warm-up; ratio = torch default / clgan best)"
for cb in $cases; do
  m=${cb%:*} b=${cb#*:}
  awk -v m="$m" -v b="$b" -v c0="${c0[$cb]:-}" -v c1="${c1[$cb]:-}" -v t="$(tms default "$m" "$b")" \
      -v t32="$(tms fp32 "$m" "$b")" -v td="$tdev" 'BEGIN {
    c = c0; if (c1 != "" && (c == "" || c1 + 0 < c + 0)) c = c1
    if (c == "") { printf "RESULT %s batch %d: clgan missing, torch %s %s ms/iter\n", m, b, td, t == "" ? "-" : t; exit }
    printf "RESULT %s batch %d: clgan %.2f ms/iter (untuned %s, tuned %s; %.0f img/s), torch %s %s ms/iter (fp32 %s): %s\n",
           m, b, c, c0 == "" ? "-" : sprintf("%.2f", c0), c1 == "" ? "-" : sprintf("%.2f", c1),
           b * 1000 / c, td, t == "" ? "-" : sprintf("%.2f", t), t32 == "" ? "-" : sprintf("%.2f", t32),
           t == "" ? "no ratio" : sprintf("%.2fx", t / c) }' | tee -a "$log"
done
nvidia-smi --query-gpu=clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
  --format=csv 2>/dev/null | tee -a "$log"
phase "end"
rm -rf "$work"
ls -la "$out"
