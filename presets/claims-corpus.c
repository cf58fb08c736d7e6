/* claims-corpus: the held-out corpus that preset-claims and playbin-claims read.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "claims-corpus.h"

#include <sndfile.h>

const char *
claims_corpus_at(char **dirs, int rate, GError **error)
{
  int i;

  for (i = 0; dirs && dirs[i]; i++) {
    char *path = g_build_filename(dirs[i], "heldout-speech.wav", NULL);
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);

    g_free(path);
    if (f)
      sf_close(f);
    if (f && info.samplerate == rate)
      return dirs[i];
  }
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no --corpus at %d Hz", rate);
  return NULL;
}

float *
claims_corpus_read(const char *path, int channels, int rate, size_t *frames, GError **error)
{
  SF_INFO info = { 0 };
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  float *x;

  if (!f) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, sf_strerror(NULL));
    return NULL;
  }
  if (info.channels != channels || info.samplerate != rate) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %d channels at %d Hz, expected %d at %d Hz", path, info.channels,
                info.samplerate, channels, rate);
    sf_close(f);
    return NULL;
  }
  x = g_new(float, (size_t)info.frames *info.channels + 1);
  *frames = (size_t)sf_readf_float(f, x, info.frames);
  sf_close(f);
  return x;
}
