#!/bin/sh
# A platform or device that fails a query is reported and the others are still listed.
# Real drivers cannot be made to fail, so tests/core/fake_icd.c is registered next to the
# installed ones, in each of its failure modes. Usage: test_query_failure.sh CLGAN FAKE_ICD.so
set -u
clgan=$1 fake=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The installed drivers alone: what must survive the fake one's failures.
mkdir "$tmp/vendors"
for icd in /etc/OpenCL/vendors/*.icd; do
  [ -r "$icd" ] && cp "$icd" "$tmp/vendors/"
done
OCL_ICD_VENDORS="$tmp/vendors" "$clgan" devices --json >"$tmp/real.json" 2>/dev/null ||
  echo '{"devices": [], "problems": []}' >"$tmp/real.json"
real=$(field "$tmp/real.json" "sorted(x['name'] for x in d['devices'])")
echo "installed devices: $real"
echo "$fake" >"$tmp/vendors/zz-fake.icd"

# listed MODE PROBLEM EXTRA: runs `clgan devices --json` with the fake driver failing in
# MODE; expects a problem line containing PROBLEM and the installed devices (+ EXTRA).
listed() {
  CLGAN_FAKE_ICD_MODE=$1 OCL_ICD_VENDORS="$tmp/vendors" "$clgan" devices --json \
    >"$tmp/$1.json" 2>"$tmp/err" || { fail "mode $1: clgan devices failed: $(cat "$tmp/err")"; return; }
  problems=$(field "$tmp/$1.json" "d['problems']")
  echo "mode $1: problems $problems"
  echo "$problems" | grep -qF "$2" || fail "mode $1: no problem mentioning '$2'"
  got=$(field "$tmp/$1.json" "sorted(x['name'] for x in d['devices'])")
  want=$(python3 -c "import sys; print(sorted(eval(sys.argv[1]) + eval(sys.argv[2])))" "$real" "$3")
  [ "$got" = "$want" ] || fail "mode $1: listed $got, want $want"
  # the table form reports the same problem
  CLGAN_FAKE_ICD_MODE=$1 OCL_ICD_VENDORS="$tmp/vendors" "$clgan" devices >"$tmp/out" 2>&1
  grep -qF "problem: " "$tmp/out" || fail "mode $1: table output has no problem line"
}
listed platform "CL_PLATFORM_NAME query failed: CL_OUT_OF_HOST_MEMORY" "[]"
listed devices "(Fake Failing Platform): clGetDeviceIDs failed: CL_OUT_OF_RESOURCES" "[]"
listed device "(Fake Failing Platform) device 0: CL_DEVICE_NAME query failed" "['Fake Accelerator']"
# The surviving device keeps its own P:D (device 1 of its platform) and can be selected.
CLGAN_FAKE_ICD_MODE=device OCL_ICD_VENDORS="$tmp/vendors" "$clgan" devices --json \
  --device "fake accel" >"$tmp/one.json" || fail "--device 'fake accel' failed"
[ "$(field "$tmp/one.json" "d['devices'][0]['id'].split(':')[1]")" = 1 ] ||
  fail "the fake platform's second device is not D=1"
[ "$failures" -eq 0 ] || { echo "$failures failures" >&2; exit 1; }
echo "query failures: ok"
