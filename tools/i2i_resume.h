/* `clgan train --resume CKPT` for the image-to-image trainer (tools/cmd_i2i.c: pix2pix, sr).
 * The checkpoint holds the model, the recipe (clgan_train_config) and the run's data settings
 * (clgan_train_state.run: task, data, max_images, pretrain_iters, eval_count); a resumed run
 * takes them all, so `clgan train --resume CKPT --iters N` continues exactly (byte-identical
 * checkpoints: the crops, epoch orders and dropout masks are keyed by (seed, iteration)).
 * Flags given with --resume that equal the checkpoint's are accepted, others refused naming
 * the flag (tools/train_resume.c's rule and message). Tests:
 * tests/train/test_i2i_resume_cli.sh. */
#ifndef CLGAN_I2I_RESUME_H
#define CLGAN_I2I_RESUME_H

#include "clgan/gan.h"
#include "clgan/model.h"
#include "clgan/io.h"

/* The settings of a run that are neither the model nor the recipe. */
typedef struct i2i_run {
  char task[32];        /* edges2fashion, colorize, sr; "" = --data A|B pairs */
  char data[900];       /* --data as given; "" = the task's default */
  long max_images;      /* 0 = all */
  long pretrain_iters;  /* sr: content-only iterations first */
  long eval_count;      /* held-out pairs measured (a default on resume, free to change) */
} i2i_run;

/* "key value" lines (task, data, max_images, pretrain_iters, eval_count) into buf
 * (clgan_train_state.run). */
void i2i_run_format(const i2i_run *r, char *buf, size_t cap);
/* Reads them back: 0, or -1 when malformed (an unknown key, a bad number). */
int i2i_run_parse(const char *text, i2i_run *r);

/* 1 when argv gives `flag` ("--x v" or "--x=v"; cli_parse_opts has checked the values). */
int i2i_given_flag(int argc, char **argv, const char *flag);

/* The values of the flags cmd_train_i2i parsed (given or default). */
typedef struct i2i_given {
  const char *model, *task, *g_loss, *content;
  long batch, seed, max_images, pretrain_iters;
  double lr, adv_weight, content_weight, d_loss_scale;
} i2i_given;

/* Opens the checkpoint `path`: its model (unresolved) into *model, its recipe into *cfg, its
 * iteration count into *step and its run settings into *run; then the flags given in argv
 * against them. Returns 0 (f and model then owned by the caller), or the exit code after
 * printing the error (nothing left open). A checkpoint that is not an image-to-image one, or
 * one without run settings, is refused. */
int i2i_resume_open(const char *path, int argc, char **argv, const i2i_given *g,
                    clgan_st_file *f, clgan_model *model, clgan_train_config *cfg,
                    long long *step, i2i_run *run);

/* 1 when `path` opens as a checkpoint whose networks take 'cond' (the image-to-image
 * trainer resumes it); 0 otherwise (the GAN trainer reports what is wrong). */
int i2i_resume_wanted(const char *path);

/* The rows of DIR/metrics.csv up to iteration `upto` (a resumed run's log continues from its
 * checkpoint; later rows belong to the abandoned continuation): *rows the CSV text without
 * the header (malloc'd, "" when there is no log), *pts 4 floats a row (iteration, D loss,
 * G adversarial loss, content loss), *n rows. */
clgan_status i2i_log_keep(const char *dir, long long upto, char **rows, float **pts, int *n);

/* sr resumed after its pre-training: the outputs for the n inputs `cond` (G in eval mode) of
 * the pre-trained G in DIR/pretrained.safetensors, then G as `f` (the resume checkpoint) has
 * it again. 1 when done; 0 when there is no such file or on an error (in *s). */
int i2i_resume_pretrained(clgan_gan *gan, const clgan_st_file *f, const char *dir,
                          const float *cond, int n, float *out, clgan_status *s);

#endif
