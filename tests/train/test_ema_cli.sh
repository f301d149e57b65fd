#!/bin/sh
# Issue 12 end to end: `clgan train --ema/--ema-start/--lr-g/--lr-d` and `clgan generate
# --no-ema/--truncation` on a slice of Fashion-MNIST: EMA tensors only with --ema, exact
# resume with EMA on (byte-identical checkpoints and sample grids), the equal-flags rule for
# the new settings, generate's choice of weights, truncation's determinism, and usage
# errors. Usage: test_ema_cli.sh CLGAN
set -u
CLGAN=$1
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
. "$(dirname "$0")/../cli_lib.sh"
meta() { # meta FILE KEY: a metadata value from the safetensors header
  grep -a -o "\"$2\":\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*:"\(.*\)"/\1/'
}
SMALL="--max-images 256 --batch 16 --sample-every 2 --log-every 1"
EMA="--ema 0.9 --ema-start 1 --lr-g 1e-4 --lr-d 3e-4"

# without the new flags: no EMA tensors, no EMA metadata (checkpoints as before EMA)
check "plain run" "$CLGAN" train --model dcgan28 $SMALL --iters 2 --out "$T/p"
check "no generator_ema.* without --ema" sh -c "! grep -a -q generator_ema '$T/p/latest.safetensors'"
check "no ema_decay metadata without --ema" sh -c "! grep -a -q ema_decay '$T/p/latest.safetensors'"

# with EMA and TTUR: 4, then resume to 6 == 6 straight, checkpoints and grids byte for byte
check "EMA run to 4" "$CLGAN" train --model dcgan28 $SMALL $EMA --iters 4 --out "$T/a"
check "generator_ema.* with --ema" grep -a -q '"generator_ema.0.weight"' "$T/a/latest.safetensors"
check "generator_ema running stats" grep -a -q '"generator_ema.2.running_var"' "$T/a/latest.safetensors"
check "ema_decay stored ($(meta "$T/a/latest.safetensors" ema_decay))" \
  test "$(meta "$T/a/latest.safetensors" ema_decay)" = 0.899999976
check "ema_start stored" test "$(meta "$T/a/latest.safetensors" ema_start)" = 1
check "lr_g stored ($(meta "$T/a/latest.safetensors" lr_g))" \
  test "$(meta "$T/a/latest.safetensors" lr_g)" = 9.99999975e-05
check "lr_d stored ($(meta "$T/a/latest.safetensors" lr_d))" \
  test "$(meta "$T/a/latest.safetensors" lr_d)" = 0.000300000014
check "EMA resume to 6 (no flags)" "$CLGAN" train --resume "$T/a/latest.safetensors" \
  --max-images 256 --sample-every 2 --log-every 1 --iters 6 --out "$T/a"
check "EMA fresh 6" "$CLGAN" train --model dcgan28 $SMALL $EMA --iters 6 --out "$T/b"
check "EMA: resumed checkpoint == uninterrupted checkpoint" \
  cmp "$T/a/checkpoints/ckpt_00000006.safetensors" "$T/b/checkpoints/ckpt_00000006.safetensors"
check "EMA: resumed grid == uninterrupted grid" \
  cmp "$T/a/samples/iter_00000006.png" "$T/b/samples/iter_00000006.png"
check "EMA: samples.png equal" cmp "$T/a/samples.png" "$T/b/samples.png"
# the equal flags are accepted on resume, --lr-g/--lr-d each against its own rate
check "resume with the equal flags" "$CLGAN" train --resume "$T/b/latest.safetensors" \
  --max-images 256 $EMA --iters 7 --out "$T/b"
check "--lr with --lr-d: the specific one wins (resume)" "$CLGAN" train --resume \
  "$T/b/latest.safetensors" --max-images 256 --lr 1e-4 --lr-d 3e-4 --iters 8 --out "$T/b"
expect_fail 2 "--ema 0.5 conflicts with the checkpoint's EMA decay 0.9" "resume, other --ema" \
  "$CLGAN" train --resume "$T/b/latest.safetensors" --ema 0.5 --iters 9 --out "$T/b"
expect_fail 2 "--ema-start 5 conflicts with the checkpoint's EMA start 1" "resume, other --ema-start" \
  "$CLGAN" train --resume "$T/b/latest.safetensors" --ema-start 5 --iters 9 --out "$T/b"
expect_fail 2 "--lr-d 0.0001 conflicts with the checkpoint's D learning rate 0.0003" \
  "resume, other --lr-d" "$CLGAN" train --resume "$T/b/latest.safetensors" --lr-d 1e-4 --iters 9 --out "$T/b"
expect_fail 2 "learning rates 0.0001 (G) and 0.0003 (D)" "resume, --lr against TTUR rates" \
  "$CLGAN" train --resume "$T/b/latest.safetensors" --lr 2e-4 --iters 9 --out "$T/b"
expect_fail 2 "--ema 0.9 conflicts with the checkpoint's EMA decay 0 (off)" "resume a plain run with --ema" \
  "$CLGAN" train --resume "$T/p/latest.safetensors" --ema 0.9 --iters 3 --out "$T/p"

# --on-nan skip rolls the EMA back with the rest: a run with a poisoned iteration finishes
# and its EMA checkpoint generates
CLGAN_FAULT_NAN_AT=3 check "--on-nan skip with EMA finishes" "$CLGAN" train --model dcgan28 $SMALL $EMA --iters 5 \
  --on-nan skip --out "$T/s"
check "skip run reached 5" test -s "$T/s/checkpoints/ckpt_00000005.safetensors"
finite_ema() { # every generator_ema.* float of a checkpoint is finite
  python3 - "$1" <<'PY'
import json, math, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
vals = [v for k, t in h.items() if k.startswith("generator_ema.") and t["dtype"] == "F32"
        for v in struct.unpack("<%df" % ((t["data_offsets"][1] - t["data_offsets"][0]) // 4),
                               b[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]])]
sys.exit(0 if vals and all(math.isfinite(v) for v in vals) else 1)
PY
}
if command -v python3 >/dev/null; then
  check "skip run's EMA is finite" finite_ema "$T/s/latest.safetensors"
fi
check "skip run's EMA generates" "$CLGAN" generate --checkpoint "$T/s/latest.safetensors" --count 2 --out "$T/sg"

# --lr X --lr-g Y: G at Y, D at X
check "--lr with --lr-g" "$CLGAN" train --model dcgan28 $SMALL --lr 3e-4 --lr-g 1e-4 --iters 1 --out "$T/l"
check "lr_g from --lr-g" test "$(meta "$T/l/latest.safetensors" lr_g)" = 9.99999975e-05
check "lr_d from --lr" test "$(meta "$T/l/latest.safetensors" lr_d)" = 0.000300000014

# generate: the EMA weights by default, --no-ema G's own; a plain checkpoint unchanged
CK="$T/a/latest.safetensors"
check "generate (EMA)" "$CLGAN" generate --checkpoint "$CK" --grid --count 16 --out "$T/g1"
check "generate --no-ema" "$CLGAN" generate --checkpoint "$CK" --grid --count 16 --no-ema --out "$T/g2"
check "EMA and raw G give different images" sh -c "! cmp -s '$T/g1/grid.png' '$T/g2/grid.png'"
check "generate says it uses the EMA" sh -c "'$CLGAN' generate --checkpoint '$CK' --count 1 --out '$T/g5' 2>&1 | grep -q 'EMA'"
check "generate plain" "$CLGAN" generate --checkpoint "$T/p/latest.safetensors" --grid --count 16 --out "$T/g3"
check "generate plain --no-ema" "$CLGAN" generate --checkpoint "$T/p/latest.safetensors" --grid --count 16 --no-ema --out "$T/g4"
check "--no-ema changes nothing without EMA" cmp "$T/g3/grid.png" "$T/g4/grid.png"
# the final grid of a training run is the EMA's: generate with the same noise would need the
# trainer's fixed noise, so compare G's own instead: the raw G differs from the grid
check "train's samples.png shows the EMA, not G" sh -c "! cmp -s '$T/a/samples.png' '$T/g2/grid.png'"

# truncation: reproducible, different from no truncation, huge bound = no truncation
check "truncation 0.5" "$CLGAN" generate --checkpoint "$CK" --grid --count 16 --truncation 0.5 --out "$T/t1"
check "truncation 0.5 again" "$CLGAN" generate --checkpoint "$CK" --grid --count 16 --truncation 0.5 --out "$T/t2"
check "truncation is deterministic" cmp "$T/t1/grid.png" "$T/t2/grid.png"
check "truncation changes the images" sh -c "! cmp -s '$T/t1/grid.png' '$T/g1/grid.png'"
check "truncation 100" "$CLGAN" generate --checkpoint "$CK" --grid --count 16 --truncation 100 --out "$T/t3"
check "a bound no value reaches changes nothing" cmp "$T/t3/grid.png" "$T/g1/grid.png"
check "truncated walk" "$CLGAN" generate --checkpoint "$CK" --interpolate --count 2 --steps 4 --truncation 0.7 --out "$T/t4"

# bad values
expect_fail 2 "--ema must be a decay in" "--ema 1.5" "$CLGAN" train --model dcgan28 --ema 1.5
expect_fail 2 "--ema must be a decay in" "--ema -1" "$CLGAN" train --model dcgan28 --ema -1
expect_fail 2 "--ema must be a decay in" "--ema rounding to 1 as a float" "$CLGAN" train --model dcgan28 --ema 0.99999999
expect_fail 2 "--ema expects a number" "--ema abc" "$CLGAN" train --model dcgan28 --ema abc
expect_fail 2 "--ema-start needs --ema" "--ema-start alone" "$CLGAN" train --model dcgan28 --ema-start 10
expect_fail 2 "--lr-g must be between" "--lr-g 0" "$CLGAN" train --model dcgan28 --lr-g 0
expect_fail 2 "--truncation must be a bound on" "--truncation 0" \
  "$CLGAN" generate --checkpoint "$CK" --truncation 0
expect_fail 2 "--truncation must be" "--truncation -1" "$CLGAN" generate --checkpoint "$CK" --truncation -1

echo "ema_cli: $fails failed"
[ $fails -eq 0 ]
