#!/bin/sh
# `clgan eval` end to end: usage errors, a missing classifier (named, default or given),
# data and a checkpoint of another image shape than the classifier's (refused, not
# resampled), then real runs with --json: a dcgan28 checkpoint, a conditional cdcgan28 one
# (per-class accuracy) and two real image sets. The numbers themselves are proved by
# eval_metrics (host) and eval_images (device).
# Usage: test_eval_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
TEST=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
ONE_ERROR_LINE=1 # an error is one line here
. "$(dirname "$0")/../cli_lib.sh"
json() { # json FILE PYTHON-EXPRESSION-ON-j: true or fail
  /usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

check "eval --help" sh -c "'$CLGAN' eval --help >/dev/null"
expect_fail 2 "pass either --checkpoint CKPT or --data A" "neither set" "$CLGAN" eval
expect_fail 2 "pass either --checkpoint CKPT or --data A" "both sets" "$CLGAN" eval --checkpoint x --data y
expect_fail 2 "--data2 goes with --data" "--data2 alone" "$CLGAN" eval --checkpoint x --data2 y
expect_fail 1 "classifier '$T/nope.safetensors': No such file or directory" "a missing --classifier" \
  "$CLGAN" eval --data "$TEST" --classifier "$T/nope.safetensors"
CLGAN_CLASSIFIER="$T/gone.safetensors" expect_fail 1 "no classifier file at '$T/gone.safetensors'" \
  "a missing default classifier" "$CLGAN" eval --data "$TEST"

# everything below needs the shipped classifier
CLS=$("$CLGAN" eval --print-classifier 2>/dev/null)
if [ ! -f "$CLS" ]; then
  echo "SKIP: the shipped classifier '$CLS' is missing"
  [ "$fails" -eq 0 ] && exit 77 || exit 1
fi

SMALL="--max-images 256 --batch 16 --sample-every 2 --log-every 1"
check "dcgan28 2 iterations" "$CLGAN" train --model dcgan28 $SMALL --iters 2 --out "$T/u"
check "cdcgan28 2 iterations" "$CLGAN" train $SMALL --model cdcgan28 --iters 2 --out "$T/c"
check "dcgan64 1 iteration" "$CLGAN" train --model dcgan64 --max-images 8 --batch 4 --iters 1 --out "$T/big"
check "64x64 PNG files" "$CLGAN" generate --checkpoint "$T/big/latest.safetensors" --count 8 --out "$T/png64"

expect_fail 1 "checkpoint '$T/big/latest.safetensors' (model 'dcgan64') makes 64x64 grey images but the classifier '$CLS' takes 28x28 grey ones" \
  "a checkpoint of another shape" "$CLGAN" eval --checkpoint "$T/big/latest.safetensors" --count 8
expect_fail 1 "--data '$T/png64' holds 64x64 grey images but the classifier '$CLS' takes 28x28 grey ones" \
  "--data of another shape" "$CLGAN" eval --data "$T/png64" --count 8
expect_fail 1 "--data2 '$T/png64' holds 64x64 grey images" \
  "--data2 of another shape" "$CLGAN" eval --data "$TEST" --data2 "$T/png64" --count 8
expect_fail 1 "--real '$T/png64' holds 64x64 grey images" \
  "--real of another shape" "$CLGAN" eval --checkpoint "$T/u/latest.safetensors" --real "$T/png64" --count 8

# a checkpoint: every number in the JSON
check "eval dcgan28 --json" sh -c "'$CLGAN' eval --checkpoint '$T/u/latest.safetensors' --count 300 --kid-subsets 5 --kid-subset-size 100 --json >'$T/u.json'"
check "json: fd, kid, precision, recall" json "$T/u.json" \
  "j['fd'] > 0 and j['kid']['subsets'] == 5 and j['kid']['subset_size'] == 100 and 0 <= j['precision'] <= 1 and 0 <= j['recall'] <= 1 and j['k'] == 3"
check "json: histograms of both sets" json "$T/u.json" \
  "sum(j['sets']['generated']['histogram']['counts']) == 300 and j['sets']['generated']['count'] == 300 and j['sets']['real']['count'] == 300 and j['sets']['real']['histogram']['covered'] == 10 and len(j['class_names']) == 10"
check "json: real accuracy, none for unconditional samples" json "$T/u.json" \
  "j['sets']['real']['accuracy'] > 0.5 and 'accuracy' not in j['sets']['generated']"
# a conditional checkpoint: accuracy per class of the samples next to the real test images'
check "eval cdcgan28" sh -c "'$CLGAN' eval --checkpoint '$T/c/latest.safetensors' --count 100 --kid-subsets 2 >'$T/c.txt'"
check "text: the metrics" grep -q "^FD " "$T/c.txt"
check "text: accuracy columns" grep -q "accuracy: generated  *real" "$T/c.txt"
check "eval cdcgan28 --json" sh -c "'$CLGAN' eval --checkpoint '$T/c/latest.safetensors' --count 100 --kid-subsets 2 --json >'$T/c.json'"
check "json: per-class accuracy of samples and real images" json "$T/c.json" \
  "len(j['sets']['generated']['accuracy_per_class']) == 10 and len(j['sets']['real']['accuracy_per_class']) == 10 and sum(j['sets']['generated']['histogram']['counts']) == 100"
# two real sets: train vs test
check "eval --data --data2" sh -c "'$CLGAN' eval --data '$DATA' --data2 '$TEST' --count 500 --kid-subsets 5 --json >'$T/d.json'"
check "json: train vs test, labelled both" json "$T/d.json" \
  "j['sets']['A']['count'] == 500 and j['sets']['B']['count'] == 500 and j['precision'] > 0.5 and j['recall'] > 0.5 and 'accuracy' in j['sets']['A'] and 'accuracy' in j['sets']['B']"

# a run with --ema: eval scores the EMA of G's weights (what generate draws) unless --no-ema
check "dcgan28 4 iterations with --ema" "$CLGAN" train --model dcgan28 $SMALL --iters 4 --ema 0.5 --ema-start 0 --out "$T/m"
check "eval of an EMA run" sh -c "'$CLGAN' eval --checkpoint '$T/m/latest.safetensors' --count 100 --kid-subsets 2 --json >'$T/m.json'"
check "eval --no-ema" sh -c "'$CLGAN' eval --checkpoint '$T/m/latest.safetensors' --count 100 --kid-subsets 2 --no-ema --json >'$T/m0.json'"
check "json: the EMA weights scored by default" json "$T/m.json" "j['sets']['generated']['weights'] == 'generator_ema'"
check "json: G's own with --no-ema" json "$T/m0.json" "j['sets']['generated']['weights'] == 'generator'"
check "json: G's own without EMA" json "$T/u.json" "j['sets']['generated']['weights'] == 'generator'"
check "the two FDs differ" /usr/bin/python3 -c "import json,sys; a,b=(json.load(open(f))['fd'] for f in sys.argv[1:]); sys.exit(0 if a != b else 1)" "$T/m.json" "$T/m0.json"
check "text: names the weights" sh -c "'$CLGAN' eval --checkpoint '$T/m/latest.safetensors' --count 100 --kid-subsets 2 | grep -q \"(the EMA of G's weights; --no-ema: G's own)\""
expect_fail 2 "--no-ema goes with --checkpoint" "--no-ema with --data" "$CLGAN" eval --data "$TEST" --no-ema

# train --eval-every: an fd column in metrics.csv at the evaluated iterations, a 5-panel
# plot; refused before training (nothing written) for a missing classifier or a model of
# another shape
check "train --eval-every 2" "$CLGAN" train --model dcgan28 $SMALL --iters 4 --eval-every 2 --eval-count 64 --out "$T/e"
check "metrics.csv: fd column" sh -c "head -1 '$T/e/metrics.csv' | grep -q ',img_per_s,fd\$'"
check "metrics.csv: fd at 2 and 4" sh -c "grep -Eq '^2,.*,[0-9.]+\$' '$T/e/metrics.csv' && grep -Eq '^4,.*,[0-9.]+\$' '$T/e/metrics.csv'"
check "metrics.csv: no fd at 1" sh -c "grep -q '^1,.*,\$' '$T/e/metrics.csv'"
check "plot.png has the FD panel" /usr/bin/python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); sys.exit(0 if struct.unpack('>II', d[16:24]) == (960, 5*300+56) else 1)" "$T/e/plot.png"
expect_fail 1 "no classifier file at '$T/gone.safetensors'" "train --eval-every without a classifier" \
  env CLGAN_CLASSIFIER="$T/gone.safetensors" "$CLGAN" train --model dcgan28 $SMALL --iters 2 --eval-every 1 --out "$T/e2"
check "nothing written" test ! -e "$T/e2"
expect_fail 2 "--eval-every: model 'dcgan64' makes 64x64 grey images but the classifier '$CLS' takes 28x28 grey ones" \
  "train --eval-every of another shape" "$CLGAN" train --model dcgan64 --max-images 8 --batch 4 --iters 1 --eval-every 1 --out "$T/e3"
check "no metrics written" test ! -e "$T/e3/metrics.csv"
expect_fail 2 "--eval-classifier and --eval-real go with --eval-every N" "--eval-real alone" \
  "$CLGAN" train --model dcgan28 --eval-real "$TEST" --out "$T/e4"

[ "$fails" -eq 0 ] && echo "eval_cli: ok" || echo "eval_cli: $fails failure(s)"
[ "$fails" -eq 0 ]
