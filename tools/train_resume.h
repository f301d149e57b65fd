/* `clgan train --resume CKPT` with training flags: flags whose values equal the
 * checkpoint's are accepted (people re-run the command that started the run with --resume
 * added); a flag with another value is refused, naming both values and how to start a new
 * run instead. Tests: err_flag_resume_conflict (tests/reliability/errors.sh). */
#ifndef CLGAN_TRAIN_RESUME_H
#define CLGAN_TRAIN_RESUME_H

#include "clgan/gan.h"
#include "clgan/model.h"
#include "train_args.h"

/* The checkpoint's configuration and (parsed) model against the flags given in `a`:
 * 0 when they agree, else CLI_USAGE (the usage error printed) or, when --model names a
 * model that does not load, that error's exit code. */
int train_resume_check(const train_args *a, const clgan_train_config *cfg,
                       const clgan_model *ckpt_model);

/* The usage error for one flag against the checkpoint's value: "--batch 32 conflicts with
 * the checkpoint's batch 16 ... drop --batch (or give --batch 16) ...", `same` the value
 * that resumes (NULL: only dropping the flag does). Returns CLI_USAGE. Also used by the
 * image-to-image trainer (tools/i2i_resume.c) for its own flags. */
int train_resume_conflict(const char *flag, const char *given, const char *what,
                          const char *stored, const char *same);
/* The shortest %g form that reads back as v (2e-4 stored as a float prints 0.0002). */
void train_resume_fmt_float(char *buf, size_t cap, float v);

#endif
