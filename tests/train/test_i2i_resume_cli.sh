#!/bin/sh
# `clgan train --resume` of image-to-image runs (tools/i2i_resume.c): N iterations straight
# and N/2 then --resume to N give byte-identical checkpoints and sample grids, for
# edges2fashion (across an epoch boundary: its order is redrawn mid-epoch), colorize (Philox
# crops) and sr (after its content-only pre-training, whose outputs the measures still
# show); flags that differ from the checkpoint's are refused naming the flag, and a missing
# or corrupt checkpoint touches nothing. Usage: test_i2i_resume_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"

# edges2fashion: 64 pairs, batch 16 -> 4 iterations an epoch; stop at 3, resume to 6
R="--model pix2pix32 --task edges2fashion --max-images 64 --eval-count 8 --batch 16"
OUTS="--sample-every 2 --log-every 1"
check "edges: 6 straight" "$CLGAN" train $R $OUTS --iters 6 --out "$T/e6"
check "edges: 3" "$CLGAN" train $R $OUTS --iters 3 --out "$T/e3"
cp -r "$T/e3" "$T/e3b"
check "edges: resume 3 -> 6 (no flags but the outputs')" "$CLGAN" train --resume \
  "$T/e3/latest.safetensors" --iters 6 $OUTS --out "$T/e3"
check "edges: resumed checkpoint == uninterrupted" cmp "$T/e6/latest.safetensors" "$T/e3/latest.safetensors"
check "edges: resumed grid == uninterrupted" cmp "$T/e6/samples.png" "$T/e3/samples.png"
check "edges: resumed log == uninterrupted (but the seconds)" sh -c \
  "cut -d, -f1-6 '$T/e6/metrics.csv' >'$T/l6' && cut -d, -f1-6 '$T/e3/metrics.csv' >'$T/l3' && cmp -s '$T/l6' '$T/l3'"
check "edges: the same measures" sh -c "grep -v seconds '$T/e6/measures.txt' >'$T/m6' &&
  grep -v seconds '$T/e3/measures.txt' >'$T/m3' && cmp -s '$T/m6' '$T/m3'"
check "edges: resume with the run's own flags repeated" "$CLGAN" train $R $OUTS --seed 1 \
  --lr 2e-4 --content l1 --adv-weight 1 --resume "$T/e3b/latest.safetensors" --iters 6 --out "$T/e3b"
check "edges: that too == uninterrupted" cmp "$T/e6/latest.safetensors" "$T/e3b/latest.safetensors"

# flags against the checkpoint's: refused, naming the flag, before any output is touched
CK="$T/e3b/latest.safetensors"
cp "$CK" "$T/before.safetensors"
expect_fail 2 "--batch 8 conflicts with the checkpoint's batch 16" "resume, other --batch" \
  "$CLGAN" train --resume "$CK" --batch 8 --iters 9 --out "$T/e3b"
expect_fail 2 "--task colorize conflicts with the checkpoint's task edges2fashion" "resume, other --task" \
  "$CLGAN" train --resume "$CK" --task colorize --iters 9 --out "$T/e3b"
expect_fail 2 "--max-images 32 conflicts with the checkpoint's max-images 64" "resume, other --max-images" \
  "$CLGAN" train --resume "$CK" --max-images 32 --iters 9 --out "$T/e3b"
expect_fail 2 "--adv-weight 0 conflicts with the checkpoint's adversarial weight 1" "resume, other --adv-weight" \
  "$CLGAN" train --resume "$CK" --adv-weight 0 --iters 9 --out "$T/e3b"
expect_fail 2 "--content mse conflicts with the checkpoint's content loss l1" "resume, other --content" \
  "$CLGAN" train --resume "$CK" --content mse --iters 9 --out "$T/e3b"
expect_fail 2 "--content-weight 10 conflicts with the checkpoint's content weight 100" \
  "resume, other --content-weight" "$CLGAN" train --resume "$CK" --content-weight 10 --iters 9 --out "$T/e3b"
expect_fail 2 "--g-loss lsgan conflicts with the checkpoint's g-loss ns" "resume, other --g-loss" \
  "$CLGAN" train --resume "$CK" --g-loss lsgan --iters 9 --out "$T/e3b"
expect_fail 2 "--model pix2pix64 conflicts with the checkpoint's model pix2pix32" "resume, other --model" \
  "$CLGAN" train --resume "$CK" --model pix2pix64 --iters 9 --out "$T/e3b"
expect_fail 2 "--iters 4 is the total, and the checkpoint" "resume, --iters below the checkpoint's" \
  "$CLGAN" train --resume "$CK" --iters 4 --out "$T/e3b"
expect_fail 1 "cannot open '$T/nope.safetensors'" "resume, a missing checkpoint" \
  "$CLGAN" train --resume "$T/nope.safetensors" --task edges2fashion --iters 9 --out "$T/e3b"
head -c 3000 "$CK" >"$T/cut.safetensors"
expect_fail 1 "is not a valid safetensors file" "resume, a truncated checkpoint" \
  "$CLGAN" train --resume "$T/cut.safetensors" --task edges2fashion --iters 9 --out "$T/e3b"
check "the refusals left the checkpoint alone" cmp "$T/before.safetensors" "$CK"
check "the refusals left the log alone" sh -c "cut -d, -f1-6 '$T/e3b/metrics.csv' | cmp -s - '$T/l6'"
expect_fail 2 "is not an image-to-image run's (model dcgan28)" "resume a DCGAN checkpoint with --task" sh -c "
  '$CLGAN' train --model dcgan28 --iters 1 --batch 4 --max-images 16 --out '$T/dc' 2>/dev/null &&
  '$CLGAN' train --resume '$T/dc/latest.safetensors' --task edges2fashion --iters 2 --out '$T/dc'"
check "a DCGAN checkpoint still resumes in the GAN trainer" "$CLGAN" train --resume \
  "$T/dc/latest.safetensors" --iters 2 --out "$T/dc"

# sr on Fashion-MNIST x2: 2 content-only iterations, then the GAN; stop at 3, resume to 4
S="--model srgan2x-fmnist --task sr --data fashion-mnist --max-images 64 --eval-count 8 --batch 8 --pretrain-iters 2"
check "sr: 4 straight" "$CLGAN" train $S --iters 4 --out "$T/s4"
check "sr: 3" "$CLGAN" train $S --iters 3 --out "$T/s3"
check "sr: resume 3 -> 4" "$CLGAN" train --resume "$T/s3/latest.safetensors" --iters 4 --out "$T/s3"
check "sr: resumed checkpoint == uninterrupted" cmp "$T/s4/latest.safetensors" "$T/s3/latest.safetensors"
check "sr: the same measures, the pre-trained G's among them" sh -c "grep -q '^pretrained ' '$T/s3/measures.txt' &&
  grep -v seconds '$T/s4/measures.txt' >'$T/m6' && grep -v seconds '$T/s3/measures.txt' >'$T/m3' && cmp -s '$T/m6' '$T/m3'"

# colorize: Philox crops of (seed, iteration)
if [ -d /usr/share/backgrounds/mate/nature ]; then
  K="--model pix2pix32 --task colorize --batch 4 --eval-count 4"
  check "colorize: 3 straight" "$CLGAN" train $K --iters 3 --out "$T/k3"
  check "colorize: 2" "$CLGAN" train $K --iters 2 --out "$T/k2"
  check "colorize: resume 2 -> 3" "$CLGAN" train --resume "$T/k2/latest.safetensors" --iters 3 --out "$T/k2"
  check "colorize: resumed checkpoint == uninterrupted" cmp "$T/k3/latest.safetensors" "$T/k2/latest.safetensors"
else
  echo "note: mate-backgrounds missing, colorize resume not tested"
fi

echo "i2i_resume_cli: $fails failed"
[ $fails -eq 0 ]
