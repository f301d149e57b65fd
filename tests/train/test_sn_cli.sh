#!/bin/sh
# Spectral norm (sn=1) through `clgan train`: PyTorch's tensor names in the checkpoint
# (weight_orig, weight_u, weight_v) and exact resume (u and v restored): 4, then resume to 8
# == 8 straight, byte for byte. Usage: test_sn_cli.sh CLGAN MODEL
set -u
CLGAN=$1
MODEL=$2
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
SMALL="--model $MODEL --max-images 256 --batch 16 --seed 7 --log-every 1"

check "sn run to 8, checkpoints every 4" "$CLGAN" train $SMALL --iters 8 --checkpoint-every 4 --out "$T/a"
for t in discriminator.0.weight_orig discriminator.0.weight_u discriminator.0.weight_v \
         discriminator.6.weight_v adam_m.discriminator.2.weight_orig; do
  check "tensor $t" grep -a -q "\"$t\"" "$T/a/latest.safetensors"
done
check "no plain weight for an sn layer" sh -c "! grep -a -q '\"discriminator.0.weight\"' '$T/a/latest.safetensors'"
check "resume from 4 to 8" "$CLGAN" train --resume "$T/a/checkpoints/ckpt_00000004.safetensors" \
  --max-images 256 --log-every 1 --iters 8 \
  --out "$T/b"
check "sn: resumed checkpoint == uninterrupted checkpoint" \
  cmp "$T/a/latest.safetensors" "$T/b/latest.safetensors"

echo "sn_cli: $fails failed"
[ $fails -eq 0 ]
