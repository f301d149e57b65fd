# Runs clgan on Oclgrind's simulated device (sourced by the Oclgrind tests): its ICD in a
# private vendors folder, API, data-race and uninitialised-value checks on (as in
# tests/oclgrind_run.sh), any diagnostic fails. The uninitialised-value check needs the
# library to write device buffers from the host only whole (docs/ERRORS.md, Oclgrind;
# tests/reliability/oclgrind_shadow.c shows why).
# grind LOG COMMAND...: runs it with Oclgrind's limits from the environment.
grind() {
  glog=$1
  shift
  mkdir -p "$T/vendors"
  echo /usr/lib/oclgrind/liboclgrind-rt-icd.so >"$T/vendors/oclgrind.icd"
  rm -f "$T/oclgrind.log"
  OCL_ICD_VENDORS="$T/vendors" CLGAN_DEVICE=oclgrind OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 \
    OCLGRIND_UNINITIALIZED=1 OCLGRIND_LOG="$T/oclgrind.log" "$@" >"$glog" 2>&1
  grc=$?
  if [ -s "$T/oclgrind.log" ]; then
    fail "Oclgrind diagnostics running $*:"
    head -c 3000 "$T/oclgrind.log"
  fi
  return $grc
}

# close A.csv B.csv ABS REL: every metric of every row of two metrics.csv files agrees
# within ABS + REL * |value| (the timing column excepted); prints the largest difference.
close() {
  python3 - "$@" <<'PY'
import csv, sys
a, b, tol_abs, tol_rel = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
ra, rb = list(csv.DictReader(open(a))), list(csv.DictReader(open(b)))
if len(ra) != len(rb) or not ra:
    sys.exit("%d rows vs %d" % (len(ra), len(rb)))
worst = (0.0, "")
for x, y in zip(ra, rb):
    for k in x:
        if k in ("img_per_s", "step", "epoch") or x[k] == "" and y[k] == "":
            continue
        d = abs(float(x[k]) - float(y[k]))
        if d > tol_abs + tol_rel * abs(float(x[k])):
            sys.exit("step %s %s: %s vs %s" % (x["step"], k, x[k], y[k]))
        worst = max(worst, (d, "step %s %s" % (x["step"], k)))
print("largest difference %.3g (%s)" % worst)
PY
}
