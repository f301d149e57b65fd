#!/bin/sh
# Crash safety: SIGKILL `clgan train` at random moments, 24 times, with a checkpoint
# written every iteration (so many kills land inside a checkpoint write). After every kill
# the newest complete checkpoint, latest.safetensors, must load; each restart resumes from
# it; at the end the run, resumed 24 times, must equal an uninterrupted one bit for bit.
# Usage: kill.sh CLGAN [KILLS]  (device; ~20 s on POCL)
set -u
CLGAN=$1 KILLS=${2:-24}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_device
tiny_model
tiny_data
OUT="$T/run"
ARGS="--data $T/tiny-images-idx3-ubyte --sample-every 1000 --log-every 1 --checkpoint-every 1 --keep 2"
BIG=100000
# warm the kernel cache, so that the runs below spend their time training
"$CLGAN" train --model "$T/tiny.model" --batch 16 $ARGS --iters 1 --out "$T/warm" 2>"$T/warm.err" ||
  { cat "$T/warm.err"; fail "warm-up run"; finish kill; }
# random delays after each restart has logged its first iteration (machine load cannot
# turn them into kills during start-up): the pid and the clock seed them
seed=$(( $$ + $(date +%s) % 100000 ))
delays=$(awk -v s="$seed" -v n="$KILLS" 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%.3f\n", rand() * 0.3 }')
echo "seed $seed"
rows() { grep -c '^[0-9]' "$OUT/metrics.csv" 2>/dev/null || echo 0; }
k=0 in_write=0 loaded=0
for d in $delays; do
  k=$((k + 1))
  r0=$(rows)
  if [ -L "$OUT/latest.safetensors" ] || [ -e "$OUT/latest.safetensors" ]; then
    "$CLGAN" train --resume "$OUT/latest.safetensors" $ARGS --iters $BIG --out "$OUT" 2>"$T/train.err" &
  else
    "$CLGAN" train --model "$T/tiny.model" --batch 16 $ARGS --iters $BIG --out "$OUT" 2>"$T/train.err" &
  fi
  pid=$!
  n=0
  while [ "$(rows)" -le "$r0" ] && [ $n -lt 1500 ] && kill -0 "$pid" 2>/dev/null; do
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
    fail "kill $k: the trainer exited with $rc before the kill (after ${d}s):"
    sed 's/^/  | /' "$T/train.err" | tail -5
    continue
  fi
  after=$(ls "$OUT/checkpoints" 2>/dev/null | grep -c '\.tmp\.')
  [ "$after" -gt "$before" ] && in_write=$((in_write + 1))
  [ -e "$OUT/latest.safetensors" ] || continue # killed before the first checkpoint
  if "$CLGAN" generate --checkpoint "$OUT/latest.safetensors" --count 1 --out "$T/gen" >/dev/null 2>"$T/gen.err"; then
    loaded=$((loaded + 1))
  else
    fail "kill $k (after ${d}s): latest.safetensors does not load:"
    sed 's/^/  | /' "$T/gen.err"
  fi
done
step=$(readlink "$OUT/latest.safetensors" | sed 's/.*ckpt_0*\([0-9]*\)\.safetensors/\1/')
echo "$KILLS kills, latest at iteration $step, $loaded loads checked, $in_write kills left a partial temporary file"
[ "$loaded" -ge $((KILLS - 3)) ] || fail "only $loaded of $KILLS kills came after a first checkpoint"
[ -n "$step" ] && [ "$step" -gt 0 ] || { fail "no checkpoint after $KILLS kills"; finish kill; }
# resume once more to one iteration past it, and compare with a run never interrupted
next=$((step + 1))
"$CLGAN" train --resume "$OUT/latest.safetensors" $ARGS --iters $next --out "$OUT" 2>"$T/train.err" ||
  { fail "the final resume failed:"; cat "$T/train.err"; }
"$CLGAN" train --model "$T/tiny.model" --batch 16 --data "$T/tiny-images-idx3-ubyte" --sample-every 1000 \
  --log-every 1 --checkpoint-every $BIG --iters $next --out "$T/ref" 2>"$T/ref.err" || { fail "reference run"; cat "$T/ref.err"; }
name=$(printf 'ckpt_%08d.safetensors' "$next")
cmp "$OUT/checkpoints/$name" "$T/ref/checkpoints/$name" ||
  fail "after $KILLS kills and resumes, iteration $next differs from the uninterrupted run"
# the log has one row per iteration, none lost or repeated by the kills
rows=$(grep -c '^[0-9]' "$OUT/metrics.csv")
[ "$rows" -eq "$next" ] || fail "metrics.csv has $rows rows, want $next"
[ "$(cut -d, -f1 "$OUT/metrics.csv" | grep '^[0-9]' | sort -n | uniq | wc -l)" -eq "$next" ] ||
  fail "metrics.csv repeats or skips iterations"
finish kill
