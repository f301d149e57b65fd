/* `clgan eval`: sample quality of a checkpoint's generator (or of one image set against
 * another) on a classifier's penultimate features: FD, KID, precision/recall, the class
 * histogram, and for conditional models the classifier's accuracy per class.
 * What each number is: docs/EVAL.md. Tests: tests/eval/ */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "clgan/gan.h"
#include "eval_util.h"

#define DEFAULT_REAL CLGAN_EVAL_DEFAULT_REAL

static void help(void) {
  printf("usage: clgan eval --checkpoint CKPT [--real D] [options]\n"
         "       clgan eval --data A [--data2 B] [options]\n\n"
         "Compares generated images (or the images of A) with real ones (or B) on the\n"
         "penultimate features of a classifier: Frechet distance (FD), kernel inception\n"
         "distance (KID), precision and recall (k = 3), the class histogram of each set as\n"
         "the classifier sees it, and for a conditional checkpoint the classifier's accuracy\n"
         "on the samples of each class next to its accuracy on the real images.\n"
         "  --checkpoint CKPT  generate --count images with its generator (conditional: the\n"
         "                     classes in turn, an equal number of each)\n"
         "  --data A           an image set instead (IDX file or PNG folder)\n"
         "  --data2 B          the set to compare A with (default: --real)\n"
         "  --real D           the real images (default: the Fashion-MNIST test set\n"
         "                     " DEFAULT_REAL ")\n"
         "  --classifier C     the feature network (default: the shipped Fashion-MNIST\n"
         "                     classifier, $CLGAN_CLASSIFIER if set; docs/EVAL.md)\n"
         "  --count N          images generated, and the most taken from each data set\n"
         "                     (default 10000)\n"
         "  --kid-subsets S    KID's random subsets (default 100)\n"
         "  --kid-subset-size M  their size (default 1000, at most the smaller set)\n"
         "  --seed S           the generator's noise and KID's subsets (default 1)\n"
         "  --batch-stats      batch norm with each batch's statistics (default: running)\n"
         "  --no-ema           score G's own weights even when the checkpoint has the EMA\n"
         "                     of them (generator_ema.*, clgan train --ema), which it scores\n"
         "                     by default, as clgan generate draws them\n"
         "  --json             every number as JSON on stdout\n"
         "  --device D         the OpenCL device\n"
         "  --print-classifier print the classifier file that would be used, and exit\n");
}

static json_object *jdouble(double v) { return json_object_new_double(v); }

static json_object *hist_json(const clgan_class_hist *h) {
  json_object *o = json_object_new_object(), *a = json_object_new_array();
  for (int k = 0; k < h->classes; k++) json_object_array_add(a, json_object_new_int(h->counts[k]));
  json_object_object_add(o, "counts", a);
  json_object_object_add(o, "covered", json_object_new_int(h->covered));
  json_object_object_add(o, "largest", json_object_new_int(h->largest));
  json_object_object_add(o, "largest_share", jdouble(h->largest_share));
  return o;
}

/* accuracy per class of predictions against labels; -1 for a class without samples */
static double per_class_accuracy(const int32_t *pred, const int32_t *labels, int n, int classes,
                                 double *acc) {
  long *hit = calloc((size_t)classes * 2, sizeof *hit), *tot = hit ? hit + classes : NULL;
  long right = 0, all = 0;
  for (int i = 0; hit && i < n; i++) {
    if (labels[i] < 0 || labels[i] >= classes) continue;
    tot[labels[i]]++, all++;
    if (pred[i] == labels[i]) hit[labels[i]]++, right++;
  }
  for (int k = 0; k < classes; k++) acc[k] = hit && tot[k] ? (double)hit[k] / tot[k] : -1;
  free(hit);
  return all ? (double)right / all : -1;
}

int cmd_eval(int argc, char **argv) {
  const char *ckpt_path = NULL, *data = NULL, *data2 = NULL, *real = NULL, *carg = NULL,
             *device = NULL;
  long count = 10000, seed = 1, kid_subsets = CLGAN_KID_SUBSETS,
       kid_size = CLGAN_KID_SUBSET_SIZE;
  int json = 0, batch_stats = 0, print_classifier = 0, no_ema = 0, ema = 0;
  const cli_opt opts[] = {
      {"--checkpoint", OPT_STRING, &ckpt_path, 0, 0, NULL},
      {"--data", OPT_STRING, &data, 0, 0, NULL},
      {"--data2", OPT_STRING, &data2, 0, 0, NULL},
      {"--real", OPT_STRING, &real, 0, 0, NULL},
      {"--classifier", OPT_STRING, &carg, 0, 0, NULL},
      {"--count", OPT_LONG, &count, 4, 1000000, NULL},
      {"--kid-subsets", OPT_LONG, &kid_subsets, 1, 100000, NULL},
      {"--kid-subset-size", OPT_LONG, &kid_size, 2, 1000000, NULL},
      {"--seed", OPT_LONG, &seed, 0, 2147483647, NULL},
      {"--batch-stats", OPT_FLAG, &batch_stats, 0, 0, NULL},
      {"--no-ema", OPT_FLAG, &no_ema, 0, 0, NULL},
      {"--json", OPT_FLAG, &json, 0, 0, NULL},
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--print-classifier", OPT_FLAG, &print_classifier, 0, 0, NULL},
  };
  int rc = cli_parse_opts("eval", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  if (print_classifier) {
    printf("%s\n", carg && *carg ? carg : clgan_classifier_default_path());
    return CLI_OK;
  }
  if (!!ckpt_path == !!data)
    return cli_usage_error("eval", "pass either --checkpoint CKPT or --data A");
  if (data2 && !data) return cli_usage_error("eval", "--data2 goes with --data");
  if (no_ema && !ckpt_path) return cli_usage_error("eval", "--no-ema goes with --checkpoint");
  if (data2 && real) return cli_usage_error("eval", "--data2 and --real name the same set: pass one");
  const char *bpath = data2 ? data2 : real ? real : DEFAULT_REAL;
  const char *bflag = data2 ? "--data2" : "--real";

  const char *cpath = NULL;
  clgan_status s = eval_classifier_path(carg, &cpath);
  if (s) return cli_report(s);

  clgan_st_file f = {0};
  clgan_model m = {0};
  int have_ckpt = 0, cond = 0;
  clgan_ctx *ctx = NULL;
  clgan_classifier *c = NULL;
  clgan_net *g = NULL;
  clgan_dataset da = {0}, db = {0};
  eval_set ea = {0}, eb = {0};
  float *z = NULL, *img = NULL;
  int32_t *labels = NULL;
  clgan_class_hist ha = {0}, hb = {0};
  double *acc_a = NULL, *acc_b = NULL;
  double t0 = cli_now();
  if (ckpt_path) {
    if ((s = clgan_checkpoint_open(ckpt_path, &f, &m))) goto done;
    have_ckpt = 1;
    const char *ic = clgan_safetensors_meta(&f, "image_channels");
    if ((s = clgan_model_resolve(&m, ic ? atoi(ic) : 0))) goto done;
    cond = m.classes > 0;
  }
  if ((s = clgan_ctx_create(device, 0, &ctx))) goto done;
  if ((s = clgan_classifier_load(ctx, cpath, 256, &c))) goto done;
  double t_load = cli_now();

  /* set A: generated images, or --data */
  if (ckpt_path) {
    /* a progressive checkpoint of padded data (progan32 --pad 2): its images centre-cropped
     * back to the data's size */
    int pad = eval_checkpoint_pad(&f);
    if (pad && (2 * pad >= m.image_h || 2 * pad >= m.image_w)) {
      s = clgan_error(CLGAN_ERR_FORMAT, "checkpoint '%s': its padding %d leaves nothing of its "
                      "%dx%d images", ckpt_path, pad, m.image_w, m.image_h);
      goto done;
    }
    int ch = m.image_h - 2 * pad, cw = m.image_w - 2 * pad;
    if (m.image_c != c->image_c || ch != c->image_h || cw != c->image_w) {
      s = clgan_error(CLGAN_ERR_MISMATCH, "checkpoint '%s' (model '%s') makes %dx%d %s images%s "
                      "but the classifier '%s' takes %dx%d %s ones: pass a classifier trained on "
                      "images of the generator's shape (--classifier)", ckpt_path, m.name,
                      cw, ch, m.image_c == 3 ? "colour" : "grey",
                      pad ? " (centre-cropped by its training padding)" : "", cpath,
                      c->image_w, c->image_h, c->image_c == 3 ? "colour" : "grey");
      goto done;
    }
    int n = (int)count;
    size_t size = (size_t)m.image_c * m.image_h * m.image_w;
    z = malloc(sizeof(float) * (size_t)n * m.nz);
    img = malloc(sizeof(float) * (size_t)n * size);
    labels = cond ? malloc(sizeof *labels * (size_t)n) : NULL;
    if (!z || !img || (cond && !labels)) {
      s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d images", n);
      goto done;
    }
    for (int i = 0; cond && i < n; i++) labels[i] = i % m.classes;
    clgan_philox_normal((size_t)n * m.nz, (unsigned long long)seed, 0, 0, 1, z);
    if ((s = clgan_net_create(ctx, &m.g, n < 128 ? n : 128, 0, "G", &g))) goto done;
    /* the EMA of G's weights when the run kept one (what generate draws), unless --no-ema */
    ema = !no_ema && clgan_safetensors_meta(&f, "ema_decay") != NULL;
    if ((s = clgan_checkpoint_restore_net(&f, ema ? "generator_ema" : "generator", g))) {
      clgan_error_prefix("checkpoint '%s': ", ckpt_path);
      goto done;
    }
    clgan_bn_mode mode = batch_stats ? CLGAN_BN_BATCH_STATS : CLGAN_BN_EVAL;
    if ((s = cond ? clgan_generate_labels(g, z, labels, n, mode, img)
                  : clgan_generate(g, z, n, mode, img)))
      goto done;
    free(z);
    z = NULL;
    eval_crop(img, n, m.image_c, m.image_h, m.image_w, pad);
    if ((s = eval_images(c, img, n, &ea))) goto done;
    free(img);
    img = NULL;
  } else {
    if ((s = eval_load_data(c, data, cpath, "--data", (int)count, &da))) goto done;
    if ((s = eval_dataset(c, &da, &ea))) goto done;
  }
  /* set B: the real images */
  if ((s = eval_load_data(c, bpath, cpath, bflag, (int)count, &db))) goto done;
  if ((s = eval_dataset(c, &db, &eb))) goto done;
  if (ea.n <= CLGAN_PR_K || eb.n <= CLGAN_PR_K) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%d and %d images: each set needs at least %d", ea.n,
                    eb.n, CLGAN_PR_K + 1);
    goto done;
  }
  double t_feat = cli_now();

  int d = c->feat_dim;
  double fd = 0, kid = 0, kid_std = 0, prec = 0, rec = 0;
  if ((s = clgan_fd_features(ea.feat, ea.n, eb.feat, eb.n, d, &fd))) goto done;
  double t_fd = cli_now();
  if ((s = clgan_kid(ea.feat, ea.n, eb.feat, eb.n, d, (int)kid_size, (int)kid_subsets,
                     (unsigned long long)seed, &kid, &kid_std)))
    goto done;
  double t_kid = cli_now();
  if ((s = clgan_precision_recall(eb.feat, eb.n, ea.feat, ea.n, d, CLGAN_PR_K, &prec, &rec)))
    goto done;
  double t_pr = cli_now();
  if ((s = clgan_class_histogram(ea.pred, ea.n, c->classes, &ha))) goto done;
  if ((s = clgan_class_histogram(eb.pred, eb.n, c->classes, &hb))) goto done;
  int ksub = (int)kid_size;
  if (ksub > ea.n) ksub = ea.n;
  if (ksub > eb.n) ksub = eb.n;

  /* accuracy per class: of a conditional generator's samples (the class asked for), of
   * labelled --data images, and of the labelled real images */
  const int32_t *labels_a = cond ? labels : da.labels;
  int per_class = cond ? m.classes == c->classes : da.labels && da.classes == c->classes;
  int real_acc = db.labels && db.classes == c->classes;
  double mean_a = -1, mean_b = -1;
  acc_a = calloc((size_t)c->classes, sizeof *acc_a);
  acc_b = calloc((size_t)c->classes, sizeof *acc_b);
  if (!acc_a || !acc_b) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  if (per_class) mean_a = per_class_accuracy(ea.pred, labels_a, ea.n, c->classes, acc_a);
  if (real_acc) mean_b = per_class_accuracy(eb.pred, db.labels, eb.n, c->classes, acc_b);

  const char *aname = ckpt_path ? "generated" : "A";
  const char *bname = data2 ? "B" : "real";
  if (json) {
    json_object *o = json_object_new_object(), *k = json_object_new_object(),
                *sets = json_object_new_object(), *sec = json_object_new_object(),
                *names = json_object_new_array();
    json_object_object_add(o, "fd", jdouble(fd));
    json_object_object_add(k, "mean", jdouble(kid));
    json_object_object_add(k, "std", jdouble(kid_std));
    json_object_object_add(k, "subset_size", json_object_new_int(ksub));
    json_object_object_add(k, "subsets", json_object_new_int((int)kid_subsets));
    json_object_object_add(o, "kid", k);
    json_object_object_add(o, "precision", jdouble(prec));
    json_object_object_add(o, "recall", jdouble(rec));
    json_object_object_add(o, "k", json_object_new_int(CLGAN_PR_K));
    json_object *ja = json_object_new_object(), *jb = json_object_new_object();
    json_object_object_add(ja, "source", json_object_new_string(ckpt_path ? ckpt_path : data));
    json_object_object_add(ja, "count", json_object_new_int(ea.n));
    if (ckpt_path)
      json_object_object_add(ja, "weights", json_object_new_string(ema ? "generator_ema"
                                                                       : "generator"));
    json_object_object_add(ja, "histogram", hist_json(&ha));
    json_object_object_add(jb, "source", json_object_new_string(bpath));
    json_object_object_add(jb, "count", json_object_new_int(eb.n));
    json_object_object_add(jb, "histogram", hist_json(&hb));
    if (real_acc) json_object_object_add(jb, "accuracy", jdouble(mean_b));
    if (per_class) json_object_object_add(ja, "accuracy", jdouble(mean_a));
    for (int q = 0; q < 2; q++) {
      if (!(q ? real_acc : per_class)) continue;
      json_object *arr = json_object_new_array();
      for (int i = 0; i < c->classes; i++)
        json_object_array_add(arr, (q ? acc_b : acc_a)[i] < 0 ? NULL
                                                              : jdouble((q ? acc_b : acc_a)[i]));
      json_object_object_add(q ? jb : ja, "accuracy_per_class", arr);
    }
    json_object_object_add(sets, aname, ja);
    json_object_object_add(sets, bname, jb);
    json_object_object_add(o, "sets", sets);
    for (int i = 0; i < c->classes; i++)
      json_object_array_add(names, json_object_new_string(c->class_names[i]));
    json_object_object_add(o, "class_names", names);
    json_object_object_add(o, "covered_rule", json_object_new_string(
        "a class is covered when it holds >= 0.25 / classes of the set"));
    json_object_object_add(o, "classifier", json_object_new_string(cpath));
    json_object_object_add(o, "features", json_object_new_int(d));
    json_object_object_add(o, "seed", json_object_new_int64(seed));
    json_object_object_add(sec, "load", jdouble(t_load - t0));
    json_object_object_add(sec, "generate_and_features", jdouble(t_feat - t_load));
    json_object_object_add(sec, "fd", jdouble(t_fd - t_feat));
    json_object_object_add(sec, "kid", jdouble(t_kid - t_fd));
    json_object_object_add(sec, "precision_recall", jdouble(t_pr - t_kid));
    json_object_object_add(o, "seconds", sec);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
  } else {
    printf("%s: %d images %s %s%s\n", aname, ea.n, ckpt_path ? "from" : "of",
           ckpt_path ? ckpt_path : data,
           !ckpt_path ? "" : ema ? " (the EMA of G's weights; --no-ema: G's own)"
                             : " (G's weights)");
    printf("%s: %d images of %s\n", bname, eb.n, bpath);
    printf("features: %d per image, classifier %s\n\n", d, cpath);
    printf("FD         %10.4f\n", fd);
    printf("KID        %10.5f +- %.5f  (%ld subsets of %d)\n", kid, kid_std, kid_subsets, ksub);
    printf("precision  %10.4f  (k = %d)\n", prec, CLGAN_PR_K);
    printf("recall     %10.4f\n\n", rec);
    printf("classes as the classifier sees them (covered: >= %.1f%% of a set):\n",
           100.0 * CLGAN_COVERED_FRACTION / c->classes);
    printf("  %-16s %9s %9s", "class", aname, bname);
    if (per_class || real_acc)
      printf("   accuracy: %9s %9s", per_class ? aname : "", real_acc ? bname : "");
    printf("\n");
    for (int i = 0; i < c->classes; i++) {
      printf("  %-16s %8.2f%% %8.2f%%", c->class_names[i], 100.0 * ha.counts[i] / ha.n,
             100.0 * hb.counts[i] / hb.n);
      if (per_class || real_acc) {
        printf("             ");
        if (per_class && acc_a[i] >= 0) printf("%8.2f%% ", 100 * acc_a[i]);
        else printf("%9s ", "");
        if (real_acc && acc_b[i] >= 0) printf("%8.2f%%", 100 * acc_b[i]);
      }
      printf("\n");
    }
    printf("  covered: %s %d of %d, %s %d of %d; largest share: %s %.1f%% ('%s'), %s %.1f%% "
           "('%s')\n", aname, ha.covered, c->classes, bname, hb.covered, c->classes, aname,
           100 * ha.largest_share, c->class_names[ha.largest], bname, 100 * hb.largest_share,
           c->class_names[hb.largest]);
    if (per_class || real_acc) {
      printf("  accuracy:");
      if (per_class) printf(" %s %.2f%%", aname, 100 * mean_a);
      if (real_acc) printf("%s %s %.2f%%", per_class ? "," : "", bname, 100 * mean_b);
      printf("\n");
    }
    if (cond && !per_class)
      printf("  (no per-class accuracy: the model has %d classes, the classifier %d)\n",
             m.classes, c->classes);
  }
done:
  rc = s ? cli_report(s) : CLI_OK;
  free(acc_a);
  free(acc_b);
  clgan_class_hist_free(&ha);
  clgan_class_hist_free(&hb);
  eval_set_free(&ea);
  eval_set_free(&eb);
  clgan_dataset_free(&da);
  clgan_dataset_free(&db);
  free(labels);
  free(z);
  free(img);
  clgan_net_free(g);
  clgan_classifier_free(c);
  clgan_ctx_free(ctx);
  if (have_ckpt) clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return rc;
}
