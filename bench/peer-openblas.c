/* peer-openblas.c: im2col + cblas_sgemm (the `openblas-im2col` method).
 *
 * Each call of up to bench_block frames is unrolled into a matrix A of one
 * row per frame and one column per (input channel, tap), in the weights'
 * order, so that out = A * W^T is one sgemm with W = weights [cout][cin*taps].
 * The history of (taps-1)*dilation frames sits in front of the new frames.
 * OpenBLAS is held to one thread, like every other method measured.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-peers.h"

#ifdef BENCH_HAVE_OPENBLAS

#include <cblas.h>
#include <string.h>

typedef struct {
  int cin, cout, taps, dilation;
  size_t history; /* frames kept in front: (taps-1)*dilation */
  float *frames;  /* [history + bench_block][cin], interleaved */
  float *columns; /* A: [bench_block][cin*taps] */
  const float *weights;
  float *bias;
} Blas;

static void
blas_process(Blas *b, const float *in, float *out, size_t n)
{
  const size_t cols = (size_t)b->cin * b->taps;
  size_t t;
  int i, k, o;

  memcpy(b->frames + b->history * b->cin, in, sizeof(float) * n * b->cin);
  for (t = 0; t < n; t++) {
    float *row = b->columns + t * cols;
    const float *now = b->frames + (b->history + t) * b->cin;
    for (i = 0; i < b->cin; i++)
      for (k = 0; k < b->taps; k++)
        row[i * b->taps + k] = now[i - (ptrdiff_t)k * b->dilation * b->cin];
  }
  for (t = 0; t < n; t++)
    for (o = 0; o < b->cout; o++)
      out[t * b->cout + o] = b->bias[o];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, b->cout, (int)cols, 1.0f, b->columns,
              (int)cols, b->weights, (int)cols, 1.0f, out, b->cout);
  memmove(b->frames, b->frames + n * b->cin, sizeof(float) * b->history * b->cin);
}

static gboolean
blas_run(gpointer state, const float *in, float *out, size_t n_frames, double *seconds,
         GError **error)
{
  Blas *b = state;
  gint64 t0 = g_get_monotonic_time();
  size_t done;

  (void)error;
  memset(b->frames, 0, sizeof(float) * b->history * b->cin);
  for (done = 0; done < n_frames; done += (size_t)bench_block)
    blas_process(b, in + done * b->cin, out + done * b->cout,
                 MIN((size_t)bench_block, n_frames - done));
  *seconds = (g_get_monotonic_time() - t0) / 1e6;
  return TRUE;
}

static void
blas_free(gpointer state)
{
  Blas *b = state;
  g_free(b->frames);
  g_free(b->columns);
  g_free(b->bias);
  g_free(b);
}

gboolean
bench_peer_openblas_new(const MdnKernel *k, BenchPeer *peer, GError **error)
{
  Blas *b;

  (void)error;
  openblas_set_num_threads(1);
  b = g_new0(Blas, 1);
  b->cin = k->cin;
  b->cout = k->cout;
  b->taps = k->taps;
  b->dilation = k->dilation;
  b->history = (size_t)(k->taps - 1) * k->dilation;
  b->frames = g_new0(float, (b->history + (size_t)bench_block) * b->cin);
  b->columns = g_new(float, (size_t)bench_block * b->cin * b->taps);
  b->weights = k->weights; /* the caller keeps the kernel alive */
  b->bias = g_memdup2(k->bias, sizeof(float) * k->cout);
  peer->state = b;
  peer->run = blas_run;
  peer->free = blas_free;
  return TRUE;
}

gboolean
bench_peer_openblas_available(void)
{
  return TRUE;
}

const char *
bench_peer_openblas_describe(void)
{
  static char text[160];
  g_snprintf(text, sizeof text, "%s, one thread", g_strstrip(openblas_get_config()));
  return text;
}

#else /* !BENCH_HAVE_OPENBLAS */

gboolean
bench_peer_openblas_new(const MdnKernel *k, BenchPeer *peer, GError **error)
{
  (void)k;
  (void)peer;
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "built without OpenBLAS");
  return FALSE;
}

gboolean
bench_peer_openblas_available(void)
{
  return FALSE;
}

const char *
bench_peer_openblas_describe(void)
{
  return "not built in (openblas not found)";
}

#endif
