/* The live progress line of `clgan train` (progress.h). */
#include "progress.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { F_EPOCH, F_COUNT, F_BAR, F_RATE, F_ETA, F_LOSS_D, F_LOSS_G, F_D_REAL, F_D_FAKE, F_N };
enum { BAR_MAX = 24, BAR_MIN = 8 };
/* the order fields are dropped in when the line is too long; count, rate and ETA stay */
static const int drop_order[] = {F_D_FAKE, F_D_REAL, F_BAR, F_EPOCH, F_LOSS_G, F_LOSS_D};

static int field(char *out, size_t cap, int f, int bar, const progress_values *v) {
  switch (f) {
    case F_EPOCH:
      return snprintf(out, cap, "[epoch %lld/%lld]", v->epoch, v->epochs);
    case F_COUNT:
      return snprintf(out, cap, "%lld/%lld", v->step, v->total);
    case F_BAR: {
      int fill = v->total > 0 ? (int)(bar * (double)v->step / (double)v->total) : bar;
      if (fill > bar) fill = bar;
      char b[BAR_MAX + 1];
      for (int i = 0; i < bar; i++) b[i] = i < fill ? '#' : '-';
      b[bar] = '\0';
      return snprintf(out, cap, "[%s]", b);
    }
    case F_RATE:
      return snprintf(out, cap, "%.0f img/s", v->img_per_s);
    case F_ETA: {
      double e = v->eta_s > 0 && isfinite(v->eta_s) ? v->eta_s : 0;
      long long s = (long long)e;
      if (s >= 3600)
        return snprintf(out, cap, "ETA %lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
      return snprintf(out, cap, "ETA %02lld:%02lld", s / 60, s % 60);
    }
    case F_LOSS_D:
      return snprintf(out, cap, "loss_D %.3f", v->loss_d);
    case F_LOSS_G:
      return snprintf(out, cap, "loss_G %.3f", v->loss_g);
    case F_D_REAL:
      return snprintf(out, cap, "D(x) %.3f", v->d_real);
    default:
      return snprintf(out, cap, "D(G(z)) %.3f", v->d_fake);
  }
}

static int compose(char *buf, size_t cap, const int *on, int bar, const progress_values *v) {
  size_t n = 0;
  buf[0] = '\0';
  for (int f = 0; f < F_N; f++) {
    if (!on[f]) continue;
    char part[96];
    field(part, sizeof part, f, bar, v);
    /* two spaces before the losses, one elsewhere */
    const char *sep = n == 0 ? "" : f == F_LOSS_D ? "  " : " ";
    int w = snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", sep, part);
    if (w > 0) n += (size_t)w;
  }
  if (n >= cap) n = cap - 1;
  return (int)n;
}

int progress_format(char *buf, size_t cap, int width, const progress_values *v) {
  int on[F_N], bar = BAR_MAX;
  for (int f = 0; f < F_N; f++) on[f] = 1;
  /* the last column stays free: a character there leaves some terminals about to wrap */
  int room = width > 1 ? width - 1 : 1;
  int n = compose(buf, cap, on, bar, v);
  for (size_t d = 0; n > room && d < sizeof drop_order / sizeof *drop_order; d++) {
    if (drop_order[d] == F_BAR) /* the bar shrinks before it goes */
      while (n > room && bar > BAR_MIN) n = compose(buf, cap, on, --bar, v);
    if (n <= room) break;
    on[drop_order[d]] = 0;
    n = compose(buf, cap, on, bar, v);
  }
  if (n > room) { /* even count, rate and ETA are too wide: cut */
    n = room < (int)cap ? room : (int)cap - 1;
    buf[n] = '\0';
  }
  return n;
}

static volatile sig_atomic_t resized = 1;
static int columns = 80;

static void on_winch(int sig) {
  (void)sig;
  resized = 1;
}

static int terminal_width(void) {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char *c = getenv("COLUMNS");
  int n = c ? atoi(c) : 0;
  return n > 0 ? n : 80;
}

void progress_draw(const progress_values *v) {
  static int installed;
  if (!installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, NULL);
    installed = 1;
  }
  if (resized) {
    resized = 0;
    columns = terminal_width();
  }
  char line[512];
  progress_format(line, sizeof line, columns, v);
  /* erase to the end of the row rather than pad: a shorter line leaves nothing behind */
  fprintf(stderr, "\r%s\033[K", line);
  fflush(stderr);
}
