#!/bin/sh
# Proves tests/oclgrind_run.sh can fail: an out-of-bounds read slipped into fill_f32 through
# CLGAN_KERNEL_DIR (values stay right, so only the checker can notice) must fail it, while
# `clgan doctor` on the real kernels passes, also with a 64-item work-group limit.
# Usage: test_oclgrind.sh CLGAN OCLGRIND_RUN_SH KERNELS_SOURCE_DIR
set -u
clgan=$1 runner=$2 kernels=$3
[ -e /usr/lib/oclgrind/liboclgrind-rt-icd.so ] || { echo "SKIP: oclgrind not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

sh "$runner" "$clgan" doctor >"$tmp/out" 2>"$tmp/err" ||
  { fail "doctor under Oclgrind:"; cat "$tmp/out" "$tmp/err" >&2; }

OCLGRIND_MAX_WGSIZE=64 sh "$runner" "$clgan" devices --json >"$tmp/dev.json" 2>"$tmp/err"
wg=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['devices'][0]['max_work_group_size'])" "$tmp/dev.json")
[ "$wg" = 64 ] || fail "OCLGRIND_MAX_WGSIZE=64 did not take: max work-group $wg"
OCLGRIND_MAX_WGSIZE=64 sh "$runner" "$clgan" doctor >"$tmp/out" 2>"$tmp/err" ||
  { fail "doctor under Oclgrind with 64-item work-groups:"; cat "$tmp/out" "$tmp/err" >&2; }

# The real elementwise.cl with one read one past the end of x at the top of fill_f32.
mkdir "$tmp/kernels"
python3 - "$kernels/elementwise.cl" "$tmp/kernels/elementwise.cl" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r"__kernel\s+void\s+fill_f32\s*\([^)]*\)\s*\{", src)
if not m:
    sys.exit("fill_f32 not found in " + sys.argv[1])
oob = ("\n  if (get_global_id(0) == 0) { float past_end = x[xo + n];"
       " if (past_end == 1234.5f) x[xo] = 0.0f; }\n")
open(sys.argv[2], "w").write(src[:m.end()] + oob + src[m.end():])
PY
CLGAN_KERNEL_DIR="$tmp/kernels" sh "$runner" "$clgan" doctor --only fill >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -ne 0 ] || fail "the runner passed an out-of-bounds read"
grep -q "oclgrind reported diagnostics" "$tmp/err" || fail "no Oclgrind diagnostics"
grep -q "Invalid read" "$tmp/err" || fail "Oclgrind did not name the invalid read"
grep -q " 0 failed" "$tmp/out" || fail "doctor itself failed: the checker was not what caught it"
[ "$failures" -eq 0 ] || { echo "$failures failures" >&2; sed 's/^/  | /' "$tmp/err" | head -40 >&2; exit 1; }
echo "oclgrind checker: ok"
