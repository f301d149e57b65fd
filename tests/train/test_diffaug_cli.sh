#!/bin/sh
# Issue 12: `clgan train --diffaug` (DiffAugment of D's inputs) on a slice of Fashion-MNIST:
# off by default and `--diffaug none` the same bytes as no flag; on, the run changes, stores
# its policy, G still gets a gradient through the augmentation, and a resumed run equals an
# uninterrupted one byte for byte; the equal-flags rule on resume; usage errors.
# Usage: test_diffaug_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
meta() { # meta FILE KEY: a metadata value from the safetensors header
  grep -a -o "\"$2\":\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*:"\(.*\)"/\1/'
}
SMALL="--max-images 256 --batch 16 --sample-every 2 --log-every 1"
AUG="--diffaug color,translation,cutout"

check "plain run" "$CLGAN" train --model dcgan28 $SMALL --iters 3 --out "$T/p"
check "no diffaug metadata without --diffaug" sh -c "! grep -a -q diffaug '$T/p/latest.safetensors'"
check "--diffaug none" "$CLGAN" train --model dcgan28 $SMALL --diffaug none --iters 3 --out "$T/n"
check "--diffaug none == no flag" cmp "$T/p/latest.safetensors" "$T/n/latest.safetensors"

check "DiffAugment run to 4" "$CLGAN" train --model dcgan28 $SMALL $AUG --iters 4 --out "$T/a"
check "policy stored ($(meta "$T/a/latest.safetensors" diffaug))" \
  test "$(meta "$T/a/latest.safetensors" diffaug)" = color,translation,cutout
check "DiffAugment run to 3" "$CLGAN" train --model dcgan28 $SMALL $AUG --iters 3 --out "$T/a3"
differ() { test -s "$1" && test -s "$2" && ! cmp -s "$1" "$2"; } # two files, not equal
check "DiffAugment changes the run" differ "$T/p/latest.safetensors" "$T/a3/latest.safetensors"
# G learns through the augmentation: a backward that dropped the gradient leaves G's zero
gnorm_ok() { # every logged grad_norm_g of a metrics.csv is a positive number
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "grad_norm_g") c = i; next }
           { n++; if (!(c && $c + 0 > 0)) bad++ } END { exit !(n > 0 && !bad) }' "$1"
}
check "G's gradient through DiffAugment is nonzero" gnorm_ok "$T/a/metrics.csv"
check "resume to 6 (no flags)" "$CLGAN" train --resume "$T/a/latest.safetensors" \
  --max-images 256 --sample-every 2 --log-every 1 --iters 6 --out "$T/a"
check "fresh 6" "$CLGAN" train --model dcgan28 $SMALL $AUG --iters 6 --out "$T/b"
check "resumed checkpoint == uninterrupted checkpoint" \
  cmp "$T/a/checkpoints/ckpt_00000006.safetensors" "$T/b/checkpoints/ckpt_00000006.safetensors"
check "resumed grid == uninterrupted grid" \
  cmp "$T/a/samples/iter_00000006.png" "$T/b/samples/iter_00000006.png"
check "metrics rows 5-6 equal" sh -c "tail -n 2 '$T/a/metrics.csv' | cut -d, -f1-10 > '$T/ma'; \
  tail -n 2 '$T/b/metrics.csv' | cut -d, -f1-10 > '$T/mb'; cmp '$T/ma' '$T/mb'"
check "resume with the equal flag (another order)" "$CLGAN" train --resume \
  "$T/b/latest.safetensors" --max-images 256 --diffaug cutout,translation,color --iters 7 --out "$T/b"
# one op alone is another run
check "translation only" "$CLGAN" train --model dcgan28 $SMALL --diffaug translation --iters 3 --out "$T/t"
check "translation-only stored" test "$(meta "$T/t/latest.safetensors" diffaug)" = translation
check "translation only != all three" differ "$T/t/latest.safetensors" "$T/a3/latest.safetensors"

expect_fail 2 "--diffaug color conflicts with the checkpoint's DiffAugment policy color,translation,cutout" \
  "resume, other policy" "$CLGAN" train --resume "$T/b/latest.safetensors" --diffaug color --iters 9 --out "$T/b"
expect_fail 2 "--diffaug color conflicts with the checkpoint's DiffAugment policy none" \
  "resume a plain run with --diffaug" "$CLGAN" train --resume "$T/p/latest.safetensors" \
  --diffaug color --iters 4 --out "$T/p"
expect_fail 2 "--diffaug must be none or" "bad policy" "$CLGAN" train --model dcgan28 $SMALL --diffaug colour \
  --iters 1 --out "$T/x"
expect_fail 2 "--diffaug must be none or" "repeated op" "$CLGAN" train --model dcgan28 $SMALL \
  --diffaug color,color --iters 1 --out "$T/x"
check "a refused run wrote nothing" test ! -e "$T/x"
[ "$fails" -eq 0 ] && echo "diffaug_cli: all checks passed"
exit "$fails"
