#!/bin/sh
# Crash safety: NaN and Inf. MODE stop: a real overflow (a deep linear discriminator,
# least-squares loss, --lr 10) and an injected one (CLGAN_FAULT_NAN_AT=k fills D's
# parameters with NaN before iteration k) stop the run with exit 1 and a message naming
# the iteration and the network, keeping the last good checkpoint (which loads). MODE skip:
# --on-nan skip rolls the injected iteration back, warns, and finishes with finite weights.
# Usage: nonfinite.sh stop|skip CLGAN   (device)
set -u
MODE=$1 CLGAN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_device
tiny_model
tiny_data
ARGS="--data $T/tiny-images-idx3-ubyte --batch 16 --sample-every 1000 --log-every 1 --checkpoint-every 1"
loads() { "$CLGAN" generate --checkpoint "$1" --count 1 --out "$T/gen" >/dev/null 2>"$T/gen.err" || { fail "$2: $1 does not load"; cat "$T/gen.err"; }; }
# every F32 tensor of a checkpoint is finite
finite() {
  python3 - "$1" <<'PY' || fail "$2: non-finite values in $1"
import array, json, math, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
bad = [k for k, v in h.items() if k != '__metadata__' and v['dtype'] == 'F32' and
       not all(map(math.isfinite, array.array('f', b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]])))]
sys.exit('non-finite: ' + ' '.join(bad) if bad else 0)
PY
}
case $MODE in
stop)
  # a real overflow: no activation between D's layers, nothing bounds its logits
  printf 'model deep\nlatent 8\nimage 1 8 8\ngenerator\n  linear 64\n  reshape 1 8 8\ndiscriminator\n  flatten\n' >"$T/deep.model"
  printf '  linear 64\n  linear 64\n  linear 64\n  linear 64\n  linear 64\n  linear 64\n  linear 1\n' >>"$T/deep.model"
  expect 1 "is not finite" "an overflow with --lr 10" "$CLGAN" train --model "$T/deep.model" $ARGS --g-loss lsgan \
    --lr 10 --iters 500 --out "$T/over"
  it=$(sed -n "s/.*iteration \([0-9]*\): the \(discriminator\|generator\)'s \(loss\|gradient\) is not finite.*/\1/p" "$T/stderr")
  [ -n "$it" ] || fail "overflow: the message does not name the iteration and the network"
  if [ -n "$it" ] && [ "$it" -gt 1 ]; then
    good=$(printf 'ckpt_%08d.safetensors' $((it - 1)))
    [ "$(readlink "$T/over/latest.safetensors")" = "checkpoints/$good" ] ||
      fail "overflow at $it: latest is $(readlink "$T/over/latest.safetensors"), want $good"
    [ -e "$T/over/checkpoints/$(printf 'ckpt_%08d.safetensors' "$it")" ] && fail "overflow: the bad iteration was saved"
    grep -qF "last good one: $T/over/checkpoints/$good" "$T/stderr" || fail "overflow: the last good checkpoint is not named"
    loads "$T/over/latest.safetensors" overflow
    finite "$T/over/latest.safetensors" overflow
  fi
  # an injected NaN at iteration 4 of 6
  expect 1 "iteration 4: the discriminator's loss is not finite (nan)" "NaN injected at iteration 4" \
    env CLGAN_FAULT_NAN_AT=4 "$CLGAN" train --model "$T/tiny.model" $ARGS --iters 6 --out "$T/inj"
  [ "$(readlink "$T/inj/latest.safetensors")" = checkpoints/ckpt_00000003.safetensors ] ||
    fail "injected NaN: latest is $(readlink "$T/inj/latest.safetensors"), want iteration 3's"
  ls "$T/inj/checkpoints" | grep -q 'ckpt_0000000[4-6]' && fail "injected NaN: a checkpoint after the NaN was written"
  loads "$T/inj/latest.safetensors" "injected NaN"
  finite "$T/inj/latest.safetensors" "injected NaN"
  ;;
skip)
  expect 0 "iteration 4: the discriminator's loss is not finite (nan)" "--on-nan skip" \
    env CLGAN_FAULT_NAN_AT=4 "$CLGAN" train --model "$T/tiny.model" $ARGS --iters 6 --on-nan skip --out "$T/skip"
  grep -q "warning: .*iteration rolled back, batch skipped" "$T/stderr" || fail "skip: no warning that the batch was skipped"
  grep -q "^done after 6 iterations" "$T/stderr" || fail "skip: the run did not finish its 6 iterations"
  [ "$(readlink "$T/skip/latest.safetensors")" = checkpoints/ckpt_00000006.safetensors ] || fail "skip: latest is not iteration 6's"
  finite "$T/skip/latest.safetensors" skip
  loads "$T/skip/latest.safetensors" skip
  # the metrics log has no NaN row
  grep -qi "nan\|inf" "$T/skip/metrics.csv" && fail "skip: a non-finite value reached metrics.csv"
  ;;
*) echo "usage: nonfinite.sh stop|skip CLGAN" >&2; exit 2 ;;
esac
finish "nonfinite_$MODE"
