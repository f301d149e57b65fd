#!/bin/sh
# Text-to-image through `clgan train --task captions` and `clgan generate --text` /
# `--interpolate A B`: outputs (caption rows, vocabulary in the checkpoint, measures), two
# runs bitwise equal, the caption refusals (unknown words named, empty, over-long) before any
# output is touched, and a text checkpoint's G reproducing the run's own grid.
# Usage: test_t2i_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
fingerprint() { (cd "$1" && find . -type f -exec cksum {} + | sort) }
SMALL="--max-images 256 --batch 8 --iters 3 --log-every 1 --sample-every 3 --measure-count 4"

check "the help gives --iters' default, 4500" sh -c "'$CLGAN' train --task captions --help | grep -q 'default 4500'"
check "t2i28 3 iterations" "$CLGAN" train --task captions $SMALL --out "$T/a"
for f in samples.png metrics.csv latest.safetensors captions.txt measures.txt; do
  check "output $f exists" test -s "$T/a/$f"
done
check "metrics.csv has 3 rows and the KL" sh -c "[ \$(wc -l < '$T/a/metrics.csv') -eq 4 ] && head -1 '$T/a/metrics.csv' | grep -q ',kl,'"
check "the checkpoint holds the vocabulary" grep -aq '"vocab":"a an and ankle' "$T/a/latest.safetensors"
check "captions.txt has captions" grep -Eq '^[0-9]+ (a |an )?.*(t-shirt|trousers|pullover|dress|coat|sandal|shirt|sneaker|bag|ankle boot)' "$T/a/captions.txt"
check "measures.txt has the class accuracy" grep -q '^class_accuracy ' "$T/a/measures.txt"
check "a second run" "$CLGAN" train --model t2i28 --task captions $SMALL --out "$T/b"
check "two runs: the same checkpoint" cmp "$T/a/latest.safetensors" "$T/b/latest.safetensors"
check "two runs: the same grid" cmp "$T/a/samples.png" "$T/b/samples.png"

# a non-text model with --task captions, and a text model with another task: refused early
expect_fail 2 "needs a model taking 'text'" "dcgan28 with --task captions" \
  "$CLGAN" train --model dcgan28 --task captions --iters 1 --out "$T/none"
expect_fail 2 "trains with --task captions" "t2i28 with --task edges2fashion" \
  "$CLGAN" train --model t2i28 --task edges2fashion --iters 1 --out "$T/none"
check "no output folder made" test ! -e "$T/none"

C="$T/a/latest.safetensors"
check "generate --text" "$CLGAN" generate --checkpoint "$C" --text "a dark ankle boot" --count 16 --images --out "$T/g"
check "16 images and a grid" sh -c "[ \$(ls '$T/g'/img_*.png | wc -l) -eq 16 ] && test -s '$T/g/grid.png'"
check "generate --text again: the same grid" "$CLGAN" generate --checkpoint "$C" --text "A dark ankle boot." --count 16 --out "$T/g2"
check "case and punctuation do not matter" cmp "$T/g/grid.png" "$T/g2/grid.png"
check "--interpolate" "$CLGAN" generate --checkpoint "$C" --interpolate "a dark coat" "a light sandal" --steps 5 --out "$T/i"
check "interpolate.png" test -s "$T/i/interpolate.png"

# caption refusals: exit 2, one message naming every unknown word, nothing written
fp=$(fingerprint "$T/g")
expect_fail 2 "unknown words 'purple', 'laces'" "unknown words" \
  "$CLGAN" generate --checkpoint "$C" --text "a purple ankle boot with laces" --out "$T/g"
check "an earlier output is untouched" test "$(fingerprint "$T/g")" = "$fp"
expect_fail 2 "unknown word 'boots'" "one unknown word, in --interpolate's second caption" \
  "$CLGAN" generate --checkpoint "$C" --interpolate "a dark coat" "light boots" --out "$T/none"
expect_fail 2 "empty caption" "a caption of punctuation only" \
  "$CLGAN" generate --checkpoint "$C" --text " .,! " --out "$T/none"
expect_fail 2 "has 17 words: at most 16" "an over-long caption" \
  "$CLGAN" generate --checkpoint "$C" --text "a a a a a a a a a a a a a a a a a" --out "$T/none"
expect_fail 2 "--interpolate takes two captions" "--interpolate with one caption" \
  "$CLGAN" generate --checkpoint "$C" --interpolate "a dark coat"
expect_fail 2 "give one of --text" "--text and --interpolate together" \
  "$CLGAN" generate --checkpoint "$C" --text "a coat" --interpolate "a dark coat" "a light coat"
check "no output folder made by refusals" test ! -e "$T/none"
# user captions for a PNG folder: a CSV of file,caption (quotes, a comma in a caption), or a
# NAME.txt beside each NAME.png; the vocabulary is theirs
mkdir -p "$T/u8" && cp "$T/g"/img_0000[0-7].png "$T/u8/"
for i in 0 1 2 3; do echo "img_0000$i.png,\"a grey winter coat\""; done > "$T/caps.csv"
for i in 4 5 6 7; do echo "img_0000$i.png, a round bag, small"; done >> "$T/caps.csv"
check "train on a PNG folder with a captions CSV" "$CLGAN" train --task captions --data "$T/u8" \
  --captions "$T/caps.csv" --batch 4 --iters 2 --out "$T/uc"
check "the user vocabulary is in the checkpoint" grep -aq '"vocab":"a bag coat grey round small winter"' "$T/uc/latest.safetensors"
check "generate with the user words" "$CLGAN" generate --checkpoint "$T/uc/latest.safetensors" --text "a round winter coat" --count 4 --out "$T/ug"
expect_fail 2 "unknown word 'dark'" "a grammar word unknown to the user vocabulary" \
  "$CLGAN" generate --checkpoint "$T/uc/latest.safetensors" --text "a dark coat" --out "$T/none"
expect_fail 1 "cannot open '$T/u8/img_00000.txt'" "a PNG folder without captions" \
  "$CLGAN" train --task captions --data "$T/u8" --batch 4 --iters 1 --out "$T/none"
echo "nothing.png,a coat" >> "$T/caps.csv"
expect_fail 1 "'nothing.png' is no .png of" "a CSV line naming no image" \
  "$CLGAN" train --task captions --data "$T/u8" --captions "$T/caps.csv" --batch 4 --iters 1 --out "$T/none"
for i in 0 1 2 3 4 5 6 7; do echo "a coat number" > "$T/u8/img_0000$i.txt"; done
check "train on NAME.txt captions" "$CLGAN" train --task captions --data "$T/u8" --batch 4 --iters 1 --out "$T/ut"
check "their vocabulary" grep -aq '"vocab":"a coat number"' "$T/ut/latest.safetensors"
check "no output folder made by refusals (user captions)" test ! -e "$T/none"

# a checkpoint without text
check "dcgan28 1 iteration" "$CLGAN" train --model dcgan28 --max-images 64 --batch 8 --iters 1 --out "$T/u"
expect_fail 2 "takes no text" "--text on dcgan28's checkpoint" \
  "$CLGAN" generate --checkpoint "$T/u/latest.safetensors" --text "a coat" --out "$T/none"
expect_fail 2 "a text-to-image generator needs captions" "generate without --text from a text checkpoint" \
  "$CLGAN" generate --checkpoint "$C" --count 4 --out "$T/none"

[ "$fails" -eq 0 ] && echo "t2i_cli: all checks passed"
exit $((fails > 0))
