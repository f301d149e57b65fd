#!/bin/sh
# Text-to-image training options through `clgan train --task captions` (t2i28 at batch 8 on
# 64 images): --resume continues a run exactly (20 iterations straight == 7 + resume to 20,
# byte for byte) and refuses conflicting flags without touching the checkpoint, also from a
# checkpoint without run settings (older than text resume); --g-loss and a
# model file's 'loss' line reach the text trainer, ragan and wgan-gp refused.
# Usage: test_t2i_train_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
# exact resume: 20 iterations straight == 7, then --resume to 20 (64 images at batch 8: 8
# iterations an epoch, so the resume is mid-epoch and the run crosses two epochs)
R="--max-images 64 --batch 8 --log-every 1 --sample-every 5 --measure-count 0"
check "20 iterations straight" "$CLGAN" train --task captions $R --iters 20 --out "$T/r20"
check "7 iterations" "$CLGAN" train --task captions $R --iters 7 --out "$T/r7"
check "--resume to 20" "$CLGAN" train --resume "$T/r7/latest.safetensors" --iters 20 \
  --log-every 1 --sample-every 5 --measure-count 0 --out "$T/r7"
check "resumed: the same checkpoint, byte for byte" cmp "$T/r20/latest.safetensors" "$T/r7/latest.safetensors"
check "resumed: the same grid" cmp "$T/r20/samples.png" "$T/r7/samples.png"
check "resumed: metrics.csv has 20 rows, losses as the straight run's" sh -c \
  "[ \$(wc -l < '$T/r7/metrics.csv') -eq 21 ] && [ \"\$(cut -d, -f1-7 '$T/r7/metrics.csv')\" = \"\$(cut -d, -f1-7 '$T/r20/metrics.csv')\" ]"
check "the checkpoint holds the run's settings" grep -aq 'task captions.ndata .ncaptions .nmax_images 64' "$T/r7/latest.safetensors"
cp "$T/r7/latest.safetensors" "$T/r7.keep"
expect_fail 2 "--batch 16 conflicts with the checkpoint's batch 8" "--resume with another batch" \
  "$CLGAN" train --resume "$T/r7/latest.safetensors" --batch 16 --iters 30 --out "$T/r7"
expect_fail 2 "--max-images 128 conflicts with the checkpoint's max-images 64" "--resume with other data" \
  "$CLGAN" train --resume "$T/r7/latest.safetensors" --max-images 128 --iters 30 --out "$T/r7"
expect_fail 2 "--iters 10 is the total" "--resume with --iters below its step" \
  "$CLGAN" train --resume "$T/r7/latest.safetensors" --iters 10 --out "$T/r7"
expect_fail 2 "--g-loss lsgan conflicts with the checkpoint's g-loss ns" "--resume with another loss" \
  "$CLGAN" train --resume "$T/r7/latest.safetensors" --g-loss lsgan --iters 30 --out "$T/r7"
check "refused resumes: the checkpoint untouched" cmp "$T/r7/latest.safetensors" "$T/r7.keep"

# a checkpoint written before text runs resumed (no `run` in its metadata): resumed with the
# flags, which must give the run's data (its source and vocabulary are checked)
check "7 iterations, again" "$CLGAN" train --task captions $R --iters 7 --out "$T/old"
check "its 'run' metadata removed" python3 - "$T/old/latest.safetensors" <<'PY'
import json, struct, sys
p = sys.argv[1]
b = open(p, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
del h["__metadata__"]["run"]
j = json.dumps(h, separators=(",", ":")).encode()
j += b" " * (-len(j) % 8)
open(p, "wb").write(struct.pack("<Q", len(j)) + j + b[8 + n:])
PY
check "no run settings left" sh -c "! grep -aq 'task captions' '$T/old/latest.safetensors'"
cp "$T/old/latest.safetensors" "$T/old.keep"
expect_fail 1 "give the run's --data and --max-images" "--resume without run settings and other data" \
  "$CLGAN" train --resume "$T/old/latest.safetensors" --max-images 128 --iters 20 --out "$T/old"
check "the refused resume left the checkpoint" cmp "$T/old/latest.safetensors" "$T/old.keep"
check "--resume without run settings, with the run's flags" "$CLGAN" train --resume \
  "$T/old/latest.safetensors" --max-images 64 --iters 20 --log-every 1 --sample-every 5 \
  --measure-count 0 --out "$T/old"
check "resumed: the same checkpoint as 20 straight" cmp "$T/r20/latest.safetensors" "$T/old/latest.safetensors"

# --g-loss and a model file's loss line reach the text trainer; ragan and wgan-gp refused
check "--g-loss lsgan" "$CLGAN" train --task captions $R --iters 2 --g-loss lsgan --out "$T/ls"
check "its checkpoint says lsgan" grep -aq '"g_loss":"lsgan"' "$T/ls/latest.safetensors"
check "--g-loss hinge" "$CLGAN" train --task captions $R --iters 2 --g-loss hinge --out "$T/hi"
check "ns (default)" "$CLGAN" train --task captions $R --iters 2 --out "$T/ns"
check "the default is ns" grep -aq '"g_loss":"ns"' "$T/ns/latest.safetensors"
check "lsgan trains otherwise than ns" sh -c "! cmp -s '$T/ls/latest.safetensors' '$T/ns/latest.safetensors'"
check "hinge trains otherwise than lsgan" sh -c "! cmp -s '$T/ls/latest.safetensors' '$T/hi/latest.safetensors'"
sed 's/^model t2i28/model t2i28ls\nloss lsgan/' "$(dirname "$0")/../../samples/t2i28.model" > "$T/t2i28ls.model"
check "a model file's 'loss lsgan'" "$CLGAN" train --task captions --model "$T/t2i28ls.model" $R --iters 2 --out "$T/ml"
check "its checkpoint says lsgan" grep -aq '"g_loss":"lsgan"' "$T/ml/latest.safetensors"
check "--g-loss wins over the model's line" "$CLGAN" train --task captions --model "$T/t2i28ls.model" $R --iters 2 --g-loss ns --out "$T/mn"
check "its checkpoint says ns" grep -aq '"g_loss":"ns"' "$T/mn/latest.safetensors"
expect_fail 2 "--g-loss must be ns, minimax, lsgan or hinge for text-to-image" "--g-loss ragan" \
  "$CLGAN" train --task captions $R --iters 2 --g-loss ragan --out "$T/none"
expect_fail 2 "--g-loss must be ns, minimax, lsgan or hinge for text-to-image" "--g-loss wgan-gp" \
  "$CLGAN" train --task captions $R --iters 2 --g-loss wgan-gp --out "$T/none"

[ "$fails" -eq 0 ] && echo "t2i_train_cli: all checks passed"
exit $((fails > 0))
