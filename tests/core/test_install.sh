#!/bin/sh
# `meson install` into a temp DESTDIR puts the headers, the library, the pkg-config file and
# the clgan command in place, and a small program builds against the installed .pc file
# and runs. Usage: test_install.sh BUILD_DIR (skips, 77, without cc or pkg-config)
# With --sample SRC CLGAN (device): instead, the C sample program SRC (samples/train_grid.c)
# is built against the installed library with -Wall -Werror through pkg-config, trains 3
# iterations of dcgan28 on Fashion-MNIST and writes its grid (skips, 77, without an OpenCL
# device or the data).
set -u
build=$1
sample=""
if [ "${2:-}" = --sample ]; then
  sample=$3
  "$4" devices 2>/dev/null | grep -q '^\* \[' || { echo "SKIP: no OpenCL device"; exit 77; }
  data=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
  [ -e "$data" ] || { echo "SKIP: $data missing (Debian's dataset-fashion-mnist)"; exit 77; }
fi
command -v cc >/dev/null && command -v pkg-config >/dev/null || { echo "SKIP: no cc/pkg-config"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; fail "meson install"; exit 1; }
pc=$(find "$tmp/root" -name clgan.pc | head -n1)
[ -n "$pc" ] || { fail "no clgan.pc installed"; exit 1; }
bin=$(find "$tmp/root" -path '*/bin/clgan' | head -n1)
[ -n "$bin" ] && [ -x "$bin" ] || fail "no executable bin/clgan installed"
lib=$(find "$tmp/root" -name 'libclgan.so*' | head -n1)
[ -n "$lib" ] || fail "no libclgan.so installed"
inc=$(find "$tmp/root" -type d -path '*/include/clgan' | head -n1)
[ -n "$inc" ] || { fail "no include/clgan installed"; exit 1; }
# Every header the umbrella header includes must be installed with it.
for h in clgan.h version.h $(sed -n 's/^#include "clgan\/\(.*\)"/\1/p' "$inc/clgan.h"); do
  [ -f "$inc/$h" ] || fail "header clgan/$h not installed"
done
for h in "$inc"/*.h; do
  for dep in $(sed -n 's/^#include "clgan\/\(.*\)"/\1/p' "$h"); do
    [ -f "$inc/$dep" ] || fail "$(basename "$h") includes clgan/$dep, which is not installed"
  done
done

# The sysroot makes pkg-config point -I/-L into DESTDIR instead of the real prefix.
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$tmp/root" \
  pkg-config --cflags --libs clgan) || { fail "pkg-config --cflags --libs clgan"; exit 1; }
echo "pkg-config: $flags"

if [ -n "$sample" ]; then
  # shellcheck disable=SC2086
  cc -std=c11 -Wall -Wextra -Werror -o "$tmp/train_grid" "$sample" $flags >"$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "compiling $sample against the installed clgan.pc"; exit 1; }
  (cd "$tmp" && LD_LIBRARY_PATH=$(dirname "$lib") LD_DEBUG=libs LD_DEBUG_OUTPUT="$tmp/ld" \
    ./train_grid dcgan28 "$data" 3 grid.png) >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "$sample: the program failed"; }
  cat "$tmp/out"
  grep -q "^iteration 3: loss_D [0-9.]* loss_G" "$tmp/out" || fail "$sample: no third iteration"
  grep -qh "$tmp/root.*libclgan" "$tmp"/ld.* || fail "$sample: it did not load the installed libclgan"
  # a PNG of 4 x 4 images of 28x28 with 2 pixels of padding: 122 x 122
  size=$(python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read(24)
print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8] == b"\x89PNG\r\n\x1a\n" else "not a PNG")' \
    "$tmp/grid.png" 2>&1)
  [ "$size" = 122x122 ] || fail "$sample: grid.png is $size, want a 122x122 PNG"
  [ "$failures" -eq 0 ] || { echo "$failures failures" >&2; exit 1; }
  echo "sample_program: ok"
  exit 0
fi

cat >"$tmp/hello.c" <<'C'
#include <clgan/clgan.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  clgan_status s = clgan_error(CLGAN_ERR_IO, "installed %s", CLGAN_VERSION_STRING);
  printf("%s %s\n", clgan_status_name(s), clgan_last_error());
  return strcmp(clgan_status_name(s), "CLGAN_ERR_IO") != 0;
}
C
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror -o "$tmp/hello" "$tmp/hello.c" $flags >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; fail "compiling against the installed clgan.pc"; }
if [ -x "$tmp/hello" ]; then
  out=$(LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/hello") || fail "the program failed: $out"
  echo "$out" | grep -q "^CLGAN_ERR_IO installed [0-9]" || fail "unexpected output: $out"
  # and it really used the installed library, not the build tree's
  LD_LIBRARY_PATH=$(dirname "$lib") LD_DEBUG=libs "$tmp/hello" 2>&1 | grep -q "$tmp/root.*libclgan" ||
    fail "the program did not load the installed libclgan"
fi
[ "$failures" -eq 0 ] || { echo "$failures failures" >&2; exit 1; }
echo "install: ok"
