# Shared by the reliability tests (sourced): a scratch folder, expectations on exit code
# and stderr, skips, a tiny model, and fingerprints of earlier outputs.
# The including script sets CLGAN (the clgan binary) and HERE (this folder) first.
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
FIX="python3 $HERE/fixtures.py"
DATA=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
skip() { echo "SKIP: $*"; exit 77; }
finish() { # finish NAME: the exit status of the test
  if [ "$fails" -eq 0 ]; then echo "$1: ok"; exit 0; fi
  echo "$1: $fails failed"; exit 1
}
need_device() { "$CLGAN" devices 2>/dev/null | grep -q '^\* \[' || skip "no OpenCL device"; }
need_data() { [ -e "$DATA" ] || skip "$DATA missing (Debian's dataset-fashion-mnist)"; }
need_oclgrind() { [ -e /usr/lib/oclgrind/liboclgrind-rt-icd.so ] || skip "Oclgrind not installed"; }
# True when clgan runs under AddressSanitizer (address-space limits would break it).
sanitized() { grep -q "libasan\|__asan_init" "$CLGAN" 2>/dev/null || ldd "$CLGAN" 2>/dev/null | grep -q libasan; }

# expect CODE NEEDLE DESCRIPTION COMMAND...: the command exits CODE and its stderr has
# NEEDLE (a fixed string) in its first clgan error line; no crash, no sanitizer report.
expect() {
  code=$1 needle=$2 what=$3
  shift 3
  "$@" >"$T/stdout" 2>"$T/stderr"
  rc=$?
  [ "$rc" -eq "$code" ] || fail "$what: exit $rc, want $code"
  grep -qF -- "$needle" "$T/stderr" || fail "$what: stderr lacks '$needle'"
  # one clear line: the message is on a single "clgan..." line, not spread or repeated
  n=$(grep -c '^clgan\( [a-z]*\)\?: \(error: \)\?' "$T/stderr")
  [ "$code" -eq 0 ] || [ "$n" -ge 1 ] || fail "$what: no 'clgan: error:' line"
  if grep -q "Sanitizer\|runtime error:" "$T/stderr"; then fail "$what: sanitizer report"; fi
  if [ "$fails" -gt 0 ]; then sed 's/^/  | /' "$T/stderr" | head -20; fi
  # REL_SHOW=1: print the message (docs/ERRORS.md quotes these)
  [ -z "${REL_SHOW:-}" ] || { printf '%s -> exit %s: ' "$what" "$rc"; grep '^clgan' "$T/stderr" | grep -v '^clgan train: [a-z0-9]* on\|^clgan: warning' | head -1; }
  return 0
}

# The tiny model of these tests: 8x8 grey images, a few thousand parameters, batch norm
# (so checkpoints carry running statistics), ~10 ms an iteration on POCL.
tiny_model() {
  cat >"$T/tiny.model" <<'MODEL'
model tiny
latent 8
image 1 8 8
generator
  linear 128 bias=0
  reshape 8 4 4
  batchnorm
  relu
  convt 1 k=4 s=2 p=1
  tanh
discriminator
  conv 4 k=4 s=2 p=1
  leakyrelu 0.2
  flatten
  linear 1
MODEL
}

# A small IDX data file: 64 images of 8x8 (no labels).
tiny_data() { $FIX idx "$T/tiny-images-idx3-ubyte" 64 8 8; }
TINY="--model $T/tiny.model --data $T/tiny-images-idx3-ubyte --batch 16 --sample-every 1000 --log-every 1"

# A finished earlier run in $T/prior (what a failing command must not destroy).
prior_run() {
  mkdir -p "$T/prior/checkpoints" "$T/prior/samples"
  printf 'step,epoch\n1,0\n' >"$T/prior/metrics.csv"
  printf 'earlier checkpoint' >"$T/prior/checkpoints/ckpt_00000001.safetensors"
  ln -sf checkpoints/ckpt_00000001.safetensors "$T/prior/latest.safetensors"
  printf 'png' >"$T/prior/samples/iter_00000001.png"
  prior_sum=$(fingerprint "$T/prior")
}
fingerprint() { (cd "$1" && find . -type f -o -type l | LC_ALL=C sort | xargs sha256sum 2>/dev/null; find . -type l -exec readlink {} \;) | sha256sum; }
prior_intact() { [ "$(fingerprint "$T/prior")" = "$prior_sum" ] || fail "$1: the earlier run's files changed"; }
