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

# 37x23 is no multiple of the 16-pixel tile (stride 12): 3 x 2 tiles, the last ones moved back
$PNG make "$T/in.png" 37 23 rgb
check "upscale 37x23" "$CLGAN" upscale --checkpoint "$T/sr/latest.safetensors" "$T/in.png" "$T/out.png"
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
