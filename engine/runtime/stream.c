/* stream.c: history, chunking and tier switching around the paths.
 *
 * Each group keeps one float buffer per input channel: a ring of
 * R = H + MDN_CHUNK frames, stored twice in a row ([copy A | copy B], 2R
 * floats). The frame at ring position q is written at q and at R + q; a
 * chunk of new frames at ring positions p.. is handed to the paths as
 * x[i] = buffer + R + p, whose history x[i][-h], h <= H, is contiguous:
 * copy B back to position R, copy A before it. Every frame is written twice
 * and nothing is ever moved in bulk, so no call pays for the others (a
 * linear buffer moving its last H frames to the front every H frames made
 * one call in H / call-size copy the whole history: a spike for long
 * kernels). Frames before the stream's start are zeros.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dsp.h"

#include <string.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define MDN_NO_TIER (-2) /* no path used yet */

struct _MdnStream {
  const MdnModel *model;
  int groups, cin, cout, n_tiers;
  size_t history;        /* H */
  size_t ring;           /* R = H + MDN_CHUNK; each buffer holds 2R floats */
  size_t pos;            /* ring position of the next new frame */
  guint64 frame;         /* absolute index of the next new frame */
  int last_tier;         /* path used by the last call, or MDN_NO_TIER */
  float *buffers;        /* [groups*cin][2 * ring] */
  const float **x;       /* [cin]: per-group pointers handed to the paths */
  float *scratch;        /* [MDN_CHUNK * cout]: one group's output */
  MdnExact **exact;      /* [groups] */
  MdnTierState **states; /* [groups][n_tiers], entries may be NULL */
  guint64 nonfinite;     /* input samples replaced by 0 since creation/reset */
  /* Crossfade after a tier change: fade_len frames from fade_from to the new
   * path; fade_pos counts the frames already faded. */
  size_t fade_len, fade_pos;
  int fade_from;
  float *fade_scratch;     /* [MDN_CHUNK * cout]: the old path's output */
  const MdnStreamDsp *dsp; /* the process's kernels (mdn_dsp()) */
  MdnAudit *audit;         /* the accuracy audit (audit.c), off by default */
};

MdnStream *
mdn_stream_new(const MdnModel *model, int groups, GError **error)
{
  const MdnKernel *k;
  MdnStream *s;
  float *buffers;
  size_t h, ring;
  int g, t;

  if (!model) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no model");
    return NULL;
  }
  k = mdn_model_kernel(model);
  if (groups < 1 || groups > MDN_MAX_CHANNELS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "groups %d out of range 1..%d",
                groups, MDN_MAX_CHANNELS);
    return NULL;
  }
  if ((gint64)groups * k->cin > MDN_MAX_CHANNELS || (gint64)groups * k->cout > MDN_MAX_CHANNELS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%d groups of %d->%d channels exceed %d channels", groups, k->cin, k->cout,
                MDN_MAX_CHANNELS);
    return NULL;
  }

  /* A long dilated kernel on many channels needs a long history: refuse
   * more than the documented limit before allocating any of it. */
  if (!mdn_model_check_history(model, groups, MDN_ERROR_INVALID_ARGUMENT, error))
    return NULL;
  h = mdn_exact_history(k);
  for (t = 0; t < mdn_model_n_tiers(model); t++)
    h = MAX(h, mdn_tier_history(mdn_model_tier(model, t)));
  ring = h + MDN_CHUNK;
  buffers = g_try_malloc0_n((gsize)groups * k->cin * 2 * ring, sizeof(float));
  if (!buffers) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "out of memory for %" G_GUINT64_FORMAT " frames of history on %d channels",
                (guint64)h, groups * k->cin);
    return NULL;
  }

  s = g_new0(MdnStream, 1);
  s->model = model;
  s->groups = groups;
  s->cin = k->cin;
  s->cout = k->cout;
  s->n_tiers = mdn_model_n_tiers(model);

  s->history = h;
  s->ring = ring;
  s->pos = 0;
  /* Touch every page now, not in the first calls. */
  memset(buffers, 0, sizeof(float) * (size_t)groups * k->cin * 2 * ring);
  s->last_tier = MDN_NO_TIER;
  s->buffers = buffers;
  s->dsp = &mdn_dsp()->stream;
  s->x = g_new0(const float *, k->cin);
  s->scratch = g_new0(float, (size_t)MDN_CHUNK * k->cout);
  s->fade_scratch = g_new0(float, (size_t)MDN_CHUNK * k->cout);
  s->fade_from = MDN_NO_TIER;
  s->audit = mdn_audit_new(model, groups);

  s->exact = g_new0(MdnExact *, groups);
  s->states = g_new0(MdnTierState *, (size_t)groups * MAX(s->n_tiers, 1));
  for (g = 0; g < groups; g++) {
    /* The groups share the kernel's weights and spectra. */
    s->exact[g] = g == 0 ? mdn_exact_new(k) : mdn_exact_new_sharing(s->exact[0]);
    if (!s->exact[g]) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "out of memory for the exact path of a %d->%d kernel of %d taps", k->cin, k->cout,
                  k->taps);
      mdn_stream_free(s);
      return NULL;
    }
    for (t = 0; t < s->n_tiers; t++)
      s->states[(size_t)g * s->n_tiers + t] = mdn_tier_state_new(mdn_model_tier(model, t));
  }
  return s;
}

void
mdn_stream_free(MdnStream *s)
{
  int g, t;

  if (!s)
    return;
  for (g = 0; g < s->groups; g++) {
    mdn_exact_free(s->exact[g]);
    for (t = 0; t < s->n_tiers; t++)
      mdn_tier_state_free(s->states[(size_t)g * s->n_tiers + t]);
  }
  g_free(s->exact);
  g_free(s->states);
  g_free(s->buffers);
  g_free(s->x);
  g_free(s->scratch);
  g_free(s->fade_scratch);
  mdn_audit_free(s->audit);
  g_free(s);
}

int
mdn_stream_groups(const MdnStream *s)
{
  return s->groups;
}

static void
invalidate_path(MdnStream *s, int tier)
{
  int g;
  for (g = 0; g < s->groups; g++) {
    if (tier == MDN_TIER_EXACT) {
      mdn_exact_invalidate(s->exact[g]);
    } else if (tier >= 0) {
      MdnTierState *state = s->states[(size_t)g * s->n_tiers + tier];
      if (state)
        mdn_tier_state_invalidate(state);
    }
  }
}

void
mdn_stream_reset(MdnStream *s)
{
  int t, g;

  memset(s->buffers, 0, sizeof(float) * (size_t)s->groups * s->cin * 2 * s->ring);
  s->pos = 0;
  s->frame = 0;
  s->nonfinite = 0;
  s->fade_from = MDN_NO_TIER;
  s->fade_pos = 0;
  /* The exact path's state for frame 0 is made here, not in the next call. */
  for (g = 0; g < s->groups; g++)
    mdn_exact_reset(s->exact[g]);
  for (t = 0; t < s->n_tiers; t++)
    invalidate_path(s, t);
  mdn_audit_reset(s->audit);
}

/* Runs one path over the chunk already in the buffers: out has stride cout. */
static void
run_path(MdnStream *s, int g, int tier, size_t n, float *out)
{
  const float *bias = mdn_model_kernel(s->model)->bias;
  MdnTierState *state;

  if (tier == MDN_TIER_EXACT) {
    mdn_exact_process(s->exact[g], s->x, s->frame, n, out);
    return;
  }
  state = s->states[(size_t)g * s->n_tiers + tier];
  if (!state) {
    memset(out, 0, sizeof(float) * n * s->cout);
    return;
  }
  mdn_tier_process(mdn_model_tier(s->model, tier), state, s->x, s->frame, n, bias, out);
}

/* One chunk of n <= MDN_CHUNK frames. */
static void
process_chunk(MdnStream *s, int tier, const float *in, float *out, size_t n)
{
  const size_t in_stride = (size_t)s->groups * s->cin;
  const size_t out_stride = (size_t)s->groups * s->cout;
  const gboolean fading = s->fade_from != MDN_NO_TIER;
  size_t t;
  int g, i, o;

  /* Copy B takes the new frames (the paths read them there), copy A the
   * same (the history of the frames after the ring wraps). n frames fit
   * before the ring's end (process_chunks cuts there). */
  s->nonfinite
      += s->dsp->deinterleave(s->buffers + s->ring + s->pos, 2 * s->ring, in, (int)in_stride, n);
  for (i = 0; i < s->groups * s->cin; i++) {
    float *buf = s->buffers + (size_t)i * 2 * s->ring;
    memcpy(buf + s->pos, buf + s->ring + s->pos, sizeof(float) * n);
  }

  mdn_audit_chunk(s->audit, s->buffers + s->ring, 2 * s->ring, s->pos, s->frame, n);

  for (g = 0; g < s->groups; g++) {
    /* One group and no fade: the path writes straight into the caller's
     * buffer (its stride is then cout), saving a copy per frame. */
    float *y = (s->groups == 1 && !fading) ? out : s->scratch;
    for (i = 0; i < s->cin; i++)
      s->x[i] = s->buffers + ((size_t)g * s->cin + i) * 2 * s->ring + s->ring + s->pos;
    run_path(s, g, tier, n, y);
    if (fading) {
      /* Equal-gain linear crossfade from the old path's output. */
      run_path(s, g, s->fade_from, n, s->fade_scratch);
      for (t = 0; t < n; t++) {
        size_t pos = s->fade_pos + t;
        float w = pos >= s->fade_len ? 1.0f : (float)(pos + 1) / (float)(s->fade_len + 1);
        for (o = 0; o < s->cout; o++) {
          float *v = y + t * s->cout + o;
          *v = w * *v + (1.0f - w) * s->fade_scratch[t * s->cout + o];
        }
      }
    }
    if (y == out)
      continue;
    for (t = 0; t < n; t++) {
      const float *src = y + t * s->cout;
      float *dst = out + t * out_stride + (size_t)g * s->cout;
      for (o = 0; o < s->cout; o++)
        dst[o] = src[o];
    }
  }
  if (fading) {
    s->fade_pos += n;
    if (s->fade_pos >= s->fade_len)
      s->fade_from = MDN_NO_TIER;
  }
  s->pos = (s->pos + n) % s->ring;
  s->frame += n;
}

gboolean
mdn_stream_process(MdnStream *s, int tier, const float *in, float *out, size_t n_frames)
{
  size_t done = 0;
#if defined(__SSE__)
  unsigned int csr;
#endif

  if (tier < MDN_TIER_EXACT || tier >= s->n_tiers)
    return FALSE;
  if (n_frames == 0)
    return TRUE;
  if (tier != s->last_tier) {
    /* The path we were still fading from has a current state; any other
     * must rebuild its state from the history. */
    if (tier != s->fade_from)
      invalidate_path(s, tier);
    s->fade_from = MDN_NO_TIER;
    if (s->fade_len > 0 && s->last_tier != MDN_NO_TIER && s->frame > 0) {
      s->fade_from = s->last_tier;
      s->fade_pos = 0;
    }
    s->last_tier = tier;
  }

#if defined(__SSE__)
  /* Flush denormals to zero while filtering: decaying tails and IIR-like
   * reverbs would otherwise slow down by 100x. */
  csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
#endif

  while (done < n_frames) {
    /* At most a chunk, and not past the ring's end. */
    size_t n = MIN(MIN(n_frames - done, (size_t)MDN_CHUNK), s->ring - s->pos);
    process_chunk(s, tier, in + done * s->groups * s->cin, out + done * s->groups * s->cout, n);
    done += n;
  }

  mdn_audit_publish(s->audit);

#if defined(__SSE__)
  _mm_setcsr(csr);
#endif
  return TRUE;
}

guint64
mdn_stream_nonfinite_count(const MdnStream *s)
{
  return s->nonfinite;
}

MdnAudit *
mdn_stream_get_audit(const MdnStream *s)
{
  return s->audit;
}

void
mdn_stream_set_crossfade(MdnStream *s, size_t frames)
{
  s->fade_len = frames;
  if (frames == 0)
    s->fade_from = MDN_NO_TIER;
}
