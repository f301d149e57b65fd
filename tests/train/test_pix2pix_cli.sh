#!/bin/sh
# Image-to-image through `clgan train` (pix2pix32 on --task edges2fashion and on --data
# folders of A|B PNG pairs) and `clgan translate` (any size, tiled): the outputs a run
# writes, the held-out measures, the L1-only ablation, and bad input refused (named by
# file) before any output is touched. Usage: test_pix2pix_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 (writes the test PNGs) missing"; exit 77; }
SMALL="--max-images 64 --eval-count 16 --batch 8 --sample-every 2 --log-every 1"

# PNG W H CHANNELS PATH: a deterministic 8-bit PNG (python's zlib, no imaging library)
png() {
  python3 - "$@" <<'PY'
import sys, zlib, struct
w, h, ch, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
raw = b''.join(b'\0' + bytes((x * 7 + y * 3 + k * 50 + (x >= w // 2) * 90) % 256
                             for x in range(w) for k in range(ch)) for y in range(h))
c = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + c(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, {1: 0, 3: 2}[ch], 0, 0, 0))
                       + c(b'IDAT', zlib.compress(raw)) + c(b'IEND', b''))
PY
}

check "edges2fashion 3 iterations" "$CLGAN" train --model pix2pix32 --task edges2fashion $SMALL --iters 3 --out "$T/e"
for f in latest.safetensors samples.png plot.png metrics.csv measures.txt; do
  check "edges2fashion wrote $f" test -s "$T/e/$f"
done
check "metrics.csv has 3 rows and the content loss" test "$(grep -c '^[0-9]' "$T/e/metrics.csv")" -eq 3
check "measures: 16 held-out pairs" grep -q '^pairs 16$' "$T/e/measures.txt"
check "measures: PSNR and SSIM" grep -q '^ssim ' "$T/e/measures.txt"
check "held-out outputs for clgan eval: 16 garments of 28x28" test "$(ls "$T/e/heldout/output" | wc -l)" -eq 16
check "clgan eval --data on the translated outputs" "$CLGAN" eval --data "$T/e/heldout/output" \
  --data2 "$T/e/heldout/target" --kid-subsets 2 --kid-subset-size 8
check "--measure of the run's checkpoint" "$CLGAN" train --model pix2pix32 --task edges2fashion \
  --eval-count 16 --measure "$T/e/latest.safetensors" --out "$T/m"
check "--measure gives the run's own measures" sh -c "grep -v seconds '$T/e/measures.txt' | grep -v iterations >'$T/a.txt' &&
  grep -v seconds '$T/m/measures.txt' | grep -v iterations >'$T/b.txt' && cmp -s '$T/a.txt' '$T/b.txt'"
check "the L1-only ablation (--adv-weight 0)" "$CLGAN" train --model pix2pix32 --task edges2fashion $SMALL --iters 2 --adv-weight 0 --out "$T/l1"
check "the two runs differ" test "$(cksum <"$T/e/measures.txt")" != "$(cksum <"$T/l1/measures.txt")"

mkdir -p "$T/in"
png 20 13 1 "$T/in/small.png"
png 70 45 1 "$T/in/big.png"

# colorize: grey -> RGB crops of the mate-backgrounds photos (3 of 12 held out whole)
if [ -d /usr/share/backgrounds/mate/nature ]; then
  check "colorize 2 iterations" "$CLGAN" train --model pix2pix32 --task colorize --batch 4 --iters 2 --eval-count 4 --out "$T/col"
  check "colorize measures colourfulness" grep -q '^colourfulness_target ' "$T/col/measures.txt"
  check "translate with a colorize checkpoint (grey in, colour out)" "$CLGAN" translate \
    --checkpoint "$T/col/latest.safetensors" --in "$T/in/big.png" --out "$T/trc"
  check "the colorize translation is RGB (PNG colour type 2)" python3 -c "
import sys; d = open('$T/trc/big.png', 'rb').read(26); sys.exit(d[25] != 2)"
  mkdir -p "$T/photos"
  for i in 1 2 3 4; do cp /usr/share/backgrounds/mate/nature/Aqua.jpg "$T/photos/p$i.jpg"; done
  printf 'not a jpeg' >"$T/photos/p2.jpg"
  expect_fail 1 "p2.jpg" "an unreadable JPEG, named" \
    "$CLGAN" train --model pix2pix32 --task colorize --data "$T/photos" --iters 1 --out "$T/none"
  cp /usr/share/backgrounds/mate/nature/Aqua.jpg "$T/photos/p2.jpg"
  png 40 30 1 "$T/photos/p5.png"
  expect_fail 1 "$T/photos/p5.png: a grey image, but colorize needs colour photos" \
    "a grey photo for colorize, named" \
    "$CLGAN" train --model pix2pix32 --task colorize --data "$T/photos" --iters 1 --out "$T/none"
else
  echo "note: mate-backgrounds missing, colorize not tested"
fi

# refusals before any output
expect_fail 2 "unknown task 'colourise' (known: edges2fashion, colorize, sr)" "unknown task" \
  "$CLGAN" train --model pix2pix32 --task colourise --iters 1 --out "$T/none"
expect_fail 2 "give --task edges2fashion or --data DIR" "pix2pix32 without data" \
  "$CLGAN" train --model pix2pix32 --iters 1 --out "$T/none"
expect_fail 2 "--content must be l1, mse or none" "bad --content" \
  "$CLGAN" train --model pix2pix32 --task edges2fashion --content l3 --out "$T/none"
expect_fail 2 "needs an image-to-image model" "--task with dcgan28" \
  "$CLGAN" train --model dcgan28 --task edges2fashion --iters 1 --out "$T/none"
check "no output folder made" test ! -e "$T/none"

# A|B pairs: grey 64x32 files, one of another size (named), colour where grey is needed
mkdir -p "$T/pairs" "$T/rgb"
for i in 0 1 2 3 4 5 6 7 8 9 10; do png 64 32 1 "$T/pairs/p$i.png"; png 64 32 3 "$T/rgb/p$i.png"; done
check "pairs: 2 iterations" "$CLGAN" train --model pix2pix32 --data "$T/pairs" --batch 4 --iters 2 --eval-count 4 --out "$T/p"
check "pairs: one held out (the last tenth)" grep -q '^pairs 1$' "$T/p/measures.txt"
check "colour pairs: 1 iteration" "$CLGAN" train --model pix2pix32 --data "$T/rgb" --batch 4 --iters 1 --out "$T/c"
png 66 32 1 "$T/pairs/p5.png"
expect_fail 1 "$T/pairs/p5.png: a pair must be 64x32" "a pair of another size" \
  "$CLGAN" train --model pix2pix32 --data "$T/pairs" --batch 4 --iters 1 --out "$T/none"
png 64 32 1 "$T/rgb/p3.png"
expect_fail 1 "$T/rgb/p3.png: a grey image, but the model's target (B) is colour" "grey among colour" \
  "$CLGAN" train --model pix2pix32 --data "$T/rgb" --batch 4 --iters 1 --out "$T/none"
check "no output folder made (pairs)" test ! -e "$T/none"

# translate: one file and a folder, any size (tiles of 32 overlapping by 8; smaller: mirrored)
check "translate a folder" "$CLGAN" translate --checkpoint "$T/e/latest.safetensors" --in "$T/in" --out "$T/tr"
check "translate one file" "$CLGAN" translate --checkpoint "$T/e/latest.safetensors" --in "$T/in/big.png" --out "$T/tr1"
check "translated sizes" python3 -c "
import struct, sys
for f, w, h in (('$T/tr/small.png', 20, 13), ('$T/tr/big.png', 70, 45), ('$T/tr1/big.png', 70, 45)):
    d = open(f, 'rb').read(24)
    sys.exit(struct.unpack('>II', d[16:24]) != (w, h))"
check "a folder and a file give the same bytes" cmp -s "$T/tr/big.png" "$T/tr1/big.png"
# translate gives what the run's G gave: its held-out inputs (32x32, one tile) back through
# translate must match its held-out outputs (the 28x28 garment, the canvas's centre) within
# 1 level of 255 -- a wrong value range (inputs or outputs off by a factor or an offset)
# moves them by tens of levels
check "translate the held-out inputs" "$CLGAN" translate --checkpoint "$T/e/latest.safetensors" \
  --in "$T/e/heldout/input" --out "$T/rt"
check "translate reproduces the run's held-out outputs" python3 - "$(dirname "$0")" "$T/rt" \
  "$T/e/heldout/output" <<'PY'
import os, sys
sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, sys.argv[1])
from sr_png import pixels  # (w, h, channels, sums, 8-bit values)
names = sorted(os.listdir(sys.argv[3]))
assert len(names) == 16, names
worst = 0
for f in names:
    t, o = pixels(os.path.join(sys.argv[2], f)), pixels(os.path.join(sys.argv[3], f))
    assert t[:3] == (32, 32, 1) and o[:3] == (28, 28, 1), f
    worst = max(worst, max(abs(t[4][(y + 2) * 32 + x + 2] - o[4][y * 28 + x])
                           for y in range(28) for x in range(28)))
print("largest difference", worst, "levels")
sys.exit(worst > 1)
PY
# translate's bad input, named by file: grey into a colour-input model, an unreadable JPEG
expect_fail 1 "$T/in/small.png: a grey image, but the model's input is colour" \
  "translate: grey into a colour-input model" \
  "$CLGAN" translate --checkpoint "$T/c/latest.safetensors" --in "$T/in/small.png" --out "$T/none"
printf 'not a jpeg' >"$T/broken.jpg"
expect_fail 1 "broken.jpg" "translate: an unreadable JPEG, named" \
  "$CLGAN" translate --checkpoint "$T/e/latest.safetensors" --in "$T/broken.jpg" --out "$T/trb"
expect_fail 2 "is not an image-to-image checkpoint" "translate with a DCGAN checkpoint" sh -c "
  '$CLGAN' train --model dcgan28 --iters 1 --batch 4 --max-images 16 --out '$T/dc' 2>/dev/null &&
  '$CLGAN' translate --checkpoint '$T/dc/latest.safetensors' --in '$T/in' --out '$T/none'"

echo "pix2pix_cli: $fails failed"
[ $fails -eq 0 ]
