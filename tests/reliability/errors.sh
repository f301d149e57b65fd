#!/bin/sh
# One row of docs/ERRORS.md: runs `clgan` as a user would on one kind of bad input or
# fault and checks the exit code, the message on stderr, and that an earlier run's files
# (a checkpoint, samples, metrics) survive. Usage: errors.sh CASE CLGAN
# Cases marked (device) skip (77) without an OpenCL device; the others need none.
set -u
CASE=$1 CLGAN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
tiny_model
tiny_data
prior_run
P="$T/prior"
train() { "$CLGAN" train $TINY --iters 1 "$@"; }

case $CASE in
# ---- data files ----
data_missing)
  expect 1 "cannot open '$T/nope-images-idx3-ubyte': No such file or directory" "missing data" \
    train --data "$T/nope-images-idx3-ubyte" --out "$P" ;;
data_empty)
  : >"$T/empty-images-idx3-ubyte"
  expect 1 "is empty (0 bytes)" "empty data file" train --data "$T/empty-images-idx3-ubyte" --out "$P" ;;
data_truncated)
  $FIX idx "$T/cut-images-idx3-ubyte" 64 8 8 --cut 1000
  expect 1 "truncated: the header promises 64 images of 8x8 (4096 bytes from byte 16) but the file ends at byte 1000" \
    "truncated data" train --data "$T/cut-images-idx3-ubyte" --out "$P" ;;
data_truncated_gz)
  $FIX idx "$T/full.gz" 64 8 8 --gz
  head -c 300 "$T/full.gz" >"$T/cut-images-idx3-ubyte.gz"
  expect 1 "gzip data ends early" "truncated gzip data" train --data "$T/cut-images-idx3-ubyte.gz" --out "$P" ;;
data_magic)
  $FIX idx "$T/magic-images-idx3-ubyte" 64 8 8 --magic 4749
  expect 1 "is not an IDX file: bytes 0-1 are 0x47 0x49" "wrong magic" \
    train --data "$T/magic-images-idx3-ubyte" --out "$P" ;;
data_png_as_idx)
  $FIX png "$T/one.png" grey8 8 8
  expect 1 "this is a PNG: pass a folder of PNG files instead" "a PNG given as the data file" \
    train --data "$T/one.png" --out "$P" ;;
data_ndim)
  $FIX labels "$T/x-labels-idx1-ubyte" 64
  expect 1 "IDX file has 1 dimension(s) (byte 3), expected 3" "a label file given as the data" \
    train --data "$T/x-labels-idx1-ubyte" --out "$P" ;;
data_dims)
  $FIX idx "$T/long-images-idx3-ubyte" 64 8 8 --extra 64
  expect 1 "data continues past byte 4112 where the header's dimensions say it ends (wrong dimensions?)" \
    "dimensions that do not match the data" train --data "$T/long-images-idx3-ubyte" --out "$P" ;;
data_absurd)
  # 2^31-1 images of 16384x4096 claimed by a small file: refused before any big allocation
  $FIX idx "$T/huge-images-idx3-ubyte" 2147483647 28 28 --cut 5000
  $FIX idx "$T/huge-images-idx3-ubyte.gz" 2147483647 28 28 --cut 5000 --gz
  limit=""
  sanitized || limit="ulimit -v 1500000;" # 1.5 GB of address space, far below 1.7 TB
  expect 1 "truncated: the header promises 2147483647 images of 28x28" "absurd image count" \
    sh -c "$limit exec \"\$@\"" sh "$CLGAN" train --model dcgan28 $TINY --iters 1 --data "$T/huge-images-idx3-ubyte" --out "$P"
  expect 1 "but the decompressed data ends at byte" "absurd image count, gzipped" \
    sh -c "$limit exec \"\$@\"" sh "$CLGAN" train --model dcgan28 $TINY --iters 1 --data "$T/huge-images-idx3-ubyte.gz" --out "$P" ;;
data_labels)
  cp "$T/tiny-images-idx3-ubyte" "$T/l-images-idx3-ubyte"
  $FIX labels "$T/l-labels-idx1-ubyte" 63
  expect 1 "has 63 labels but '$T/l-images-idx3-ubyte' has 64 images" "labels that do not match" \
    train --data "$T/l-images-idx3-ubyte" --out "$P" ;;
data_too_few)
  $FIX idx "$T/few-images-idx3-ubyte" 3 8 8
  expect 2 "the data has 3 images, fewer than one batch of 16" "fewer images than a batch" \
    train --data "$T/few-images-idx3-ubyte" --out "$P" ;;
data_no_png)
  mkdir "$T/nopng" && : >"$T/nopng/notes.txt"
  expect 1 "folder '$T/nopng' has no .png files" "a folder without PNG files" train --data "$T/nopng" --out "$P" ;;
# ---- PNG files ----
png_corrupt)
  mkdir "$T/pc" && $FIX png "$T/pc/a.png" grey8 8 8 && $FIX png "$T/pc/b.png" grey8 8 8
  # flip a byte inside IDAT: its CRC no longer matches
  printf '\377' | dd of="$T/pc/b.png" bs=1 seek=45 conv=notrunc 2>/dev/null
  expect 1 "'$T/pc/b.png' is a corrupt PNG" "a corrupt PNG" train --data "$T/pc" --out "$P" ;;
png_truncated)
  mkdir "$T/pt" && $FIX png "$T/pt/a.png" grey8 8 8 && head -c 60 "$T/pt/a.png" >"$T/pt/b.png"
  expect 1 "'$T/pt/b.png' is a corrupt PNG: file ends at byte 60" "a truncated PNG" train --data "$T/pt" --out "$P" ;;
png_not_png)
  mkdir "$T/pn" && echo "not an image" >"$T/pn/a.png"
  expect 1 "'$T/pn/a.png' is not a PNG file (no PNG signature at byte 0)" "a .png that is not a PNG" \
    train --data "$T/pn" --out "$P" ;;
png_sizes)
  mkdir "$T/ps" && $FIX png "$T/ps/a.png" grey8 8 8 && $FIX png "$T/ps/b.png" grey8 9 8
  expect 1 "'$T/ps/b.png' is 9x8 but 'a.png' (the first) is 8x8" "PNGs of different sizes" \
    train --data "$T/ps" --out "$P" ;;
png_huge)
  mkdir "$T/ph" && $FIX png-lying "$T/ph/a.png" 30000 30000
  expect 1 "header claims 30000x30000 pixels, impossible for a" "a PNG header claiming 3.6 GB" \
    train --data "$T/ph" --out "$P" ;;
png_16bit|png_palette|png_grey_alpha|png_rgba16) # (device) accepted: trains
  need_device
  kind=${CASE#png_}; [ "$kind" = 16bit ] && kind=grey16
  mkdir "$T/ok"
  for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do $FIX png "$T/ok/$i.png" "$kind" 12 10; done
  expect 0 "PNG folder, 16 images of 12x10" "$kind PNGs are accepted" \
    "$CLGAN" train --model dcgan28 $TINY --iters 1 --data "$T/ok" --out "$T/run"
  [ -s "$T/run/samples.png" ] || fail "no samples after training on $kind PNGs" ;;
# ---- model files ----
model_unknown_layer)
  printf 'model m\nlatent 8\nimage 1 8 8\ngenerator\n  linear 64\n  wobble\n' >"$T/bad.model"
  expect 2 "bad.model:6: unknown layer 'wobble'" "unknown layer" train --model "$T/bad.model" --out "$P" ;;
model_chain)
  sed 's/^  linear 128 bias=0$/  linear 120 bias=0/' "$T/tiny.model" >"$T/chain.model"
  expect 2 "model 'tiny', line 6 (generator layer 1): cannot reshape 120 x 1 x 1 (120 values) to 8 x 4 x 4" \
    "shapes that do not chain" train --model "$T/chain.model" --out "$P" ;;
model_conv_fit)
  sed 's/^  conv 4 k=4 s=2 p=1$/  conv 4 k=9 s=1 p=0/' "$T/tiny.model" >"$T/conv.model"
  expect 2 "(discriminator layer 0): conv k=9 s=1 p=0 does not fit a 8x8 input" \
    "a kernel larger than its input" train --model "$T/conv.model" --out "$P" ;;
model_g_output)
  sed 's/^image 1 8 8$/image 1 16 16/' "$T/tiny.model" >"$T/g.model"
  expect 2 "the generator makes 1 x 8 x 8 images but the model's images are 1 x 16 x 16" \
    "a generator of the wrong image size" train --model "$T/g.model" --out "$P" ;;
model_d_output)
  sed 's/^  linear 1$/  linear 2/' "$T/tiny.model" >"$T/d.model"
  expect 2 "the discriminator must end in one logit per image, it gives 2 x 1 x 1" \
    "a discriminator without one logit" train --model "$T/d.model" --out "$P" ;;
model_absurd)
  sed 's/^  linear 128 bias=0$/  linear 1000000000/' "$T/tiny.model" >"$T/big1.model"
  expect 2 "bad output size '1000000000' for 'linear' (1..67108864 or C)" "an absurd layer size" \
    train --model "$T/big1.model" --out "$P"
  sed 's/^latent 8$/latent 65536/; s/^  linear 128 bias=0$/  linear 65536 bias=0/' "$T/tiny.model" >"$T/big2.model"
  expect 2 "more than 2^30 parameters" "2^32 parameters" train --model "$T/big2.model" --out "$P" ;;
model_missing)
  expect 2 "unknown model 'dcgan99': not a preset (cdcgan28-proj, cdcgan28, dcgan28-sn, dcgan28, dcgan64, fmnist-classifier, pix2pix32, pix2pix64, progan32, progan64, srgan2x-fmnist, srgan2x, srgan4x-bn, srgan4x, t2i28) and not a readable file" \
    "an unknown preset" train --model dcgan99 --out "$P"
  expect 1 "cannot open '$T/nope.model'" "a missing model file" train --model "$T/nope.model" --out "$P" ;;
model_binary)
  cp "$T/tiny-images-idx3-ubyte" "$T/binary.model"
  expect 1 "not a text model file (NUL byte)" "a binary file as the model" train --model "$T/binary.model" --out "$P" ;;
# ---- checkpoints ----
ckpt_missing)
  expect 1 "cannot open '$T/nope.safetensors'" "a missing checkpoint" \
    "$CLGAN" train --resume "$T/nope.safetensors" --iters 2 --out "$P" ;;
ckpt_not_safetensors)
  $FIX png "$T/x.png" grey8 8 8
  expect 1 "checkpoint '$T/x.png': " "a PNG given as a checkpoint" "$CLGAN" generate --checkpoint "$T/x.png" --out "$P"
  grep -qF "header length" "$T/stderr" || fail "a PNG as a checkpoint: the reason is not the header length" ;;
ckpt_foreign)
  python3 -c "
import json, struct
h = json.dumps({'w': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}}).encode()
h += b' ' * (-len(h) % 8)
open('$T/foreign.safetensors', 'wb').write(struct.pack('<Q', len(h)) + h + bytes(8))"
  expect 1 "not a clgan checkpoint of format clgan-checkpoint-1 (format is missing)" \
    "a safetensors file from another program" "$CLGAN" generate --checkpoint "$T/foreign.safetensors" --out "$P" ;;
ckpt_wrong_format|ckpt_wrong_model|ckpt_bad_config|ckpt_dtype) # (device) mutations of a real checkpoint
  need_device
  "$CLGAN" train --model dcgan28 $TINY --iters 2 --out "$T/run" 2>"$T/train.err" || { cat "$T/train.err"; fail "training the checkpoint"; }
  good="$T/run/latest.safetensors"
  case $CASE in
  ckpt_wrong_format)
    $FIX st-edit "$good" "$T/v2.safetensors" format clgan-checkpoint-2
    expect 1 "not a clgan checkpoint of format clgan-checkpoint-1 (format is clgan-checkpoint-2)" \
      "a checkpoint of another format version" "$CLGAN" train --resume "$T/v2.safetensors" --iters 3 --out "$T/run" ;;
  ckpt_wrong_model)
    # the model stored in the file no longer matches its tensors (as a checkpoint of
    # another model with this one's text would)
    $FIX st-sed "$good" "$T/wm.safetensors" "conv 4 k=4" "conv 6 k=4"
    expect 1 "checkpoint does not fit the model: tensor 'discriminator.0.weight' is [4x1x4x4] in the file, the model needs [6x1x4x4]" \
      "a checkpoint of another model" "$CLGAN" train --resume "$T/wm.safetensors" --iters 3 --out "$T/run" ;;
  ckpt_bad_config)
    $FIX st-edit "$good" "$T/cfg.safetensors" batch sixteen
    expect 1 "missing or malformed training configuration" "malformed settings in a checkpoint" \
      "$CLGAN" train --resume "$T/cfg.safetensors" --iters 3 --out "$T/run" ;;
  ckpt_dtype)
    python3 - "$good" "$T/f16.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
name = next(k for k in h if k.endswith('.weight'))
h[name]['dtype'] = 'F16'; h[name]['shape'][0] *= 2
s = json.dumps(h).encode(); s += b' ' * (-len(s) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(s)) + s + b[8 + n:])
PY
    expect 1 "has dtype 'F16', clgan reads F32 and I64" "a tensor of another dtype" \
      "$CLGAN" generate --checkpoint "$T/f16.safetensors" --out "$T/gen" ;;
  esac
  "$CLGAN" generate --checkpoint "$good" --count 2 --out "$T/gen2" >/dev/null 2>&1 ||
    fail "the good checkpoint no longer loads after the failed resume" ;;
# ---- flags ----
flag_not_number)
  expect 2 "--lr expects a number, got 'fast'" "a word for a number" train --lr fast --out "$P"
  expect 2 "--iters expects an integer, got '1.5'" "a fraction for an integer" train --iters 1.5 --out "$P" ;;
flag_missing_value)
  expect 2 "--out needs a value" "a flag without its value" "$CLGAN" train --model dcgan28 --iters 1 --out ;;
flag_choice)
  expect 2 "--on-nan must be stop or skip, got 'maybe'" "a bad --on-nan" train --on-nan maybe --out "$P" ;;
flag_required)
  expect 2 "--checkpoint is required" "generate without --checkpoint" "$CLGAN" generate --out "$P" ;;
flag_conflict_generate)
  expect 2 "--grid and --interpolate conflict" "generate --grid --interpolate" \
    "$CLGAN" generate --checkpoint x --grid --interpolate --out "$P" ;;
flag_resume) # (device): --resume with the flags the run was started with is accepted (and
  # is exact); a flag with another value is refused naming the flag and both values
  need_device
  "$CLGAN" train --model dcgan28 $TINY --seed 7 --iters 2 --out "$T/run" 2>"$T/train.err" || { cat "$T/train.err"; fail "training"; }
  cp -R "$T/run" "$T/plain"
  expect 0 "resumed from '$T/run/latest.safetensors' at iteration 2" "--resume with the run's own flags" \
    train --resume "$T/run/latest.safetensors" --seed 7 --lr 2e-4 --beta1 0.5 --g-loss ns --iters 4 --out "$T/run"
  "$CLGAN" train --resume "$T/plain/latest.safetensors" --iters 4 --out "$T/plain" 2>"$T/train.err" ||
    { cat "$T/train.err"; fail "resuming without flags"; }
  cmp "$T/run/checkpoints/ckpt_00000004.safetensors" "$T/plain/checkpoints/ckpt_00000004.safetensors" ||
    fail "--resume with equal flags != --resume without them"
  run_sum=$(fingerprint "$T/run")
  r="$T/run/latest.safetensors"
  expect 2 "--batch 32 conflicts with the checkpoint's batch 16" "--resume with another --batch" \
    train --resume "$r" --batch 32 --seed 7 --iters 6 --out "$T/run"
  grep -qF -- "drop --batch (or give --batch 16); to start a new run with --batch 32, leave out --resume" "$T/stderr" ||
    fail "--resume with another --batch: no way out named"
  expect 2 "--seed 8 conflicts with the checkpoint's seed 7" "--resume with another --seed" \
    "$CLGAN" train --resume "$r" --seed 8 --iters 6 --out "$T/run"
  expect 2 "--lr 0.001 conflicts with the checkpoint's learning rate 0.0002" "--resume with another --lr" \
    "$CLGAN" train --resume "$r" --lr 1e-3 --iters 6 --out "$T/run"
  expect 2 "--beta1 0.9 conflicts with the checkpoint's beta1 0.5" "--resume with another --beta1" \
    "$CLGAN" train --resume "$r" --beta1 0.9 --iters 6 --out "$T/run"
  expect 2 "--g-loss hinge conflicts with the checkpoint's g-loss ns" "--resume with another --g-loss" \
    "$CLGAN" train --resume "$r" --g-loss hinge --iters 6 --out "$T/run"
  expect 2 "--model dcgan28 conflicts with the checkpoint's model tiny" "--resume with another --model" \
    "$CLGAN" train --resume "$r" --model dcgan28 --iters 6 --out "$T/run"
  sed 's/conv 4 k=4/conv 6 k=4/' "$T/tiny.model" >"$T/tiny6.model"
  expect 2 "--model '$T/tiny6.model' (model tiny) conflicts with the checkpoint's model tiny (same name, other layers)" \
    "--resume with another model file of the same name" "$CLGAN" train --resume "$r" --model "$T/tiny6.model" --iters 6 --out "$T/run"
  [ "$(fingerprint "$T/run")" = "$run_sum" ] || fail "a refused --resume changed the run's files" ;;
# ---- devices ----
device_no_platform)
  mkdir "$T/no-vendors"
  expect 1 "no OpenCL platform" "no OpenCL platform at all" \
    env OCL_ICD_VENDORS="$T/no-vendors" "$CLGAN" train --model dcgan28 $TINY --iters 1 --out "$T/run" ;;
device_absent) # (device)
  need_device
  expect 2 "no-such-device-anywhere" "a device that is not there" train --device no-such-device-anywhere --out "$T/run" ;;
device_ambiguous) # (device): POCL and Oclgrind, whose names both contain "in"
  need_device
  need_oclgrind
  [ -r /etc/OpenCL/vendors/pocl.icd ] || skip "POCL's ICD missing"
  mkdir "$T/vendors" && cp /etc/OpenCL/vendors/pocl.icd "$T/vendors/" &&
    echo /usr/lib/oclgrind/liboclgrind-rt-icd.so >"$T/vendors/oclgrind.icd"
  expect 2 "matches more than one device" "an ambiguous --device" \
    env OCL_ICD_VENDORS="$T/vendors" "$CLGAN" train --model dcgan28 $TINY --iters 1 --device in --out "$T/run" ;;
# ---- output directory ----
out_is_file)
  expect 1 "output directory '$P/metrics.csv' is not writable: Not a directory" "--out names a file" \
    train --out "$P/metrics.csv" ;;
out_unwritable)
  mkdir -p "$T/pub/ro" && cp "$T/tiny.model" "$T/tiny-images-idx3-ubyte" "$T/pub/" && chmod 755 "$T" "$T/pub" &&
    chmod 644 "$T/pub/tiny.model" "$T/pub/tiny-images-idx3-ubyte" && chmod 555 "$T/pub/ro"
  as="" exe=$CLGAN
  if [ "$(id -u)" -eq 0 ]; then # root writes anywhere: run as nobody
    command -v setpriv >/dev/null || skip "running as root without setpriv"
    as="setpriv --reuid=nobody --regid=nogroup --clear-groups"
    # nobody may not reach the build tree (a clone under /root, mode 700): run copies of
    # clgan and the libclgan it loads from $T/pub/bin (the kernels are embedded in them)
    mkdir "$T/pub/bin" && cp "$CLGAN" "$T/pub/bin/clgan" || fail "copying clgan to $T/pub/bin"
    lib=$(ldd "$CLGAN" | awk '$1 ~ /^libclgan/ { print $1, $3 }')
    [ -z "$lib" ] || cp -L "${lib#* }" "$T/pub/bin/${lib%% *}" || fail "copying $lib to $T/pub/bin"
    chmod -R a+rX "$T/pub/bin"
    exe=$T/pub/bin/clgan
    as="$as env LD_LIBRARY_PATH=$T/pub/bin CLGAN_CACHE=0"
    # a TMPDIR nobody cannot enter would fail below with a misleading exit status
    $as sh -c 'test -x "$1" && test -r "$2"' sh "$exe" "$T/pub/tiny.model" ||
      fail "nobody cannot run $exe or read $T/pub (TMPDIR=${TMPDIR:-/tmp} not reachable?)"
  fi
  expect 1 "cannot create directory '$T/pub/ro/out': Permission denied" "an unwritable --out" \
    $as "$exe" train --model "$T/pub/tiny.model" --data "$T/pub/tiny-images-idx3-ubyte" --batch 16 --iters 1 --out "$T/pub/ro/out"
  [ "$rc" -ne 127 ] || fail "an unwritable --out: clgan did not start (exit 127: a library not found?)" ;;
# ---- device memory and kernels ----
batch_too_big) # (device)
  need_device
  need_data
  expect 1 "try --batch" "a batch too big for the device" \
    "$CLGAN" train --model dcgan64 --batch 60000 --max-images 60000 --iters 1 --out "$P"
  grep -qE "batch 60000 needs [0-9]+ MiB of device memory, more than '.*' has \([0-9]+ MiB\)" "$T/stderr" ||
    fail "batch too big: the message does not give both sizes" ;;
kernel_build) # (device): a kernel file that does not compile, met when a run resumes
  need_device
  "$CLGAN" train --model dcgan28 $TINY --iters 2 --out "$T/run" 2>"$T/train.err" || { cat "$T/train.err"; fail "training"; }
  mkdir "$T/kernels"
  printf '__kernel void bias_add_f32(__global float *y) { y[0] = clgan_reliability_bad_identifier; }\n' \
    >"$T/kernels/conv.cl"
  expect 1 "clgan_reliability_bad_identifier" "a kernel that does not compile" \
    env CLGAN_KERNEL_DIR="$T/kernels" CLGAN_CACHE=0 "$CLGAN" train --resume "$T/run/latest.safetensors" --iters 4 --out "$T/run"
  grep -qF "building kernel file kernels/conv.cl (read from $T/kernels/conv.cl)" "$T/stderr" ||
    fail "kernel build failure: the file is not named"
  grep -qF -- "--- build log ---" "$T/stderr" || fail "kernel build failure: no build log"
  "$CLGAN" train --resume "$T/run/latest.safetensors" --iters 3 --out "$T/run" >/dev/null 2>&1 ||
    fail "the checkpoint left by the failed run does not resume" ;;
enqueue_fail) # (device): an OpenCL error at launch (a kernel that demands 7-item work-groups;
  # the first act_forward is G's tanh, layer 5: the relu after batch norm runs fused in it)
  need_device
  "$CLGAN" train --model dcgan28 $TINY --iters 2 --out "$T/run" 2>"$T/train.err" || { cat "$T/train.err"; fail "training"; }
  mkdir "$T/kernels"
  python3 - "$HERE/../../kernels/activation.cl" "$T/kernels/activation.cl" <<'PY'
import sys
src = open(sys.argv[1]).read()
old = "__kernel void act_forward"
if old not in src:
    sys.exit("act_forward not found")
open(sys.argv[2], "w").write(src.replace(old, "__kernel __attribute__((reqd_work_group_size(7, 1, 1))) void act_forward", 1))
PY
  expect 1 "(the last good one: $T/run/latest.safetensors): iteration 3: D step: forward layer 5: launching kernel 'act_forward': clEnqueueNDRangeKernel failed: CL_INVALID_WORK_GROUP_SIZE" \
    "a failed enqueue" env CLGAN_KERNEL_DIR="$T/kernels" CLGAN_CACHE=0 "$CLGAN" train --resume "$T/run/latest.safetensors" \
    --iters 4 --out "$T/run"
  "$CLGAN" generate --checkpoint "$T/run/latest.safetensors" --count 2 --out "$T/gen" >/dev/null 2>&1 ||
    fail "the checkpoint no longer loads after a failed enqueue" ;;
iteration_error_exact) # (device): after an error inside an iteration, resuming is still exact
  need_device
  "$CLGAN" train --model dcgan28 $TINY --iters 4 --out "$T/ref" 2>/dev/null || fail "the uninterrupted run"
  "$CLGAN" train --model dcgan28 $TINY --iters 2 --out "$T/run" 2>/dev/null || fail "the first 2 iterations"
  mkdir "$T/kernels"
  printf '__kernel void bias_add_f32(__global float *y) { y[0] = clgan_reliability_bad_identifier; }\n' \
    >"$T/kernels/conv.cl"
  # iteration 3 fails half-way (G's batch norm has already run when the transposed conv
  # needs conv.cl); the checkpoint it leaves must still be the state after iteration 2
  env CLGAN_KERNEL_DIR="$T/kernels" CLGAN_CACHE=0 "$CLGAN" train --resume "$T/run/latest.safetensors" \
    --iters 4 --out "$T/run" >/dev/null 2>&1 && fail "the broken kernel did not fail the run"
  "$CLGAN" train --resume "$T/run/latest.safetensors" --iters 4 --out "$T/run" 2>/dev/null || fail "resuming"
  cmp "$T/ref/checkpoints/ckpt_00000004.safetensors" "$T/run/checkpoints/ckpt_00000004.safetensors" ||
    fail "resumed after a failed iteration != uninterrupted: the failed iteration leaked into the checkpoint" ;;
*)
  echo "errors.sh: unknown case '$CASE'" >&2
  exit 2 ;;
esac
prior_intact "$CASE"
finish "$CASE"
