#!/bin/sh
# `clgan tune` and `clgan bench ops|train` end to end on a tiny model: the shapes a model
# issues, a tuned plan saved, reloaded and used, a damaged plan ignored with a note, the
# JSON outputs complete, options refused. Values are checked; speed never is.
# usage: test_perf_cli.sh CLGAN
set -u
CLGAN=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CLGAN_CACHE_DIR="$T/cache"
unset CLGAN_GEMM
fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

if ! "$CLGAN" devices >/dev/null 2>&1; then echo "SKIP: no OpenCL device"; exit 77; fi

cat >"$T/tiny.model" <<'EOF'
model tiny
latent 8
image 1 8 8
generator
  linear 128 bias=0
  reshape 8 4 4
  batchnorm
  relu
  convt C k=4 s=2 p=1 bias=0
  tanh
discriminator
  conv 8 k=4 s=2 p=1 bias=0
  leakyrelu 0.2
  flatten
  linear 1
EOF

# usage errors and help
"$CLGAN" tune --help >/dev/null; check "tune --help exits 0" '[ $? = 0 ]'
"$CLGAN" tune --bogus >/dev/null 2>&1; check "tune --bogus exits 2" '[ $? = 2 ]'
"$CLGAN" bench train --help >/dev/null; check "bench train --help exits 0" '[ $? = 0 ]'
"$CLGAN" bench ops --batch 0 >/dev/null 2>&1; check "bench ops --batch 0 exits 2" '[ $? = 2 ]'
"$CLGAN" tune --model "$T/none.model" --list >/dev/null 2>&1
check "a missing model file is an error" '[ $? != 0 ]'

# the shapes of one dcgan28 iteration at batch 64 (recorded, nothing compiled)
"$CLGAN" tune --list >"$T/list.txt" 2>&1
check "dcgan28: 17 shapes, 17.08 GFLOP" 'grep -q "17 GEMM shapes, 17.08 GFLOP" "$T/list.txt"'
check "dcgan28: 128x3136x1024 three times" 'grep -q "NN 128x3136x1024 *x3" "$T/list.txt"'
# on a CPU, the 16x32 register tile measured on the long-K weight gradients is a candidate
if grep -q "^  Xgemm 16x16/1x1 v16,16 k16/1$" "$T/list.txt"; then
  check "CPU candidates: Xgemm MWG 16 NWG 32 VWM 16 VWN 8, KWG 16 KWI 1" \
    'grep -q "^  Xgemm 16x32/1x1 v16,8 k16/1$" "$T/list.txt"'
fi

# tune the tiny model: CLBlast, the level-2 forms and one candidate
"$CLGAN" tune --model "$T/tiny.model" --batch 4 --candidates 1 --out "$T/plan.json" \
  >"$T/tune.txt" 2>&1
rc=$?
check "tune exits 0" '[ $rc = 0 ]'
[ $rc = 0 ] || cat "$T/tune.txt"
check "tune saved a plan" 'grep -q "saved $T/plan.json" "$T/tune.txt" && [ -s "$T/plan.json" ]'
check "the plan is for this clgan" 'grep -q "\"format\":\"clgan-gemm-plan\"" "$T/plan.json"'
check "tune printed the per-shape table" 'grep -q "CLBlast ms" "$T/tune.txt"'

# bench train uses it (CLGAN_GEMM=FILE), and reports everything in JSON
CLGAN_GEMM="$T/plan.json" "$CLGAN" bench train --model "$T/tiny.model" --batch 4 --iters 2 \
  --warmup 1 --profile-iters 1 --long 2 --json >"$T/train.json" 2>"$T/train.err"
rc=$?
check "bench train exits 0" '[ $rc = 0 ]'
[ $rc = 0 ] || cat "$T/train.err"
check "bench train used the tuned plan" 'grep -q "\"gemm_plan\":\"tuned" "$T/train.json"'
for k in ms_per_iter img_per_s gflops gflop_per_iter device_buffers_mib peak_rss_mib profile \
         long_run rss_last_mib; do
  check "bench train JSON has $k" 'grep -q "\"$k\"" "$T/train.json"'
done
# im2col_f32 on GPUs, im2col_rows_f32 on CPUs (docs/KERNELS.md)
check "the profile names im2col and a GEMM" \
  'grep -q "\"name\":\"im2col_\(rows_\)\?f32\"" "$T/train.json" && grep -q "\"name\":\"gemm " "$T/train.json"'

# a damaged plan is ignored: built-in or CLBlast parameters, a note, still a result
echo '{"format": "clgan-gemm-plan", "version": 1' >"$T/broken.json"
CLGAN_GEMM="$T/broken.json" "$CLGAN" bench train --model "$T/tiny.model" --batch 4 --iters 1 \
  --warmup 1 --profile-iters 0 >"$T/broken.txt" 2>&1
rc=$?
check "a damaged plan: bench train still runs" '[ $rc = 0 ]'
check "a damaged plan: a note says it was ignored" 'grep -q "ignored:" "$T/broken.txt"'

# the cache location: tune without --out writes where bench finds it by itself
"$CLGAN" tune --model "$T/tiny.model" --batch 4 --candidates 1 >"$T/tune2.txt" 2>&1
check "tune writes into the clgan cache" 'ls "$T/cache/gemm/"*.json >/dev/null 2>&1'
"$CLGAN" bench train --model "$T/tiny.model" --batch 4 --iters 1 --warmup 1 --profile-iters 0 \
  >"$T/auto.txt" 2>&1
check "bench train finds the cached plan" 'grep -q "GEMM plan: tuned" "$T/auto.txt"'

# bench ops: every layer with work, forward and backward
"$CLGAN" bench ops --model "$T/tiny.model" --batch 4 --reps 1 --json >"$T/ops.json" 2>"$T/ops.err"
rc=$?
check "bench ops exits 0" '[ $rc = 0 ]'
[ $rc = 0 ] || cat "$T/ops.err"
check "bench ops: 8 operators" '[ "$(grep -c "\"op\":" "$T/ops.json")" = 8 ]'
check "bench ops: the transposed conv" 'grep -q "convt 8x4x4 -> 1x8x8" "$T/ops.json"'
"$CLGAN" bench ops --gemm --model "$T/tiny.model" --batch 4 --blas "$T/no-such-blas.so" \
  >"$T/gemm.txt" 2>&1
rc=$?
check "bench ops --gemm without a BLAS still runs" '[ $rc = 0 ] && grep -q "showing clgan only" "$T/gemm.txt"'

echo "test_perf_cli: $fails failed"
[ $fails = 0 ]
