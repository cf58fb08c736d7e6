/* mdn-private.h: structures shared by the engine's files; not installed.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_PRIVATE_H
#define MDN_PRIVATE_H

#include "maddness.h"

#include <math.h>
#include <stddef.h>

G_BEGIN_DECLS

/* Output rows are normalised in blocks of L frames (MdnTier.norm_block),
 * aligned to the stream's absolute frame count: within a block sigma may
 * only grow (mdn-private.h, "Row normalisation"). Tiers fitted from this
 * version on use MDN_NORM_BLOCK, and preset format version 3 records each
 * tier's; tiers of format versions 1 and 2 were fitted with
 * MDN_NORM_BLOCK_V1 and load with it. Any power of two in
 * [MDN_NORM_BLOCK_MIN, MDN_NORM_BLOCK_MAX] is valid. */
#define MDN_NORM_BLOCK 1024
#define MDN_NORM_BLOCK_V1 64
#define MDN_NORM_BLOCK_MIN 16
#define MDN_NORM_BLOCK_MAX 65536

/* Frames processed per inner chunk of mdn_stream_process(): bounds scratch. */
#define MDN_CHUNK 1024

/* ---- the rules every part checks against (one home each) ---- */

/* A kernel's shape (kernel.c): channels, taps, dilation, span and weights
 * within the limits of maddness.h. FALSE with an error of `code` naming the
 * limit broken. Kernels, presets and tiers all check their shape here. */
gboolean mdn_kernel_shape_check(int cin, int cout, int taps, int dilation, MdnErrorCode code,
                                GError **error);
/* A sample rate in Hz: (0, MDN_MAX_RATE] (kernel.c). */
gboolean mdn_kernel_rate_check(double rate, MdnErrorCode code, GError **error);
/* A tier spec (tier-spec.c): s in 1, 2, 4, 8; d in 1..8; e >= 0 and
 * bounded; q in 5..8 or 16. Used by the spec parser, the tier allocator and
 * validator, the preset loader and the fit. */
gboolean mdn_tier_spec_validate(const MdnTierSpec *spec, MdnErrorCode code, GError **error);

/* A preset file starts with these 8 bytes (the 7 letters and a NUL). */
#define MDN_PRESET_MAGIC "MDNPRST"
#define MDN_PRESET_MAGIC_BYTES 8

/* ---- kernel files (kernel-source.c), the kinds mdn_kernel_load() reads ---- */
/* A WAV impulse response at its own rate. */
MdnKernel *mdn_kernel_load_wav(const char *path, GError **error);
/* A taps file, at `rate`. */
MdnKernel *mdn_kernel_load_taps(const char *path, double rate, GError **error);

struct _MdnModel {
  MdnKernel *kernel;
  MdnTier **tiers; /* fastest first */
  int n_tiers;
  MdnProvenance provenance;
  /* Held-out classes the tiers were measured on (each tier's class_snr). */
  int n_classes;
  char **class_names; /* [n_classes], g_free'd */
};

/* A preset file's rate variants, lowest rate first (preset.c). */
struct _MdnPreset {
  MdnModel *variants[MDN_MAX_VARIANTS];
  int n_variants;
};

/* A class name: 1..MDN_CLASS_NAME_MAX-1 bytes of [a-z0-9_-] (model.c). */
gboolean mdn_class_name_check(const char *name, size_t len, MdnErrorCode code, GError **error);
/* Drops the model's classes and its tiers' class SNRs (claims stay). */
void mdn_model_clear_classes(MdnModel *model);

/* One MADDNESS tier (tier.c).
 *
 * Encoders: one tree per input channel over s = taps_per_codebook consecutive
 * taps, shared by every codebook of that channel. The code at time t is
 *   tree_i(x[t - j*dil] / sigma, j = 0..s-1)
 * where column j of the window is tap offset j. Tree level l compares column
 * split[i][l] with thresholds[i][(1 << l) - 1 + node]; node = 2*node + (x > thr).
 * A hyperplane encoder (hyperplanes != NULL) compares the projection
 * sum_j hyperplanes[i][l][j] * x[t - j*dil] instead of a column.
 *
 * Codebook c = (channel cb_chan[c], group cb_group[c]) covers taps
 * g*s .. g*s+s-1 of that channel and reads the code stream at t - g*s*dil.
 *
 * Output: y[t][o] = bias[o] (added by the stream) + sum_e exact_w[e][o] * x[t -
 * exact_tap[e]*dil][exact_chan[e]]
 *                 + sigma_t * (offset[o] + scale[o] * sum_c lut[c][code][o])
 * with lut stored quantised (uint8 or uint16 by spec.table_bits) as
 * lut[(c * buckets + b) * cout + o]. The code of codebook c for row t is
 * mdn_tier_encode_one (tier, cb_chan[c], &x[cb_chan[c]][t - cb_group[c]*s*dil], sigma_t):
 * windows are normalised by the sigma of the row that reads them. */
struct _MdnTier {
  MdnTierSpec spec;
  char name[MDN_TIER_NAME_MAX];
  double snr_db; /* the claim: the worst of class_snr when the model has classes */
  double cost;
  double *class_snr;             /* [the model's n_classes] or NULL: SNR per held-out class */
  int cin, cout, taps, dilation; /* the kernel's shape, for validation */
  int buckets;                   /* 1 << depth */
  int norm_block;                /* L of the row normalisation (MDN_NORM_BLOCK) */

  guint8 *split;     /* [cin][depth]: column 0..s-1 (axis encoder) */
  float *thresholds; /* [cin][buckets - 1], in the normalised domain */
  /* Hyperplane encoder (spec.hyperplanes; else NULL, the axis encoder,
   * split): [cin][depth][s], level l compares mdn_tier_project
   * (hyperplanes[i][l], window) instead of column split[i][l]. */
  float *hyperplanes;

  int n_exact;
  guint16 *exact_chan; /* [n_exact] */
  guint32 *exact_tap;  /* [n_exact] */
  float *exact_w;      /* [n_exact][cout] */

  int n_codebooks;
  guint16 *cb_chan;  /* [n_codebooks] */
  guint32 *cb_group; /* [n_codebooks] */
  void *lut;         /* guint8 or guint16 [n_codebooks][buckets][cout] */
  float *lut_scale;  /* [cout] */
  float *lut_offset; /* [cout] */
};

/* Table entry widths: 16, or 5..8 bits stored in one byte each. Narrower
 * entries lose accuracy (quantisation) but let the vector scans add several
 * codebooks in 8 bits before widening: 4 * (2^6 - 1) < 256. */
static inline gboolean
mdn_table_bits_ok(int bits)
{
  return bits == 16 || (bits >= 5 && bits <= 8);
}

/* Bytes per stored table entry. */
static inline int
mdn_table_entry_bytes(int bits)
{
  return bits > 8 ? 2 : 1;
}

/* ---- tier data (tier-data.c): allocation, checks, info ---- */
MdnTier *mdn_tier_alloc(const MdnTierSpec *spec, int cin, int cout, int taps, int dilation,
                        int n_exact, int n_codebooks, GError **error);
void mdn_tier_free(MdnTier *tier);
/* A normalisation block length: a power of two in [MDN_NORM_BLOCK_MIN,
 * MDN_NORM_BLOCK_MAX]. */
static inline gboolean
mdn_norm_block_ok(int block)
{
  return block >= MDN_NORM_BLOCK_MIN && block <= MDN_NORM_BLOCK_MAX && (block & (block - 1)) == 0;
}

/* Checks every index and value against the shape (used by the loader). */
gboolean mdn_tier_validate(const MdnTier *tier, GError **error);
void mdn_tier_get_info(const MdnTier *tier, MdnTierInfo *info);
size_t mdn_tier_table_bytes(const MdnTier *tier);

/* ---- tier runtime (tier.c): scalar reference encode and scan ---- */

/* Groups of s taps per channel: ceil(taps / s). */
static inline int
mdn_tier_groups(const MdnTier *tier)
{
  return (tier->taps + tier->spec.taps_per_codebook - 1) / tier->spec.taps_per_codebook;
}

/* The span of past frames a row reads through its codebooks:
 * (groups * s - 1) * dilation. */
static inline size_t
mdn_tier_span(const MdnTier *tier)
{
  return ((size_t)mdn_tier_groups(tier) * tier->spec.taps_per_codebook - 1) * tier->dilation;
}

/* Frames of input history the tier reads before the current frame:
 * span + norm_block (the normaliser looks back to its block's start). */
size_t mdn_tier_history(const MdnTier *tier);

/* Row normalisation, the rule shared by training and streaming:
 * sigma_t = mdn_pow2_ceil (max |x[u][i]| over all input channels i and
 *                          u in [B - span, t]),  B = t - t % L,
 * L = tier->norm_block, t being the absolute frame index (frames before the
 * stream start are 0). Powers of two keep the scaling exact, so the tier is
 * level-invariant. Within a block sigma only grows (at a louder frame) and it
 * can fall only at a block start: the codes of the positions the block's
 * rows read must be encoded again whenever sigma changes, so a long block
 * (MDN_NORM_BLOCK, 1024 frames) encodes each sample about once, where the
 * 64 frames of format versions 1 and 2 encoded the span again at most block
 * starts. Measured on lowpass64 (speech, maddness-bench's held-out signal,
 * default ladder refitted with each L): L = 64 16.1 / 27.6 / 33.1 / 40.8 /
 * 54.2 dB, 1024 15.7 / 27.3 / 33.4 / 40.3 / 53.5 dB, 4096 15.7 / 27.0 /
 * 32.8 / 39.0 / 51.6 dB; a look-back of a whole block at its start
 * (hysteresis) gained nothing (15.9 / 27.1 / 32.9 / 39.6 / 52.3 dB).
 * Digital silence (m = 0) has sigma 0: the row's table term, sigma times
 * (offset + scale * sum), is then exactly 0 (training skips such rows). */
static inline float
mdn_pow2_ceil(float m)
{
  int e;
  if (!(m > 0x1p-100f))
    return m == 0.0f ? 0.0f : 0x1p-100f; /* tiny (or NaN): a tiny scale */
  if (!(m < 0x1p100f))
    return 0x1p100f;
  (void)frexpf(m, &e); /* m = f * 2^e, f in [0.5, 1) */
  return ldexpf(1.0f, e);
}

/* The projection of the window ending at xt (xt[-j*dil] is tap offset j) on
 * a hyperplane of s floats: float products added in column order, the rule
 * every hyperplane encode kernel and the fit follow to the bit (no fused
 * multiply-add). */
static inline float
mdn_tier_project(const float *plane, int s, const float *xt, int dilation)
{
  float p = 0.0f;
  int j;
  for (j = 0; j < s; j++)
    p += plane[j] * xt[-(ptrdiff_t)j * dilation];
  return p;
}

/* The code of input channel `chan` for the window ending at xt (xt points at
 * x[t] of that channel; xt[-j*dil] is tap offset j), normalised by sigma. */
static inline unsigned
mdn_tier_encode_one(const MdnTier *tier, int chan, const float *xt, float sigma)
{
  const int depth = tier->spec.depth;
  const guint8 *split = tier->split + (size_t)chan * depth;
  const float *thr = tier->thresholds + (size_t)chan * (tier->buckets - 1);
  unsigned node = 0;
  int l;
  if (tier->hyperplanes) {
    const int s = tier->spec.taps_per_codebook;
    const float *planes = tier->hyperplanes + (size_t)chan * depth * s;
    for (l = 0; l < depth; l++) {
      float p = mdn_tier_project(planes + (size_t)l * s, s, xt, tier->dilation);
      node = 2 * node + (p > thr[(1u << l) - 1 + node] * sigma);
    }
    return node;
  }
  for (l = 0; l < depth; l++) {
    float v = xt[-(ptrdiff_t)split[l] * tier->dilation];
    node = 2 * node + (v > thr[(1u << l) - 1 + node] * sigma);
  }
  return node;
}

/* Per-stream state of one tier: code history, normalisation state. */
typedef struct _MdnTierState MdnTierState;
MdnTierState *mdn_tier_state_new(const MdnTier *tier);
void mdn_tier_state_free(MdnTierState *state);
/* Called when the stream switches to this tier or is reset: the state must
 * rebuild whatever it caches from the input history alone. */
void mdn_tier_state_invalidate(MdnTierState *state);
/* Computes n (<= MDN_CHUNK) output frames. x[i] points at the first new
 * sample of input channel i; x[i][-h] for h <= mdn_tier_history() is valid
 * history (zeros before the stream's start). frame0 is the absolute index of
 * the first new frame (for block alignment). out has stride cout.
 * bias[o] (the kernel's; NULL: none) is added last to every row. */
void mdn_tier_process(const MdnTier *tier, MdnTierState *state, const float *const *x,
                      guint64 frame0, size_t n, const float *bias, float *out);

/* Exact path (exact.c): direct form below the crossover, zero-latency
 * non-uniformly partitioned FFT convolution above it. */
typedef struct _MdnExact MdnExact;
/* NULL when memory runs out. */
MdnExact *mdn_exact_new(const MdnKernel *kernel);
/* Another state for the same kernel, sharing its weights and spectra. */
MdnExact *mdn_exact_new_sharing(const MdnExact *other);
void mdn_exact_free(MdnExact *exact);
/* Frames of input history the path reads: (taps-1)*dilation for the direct
 * form; for the FFT path also what rebuilding its delay lines reads. */
size_t mdn_exact_history(const MdnKernel *kernel);
/* The most any plan of this kernel may need, on any ISA (the plan is chosen
 * by ISA-specific costs; this bound depends on the shape only): frames of
 * input history; bytes of FFT delay lines per input channel of a group;
 * bytes per group for its outputs (spectra and output tails); bytes shared
 * by the groups (kernel spectra, FFT plans). */
void mdn_exact_history_bound(const MdnKernel *kernel, size_t *frames, size_t *fdl_bytes,
                             size_t *group_bytes, size_t *spectra_bytes);
/* Same calling convention as mdn_tier_process(). The FFT part caches
 * transforms of past input blocks; after mdn_exact_invalidate() (the stream
 * used a tier for a while, or frames were skipped) it rebuilds them from the
 * history x[i][-h], so the output stays continuous across tier changes.
 * mdn_exact_reset() returns to frame 0 with a zero history (the work of a
 * rebuild at frame 0 done there, not in the next mdn_exact_process()). */
void mdn_exact_invalidate(MdnExact *exact);
void mdn_exact_reset(MdnExact *exact);
void mdn_exact_process(MdnExact *exact, const float *const *x, guint64 frame0, size_t n,
                       float *out);
double mdn_exact_cost_per_frame(const MdnKernel *kernel);

/* ---- instruction sets (kernels/cpu.c) ---- */

/* What a CPU has, one bit per kernel level. The kernel tables
 * (kernels/dsp.h) are built for a set of these: each entry is the plain-C
 * reference unless an architecture's init has a kernel the set allows. */
typedef enum {
  MDN_CPU_FLAG_SSE2 = 1 << 0,       /* x86: SSE2 (every x86-64 CPU) */
  MDN_CPU_FLAG_AVX2 = 1 << 1,       /* x86: AVX2, FMA and BMI2 */
  MDN_CPU_FLAG_AVX512 = 1 << 2,     /* x86: AVX-512 F, BW, VL, DQ */
  MDN_CPU_FLAG_AVX512VBMI = 1 << 3, /* x86: AVX-512 VBMI (byte permutes) */
  MDN_CPU_FLAG_NEON = 1 << 4,       /* AArch64: Advanced SIMD (every CPU) */
  /* x86: an Intel CPU. Not a level: the kernel tables take some families
   * from a lower level than the flags allow where that level measured
   * faster on this vendor's CPUs (kernels/x86/init.c, "per-family choice"). */
  MDN_CPU_FLAG_INTEL = 1 << 5,
} MdnCpuFlag;

/* The levels MADDNESS_ISA names and mdn_isa() reports. */
typedef enum {
  MDN_ISA_SCALAR, /* the plain-C reference alone */
  MDN_ISA_AVX2,   /* SSE2 and AVX2 */
  MDN_ISA_AVX512, /* SSE2, AVX2, AVX-512 and, when the CPU has it, VBMI */
  MDN_ISA_NEON,   /* NEON */
  MDN_N_ISAS
} MdnIsa;

/* Every flag this CPU has. */
unsigned mdn_cpu_flags_detect(void);
/* The flags in use, fixed at the first call: mdn_cpu_flags_masked() of the
 * MADDNESS_ISA environment variable. */
unsigned mdn_cpu_flags(void);
/* All the CPU has, or those of the level `isa_name` names (NULL or empty:
 * none) when the CPU has it; an unknown or unsupported level warns and
 * keeps all. */
unsigned mdn_cpu_flags_masked(const char *isa_name);
/* The flags a level allows (those of the CPU are a subset or not). */
unsigned mdn_isa_flags(MdnIsa isa);
/* The CPU has the level (scalar: always). */
gboolean mdn_cpu_supports(MdnIsa isa);
const char *mdn_isa_name(MdnIsa isa);

/* ---- stream history limit (model.c) ---- */

/* An upper bound, from the shapes alone, of the memory that grows with the
 * kernel's span which a stream of `groups` groups over the model allocates:
 * per input channel of each group its input buffer (history plus as much
 * room, floats), the exact path's FFT delay line (any plan) and each tier's
 * code buffer (a byte per frame); once per stream the exact path's kernel
 * spectra and, with tiers, the audit's window (taps floats). Saturates at
 * G_MAXUINT64. *frames (may be NULL) gets the frames
 * of input history the bound assumes. */
guint64 mdn_model_history_bytes(const MdnModel *model, int groups, size_t *frames);
/* FALSE with an error (`code`) naming the numbers when that bound exceeds
 * MDN_MAX_STREAM_HISTORY_BYTES: mdn_stream_new() refuses such a stream, the
 * loader and mdn_model_serialize() a model that cannot stream one group. */
gboolean mdn_model_check_history(const MdnModel *model, int groups, MdnErrorCode code,
                                 GError **error);

/* Tier cost model (operations per frame), shared by fit and info. */
double mdn_tier_cost(const MdnTier *tier);

/* ---- accuracy audit (audit.c; the public part is in maddness.h) ---- */

/* One tier's output for one frame t, computed alone as the streaming kernels
 * compute it: x[i] points at x[t] of input channel i (history behind it),
 * sigma = mdn_tier_frame_sigma(); sums (cout) gets the table sums, out
 * (cout) the output with bias (NULL: none). */
float mdn_tier_frame_sigma(const MdnTier *tier, const float *const *x, guint64 t);
void mdn_tier_frame(const MdnTier *tier, const float *const *x, float sigma, const float *bias,
                    guint32 *sums, float *out);

/* The audit of one stream: allocated with it, fed by its chunks. */
typedef struct _MdnAudit MdnAudit;
MdnAudit *mdn_audit_new(const MdnModel *model, int groups);
void mdn_audit_free(MdnAudit *audit);
/* The stream forgot its history: measurements and frame count restart. */
void mdn_audit_reset(MdnAudit *audit);
/* After a chunk of n frames (absolute frames frame0..) was deinterleaved at
 * index fill of the stream's buffers ([groups * cin][buf_len], history
 * before fill): audits the frames of the chunk that are due. */
void mdn_audit_chunk(MdnAudit *audit, const float *buffers, size_t buf_len, size_t fill,
                     guint64 frame0, size_t n);
/* End of an mdn_stream_process() call: publishes the SNRs. */
void mdn_audit_publish(MdnAudit *audit);
/* stream.c: the stream's audit. */
MdnAudit *mdn_stream_get_audit(const MdnStream *stream);
/* For tests: called for every audited frame and group with the exact output
 * (cout doubles) and every tier's output ([n_tiers][cout] floats). */
typedef void (*MdnAuditTraceFunc)(guint64 frame, int group, const double *exact, const float *tiers,
                                  gpointer data);
void mdn_audit_set_trace(MdnAudit *audit, MdnAuditTraceFunc func, gpointer data);
/* For the tests of the governor's logic, apart from the time model: whether
 * it may pick `tier` (by default: mdn_model_paying_tiers() at creation). */
void mdn_audit_set_pays(MdnAudit *audit, int tier, gboolean pays);
gboolean mdn_audit_pays(const MdnAudit *audit, int tier);

G_END_DECLS

#endif /* MDN_PRIVATE_H */
