#!/bin/sh
# `clgan tune` merges into the plan already in the file (tools/cmd_tune.c,
# clgan_gemm_plan_merge): a tiny model at batch 4, then at batch 2 (other shapes) into the same
# file keeps the first run's shapes (and a rerun replaces only its own); --fresh drops them; a plan whose parameter set would
# exceed --max-programs loses its shapes with a note; a damaged or foreign plan is not merged
# (a note, exit 0). POCL with POCL_MAX_WORK_GROUP_SIZE=16: CLBlast's own parameters cannot
# run there, so with --no-own-kernels the one candidate wins every shape and each run's plan
# lists all of them whatever the timings (about a second per tune once POCL has its kernels
# cached). Then clgan's own kernels as the only candidate (--candidates 0): the plan lists
# the shapes of their classes as those routes, and training uses it.
# usage: test_tune_merge.sh CLGAN
set -u
CLGAN=$1
HERE=$(cd "$(dirname "$0")/../reliability" && pwd)
. "$HERE/lib.sh"
tiny_model
export CLGAN_CACHE_DIR="$T/cache" POCL_MAX_WORK_GROUP_SIZE=16
unset CLGAN_GEMM
"$CLGAN" tune --model "$T/tiny.model" --batch 4 --list >"$T/list.txt" 2>&1 || skip "no OpenCL device"
grep -q "^device: .*(Portable Computing Language)" "$T/list.txt" || skip "the device is not POCL"

P="$T/plan.json"
# tune BATCH OUT ARGS...: one candidate, into $P (the budget only stops new candidates from
# starting: a small one could stop the one candidate on a loaded machine)
tune() {
  b=$1 out=$2
  shift 2
  "$CLGAN" tune --model "$T/tiny.model" --batch "$b" --candidates 1 --budget-s 600 --out "$P" \
    --no-own-kernels "$@" >"$out" 2>&1
  rc=$?
  [ $rc = 0 ] || { fail "tune --batch $b $*: exit $rc"; cat "$out"; }
}
# the plan's shapes, one "tatb MxNxK program" a line, sorted
shapes() {
  python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
for s in p["shapes"]: print("%d%d %dx%dx%d %s" % (s["ta"], s["tb"], s["m"], s["n"], s["k"], s["program"]))' \
    "$1" | sort
}
lines() { wc -l <"$1" | tr -d ' '; }

tune 4 "$T/t1.txt"
shapes "$P" >"$T/s1"
N=$(lines "$T/s1") # 11 shapes for lib.sh's tiny model
[ "$N" -ge 8 ] || { fail "first tune: $N shapes, want every shape of the model"; cat "$T/s1"; }
grep -q "^plan: no existing plan to merge with; $N shapes, 1 program$" "$T/t1.txt" ||
  { fail "first tune: the summary"; cat "$T/t1.txt"; }

# other shapes into the same file: the first run's stay
tune 2 "$T/t2.txt"
grep -q "^plan: merged into the existing plan: kept $N shapes from it, replaced 0 measured now, dropped 0; $((2 * N)) shapes, 1 program$" \
  "$T/t2.txt" || { fail "second tune: the summary"; cat "$T/t2.txt"; }
shapes "$P" >"$T/s2"
[ "$(lines "$T/s2")" = $((2 * N)) ] || fail "second tune: $(lines "$T/s2") shapes, want $((2 * N))"
[ -z "$(comm -23 "$T/s1" "$T/s2")" ] ||
  { fail "second tune lost the first run's shapes:"; comm -23 "$T/s1" "$T/s2"; }

# the same shapes again: they take the new result, the others stay
tune 2 "$T/t2b.txt"
grep -q "^plan: merged into the existing plan: kept $N shapes from it, replaced $N measured now, dropped 0; $((2 * N)) shapes, 1 program$" \
  "$T/t2b.txt" || { fail "the same shapes again: the summary"; cat "$T/t2b.txt"; }

# --fresh: only this run's shapes
tune 2 "$T/t3.txt" --fresh
grep -q "^plan: --fresh: the existing plan is replaced, not merged; $N shapes, 1 program$" \
  "$T/t3.txt" || { fail "--fresh: the summary"; cat "$T/t3.txt"; }
shapes "$P" >"$T/s3"
[ "$(lines "$T/s3")" = "$N" ] || fail "--fresh: $(lines "$T/s3") shapes, want $N"
[ -z "$(comm -12 "$T/s1" "$T/s3")" ] || fail "--fresh kept the first run's shapes"

# the first run's plan with another parameter set (KWG 32): kept beside the new one with
# --max-programs 2, dropped with a note naming them at --max-programs 1
cp "$T/plan.json" "$T/b2.json"
tune 4 "$T/t4.txt" --fresh
sed 's/"KWG":16/"KWG":32/' "$P" >"$T/other.json"
grep -q '"KWG":32' "$T/other.json" || fail "no Xgemm KWG 16 in the plan"
cp "$T/b2.json" "$P"
cp "$T/other.json" "$P" && tune 2 "$T/t5.txt" --max-programs 2
grep -q "^plan: merged into the existing plan: kept $N shapes from it (with 1 of its parameter sets), replaced 0 measured now, dropped 0; $((2 * N)) shapes, 2 programs$" \
  "$T/t5.txt" || { fail "another parameter set, 2 programs: the summary"; cat "$T/t5.txt"; }
cp "$T/other.json" "$P" && tune 2 "$T/t6.txt" --max-programs 1
grep -q "^clgan tune: note: dropped $N shapes of the existing plan (NT 4x128x8, .*): keeping them would take 2 parameter sets, more than --max-programs 1; they run as any shape not listed (--max-programs 2 keeps them)$" \
  "$T/t6.txt" || { fail "another parameter set, 1 program: the note"; cat "$T/t6.txt"; }
grep -q "^plan: merged into the existing plan: kept 0 shapes from it, replaced 0 measured now, dropped $N; $N shapes, 1 program$" \
  "$T/t6.txt" || { fail "another parameter set, 1 program: the summary"; cat "$T/t6.txt"; }

# a damaged plan, or one for another driver: not merged, a note, a fresh plan, exit 0
for bad in damaged foreign; do
  if [ $bad = damaged ]; then echo '{"format": "clgan-gemm-plan", "version": 1' >"$P"
  else sed 's/"driver_version":"[^"]*"/"driver_version":"0.0-other"/' "$T/b2.json" >"$P"; fi
  tune 4 "$T/t-$bad.txt"
  grep -q "^clgan tune: note: the existing plan is not merged: .*; starting from an empty plan$" \
    "$T/t-$bad.txt" || { fail "a $bad plan: no note"; cat "$T/t-$bad.txt"; }
  grep -q "^plan: the existing plan is not merged (see the note), started from an empty plan; $N shapes, 1 program$" \
    "$T/t-$bad.txt" || fail "a $bad plan: the summary"
  shapes "$P" >"$T/s-$bad" && cmp -s "$T/s1" "$T/s-$bad" || fail "a $bad plan: the new plan"
done
grep -q "was tuned for" "$T/t-foreign.txt" || fail "a foreign plan: the note does not say why"

# without --out the device's file in the clgan cache is merged the same way
"$CLGAN" tune --model "$T/tiny.model" --batch 4 --candidates 1 --budget-s 600 --no-own-kernels \
  >"$T/c1.txt" 2>&1
"$CLGAN" tune --model "$T/tiny.model" --batch 2 --candidates 1 --budget-s 600 --no-own-kernels \
  >"$T/c2.txt" 2>&1
grep -q "^plan: merged into the existing plan: kept $N shapes from it" "$T/c2.txt" ||
  { fail "the cached plan is not merged"; cat "$T/c2.txt"; }

# clgan's own kernels, the only candidate that runs here (--candidates 0, and CLBlast's
# defaults cannot): the shapes of their classes are listed as those routes (at batch 4 the
# tiny model's small-M shapes are NT 4x128x8 and NT 4x1x64, its panel shapes NN 4x16x64 and
# NN 8x16x64; the rest have no entry, with a note each), no class lost work, so both stay on
# for shapes not listed
rm -f "$T/own.json"
"$CLGAN" tune --model "$T/tiny.model" --batch 4 --candidates 0 --budget-s 600 --out "$T/own.json" \
  >"$T/own.txt" 2>&1 || { fail "tune with clgan's own kernels: exit $?"; cat "$T/own.txt"; }
grep -q "^class routes (Sgemv, small-M, panel) .*(its classes' shapes only)$" "$T/own.txt" ||
  { fail "own kernels: no class-routes line"; cat "$T/own.txt"; }
shapes "$T/own.json" >"$T/s-own"
printf '01 4x128x8 small_m\n01 4x1x64 small_m\n00 4x16x64 panel\n00 8x16x64 panel\n' | sort \
  >"$T/s-own-want"
cmp -s "$T/s-own" "$T/s-own-want" || { fail "own kernels: the plan's shapes"; cat "$T/s-own"; }
python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
sys.exit(0 if p["small_m"] is True and p["panel"] is True and p["programs"] == [] else 1)' \
  "$T/own.json" || { fail "own kernels: small_m and panel not on, or a program"; cat "$T/own.json"; }
[ "$(grep -c "^clgan tune: note: no candidate ran" "$T/own.txt")" = $((N - 4)) ] ||
  { fail "own kernels: a note for each other shape"; cat "$T/own.txt"; }
# the plan loads and runs (test_gemm checks that listed class routes are taken)
CLGAN_GEMM="$T/own.json" "$CLGAN" bench ops --model "$T/tiny.model" --batch 4 --gemm \
  --blas /nonexistent >"$T/own-bench.txt" 2>&1 ||
  { fail "bench ops with the own-kernels plan"; cat "$T/own-bench.txt"; }
grep -q "tuned ($T/own.json" "$T/own-bench.txt" ||
  { fail "bench ops did not use the own-kernels plan"; cat "$T/own-bench.txt"; }

finish test_tune_merge
