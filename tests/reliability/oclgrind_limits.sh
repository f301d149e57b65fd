#!/bin/sh
# Devices with tight limits, simulated by Oclgrind (OCLGRIND_MAX_WGSIZE, _LOCAL_MEM_SIZE,
# _GLOBAL_MEM_SIZE). MODE train: a device with 64-item work-groups, 4 KiB of local memory
# and 16 MiB of global memory trains the tiny model, agreeing with POCL. MODE kernels:
# with 8-item work-groups and 1 KiB of local memory every doctor check passes, the GEMM
# rows included (CLBlast's parameters fitted to the device, src/blas/gemm_tune.c); CLBlast's
# own parameters (CLGAN_GEMM=clblast) still fail there, and the error names the call and
# CLBlast's error. MODE gemm: training with 16-item work-groups and 2 KiB of local memory,
# GEMM included, agreeing with POCL. MODE memory: a batch too big for a 64 MiB device is
# refused before any iteration, with a batch to try.
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
  "$CLGAN" train --model dcgan28 $TINY --iters 2 --out "$T/pocl" 2>"$T/pocl.err" || { fail "POCL run"; cat "$T/pocl.err"; }
  OCLGRIND_MAX_WGSIZE=64 OCLGRIND_LOCAL_MEM_SIZE=4096 OCLGRIND_GLOBAL_MEM_SIZE=16777216 \
    grind "$T/grind.err" "$CLGAN" train --model dcgan28 $TINY --iters 2 --out "$T/grind" || { fail "training with tight limits:"; cat "$T/grind.err"; }
  [ -s "$T/grind/metrics.csv" ] && close "$T/pocl/metrics.csv" "$T/grind/metrics.csv" 1e-5 1e-4 ||
    fail "tight limits change the results" ;;
kernels)
  OCLGRIND_MAX_WGSIZE=8 OCLGRIND_LOCAL_MEM_SIZE=1024 grind "$T/doctor.out" "$CLGAN" doctor ||
    fail "the doctor failed with 8-item work-groups and 1 KiB of local memory"
  grep -q "^device: Oclgrind" "$T/doctor.out" || { fail "the doctor did not run on Oclgrind"; cat "$T/doctor.out"; }
  n=$(grep -c "^pass" "$T/doctor.out")
  [ "$n" -ge 20 ] || fail "only $n doctor checks passed"
  grep "^FAIL" "$T/doctor.out" && fail "a check failed with 8-item work-groups and 1 KiB of local memory"
  # CLBlast left to its own parameters (64-item groups) cannot run there: the failure
  # names the call, its sizes and the error (not through grind: Oclgrind's API check
  # logs the refused launch, which is the point here)
  mkdir -p "$T/vendors"
  echo /usr/lib/oclgrind/liboclgrind-rt-icd.so >"$T/vendors/oclgrind.icd"
  OCL_ICD_VENDORS="$T/vendors" CLGAN_DEVICE=oclgrind CLGAN_GEMM=clblast OCLGRIND_MAX_WGSIZE=8 \
    OCLGRIND_LOCAL_MEM_SIZE=1024 "$CLGAN" doctor --only "clblast sgemm" >"$T/clblast.out" 2>&1 &&
    fail "CLBlast's own parameters passed with 8-item work-groups (is the test still needed?)"
  grep -q "^FAIL  clblast sgemm " "$T/clblast.out" &&
    grep -q "^clgan: error: clblast sgemm: CLBlastSgemm (M=33 N=65 K=31) failed: \(CL_INVALID_WORK_GROUP_SIZE (-54)\|CLBlastInvalidLocalMemUsage (-2046)\)$" "$T/clblast.out" ||
    { fail "a GEMM failure without the call and the error's name"; cat "$T/clblast.out"; } ;;
gemm)
  need_device
  "$CLGAN" train --model dcgan28 $TINY --iters 3 --out "$T/pocl" 2>"$T/pocl.err" || { fail "POCL run"; cat "$T/pocl.err"; }
  OCLGRIND_MAX_WGSIZE=16 OCLGRIND_LOCAL_MEM_SIZE=2048 grind "$T/grind.err" "$CLGAN" train --model dcgan28 $TINY --iters 3 --out "$T/grind" ||
    { fail "training with 16-item work-groups and 2 KiB of local memory:"; grep "error" "$T/grind.err"; }
  # other GEMM parameters sum in another order: float32 rounding, nothing more
  [ -s "$T/grind/metrics.csv" ] && close "$T/pocl/metrics.csv" "$T/grind/metrics.csv" 1e-5 1e-4 ||
    fail "16-item work-groups change the results" ;;
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
