#!/bin/sh
# Oclgrind's uninitialised-value check and host writes (docs/ERRORS.md, Oclgrind): runs each
# case of oclgrind_shadow.c under Oclgrind. The ways clgan writes device buffers (kernels;
# the host only whole buffers from offset 0) must give no diagnostic at all. The other cases
# are the reproducer of Oclgrind's false reports: they must compute the right values, and
# their reports, printed here, are expected; should a newer Oclgrind stop making them, the
# test says so (and still passes): the workaround in src/train/gan.c could then go.
# Usage: oclgrind_shadow.sh SHADOW_EXE   (needs Oclgrind)
set -u
EXE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_oclgrind
mkdir -p "$T/vendors"
echo /usr/lib/oclgrind/liboclgrind-rt-icd.so >"$T/vendors/oclgrind.icd"
# shadow CASE: runs it; $n is the number of diagnostics, $others those not of the expected kind
shadow() {
  rm -f "$T/log"
  OCL_ICD_VENDORS="$T/vendors" OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1 \
    OCLGRIND_LOG="$T/log" "$EXE" "$1" >"$T/out" 2>&1
  rc=$?
  [ "$rc" -eq 77 ] && skip "no Oclgrind platform"
  [ "$rc" -eq 0 ] || { fail "$1: exit $rc"; cat "$T/out"; }
  touch "$T/log"
  n=$(grep -c '^Uninitialized value written to global memory' "$T/log")
  others=$(grep -c '^[A-Z]' "$T/log")
  others=$((others - n))
  [ "$others" -eq 0 ] || { fail "$1: unexpected diagnostics"; head -c 2000 "$T/log"; }
}
for c in control whole reuse_whole; do
  shadow $c
  [ "$n" -eq 0 ] || { fail "$c: $n uninitialised-value reports (must be clean)"; head -c 2000 "$T/log"; }
  echo "$c: clean"
done
for c in partial partial_first offset fill reuse; do
  shadow $c
  # every false report is in the kernel that reads b, never in clgan or CLBlast code
  if [ "$n" -gt 0 ] && grep -A1 '^Uninitialized value' "$T/log" | grep 'Kernel:' | grep -qv 'Kernel: copy$'; then
    fail "$c: a report outside the kernel 'copy'"
  fi
  if [ "$n" -gt 0 ]; then echo "$c: $n false reports (Oclgrind's quirk, expected)"
  else echo "NOTE: $c: no false report: this Oclgrind no longer has the quirk"; fi
done
finish oclgrind_shadow
