#!/bin/sh
# Devices with tight limits, simulated by Oclgrind (OCLGRIND_MAX_WGSIZE, _LOCAL_MEM_SIZE,
# _GLOBAL_MEM_SIZE). MODE train: a device with 64-item work-groups, 4 KiB of local memory
# and 16 MiB of global memory trains the tiny model, agreeing with POCL. MODE kernels:
# with 8-item work-groups and 1 KiB of local memory every clgan kernel still runs (the
# doctor's checks, its GEMM-based rows excepted: CLBlast's own shapes, see MODE gemm).
# MODE gemm: the same limits for training as a whole, GEMM included (failing today:
# CLBlast's default SGEMM needs 64-item work-groups; see docs/ERRORS.md). MODE memory: a
# batch too big for a 64 MiB device is refused before any iteration, with a batch to try.
# Usage: oclgrind_limits.sh train|kernels|gemm|memory CLGAN   (needs Oclgrind)
set -u
MODE=$1 CLGAN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/oclgrind_lib.sh"
need_oclgrind
tiny_model
tiny_data
case $MODE in
train)
  need_device
  "$CLGAN" train $TINY --iters 2 --out "$T/pocl" 2>"$T/pocl.err" || { fail "POCL run"; cat "$T/pocl.err"; }
  OCLGRIND_MAX_WGSIZE=64 OCLGRIND_LOCAL_MEM_SIZE=4096 OCLGRIND_GLOBAL_MEM_SIZE=16777216 \
    grind "$T/grind.err" "$CLGAN" train $TINY --iters 2 --out "$T/grind" || { fail "training with tight limits:"; cat "$T/grind.err"; }
  [ -s "$T/grind/metrics.csv" ] && close "$T/pocl/metrics.csv" "$T/grind/metrics.csv" 1e-5 1e-4 ||
    fail "tight limits change the results" ;;
kernels)
  OCLGRIND_MAX_WGSIZE=8 OCLGRIND_LOCAL_MEM_SIZE=1024 grind "$T/doctor.out" "$CLGAN" doctor
  grep -q "^device: Oclgrind" "$T/doctor.out" || { fail "the doctor did not run on Oclgrind"; cat "$T/doctor.out"; }
  n=$(grep -c "^pass" "$T/doctor.out")
  [ "$n" -ge 10 ] || fail "only $n doctor checks passed"
  # the rows built on CLBlast's SGEMM may fail, and then with a clear OpenCL error
  grep "^FAIL" "$T/doctor.out" | grep -v "^FAIL  \(clblast sgemm\|conv2d fwd/bwd\|conv_transpose2d fwd/bwd\|dense fwd/bwd\) " &&
    fail "a clgan kernel failed with 8-item work-groups and 1 KiB of local memory"
  if grep -q "^FAIL" "$T/doctor.out"; then
    grep -q "CLBlastSgemm (M=[0-9]* N=[0-9]* K=[0-9]*) failed: \(CL_INVALID_WORK_GROUP_SIZE\|CLBlastInvalidLocalMemUsage\)" "$T/doctor.out" ||
      fail "a GEMM failure without the call and the error's name"
  fi ;;
gemm)
  OCLGRIND_MAX_WGSIZE=16 OCLGRIND_LOCAL_MEM_SIZE=2048 grind "$T/grind.err" "$CLGAN" train $TINY --iters 1 --out "$T/grind" ||
    { fail "training with 16-item work-groups and 2 KiB of local memory:"; grep "error" "$T/grind.err"; } ;;
memory)
  OCLGRIND_GLOBAL_MEM_SIZE=67108864 grind "$T/grind.err" "$CLGAN" train --model dcgan28 --data "$T/tiny-images-idx3-ubyte" \
    --batch 64 --iters 1 --out "$T/grind"
  rc=$?
  [ "$rc" -eq 1 ] || fail "a batch too big for 64 MiB: exit $rc, want 1"
  grep -q "clgan: error: batch 64 needs [0-9]* MiB of device memory, more than 'Oclgrind Simulator' has (64 MiB); try --batch [0-9]" \
    "$T/grind.err" || { fail "a batch too big for 64 MiB: message"; cat "$T/grind.err"; }
  [ -e "$T/grind/metrics.csv" ] && fail "an iteration ran" ;;
*) echo "usage: oclgrind_limits.sh train|kernels|gemm|memory CLGAN" >&2; exit 2 ;;
esac
finish "oclgrind_$MODE"
