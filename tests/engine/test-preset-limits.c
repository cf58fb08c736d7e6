/* test-preset-limits.c: presets that declare absurd sizes are refused before
 * anything large is allocated.
 *
 * The executable counts every allocation on this thread (mdn-alloc-count.c).
 * Around each mdn_model_load_from_data() call no single allocation may be
 * larger than the data it was given plus a small constant, and the bytes held
 * at any time at most a small multiple of it: a hostile file cannot make the
 * loader ask for more memory than it brought. test-preset.c checks the error
 * messages of most of these files; this checks the memory. The hand-made
 * payloads are of format version 1; the variant tests are of version 3 (16
 * rate variants with 16 classes each, and mutations of them).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-alloc-count.h"

#include <math.h>
#include <string.h>

#define HEADER_BYTES 16
#define TIER_T "((iiii)sddayauaqauauaqauayauau)"
/* Bookkeeping GLib and the loader may need whatever the file: GVariant
 * instances, error messages, the model and tier structs. */
#define SLACK 4096
/* The loader holds the payload copy, the kernel and its copy, and the tiers. */
#define LIVE_FACTOR 4

/* Loads `b` counting allocations; checks the bounds; returns the model (or
 * NULL with *error set). */
static MdnModel *
load_counted(GBytes *b, GError **error, MdnAllocCount *count_out)
{
  gsize size;
  const void *data = g_bytes_get_data(b, &size);
  MdnAllocCount count;
  MdnModel *m;

  mdn_alloc_count_begin();
  m = mdn_model_load_from_data(data, size, error);
  mdn_alloc_count_end(&count);
  g_test_message("%zu bytes: %s; %" G_GUINT64_FORMAT " allocations, largest %" G_GUINT64_FORMAT
                 ", peak live %" G_GINT64_FORMAT,
                 (size_t)size, m ? "loaded" : (*error)->message, count.allocs, count.max_size,
                 count.peak_live);
  if (count.max_size > size + SLACK)
    g_error("a %zu-byte preset made the loader allocate %" G_GUINT64_FORMAT " bytes at once",
            (size_t)size, count.max_size);
  if (count.peak_live > (gint64)(LIVE_FACTOR * size + SLACK))
    g_error("a %zu-byte preset made the loader hold %" G_GINT64_FORMAT " bytes", (size_t)size,
            count.peak_live);
  if (count_out)
    *count_out = count;
  return m;
}

static void
expect_refused(GBytes *b, const char *fragment)
{
  GError *error = NULL;
  MdnModel *m = load_counted(b, &error, NULL);

  g_assert_null(m);
  g_assert_nonnull(error);
  g_assert_true(error->domain == MDN_ERROR);
  if (fragment && !strstr(error->message, fragment))
    g_error("message \"%s\" lacks \"%s\"", error->message, fragment);
  g_error_free(error);
  g_bytes_unref(b);
}

/* ---- payloads ---- */

static GBytes *
wrap_length(GVariant *root, gboolean fake_length, guint32 length)
{
  GVariant *v = g_variant_ref_sink(g_variant_new_variant(root));
  gsize size = g_variant_get_size(v);
  guint8 *out = g_malloc(HEADER_BYTES + size);
  guint32 le;

  g_assert_cmpint(G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
  memcpy(out, "MDNPRST", 8);
  le = GUINT32_TO_LE(1);
  memcpy(out + 8, &le, 4);
  le = GUINT32_TO_LE(fake_length ? length : (guint32)size);
  memcpy(out + 12, &le, 4);
  g_variant_store(v, out + HEADER_BYTES);
  g_variant_unref(v);
  return g_bytes_new_take(out, HEADER_BYTES + size);
}

static GBytes *
wrap(GVariant *root)
{
  return wrap_length(root, FALSE, 0);
}

/* n zeroed elements of `size` bytes as an array of `type`. */
static GVariant *
zeros(const GVariantType *type, gsize n, gsize size)
{
  gpointer z = g_malloc0(n ? n * size : 1);
  GVariant *v = g_variant_new_fixed_array(type, z, n, size);
  g_free(z);
  return v;
}

static GVariant *
zeros_u32(gsize n)
{
  return zeros(G_VARIANT_TYPE_UINT32, n, 4);
}

static GVariant *
zeros_u16(gsize n)
{
  return zeros(G_VARIANT_TYPE_UINT16, n, 2);
}

static GVariant *
zeros_u8(gsize n)
{
  return zeros(G_VARIANT_TYPE_BYTE, n, 1);
}

static GVariant *
kernel_variant(gint32 cin, gint32 cout, gint32 taps, gint32 dil, gsize n_weights, gsize n_bias)
{
  return g_variant_new("(iiiid@au@au)", cin, cout, taps, dil, 48000.0, zeros_u32(n_weights),
                       zeros_u32(n_bias));
}

static GVariant *
root_variant(GVariant *kernel, GVariant **tiers, gsize n_tiers, const char *date)
{
  return g_variant_new("(@(iiiidauau)(dst)@a" TIER_T ")", kernel, 1.0, date, (guint64)5,
                       g_variant_new_array(G_VARIANT_TYPE(TIER_T), tiers, n_tiers));
}

/* A tier with the given spec and array lengths (all zeros). */
static GVariant *
tier_variant(gint32 s, gint32 depth, gint32 exact_taps, gint32 bits, gsize n_split, gsize n_thr,
             gsize n_exact, gsize n_cb, gsize n_lut, gsize n_cout)
{
  return g_variant_new("((iiii)sdd@ay@au@aq@au@au@aq@au@ay@au@au)", s, depth, exact_taps, bits, "",
                       20.0, 10.0, zeros_u8(n_split), zeros_u32(n_thr), zeros_u16(n_exact),
                       zeros_u32(n_exact), zeros_u32(n_exact * n_cout), zeros_u16(n_cb),
                       zeros_u32(n_cb), zeros_u8(n_lut), zeros_u32(n_cout), zeros_u32(n_cout));
}

static GBytes *
one_tier(GVariant *kernel, GVariant *tier)
{
  return wrap(root_variant(kernel, &tier, 1, ""));
}

/* ---- tests ---- */

static void
test_kernel_sizes(void)
{
  /* Dimensions near 2^31, without the data they would need. */
  expect_refused(wrap(root_variant(kernel_variant(1, 1, G_MAXINT32, 1, 4, 1), NULL, 0, "")),
                 "taps");
  expect_refused(wrap(root_variant(kernel_variant(G_MAXINT32, 1, 4, 1, 4, 1), NULL, 0, "")),
                 "channels");
  expect_refused(
      wrap(root_variant(kernel_variant(1, G_MAXINT32, 4, 1, 4, G_MAXINT16), NULL, 0, "")),
      "channels");
  expect_refused(
      wrap(root_variant(kernel_variant(G_MININT32, G_MININT32, G_MININT32, G_MININT32, 0, 0), NULL,
                        0, "")),
      "channels");
  expect_refused(wrap(root_variant(kernel_variant(1, 1, 4, G_MAXINT32, 4, 1), NULL, 0, "")),
                 "dilation");
  /* Within every limit (2^26 weights: 256 MiB), but the file has none. */
  expect_refused(wrap(root_variant(kernel_variant(256, 256, 1024, 1, 0, 256), NULL, 0, "")),
                 "weights has 0 entries");
  /* The largest kernel the limits allow, with one weight too few. */
  expect_refused(
      wrap(root_variant(kernel_variant(1, 1, MDN_MAX_TAPS, 1, MDN_MAX_TAPS - 1, 1), NULL, 0, "")),
      "weights");
  /* 2^32 weights: 0 in 32-bit arithmetic. */
  expect_refused(wrap(root_variant(kernel_variant(256, 256, 65536, 1, 0, 256), NULL, 0, "")),
                 "exceed");
}

static void
test_header_sizes(void)
{
  GVariant *root = root_variant(kernel_variant(1, 1, 4, 1, 4, 1), NULL, 0, "");
  GBytes *good;

  g_variant_ref_sink(root);
  /* A length field claiming 4 GiB (or 512 MiB) of payload behind a small file. */
  expect_refused(wrap_length(root, TRUE, G_MAXUINT32), "truncated");
  expect_refused(wrap_length(root, TRUE, (guint32)MDN_PRESET_MAX_BYTES), "truncated");
  good = wrap(root);
  {
    GError *error = NULL;
    MdnModel *m = load_counted(good, &error, NULL);

    g_assert_no_error(error);
    mdn_model_free(m);
  }
  g_bytes_unref(good);
  g_variant_unref(root);
}

static void
test_tier_sizes(void)
{
  /* depth 31: 1 << depth is no size at all. */
  expect_refused(
      one_tier(kernel_variant(1, 1, 8, 1, 8, 1), tier_variant(4, 31, 0, 8, 0, 0, 0, 2, 0, 1)),
      "depth");
  expect_refused(one_tier(kernel_variant(1, 1, 8, 1, 8, 1),
                          tier_variant(4, G_MININT32, 0, 8, 0, 0, 0, 2, 0, 1)),
                 "depth");
  expect_refused(one_tier(kernel_variant(1, 1, 8, 1, 8, 1),
                          tier_variant(G_MAXINT32, 4, 0, 8, 4, 15, 0, 2, 32, 1)),
                 "taps per codebook");
  expect_refused(one_tier(kernel_variant(1, 1, 8, 1, 8, 1),
                          tier_variant(4, 4, G_MAXINT32, 8, 4, 15, 0, 2, 32, 1)),
                 "exact taps");
  expect_refused(one_tier(kernel_variant(1, 1, 8, 1, 8, 1),
                          tier_variant(4, 4, 0, G_MAXINT32, 4, 15, 0, 2, 32, 1)),
                 "table bits");
  /* Tables larger than the file: 256 codebooks of 256 buckets x 256 outputs
   * of 16 bits would be 32 MiB; the file holds none of it. */
  expect_refused(one_tier(kernel_variant(256, 256, 1, 1, 65536, 256),
                          tier_variant(1, 8, 0, 16, 256 * 8, 256 * 255, 0, 256, 0, 256)),
                 "lut has 0 bytes");
  /* More codebooks or exact dims than the kernel has inputs. */
  expect_refused(one_tier(kernel_variant(1, 1, 8, 1, 8, 1),
                          tier_variant(4, 4, 0, 8, 4, 15, 0, 100000, 100000 * 16, 1)),
                 "codebooks");
  expect_refused(
      one_tier(kernel_variant(1, 1, 8, 1, 8, 1), tier_variant(4, 4, 0, 8, 4, 15, 100000, 2, 32, 1)),
      "exact dims");
  /* Per-output arrays that do not match cout. */
  expect_refused(
      one_tier(kernel_variant(1, 1, 8, 1, 8, 1), tier_variant(4, 4, 0, 8, 4, 15, 0, 2, 32, 70000)),
      "tier 0");
}

static void
test_many_tiers(void)
{
  /* Many small valid tiers: memory follows the file, tier by tier. */
  const gsize n = 2000;
  GVariant **tiers = g_new(GVariant *, n);
  GError *error = NULL;
  MdnModel *m;
  GBytes *b;
  gsize j;

  for (j = 0; j < n; j++)
    tiers[j] = tier_variant(4, 1, 0, 8, 1, 1, 0, 2, 4, 1);
  b = wrap(root_variant(kernel_variant(1, 1, 8, 1, 8, 1), tiers, n, "2026-11-29"));
  g_free(tiers);
  m = load_counted(b, &error, NULL);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_tiers(m), ==, (int)n);
  mdn_model_free(m);
  g_bytes_unref(b);
}

/* ---- history: MDN_MAX_SPAN and MDN_MAX_STREAM_HISTORY_BYTES ---- */

/* The longest span at the largest dilation: 256 taps at 4096 cover
 * 255 * 4096 + 1 = 1044481 frames (5.4 s at 192 kHz) from 1 KiB of weights. */
#define LONG_TAPS 256
#define LONG_DIL MDN_MAX_DILATION
#define LONG_REACH ((size_t)(LONG_TAPS - 1) * LONG_DIL)
/* What a stream allocates besides its history (structs, FFT set-ups, tier
 * sums and thresholds, the FFT path's output tail): none of it grows with
 * the span. Per group. */
#define STREAM_SLACK_PER_GROUP (512 * 1024)

/* The long kernel with n_tiers tiers that cost the file almost nothing (one
 * codebook of depth 1, zeros): each still keeps a code per frame of span. */
static GBytes *
long_preset(gsize n_tiers)
{
  GVariant **tiers = g_new(GVariant *, n_tiers ? n_tiers : 1);
  GBytes *b;
  gsize j;

  for (j = 0; j < n_tiers; j++)
    tiers[j] = tier_variant(8, 1, 0, 8, 1, 1, 0, 1, 2, 1);
  b = wrap(
      root_variant(kernel_variant(1, 1, LONG_TAPS, LONG_DIL, LONG_TAPS, 1), tiers, n_tiers, ""));
  g_free(tiers);
  return b;
}

static void
test_span(void)
{
  GError *error = NULL;
  MdnModel *m;
  GBytes *b;

  /* One tap more: a 1 KiB file asking for 2^20 + 1 frames per channel. */
  expect_refused(
      wrap(root_variant(kernel_variant(1, 1, LONG_TAPS + 1, LONG_DIL, LONG_TAPS + 1, 1), NULL, 0,
                        "")),
      "kernel: 257 taps at dilation 4096 span 1048577 frames, more than the limit of 1048576");
  /* Taps and dilation both at their limits: 2^32 frames (no weights behind). */
  expect_refused(
      wrap(root_variant(kernel_variant(1, 1, MDN_MAX_TAPS, MDN_MAX_DILATION, 0, 1), NULL, 0, "")),
      "span");
  /* The same rule for kernels made in memory. */
  g_assert_null(mdn_kernel_new(1, 1, LONG_TAPS + 1, LONG_DIL, 192000, &error));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "MDN_MAX_SPAN"));
  g_clear_error(&error);
  /* The longest span loads; so does the longest dense kernel (test_kernel_sizes
   * refuses it only for a missing weight). */
  b = long_preset(0);
  m = load_counted(b, &error, NULL);
  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_kernel(m)->taps, ==, LONG_TAPS);
  mdn_model_free(m);
  g_bytes_unref(b);
}

static void
test_history_tiers(void)
{
  GError *error = NULL;
  MdnModel *m;
  GBytes *b;

  /* 300 tiers of a few dozen bytes each over the longest span: a 40 KiB
   * file whose one-group stream would keep 300 MiB of codes. */
  b = long_preset(300);
  g_test_message("300 long tiers: %zu bytes", g_bytes_get_size(b));
  expect_refused(b, "MDN_MAX_STREAM_HISTORY_BYTES");
  /* 100 of them fit one group. */
  b = long_preset(100);
  m = load_counted(b, &error, NULL);
  g_assert_no_error(error);
  g_assert_cmpuint(mdn_model_history_bytes(m, 1, NULL), <=, MDN_MAX_STREAM_HISTORY_BYTES);
  mdn_model_free(m);
  g_bytes_unref(b);
}

/* New stream of `groups` groups, counting its allocations. */
static MdnStream *
stream_counted(const MdnModel *m, int groups, GError **error, MdnAllocCount *count)
{
  MdnStream *s;

  mdn_alloc_count_begin();
  s = mdn_stream_new(m, groups, error);
  mdn_alloc_count_end(count);
  g_test_message("%d groups: %s; largest allocation %" G_GUINT64_FORMAT
                 ", peak live %" G_GINT64_FORMAT ", bound %" G_GUINT64_FORMAT,
                 groups, s ? "made" : (*error)->message, count->max_size, count->peak_live,
                 mdn_model_history_bytes(m, groups, NULL));
  return s;
}

static void
test_stream_history(void)
{
  GBytes *b = long_preset(8);
  GError *error = NULL;
  MdnAllocCount count;
  MdnModel *m = load_counted(b, &error, NULL);
  MdnStream *s;
  int groups;

  g_assert_no_error(error);
  /* The worst a 1 KiB preset can ask: the longest span on every channel. */
  g_assert_null(stream_counted(m, MDN_MAX_CHANNELS, &error, &count));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "MDN_MAX_STREAM_HISTORY_BYTES"));
  g_clear_error(&error);
  g_assert_cmpuint(count.max_size, <, 4096);
  /* The most groups the limit lets through, and one more. */
  for (groups = 1; groups < MDN_MAX_CHANNELS; groups++)
    if (mdn_model_history_bytes(m, groups + 1, NULL) > MDN_MAX_STREAM_HISTORY_BYTES)
      break;
  g_assert_cmpint(groups, >, 1);
  g_assert_cmpint(groups, <, MDN_MAX_CHANNELS);
  s = stream_counted(m, groups, &error, &count);
  g_assert_no_error(error);
  /* Everything it allocated: at most the limit and the bound it was
   * checked against, plus what does not grow with the span. */
  g_assert_cmpint(count.peak_live, <=,
                  (gint64)(MDN_MAX_STREAM_HISTORY_BYTES + groups * STREAM_SLACK_PER_GROUP));
  g_assert_cmpint(
      count.peak_live, <=,
      (gint64)(mdn_model_history_bytes(m, groups, NULL) + groups * STREAM_SLACK_PER_GROUP));
  /* and most of the bound is really used (the bound is not a wild guess) */
  g_assert_cmpint(count.peak_live, >=, (gint64)(mdn_model_history_bytes(m, groups, NULL) / 2));
  mdn_stream_free(s);
  g_assert_null(stream_counted(m, groups + 1, &error, &count));
  g_assert_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_cmpuint(count.max_size, <, 4096);
  mdn_model_free(m);
  g_bytes_unref(b);
}

/* The longest span is a legitimate kernel: at 192 kHz it saves, loads and
 * streams stereo, and its output 1044480 frames later is right. */
static void
test_long_span_streams(void)
{
  const size_t n = LONG_REACH + 8192, block = 4096;
  const float w0 = 0.5f, w_last = 0.25f, bias = 0.125f;
  MdnTierSpec spec = { 8, 1, 0, 8, 0 };
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(1, 1, LONG_TAPS, LONG_DIL, 192000, &error);
  GRand *r = g_rand_new_with_seed(31);
  float *in, *out;
  MdnModel *m, *loaded;
  MdnStream *s;
  MdnTier *t;
  GBytes *b;
  size_t j, done;
  double worst = 0;

  g_assert_no_error(error);
  k->weights[0] = w0;
  k->weights[LONG_TAPS - 1] = w_last;
  k->bias[0] = bias;
  m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  t = mdn_tier_alloc(&spec, 1, 1, LONG_TAPS, LONG_DIL, 0, 1, &error);
  g_assert_no_error(error);
  mdn_model_add_tier(m, t);
  b = mdn_model_serialize(m, &error);
  g_assert_no_error(error);
  loaded = load_counted(b, &error, NULL);
  g_assert_no_error(error);
  g_assert_cmpfloat(mdn_model_kernel(loaded)->rate, ==, 192000);

  s = mdn_stream_new(loaded, 2, &error);
  g_assert_no_error(error);
  in = g_new(float, 2 * n);
  out = g_new(float, 2 * n);
  for (j = 0; j < 2 * n; j++)
    in[j] = (float)g_rand_double_range(r, -1, 1);
  for (done = 0; done < n; done += block) {
    size_t len = MIN(block, n - done);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in + 2 * done, out + 2 * done, len));
  }
  /* Every frame from the first that reads the oldest tap. */
  for (j = LONG_REACH; j < n; j++) {
    int c;
    for (c = 0; c < 2; c++) {
      double want = bias + w0 * in[2 * j + c] + w_last * in[2 * (j - LONG_REACH) + c];
      worst = MAX(worst, fabs(out[2 * j + c] - want));
    }
  }
  g_test_message("longest span, stereo: worst error %g", worst);
  g_assert_cmpfloat(worst, <, 1e-4);
  /* and the tier runs over it */
  g_assert_true(mdn_stream_process(s, 0, in, out, block));
  for (j = 0; j < 2 * block; j++)
    g_assert_true(isfinite(out[j]));

  mdn_stream_free(s);
  g_free(in);
  g_free(out);
  g_rand_free(r);
  g_bytes_unref(b);
  mdn_model_free(loaded);
  mdn_model_free(m);
  mdn_kernel_free(k);
}

/* A valid preset with tiers, then random mutations and truncations of it:
 * whatever the loader decides, the memory bounds hold. */
static GBytes *
valid_preset(void)
{
  GError *error = NULL;
  MdnKernel *k = mdn_kernel_new(2, 2, 16, 2, 48000, &error);
  MdnTierSpec spec = { 4, 4, 2, 8, 0 };
  MdnModel *m;
  MdnTier *t;
  GBytes *b;
  int j;

  g_assert_no_error(error);
  for (j = 0; j < 2 * 2 * 16; j++)
    k->weights[j] = (float)j / 64.0f;
  m = mdn_model_new(k, &error);
  g_assert_no_error(error);
  t = mdn_tier_alloc(&spec, 2, 2, 16, 2, 2, 8, &error);
  g_assert_no_error(error);
  for (j = 0; j < 8; j++) {
    t->cb_chan[j] = j / 4;
    t->cb_group[j] = j % 4;
  }
  t->exact_tap[1] = 3;
  t->lut_scale[0] = t->lut_scale[1] = 0.01f;
  mdn_model_add_tier(m, t);
  /* and a hyperplane tier (format version 3's field 15) */
  spec.depth = 3;
  spec.hyperplanes = 1;
  t = mdn_tier_alloc(&spec, 2, 2, 16, 2, 0, 8, &error);
  g_assert_no_error(error);
  for (j = 0; j < 8; j++) {
    t->cb_chan[j] = j / 4;
    t->cb_group[j] = j % 4;
  }
  for (j = 0; j < 2 * 3 * 4; j++)
    t->hyperplanes[j] = (float)(j % 5) - 2.0f;
  t->lut_scale[0] = t->lut_scale[1] = 0.01f;
  mdn_model_add_tier(m, t);
  b = mdn_model_serialize(m, &error);
  g_assert_no_error(error);
  mdn_model_free(m);
  mdn_kernel_free(k);
  return b;
}

/* A version-3 preset of MDN_MAX_VARIANTS variants, each with tiers and
 * MDN_MAX_CLASSES classes: the most the container allows. */
static GBytes *
full_variants_preset(int n_tiers)
{
  GError *error = NULL;
  MdnPreset *p = mdn_preset_new();
  const char *names[MDN_MAX_CLASSES];
  char name_buf[MDN_MAX_CLASSES][8];
  double *snr = g_new(double, (gsize)n_tiers *MDN_MAX_CLASSES);
  GBytes *b;
  int v, t, c;

  for (c = 0; c < MDN_MAX_CLASSES; c++) {
    g_snprintf(name_buf[c], sizeof name_buf[c], "c%d", c);
    names[c] = name_buf[c];
  }
  for (v = 0; v < MDN_MAX_VARIANTS; v++) {
    MdnKernel *k = mdn_kernel_new(1, 1, 8, 1, 8000 + 1000 * v, &error);
    MdnModel *m;

    g_assert_no_error(error);
    k->weights[0] = 1;
    m = mdn_model_new(k, &error);
    for (t = 0; t < n_tiers; t++) {
      MdnTierSpec spec = { 4, 1, 0, 8, 0 };
      MdnTier *tier = mdn_tier_alloc(&spec, 1, 1, 8, 1, 0, 2, &error);

      g_assert_no_error(error);
      tier->cb_group[1] = 1;
      tier->lut_scale[0] = 1;
      mdn_model_add_tier(m, tier);
      for (c = 0; c < MDN_MAX_CLASSES; c++)
        snr[t * MDN_MAX_CLASSES + c] = 10 + t + c;
    }
    g_assert_true(mdn_model_set_classes(m, MDN_MAX_CLASSES, names, snr, &error));
    g_assert_true(mdn_preset_add_variant(p, m, &error));
    mdn_kernel_free(k);
  }
  b = mdn_preset_serialize(p, &error);
  g_assert_no_error(error);
  mdn_preset_free(p);
  g_free(snr);
  return b;
}

/* Variants and classes at their limits: memory follows the file. */
static void
test_variants(void)
{
  GBytes *b = full_variants_preset(8);
  GError *error = NULL;
  MdnModel *m = load_counted(b, &error, NULL);

  g_assert_no_error(error);
  g_assert_cmpint(mdn_model_n_classes(m), ==, MDN_MAX_CLASSES);
  mdn_model_free(m);
  g_bytes_unref(b);
}

static void
test_mutations(void)
{
  GBytes *good = valid_preset();
  gsize size;
  const guint8 *data = g_bytes_get_data(good, &size);
  GRand *r = g_rand_new_with_seed(77);
  guint8 *copy = g_malloc(size);
  int iter, loaded = 0;

  {
    GError *error = NULL;
    MdnModel *m = load_counted(good, &error, NULL);

    g_assert_no_error(error);
    mdn_model_free(m);
  }
  for (iter = 0; iter < 2000; iter++) {
    GError *error = NULL;
    gsize cut = iter % 4 == 0 ? (gsize)g_rand_int_range(r, 0, (gint32)size) : size;
    int flips = g_rand_int_range(r, 1, 6), f;
    GBytes *b;
    MdnModel *m;

    memcpy(copy, data, size);
    for (f = 0; f < flips; f++) {
      gsize at = (gsize)g_rand_int_range(r, 0, (gint32)size);

      /* Bytes set to extremes make the likeliest absurd sizes. */
      copy[at] = g_rand_boolean(r) ? (guint8)g_rand_int(r) : (g_rand_boolean(r) ? 0xff : 0x7f);
    }
    if (cut < size && cut >= 16) {
      guint32 le = GUINT32_TO_LE((guint32)(cut - 16)); /* a consistent header */
      memcpy(copy + 12, &le, 4);
    }
    b = g_bytes_new(copy, cut);
    m = load_counted(b, &error, NULL);
    if (m) {
      loaded++;
      mdn_model_free(m);
    } else {
      g_assert_nonnull(error);
      g_error_free(error);
    }
    g_bytes_unref(b);
  }
  g_test_message("%d of 2000 mutated presets loaded", loaded);
  g_free(copy);
  g_rand_free(r);
  g_bytes_unref(good);
}

/* The same for a preset of 16 variants with classes. */
static void
test_variant_mutations(void)
{
  GBytes *good = full_variants_preset(2);
  gsize size;
  const guint8 *data = g_bytes_get_data(good, &size);
  GRand *r = g_rand_new_with_seed(78);
  guint8 *copy = g_malloc(size);
  int iter, loaded = 0;

  for (iter = 0; iter < 1000; iter++) {
    GError *error = NULL;
    int flips = g_rand_int_range(r, 1, 6), f;
    GBytes *b;
    MdnModel *m;

    memcpy(copy, data, size);
    for (f = 0; f < flips; f++) {
      /* Half the flips in the last 512 bytes: framing offsets and claims. */
      gsize at = (iter & 1) ? (gsize)g_rand_int_range(r, 16, (gint32)size)
                            : (gsize)g_rand_int_range(r, (gint32)size - 512, (gint32)size);
      copy[at] = g_rand_boolean(r) ? (guint8)g_rand_int(r) : 0xff;
    }
    b = g_bytes_new(copy, size);
    m = load_counted(b, &error, NULL);
    if (m) {
      loaded++;
      mdn_model_free(m);
    } else {
      g_assert_nonnull(error);
      g_error_free(error);
    }
    g_bytes_unref(b);
  }
  g_test_message("%d of 1000 mutated variant presets loaded", loaded);
  g_free(copy);
  g_rand_free(r);
  g_bytes_unref(good);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  if (!mdn_alloc_count_works())
    g_error("the allocation counter is not in use");
  g_test_add_func("/preset-limits/kernel-sizes", test_kernel_sizes);
  g_test_add_func("/preset-limits/header-sizes", test_header_sizes);
  g_test_add_func("/preset-limits/tier-sizes", test_tier_sizes);
  g_test_add_func("/preset-limits/many-tiers", test_many_tiers);
  g_test_add_func("/preset-limits/mutations", test_mutations);
  g_test_add_func("/preset-limits/variants", test_variants);
  g_test_add_func("/preset-limits/variant-mutations", test_variant_mutations);
  g_test_add_func("/preset-limits/span", test_span);
  g_test_add_func("/preset-limits/history-tiers", test_history_tiers);
  g_test_add_func("/preset-limits/stream-history", test_stream_history);
  g_test_add_func("/preset-limits/long-span-streams", test_long_span_streams);
  return g_test_run();
}
