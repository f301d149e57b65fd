#!/usr/bin/env bash
# CI's second half, run by .ci/run after README's test command: a clang build with
# AddressSanitizer + UndefinedBehaviorSanitizer (+ libFuzzer's coverage), then
#   1. the host suite in it (every parser, the CLI's bad-input rows, the fuzz replays),
#   2. one short end-to-end training run in it,
#   3. each libFuzzer target for FUZZ_SECONDS (default 60) from its seed corpus.
# Any sanitizer report fails its step. Ends with one line "extra: N passed, N failed" and
# exits non-zero if any step failed. About 7 minutes on 2 cores (build ~1, fuzzing 5).
# Env: FUZZ_SECONDS (0 skips fuzzing), SAN_BUILD (build folder, default build-san).
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
B=${SAN_BUILD:-build-san}
passed=0 failed=0
step() { # step NAME RC
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "extra: PASS $1"
  else failed=$((failed + 1)); echo "extra: FAIL $1 (exit $2)"; fi
}
finish() {
  echo "extra: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Any report aborts (exit status 134) instead of printing and going on.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Leak suppressions, as narrow as they can be:
# - fontconfig: cairo's text (plot axis labels) fills fontconfig's process-lifetime caches,
#   which the clgan command leaves to the OS at exit; tests/io/test_plot.c frees them and
#   runs without this suppression, so clgan's own plot code is still checked for leaks.
cat >"$work/lsan.supp" <<'EOF'
leak:libfontconfig.so
EOF
export LSAN_OPTIONS=suppressions=$work/lsan.supp:print_suppressions=0

command -v clang >/dev/null || { echo "extra: clang missing (deps/debian-packages.txt)"; step "clang" 1; finish; }
# c_args: -fsanitize=fuzzer-no-link gives libFuzzer coverage of the library too;
# -fno-sanitize-recover=all makes UBSan stop at the first report.
if [ ! -d "$B" ]; then
  CC=clang meson setup "$B" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
    >"$work/setup.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || { tail -20 "$work/setup.log"; step "sanitizer build: setup" $rc; finish; }
fi
meson compile -C "$B" >"$work/build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -40 "$work/build.log"
step "sanitizer build (ASan + UBSan, clang)" $rc
[ $rc -eq 0 ] || finish

# 1. the host suite, minus 'install' (it compiles a program against the installed library
#    with plain flags, which cannot link a sanitized libclgan)
tests=$(meson test -C "$B" --suite host --list 2>/dev/null | sed -n 's/^clgan:[^/]* \/ //p' | grep -vx install)
# shellcheck disable=SC2086
meson test -C "$B" --print-errorlogs --num-processes 2 $tests >"$work/host.log" 2>&1
rc=$?
grep -E "^(Ok|Fail|Skipped|Timeout):" "$work/host.log" | tr '\n' ' '; echo
[ $rc -eq 0 ] || grep -E "FAIL|ERROR:|runtime error|SUMMARY" "$work/host.log" | head -40
step "host suite under ASan + UBSan" $rc

# 2. one short end-to-end training run (Fashion-MNIST, dcgan28), and a generate from it
if "$B/clgan" devices 2>/dev/null | grep -q '^\* \['; then
  export CLGAN_CACHE_DIR=$B/test-kernel-cache
  "$B/clgan" train --iters 3 --max-images 256 --batch 16 --sample-every 2 --log-every 1 \
    --out "$work/train" >"$work/train.log" 2>&1 &&
    "$B/clgan" generate --checkpoint "$work/train/latest.safetensors" --count 4 --grid \
      --out "$work/gen" >>"$work/train.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || tail -60 "$work/train.log"
  step "clgan train --iters 3 --max-images 256 --batch 16 + generate under ASan + UBSan" $rc
else
  echo "extra: SKIP end-to-end training: no OpenCL device"
fi

# 3. fuzzing: each target from a copy of its seed corpus; a crash leaves the input in
#    $B/fuzz-artifacts/<target>/ (make it a regression: tests/fuzz/README.md)
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  for t in idx png model checkpoint cli; do
    exe="$B/tests/fuzz/fuzz_$t"
    [ -x "$exe" ] || { echo "extra: $exe was not built (libFuzzer missing?)"; step "fuzz $t" 1; continue; }
    mkdir -p "$work/corpus-$t" "$B/fuzz-artifacts/$t"
    cp tests/fuzz/corpus/$t/* "$work/corpus-$t/"
    extra=()
    [ "$t" = cli ] && extra=(-close_fd_mask=2) # usage errors print on every run
    "$exe" "$work/corpus-$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$B/fuzz-artifacts/$t/" "${extra[@]}" \
      >"$work/fuzz-$t.log" 2>&1
    rc=$?
    grep -E "^#[0-9]+[[:space:]]+DONE" "$work/fuzz-$t.log" | tail -1
    if [ $rc -ne 0 ]; then
      grep -E -A30 "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error" "$work/fuzz-$t.log" | head -60
      ls -l "$B/fuzz-artifacts/$t/"
    fi
    step "fuzz $t for ${FUZZ_SECONDS}s" $rc
  done
fi
finish
