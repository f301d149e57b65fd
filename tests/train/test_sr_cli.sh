#!/bin/sh
# clgan train --task sr (srgan2x on the mate photos, pre-training then GAN) and clgan upscale:
# an image whose size is no multiple of the tile, its output's size and mean colour, a folder,
# and the PNG kinds (palette, 16-bit, opaque alpha handled; transparency refused).
# Usage: test_sr_cli.sh CLGAN
CLGAN=$1
DATA=/usr/share/backgrounds/mate/nature
HERE=$(dirname "$0")
PNG="python3 $HERE/sr_png.py"
. "$HERE/../cli_lib.sh"
[ -e "$DATA/Aqua.jpg" ] || { echo "SKIP: mate-backgrounds not installed"; exit 77; }

check "train srgan2x" "$CLGAN" train --model srgan2x --task sr --iters 30 --pretrain-iters 20 \
  --batch 4 --eval-count 8 --sample-every 30 --log-every 10 --out "$T/sr"
for f in latest.safetensors pretrained.safetensors samples.png measures.txt; do
  [ -s "$T/sr/$f" ] || { echo "FAIL: train wrote no $f"; fails=$((fails + 1)); }
done
for k in bicubic pretrained gan original; do
  grep -q "^$k " "$T/sr/measures.txt" || { echo "FAIL: measures.txt lacks '$k'"; fails=$((fails + 1)); }
done

# ESRGAN's relativistic-average loss and the feature loss on D's 'feat' node: the GAN
# iterations run and log the feature loss; an unknown node and ragan outside image-to-image
# are refused before any output is written
check "train srgan2x ragan + features" "$CLGAN" train --model srgan2x --task sr --iters 4 \
  --pretrain-iters 2 --g-loss ragan --feature-weight 1 --batch 4 --eval-count 4 --log-every 1 \
  --out "$T/ra" 2>"$T/ra.log"
grep -q "feature loss" "$T/ra.log" || \
  { echo "FAIL: the GAN iterations logged no feature loss"; fails=$((fails + 1)); }
grep -q "^gan psnr_y" "$T/ra/measures.txt" || { echo "FAIL: ragan run measured nothing"; fails=$((fails + 1)); }
expect_fail 2 "node named 'nosuch'" "unknown feature node refused" \
  "$CLGAN" train --model srgan2x --task sr --iters 2 --pretrain-iters 1 --feature-weight 1 \
  --feature-node nosuch --batch 4 --eval-count 4 --out "$T/nf"
expect_fail 2 "ragan is for image-to-image" "ragan refused for dcgan28" \
  "$CLGAN" train --model dcgan28 --g-loss ragan --iters 1 --out "$T/dc"
for o in nf dc; do
  [ -e "$T/$o" ] && { echo "FAIL: a refused run left its output folder $o"; fails=$((fails + 1)); }
done

# the no-download smoke task: Fashion-MNIST x2 (14 -> 28), t10k held out
FM=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ -e "$FM" ]; then
  check "train srgan2x-fmnist" "$CLGAN" train --model srgan2x-fmnist --task sr --data fashion-mnist \
    --iters 4 --pretrain-iters 2 --batch 4 --max-images 64 --eval-count 16 --out "$T/fm"
  grep -q "^bicubic psnr_y" "$T/fm/measures.txt" || { echo "FAIL: fmnist sr measured nothing"; fails=$((fails + 1)); }
  expect_fail 2 "srgan2x-fmnist" "photo model on Fashion-MNIST refused" \
    "$CLGAN" train --model srgan4x --task sr --data fashion-mnist --iters 2 --out "$T/fm2"
fi

# 37x23 is no multiple of a 16-pixel tile (stride 8): 4 x 2 tiles, the last ones moved back;
# against one 64-pixel tile (the whole image): at most 3 levels apart anywhere, 0.1 on average
$PNG make "$T/in.png" 37 23 rgb
check "upscale 37x23" "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors" "$T/in.png" "$T/out.png"
check "upscale 37x23, 16-pixel tiles" "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors" \
  --tile 16 --overlap 8 "$T/in.png" "$T/out16.png"
set -- $($PNG diff "$T/out.png" "$T/out16.png" 2>/dev/null || echo 999 999)
if ! python3 -c "import sys; sys.exit(not (int(sys.argv[1]) <= 3 and float(sys.argv[2]) <= 0.1))" "$1" "$2"; then
  echo "FAIL: 16-pixel tiles differ from one tile by max $1, mean $2 (seams?)"; fails=$((fails + 1))
fi
set -- $($PNG info "$T/in.png")
ir=$4 ig=$5 ib=$6
set -- $($PNG info "$T/out.png" 2>/dev/null || echo 0 0 0 0 0 0)
if [ "$1 $2 $3" != "74 46 3" ]; then echo "FAIL: output is $1x$2x$3, want 74x46x3"; fails=$((fails + 1)); fi
# The mean colour is kept within 4 levels of 255 per channel: G adds a residual to the input
# enlarged, and a colour shift (mismatched normalisation) would move the whole residual.
if ! python3 -c "import sys; a=list(map(float,sys.argv[1:4])); b=list(map(float,sys.argv[4:7])); sys.exit(max(abs(x-y) for x,y in zip(a,b)) > 4)" \
    "$ir" "$ig" "$ib" "$4" "$5" "$6"; then
  echo "FAIL: mean colour $ir $ig $ib became $4 $5 $6 (tolerance 4)"; fails=$((fails + 1))
fi

# the PNG kinds, and a folder
mkdir "$T/dir"
$PNG make "$T/dir/pal.png" 20 9 palette
$PNG make "$T/dir/deep.png" 9 20 rgb16
$PNG make "$T/dir/opaque.png" 5 5 rgba-opaque
check "upscale a folder" "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors" "$T/dir" "$T/dirout"
for f in pal deep opaque; do
  [ -s "$T/dirout/$f.png" ] || { echo "FAIL: folder upscale wrote no $f.png"; fails=$((fails + 1)); }
done
set -- $($PNG info "$T/dirout/deep.png" 2>/dev/null || echo 0 0)
[ "$1 $2" = "18 40" ] || { echo "FAIL: 16-bit 9x20 became $1x$2"; fails=$((fails + 1)); }
$PNG make "$T/alpha.png" 6 4 rgba-alpha
expect_fail 1 "transparent pixels" "alpha refused" \
  "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors" "$T/alpha.png" "$T/alpha-out.png"
[ -e "$T/alpha-out.png" ] && { echo "FAIL: a refused input left an output"; fails=$((fails + 1)); }
expect_fail 1 "latest.safetensors.missing" "a missing checkpoint named" \
  "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors.missing" "$T/in.png" "$T/x.png"
expect_fail 2 "required" "no output" "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors" "$T/in.png"

[ "$fails" -eq 0 ] && echo "sr_cli: all checks passed"
exit "$fails"
