#!/bin/sh
# Runs a command on Oclgrind's simulated device, through its ICD (the `oclgrind` wrapper's
# LD_PRELOAD mode crashes with CLBlast here), with data-race, uninitialised-memory and
# API checks on. Fails if the command fails or Oclgrind logs any diagnostic; skips (77)
# when Oclgrind is not installed. $OCLGRIND_MAX_WGSIZE etc. pass through, e.g. a small
# work-group limit proves launches respect the device's limits.
# OCLGRIND_UNINITIALIZED=0 from the caller turns the uninitialised-value check off, for the
# one test that needs it: Oclgrind 21.10's checker segfaults (in
# Uninitialized::instructionExecuted) on a lane taken from the result of a vector add, e.g.
# `float2 s = vload2(0, x); y[0] = s.x + s.y;`, which the batch-norm lanes kernels do by
# design (tests/ops_nn/meson.build, bn_lanes_oclgrind). Races, API misuse and out-of-bounds
# accesses are still checked there.
icd=/usr/lib/oclgrind/liboclgrind-rt-icd.so
[ -e "$icd" ] || { echo "SKIP: oclgrind not installed ($icd missing)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "$icd" > "$dir/oclgrind.icd"
OCL_ICD_VENDORS="$dir" OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED="${OCLGRIND_UNINITIALIZED:-1}" \
  OCLGRIND_LOG="$dir/log" CLGAN_DEVICE=oclgrind "$@"
rc=$?
if [ -s "$dir/log" ]; then
  echo "oclgrind reported diagnostics:" >&2
  head -c 20000 "$dir/log" >&2
  # 99 (a hard error, meson's ERROR) stays 99: a should_fail test must not pass by it
  [ "$rc" -eq 99 ] && exit 99
  exit 1
fi
exit $rc
