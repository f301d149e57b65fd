/* Data-parallel training over MPI for `clgan train --distributed` and `clgan bench train
 * --distributed`: ranks, per-rank devices and logs, shards of the global batch, the
 * gradient and sync-bn reductions (host-staged, bucketed, overlapped with the backward),
 * checksums across ranks, deadlines that turn a dead or hung rank into an error.
 * tools/dist.c with MPI, tools/dist_none.c without. Tests: tests/dist/ (suite mpi) */
#ifndef CLGAN_TOOLS_DIST_H
#define CLGAN_TOOLS_DIST_H

#include <stddef.h>

#include "clgan/gan.h"

typedef struct dist_opts {
  int sync_bn;          /* batch statistics over the global batch */
  int overlap;          /* reduce gradient buckets while the backward runs (else at the end) */
  double timeout;       /* seconds a rank waits for the others before it ends the job */
  double bucket_mb;     /* gradient bucket size */
} dist_opts;

typedef struct dist_stats {
  double wait_s;        /* time blocked waiting for reductions to finish */
  double sync_bn_s;     /* time in sync-bn sums (device read, allreduce, write) */
  double bytes;         /* gradient bytes this rank sent into allreduces */
  long long reductions; /* gradient allreduces started */
} dist_stats;

typedef struct dist dist;

/* 1 when this build has MPI. */
int dist_built(void);
/* How to get a build with MPI (one line, no newline). */
const char *dist_howto(void);

/* MPI_Init and the rank's view of the job. */
clgan_status dist_init(const dist_opts *o, dist **out);
int dist_rank(const dist *d);
int dist_world(const dist *d);
int dist_local_rank(const dist *d);

/* The device this rank opens: item `rank` of a comma list (--devices), else `device` for
 * every rank, else $CLGAN_DEVICE, else the local rank's index modulo the devices there are. */
clgan_status dist_device_spec(const dist *d, const char *devices, const char *device,
                              char *buf, size_t cap, const char **spec);

/* OUT/rank-R.log: this rank's log (created with OUT). */
clgan_status dist_open_log(dist *d, const char *dir);
void dist_log(dist *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every rank's value of v, in rank order (all: world values). */
clgan_status dist_allgather(dist *d, double v, double *all);
/* Shares of a global batch: weights (world values, NULL: equal) -> this rank's batch and
 * first sample. Each share is at least `min`; the shares sum to global. */
clgan_status dist_shares(const dist *d, int global, const double *weights, int min, int *batch,
                         int *off, int *all);

/* Turns the overlap of gradient reductions with the backward on or off (takes effect at the
 * next dist_attach). */
void dist_set_overlap(dist *d, int on);
/* Installs the reductions on a trainer (gan->replica); again after dist_set_overlap. */
clgan_status dist_attach(dist *d, clgan_gan *gan);
/* The same parameters (and Adam moments; with_stats: batch-norm statistics) on every rank:
 * a checksum (SHA-256) of each, compared across ranks; a difference -> an error naming the
 * ranks. */
clgan_status dist_check_same(dist *d, clgan_gan *gan, long long step, int with_stats);
/* Before iteration `step` (1-based): this rank's sign of life to the others. */
void dist_heartbeat(dist *d, long long step);
/* After an iteration: the metrics as the global batch's means (each rank's weighted by its
 * share), and a stop request from any rank reaching all of them. */
clgan_status dist_end_step(dist *d, const clgan_gan *gan, clgan_step_metrics *m, int *stop);
/* The fastest of reps host allreduces of `floats` zeros alone (no device): the link's cost. */
clgan_status dist_time_allreduce(dist *d, size_t floats, int reps, double *seconds);
const dist_stats *dist_get_stats(const dist *d);
void dist_reset_stats(dist *d);

/* Ends the whole job now (MPI_Abort): after a failure on this rank, so no rank waits. */
void dist_abort(dist *d, int code);
/* MPI_Finalize and free. */
void dist_finish(dist *d);

#endif
