/* bench-nam.c: the `nam-standard` workload of maddness-bench: a Neural Amp
 * Modeler WaveNet of the A1 "standard" topology (16 then 8 channels, 10
 * layers each, kernel 3, dilations 1..512, tanh; 13,802 weights) with this
 * project's own random weights at a trained capture's scales, on 48 kHz
 * guitar-range music in NAM's 512-frame blocks.
 *
 * Methods: engine-exact (mdn_net_stream_process) and openblas-layers, the
 * same graph with every product done as im2col of the block (the layer's
 * dilated history gathered into a [rows][frames] matrix) and one
 * cblas_sgemm, tanhf for the activations: the per-layer GEMM peer. Both are
 * checked against the double-precision reference forward pass
 * (tests/engine/nam-reference.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-nam.h"
#include "mdn-signals.h"
#include "nam-reference.h"

#include <math.h>
#include <string.h>
#include <time.h>

#ifdef BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

#define NAM_BLOCK 512

/* The standard capture as .nam JSON text, weights uniform at 1/sqrt(fan-in)
 * scales (the generator in tests/engine/make-nam-models.py, in C). */
static char *
standard_capture(guint32 seed)
{
  GRand *rng = g_rand_new_with_seed(seed);
  GString *s = g_string_new(NULL);
  const int chans[2] = { 16, 8 }, heads[2] = { 8, 1 }, inputs[2] = { 1, 16 };
  int a, l, i;
  gboolean first = TRUE;

#define WEIGHTS(count, fan, gain)                                                                  \
  for (i = 0; i < (count); i++) {                                                                  \
    const double lim = (gain)*sqrt(3.0 / (fan));                                                   \
    g_string_append_printf(s, "%s%.8g", first ? "" : ",", g_rand_double_range(rng, -lim, lim));    \
    first = FALSE;                                                                                 \
  }
#define BIASES(count)                                                                              \
  for (i = 0; i < (count); i++)                                                                    \
    g_string_append_printf(s, ",%.8g", g_rand_double_range(rng, -0.05, 0.05));

  g_string_append(s, "{\"version\": \"0.5.4\", \"architecture\": \"WaveNet\", \"config\": "
                     "{\"layers\": [");
  for (a = 0; a < 2; a++)
    g_string_append_printf(s,
                           "%s{\"input_size\": %d, \"condition_size\": 1, \"head_size\": %d, "
                           "\"channels\": %d, \"kernel_size\": 3, \"dilations\": [1, 2, 4, 8, 16, "
                           "32, 64, 128, 256, 512], \"activation\": \"Tanh\", \"gated\": false, "
                           "\"head_bias\": %s}",
                           a ? ", " : "", inputs[a], heads[a], chans[a], a ? "true" : "false");
  g_string_append(s, "], \"head\": null, \"head_scale\": 0.02}, \"weights\": [");
  for (a = 0; a < 2; a++) {
    const int c = chans[a];
    WEIGHTS(c * inputs[a], inputs[a], 1.0);
    for (l = 0; l < 10; l++) {
      WEIGHTS(c * c * 3, c * 3, 1.0);
      BIASES(c);
      WEIGHTS(c, 1, 0.5);
      WEIGHTS(c * c, c, 0.7);
      BIASES(c);
    }
    WEIGHTS(c * heads[a], c, 0.5);
    if (a == 1)
      BIASES(1);
  }
  g_string_append(s, ",0.02], \"sample_rate\": 48000}");
  g_rand_free(rng);
  return g_string_free(s, FALSE);
#undef WEIGHTS
#undef BIASES
}

static double
now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- the OpenBLAS peer: the engine's graph, products as im2col + sgemm ---- */

#ifdef BENCH_HAVE_OPENBLAS
typedef struct {
  const MdnNetGraph *g;
  float **data; /* per buffer: channels rows of [history | NAM_BLOCK] */
  size_t *len;
  float *cols; /* im2col: [max_rows][NAM_BLOCK] */
  float *y;    /* product: [max_cout][NAM_BLOCK] */
} BlasNet;

static BlasNet *
blas_new(const MdnNetGraph *g)
{
  BlasNet *b = g_new0(BlasNet, 1);
  int i;
  /* one thread, like every other method */
  openblas_set_num_threads(1);
  b->g = g;
  b->data = g_new0(float *, g->n_bufs);
  b->len = g_new0(size_t, g->n_bufs);
  for (i = 0; i < g->n_bufs; i++) {
    b->len[i] = g->bufs[i].history + NAM_BLOCK;
    b->data[i] = g_new0(float, (size_t)g->bufs[i].channels * b->len[i]);
  }
  b->cols = g_new0(float, (size_t)g->max_rows *NAM_BLOCK);
  b->y = g_new0(float, (size_t)g->max_cout *NAM_BLOCK);
  return b;
}

static void
blas_free(BlasNet *b)
{
  int i;
  for (i = 0; i < b->g->n_bufs; i++)
    g_free(b->data[i]);
  g_free(b->data);
  g_free(b->len);
  g_free(b->cols);
  g_free(b->y);
  g_free(b);
}

/* The block's first frame of a channel (each buffer: history then block). */
static float *
blas_at(BlasNet *b, int buf, int chan)
{
  return b->data[buf] + (size_t)chan * b->len[buf] + b->g->bufs[buf].history;
}

static void
blas_block(BlasNet *b, const float *in, float *out, size_t n)
{
  const MdnNetGraph *g = b->g;
  int i, c, r;
  size_t t;

  memcpy(blas_at(b, 0, 0), in, sizeof(float) * n);
  for (i = 0; i < g->n_ops; i++) {
    const MdnNetOp *op = &g->ops[i];
    switch (op->kind) {
    case MDN_OP_GEMM:
      for (r = 0; r < op->n_rows; r++)
        memcpy(b->cols + (size_t)r * n,
               blas_at(b, op->rows[r].buf, op->rows[r].chan) - op->rows[r].lag, sizeof(float) * n);
      for (c = 0; c < op->cout; c++) {
        float *yc = b->y + (size_t)c * n;
        const float bias = op->bias ? op->bias[c] : 0.0f;
        if (op->base_buf >= 0) {
          const float *base = blas_at(b, op->base_buf, op->base_chan + c);
          for (t = 0; t < n; t++)
            yc[t] = base[t] + bias;
        } else {
          for (t = 0; t < n; t++)
            yc[t] = bias;
        }
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, op->cout, (int)n, op->n_rows, 1.0f,
                  op->w, op->n_rows, b->cols, (int)n, 1.0f, b->y, (int)n);
      for (c = 0; c < op->cout; c++)
        memcpy(blas_at(b, op->dst, op->dst_chan + c), b->y + (size_t)c * n, sizeof(float) * n);
      break;
    case MDN_OP_ACT:
      for (c = 0; c < op->cout; c++) {
        float *v = blas_at(b, op->dst, op->dst_chan + c);
        for (t = 0; t < n; t++)
          v[t] = tanhf(v[t]);
      }
      break;
    case MDN_OP_ADD:
      for (c = 0; c < op->cout; c++) {
        float *d = blas_at(b, op->dst, op->dst_chan + c);
        const float *s = blas_at(b, op->src, op->src_chan + c);
        for (t = 0; t < n; t++)
          d[t] = op->copy ? s[t] : d[t] + s[t];
      }
      break;
    default:
      g_assert_not_reached();
    }
  }
  memcpy(out, blas_at(b, g->output, 0), sizeof(float) * n);
  /* slide every history by n */
  for (i = 0; i < g->n_bufs; i++) {
    const size_t h = g->bufs[i].history;
    if (h == 0)
      continue;
    for (c = 0; c < g->bufs[i].channels; c++) {
      float *row = b->data[i] + (size_t)c * b->len[i];
      memmove(row, row + n, sizeof(float) * h);
    }
  }
}
#endif

/* ---- the workload ---- */

static double
median_of(double *v, int n)
{
  int i, j;
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
      double x = v[j];
      v[j] = v[j - 1];
      v[j - 1] = x;
    }
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void
bench_nam_standard(double seconds, int runs, FILE *text, gboolean json, const char *cpu,
                   const char *isa)
{
  char *capture = standard_capture(16);
  const size_t n = (size_t)(seconds * 48000) / NAM_BLOCK * NAM_BLOCK;
  GError *error = NULL;
  MdnWaveNetDesc desc;
  MdnNet *net = mdn_net_load_from_data(capture, strlen(capture), &error);
  float *in = mdn_signal_music(n, 48000, 1001), *out = g_new(float, n);
  double *ref, *t_engine = g_new(double, runs), *t_blas = g_new(double, runs);
  double snr_engine = NAN, snr_blas = NAN, ns_engine, ns_blas = NAN, best;
  MdnNetInfo info;
  int r;
  size_t p;

  g_assert_no_error(error);
  g_assert_true(mdn_nam_parse_wavenet(capture, strlen(capture), &desc, &error));
  mdn_net_submodel_info(net, 0, &info);
  fprintf(stderr, "  nam-standard: %s, %zu weights, %.0f multiply-adds per frame; reference...\n",
          info.summary, info.weights, info.macs_per_frame);
  ref = mdn_test_wavenet_reference(&desc, in, n, 2 * info.receptive_field);

  for (r = -1; r < runs; r++) {
    MdnNetStream *s = mdn_net_stream_new(net, 1, &error);
    double t0;
    g_assert_no_error(error);
    t0 = now_seconds();
    for (p = 0; p < n; p += NAM_BLOCK)
      mdn_net_stream_process(s, 0, in + p, out + p, NAM_BLOCK);
    if (r >= 0)
      t_engine[r] = now_seconds() - t0;
    else
      snr_engine = mdn_snr_db(ref, out, n);
    mdn_net_stream_free(s);
#ifdef BENCH_HAVE_OPENBLAS
    {
      BlasNet *b = blas_new(net->graphs[0]);
      /* the same warm start: the engine's warm state is the graph's steady
       * state on silence; the peer settles by running that much silence */
      float *zeros = g_new0(float, NAM_BLOCK), *junk = g_new(float, NAM_BLOCK);
      for (p = 0; p < 2 * info.receptive_field + NAM_BLOCK; p += NAM_BLOCK)
        blas_block(b, zeros, junk, NAM_BLOCK);
      t0 = now_seconds();
      for (p = 0; p < n; p += NAM_BLOCK)
        blas_block(b, in + p, out + p, NAM_BLOCK);
      if (r >= 0)
        t_blas[r] = now_seconds() - t0;
      else
        snr_blas = mdn_snr_db(ref, out, n);
      blas_free(b);
      g_free(zeros);
      g_free(junk);
    }
#endif
  }
  ns_engine = median_of(t_engine, runs) * 1e9 / n;
#ifdef BENCH_HAVE_OPENBLAS
  ns_blas = median_of(t_blas, runs) * 1e9 / n;
#endif
  best = isnan(ns_blas) ? ns_engine : MIN(ns_engine, ns_blas);
  fprintf(text, "%-12s %-16s %-5s %10.2f %10s %9.3f %8.1f %10s  (%.1fx real time)\n",
          "nam-standard", "engine-exact", "yes", ns_engine, "-", best / ns_engine, snr_engine, "-",
          1e9 / 48000 / ns_engine);
  if (!isnan(ns_blas))
    fprintf(text, "%-12s %-16s %-5s %10.2f %10s %9.3f %8.1f %10s  (%.1fx real time)\n",
            "nam-standard", "openblas-layers", "yes", ns_blas, "-", best / ns_blas, snr_blas, "-",
            1e9 / 48000 / ns_blas);
  else
    fprintf(stderr, "  openblas-layers omitted: built without OpenBLAS\n");
  if (json) {
    printf("{\"workload\": \"nam-standard\", \"method\": \"engine-exact\", \"exact\": true, "
           "\"ns_per_frame\": %.6g, \"speedup_vs_best_exact\": %.6g, \"snr_db\": %.6g, "
           "\"frames\": %zu, \"runs\": %d, \"block\": %d, \"cpu\": \"%s\", \"isa\": \"%s\"}\n",
           ns_engine, best / ns_engine, snr_engine, n, runs, NAM_BLOCK, cpu, isa);
    if (!isnan(ns_blas))
      printf("{\"workload\": \"nam-standard\", \"method\": \"openblas-layers\", \"exact\": true, "
             "\"ns_per_frame\": %.6g, \"speedup_vs_best_exact\": %.6g, \"snr_db\": %.6g, "
             "\"frames\": %zu, \"runs\": %d, \"block\": %d, \"cpu\": \"%s\", \"isa\": \"%s\"}\n",
             ns_blas, best / ns_blas, snr_blas, n, runs, NAM_BLOCK, cpu, isa);
  }
  fflush(text);
  mdn_wavenet_desc_clear(&desc);
  mdn_net_free(net);
  g_free(capture);
  g_free(in);
  g_free(out);
  g_free(ref);
  g_free(t_engine);
  g_free(t_blas);
}
