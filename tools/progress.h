/* `clgan train`'s live progress line on a terminal, fitted to the terminal's width
 * (TIOCGWINSZ, re-read after SIGWINCH) so that redrawing it with '\r' never wraps.
 * Tests: train_progress_tty (tests/train/test_progress_tty.py, under a pseudo-terminal). */
#ifndef CLGAN_PROGRESS_H
#define CLGAN_PROGRESS_H

#include <stddef.h>

typedef struct progress_values {
  long long step, total, epoch, epochs; /* epoch counts from 1 */
  double img_per_s, eta_s;
  float loss_d, loss_g, d_real, d_fake;
} progress_values;

/* Formats the line into buf (no '\r', no newline) in at most width - 1 columns: fields are
 * dropped, least important first (D(G(z)) and D(x), then the bar, which first shrinks,
 * then the epoch, loss_G, loss_D); the count, the rate and the ETA always stay (cut only
 * when even they do not fit). Returns the line's length. */
int progress_format(char *buf, size_t cap, int width, const progress_values *v);

/* Redraws the line on stderr (a terminal): "\r", the line, erase to the end of the row.
 * The first call installs the SIGWINCH handler and reads the width. */
void progress_draw(const progress_values *v);

#endif
