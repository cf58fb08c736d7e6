/* gst-test-util.h: helpers shared by the gst-check element tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_GST_TEST_UTIL_H
#define MDN_GST_TEST_UTIL_H

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/audio/audio-format.h>

#include "maddness.h"

/* Our elements' format: native-endian float, interleaved. */
#define MDN_GST_TEST_F32 "audio/x-raw,format=" GST_AUDIO_NE(F32) ",layout=interleaved"
#define MDN_GST_TEST_CAPS_FMT MDN_GST_TEST_F32 ",rate=%d,channels=%d"
/* More than 2 channels need a mask: 0 = unpositioned. */
#define MDN_GST_TEST_CAPS_MASK_FMT MDN_GST_TEST_CAPS_FMT ",channel-mask=(bitmask)0"

/* gst_check_init, and presets found by name only where a test says
 * (MADDNESS_PRESET_PATH unset). */
void mdn_gst_test_init(int *argc, char ***argv);

/* Runs suite (gst_check_run_suite: name, file), then removes tmp_dir and
 * all below it; returns the number of failures. */
int mdn_gst_test_run(Suite *suite, const char *name, const char *file, const char *tmp_dir);

/* Removes dir and everything below it. */
void mdn_gst_test_remove_tree(const char *dir);

/* Saves k as a .mdn preset without tiers at path; aborts on failure. */
void mdn_gst_test_write_preset(const MdnKernel *k, const char *path);

/* A maddnessfilter harness with preset and quality set and native-endian F32 caps of
 * channels at rate on its source (a channel mask when channels > 2). */
GstHarness *mdn_gst_test_filter_harness(const char *preset, int quality, int channels, int rate);

/* A buffer holding n_frames of data (none: an empty buffer), with PTS and
 * duration at rate from first_frame (first_frame < 0: no timestamps). */
GstBuffer *mdn_gst_test_make_buffer(const float *data, size_t n_frames, int channels, int rate,
                                    gint64 first_frame);

/* k fitted with the tier ladder on one second of speech at rate (seed 3,
 * dominated tiers kept); NULL with error set if the ladder or the fit fails. */
MdnModel *mdn_gst_test_fit_tiered(const MdnKernel *k, const char *ladder, int rate, GError **error);

#endif
