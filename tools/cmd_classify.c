/* `clgan classify train|test`: a classifier trained on a dataset's labels with clgan's own
 * ops (softmax cross-entropy, Adam), saved as safetensors; and its accuracy on a labelled
 * dataset. The shipped Fashion-MNIST classifier (clgan eval's feature network) is trained
 * by the command recorded in docs/RESULTS.md. Tests: tests/train/test_classify_cli.sh */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opts.h"
#include "clgan/classifier.h"

static void help_train(void) {
  printf(
      "usage: clgan classify train [--data PATH] [--test PATH] [--model fmnist-classifier|FILE]\n"
      "                            [--epochs N | --iters N] [--batch 64] [--lr 1e-3]\n"
      "                            [--schedule cosine|constant] [--seed S]\n"
      "                            [--out FILE.safetensors] [--max-images N] [--device D]\n\n"
      "Trains an image classifier on a labelled dataset with softmax cross-entropy and Adam\n"
      "(beta 0.9, 0.999), and writes it as safetensors (tensors classifier.<node>.weight ...,\n"
      "metadata: model, class names, the command line, seed, epochs, test accuracy).\n"
      "  --data PATH    labelled images: an IDX file with its *-labels-idx1-ubyte file, or a\n"
      "                 folder of class subfolders; default Fashion-MNIST's training set\n"
      "  --test PATH    labelled test images: accuracy measured after training and recorded\n"
      "  --model M      fmnist-classifier (default) or a model file with a 'classifier' section\n"
      "  --epochs N     passes over the data (default 5); or --iters N steps\n"
      "  --batch N      batch size (default 64); --lr X Adam's step (default 1e-3)\n"
      "  --schedule S   cosine (default): the step falls from --lr to 0 along a half cosine\n"
      "                 over the run; constant: --lr throughout\n"
      "  --seed S       weights, dropout and data order all follow it (default 1): the same\n"
      "                 command on the same device gives the same file, bit for bit\n"
      "  --out FILE     default classifier.safetensors; written atomically at the end\n"
      "  --max-images N use only the first N images of the data\n");
}

static void help_test(void) {
  printf(
      "usage: clgan classify test [--classifier FILE] [--data PATH] [--max-images N] [--json]\n"
      "                           [--device D]\n\n"
      "Accuracy of a classifier, overall and per class, on a labelled dataset.\n"
      "  --classifier FILE  default: the shipped Fashion-MNIST classifier\n"
      "  --data PATH        default Fashion-MNIST's test set (t10k)\n"
      "  --json             one JSON object on stdout instead of the table\n");
}

static void help(void) {
  printf("usage: clgan classify train|test [options]\n\n"
         "  train   train a classifier on a labelled dataset ('clgan classify train --help')\n"
         "  test    accuracy of a classifier on a labelled dataset\n");
}

#define DEFAULT_TEST "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

/* The command line as a shell would take it back: "clgan classify train ...". */
static char *command_line(int argc, char **argv) {
  size_t cap = 64;
  for (int i = 0; i < argc; i++) cap += 4 * strlen(argv[i]) + 3;
  char *s = malloc(cap), *p = s;
  if (!s) return NULL;
  p += sprintf(p, "clgan classify");
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int plain = *a != '\0';
    for (const char *c = a; *c; c++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+", *c))
        plain = 0;
    *p++ = ' ';
    if (plain) {
      p += sprintf(p, "%s", a);
      continue;
    }
    *p++ = '\'';
    for (const char *c = a; *c; c++) {
      if (*c == '\'') p += sprintf(p, "'\\''");
      else *p++ = *c;
    }
    *p++ = '\'';
  }
  *p = '\0';
  return s;
}

/* Refuses an output whose folder does not exist or is not writable, before training. */
static clgan_status check_out(const char *out) {
  char *copy = strdup(out);
  if (!copy) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  const char *dir = dirname(copy);
  int ok = access(dir, W_OK) == 0;
  int e = errno;
  clgan_status s = ok ? CLGAN_OK
                      : clgan_error(CLGAN_ERR_IO, "cannot write '%s': folder '%s': %s", out, dir,
                                    strerror(e));
  free(copy);
  return s;
}

/* The step of iteration `step` (from 0) of `total`: cosine annealing from lr to 0, in
 * double then rounded once, so every run computes the same float. */
static float step_lr(double lr, int cosine, long long step, long long total) {
  if (!cosine) return (float)lr;
  return (float)(lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / (double)total)));
}

static clgan_status need_labels(const clgan_dataset *ds, int classes) {
  if (!ds->labels)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s has no labels: a classifier trains on "
                       "labelled data (an IDX file with its *-labels-idx1-ubyte file, or a folder "
                       "of class subfolders)", ds->source);
  if (ds->classes != classes)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s has %d classes, the classifier %d (its final "
                       "'linear K')", ds->source, ds->classes, classes);
  return CLGAN_OK;
}

/* A clgan_classifier view of a training net (not owned: never freed). */
static clgan_classifier wrap(clgan_ctx *ctx, clgan_model *m, clgan_net *net, int batch) {
  clgan_classifier c = {0};
  c.model = *m;
  c.ctx = ctx;
  c.net = net;
  c.batch = batch;
  c.classes = m->classes;
  c.feat_layer = clgan_classifier_feature_layer(&m->c);
  c.image_c = m->image_c, c.image_h = m->image_h, c.image_w = m->image_w;
  return c;
}

static int classify_train(int argc, char **argv) {
  const char *device = NULL, *model_name = "fmnist-classifier", *data = NULL, *test = NULL;
  const char *out = "classifier.safetensors", *schedule = "cosine";
  long epochs = 5, iters = 0, batch = 64, seed = 1, max_images = 0;
  double lr = 1e-3;
  int seen_epochs = 0, seen_iters = 0;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--model", OPT_STRING, &model_name, 0, 0, NULL},
      {"--data", OPT_STRING, &data, 0, 0, NULL},
      {"--test", OPT_STRING, &test, 0, 0, NULL},
      {"--epochs", OPT_LONG, &epochs, 1, 100000, &seen_epochs},
      {"--iters", OPT_LONG, &iters, 1, 1000000000, &seen_iters},
      {"--batch", OPT_LONG, &batch, 1, 65536, NULL},
      {"--lr", OPT_DOUBLE, &lr, 1e-12, 10.0, NULL},
      {"--schedule", OPT_STRING, &schedule, 0, 0, NULL},
      {"--seed", OPT_LONG, &seed, 0, 2147483647, NULL},
      {"--out", OPT_STRING, &out, 0, 0, NULL},
      {"--max-images", OPT_LONG, &max_images, 1, 1000000000, NULL},
  };
  int r = cli_parse_opts("classify train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (r < 0) {
    help_train();
    return CLI_OK;
  }
  if (r) return r;
  if (seen_epochs && seen_iters)
    return cli_usage_error("classify train", "--epochs and --iters exclude each other");
  if (!*out) return cli_usage_error("classify train", "--out needs a file name");
  int cosine = !strcmp(schedule, "cosine");
  if (!cosine && strcmp(schedule, "constant"))
    return cli_usage_error("classify train", "--schedule takes cosine or constant, not '%s'",
                           schedule);

  clgan_model model;
  clgan_status s = clgan_model_load(model_name, &model);
  if (s) return cli_report(s);
  if (model.kind != CLGAN_MODEL_CLASSIFIER) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is a GAN, not a classifier (a classifier "
                    "file has one 'classifier' section ending in 'linear K')", model_name);
    clgan_model_free(&model);
    return cli_report(s);
  }
  clgan_dataset ds = {0}, ts = {0};
  clgan_ctx *ctx = NULL;
  clgan_net *net = NULL;
  cl_mem labels = NULL, metrics = NULL, dlogits = NULL;
  float *x = NULL, *params = NULL, *stats = NULL;
  int *perm = NULL;
  int32_t *bl = NULL;
  char *cmd = NULL, *names = NULL;
  if ((s = clgan_model_resolve(&model, model.image_c ? model.image_c : 1))) goto done;
  if ((s = check_out(out))) goto done;
  if ((s = clgan_dataset_load(data, model.image_c, model.image_h, model.image_w,
                              (int)max_images, &ds)))
    goto done;
  if ((s = need_labels(&ds, model.classes))) goto done;
  if (ds.count < batch) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "the data has %d images, fewer than one batch of %ld",
                    ds.count, batch);
    goto done;
  }
  if (test) {
    if ((s = clgan_dataset_load(test, model.image_c, model.image_h, model.image_w, 0, &ts)))
      goto done;
    if ((s = need_labels(&ts, model.classes))) goto done;
  }
  int r2 = cli_open_device(device, 0, &ctx);
  if (r2) {
    clgan_model_free(&model);
    clgan_dataset_free(&ds);
    clgan_dataset_free(&ts);
    return r2;
  }
  const clgan_net_desc *d = &model.c;
  int B = (int)batch, K = model.classes;
  size_t img = (size_t)model.image_c * model.image_h * model.image_w;
  long long ipe = ds.count / B, total = seen_iters ? iters : epochs * ipe;
  if ((s = clgan_net_create(ctx, d, B, 1, "classifier", &net))) goto done;
  params = malloc((d->param_count + 1) * 4);
  stats = malloc((d->stat_count + 1) * 4);
  x = malloc((size_t)B * img * 4);
  perm = malloc(sizeof(int) * (size_t)ds.count);
  bl = malloc(sizeof(int32_t) * (size_t)B);
  cmd = command_line(argc, argv);
  names = calloc((size_t)K, CLGAN_CLASS_NAME_MAX + 1);
  if (!params || !stats || !x || !perm || !bl || !cmd || !names) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  clgan_net_init_params(d, (unsigned long long)seed, 2, params, stats);
  if ((s = clgan_net_set_params(net, params, stats))) goto done;
  net->rng_seed = (unsigned long long)seed;
  enum { LOG = 50 };
  if ((s = clgan_buffer_create(ctx, sizeof(int32_t) * (size_t)B, "labels", &labels)) ||
      (s = clgan_buffer_create(ctx, 2 * LOG * 4, "metrics", &metrics)) ||
      (s = clgan_buffer_create(ctx, (size_t)B * K * 4, "dlogits", &dlogits)))
    goto done;
  int tty = isatty(2);
  fprintf(stderr, "clgan classify train: model %s (%zu parameters) on '%s', data %s (%d images, "
          "%d classes), batch %d, %lld iterations\n", model.name, d->param_count,
          ctx->info.name, ds.source, ds.count, K, B, total);
  clgan_view in = clgan_net_input(net);
  double t0 = cli_now(), t_epoch = t0;
  long long cur_epoch = -1;
  float m2[2 * LOG];
  double run_loss = 0.0, run_acc = 0.0;
  int run_n = 0;
  for (long long step = 0; step < total && !s; step++) {
    long long e = step / ipe, p = step % ipe;
    if (e != cur_epoch) {
      cli_epoch_order(perm, ds.count, (unsigned long long)seed, e);
      cur_epoch = e;
    }
    clgan_dataset_batch(&ds, perm + p * B, B, x);
    for (int i = 0; i < B; i++) bl[i] = ds.labels[perm[p * B + i]];
    int slot = (int)(step % LOG);
    if ((s = clgan_buffer_write(ctx, in.mem, in.off * 4, (size_t)B * img * 4, x)) ||
        (s = clgan_buffer_write(ctx, labels, 0, sizeof(int32_t) * (size_t)B, bl)) ||
        (s = clgan_net_forward(net, B, CLGAN_NONE, CLGAN_BN_TRAIN)) ||
        (s = clgan_softmax_xent(ctx, B, K, clgan_net_output(net), CLGAN_VIEW(labels, 0), 1.0f,
                                CLGAN_VIEW(metrics, 2 * (size_t)slot), CLGAN_VIEW(dlogits, 0))) ||
        (s = clgan_net_backward(net, B, CLGAN_VIEW(dlogits, 0), 1, 0, CLGAN_NONE)) ||
        (s = clgan_net_adam(net, step_lr(lr, cosine, step, total), 0.9f, 0.999f, 1e-8f, 0.0f)))
      break;
    int end_epoch = p + 1 == ipe || step + 1 == total;
    if (slot == LOG - 1 || end_epoch) {
      if ((s = clgan_buffer_read(ctx, metrics, 0, (size_t)(slot + 1) * 2 * 4, m2))) break;
      for (int i = 0; i <= slot; i++) run_loss += m2[2 * i], run_acc += m2[2 * i + 1];
      run_n += slot + 1;
      if (!isfinite(run_loss)) {
        s = clgan_error(CLGAN_ERR_NUMERIC, "the loss is not finite at iteration %lld (try a "
                        "smaller --lr)", step + 1);
        break;
      }
      double now = cli_now();
      double ips = (double)(step + 1) * B / (now - t0), eta = (double)(total - step - 1) * B / ips;
      long long shown = p + 1;
      if (tty)
        fprintf(stderr, "\r[epoch %lld] %lld/%lld loss %.4f train acc %.4f %6.0f img/s ETA %02d:%02d ",
                e + 1, shown, ipe, run_loss / run_n, run_acc / run_n, ips, (int)(eta / 60),
                (int)fmod(eta, 60));
      if (end_epoch) {
        fprintf(stderr, "%sepoch %lld: loss %.4f train acc %.4f, %.1f s\n", tty ? "\n" : "",
                e + 1, run_loss / run_n, run_acc / run_n, now - t_epoch);
        t_epoch = now;
        run_loss = run_acc = 0.0;
        run_n = 0;
      }
    }
  }
  if (s) goto done;
  char acc_s[32] = "";
  if (test) {
    clgan_classifier c = wrap(ctx, &model, net, B);
    double acc;
    if ((s = clgan_classifier_accuracy(&c, &ts, &acc, NULL))) goto done;
    snprintf(acc_s, sizeof acc_s, "%.4f", acc);
    fprintf(stderr, "test accuracy %.4f on %d images of %s\n", acc, ts.count, ts.source);
  }
  if ((s = clgan_net_get_params(net, params, stats))) goto done;
  for (int k = 0; k < K; k++) {
    char buf[CLGAN_CLASS_NAME_MAX];
    strcat(names, clgan_dataset_class_name(&ds, k, buf, sizeof buf));
    if (k + 1 < K) strcat(names, "\n");
  }
  char seed_s[32], ep_s[32], it_s[32], b_s[32], lr_s[32], n_s[32];
  snprintf(seed_s, sizeof seed_s, "%ld", seed);
  snprintf(ep_s, sizeof ep_s, "%.6g", (double)total / (double)ipe);
  snprintf(it_s, sizeof it_s, "%lld", total);
  snprintf(b_s, sizeof b_s, "%d", B);
  snprintf(lr_s, sizeof lr_s, "%.9g", (float)lr);
  snprintf(n_s, sizeof n_s, "%d", ds.count);
  const char *keys[] = {"class_names", "command", "seed", "epochs", "iterations", "batch",
                        "lr", "schedule", "data", "train_images", "test_data", "test_accuracy"};
  const char *vals[] = {names, cmd, seed_s, ep_s, it_s, b_s, lr_s, schedule, ds.source, n_s,
                        test ? ts.source : "", acc_s};
  int nk = test ? 12 : 10;
  if ((s = clgan_classifier_save(out, &model, params, stats, net->bn_batches, keys, vals, nk)))
    goto done;
  fprintf(stderr, "wrote %s (%.1f s)\n", out, cli_now() - t0);
done:
  if (labels) clReleaseMemObject(labels);
  if (metrics) clReleaseMemObject(metrics);
  if (dlogits) clReleaseMemObject(dlogits);
  clgan_net_free(net);
  if (ctx) clgan_ctx_free(ctx);
  clgan_dataset_free(&ds);
  clgan_dataset_free(&ts);
  clgan_model_free(&model);
  free(params), free(stats), free(x), free(perm), free(bl), free(cmd), free(names);
  return s ? cli_report(s) : CLI_OK;
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static int classify_test(int argc, char **argv) {
  const char *device = NULL, *path = NULL, *data = DEFAULT_TEST;
  long max_images = 0;
  int json = 0;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--classifier", OPT_STRING, &path, 0, 0, NULL},
      {"--data", OPT_STRING, &data, 0, 0, NULL},
      {"--max-images", OPT_LONG, &max_images, 1, 1000000000, NULL},
      {"--json", OPT_FLAG, &json, 0, 0, NULL},
  };
  int r = cli_parse_opts("classify test", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (r < 0) {
    help_test();
    return CLI_OK;
  }
  if (r) return r;
  clgan_ctx *ctx;
  if ((r = cli_open_device(device, 0, &ctx))) return r;
  clgan_classifier *c = NULL;
  clgan_dataset ds = {0};
  double acc = 0, *per = NULL;
  clgan_status s = clgan_classifier_load(ctx, path, 256, &c);
  if (!s) s = clgan_dataset_load(data, c->image_c, c->image_h, c->image_w, (int)max_images, &ds);
  if (!s) s = need_labels(&ds, c->classes);
  if (!s && !(per = calloc((size_t)c->classes, sizeof *per)))
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_classifier_accuracy(c, &ds, &acc, per);
  if (!s && json) {
    printf("{\"classifier\": ");
    json_str(path ? path : clgan_classifier_default_path());
    printf(", \"data\": ");
    json_str(ds.source);
    printf(", \"images\": %d, \"accuracy\": %.6f, \"per_class\": [", ds.count, acc);
    for (int k = 0; k < c->classes; k++) {
      printf("%s{\"class\": ", k ? ", " : "");
      json_str(c->class_names[k]);
      if (per[k] < 0) printf(", \"accuracy\": null}");
      else printf(", \"accuracy\": %.6f}", per[k]);
    }
    printf("]}\n");
  } else if (!s) {
    printf("classifier %s\ndata %s (%d images)\naccuracy %.4f\n",
           path ? path : clgan_classifier_default_path(), ds.source, ds.count, acc);
    for (int k = 0; k < c->classes; k++) {
      if (per[k] < 0) printf("  %-20s      -\n", c->class_names[k]);
      else printf("  %-20s %.4f\n", c->class_names[k], per[k]);
    }
  }
  free(per);
  clgan_dataset_free(&ds);
  clgan_classifier_free(c);
  clgan_ctx_free(ctx);
  return s ? cli_report(s) : CLI_OK;
}

int cmd_classify(int argc, char **argv) {
  if (argc < 2) {
    help();
    return cli_usage_error("classify", "needs 'train' or 'test'");
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    help();
    return CLI_OK;
  }
  if (!strcmp(argv[1], "train")) return classify_train(argc - 1, argv + 1);
  if (!strcmp(argv[1], "test")) return classify_test(argc - 1, argv + 1);
  return cli_usage_error("classify", "unknown subcommand '%s' (train or test)", argv[1]);
}
