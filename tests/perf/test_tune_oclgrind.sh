#!/bin/sh
# `clgan tune` on a device with tight limits, simulated by Oclgrind (tools/cmd_tune.c):
# - 16-item work-groups, 2 KiB of local memory: CLBlast's own parameters cannot run there,
#   but the candidates start from the fitted program, so one runs every shape; the plan
#   it saves has that program, and training on the same device uses it;
# - the same device with no candidates: nothing runs, so tune says so in one error line,
#   exits 1 and writes no plan;
# - 256-item work-groups, 1 KiB of local memory, no candidates: only the level-2 forms run
#   (the three M, N or K = 1 shapes, with CLBlast's helper kernels fitted as the plan will
#   have them), so the plan is saved with a note for each shape no candidate ran.
# clgan's own kernels are left out (--no-own-kernels; test_tune_merge.sh covers them), so the
# counts above are CLBlast's. Oclgrind's API check stays off while tuning (the refused
# launches of CLBlast's own parameters are the point); training runs with all of its checks on.
# usage: test_tune_oclgrind.sh CLGAN
set -u
CLGAN=$1
HERE=$(cd "$(dirname "$0")/../reliability" && pwd)
. "$HERE/lib.sh"
. "$HERE/oclgrind_lib.sh"
need_oclgrind
tiny_model
tiny_data
export CLGAN_CACHE_DIR="$T/cache"
unset CLGAN_GEMM
mkdir -p "$T/vendors"
echo /usr/lib/oclgrind/liboclgrind-rt-icd.so >"$T/vendors/oclgrind.icd"
# tune_on WGSIZE LOCAL OUT ARGS...: clgan tune of the tiny model on Oclgrind with these limits
# (--candidates bounds the work; the budget only stops new candidates from starting, and at
# 1 s a loaded machine measuring CLBlast's defaults first never started the one candidate)
tune_on() {
  wg=$1 lm=$2 out=$3
  shift 3
  OCL_ICD_VENDORS="$T/vendors" CLGAN_DEVICE=oclgrind OCLGRIND_MAX_WGSIZE=$wg \
    OCLGRIND_LOCAL_MEM_SIZE=$lm "$CLGAN" tune --model "$T/tiny.model" --batch 4 --budget-s 600 \
    --no-own-kernels "$@" >"$out" 2>&1
}
# no garbage for a shape or a total that did not run
clean() { ! grep -q -- "-1000\.00\|nan\|inf ms" "$1" || { fail "$2: prints a time that was not measured"; cat "$1"; }; }

# a candidate that fits: found, saved, and used by training
tune_on 16 2048 "$T/tune.txt" --candidates 1 --out "$T/plan.json"
rc=$?
[ $rc = 0 ] || { fail "tune with 16-item work-groups: exit $rc"; cat "$T/tune.txt"; }
grep -q "^Xgemm .*  *[0-9][0-9.]*$" "$T/tune.txt" ||
  { fail "no candidate ran every shape with 16-item work-groups"; cat "$T/tune.txt"; }
grep -q ", 1 program, " "$T/tune.txt" || fail "the plan does not keep the candidate"
grep -q "\"Xgemm\"" "$T/plan.json" 2>/dev/null || fail "the saved plan has no program"
clean "$T/tune.txt" "tune with 16-item work-groups"
OCLGRIND_MAX_WGSIZE=16 OCLGRIND_LOCAL_MEM_SIZE=2048 CLGAN_GEMM="$T/plan.json" \
  grind "$T/train.txt" "$CLGAN" train --model dcgan28 $TINY --iters 1 --out "$T/run" ||
  { fail "training with the tuned plan"; cat "$T/train.txt"; }
grep -q "GEMM plan: tuned ($T/plan.json), fitted to 16-item work-groups" "$T/train.txt" ||
  { fail "training did not use the tuned plan"; cat "$T/train.txt"; }

# nothing runs at all: one error line, exit 1, no plan
tune_on 16 2048 "$T/none.txt" --candidates 0 --out "$T/none.json"
rc=$?
[ $rc = 1 ] || fail "tune where nothing runs: exit $rc, want 1"
grep -q "^clgan tune: error: no candidate ran any of the 11 GEMM shapes on 'Oclgrind Simulator'" \
  "$T/none.txt" || { fail "tune where nothing runs: no clear error"; cat "$T/none.txt"; }
[ -e "$T/none.json" ] && fail "tune where nothing runs wrote a plan"
clean "$T/none.txt" "tune where nothing runs"

# some shapes run, others not: saved, exit 0, a note per shape
tune_on 256 1024 "$T/part.txt" --candidates 0 --out "$T/part.json"
rc=$?
[ $rc = 0 ] || { fail "tune where some shapes run: exit $rc, want 0"; cat "$T/part.txt"; }
[ -s "$T/part.json" ] || fail "tune where some shapes run: no plan"
grep -q "^NN 4x64x1  *3  *failed  *[0-9.]*  *-  Sgemv/Sger$" "$T/part.txt" ||
  { fail "tune where some shapes run: the shape that ran"; cat "$T/part.txt"; }
grep -q "^NT 4x128x8  *1  *failed  *-  *-  no candidate ran it" "$T/part.txt" ||
  fail "tune where some shapes run: a shape that did not"
n=$(grep -c "^clgan tune: note: no candidate ran [NT][NT] [0-9x]*; the plan has no entry for it" "$T/part.txt")
[ "$n" = 8 ] || fail "tune where some shapes run: $n notes, want 8"
grep -q "(3 of the 11 shapes)" "$T/part.txt" || fail "tune where some shapes run: the total"
clean "$T/part.txt" "tune where some shapes run"

finish test_tune_oclgrind
