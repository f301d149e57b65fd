#!/bin/sh
# The clgan command's surface: help, version, usage errors (exit 2), the no-platform hint,
# and `clgan doctor` passing normally and failing with the build log on a broken kernel.
# Usage: test_cli.sh usage|doctor CLGAN VERSION    ('doctor' needs a device; else exit 77)
set -u
mode=$1 clgan=$2 version=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect CODE DESCRIPTION -- COMMAND...: runs it with output in $tmp/out and $tmp/err
expect() {
  want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  [ "$got" -eq "$want" ] || { fail "$what: exit $got, want $want"; sed 's/^/  | /' "$tmp/err" >&2; }
}
contains() { grep -q -- "$2" "$tmp/$1" || fail "$3: '$2' not in std$1"; }

if [ "$mode" = usage ]; then
  expect 0 "--help" -- "$clgan" --help
  contains out "usage: clgan <command>" "--help"
  commands=$(awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1} f&&/^$/{exit}' "$tmp/out")
  [ -n "$commands" ] || fail "--help lists no commands"
  for c in devices doctor bench; do
    echo "$commands" | grep -qx "$c" || fail "--help does not list '$c'"
  done
  expect 0 "--version" -- "$clgan" --version
  [ "$(cat "$tmp/out")" = "clgan $version" ] || fail "--version says '$(cat "$tmp/out")', want 'clgan $version'"
  expect 2 "no command" -- "$clgan"
  contains err "usage: clgan" "no command"
  expect 2 "unknown command" -- "$clgan" frobnicate
  contains err "unknown command 'frobnicate'" "unknown command"
  for c in $commands; do
    expect 0 "$c --help" -- "$clgan" "$c" --help
    contains out "usage: clgan $c" "$c --help"
    expect 2 "$c with an unknown flag" -- "$clgan" "$c" --no-such-flag
    contains err "no-such-flag" "$c with an unknown flag"
  done
  expect 0 "bench startup --help" -- "$clgan" bench startup --help
  contains out "usage: clgan bench startup" "bench startup --help"
  expect 2 "bench with an unknown subcommand" -- "$clgan" bench frobnicate
  contains err "frobnicate" "bench with an unknown subcommand"
  expect 2 "bench startup with a bad --repeat" -- "$clgan" bench startup --repeat zero
  # No OpenCL platform at all: say how to get one, exit non-zero.
  mkdir "$tmp/no-vendors"
  for c in devices doctor; do
    OCL_ICD_VENDORS="$tmp/no-vendors" "$clgan" $c >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -ne 0 ] || fail "$c without any platform exits 0"
    contains err "no OpenCL platform" "$c without any platform"
    contains err "pocl-opencl-icd" "$c without any platform"
  done
elif [ "$mode" = doctor ]; then
  "$clgan" devices --json >"$tmp/devices.json" 2>"$tmp/err" || { echo "SKIP: no OpenCL platform"; exit 77; }
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["devices"] else 1)' \
    "$tmp/devices.json" || { echo "SKIP: no OpenCL device"; exit 77; }
  expect 0 "doctor" -- "$clgan" doctor
  contains out " 0 failed" "doctor"
  grep -q "^FAIL" "$tmp/out" && fail "doctor printed a FAIL row"
  all_rows=$(grep -c "^pass" "$tmp/out")
  # --only keeps the builds and the matching checks, and refuses a filter matching nothing
  expect 0 "doctor --only sgemm" -- "$clgan" doctor --only SGEMM
  [ "$(grep -v '^pass  build' "$tmp/out" | grep -c '^pass')" = 1 ] || fail "doctor --only SGEMM ran other checks"
  [ "$(grep -c '^pass  build' "$tmp/out")" -ge 1 ] || fail "doctor --only built nothing"
  [ "$(grep -c '^pass' "$tmp/out")" -lt "$all_rows" ] || fail "doctor --only did not filter"
  expect 2 "doctor --only nothing" -- "$clgan" doctor --only no-such-check
  contains err "no-such-check" "doctor --only nothing"
  # A broken kernel file: doctor fails, names the file and prints the compiler's log.
  mkdir "$tmp/kernels"
  printf '__kernel void fill_f32(__global float *x) { x[0] = clgan_cli_bad_identifier; }\n' \
    >"$tmp/kernels/elementwise.cl"
  CLGAN_KERNEL_DIR="$tmp/kernels" "$clgan" doctor >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -ne 0 ] || fail "doctor with a broken kernel exits 0"
  grep -q "^FAIL  build elementwise" "$tmp/out" || fail "doctor has no FAIL row for the build"
  contains err "kernels/elementwise.cl" "doctor with a broken kernel"
  contains err "build log" "doctor with a broken kernel"
  contains err "clgan_cli_bad_identifier" "doctor with a broken kernel"
else
  echo "usage: test_cli.sh usage|doctor CLGAN VERSION" >&2
  exit 2
fi
[ "$failures" -eq 0 ] || { echo "$failures failures" >&2; exit 1; }
echo "cli $mode: ok"
