#!/bin/sh
# Crash safety: the disk fills up during a run. MODE enospc: the output folder is a small
# tmpfs (needs mount rights; skipped without them) that a run checkpointing every
# iteration fills; MODE efbig: the file-size limit of a running trainer drops (prlimit)
# below a checkpoint's size, with SIGXFSZ ignored so write() fails with EFBIG. Either way
# the run stops with one clear error naming the file, exit 1, and latest.safetensors still
# points to a complete checkpoint that loads and resumes.
# Usage: disk_full.sh enospc|efbig CLGAN   (device)
set -u
MODE=$1 CLGAN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_device
tiny_model
tiny_data
OUT="$T/run"
ARGS="--model $T/tiny.model --data $T/tiny-images-idx3-ubyte --batch 16 --sample-every 1000 --log-every 1 --checkpoint-every 1"
case $MODE in
enospc)
  mkdir "$OUT"
  mount -t tmpfs -o size=256k clgan-test "$OUT" 2>/dev/null || skip "cannot mount a tmpfs here (not root?)"
  trap 'umount "$OUT" 2>/dev/null; rm -rf "$T"' EXIT
  # 20 KB checkpoints, all kept: the folder fills after about ten
  expect 1 "No space left on device" "a full disk" "$CLGAN" train $ARGS --keep 1000 --iters 1000 --out "$OUT"
  ;;
efbig)
  command -v prlimit >/dev/null || skip "prlimit (util-linux) missing"
  # an ignored signal stays ignored across exec: write() returns EFBIG instead of killing
  (trap '' XFSZ; exec "$CLGAN" train $ARGS --keep 3 --iters 100000 --out "$OUT") >"$T/stdout" 2>"$T/stderr" &
  pid=$!
  n=0
  while [ "$(ls "$OUT/checkpoints" 2>/dev/null | grep -c '^ckpt_.*s$')" -lt 3 ] && [ $n -lt 300 ]; do
    sleep 0.1
    n=$((n + 1))
  done
  prlimit --pid "$pid" --fsize=8192 || fail "prlimit failed"
  wait "$pid"
  rc=$?
  [ "$rc" -eq 1 ] || fail "a file-size limit: exit $rc, want 1"
  grep -qF "File too large" "$T/stderr" || fail "a file-size limit: stderr lacks 'File too large'"
  ;;
*) echo "usage: disk_full.sh enospc|efbig CLGAN" >&2; exit 2 ;;
esac
sed 's/^/  | /' "$T/stderr" | grep -v '^  | epoch' | tail -4
grep -q "^clgan: error: .*$OUT/" "$T/stderr" || fail "the error does not name the file that failed"
# no half-written checkpoint was left to be found, and latest is a complete one
ls "$OUT/checkpoints" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
latest=$(readlink "$OUT/latest.safetensors")
[ -n "$latest" ] || fail "no latest.safetensors"
cp -L "$OUT/latest.safetensors" "$T/latest.copy" 2>/dev/null || fail "latest.safetensors is dangling"
"$CLGAN" generate --checkpoint "$T/latest.copy" --count 1 --out "$T/gen" >/dev/null 2>"$T/gen.err" ||
  { fail "the last checkpoint ($latest) does not load:"; cat "$T/gen.err"; }
"$CLGAN" train --resume "$T/latest.copy" --iters "$(( $(echo "$latest" | sed 's/.*ckpt_0*\([0-9]*\).*/\1/') + 1 ))" \
  --sample-every 1000 --out "$T/resumed" >/dev/null 2>"$T/resume.err" ||
  { fail "the last checkpoint ($latest) does not resume:"; cat "$T/resume.err"; }
echo "stopped with latest -> $latest"
finish "disk_full_$MODE"
