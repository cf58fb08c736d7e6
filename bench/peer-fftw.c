/* peer-fftw.c: FFTW3f uniformly partitioned overlap-save (the `fftw-ola` method).
 *
 * The dilated kernel (length L = (taps-1)*dilation+1) is cut into P partitions
 * of B frames; each block of B input frames is transformed once per input
 * channel (real FFT of 2B), kept in a frequency-domain delay line of P
 * spectra, and each output is one complex multiply-accumulate over (input,
 * partition) then one inverse FFT. B divides bench_block (a power of two), so a call of
 * bench_block frames is whole blocks: zero latency, like the engine.
 * Plans are made with FFTW_MEASURE.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench-peers.h"

#ifdef BENCH_HAVE_FFTW

#include <fftw3.h>
#include <string.h>

/* Four floats: GCC/Clang vector extension, SSE2 on any x86-64. */
typedef float v4sf __attribute__((vector_size(16)));

typedef struct {
  int cin, cout, part; /* part: P partitions */
  int block;           /* B */
  int bins;            /* B + 1 */
  int stride;          /* floats between split spectra: bins rounded up to 4 */
  int slot;            /* FDL index of the newest spectrum */
  float *bias;         /* [cout] */
  float *time;         /* [cin][2B]: previous block, then current block */
  v4sf *fdl;           /* [cin][P][2][stride/4]: real parts, then imaginary parts */
  v4sf *resp;          /* [cout][cin][P][2][stride/4]: kernel partitions / 2B */
  v4sf *acc;           /* [2][stride/4] */
  fftwf_complex *spec; /* [bins]: FFTW's interleaved spectrum */
  float *result;       /* [2B] */
  fftwf_plan forward, inverse;
} Ola;

static size_t
next_pow2(size_t n)
{
  size_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

/* Split complex in vectors: the multiply-accumulate vectorises at -O2. */
static void
split(const fftwf_complex *spec, int bins, int stride, float *re_im)
{
  int b;
  memset(re_im, 0, sizeof(float) * 2 * stride);
  for (b = 0; b < bins; b++) {
    re_im[b] = spec[b][0];
    re_im[stride + b] = spec[b][1];
  }
}

static void
ola_reset(Ola *f)
{
  memset(f->time, 0, sizeof(float) * 2 * f->block * f->cin);
  memset(f->fdl, 0, sizeof(float) * 2 * f->stride * f->part * f->cin);
  f->slot = 0;
}

/* One block of B frames: in and out point at the block's first frame. */
static void
ola_block(Ola *f, const float *in, float *out)
{
  const int B = f->block, P = f->part, cin = f->cin, cout = f->cout;
  const int vecs = f->stride / 4, spectrum = 2 * vecs;
  int i, o, p, b;

  for (i = 0; i < cin; i++) {
    float *t = f->time + (size_t)2 * B * i;
    memcpy(t, t + B, sizeof(float) * B);
    for (b = 0; b < B; b++)
      t[B + b] = in[(size_t)b * cin + i];
    fftwf_execute_dft_r2c(f->forward, t, f->spec);
    split(f->spec, f->bins, f->stride, (float *)(f->fdl + ((size_t)i * P + f->slot) * spectrum));
  }
  for (o = 0; o < cout; o++) {
    v4sf *restrict ar = f->acc, *restrict ai = f->acc + vecs;
    memset(f->acc, 0, sizeof(v4sf) * spectrum);
    for (i = 0; i < cin; i++)
      for (p = 0; p < P; p++) {
        const v4sf *restrict xr = f->fdl + ((size_t)i * P + (f->slot - p + P) % P) * spectrum;
        const v4sf *restrict hr = f->resp + (((size_t)o * cin + i) * P + p) * spectrum;
        const v4sf *restrict xi = xr + vecs, *restrict hi = hr + vecs;
        for (b = 0; b < vecs; b++) {
          ar[b] += xr[b] * hr[b] - xi[b] * hi[b];
          ai[b] += xr[b] * hi[b] + xi[b] * hr[b];
        }
      }
    for (b = 0; b < f->bins; b++) {
      f->spec[b][0] = ((const float *)ar)[b];
      f->spec[b][1] = ((const float *)ai)[b];
    }
    fftwf_execute_dft_c2r(f->inverse, f->spec, f->result);
    for (b = 0; b < B; b++)
      out[(size_t)b * cout + o] = f->result[B + b] + f->bias[o];
  }
  f->slot = (f->slot + 1) % P;
}

static gboolean
ola_run(gpointer state, const float *in, float *out, size_t n_frames, double *seconds,
        GError **error)
{
  Ola *f = state;
  gint64 t0 = g_get_monotonic_time();
  size_t done;

  (void)error;
  ola_reset(f);
  for (done = 0; done < n_frames; done += (size_t)bench_block) {
    size_t n = MIN((size_t)bench_block, n_frames - done), b;
    for (b = 0; b < n; b += f->block)
      ola_block(f, in + (done + b) * f->cin, out + (done + b) * f->cout);
  }
  *seconds = (g_get_monotonic_time() - t0) / 1e6;
  return TRUE;
}

static void
ola_free(gpointer state)
{
  Ola *f = state;
  fftwf_destroy_plan(f->forward);
  fftwf_destroy_plan(f->inverse);
  fftwf_free(f->time);
  fftwf_free(f->fdl);
  fftwf_free(f->resp);
  fftwf_free(f->acc);
  fftwf_free(f->spec);
  fftwf_free(f->result);
  g_free(f->bias);
  g_free(f);
}

gboolean
bench_peer_fftw_new(const MdnKernel *k, BenchPeer *peer, GError **error)
{
  size_t len = (size_t)(k->taps - 1) * k->dilation + 1;
  Ola *f = g_new0(Ola, 1);
  float *taps;
  int o, i, p, j;

  (void)error;
  f->cin = k->cin;
  f->cout = k->cout;
  /* A block as long as the kernel (at least 16, at most a call) keeps both the
   * FFT size and the count of partitions small. */
  f->block = (int)CLAMP(next_pow2(len), 16, (size_t)bench_block);
  f->part = (int)((len + f->block - 1) / f->block);
  f->bins = f->block + 1;
  f->stride = (f->bins + 3) & ~3;
  f->bias = g_memdup2(k->bias, sizeof(float) * k->cout);
  f->time = fftwf_alloc_real((size_t)2 * f->block * f->cin);
  f->fdl = fftwf_malloc(sizeof(float) * 2 * f->stride * f->part * f->cin);
  f->resp = fftwf_malloc(sizeof(float) * 2 * f->stride * f->part * f->cin * f->cout);
  f->acc = fftwf_malloc(sizeof(float) * 2 * f->stride);
  f->spec = fftwf_alloc_complex(f->bins);
  f->result = fftwf_alloc_real(2 * f->block);
  taps = fftwf_alloc_real(2 * f->block);

  f->forward = fftwf_plan_dft_r2c_1d(2 * f->block, taps, f->spec, FFTW_MEASURE);
  f->inverse = fftwf_plan_dft_c2r_1d(2 * f->block, f->spec, f->result, FFTW_MEASURE);

  /* Partition p holds dilated taps p*B .. p*B+B-1, zero-padded to 2B; the
   * inverse FFT's factor 2B is folded in. */
  for (o = 0; o < k->cout; o++)
    for (i = 0; i < k->cin; i++)
      for (p = 0; p < f->part; p++) {
        float *h = (float *)(f->resp + (((size_t)o * k->cin + i) * f->part + p) * f->stride / 2);
        memset(taps, 0, sizeof(float) * 2 * f->block);
        for (j = 0; j < k->taps; j++) {
          size_t at = (size_t)j * k->dilation;
          if (at >= (size_t)p * f->block && at < (size_t)(p + 1) * f->block)
            taps[at - (size_t)p * f->block] = mdn_kernel_weight(k, o, i, j) / (2.0f * f->block);
        }
        fftwf_execute_dft_r2c(f->forward, taps, f->spec);
        split(f->spec, f->bins, f->stride, h);
      }
  fftwf_free(taps);
  ola_reset(f);

  peer->state = f;
  peer->run = ola_run;
  peer->free = ola_free;
  return TRUE;
}

gboolean
bench_peer_fftw_available(void)
{
  return TRUE;
}

const char *
bench_peer_fftw_describe(void)
{
  return fftwf_version;
}

#else /* !BENCH_HAVE_FFTW */

gboolean
bench_peer_fftw_new(const MdnKernel *k, BenchPeer *peer, GError **error)
{
  (void)k;
  (void)peer;
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "built without FFTW3f");
  return FALSE;
}

gboolean
bench_peer_fftw_available(void)
{
  return FALSE;
}

const char *
bench_peer_fftw_describe(void)
{
  return "not built in (fftw3f not found)";
}

#endif
