#!/bin/sh
# Every kernel is strict OpenCL C 1.2: clang's OpenCL front end with -pedantic-errors, on
# each kernels/*.cl as the program loader builds it: common.clh first, then the file with its
# #include "X.clh" lines inlined. __OPENCL_VERSION__ is defined as a device compiler does
# (clang's front end alone leaves it to the vendor).
# POCL accepts extensions that other vendors' compilers refuse (a variadic macro in
# batchnorm.cl stopped every build on NVIDIA's OpenCL, found on an H200): this catches them
# on a CPU-only machine. Skips (77) without clang.
# usage: test_kernel_std.sh KERNEL_DIR
dir=${1:?kernel dir}
command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for f in "$dir"/*.cl; do
  n=$((n + 1))
  out="$tmp/$(basename "$f")"
  # inline the includes (one level, as the loader does)
  cat "$dir/common.clh" > "$out"
  awk -v d="$dir" '/^#include "[^"]*\.clh"/ { match($0, /"[^"]*"/); inc = substr($0, RSTART + 1, RLENGTH - 2);
        while ((getline line < (d "/" inc)) > 0) print line; close(d "/" inc); next } { print }' "$f" >> "$out"
  if ! clang -x cl -cl-std=CL1.2 -D__OPENCL_VERSION__=120 -fsyntax-only -pedantic-errors -Werror=pedantic "$out" > "$tmp/log" 2>&1; then
    echo "FAIL: $(basename "$f") is not strict OpenCL C 1.2:"
    head -n 20 "$tmp/log"
    fail=$((fail + 1))
  fi
done
[ "$n" -gt 0 ] || { echo "FAIL: no kernels in $dir"; exit 1; }
echo "kernel_std: $n kernels, $fail not strict OpenCL C 1.2"
[ "$fail" -eq 0 ]
