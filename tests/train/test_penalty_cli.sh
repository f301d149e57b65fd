#!/bin/sh
# Issue 15 through `clgan train`: --g-loss wgan-gp and --r1 on a D without batch norm
# (tests/train/wgan28.model), the settings stored in checkpoints, exact resume (byte-identical
# checkpoints), the equal-flags rule on resume, and the refusal of a D with batch norm before
# any output exists. Usage: test_penalty_cli.sh CLGAN MODEL
set -u
CLGAN=$1
MODEL=$2
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
meta() { # meta FILE KEY: a metadata value from the safetensors header
  grep -a -o "\"$2\":\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*:"\(.*\)"/\1/'
}
SMALL="--model $MODEL --max-images 128 --batch 8 --sample-every 2 --log-every 1"

# a D with batch norm: refused with the reason, before the output folder is made
expect_fail 2 "batch norm" "wgan-gp on dcgan28" "$CLGAN" train --model dcgan28 --g-loss wgan-gp --iters 2 \
  --max-images 64 --batch 8 --out "$T/bn"
check "no output for the refused run" test ! -e "$T/bn"
expect_fail 2 "batch norm" "r1 on dcgan28" "$CLGAN" train --model dcgan28 --r1 1 --iters 2 --max-images 64 \
  --batch 8 --out "$T/bn"
expect_fail 2 "choose one penalty" "wgan-gp with r1" "$CLGAN" train $SMALL --g-loss wgan-gp \
  --r1 1 --iters 2 --out "$T/bn"

# WGAN-GP: 3 iterations, then resume to 5 == 5 straight
check "wgan-gp run to 3" "$CLGAN" train $SMALL --g-loss wgan-gp --gp-lambda 5 --beta1 0 \
  --iters 3 --out "$T/a"
check "g_loss stored" test "$(meta "$T/a/latest.safetensors" g_loss)" = wgan-gp
check "gp_lambda stored" test "$(meta "$T/a/latest.safetensors" gp_lambda)" = 5
check "drift_eps stored ($(meta "$T/a/latest.safetensors" drift_eps))" \
  test "$(meta "$T/a/latest.safetensors" drift_eps)" = 0.00100000005
check "wgan-gp resume to 5" "$CLGAN" train --resume "$T/a/latest.safetensors" \
  --max-images 128 --sample-every 2 --log-every 1 --iters 5 --out "$T/a"
check "wgan-gp fresh 5" "$CLGAN" train $SMALL --g-loss wgan-gp --gp-lambda 5 --beta1 0 \
  --iters 5 --out "$T/b"
check "wgan-gp: resumed checkpoint == uninterrupted" \
  cmp "$T/a/checkpoints/ckpt_00000005.safetensors" "$T/b/checkpoints/ckpt_00000005.safetensors"
expect_fail 2 "gp-lambda" "resume with another --gp-lambda" "$CLGAN" train \
  --resume "$T/a/latest.safetensors" --gp-lambda 10 --iters 6 --out "$T/a"
check "a finite D loss in the log" sh -c "tail -n 1 '$T/b/metrics.csv' | grep -v -i nan >/dev/null"

# R1, lazy every 2: resume from 3 (an odd step) to 5 == 5 straight
check "r1 run to 3" "$CLGAN" train $SMALL --r1 2 --r1-every 2 --iters 3 --out "$T/c"
check "r1_gamma stored" test "$(meta "$T/c/latest.safetensors" r1_gamma)" = 2
check "r1_every stored" test "$(meta "$T/c/latest.safetensors" r1_every)" = 2
check "no gp_lambda without wgan-gp" sh -c "! grep -a -q gp_lambda '$T/c/latest.safetensors'"
check "r1 resume to 5" "$CLGAN" train --resume "$T/c/latest.safetensors" \
  --max-images 128 --sample-every 2 --log-every 1 --iters 5 --out "$T/c"
check "r1 fresh 5" "$CLGAN" train $SMALL --r1 2 --r1-every 2 --iters 5 --out "$T/d"
check "r1: resumed checkpoint == uninterrupted" \
  cmp "$T/c/checkpoints/ckpt_00000005.safetensors" "$T/d/checkpoints/ckpt_00000005.safetensors"
check "plain run on the same model" "$CLGAN" train $SMALL --iters 5 --out "$T/e"
check "r1 and plain runs differ" sh -c "! cmp -s '$T/d/checkpoints/ckpt_00000005.safetensors' '$T/e/checkpoints/ckpt_00000005.safetensors'"
check "no penalty metadata without a penalty" sh -c "! grep -a -q -e r1_gamma -e gp_lambda '$T/e/latest.safetensors'"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "penalty_cli: all checks passed"
