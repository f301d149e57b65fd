#!/bin/sh
# `clgan classify train|test` end to end: the shipped classifier's recorded command, cut to
# a short run (--max-images 512 --iters 6), retrains bit-identically twice; test scores a
# file; bad input fails with one clear line, a non-zero exit and no output destroyed.
# Usage: test_classify_cli.sh CLGAN SHIPPED.safetensors
set -u
CLGAN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: the retrains cd
SHIPPED=$2
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
TEST=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"

# The shipped file's recorded command (metadata "command"), without "clgan classify" and
# without --test (scoring 10000 images is not what this checks); run from two folders so
# both record the same command line, and the two files must be the same bytes.
CMD=$(python3 - "$SHIPPED" <<'PY'
import json, shlex, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))["__metadata__"]
args = shlex.split(meta["command"])[3:]  # after "clgan classify train"
out = []
i = 0
while i < len(args):
    if args[i] == "--test": i += 2; continue
    if args[i] in ("--epochs", "--out"): i += 2; continue
    out.append(args[i]); i += 1
print(" ".join(shlex.quote(a) for a in out))
PY
)
[ -n "$CMD" ] || { echo "FAIL: no recorded command in $SHIPPED"; exit 1; }
echo "recorded: $CMD"
mkdir "$T/r1" "$T/r2"
for r in r1 r2; do
  if (cd "$T/$r" && eval "\"\$CLGAN\" classify train $CMD --max-images 512 --iters 6 --out c.safetensors") \
      2>"$T/$r.log"; then :; else
    echo "FAIL: retrain ($r):"; cat "$T/$r.log"; fails=$((fails + 1))
  fi
done
check "two retrains are bit-identical" cmp "$T/r1/c.safetensors" "$T/r2/c.safetensors"
check "seed recorded" grep -q '"seed":"1"' "$T/r1/c.safetensors"

# test: text and JSON
check "classify test" "$CLGAN" classify test --classifier "$T/r1/c.safetensors" --max-images 300 >"$T/t.txt"
check "test prints accuracy" grep -q '^accuracy 0\.' "$T/t.txt"
check "test prints class names" grep -q 'Ankle boot' "$T/t.txt"
check "classify test --json" sh -c "'$CLGAN' classify test --classifier '$T/r1/c.safetensors' --max-images 300 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"per_class\"])==10 and 0<=d[\"accuracy\"]<=1'"

# errors: one line, non-zero, nothing destroyed
echo keep > "$T/keep.safetensors"
mkdir "$T/nolabels"
gzip -dc "$DATA" | head -c 78416 > "$T/nolabels/x-images-idx3-ubyte" # header + 100 images
printf '\0\0\10\3\0\0\0\144\0\0\0\34\0\0\0\34' | dd of="$T/nolabels/x-images-idx3-ubyte" conv=notrunc 2>/dev/null
expect_fail 2 "has no labels" "data without labels" \
  "$CLGAN" classify train --data "$T/nolabels/x-images-idx3-ubyte" --iters 1 --out "$T/keep.safetensors"
check "output kept (no labels)" grep -q keep "$T/keep.safetensors"
cat > "$T/c3.model" <<'M'
model three
image 1 28 28
classifier
  flatten
  linear 3
M
expect_fail 2 "has 10 classes, the classifier 3" "class count mismatch" \
  "$CLGAN" classify train --model "$T/c3.model" --max-images 128 --iters 1 --out "$T/keep.safetensors"
check "output kept (classes)" grep -q keep "$T/keep.safetensors"
expect_fail 2 "unknown model 'nosuch'" "unknown model" \
  "$CLGAN" classify train --model nosuch --out "$T/keep.safetensors"
expect_fail 2 "is a GAN, not a classifier" "GAN model" \
  "$CLGAN" classify train --model dcgan28 --out "$T/keep.safetensors"
expect_fail 2 "is a classifier, not a GAN" "classifier given to train" \
  "$CLGAN" train --model fmnist-classifier --iters 1 --max-images 64 --out "$T/gan"
expect_fail 2 "--schedule takes cosine or constant" "bad schedule" \
  "$CLGAN" classify train --schedule warm --out "$T/keep.safetensors"
expect_fail 2 "unknown option" "bad flag" "$CLGAN" classify train --bogus 1
expect_fail 2 "unknown subcommand 'fit'" "bad subcommand" "$CLGAN" classify fit
expect_fail 1 "cannot write" "unwritable output folder" \
  "$CLGAN" classify train --max-images 128 --iters 1 --out "$T/no/such/dir/c.safetensors"
expect_fail 1 "is not a valid safetensors file" "classify test: not a safetensors file" \
  "$CLGAN" classify test --classifier "$T/keep.safetensors" --max-images 10
python3 -c 'import json, struct, sys
h = json.dumps({"__metadata__": {"format": "clgan-checkpoint-1"},
                "x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
h += b" " * (-len(h) % 8)
sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h + b"\0\0\0\0")' > "$T/other.safetensors"
expect_fail 1 "not a clgan classifier (format is clgan-checkpoint-1" "classify test: another safetensors file" \
  "$CLGAN" classify test --classifier "$T/other.safetensors" --max-images 10
# three classes: the same 100 images, labels 0, 1, 2, 0, ...
mkdir "$T/three"
cp "$T/nolabels/x-images-idx3-ubyte" "$T/three/"
python3 -c 'import sys; sys.stdout.buffer.write(bytes([0,0,8,1,0,0,0,100] + [i % 3 for i in range(100)]))' \
  > "$T/three/x-labels-idx1-ubyte"
check "train a 3-class classifier" sh -c "'$CLGAN' classify train --model '$T/c3.model' --data '$T/three/x-images-idx3-ubyte' --batch 10 --iters 2 --out '$T/c3.safetensors' 2>/dev/null"
expect_fail 2 "has 3 classes, the classifier 10" "train: data of another class count" \
  "$CLGAN" classify train --data "$T/three/x-images-idx3-ubyte" --batch 10 --iters 1 --out "$T/keep.safetensors"
expect_fail 2 "has 3 classes, the classifier 10" "test: data of another class count" \
  "$CLGAN" classify test --classifier "$SHIPPED" --data "$T/three/x-images-idx3-ubyte"
check "output kept (test data classes)" grep -q keep "$T/keep.safetensors"
check "classify --help lists train and test" sh -c "'$CLGAN' classify --help | grep -q 'train' "
check "clgan --help lists classify" sh -c "'$CLGAN' --help | grep -q '^  classify'"

[ "$fails" -eq 0 ] && echo "test_classify_cli: ok" || echo "test_classify_cli: $fails failed"
[ "$fails" -eq 0 ]
