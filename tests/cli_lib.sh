# Shared by the CLI test scripts (sourced after setting CLGAN and DATA): skips (77) without
# the data or a device, a scratch folder $T removed at exit, a failure count, and two checks.
# ONE_ERROR_LINE=1 (set before sourcing): expect_fail also wants at most two stderr lines.
[ -e "$DATA" ] || { echo "SKIP: $DATA missing (Debian's dataset-fashion-mnist)"; exit 77; }
"$CLGAN" devices >/dev/null 2>&1 || { echo "SKIP: no OpenCL device"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
  d=$1; shift
  if "$@"; then :; else echo "FAIL: $d"; fails=$((fails + 1)); fi
}
expect_fail() { # expect_fail CODE NEEDLE DESCRIPTION COMMAND...: exit CODE, stderr has NEEDLE
  code=$1 needle=$2 d=$3; shift 3
  "$@" >"$T/out.txt" 2>"$T/err.txt"
  rc=$?
  if [ "$rc" -ne "$code" ]; then echo "FAIL: $d: exit $rc, want $code"; cat "$T/err.txt"; fails=$((fails + 1)); fi
  if ! grep -q -- "$needle" "$T/err.txt"; then echo "FAIL: $d: stderr lacks '$needle':"; cat "$T/err.txt"; fails=$((fails + 1)); fi
  if [ "${ONE_ERROR_LINE:-0}" = 1 ] && [ "$(wc -l <"$T/err.txt")" -gt 2 ]; then
    echo "FAIL: $d: more than one error line"; cat "$T/err.txt"; fails=$((fails + 1))
  fi
}
