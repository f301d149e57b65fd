#!/bin/sh
# Crash safety: SIGKILL `clgan train` at random moments, 24 times, with a checkpoint
# written every iteration (so many kills land inside a checkpoint write). After every kill
# the newest complete checkpoint, latest.safetensors, must load; each restart resumes from
# it; at the end the run, resumed 24 times, must equal an uninterrupted one bit for bit.
# Usage: kill.sh CLGAN [KILLS]  (device; ~15 s on POCL on 2 idle cores)
#
# The work hardly depends on the machine's speed: each restart is killed a random 0-3
# iterations after its first one plus a random fraction of one iteration (measured), so
# the run stays at a few hundred iterations (190-250 measured, the polling adds some),
# where kills after a random 0-0.3 s let a fast machine train ~900, each with a synced
# checkpoint, all trained again by the reference run. The deadlines follow what
# is measured: the wait for a restart's first iteration is 20 x the measured start-up
# (at least 30 s), and when the kills have used REL_KILL_BUDGET seconds (default 90, half
# meson's timeout) the test stops after at least 8 of them and says so.
# What dominated its time (129 s on a quiet machine, a timeout on a busy one; 56-77 s
# here): meson sets MALLOC_PERTURB_ for every test, so glibc fills every allocation, and
# POCL allocates 256 MiB twice in each process that runs CLBlast's GEMV (when CLBlast asks
# for the program's binary): ~1 s of memory writes for each of the ~50 processes started
# here, slower still when other jobs compete for memory. It is unset for this test only
# (the others keep it; this one is about kills, not uninitialised memory).
set -u
unset MALLOC_PERTURB_
CLGAN=$1 KILLS=${2:-24}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_device
tiny_model
tiny_data
OUT="$T/run"
ARGS="--data $T/tiny-images-idx3-ubyte --sample-every 1000 --log-every 1 --checkpoint-every 1 --keep 2"
BIG=100000
BUDGET=${REL_KILL_BUDGET:-90}
MIN_KILLS=8
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# warm the kernel cache, so that the runs below spend their time training
"$CLGAN" train --model "$T/tiny.model" --batch 16 $ARGS --iters 1 --out "$T/warm" 2>"$T/warm.err" ||
  { cat "$T/warm.err"; fail "warm-up run"; finish kill; }
# measure a start-up (1 iteration) and one iteration (from 21 - 1), checkpoints included
t=$(now)
"$CLGAN" train --model "$T/tiny.model" --batch 16 $ARGS --iters 1 --out "$T/m1" 2>"$T/warm.err" ||
  { cat "$T/warm.err"; fail "measuring run"; finish kill; }
start_s=$(since "$t")
t=$(now)
"$CLGAN" train --model "$T/tiny.model" --batch 16 $ARGS --iters 21 --out "$T/m21" 2>"$T/warm.err" ||
  { cat "$T/warm.err"; fail "measuring run"; finish kill; }
iter_s=$(awk -v a="$(since "$t")" -v s="$start_s" 'BEGIN { i = (a - s) / 20; printf "%.4f", (i > 0.001 ? i : 0.001) }')
wait_polls=$(awk -v s="$start_s" 'BEGIN { n = 20 * s / 0.02; printf "%d", (n > 1500 ? n : 1500) }')
# random iterations and fractions of one after each restart has logged its first
# iteration (machine load cannot turn them into kills during start-up): the pid and the
# clock seed them
seed=$(( $$ + $(date +%s) % 100000 ))
plan=$(awk -v s="$seed" -v n="$KILLS" -v it="$iter_s" \
  'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d:%.4f\n", int(rand() * 4), rand() * it }')
[ -n "$plan" ] || { fail "no kill plan (measured: start-up ${start_s}s, iteration ${iter_s}s)"; finish kill; }
echo "seed $seed; start-up ${start_s}s, one iteration ${iter_s}s; budget ${BUDGET}s"
rows() { grep -c '^[0-9]' "$OUT/metrics.csv" 2>/dev/null || echo 0; }
t_kills=$(now)
k=0 in_write=0 loaded=0
for kd in $plan; do
  if [ "$k" -ge "$MIN_KILLS" ] && [ "$(awk -v e="$(since "$t_kills")" -v b="$BUDGET" 'BEGIN { print e > b }')" = 1 ]; then
    echo "NOTE: stopping after $k kills: they took $(since "$t_kills")s, over the ${BUDGET}s budget (a loaded machine)"
    break
  fi
  k=$((k + 1))
  j=${kd%%:*} d=${kd#*:}
  r0=$(rows)
  if [ -L "$OUT/latest.safetensors" ] || [ -e "$OUT/latest.safetensors" ]; then
    "$CLGAN" train --resume "$OUT/latest.safetensors" $ARGS --iters $BIG --out "$OUT" 2>"$T/train.err" &
  else
    "$CLGAN" train --model "$T/tiny.model" --batch 16 $ARGS --iters $BIG --out "$OUT" 2>"$T/train.err" &
  fi
  pid=$!
  n=0
  while [ "$(rows)" -le $((r0 + j)) ] && [ $n -lt "$wait_polls" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.02
    n=$((n + 1))
  done
  sleep "$d"
  # a temporary checkpoint file open at this moment means the kill lands inside a write
  ls "$OUT/checkpoints" 2>/dev/null | grep -q '\.tmp\.' && before=$(ls "$OUT/checkpoints" | grep -c '\.tmp\.') || before=0
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  if [ "$rc" -ne 137 ]; then
    fail "kill $k: the trainer exited with $rc before the kill ($j iterations + ${d}s after its first):"
    sed 's/^/  | /' "$T/train.err" | tail -5
    continue
  fi
  after=$(ls "$OUT/checkpoints" 2>/dev/null | grep -c '\.tmp\.')
  [ "$after" -gt "$before" ] && in_write=$((in_write + 1))
  [ -e "$OUT/latest.safetensors" ] || continue # killed before the first checkpoint
  if "$CLGAN" generate --checkpoint "$OUT/latest.safetensors" --count 1 --out "$T/gen" >/dev/null 2>"$T/gen.err"; then
    loaded=$((loaded + 1))
  else
    fail "kill $k ($j iterations + ${d}s after the first): latest.safetensors does not load:"
    sed 's/^/  | /' "$T/gen.err"
  fi
done
step=$(readlink "$OUT/latest.safetensors" | sed 's/.*ckpt_0*\([0-9]*\)\.safetensors/\1/')
echo "$k kills in $(since "$t_kills")s, latest at iteration $step, $loaded loads checked, $in_write kills left a partial temporary file"
[ "$loaded" -ge $((k - 3)) ] || fail "only $loaded of $k kills came after a first checkpoint"
[ -n "$step" ] && [ "$step" -gt 0 ] || { fail "no checkpoint after $k kills"; finish kill; }
# resume once more to one iteration past it, and compare with a run never interrupted
next=$((step + 1))
"$CLGAN" train --resume "$OUT/latest.safetensors" $ARGS --iters $next --out "$OUT" 2>"$T/train.err" ||
  { fail "the final resume failed:"; cat "$T/train.err"; }
"$CLGAN" train --model "$T/tiny.model" --batch 16 --data "$T/tiny-images-idx3-ubyte" --sample-every 1000 \
  --log-every 1 --checkpoint-every $BIG --iters $next --out "$T/ref" 2>"$T/ref.err" || { fail "reference run"; cat "$T/ref.err"; }
name=$(printf 'ckpt_%08d.safetensors' "$next")
cmp "$OUT/checkpoints/$name" "$T/ref/checkpoints/$name" ||
  fail "after $k kills and resumes, iteration $next differs from the uninterrupted run"
# the log has one row per iteration, none lost or repeated by the kills
rows=$(grep -c '^[0-9]' "$OUT/metrics.csv")
[ "$rows" -eq "$next" ] || fail "metrics.csv has $rows rows, want $next"
[ "$(cut -d, -f1 "$OUT/metrics.csv" | grep '^[0-9]' | sort -n | uniq | wc -l)" -eq "$next" ] ||
  fail "metrics.csv repeats or skips iterations"
finish kill
