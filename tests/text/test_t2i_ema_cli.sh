#!/bin/sh
# --ema for text-to-image runs (t2i28 at batch 8 on 64 images): an exponential moving average
# of G kept beside G, which it leaves alone (generate --no-ema from an EMA run draws the plain
# run's grid); the training grid, the measures (train --measure) and generate --text use it,
# --no-ema G's own; a resume keeps it exactly (12 straight == 5 + resume to 12); bad values
# and conflicting resumes refused before any output.
# Usage: test_t2i_ema_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
R="--max-images 64 --batch 8 --log-every 1 --sample-every 4 --measure-count 0"

check "2 iterations without EMA" "$CLGAN" train --task captions $R --iters 2 --out "$T/p"
check "--ema 0.5, 2 iterations" "$CLGAN" train --task captions $R --iters 2 --ema 0.5 --out "$T/e"
check "the checkpoint holds the EMA" sh -c "grep -aq '\"ema_decay\":\"0.5\"' '$T/e/latest.safetensors' && grep -aq 'generator_ema\\.' '$T/e/latest.safetensors'"
check "the grid shows the EMA: not G's own" sh -c "! cmp -s '$T/e/samples.png' '$T/p/samples.png'"
check "generate --text: the EMA" sh -c "'$CLGAN' generate --checkpoint '$T/e/latest.safetensors' --text 'a dark coat' --count 8 --out '$T/ge' 2>&1 | grep -q 'using the EMA'"
check "generate --text --no-ema" "$CLGAN" generate --checkpoint "$T/e/latest.safetensors" --text "a dark coat" --count 8 --no-ema --out "$T/gn"
check "generate from the run without EMA" "$CLGAN" generate --checkpoint "$T/p/latest.safetensors" --text "a dark coat" --count 8 --out "$T/gp"
check "EMA leaves G alone: --no-ema draws the plain run's grid" cmp "$T/gn/grid.png" "$T/gp/grid.png"
check "the EMA draws another grid" sh -c "! cmp -s '$T/ge/grid.png' '$T/gp/grid.png'"
check "--measure: the EMA" "$CLGAN" train --task captions --measure "$T/e/latest.safetensors" --measure-count 4 --out "$T/me"
check "its measures say so" grep -q "the EMA of G's weights" "$T/me/measures.txt"
check "--measure --no-ema" "$CLGAN" train --task captions --measure "$T/e/latest.safetensors" --measure-count 4 --no-ema --out "$T/mn"
check "--measure of the plain run" "$CLGAN" train --task captions --measure "$T/p/latest.safetensors" --measure-count 4 --out "$T/mp"
check "--measure --no-ema: the plain run's measures and grid" sh -c "cmp '$T/mn/measures.txt' '$T/mp/measures.txt' && cmp '$T/mn/samples.png' '$T/mp/samples.png'"
check "--measure with EMA: other measures" sh -c "! cmp -s '$T/me/measures.txt' '$T/mp/measures.txt'"

# exact resume with EMA starting after iteration 3: 12 straight == 5, then --resume to 12
E="--ema 0.9 --ema-start 3"
check "--ema 12 iterations straight" "$CLGAN" train --task captions $R $E --iters 12 --out "$T/e12"
check "--ema 5 iterations" "$CLGAN" train --task captions $R $E --iters 5 --out "$T/e5"
cp "$T/e5/latest.safetensors" "$T/e5.keep"
expect_fail 2 "--ema 0.5 conflicts with the checkpoint's EMA decay" "--resume with another EMA" \
  "$CLGAN" train --resume "$T/e5/latest.safetensors" --ema 0.5 --iters 12 --out "$T/e5"
expect_fail 2 "--ema-start 1 conflicts with the checkpoint's EMA start" "--resume with another EMA start" \
  "$CLGAN" train --resume "$T/e5/latest.safetensors" --ema-start 1 --iters 12 --out "$T/e5"
check "refused resumes: the checkpoint untouched" cmp "$T/e5/latest.safetensors" "$T/e5.keep"
check "--ema --resume to 12" "$CLGAN" train --resume "$T/e5/latest.safetensors" --iters 12 \
  --log-every 1 --sample-every 4 --measure-count 0 --out "$T/e5"
check "resumed: the same checkpoint, byte for byte" cmp "$T/e12/latest.safetensors" "$T/e5/latest.safetensors"
check "resumed: the same grid" cmp "$T/e12/samples.png" "$T/e5/samples.png"

expect_fail 2 "--ema must be a decay in" "--ema 1" \
  "$CLGAN" train --task captions $R --iters 2 --ema 1 --out "$T/none"
expect_fail 2 "--ema-start needs --ema DECAY" "--ema-start alone" \
  "$CLGAN" train --task captions $R --iters 2 --ema-start 5 --out "$T/none"
expect_fail 2 "--ema and --ema-start are training settings" "--measure with --ema" \
  "$CLGAN" train --task captions --measure "$T/e/latest.safetensors" --ema 0.9 --out "$T/none"
check "no output folder made by refusals" test ! -e "$T/none"

[ "$fails" -eq 0 ] && echo "t2i_ema_cli: all checks passed"
exit $((fails > 0))
