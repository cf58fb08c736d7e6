/* bench-peers.h: the exact peers the benchmark measures the engine against.
 *
 * Each peer computes the same causal conv1d as the engine (zeros before frame
 * 0, bias included) on interleaved float frames, and is written to be fast in
 * its own terms. Every peer is optional at build time: the bench omits the
 * methods whose library was not found and says so.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_PEERS_H
#define BENCH_PEERS_H

#include "maddness.h"

G_BEGIN_DECLS

/* Frames per call of every streaming method: 1024 unless --block says
 * otherwise (a power of two, so that the FFTW peer's block divides it). */
#define BENCH_DEFAULT_BLOCK 1024
extern int bench_block;

/* One exact peer instance, prepared for one kernel. run() filters the whole
 * signal (n_frames a multiple of bench_block) from a zero history and returns
 * the wall time it took in *seconds. */
typedef struct {
  gpointer state;
  gboolean (*run)(gpointer state, const float *in, float *out, size_t n_frames, double *seconds,
                  GError **error);
  void (*free)(gpointer state);
} BenchPeer;

/* Each returns FALSE with error when it cannot take this kernel or was not
 * built in (see the *_available functions). */

/* GStreamer's audiofirfilter in appsrc ! audiofirfilter ! appsink; 1->1 only. */
gboolean bench_peer_gst_new(const MdnKernel *kernel, BenchPeer *peer, GError **error);
/* FFTW3f uniformly partitioned overlap-save, FFTW_MEASURE plans. */
gboolean bench_peer_fftw_new(const MdnKernel *kernel, BenchPeer *peer, GError **error);
/* im2col of each block of frames, then one cblas_sgemm; single-threaded. */
gboolean bench_peer_openblas_new(const MdnKernel *kernel, BenchPeer *peer, GError **error);

/* Whether each peer was compiled in (its library found by meson). */
gboolean bench_peer_gst_available(void);
gboolean bench_peer_fftw_available(void);
gboolean bench_peer_openblas_available(void);

/* A short description of the peer's library, for the header. */
const char *bench_peer_gst_describe(void);
const char *bench_peer_fftw_describe(void);
const char *bench_peer_openblas_describe(void);

G_END_DECLS

#endif
