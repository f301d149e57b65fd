#!/bin/sh
# `clgan train` and `clgan generate` end to end on a slice of Fashion-MNIST: outputs,
# exact resume through the CLI (byte-identical checkpoints), Ctrl-C, and bad input that
# must fail clearly without destroying earlier output. Usage: test_train_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
SMALL="--max-images 256 --batch 16 --sample-every 2 --log-every 1"

# a short run leaves every output
check "train 4 iterations" "$CLGAN" train --model dcgan28 $SMALL --iters 4 --out "$T/a"
for f in real.png samples.png plot.png metrics.csv latest.safetensors \
         checkpoints/ckpt_00000004.safetensors samples/iter_00000002.png; do
  check "output $f exists" test -s "$T/a/$f"
done
check "metrics has 4 rows" test "$(grep -c '^[0-9]' "$T/a/metrics.csv")" -eq 4
check "metrics header" grep -q '^step,epoch,loss_d,loss_g,d_real,d_fake,d_fake_after,grad_norm_d,grad_norm_g,diversity' "$T/a/metrics.csv"

# --iters counts from the start: resuming at 4 with --iters 6 trains 2 more, and the result
# is byte-identical to an uninterrupted 6-iteration run
check "resume to 6" "$CLGAN" train --resume "$T/a/latest.safetensors" --max-images 256 \
  --sample-every 2 --log-every 1 --iters 6 --out "$T/a"
check "fresh 6" "$CLGAN" train --model dcgan28 $SMALL --iters 6 --out "$T/b"
check "resumed checkpoint == uninterrupted checkpoint" \
  cmp "$T/a/checkpoints/ckpt_00000006.safetensors" "$T/b/checkpoints/ckpt_00000006.safetensors"
check "metrics continue to 6 rows" test "$(grep -c '^[0-9]' "$T/a/metrics.csv")" -eq 6

# the default model dcgan28-sn and its recipe (its model file's `train` line: batch 16, lr
# 6e-4, beta2 0.99), each setting overridden by its flag; --model dcgan28 keeps the earlier
# defaults (batch 64, 2e-4, 0.999); a recipe run resumes exactly; a bad `train` line is
# refused before anything is written
hdr() { grep -a -o "\"$2\":\"[^\"]*\"" "$1" | head -1; }
R="--max-images 256 --sample-every 2 --log-every 1"
check "default model, 2 iterations" "$CLGAN" train $R --iters 2 --out "$T/r"
check "default: the model dcgan28-sn" grep -a -q 'model dcgan28-sn' "$T/r/latest.safetensors"
check "default: batch 16" test "$(hdr "$T/r/latest.safetensors" batch)" = '"batch":"16"'
check "default: lr_g and lr_d 6e-4" sh -c "[ '$(hdr "$T/r/latest.safetensors" lr_g)' = '\"lr_g\":\"0.000600000028\"' ] && [ '$(hdr "$T/r/latest.safetensors" lr_d)' = '\"lr_d\":\"0.000600000028\"' ]"
check "default: beta2 0.99" test "$(hdr "$T/r/latest.safetensors" beta2)" = '"beta2":"0.99000001"'
check "flags win: --batch 8 --lr 1e-4" "$CLGAN" train $R --batch 8 --lr 1e-4 --iters 1 --out "$T/r2"
check "flags win: batch 8" test "$(hdr "$T/r2/latest.safetensors" batch)" = '"batch":"8"'
check "flags win: lr 1e-4" test "$(hdr "$T/r2/latest.safetensors" lr_g)" = '"lr_g":"9.99999975e-05"'
check "flags win: beta2 still the recipe's" test "$(hdr "$T/r2/latest.safetensors" beta2)" = '"beta2":"0.99000001"'
check "--lr-g alone: D keeps the recipe's rate" "$CLGAN" train $R --lr-g 1e-4 --iters 1 --out "$T/r3"
check "--lr-g alone: lr_d 6e-4" test "$(hdr "$T/r3/latest.safetensors" lr_d)" = '"lr_d":"0.000600000028"'
check "--model dcgan28, 1 iteration" "$CLGAN" train --model dcgan28 $R --iters 1 --out "$T/r4"
check "dcgan28: batch 64, lr 2e-4, beta2 0.999" sh -c "[ '$(hdr "$T/r4/latest.safetensors" batch)' = '\"batch\":\"64\"' ] && [ '$(hdr "$T/r4/latest.safetensors" lr_g)' = '\"lr_g\":\"0.000199999995\"' ] && [ '$(hdr "$T/r4/latest.safetensors" beta2)' = '\"beta2\":\"0.999000013\"' ]"
check "recipe run: resume 2 -> 4" "$CLGAN" train --resume "$T/r/latest.safetensors" $R --iters 4 --out "$T/r"
check "recipe run: fresh 4" "$CLGAN" train $R --iters 4 --out "$T/r5"
check "recipe run: resumed == uninterrupted" cmp "$T/r/checkpoints/ckpt_00000004.safetensors" "$T/r5/checkpoints/ckpt_00000004.safetensors"
sed 's/^train batch=16 lr=6e-4 beta2=0.99$/train batch=16 lr=fast/' "$(dirname "$0")/../../samples/dcgan28-sn.model" >"$T/badrecipe.model"
expect_fail 2 "badrecipe.model:12: 'train' setting 'lr=fast': expected batch=1..65536, lr=X" \
  "a bad train line" "$CLGAN" train --model "$T/badrecipe.model" $R --iters 1 --out "$T/r6"
check "a bad train line: nothing written" test ! -e "$T/r6"

# --beta2 reaches both Adams (row 3 of the log differs from the default 0.999's run $T/a: at
# step 1 Adam's bias correction cancels beta2), is stored in the checkpoint, resumes exactly,
# and another value is refused on resume without touching the run
check "beta2 run to 2" "$CLGAN" train --model dcgan28 $SMALL --beta2 0.99 --iters 2 --out "$T/e"
check "beta2 stored ($(grep -a -o '"beta2":"[^"]*"' "$T/e/latest.safetensors"))" \
  grep -a -q '"beta2":"0.99000001"' "$T/e/latest.safetensors"
check "beta2 resume to 4 with its own flag" "$CLGAN" train --resume "$T/e/latest.safetensors" \
  --beta2 0.99 --max-images 256 --sample-every 2 --log-every 1 --iters 4 --out "$T/e"
check "beta2 fresh 4" "$CLGAN" train --model dcgan28 $SMALL --beta2 0.99 --iters 4 --out "$T/f"
check "beta2: resumed checkpoint == uninterrupted" \
  cmp "$T/e/checkpoints/ckpt_00000004.safetensors" "$T/f/checkpoints/ckpt_00000004.safetensors"
row3a=$(grep '^3,' "$T/a/metrics.csv" | cut -d, -f3-9) # losses, D outputs, gradient norms
row3f=$(grep '^3,' "$T/f/metrics.csv" | cut -d, -f3-9)
check "beta2 0.99 trains otherwise than 0.999 (row 3: $row3f vs $row3a)" \
  test -n "$row3f" -a "$row3f" != "$row3a"
expect_fail 2 "--beta2 0.9 conflicts with the checkpoint's beta2 0.99 (" "resume with another --beta2" \
  "$CLGAN" train --resume "$T/e/latest.safetensors" --beta2 0.9 --iters 5 --out "$T/e"
check "the refused resume left the run at 4" test "$(readlink "$T/e/latest.safetensors")" = checkpoints/ckpt_00000004.safetensors

# generate: a grid, single images, a latent walk
check "generate grid" "$CLGAN" generate --checkpoint "$T/a/latest.safetensors" --grid --count 16 --out "$T/g"
check "grid.png" test -s "$T/g/grid.png"
check "generate singles" "$CLGAN" generate --checkpoint "$T/a/latest.safetensors" --count 3 --out "$T/g"
check "3 single images" test -s "$T/g/img_00002.png"
check "generate interpolate" "$CLGAN" generate --checkpoint "$T/a/latest.safetensors" --interpolate --count 2 --steps 5 --batch-stats --out "$T/g"
check "interpolate.png" test -s "$T/g/interpolate.png"

# Ctrl-C saves a final checkpoint that resumes
"$CLGAN" train --model dcgan28 $SMALL --iters 100000 --checkpoint-every 100000 --out "$T/c" 2>"$T/c.err" &
pid=$!
n=0
while [ ! -s "$T/c/metrics.csv" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -INT $pid
wait $pid
rc=$?
check "Ctrl-C exits 130 (got $rc)" test $rc -eq 130
check "Ctrl-C left a checkpoint" test -s "$T/c/latest.safetensors"
check "Ctrl-C message" grep -q "interrupted" "$T/c.err"
check "interrupted run's checkpoint loads" "$CLGAN" train --resume "$T/c/latest.safetensors" --max-images 256 --iters 1 --out "$T/c"
check "first signal announces the stop" grep -q "stopping after this iteration" "$T/c.err"

# a second signal quits at once, without the final checkpoint, leaving the earlier ones whole
# (batch 64: an iteration takes far longer than the gap between the two signals, so the
# second arrives during the iteration that the first would have finished)
"$CLGAN" train --model dcgan28 --max-images 256 --batch 64 --iters 100000 --checkpoint-every 1 --log-every 1 \
  --out "$T/k" 2>"$T/k.err" &
pid=$!
n=0
while [ ! -e "$T/k/checkpoints/ckpt_00000002.safetensors" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM $pid
n=0  # the second only once the first was handled (two pending signals merge into one)
while ! grep -q "stopping after this iteration" "$T/k.err" && [ $n -lt 100 ]; do sleep 0.02; n=$((n + 1)); done
kill -TERM $pid
wait $pid
rc=$?
check "a second SIGTERM ends the run by the signal (exit $rc, want 143)" test $rc -eq 143
check "no 'done'/'stopped' line after the second signal" sh -c "! grep -q '^stopped after' '$T/k.err'"
k=$(readlink "$T/k/latest.safetensors" | sed -n 's/.*ckpt_0*\([0-9][0-9]*\)\.safetensors$/\1/p')
check "the double SIGTERM left a latest checkpoint ($k)" test -n "$k"
check "the newest checkpoint left by a double SIGTERM resumes" "$CLGAN" train --resume \
  "$T/k/latest.safetensors" --max-images 256 --iters $((${k:-0} + 1)) --out "$T/k"

# a NaN stops the run naming the iteration and network, keeping the last good checkpoint;
# --on-nan skip rolls that iteration back and finishes
CLGAN_FAULT_NAN_AT=4 expect_fail 1 "iteration 4: the discriminator's loss is not finite" "NaN stops" \
  "$CLGAN" train --model dcgan28 $SMALL --iters 6 --checkpoint-every 2 --out "$T/n"
check "NaN run kept checkpoint 2 only" test "$(readlink "$T/n/latest.safetensors")" = checkpoints/ckpt_00000002.safetensors
check "no checkpoint after the NaN" test ! -e "$T/n/checkpoints/ckpt_00000004.safetensors"
CLGAN_FAULT_NAN_AT=4 check "--on-nan skip finishes" "$CLGAN" train --model dcgan28 $SMALL --iters 6 --on-nan skip --out "$T/s"
check "skip run reached 6" test -s "$T/s/checkpoints/ckpt_00000006.safetensors"
check "skipped row absent, finite after" sh -c "! grep -q '^4,' '$T/s/metrics.csv' && grep '^6,' '$T/s/metrics.csv' | grep -qv nan"
expect_fail 2 "--on-nan must be" "bad --on-nan" "$CLGAN" train --model dcgan28 --on-nan maybe

# bad input: clear message, non-zero exit, nothing earlier lost
expect_fail 2 "conflict" "--epochs with --iters" "$CLGAN" train --model dcgan28 --epochs 1 --iters 3
expect_fail 2 "unknown option '--bogus'" "unknown flag" "$CLGAN" train --model dcgan28 --bogus
expect_fail 2 "--batch must be between" "batch 0" "$CLGAN" train --model dcgan28 --batch 0
expect_fail 2 "--g-loss must be" "bad loss" "$CLGAN" train --model dcgan28 --g-loss wasserstein
expect_fail 2 "model dcgan64 conflicts with the checkpoint's model dcgan28" "resume with another --model" "$CLGAN" train --resume "$T/a/latest.safetensors" --model dcgan64
expect_fail 1 "$T/missing.gz" "missing data" "$CLGAN" train --model dcgan28 --data "$T/missing.gz" --out "$T/a"
printf 'model m\nlatent 8\nimage 1 28 28\ngenerator\n  linear 16\n  wobble\n' >"$T/bad.model"
expect_fail 2 "bad.model:6: unknown layer 'wobble'" "bad model file" "$CLGAN" train --model "$T/bad.model" --out "$T/a"
head -c 1000 "$T/a/latest.safetensors" >"$T/trunc.safetensors"
expect_fail 1 "checkpoint" "truncated checkpoint" "$CLGAN" generate --checkpoint "$T/trunc.safetensors" --out "$T/g"
cp "$T/a/checkpoints/ckpt_00000006.safetensors" "$T/flip.safetensors"
size=$(wc -c <"$T/flip.safetensors")
printf '\377' | dd of="$T/flip.safetensors" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
expect_fail 1 "sha256" "flipped byte" "$CLGAN" generate --checkpoint "$T/flip.safetensors" --out "$T/g"
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
  expect_fail 1 "not writable" "unwritable --out" "$CLGAN" train --model dcgan28 $SMALL --iters 1 --out "$T/ro/x"
fi
expect_fail 1 "output directory" "--out below a file" "$CLGAN" train --model dcgan28 $SMALL --iters 1 --out "$T/a/metrics.csv/x"
check "earlier checkpoint still loads" "$CLGAN" generate --checkpoint "$T/a/latest.safetensors" --grid --count 4 --out "$T/g2"
check "earlier metrics intact" test "$(grep -c '^[0-9]' "$T/a/metrics.csv")" -eq 6

echo "train_cli: $fails failed"
[ $fails -eq 0 ]
