/* mdn-signals.h: deterministic audio, kernel designs and the exact reference
 * conv1d, shared by the tests, the bench, the shipped presets and the demo.
 * Only the public API of the engine is used (link with the engine).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef MDN_SIGNALS_H
#define MDN_SIGNALS_H

#include "maddness.h"

G_BEGIN_DECLS

/* Speech-like: a glottal pulse train with a wandering pitch through moving
 * formant resonators, syllable envelopes, pauses and fricative noise.
 * Peak about 0.5 (-6 dBFS). Returns a g_new'd array of n samples. */
float *mdn_signal_speech(size_t n, double rate, guint32 seed);
/* Music-like: chords of decaying harmonic notes, a bass line and noise
 * drums. Peak about 0.5. */
float *mdn_signal_music(size_t n, double rate, guint32 seed);
/* Bell-like: four inharmonic partials struck every 0.2 s at a fundamental
 * drawn from [f_lo, f_hi) Hz, ringing out, plus uniform hiss of amplitude
 * `hiss`: bright and tonal, unlike speech (the audit's hard case). */
float *mdn_signal_bells(size_t n, double rate, guint32 seed, double f_lo, double f_hi, double hiss);
/* Interleaves `channels` channels made by gen with seeds seed, seed+1, ... */
float *mdn_signal_multichannel(float *(*gen)(size_t, double, guint32), size_t n, int channels,
                               double rate, guint32 seed);

/* Double-precision naive causal conv1d (history = zeros before frame 0):
 * out[t*cout + o]. Returns a g_new'd array. */
double *mdn_reference_conv(const MdnKernel *k, const float *in, size_t n_frames);
/* Solves the n x n system a x = b in place (Gauss-Jordan with partial
 * pivoting, double; x into b, a destroyed): a plain reference for tests and
 * fits in the bench, not for the engine. */
void mdn_dense_solve(double *a, double *b, int n);
/* The SNR (dB) of y against ref (n frames of `channels`) with frame t
 * weighted by exp(-(n - 1 - t) / tau), as the live audit smooths (tau in
 * frames; 0: unweighted). */
double mdn_weighted_snr_db(const double *ref, const float *y, size_t n, int channels, double tau);

/* Kernel designs (designs.c). */
/* 1->1 windowed-sinc (Blackman) lowpass, cutoff in Hz. */
MdnKernel *mdn_design_lowpass(int taps, double cutoff, double rate);
/* 1->1 synthetic room impulse response: direct path, early reflections,
 * exponentially decaying noise tail with the given RT60 in seconds. */
MdnKernel *mdn_design_room_ir(int taps, double rt60, double rate, guint32 seed);
/* Random weights of a trained-layer-like kernel (scaled by 1/sqrt(cin*taps)). */
MdnKernel *mdn_design_random_kernel(int cin, int cout, int taps, int dilation, double rate,
                                    guint32 seed);
/* 1->bands band-pass analysis bank, windowed-sinc band-passes on a log scale. */
MdnKernel *mdn_design_bank(int bands, int taps, double rate);
/* Windowed-sinc fractional delay of `delay` samples (0 <= delay <= taps - 1):
 * a Blackman window centred on the delay spanning the whole filter, unit
 * gain at DC (summed in float, as the shipped beam8 was designed). */
void mdn_design_fractional_delay(float *h, int taps, double delay);

G_END_DECLS

#endif
