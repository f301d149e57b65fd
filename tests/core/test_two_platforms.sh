#!/bin/sh
# Device selection across two real platforms, POCL and Oclgrind, registered through an
# OCL_ICD_VENDORS folder made here: listing, every selection syntax, bad selections, the
# CLGAN_DEVICE default, and `clgan doctor` on Oclgrind. Skips (77) without both drivers.
# Usage: test_two_platforms.sh CLGAN
set -u
clgan=$1
pocl_icd=/etc/OpenCL/vendors/pocl.icd
grind=/usr/lib/oclgrind/liboclgrind-rt-icd.so
[ -r "$pocl_icd" ] || { echo "SKIP: POCL's ICD ($pocl_icd) missing"; exit 77; }
[ -e "$grind" ] || { echo "SKIP: Oclgrind's ICD ($grind) missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/vendors"
cp "$pocl_icd" "$tmp/vendors/pocl.icd"
echo "$grind" >"$tmp/vendors/oclgrind.icd"
export OCL_ICD_VENDORS="$tmp/vendors"
unset CLGAN_DEVICE
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# field JSON-FILE EXPR: evaluates EXPR over d = the parsed `clgan devices --json`
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

"$clgan" devices --json >"$tmp/all.json" || { fail "clgan devices --json"; exit 1; }
[ "$(field "$tmp/all.json" 'len(d["devices"])')" = 2 ] || { fail "want 2 devices:"; cat "$tmp/all.json" >&2; exit 1; }
# Indices and P:D pairs come from the listing: the loader decides the platform order.
pocl_at=$(field "$tmp/all.json" '[i for i,x in enumerate(d["devices"]) if x["platform"]=="Portable Computing Language"][0]')
grind_at=$(field "$tmp/all.json" '[i for i,x in enumerate(d["devices"]) if x["platform"]=="Oclgrind"][0]')
pocl_name=$(field "$tmp/all.json" "d['devices'][$pocl_at]['name']")
grind_name=$(field "$tmp/all.json" "d['devices'][$grind_at]['name']")
pocl_pd=$(field "$tmp/all.json" "d['devices'][$pocl_at]['id']")
grind_pd=$(field "$tmp/all.json" "d['devices'][$grind_at]['id']")
grind_type=$(field "$tmp/all.json" "d['devices'][$grind_at]['type']")
echo "POCL: [$pocl_at] $pocl_pd $pocl_name; Oclgrind: [$grind_at] $grind_pd $grind_name ($grind_type)"
# Oclgrind reports CL_DEVICE_TYPE 0xf (CPU, GPU and accelerator at once); POCL is a CPU.
[ "$grind_type" = "cpu+gpu+accelerator" ] || fail "Oclgrind's type is '$grind_type'"
[ "$(field "$tmp/all.json" "d['devices'][$pocl_at]['type']")" = cpu ] || fail "POCL is not 'cpu'"
# The default: no single-type GPU here, so the first CPU (POCL), not the simulator.
[ "$(field "$tmp/all.json" "[x['name'] for x in d['devices'] if x['default']]")" = "['$pocl_name']" ] ||
  fail "default device is not POCL"
[ "$(field "$tmp/all.json" 'len(d["problems"])')" = 0 ] || fail "problems reported"

# selects SPEC NAME: `clgan devices --device SPEC` shows exactly the device NAME
selects() {
  if ! "$clgan" devices --json --device "$1" >"$tmp/one.json" 2>"$tmp/err"; then
    fail "--device '$1' failed: $(cat "$tmp/err")"
    return
  fi
  got=$(field "$tmp/one.json" "[x['name'] for x in d['devices']]")
  [ "$got" = "['$2']" ] || fail "--device '$1' selected $got, want '$2'"
}
selects "$pocl_at" "$pocl_name"
selects "$grind_at" "$grind_name"
selects "$pocl_pd" "$pocl_name"
selects "$grind_pd" "$grind_name"
selects oclgrind "$grind_name"
selects OCLGRIND "$grind_name"
selects portable "$pocl_name"
selects cpu "$pocl_name"
selects gpu "$grind_name"
# CLGAN_DEVICE sets the default; an explicit --device still wins over it.
CLGAN_DEVICE=oclgrind "$clgan" devices --json >"$tmp/env.json"
[ "$(field "$tmp/env.json" "[x['name'] for x in d['devices'] if x['default']]")" = "['$grind_name']" ] ||
  fail "CLGAN_DEVICE=oclgrind is not the default"
CLGAN_DEVICE=oclgrind "$clgan" devices --json --device portable >"$tmp/one.json" &&
  [ "$(field "$tmp/one.json" "d['devices'][0]['name']")" = "$pocl_name" ] ||
  fail "--device portable does not win over CLGAN_DEVICE"

# bad SPEC WHY: exit 2, the spec named, every device listed
bad() {
  "$clgan" devices --device "$1" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "--device '$1' ($2): exit $rc, want 2"
  grep -qF "'$1'" "$tmp/err" || fail "--device '$1' ($2): spec not named: $(cat "$tmp/err")"
  grep -qF "$pocl_name" "$tmp/err" && grep -qF "$grind_name" "$tmp/err" ||
    fail "--device '$1' ($2): devices not listed: $(cat "$tmp/err")"
}
# A substring in both devices' names, found here rather than assumed.
amb=$(python3 -c "
import sys
a = (sys.argv[1] + ' ' + sys.argv[2]).lower(); b = (sys.argv[3] + ' ' + sys.argv[4]).lower()
print(next(c for c in 'abcdefghijklmnopqrstuvwxyz' if c in a and c in b))" \
  "$pocl_name" "Portable Computing Language" "$grind_name" "Oclgrind")
bad "$amb" ambiguous
grep -q "matches more than one device" "$tmp/err" || fail "ambiguous: message: $(cat "$tmp/err")"
bad no-such-device-anywhere "no match"
bad 7 "no such index"
bad 5:0 "no such P:D"
CLGAN_DEVICE=no-such-device-anywhere "$clgan" doctor >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "doctor with a bad CLGAN_DEVICE: exit $rc, want 2"
grep -q "CLGAN_DEVICE" "$tmp/err" || fail "bad CLGAN_DEVICE not named: $(cat "$tmp/err")"

# The whole doctor on the second platform.
if "$clgan" doctor --device oclgrind >"$tmp/out" 2>"$tmp/err"; then
  grep -q "^device: $grind_name" "$tmp/out" || fail "doctor --device oclgrind ran on: $(head -n1 "$tmp/out")"
else
  fail "clgan doctor --device oclgrind failed:"
  cat "$tmp/out" "$tmp/err" >&2
fi
[ "$failures" -eq 0 ] || { echo "$failures failures" >&2; exit 1; }
echo "two platforms: ok"
