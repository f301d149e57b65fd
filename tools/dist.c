/* Data-parallel training over MPI (Open MPI): see tools/dist.h. MPI is not OpenCL-aware,
 * so every reduction is staged through host memory: device -> host read, MPI_Iallreduce in
 * place, host -> device write. Tests: tests/dist/ (suite mpi) */
#include "dist.h"

#include <mpi.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* One contiguous range of a gradient arena, reduced as one allreduce; layers hi..lo (the
 * backward reaches lo last) fill it. */
typedef struct bucket {
  size_t off, count;
  int lo;                   /* the bucket is complete once layer lo's gradients are */
  int state;                /* 0 idle, 1 read enqueued, 2 allreduce started, 3 done */
  cl_event ev;
  MPI_Request req;
} bucket;

typedef struct net_red {
  clgan_net *net;
  float *host;              /* (param_count) the staging copy */
  bucket *b;
  int nb;
} net_red;

struct dist {
  dist_opts o;
  int rank, world, local_rank;
  MPI_Comm grad_comm, sum_comm, hb_comm; /* gradient buckets / sync-bn, metrics, checks /
                                            heartbeats: each keeps its own collective order */
  FILE *log;
  long long step;           /* the iteration this rank is in */
  long long *hb_last;       /* (world) the last iteration each rank said it reached */
  double *hb_time;          /* (world) when its last heartbeat came */
  double hb_sent;           /* when this rank last sent its own */
  long long *hb_in, *hb_out;
  MPI_Request *hb_rreq, *hb_sreq;
  net_red red[2];
  dist_stats st;
};

int dist_built(void) { return 1; }

const char *dist_howto(void) {
  return "this clgan was built with MPI";
}

static clgan_status mpi_fail(int rc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  msg[len] = '\0';
  return clgan_error(CLGAN_ERR_IO, "%s failed: %s", what, msg);
}
#define MPI_TRY(call, what)                 \
  do {                                      \
    int rc_ = (call);                       \
    if (rc_ != MPI_SUCCESS) return mpi_fail(rc_, what); \
  } while (0)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Heartbeats that arrived: the newest iteration each rank reported. */
static void hb_drain(dist *d) {
  for (int r = 0; r < d->world; r++) {
    if (r == d->rank || d->hb_rreq[r] == MPI_REQUEST_NULL) continue;
    int done = 1;
    while (done && d->hb_rreq[r] != MPI_REQUEST_NULL) {
      done = 0;
      if (MPI_Test(&d->hb_rreq[r], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) break;
      if (done) {
        if (d->hb_in[r] > d->hb_last[r]) d->hb_last[r] = d->hb_in[r];
        d->hb_time[r] = now_s();
        MPI_Irecv(&d->hb_in[r], 1, MPI_LONG_LONG, r, 7, d->hb_comm, &d->hb_rreq[r]);
      }
    }
  }
}

/* This rank's sign of life to every other: at each iteration, and every second while it
 * waits for them (so a rank that waits is told from one that died or hangs). */
static void hb_send(dist *d) {
  d->hb_sent = now_s();
  for (int r = 0; r < d->world; r++) {
    if (r == d->rank) continue;
    int done = 1;
    if (d->hb_sreq[r] != MPI_REQUEST_NULL) MPI_Test(&d->hb_sreq[r], &done, MPI_STATUS_IGNORE);
    if (!done) continue; /* that rank is not taking them: it has news of us already */
    d->hb_out[r] = d->step;
    MPI_Isend(&d->hb_out[r], 1, MPI_LONG_LONG, r, 7, d->hb_comm, &d->hb_sreq[r]);
  }
  hb_drain(d);
}

void dist_heartbeat(dist *d, long long step) {
  d->step = step;
  hb_send(d);
}

/* Waits for requests with the job's deadline. Past it: an error naming the ranks that went
 * silent (no heartbeat for a while: a waiting rank sends one every second). */
static clgan_status wait_all(dist *d, int n, MPI_Request *req, const char *what) {
  double t0 = now_s();
  /* the start and the first iteration build the kernels, which a cold cache makes slow and
   * unequal between ranks: they get at least START_WAIT */
  const double START_WAIT = 900.0;
  double limit = d->step <= 1 && d->o.timeout < START_WAIT ? START_WAIT : d->o.timeout;
  long sleep_ns = 20000;
  for (;;) {
    int done = 0;
    MPI_TRY(MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE), what);
    if (done) break;
    hb_drain(d);
    double t = now_s(), el = t - t0;
    if (t - d->hb_sent > 1.0) hb_send(d);
    if (el > limit) {
      char who[256] = "";
      size_t len = 0;
      long long oldest = -1;
      double quiet = d->o.timeout / 2 < 5.0 ? d->o.timeout / 2 : 5.0, silent = 0.0;
      for (int r = 0; r < d->world; r++)
        if (r != d->rank && t - d->hb_time[r] > quiet) {
          len += (size_t)snprintf(who + len, len < sizeof who ? sizeof who - len : 0, "%s%d",
                                  len ? ", " : "", r);
          if (oldest < 0 || d->hb_last[r] < oldest) oldest = d->hb_last[r];
          if (t - d->hb_time[r] > silent) silent = t - d->hb_time[r];
        }
      if (len)
        return clgan_error(CLGAN_ERR_IO, "rank %s did not reach the end of iteration %lld: "
                           "silent for %.0f s (last sign of life in iteration %lld), it died "
                           "or hangs; ending the job after waiting %.0f s (--dist-timeout)",
                           who, d->step, silent, oldest, limit);
      return clgan_error(CLGAN_ERR_IO, "%s: no answer from the other ranks within %.0f s at "
                         "iteration %lld (all reached it): one died or hangs; ending the job "
                         "(--dist-timeout sets the wait)", what, limit, d->step);
    }
    struct timespec ts = {0, sleep_ns};
    nanosleep(&ts, NULL);
    if (sleep_ns < 1000000) sleep_ns *= 2;
  }
  return CLGAN_OK;
}

clgan_status dist_init(const dist_opts *o, dist **out) {
  *out = NULL;
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS)
    return clgan_error(CLGAN_ERR_IO, "MPI_Init failed: start clgan with mpirun (Open MPI)");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  dist *d = calloc(1, sizeof *d);
  if (!d) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  d->o = *o;
  MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &d->world);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &d->local_rank);
  MPI_Comm_free(&local);
  MPI_Comm_dup(MPI_COMM_WORLD, &d->grad_comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &d->sum_comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &d->hb_comm);
  size_t w = (size_t)d->world;
  d->hb_last = calloc(w, sizeof *d->hb_last);
  d->hb_time = calloc(w, sizeof *d->hb_time);
  d->hb_in = calloc(w, sizeof *d->hb_in);
  d->hb_out = calloc(w, sizeof *d->hb_out);
  d->hb_rreq = malloc(w * sizeof *d->hb_rreq);
  d->hb_sreq = malloc(w * sizeof *d->hb_sreq);
  if (!d->hb_last || !d->hb_time || !d->hb_in || !d->hb_out || !d->hb_rreq || !d->hb_sreq) {
    dist_finish(d);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  for (int r = 0; r < d->world; r++) {
    d->hb_rreq[r] = d->hb_sreq[r] = MPI_REQUEST_NULL;
    d->hb_time[r] = now_s();
    if (r != d->rank) MPI_Irecv(&d->hb_in[r], 1, MPI_LONG_LONG, r, 7, d->hb_comm, &d->hb_rreq[r]);
  }
  *out = d;
  return CLGAN_OK;
}

int dist_rank(const dist *d) { return d->rank; }
int dist_world(const dist *d) { return d->world; }
int dist_local_rank(const dist *d) { return d->local_rank; }

clgan_status dist_device_spec(const dist *d, const char *devices, const char *device,
                              char *buf, size_t cap, const char **spec) {
  *spec = NULL;
  if (devices) {
    const char *p = devices;
    for (int r = 0; r < d->rank && p; r++) {
      p = strchr(p, ',');
      if (p) p++;
    }
    if (!p || !*p)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "--devices '%s' names no device for rank %d "
                         "(%d ranks: give one device per rank, comma-separated)", devices,
                         d->rank, d->world);
    size_t n = strcspn(p, ",");
    if (n == 0 || n >= cap)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "--devices '%s': item %d is empty or too long",
                         devices, d->rank);
    memcpy(buf, p, n);
    buf[n] = '\0';
    *spec = buf;
    return CLGAN_OK;
  }
  if (device || getenv("CLGAN_DEVICE")) {
    *spec = device; /* NULL: clgan_ctx_create reads $CLGAN_DEVICE */
    return CLGAN_OK;
  }
  clgan_device_list list;
  clgan_status s = clgan_device_list_get(&list);
  if (s) return s;
  int n = list.count;
  clgan_device_list_free(&list);
  if (n <= 0) return clgan_error(CLGAN_ERR_NO_DEVICE, "no OpenCL device on this machine");
  snprintf(buf, cap, "%d", d->local_rank % n);
  *spec = buf;
  return CLGAN_OK;
}

clgan_status dist_open_log(dist *d, const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/rank-%d.log", dir, d->rank);
  d->log = fopen(path, "w");
  if (!d->log) return clgan_error(CLGAN_ERR_IO, "cannot write the rank log '%s'", path);
  setvbuf(d->log, NULL, _IOLBF, 0);
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  dist_log(d, "rank %d of %d (local rank %d) on %s, pid %ld", d->rank, d->world, d->local_rank,
           host, (long)getpid());
  return CLGAN_OK;
}

void dist_log(dist *d, const char *fmt, ...) {
  if (!d->log) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(d->log, "[%.3f] ", now_s());
  vfprintf(d->log, fmt, ap);
  fputc('\n', d->log);
  va_end(ap);
}

clgan_status dist_allgather(dist *d, double v, double *all) {
  MPI_Request r;
  MPI_TRY(MPI_Iallgather(&v, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, d->sum_comm, &r), "MPI_Iallgather");
  return wait_all(d, 1, &r, "allgather");
}

clgan_status dist_shares(const dist *d, int global, const double *weights, int min, int *batch,
                         int *off, int *all) {
  int w = d->world;
  if (global < min * w)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "a global batch of %d cannot give %d ranks %d "
                       "samples each; use --batch %d or more", global, w, min, min * w);
  double tot = 0.0;
  for (int r = 0; r < w; r++) tot += weights ? weights[r] : 1.0;
  int given = 0;
  for (int r = 0; r < w; r++) {
    double f = (weights ? weights[r] : 1.0) / tot;
    all[r] = (int)((double)global * f);
    if (all[r] < min) all[r] = min;
    given += all[r];
  }
  /* the rounding's rest: one at a time to the ranks in order, or back from the largest */
  for (int r = 0; given < global; r = (r + 1) % w) all[r]++, given++;
  while (given > global) {
    int big = 0;
    for (int r = 1; r < w; r++)
      if (all[r] > all[big]) big = r;
    all[big]--, given--;
  }
  *off = 0;
  for (int r = 0; r < d->rank; r++) *off += all[r];
  *batch = all[d->rank];
  return CLGAN_OK;
}

/* ---- reductions ---- */

static clgan_status on_sum(void *user, double *v, size_t n) {
  dist *d = user;
  MPI_Request r;
  MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_SUM, d->sum_comm, &r),
          "MPI_Iallreduce (sync-bn)");
  double t0 = now_s();
  clgan_status s = wait_all(d, 1, &r, "sync-bn allreduce");
  d->st.sync_bn_s += now_s() - t0;
  return s;
}

static net_red *red_of(dist *d, clgan_net *net) {
  for (int k = 0; k < 2; k++)
    if (d->red[k].net == net) return &d->red[k];
  return NULL;
}

/* Starts the allreduce of every bucket whose read is done, in bucket order (every rank
 * starts them in the same order, as MPI requires), and lets MPI progress the others. */
static clgan_status red_progress(dist *d, net_red *nr, int block) {
  for (int i = 0; i < nr->nb; i++) {
    bucket *b = &nr->b[i];
    if (b->state == 0) break;
    if (b->state == 1) {
      cl_int st = CL_QUEUED;
      if (block) clWaitForEvents(1, &b->ev);
      clGetEventInfo(b->ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
      if (st < 0) return clgan_error(CLGAN_ERR_OPENCL, "reading gradients for the allreduce "
                                     "failed (%d)", (int)st);
      if (st != CL_COMPLETE) break;
      clReleaseEvent(b->ev);
      b->ev = NULL;
      MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, nr->host + b->off, (int)b->count, MPI_FLOAT, MPI_SUM,
                             d->grad_comm, &b->req), "MPI_Iallreduce (gradients)");
      d->st.bytes += (double)b->count * sizeof(float);
      d->st.reductions++;
      b->state = 2;
    }
  }
  for (int i = 0; i < nr->nb; i++)
    if (nr->b[i].state == 2) {
      int done = 0;
      MPI_TRY(MPI_Test(&nr->b[i].req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) nr->b[i].state = 3;
    }
  return CLGAN_OK;
}

static clgan_status bucket_read(dist *d, net_red *nr, bucket *b) {
  clgan_ctx *ctx = nr->net->ctx;
  cl_int e = clEnqueueReadBuffer(ctx->queue, nr->net->grads, CL_FALSE, b->off * sizeof(float),
                                 b->count * sizeof(float), nr->host + b->off, 0, NULL, &b->ev);
  if (e != CL_SUCCESS) return clgan_cl_check(e, "clEnqueueReadBuffer (gradient bucket)");
  clFlush(ctx->queue);
  b->state = 1;
  return CLGAN_OK;
}

static clgan_status on_layer_done(void *user, clgan_net *net, int layer) {
  dist *d = user;
  net_red *nr = red_of(d, net);
  if (!nr || !d->o.overlap) return CLGAN_OK;
  for (int i = 0; i < nr->nb; i++)
    if (nr->b[i].lo == layer && nr->b[i].state == 0) {
      clgan_status s = bucket_read(d, nr, &nr->b[i]);
      if (s) return s;
    }
  return red_progress(d, nr, 0);
}

static clgan_status on_reduce(void *user, clgan_net *net) {
  dist *d = user;
  net_red *nr = red_of(d, net);
  if (!nr) return clgan_error(CLGAN_ERR_INTERNAL, "a network without its reduction");
  clgan_status s = CLGAN_OK;
  double t0 = now_s();
  for (int i = 0; i < nr->nb && !s; i++)
    if (nr->b[i].state == 0) s = bucket_read(d, nr, &nr->b[i]);
  if (!s) s = red_progress(d, nr, 1);
  MPI_Request req[64];
  int nreq = 0;
  for (int i = 0; i < nr->nb && !s; i++)
    if (nr->b[i].state == 2) {
      req[nreq++] = nr->b[i].req;
      if (nreq == 64 || i == nr->nb - 1) {
        s = wait_all(d, nreq, req, "gradient allreduce");
        nreq = 0;
      }
    }
  if (!s && nreq) s = wait_all(d, nreq, req, "gradient allreduce");
  for (int i = 0; i < nr->nb; i++) {
    if (nr->b[i].ev) clReleaseEvent(nr->b[i].ev);
    nr->b[i].ev = NULL;
    nr->b[i].state = 0;
  }
  d->st.wait_s += now_s() - t0;
  /* the whole arena in one write (never part of a buffer: Oclgrind's shadow) */
  if (!s) s = clgan_buffer_write(net->ctx, net->grads, 0,
                                 net->desc->param_count * sizeof(float), nr->host);
  return s;
}

/* Buckets of about bucket_mb over the layers from the last: each closes at the layer where
 * it reached the size. Without overlap: one bucket, the whole arena. */
static clgan_status red_make(dist *d, net_red *nr, clgan_net *net) {
  const clgan_net_desc *nd = net->desc;
  nr->net = net;
  nr->host = malloc((nd->param_count ? nd->param_count : 1) * sizeof(float));
  nr->b = calloc((size_t)(nd->count ? nd->count : 1), sizeof *nr->b);
  if (!nr->host || !nr->b) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  size_t cap = (size_t)(d->o.bucket_mb * 1048576.0 / sizeof(float));
  if (cap < 1) cap = 1;
  size_t end = nd->param_count;
  for (int i = nd->count - 1; i >= 0; i--) {
    const clgan_layer_desc *l = &nd->layers[i];
    if (!l->weight_count && !l->bias_count) continue;
    size_t start = l->weight_count ? l->weight_off : l->bias_off;
    if (l->bias_count && l->bias_off < start) start = l->bias_off;
    int last = 1;
    for (int j = i - 1; j >= 0; j--)
      if (nd->layers[j].weight_count || nd->layers[j].bias_count) last = 0;
    if ((d->o.overlap && end - start >= cap) || last) {
      if (last) start = 0;
      bucket *b = &nr->b[nr->nb++];
      b->off = start, b->count = end - start, b->lo = i, b->req = MPI_REQUEST_NULL;
      end = start;
    }
  }
  if (nr->nb == 0 && nd->param_count) {
    nr->b[0].off = 0, nr->b[0].count = nd->param_count, nr->b[0].lo = 0;
    nr->b[0].req = MPI_REQUEST_NULL;
    nr->nb = 1;
  }
  return CLGAN_OK;
}

void dist_set_overlap(dist *d, int on) { d->o.overlap = on; }

clgan_status dist_attach(dist *d, clgan_gan *gan) {
  for (int k = 0; k < 2; k++) {
    free(d->red[k].host);
    free(d->red[k].b);
    memset(&d->red[k], 0, sizeof d->red[k]);
  }
  clgan_status s = red_make(d, &d->red[0], gan->g);
  if (!s) s = red_make(d, &d->red[1], gan->d);
  if (s) return s;
  gan->replica.user = d;
  gan->replica.sum = d->o.sync_bn ? on_sum : NULL;
  gan->replica.layer_grads_done = on_layer_done;
  gan->replica.reduce_grads = on_reduce;
  dist_log(d, "gradient buckets: G %d, D %d (%.2f MB each at most%s)", d->red[0].nb,
           d->red[1].nb, d->o.bucket_mb, d->o.overlap ? ", reduced during the backward" :
           ", reduced after it");
  return CLGAN_OK;
}

/* ---- checks ---- */

static clgan_status arena_hash(clgan_ctx *ctx, cl_mem m, size_t floats, EVP_MD_CTX *h) {
  if (!floats || !m) return CLGAN_OK;
  float *v = malloc(floats * sizeof *v);
  if (!v) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = clgan_buffer_read(ctx, m, 0, floats * sizeof *v, v);
  if (!s) EVP_DigestUpdate(h, v, floats * sizeof *v);
  free(v);
  return s;
}

clgan_status dist_check_same(dist *d, clgan_gan *gan, long long step, int with_stats) {
  EVP_MD_CTX *h = EVP_MD_CTX_new();
  if (!h || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(h);
    return clgan_error(CLGAN_ERR_INTERNAL, "SHA-256 unavailable");
  }
  clgan_status s = CLGAN_OK;
  clgan_net *nets[2] = {gan->g, gan->d};
  for (int k = 0; k < 2 && !s; k++) {
    size_t n = nets[k]->desc->param_count;
    s = arena_hash(gan->ctx, nets[k]->params, n, h);
    if (!s) s = arena_hash(gan->ctx, nets[k]->adam_m, n, h);
    if (!s) s = arena_hash(gan->ctx, nets[k]->adam_v, n, h);
    if (!s && with_stats) s = arena_hash(gan->ctx, nets[k]->stats, nets[k]->desc->stat_count, h);
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(h, md, &len);
  EVP_MD_CTX_free(h);
  if (s) return s;
  unsigned long long mine = 0;
  for (int i = 0; i < 8; i++) mine = mine << 8 | md[i];
  unsigned long long *all = calloc((size_t)d->world, sizeof *all);
  if (!all) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  MPI_Request r;
  int rc = MPI_Iallgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG,
                          d->sum_comm, &r);
  s = rc == MPI_SUCCESS ? wait_all(d, 1, &r, "checksum") : mpi_fail(rc, "MPI_Iallgather");
  char who[256] = "";
  size_t at = 0;
  for (int q = 1; q < d->world && !s; q++)
    if (all[q] != all[0])
      at += (size_t)snprintf(who + at, at < sizeof who ? sizeof who - at : 0, "%s%d (%016llx)",
                             at ? ", " : "", q, all[q]);
  if (!s && at)
    s = clgan_error(CLGAN_ERR_NUMERIC, "the ranks' %s differ %s iteration %lld: rank 0 has "
                    "checksum %016llx, rank %s; the replicas diverged", with_stats ?
                    "weights, Adam moments and batch-norm statistics" : "weights and Adam moments",
                    step ? "after" : "at", step, all[0], who);
  if (!s) dist_log(d, "checksum at iteration %lld: %016llx, the same on all %d ranks", step, mine,
                   d->world);
  free(all);
  return s;
}

clgan_status dist_end_step(dist *d, const clgan_gan *gan, clgan_step_metrics *m, int *stop) {
  double w = (double)gan->batch / (double)gan->cfg.batch;
  double v[6] = {w * m->loss_d, w * m->loss_g, w * m->d_real, w * m->d_fake,
                 w * m->d_fake_after, *stop ? 1.0 : 0.0};
  MPI_Request r;
  MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, v, 6, MPI_DOUBLE, MPI_SUM, d->sum_comm, &r),
          "MPI_Iallreduce (metrics)");
  clgan_status s = wait_all(d, 1, &r, "metrics allreduce");
  if (s) return s;
  m->loss_d = (float)v[0], m->loss_g = (float)v[1], m->d_real = (float)v[2];
  m->d_fake = (float)v[3], m->d_fake_after = (float)v[4];
  *stop = v[5] > 0.0;
  return CLGAN_OK;
}

clgan_status dist_time_allreduce(dist *d, size_t floats, int reps, double *seconds) {
  float *v = calloc(floats ? floats : 1, sizeof *v);
  if (!v) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = CLGAN_OK;
  double best = 1e30;
  for (int i = 0; i < reps + 1 && !s; i++) { /* the first one sets up the connections */
    MPI_Request r;
    MPI_Barrier(d->grad_comm);
    double t0 = now_s();
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)floats, MPI_FLOAT, MPI_SUM, d->grad_comm, &r);
    s = rc == MPI_SUCCESS ? wait_all(d, 1, &r, "allreduce timing") : mpi_fail(rc, "MPI_Iallreduce");
    if (i && now_s() - t0 < best) best = now_s() - t0;
  }
  free(v);
  *seconds = best;
  return s;
}

const dist_stats *dist_get_stats(const dist *d) { return &d->st; }
void dist_reset_stats(dist *d) { memset(&d->st, 0, sizeof d->st); }

void dist_abort(dist *d, int code) {
  dist_log(d, "ending the job (MPI_Abort %d): %s", code, clgan_last_error());
  fflush(NULL);
  MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
}

void dist_finish(dist *d) {
  if (!d) return;
  /* every rank here before any leaves (rank 0 may still write the last checkpoint), with
   * the deadline: a rank that hangs on its way out still ends the job */
  MPI_Request bar;
  if (MPI_Ibarrier(MPI_COMM_WORLD, &bar) == MPI_SUCCESS) {
    d->step++;
    if (wait_all(d, 1, &bar, "the final barrier")) {
      fprintf(stderr, "clgan: error: rank %d: %s\n", d->rank, clgan_last_error());
      dist_abort(d, 1);
    }
  }
  for (int r = 0; d->hb_rreq && r < d->world; r++) {
    if (d->hb_rreq[r] != MPI_REQUEST_NULL) {
      MPI_Cancel(&d->hb_rreq[r]);
      MPI_Request_free(&d->hb_rreq[r]);
    }
    if (d->hb_sreq[r] != MPI_REQUEST_NULL) MPI_Request_free(&d->hb_sreq[r]);
  }
  for (int k = 0; k < 2; k++) {
    free(d->red[k].host);
    free(d->red[k].b);
  }
  if (d->log) fclose(d->log);
  free(d->hb_last);
  free(d->hb_time);
  free(d->hb_in);
  free(d->hb_out);
  free(d->hb_rreq);
  free(d->hb_sreq);
  MPI_Finalize();
  free(d);
}
