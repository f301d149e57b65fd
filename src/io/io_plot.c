/* Line plots of training curves: panels stacked over a shared x axis, drawn with cairo and
 * written through clgan_png_write (libpng, atomic). Tests: tests/io/test_plot.c */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "internal.h"

/* Layout in pixels; io.h states the resulting image size. */
#define PLOT_W CLGAN_PLOT_WIDTH
#define PANEL_H CLGAN_PLOT_PANEL_HEIGHT
#define XAXIS_H CLGAN_PLOT_XAXIS_HEIGHT
#define MARGIN_L 84
#define MARGIN_R 24
#define TITLE_H 30
#define PANEL_GAP 12

/* matplotlib's tab10: distinct, and familiar to anyone who reads training curves */
static const double palette[10][3] = {
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
    {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
    {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf}};

typedef struct axis {
  double lo, hi;            /* data range shown */
  double step, first;       /* tick spacing and the first tick >= lo */
  int nticks;
} axis;

/* Heckbert's "nice numbers": a step of 1, 2 or 5 times a power of ten, about 5 ticks.
 * An empty or single-valued range is widened so that nothing divides by zero. */
static void axis_fit(axis *a, double lo, double hi, double margin) {
  if (!(lo <= hi)) lo = 0.0, hi = 1.0; /* no finite data */
  if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) {
    double pad = lo == 0.0 ? 1.0 : fabs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  double span = hi - lo;
  lo -= span * margin, hi += span * margin;
  double raw = (hi - lo) / 5.0, mag = pow(10.0, floor(log10(raw))), m = raw / mag;
  a->step = (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * mag;
  a->lo = lo, a->hi = hi;
  a->first = ceil(lo / a->step - 1e-9) * a->step;
  a->nticks = 0;
  while (a->nticks < 50 && a->first + a->nticks * a->step <= hi + 1e-9 * a->step) a->nticks++;
}

static void format_tick(char *buf, size_t n, double v, double step) {
  if (fabs(v) < step * 1e-6) v = 0.0; /* no "-0" or 1e-17 from the tick arithmetic */
  double big = fmax(fabs(v), step);
  if (big >= 1e6 || step < 1e-4) {
    snprintf(buf, n, "%.3g", v);
  } else {
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, n, "%.*f", decimals, v);
  }
}

static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - e.x_bearing - ax * e.width, y - e.y_bearing - ay * e.height);
  cairo_show_text(cr, s);
}

static void set_rgb(cairo_t *cr, int i) {
  const double *c = palette[i % 10];
  cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
}

static void draw_panel(cairo_t *cr, const clgan_plot_panel *p, const float *x, int npoints,
                       const axis *ax, int top, int bottom_panel, const char *xlabel) {
  double x0 = MARGIN_L, x1 = PLOT_W - MARGIN_R;
  double y0 = top + TITLE_H, y1 = top + PANEL_H - PANEL_GAP;
  double lo = INFINITY, hi = -INFINITY;
  for (int s = 0; s < p->nseries; s++)
    for (int i = 0; i < npoints; i++) {
      double v = p->series[s].y ? p->series[s].y[i] : NAN;
      double xv = x ? x[i] : i;
      if (isfinite(v) && isfinite(xv)) lo = fmin(lo, v), hi = fmax(hi, v);
    }
  axis ay;
  axis_fit(&ay, lo, hi, 0.05);
#define PX(v) (x0 + ((v) - ax->lo) / (ax->hi - ax->lo) * (x1 - x0))
#define PY(v) (y1 - ((v) - ay.lo) / (ay.hi - ay.lo) * (y1 - y0))

  /* grid and ticks */
  char buf[64];
  cairo_set_font_size(cr, 12);
  cairo_set_line_width(cr, 1.0);
  for (int t = 0; t < ay.nticks; t++) {
    double v = ay.first + t * ay.step, py = floor(PY(v)) + 0.5;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, x0, py), cairo_line_to(cr, x1, py), cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x0 - 5, py), cairo_line_to(cr, x0, py), cairo_stroke(cr);
    format_tick(buf, sizeof buf, v, ay.step);
    text_at(cr, buf, x0 - 8, py, 1.0, 0.5);
  }
  for (int t = 0; t < ax->nticks; t++) {
    double v = ax->first + t * ax->step, px = floor(PX(v)) + 0.5;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, px, y0), cairo_line_to(cr, px, y1), cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, px, y1), cairo_line_to(cr, px, y1 + 5), cairo_stroke(cr);
    if (bottom_panel) {
      format_tick(buf, sizeof buf, v, ax->step);
      text_at(cr, buf, px, y1 + 8, 0.5, 0.0);
    }
  }
  cairo_rectangle(cr, floor(x0) + 0.5, floor(y0) + 0.5, floor(x1 - x0), floor(y1 - y0));
  cairo_stroke(cr);

  /* labels */
  if (p->title) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 14);
    text_at(cr, p->title, (x0 + x1) / 2, top + TITLE_H / 2.0, 0.5, 0.5);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  }
  cairo_set_font_size(cr, 13);
  if (p->ylabel) {
    cairo_save(cr);
    cairo_translate(cr, 16, (y0 + y1) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, p->ylabel, 0, 0, 0.5, 0.5);
    cairo_restore(cr);
  }
  if (bottom_panel && xlabel) text_at(cr, xlabel, (x0 + x1) / 2, y1 + 30, 0.5, 0.0);

  /* the curves: a NaN (or Inf) breaks a line; a point with no neighbour becomes a dot */
  cairo_save(cr);
  cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
  cairo_clip(cr);
  cairo_set_line_width(cr, 1.6);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (int s = 0; s < p->nseries; s++) {
    const float *y = p->series[s].y;
    if (!y) continue;
    set_rgb(cr, s);
    int run = 0;
    for (int i = 0; i <= npoints; i++) {
      double xv = i < npoints ? (x ? x[i] : i) : NAN, v = i < npoints ? y[i] : NAN;
      if (isfinite(xv) && isfinite(v)) {
        if (run++ == 0)
          cairo_move_to(cr, PX(xv), PY(v));
        else
          cairo_line_to(cr, PX(xv), PY(v));
        continue;
      }
      if (run == 1) {
        double cx, cy;
        cairo_get_current_point(cr, &cx, &cy);
        cairo_new_path(cr);
        cairo_arc(cr, cx, cy, 2.5, 0, 2 * M_PI);
        cairo_fill(cr);
      } else if (run > 1) {
        cairo_stroke(cr);
      }
      run = 0;
    }
  }
  cairo_restore(cr);

  /* legend, top right inside the axes */
  int nlab = 0;
  double lw = 0;
  cairo_set_font_size(cr, 12);
  for (int s = 0; s < p->nseries; s++) {
    if (!p->series[s].label) continue;
    cairo_text_extents_t e;
    cairo_text_extents(cr, p->series[s].label, &e);
    lw = fmax(lw, e.x_advance);
    nlab++;
  }
  if (nlab > 0) {
    double bw = lw + 44, bh = nlab * 18 + 8, bx = x1 - bw - 8, by = y0 + 8;
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    int row = 0;
    for (int s = 0; s < p->nseries; s++) {
      if (!p->series[s].label) continue;
      double ly = by + 4 + 18 * row + 9;
      set_rgb(cr, s);
      cairo_set_line_width(cr, 2.5);
      cairo_move_to(cr, bx + 8, ly), cairo_line_to(cr, bx + 30, ly), cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      text_at(cr, p->series[s].label, bx + 36, ly, 0.0, 0.5);
      row++;
    }
  }
#undef PX
#undef PY
}

clgan_status clgan_plot_write(const char *path, const char *xlabel, const float *x,
                              int npoints, const clgan_plot_panel *panels, int npanels) {
  if (!path || npoints < 0 || !panels || npanels <= 0 || npanels > 16)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "plot '%s': bad arguments (%d points, %d panels)",
                       path ? path : "(null)", npoints, npanels);
  for (int p = 0; p < npanels; p++)
    if (panels[p].nseries < 0 || (panels[p].nseries > 0 && !panels[p].series))
      return clgan_error(CLGAN_ERR_INVALID_ARG, "plot '%s': panel %d has no series array", path,
                         p);
  int height = npanels * PANEL_H + XAXIS_H;
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, PLOT_W, height);
  cairo_t *cr = cairo_create(surf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < npoints; i++) {
    double v = x ? x[i] : i;
    if (isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
  }
  axis ax;
  axis_fit(&ax, lo, hi, 0.02);
  for (int p = 0; p < npanels; p++)
    draw_panel(cr, &panels[p], x, npoints, &ax, p * PANEL_H, p == npanels - 1, xlabel);

  cairo_status_t cs = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_flush(surf);
  if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(surf);
  if (cs != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surf);
    return clgan_error(cs == CAIRO_STATUS_NO_MEMORY ? CLGAN_ERR_NOMEM : CLGAN_ERR_INTERNAL,
                       "drawing plot '%s' failed: %s", path, cairo_status_to_string(cs));
  }
  /* ARGB32 is premultiplied and native-endian; the background is opaque, so RGB is exact */
  const uint8_t *src = cairo_image_surface_get_data(surf);
  int stride = cairo_image_surface_get_stride(surf);
  uint8_t *rgb = malloc((size_t)PLOT_W * height * 3);
  if (!rgb) {
    cairo_surface_destroy(surf);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory drawing plot '%s'", path);
  }
  for (int y = 0; y < height; y++) {
    const uint32_t *row = (const uint32_t *)(src + (size_t)y * stride);
    uint8_t *dst = rgb + (size_t)y * PLOT_W * 3;
    for (int xx = 0; xx < PLOT_W; xx++) {
      dst[3 * xx] = (uint8_t)(row[xx] >> 16);
      dst[3 * xx + 1] = (uint8_t)(row[xx] >> 8);
      dst[3 * xx + 2] = (uint8_t)row[xx];
    }
  }
  cairo_surface_destroy(surf);
  clgan_status s = clgan_png_write(path, rgb, PLOT_W, height, 3);
  free(rgb);
  return s;
}

/* ---- labelled sample grids ---- */

#define LABEL_TEXT_MAX 240 /* widest label text, in pixels; longer ones are clipped */

static double label_font_size(int h) {
  double fs = h * 0.4;
  return fs < 8.0 ? 8.0 : fs > 16.0 ? 16.0 : fs;
}

static const char *row_label(const char *const *labels, int nlabels, int r) {
  return labels && r < nlabels && labels[r] && labels[r][0] ? labels[r] : NULL;
}

int clgan_grid_label_margin(const char *const *row_labels, int nlabels, int h, int pad) {
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t *cr = cairo_create(surf);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, label_font_size(h));
  double widest = 0.0;
  for (int r = 0; r < nlabels; r++) {
    const char *t = row_label(row_labels, nlabels, r);
    if (!t) continue;
    cairo_text_extents_t e;
    cairo_text_extents(cr, t, &e);
    if (e.x_advance > widest) widest = e.x_advance;
  }
  cairo_destroy(cr);
  cairo_surface_destroy(surf);
  if (widest > LABEL_TEXT_MAX) widest = LABEL_TEXT_MAX;
  return (int)ceil(widest) + 2 * (pad > 2 ? pad : 2) + 4;
}

clgan_status clgan_png_write_grid_labeled(const char *path, const float *images, int n, int c,
                                          int h, int w, int cols, int pad,
                                          const char *const *row_labels, int nlabels) {
  if (nlabels < 0 || (nlabels > 0 && !row_labels))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing grid '%s': bad labels (%d)",
                       path ? path : "(null)", nlabels);
  int margin = h > 0 && pad >= 0 ? clgan_grid_label_margin(row_labels, nlabels, h, pad) : 0;
  uint8_t *px = NULL;
  int gw = 0, gh = 0;
  clgan_status s = clgan_grid_pixels(path, images, n, c, h, w, cols, pad, margin, &px, &gw, &gh,
                                     &cols);
  if (s) return s;
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, margin, gh);
  cairo_t *cr = cairo_create(surf);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, label_font_size(h));
  cairo_set_source_rgb(cr, 1, 1, 1);
  int rows = (n + cols - 1) / cols, left = pad > 2 ? pad : 2;
  for (int r = 0; r < rows; r++) {
    const char *t = row_label(row_labels, nlabels, r);
    if (!t) continue;
    cairo_save(cr);
    cairo_rectangle(cr, 0, 0, left + LABEL_TEXT_MAX, gh);
    cairo_clip(cr);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    /* the text's line box centred on the row */
    double mid = pad + r * (h + pad) + h / 2.0;
    cairo_move_to(cr, left, mid + (fe.ascent - fe.descent) / 2.0);
    cairo_show_text(cr, t);
    cairo_restore(cr);
  }
  cairo_status_t cs = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_flush(surf);
  if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(surf);
  if (cs != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surf);
    free(px);
    return clgan_error(cs == CAIRO_STATUS_NO_MEMORY ? CLGAN_ERR_NOMEM : CLGAN_ERR_INTERNAL,
                       "drawing grid labels '%s' failed: %s", path, cairo_status_to_string(cs));
  }
  const uint8_t *src = cairo_image_surface_get_data(surf);
  int stride = cairo_image_surface_get_stride(surf);
  for (int y = 0; y < gh; y++) {
    const uint32_t *row = (const uint32_t *)(src + (size_t)y * stride);
    uint8_t *dst = px + (size_t)y * gw * c;
    for (int x = 0; x < margin; x++) {
      if (c == 1) {
        dst[x] = (uint8_t)(row[x] >> 8); /* white text: R = G = B */
      } else {
        dst[3 * x] = (uint8_t)(row[x] >> 16);
        dst[3 * x + 1] = (uint8_t)(row[x] >> 8);
        dst[3 * x + 2] = (uint8_t)row[x];
      }
    }
  }
  cairo_surface_destroy(surf);
  s = clgan_png_write(path, px, gw, gh, c);
  free(px);
  return s;
}
