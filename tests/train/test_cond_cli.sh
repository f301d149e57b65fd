#!/bin/sh
# Conditional models through `clgan train` and `clgan generate`: labelled data is required
# (refused before any output is touched), PNG class folders, the model's default loss,
# class names in checkpoints, exact resume, labelled samples, and --class.
# Usage: test_cond_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
fingerprint() { (cd "$1" && find . -type f -exec cksum {} + | sort) }
SMALL="--max-images 256 --batch 16 --sample-every 2 --log-every 1"

# an unconditional run, whose generator makes PNG files for the folder tests
check "dcgan28 2 iterations" "$CLGAN" train --model dcgan28 $SMALL --iters 2 --out "$T/u"
check "flat PNG folder" "$CLGAN" generate --checkpoint "$T/u/latest.safetensors" --count 20 --out "$T/flat"

# cdcgan28 on unlabelled data: refused (exit 2) before any output, an earlier run untouched
expect_fail 2 "model 'cdcgan28' is conditional (10 classes) but the data '$T/flat' has no labels" \
  "cdcgan28 on a flat PNG folder" "$CLGAN" train --model cdcgan28 --data "$T/flat" --batch 4 --iters 1 --out "$T/none"
check "no output folder made" test ! -e "$T/none"
fp=$(fingerprint "$T/u")
expect_fail 2 "has no labels" "cdcgan28 on unlabelled data into an earlier run's folder" \
  "$CLGAN" train --model cdcgan28 --data "$T/flat" --batch 4 --iters 1 --out "$T/u"
check "the earlier run is untouched" test "$(fingerprint "$T/u")" = "$fp"

# PNG class folders: 11 classes are too many for cdcgan28; 10 train
for k in 00 01 02 03 04 05 06 07 08 09 10; do
  mkdir -p "$T/cls/class$k" &&
    cp "$T/flat/img_00000.png" "$T/cls/class$k/a.png"
  cp "$T/flat/img_00001.png" "$T/cls/class$k/b.png"
done
expect_fail 2 "has 11 classes but model 'cdcgan28' has only 10" "too many classes" \
  "$CLGAN" train --model cdcgan28 --data "$T/cls" --batch 4 --iters 1 --out "$T/none"
check "no output folder made (classes)" test ! -e "$T/none"
rm -r "$T/cls/class10"
mkdir "$T/cls/empty"
expect_fail 1 "class folder '$T/cls/empty' has no .png files" "an empty class folder" \
  "$CLGAN" train --model cdcgan28 --data "$T/cls" --batch 4 --iters 1 --out "$T/none"
rmdir "$T/cls/empty"
check "cdcgan28 on class folders" "$CLGAN" train --model cdcgan28 --data "$T/cls" --batch 4 --iters 2 --out "$T/f"
check "class folder names in the checkpoint" grep -aq "class00.nclass01" "$T/f/latest.safetensors"

# cdcgan28 on Fashion-MNIST end to end: labelled samples, class names, exact resume
check "cdcgan28 4 iterations" "$CLGAN" train --model cdcgan28 $SMALL --iters 4 --out "$T/c"
for f in real.png samples.png plot.png metrics.csv latest.safetensors samples/iter_00000002.png; do
  check "output $f exists" test -s "$T/c/$f"
done
check "checkpoint has class_names" grep -aq '"class_names":"T-shirt/top.nTrouser' "$T/c/latest.safetensors"
check "resume to 6" "$CLGAN" train --resume "$T/c/latest.safetensors" --max-images 256 \
  --sample-every 2 --log-every 1 --iters 6 --out "$T/c"
check "fresh 6" "$CLGAN" train --model cdcgan28 $SMALL --iters 6 --out "$T/c6"
check "resumed conditional checkpoint == uninterrupted" \
  cmp "$T/c/checkpoints/ckpt_00000006.safetensors" "$T/c6/checkpoints/ckpt_00000006.safetensors"
check "resumed samples == uninterrupted" cmp "$T/c/samples.png" "$T/c6/samples.png"

# the projection discriminator's model file asks for the hinge loss
check "cdcgan28-proj 1 iteration" sh -c "'$CLGAN' train --model cdcgan28-proj $SMALL --iters 1 --out '$T/p' 2>'$T/p.err'"
check "cdcgan28-proj trains with hinge by default" grep -q "g-loss hinge" "$T/p.err"

# generate from a conditional checkpoint
C="$T/c/latest.safetensors"
check "generate a grid per class" "$CLGAN" generate --checkpoint "$C" --grid --out "$T/g"
check "grid.png" test -s "$T/g/grid.png"
check "generate --class by name" "$CLGAN" generate --checkpoint "$C" --grid --class "Ankle boot" --count 4 --out "$T/g1"
check "generate --class by number, singles" "$CLGAN" generate --checkpoint "$C" --class 3 --count 2 --out "$T/g2"
check "2 single images" test -s "$T/g2/img_00001.png" -a ! -e "$T/g2/img_00002.png"
check "generate --interpolate per class" "$CLGAN" generate --checkpoint "$C" --interpolate --steps 3 --out "$T/g3"
check "interpolate.png" test -s "$T/g3/interpolate.png"
expect_fail 2 "--class 'Boot' is not one of the model's 10 classes: 0 'T-shirt/top'" "unknown class name" \
  "$CLGAN" generate --checkpoint "$C" --class Boot --out "$T/gx"
expect_fail 2 "--class '10' is not one of the model's 10 classes" "class out of range" \
  "$CLGAN" generate --checkpoint "$C" --class 10 --out "$T/gx"
expect_fail 2 "--class '-1' is not one of" "negative class" "$CLGAN" generate --checkpoint "$C" --class -1 --out "$T/gx"
expect_fail 2 "holds an unconditional model ('dcgan28', no classes); drop --class" "--class on dcgan28" \
  "$CLGAN" generate --checkpoint "$T/u/latest.safetensors" --class 1 --out "$T/gx"
check "no output from the bad --class" test ! -e "$T/gx"

echo "cond_cli: $fails failed"
[ $fails -eq 0 ]
