/* Helpers shared by `clgan tune` and `clgan bench ops|train`: measuring child processes,
 * a model and trainer ready to run, GEMM shape names. Tests: tests/perf/test_perf_cli.sh */
#ifndef CLGAN_PERF_UTIL_H
#define CLGAN_PERF_UTIL_H

#include <stddef.h>

#include "clgan/gan.h"
#include "clgan/gemm.h"

/* A child process of this executable (/proc/self/exe) with its stdout and stderr in one
 * pipe. extra_env entries ("NAME=value") replace those of ours with the same name. */
typedef struct perf_child {
  int pid;
  int fd;          /* read end */
  char buf[8192];  /* unread bytes */
  size_t used;
  int eof;
} perf_child;

int perf_child_start(perf_child *c, char *const argv[], const char *const *extra_env);
/* Reads one line (without the newline) into line; waits at most until `deadline`
 * (cli_now() seconds). 1 = a line, 0 = end of output, -1 = timed out. */
int perf_child_line(perf_child *c, char *line, size_t cap, double deadline);
/* Kills (when kill_it) and reaps the child; returns its exit status (-1 if killed or
 * abnormal) and, when cpu_s is not NULL, its user + system CPU seconds. */
int perf_child_finish(perf_child *c, int kill_it, double *cpu_s);

/* Loads a preset or model file and resolves it (auto channels -> 1, Fashion-MNIST's). */
int perf_model_load(const char *name, clgan_model *m);

/* "NT 128x1024x3136" */
void perf_shape_name(const clgan_gemm_shape *s, char *out, size_t cap);
/* Parses "ta,tb,m,n,k;..." into at most cap shapes; returns the count or -1. */
int perf_shapes_parse(const char *text, clgan_gemm_shape *out, int cap);
/* Writes shapes as "ta,tb,m,n,k;..." (returns -1 if it does not fit). */
int perf_shapes_format(const clgan_gemm_shape *s, int n, char *out, size_t cap);

/* A (text) progress bar on stderr: "\r" redrawn on a terminal, a line per call elsewhere. */
void perf_progress(const char *what, int done, int total, double elapsed, double budget,
                   const char *tail);

double perf_median(double *v, int n);

#endif
