/* What a training run leaves in --out: sample grids, the metrics log, the plot and the
 * checkpoints (kept to the last K). Used by tools/cmd_train.c. */
#ifndef CLGAN_TRAIN_OUT_H
#define CLGAN_TRAIN_OUT_H

#include "clgan/clgan.h"
#include "clgan/gan.h"

/* One row of the metrics log. */
typedef struct metrics_row {
  long long step;
  long long epoch;
  float loss_d, loss_g, d_real, d_fake, d_fake_after, grad_norm_d, grad_norm_g;
  float diversity;     /* NaN when no samples were drawn at this step */
  float img_per_s;
  float fd;            /* train --eval-every: FD on the classifier's features; else NaN */
} metrics_row;

typedef struct metrics_history {
  metrics_row *rows;
  int n, cap;
} metrics_history;

/* mkdir -p. */

/* Checks that dir exists (creating it) and is writable, before any training. */
clgan_status out_prepare(const char *dir);

/* Appends rows to <dir>/metrics.csv (writing the header first if new; truncate starts the
 * file anew). On resume,
 * out_history_load reads back the rows up to `upto` steps and rewrites the file with just
 * those, so a resumed run's log continues where its checkpoint was taken. */
clgan_status out_metrics_append(const char *dir, const metrics_row *r, int truncate);
clgan_status out_history_load(const char *dir, long long upto, metrics_history *h);
int out_history_push(metrics_history *h, const metrics_row *r);
void out_history_free(metrics_history *h);

/* <dir>/plot.png: losses, D outputs, gradient norms and diversity against iterations, and
 * the FD when some row has one. */
clgan_status out_plot(const char *dir, const metrics_history *h);

/* Saves <dir>/checkpoints/ckpt_<step>.safetensors, points <dir>/latest.safetensors at it
 * and deletes all but the newest `keep`. *path_out gets the file's path. */
clgan_status out_checkpoint(const char *dir, clgan_gan *gan, const clgan_train_state *st,
                            int keep, char *path_out, size_t cap);

#endif
