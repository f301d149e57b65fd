/* `--distributed` in a build without MPI: every entry point says how to get it (tools/dist.h).
 * Tests: tests/dist/test_dist_none.sh */
#include "dist.h"

int dist_built(void) { return 0; }

const char *dist_howto(void) {
  return "this clgan was built without MPI: install Open MPI (Debian: apt-get install "
         "libopenmpi-dev openmpi-bin, listed in deps/debian-packages.txt), then rebuild "
         "(meson setup --reconfigure build -Dmpi=enabled && meson compile -C build) and start "
         "it with mpirun -np N clgan train --distributed ...";
}

static clgan_status none(void) { return clgan_error(CLGAN_ERR_INVALID_ARG, "%s", dist_howto()); }

clgan_status dist_init(const dist_opts *o, dist **out) {
  (void)o;
  *out = NULL;
  return none();
}
int dist_rank(const dist *d) { (void)d; return 0; }
int dist_world(const dist *d) { (void)d; return 1; }
int dist_local_rank(const dist *d) { (void)d; return 0; }
clgan_status dist_device_spec(const dist *d, const char *devices, const char *device, char *buf,
                              size_t cap, const char **spec) {
  (void)d, (void)devices, (void)device, (void)buf, (void)cap;
  *spec = NULL;
  return none();
}
clgan_status dist_open_log(dist *d, const char *dir) { (void)d, (void)dir; return none(); }
void dist_log(dist *d, const char *fmt, ...) { (void)d, (void)fmt; }
clgan_status dist_allgather(dist *d, double v, double *all) { (void)d, (void)v, (void)all; return none(); }
clgan_status dist_shares(const dist *d, int global, const double *weights, int min, int *batch,
                         int *off, int *all) {
  (void)d, (void)global, (void)weights, (void)min, (void)batch, (void)off, (void)all;
  return none();
}
void dist_set_overlap(dist *d, int on) { (void)d, (void)on; }
clgan_status dist_attach(dist *d, clgan_gan *gan) { (void)d, (void)gan; return none(); }
clgan_status dist_check_same(dist *d, clgan_gan *gan, long long step, int with_stats) {
  (void)d, (void)gan, (void)step, (void)with_stats;
  return none();
}
void dist_heartbeat(dist *d, long long step) { (void)d, (void)step; }
clgan_status dist_end_step(dist *d, const clgan_gan *gan, clgan_step_metrics *m, int *stop) {
  (void)d, (void)gan, (void)m, (void)stop;
  return none();
}
clgan_status dist_time_allreduce(dist *d, size_t floats, int reps, double *seconds) {
  (void)d, (void)floats, (void)reps;
  *seconds = 0.0;
  return none();
}
static dist_stats no_stats;
const dist_stats *dist_get_stats(const dist *d) { (void)d; return &no_stats; }
void dist_reset_stats(dist *d) { (void)d; }
void dist_abort(dist *d, int code) { (void)d, (void)code; }
void dist_finish(dist *d) { (void)d; }
