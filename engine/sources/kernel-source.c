/* kernel-source.c: kernels from WAV impulse responses (libsndfile) and from
 * taps text files, and the taps-file writer shared by the tools.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sndfile.h>

/* ---- WAV impulse responses ---------------------------------------------------- */

#define WAV_BLOCK_FRAMES 4096

MdnKernel *
mdn_kernel_load_wav(const char *path, GError **error)
{
  SF_INFO info;
  SNDFILE *sf;
  MdnKernel *k = NULL;
  GError *local = NULL;
  float *block = NULL;
  sf_count_t done = 0;
  int ch;

  memset(&info, 0, sizeof info);
  sf = sf_open(path, SFM_READ, &info);
  if (!sf) {
    gboolean exists = g_file_test(path, G_FILE_TEST_EXISTS);
    g_set_error(error, MDN_ERROR, exists ? MDN_ERROR_CORRUPT : MDN_ERROR_IO,
                "%s: cannot read as audio: %s", path, sf_strerror(NULL));
    return NULL;
  }
  if (info.channels < 1 || info.channels > MDN_MAX_CHANNELS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %d channels, an impulse response may have 1..%d", path, info.channels,
                MDN_MAX_CHANNELS);
    goto out;
  }
  if (info.frames < 1) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: the file holds no samples",
                path);
    goto out;
  }
  if (info.frames > MDN_MAX_TAPS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %" G_GINT64_FORMAT " frames, more than the %d taps a kernel may have", path,
                (gint64)info.frames, MDN_MAX_TAPS);
    goto out;
  }
  /* A mono IR is 1->1; N channels are N outputs of one input. */
  k = mdn_kernel_new(1, info.channels, (int)info.frames, 1, info.samplerate, &local);
  if (!k) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: %s", path, local->message);
    g_error_free(local);
    goto out;
  }
  block = g_new(float, (size_t)WAV_BLOCK_FRAMES *info.channels);
  while (done < info.frames) {
    sf_count_t want = MIN(WAV_BLOCK_FRAMES, info.frames - done);
    sf_count_t got = sf_readf_float(sf, block, want), f;
    if (got <= 0) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "%s: the file ends after %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                  " frames (%s)",
                  path, (gint64)done, (gint64)info.frames, sf_strerror(sf));
      goto fail;
    }
    for (f = 0; f < got; f++)
      for (ch = 0; ch < info.channels; ch++) {
        float v = block[f * info.channels + ch];
        if (!isfinite(v)) {
          g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                      "%s: sample %" G_GINT64_FORMAT " of channel %d is not a finite number", path,
                      (gint64)(done + f), ch);
          goto fail;
        }
        k->weights[(size_t)ch * k->taps + (size_t)(done + f)] = v;
      }
    done += got;
  }
  goto out;

fail:
  mdn_kernel_free(k);
  k = NULL;
out:
  g_free(block);
  sf_close(sf);
  return k;
}

/* ---- taps files --------------------------------------------------------------- */

/* A buffered tokenizer: memory stays bounded whatever the file holds. */
#define TOKEN_MAX 64

typedef struct {
  FILE *f;
  const char *path;
  int line; /* of the next character */
  guint8 buf[1 << 16];
  size_t pos, len;
} Reader;

enum { TOK_END, TOK_EOL, TOK_WORD, TOK_ERROR };

static int
rd_getc(Reader *r)
{
  if (r->pos == r->len) {
    r->len = fread(r->buf, 1, sizeof r->buf, r->f);
    r->pos = 0;
    if (r->len == 0)
      return EOF;
  }
  return r->buf[r->pos++];
}

static void
rd_ungetc(Reader *r)
{
  r->pos--; /* only after a successful rd_getc */
}

/* The next word of the current line (TOK_WORD, in tok), the end of the line
 * (TOK_EOL: the line counter has moved on), or the end of the file. */
static int
rd_token(Reader *r, char tok[TOKEN_MAX + 1], GError **error)
{
  int c, n = 0;

  do
    c = rd_getc(r);
  while (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v');
  if (c == '#')
    do
      c = rd_getc(r);
    while (c != '\n' && c != EOF);
  if (c == EOF)
    return TOK_END;
  if (c == '\n') {
    r->line++;
    return TOK_EOL;
  }
  while (c != EOF && c != '#' && !g_ascii_isspace(c)) {
    if (n == TOKEN_MAX) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s:%d: a word longer than %d characters",
                  r->path, r->line, TOKEN_MAX);
      return TOK_ERROR;
    }
    if (c == 0) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s:%d: a NUL byte (not a text file?)",
                  r->path, r->line);
      return TOK_ERROR;
    }
    tok[n++] = (char)c;
    c = rd_getc(r);
  }
  tok[n] = 0;
  if (c != EOF)
    rd_ungetc(r);
  return TOK_WORD;
}

/* The first word of the next non-blank line, or TOK_END. */
static int
rd_first_word(Reader *r, char tok[TOKEN_MAX + 1], GError **error)
{
  int kind;

  while ((kind = rd_token(r, tok, error)) == TOK_EOL)
    ;
  return kind;
}

static gboolean
parse_float(Reader *r, const char *tok, float *out, GError **error)
{
  char *end;
  double v;

  errno = 0;
  v = g_ascii_strtod(tok, &end);
  if (end == tok || *end != 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s:%d: \"%s\" is not a number", r->path,
                r->line, tok);
    return FALSE;
  }
  if (!isfinite(v) || !isfinite((float)v)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: \"%s\" is not a finite single-precision number", r->path, r->line, tok);
    return FALSE;
  }
  *out = (float)v;
  return TRUE;
}

static gboolean
parse_int(Reader *r, const char *tok, const char *what, gint64 *out, GError **error)
{
  char *end;
  gint64 v;

  errno = 0;
  v = g_ascii_strtoll(tok, &end, 10);
  if (end == tok || *end != 0 || errno == ERANGE) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: bad header: %s \"%s\" is not an integer (expected \"cin cout taps "
                "[dilation]\")",
                r->path, r->line, what, tok);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

/* Reads the numbers of one line (its first word already in tok) into
 * out[0..expected-1]; any other count is an error naming the line. */
static gboolean
read_numbers(Reader *r, char tok[TOKEN_MAX + 1], float *out, gint64 expected, const char *what,
             GError **error)
{
  int line = r->line, kind = TOK_WORD;
  gint64 n = 0;

  for (;;) {
    if (n < expected) {
      if (!parse_float(r, tok, &out[n], error))
        return FALSE;
    } else {
      float dummy;
      if (!parse_float(r, tok, &dummy, error))
        return FALSE;
    }
    n++;
    kind = rd_token(r, tok, error);
    if (kind == TOK_ERROR)
      return FALSE;
    if (kind != TOK_WORD)
      break;
  }
  if (n != expected) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: %s: expected %" G_GINT64_FORMAT " numbers, found %s%" G_GINT64_FORMAT,
                r->path, line, what, expected, n < expected ? "only " : "", n);
    return FALSE;
  }
  return TRUE;
}

MdnKernel *
mdn_kernel_load_taps(const char *path, double rate, GError **error)
{
  Reader *r;
  MdnKernel *k = NULL;
  GError *local = NULL;
  char tok[TOKEN_MAX + 1];
  gint64 header[4] = { 0, 0, 0, 1 };
  static const char *const header_names[4] = { "cin", "cout", "taps", "dilation" };
  int kind, n_header = 0, header_line, o, i;

  if (!(rate > 0 && rate <= 1e7)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: sample rate must be in (0, 1e7] Hz (got %g)", path, rate);
    return NULL;
  }
  r = g_new0(Reader, 1);
  r->path = path;
  r->line = 1;
  r->f = fopen(path, "rb");
  if (!r->f) {
    int saved = errno;
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(saved));
    g_free(r);
    return NULL;
  }

  /* Header: "cin cout taps [dilation]". */
  kind = rd_first_word(r, tok, error);
  if (kind == TOK_ERROR)
    goto fail;
  if (kind == TOK_END) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: empty file (expected a header \"cin cout taps [dilation]\")", path,
                r->line);
    goto fail;
  }
  header_line = r->line;
  while (kind == TOK_WORD) {
    if (n_header == 4) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "%s:%d: bad header: more than 4 numbers (expected \"cin cout taps "
                  "[dilation]\")",
                  path, header_line);
      goto fail;
    }
    if (!parse_int(r, tok, header_names[n_header], &header[n_header], error))
      goto fail;
    n_header++;
    kind = rd_token(r, tok, error);
  }
  if (kind == TOK_ERROR)
    goto fail;
  if (n_header < 3) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: bad header: %d numbers (expected \"cin cout taps [dilation]\")", path,
                header_line, n_header);
    goto fail;
  }
  /* Limits are checked (by mdn_kernel_new) before anything is allocated. */
  if (header[0] < 1 || header[0] > MDN_MAX_CHANNELS || header[1] < 1 || header[1] > MDN_MAX_CHANNELS
      || header[2] < 1 || header[2] > MDN_MAX_TAPS || header[3] < 1 || header[3] > MDN_MAX_DILATION
      || !(k = mdn_kernel_new((int)header[0], (int)header[1], (int)header[2], (int)header[3], rate,
                              &local))) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s:%d: bad header \"%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                " %" G_GINT64_FORMAT "\": %s",
                path, header_line, header[0], header[1], header[2], header[3],
                local ? local->message
                      : "cin and cout must be 1..256, taps 1..1048576, dilation 1..4096");
    g_clear_error(&local);
    goto fail;
  }

  /* cout*cin lines of taps, output-major. */
  for (o = 0; o < k->cout; o++)
    for (i = 0; i < k->cin; i++) {
      char what[64];
      kind = rd_first_word(r, tok, error);
      if (kind == TOK_ERROR)
        goto fail;
      if (kind == TOK_END) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "%s:%d: the file ends after %d of %d taps lines (expected cout*cin = %d*%d "
                    "lines)",
                    path, r->line, o * k->cin + i, k->cout * k->cin, k->cout, k->cin);
        goto fail;
      }
      if (strcmp(tok, "bias") == 0) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "%s:%d: a bias line after %d of %d taps lines (expected cout*cin = %d*%d "
                    "lines)",
                    path, r->line, o * k->cin + i, k->cout * k->cin, k->cout, k->cin);
        goto fail;
      }
      g_snprintf(what, sizeof what, "taps of output %d, input %d", o, i);
      if (!read_numbers(r, tok, k->weights + ((size_t)o * k->cin + i) * k->taps, k->taps, what,
                        error))
        goto fail;
    }

  /* Optional "bias b0 b1 ...", then nothing but comments. */
  kind = rd_first_word(r, tok, error);
  if (kind == TOK_ERROR)
    goto fail;
  if (kind == TOK_WORD && strcmp(tok, "bias") == 0) {
    int line = r->line;
    kind = rd_token(r, tok, error);
    if (kind == TOK_ERROR)
      goto fail;
    if (kind != TOK_WORD) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "%s:%d: bias: expected %d numbers, found none", path, line, k->cout);
      goto fail;
    }
    if (!read_numbers(r, tok, k->bias, k->cout, "bias", error))
      goto fail;
    kind = rd_first_word(r, tok, error);
    if (kind == TOK_ERROR)
      goto fail;
  }
  if (kind == TOK_WORD) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: trailing garbage \"%s\" after the %d taps lines (expected an optional "
                "\"bias\" line, then the end of the file)",
                path, r->line, tok, k->cout * k->cin);
    goto fail;
  }
  if (ferror(r->f)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: read error", path);
    goto fail;
  }
  fclose(r->f);
  g_free(r);
  return k;

fail:
  mdn_kernel_free(k);
  fclose(r->f);
  g_free(r);
  return NULL;
}

static gboolean
write_floats(FILE *out, const float *v, size_t n)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  size_t j;

  for (j = 0; j < n; j++) {
    /* %.9g: enough digits for every float to read back to the same bits. */
    g_ascii_formatd(buf, sizeof buf, "%.9g", v[j]);
    if (fputs(buf, out) < 0 || fputc(j + 1 < n ? ' ' : '\n', out) == EOF)
      return FALSE;
  }
  return TRUE;
}

gboolean
mdn_kernel_write_taps_body(const MdnKernel *k, FILE *out, GError **error)
{
  size_t j, rows = (size_t)k->cout * k->cin;
  gboolean ok = TRUE, any_bias = FALSE;

  for (j = 0; j < rows && ok; j++)
    ok = write_floats(out, k->weights + j * k->taps, k->taps);
  for (j = 0; j < (size_t)k->cout; j++)
    any_bias |= k->bias[j] != 0.0f || signbit(k->bias[j]);
  /* The bias line is optional: written only when the kernel has a bias. */
  if (ok && any_bias)
    ok = fputs("bias ", out) >= 0 && write_floats(out, k->bias, k->cout);
  if (ok)
    ok = fflush(out) == 0;
  if (!ok || ferror(out)) {
    int saved = errno;
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "cannot write the taps: %s", g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}
