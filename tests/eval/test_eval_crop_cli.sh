#!/bin/sh
# `clgan eval` of a progressive checkpoint trained on padded data (train --pad P writes
# metadata "progressive" with a line "pad P"): a 32x32 generator's images are centre-cropped
# back to the 28x28 classifier's shape (evaluated), the same checkpoint without the line is
# refused, pad 3 is refused naming the cropped 26x26 size, and a padding larger than the
# image is refused. The metadata is set here with python (the data's hash does not cover
# the header); the crop's values are checked by eval_crop.
# Usage: test_eval_crop_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
ONE_ERROR_LINE=1
. "$(dirname "$0")/../cli_lib.sh"
CLS=$("$CLGAN" eval --print-classifier 2>/dev/null)
if [ ! -f "$CLS" ]; then
  echo "SKIP: the shipped classifier '$CLS' is missing"
  exit 77
fi
cat >"$T/m32.model" <<'M'
model tiny32
latent 8
image auto 32 32
generator
  linear 512
  reshape 8 8 8
  relu
  convt 8 k=4 s=2 p=1
  relu
  convt C k=4 s=2 p=1
  tanh
discriminator
  conv 8 k=4 s=2 p=1
  leakyrelu 0.2
  flatten
  linear 1
M
check "tiny32 2 iterations" "$CLGAN" train --model "$T/m32.model" --iters 2 --batch 8 --max-images 64 --out "$T/o"
patch() { # patch SRC DST VALUE: metadata "progressive" = VALUE
  /usr/bin/python3 - "$1" "$2" "$3" <<'P'
import json, struct, sys
f = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', f[:8])[0]
h = json.loads(f[8:8 + n])
h['__metadata__']['progressive'] = sys.argv[3].replace('\\n', '\n')
hb = json.dumps(h, separators=(',', ':')).encode()
hb += b' ' * ((8 - len(hb) % 8) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(hb)) + hb + f[8 + n:])
P
}
CK="$T/o/latest.safetensors"
check "metadata pad 2" patch "$CK" "$T/p2.safetensors" 'stage 3\npad 2\n'
check "metadata pad 3" patch "$CK" "$T/p3.safetensors" 'pad 3\n'
check "metadata pad 20" patch "$CK" "$T/p20.safetensors" 'pad 20\n'
EV="--count 64 --kid-subsets 2 --kid-subset-size 32"
check "pad 2: cropped to 28x28 and evaluated" sh -c "'$CLGAN' eval --checkpoint '$T/p2.safetensors' $EV >'$T/p2.txt'"
check "pad 2: the metrics" grep -q "^FD " "$T/p2.txt"
expect_fail 1 "makes 32x32 grey images but the classifier" "no padding: 32x32 refused" \
  "$CLGAN" eval --checkpoint "$CK" $EV
expect_fail 1 "makes 26x26 grey images (centre-cropped by its training padding)" "pad 3: 26x26" \
  "$CLGAN" eval --checkpoint "$T/p3.safetensors" $EV
expect_fail 1 "its padding 20 leaves nothing of its 32x32 images" "pad 20" \
  "$CLGAN" eval --checkpoint "$T/p20.safetensors" $EV
[ "$fails" -eq 0 ] && echo "eval_crop_cli: all passed"
[ "$fails" -eq 0 ]
