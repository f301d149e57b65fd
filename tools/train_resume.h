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

#endif
