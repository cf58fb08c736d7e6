/* claims-corpus: the held-out corpus that preset-claims and playbin-claims read.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "maddness.h"

/* The directory of `dirs` (NULL-terminated) whose heldout-speech.wav is at
 * `rate`, or NULL with an error naming the rate. */
const char *claims_corpus_at(char **dirs, int rate, GError **error);

/* A WAV file's frames (interleaved floats) of `channels` channels at `rate`
 * Hz; another shape is an error naming both. */
float *claims_corpus_read(const char *path, int channels, int rate, size_t *frames, GError **error);
