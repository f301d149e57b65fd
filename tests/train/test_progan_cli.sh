#!/bin/sh
# Progressive growing through `clgan train` (tools/cmd_progan.c): a run crossing growths
# (stage 4 -> fade 8 -> ...), its stage files and metadata, exact resume mid-fade (7
# iterations, then resume at alpha 0.25 to 10 == 10 straight, byte for byte; the resume
# takes --max-images from the checkpoint), and the refusals. Usage: test_progan_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
ONE_ERROR_LINE=1
. "$(dirname "$0")/../cli_lib.sh"
# batch 4: 5 iterations a stage (20 images), 8 a fade (32): 0-4 stage 4, 5-12 fade 8
SMALL="--model progan32 --max-images 64 --batch 4 --seed 5 --stage-images 20 --fade-images 32 --log-every 1"

check "10 iterations straight" "$CLGAN" train $SMALL --iters 10 --out "$T/a"
check "7 iterations" "$CLGAN" train $SMALL --iters 7 --out "$T/b"
check "the stage-4 grid and checkpoint" test -s "$T/b/stage_4.png" -a -s "$T/b/stage_4.safetensors"
check "metadata: stage 8 fading at alpha 0.25" grep -a -q "fading 1..alpha 0.25" "$T/b/latest.safetensors"
check "stage nodes by name" grep -a -q '"generator.rgb8_0.weight"' "$T/b/latest.safetensors"
check "resume mid-fade to 10" "$CLGAN" train --resume "$T/b/latest.safetensors" --iters 10 \
  --log-every 1 --out "$T/b"
check "resumed mid-fade == straight" cmp "$T/a/latest.safetensors" "$T/b/latest.safetensors"
check "plot" test -s "$T/b/plot.png"
# a progressive checkpoint is an ordinary model for generate (its stage, at its alpha)
check "generate from a mid-fade checkpoint" "$CLGAN" generate --checkpoint "$T/a/latest.safetensors" \
  --count 8 --grid --out "$T/gen.png"

expect_fail 2 "--epochs does not apply to a progressive model" "--epochs refused" \
  "$CLGAN" train $SMALL --epochs 1 --out "$T/c"
expect_fail 2 "--distributed does not apply" "--distributed refused" \
  "$CLGAN" train $SMALL --distributed --out "$T/c"
expect_fail 2 "--diffaug does not apply" "--diffaug refused" \
  "$CLGAN" train $SMALL --diffaug color --out "$T/c"
expect_fail 2 "--on-nan skip does not apply" "--on-nan skip refused" \
  "$CLGAN" train $SMALL --on-nan skip --out "$T/c"
expect_fail 2 "are for progressive models" "progressive options on dcgan28" \
  "$CLGAN" train --model dcgan28 --pad 2 --out "$T/c"
expect_fail 2 "is too big for 32x32 images" "a pad too big" \
  "$CLGAN" train $SMALL --pad 15 --out "$T/c"
cat > "$T/cond.model" <<'M'
model pc
latent 8
image 1 8 8
classes 10
grow 4 8
generator
stage 4
  linear 16
  reshape 1 4 4
stage 8
  upsample 2
rgb
  conv C k=1
discriminator
rgb
  conv 4 k=1
stage 8
  avgpool 2
stage 4
  flatten
  linear 1
M
expect_fail 2 "no network takes a label input" "a conditional progressive model" \
  "$CLGAN" train --model "$T/cond.model" --out "$T/c"
check "refusals wrote nothing" test ! -e "$T/c"

echo "progan_cli: $fails failed"
[ $fails -eq 0 ]
