/* kernel-source.c: kernels from WAV impulse responses (libsndfile), from
 * taps text files and from presets (mdn_kernel_load, the one reader of a
 * kernel argument), and the taps-file writer shared by the tools.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <sndfile.h>
#include <soxr.h>

/* ---- WAV impulse responses ---------------------------------------------------- */

#define WAV_BLOCK_FRAMES 4096

/* A zeroed kernel for the IR `info` describes: a mono IR is 1->1, N
 * channels are N outputs of one input. */
static MdnKernel *
wav_kernel_new(const char *path, const SF_INFO *info, GError **error)
{
  GError *local = NULL;
  MdnKernel *k;

  if (info->channels < 1 || info->channels > MDN_MAX_CHANNELS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %d channels, an impulse response may have 1..%d", path, info->channels,
                MDN_MAX_CHANNELS);
    return NULL;
  }
  if (info->frames < 1) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: the file holds no samples",
                path);
    return NULL;
  }
  if (info->frames > MDN_MAX_TAPS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %" G_GINT64_FORMAT " frames, more than the %d taps a kernel may have", path,
                (gint64)info->frames, MDN_MAX_TAPS);
    return NULL;
  }
  k = mdn_kernel_new(1, info->channels, (int)info->frames, 1, info->samplerate, &local);
  if (!k) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: %s", path, local->message);
    g_error_free(local);
  }
  return k;
}

/* Stores frames done..done+got-1 of an IR read into `block` (interleaved)
 * as taps of k (output c = channel c); FALSE at a sample that is no finite number. */
static gboolean
wav_store_block(MdnKernel *k, const float *block, sf_count_t done, sf_count_t got, const char *path,
                GError **error)
{
  sf_count_t f;
  int ch;

  for (f = 0; f < got; f++)
    for (ch = 0; ch < k->cout; ch++) {
      float v = block[f * k->cout + ch];
      if (!isfinite(v)) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "%s: sample %" G_GINT64_FORMAT " of channel %d is not a finite number", path,
                    (gint64)(done + f), ch);
        return FALSE;
      }
      k->weights[(size_t)ch * k->taps + (size_t)(done + f)] = v;
    }
  return TRUE;
}

/* Reads every frame of the IR into k's weights. */
static gboolean
wav_read_weights(SNDFILE *sf, const char *path, MdnKernel *k, GError **error)
{
  float *block = g_new(float, (size_t)WAV_BLOCK_FRAMES * k->cout);
  sf_count_t done = 0;
  gboolean ok = TRUE;

  while (ok && done < k->taps) {
    sf_count_t got = sf_readf_float(sf, block, MIN(WAV_BLOCK_FRAMES, k->taps - done));
    if (got <= 0) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "%s: the file ends after %" G_GINT64_FORMAT " of %d frames (%s)", path,
                  (gint64)done, k->taps, sf_strerror(sf));
      ok = FALSE;
    } else {
      ok = wav_store_block(k, block, done, got, path, error);
      done += got;
    }
  }
  g_free(block);
  return ok;
}

MdnKernel *
mdn_kernel_load_wav(const char *path, GError **error)
{
  int fd = mdn_file_open_regular(path, error);
  SF_INFO info;
  SNDFILE *sf;
  MdnKernel *k;

  if (fd < 0)
    return NULL;
  memset(&info, 0, sizeof info);
  /* The descriptor stays ours: closed below whatever libsndfile did. */
  sf = sf_open_fd(fd, SFM_READ, &info, FALSE);
  if (!sf) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s: cannot read as audio: %s", path,
                sf_strerror(NULL));
    close(fd);
    return NULL;
  }
  k = wav_kernel_new(path, &info, error);
  if (k && !wav_read_weights(sf, path, k, error)) {
    mdn_kernel_free(k);
    k = NULL;
  }
  sf_close(sf);
  close(fd);
  return k;
}

/* ---- taps files --------------------------------------------------------------- */

/* A buffered tokenizer: memory stays bounded whatever the file holds. */
#define TOKEN_MAX 64

typedef struct {
  int fd;
  int read_errno; /* of a failed read: the text ends there */
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
    gssize got;
    do
      got = read(r->fd, r->buf, sizeof r->buf);
    while (got < 0 && errno == EINTR);
    if (got < 0)
      r->read_errno = errno;
    r->pos = 0;
    r->len = got > 0 ? (size_t)got : 0;
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
parse_int(Reader *r, const char *tok, const char *what, int *out, GError **error)
{
  char *end;
  gint64 v;

  errno = 0;
  v = g_ascii_strtoll(tok, &end, 10);
  if (end == tok || *end != 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: bad header: %s \"%s\" is not an integer (expected \"cin cout taps "
                "[dilation]\")",
                r->path, r->line, what, tok);
    return FALSE;
  }
  if (errno == ERANGE || v < G_MININT || v > G_MAXINT) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s:%d: bad header: %s %s is out of range",
                r->path, r->line, what, tok);
    return FALSE;
  }
  *out = (int)v;
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

/* The header "cin cout taps [dilation]": the zeroed kernel it describes. */
static MdnKernel *
taps_read_header(Reader *r, char tok[TOKEN_MAX + 1], double rate, GError **error)
{
  static const char *const names[4] = { "cin", "cout", "taps", "dilation" };
  int header[4] = { 0, 0, 0, 1 }, n_header = 0, line, kind;
  GError *local = NULL;
  MdnKernel *k;

  kind = rd_first_word(r, tok, error);
  if (kind == TOK_ERROR)
    return NULL;
  if (kind == TOK_END) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: empty file (expected a header \"cin cout taps [dilation]\")", r->path,
                r->line);
    return NULL;
  }
  line = r->line;
  while (kind == TOK_WORD) {
    if (n_header == 4) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "%s:%d: bad header: more than 4 numbers (expected \"cin cout taps "
                  "[dilation]\")",
                  r->path, line);
      return NULL;
    }
    if (!parse_int(r, tok, names[n_header], &header[n_header], error))
      return NULL;
    n_header++;
    kind = rd_token(r, tok, error);
  }
  if (kind == TOK_ERROR)
    return NULL;
  if (n_header < 3) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: bad header: %d numbers (expected \"cin cout taps [dilation]\")", r->path,
                line, n_header);
    return NULL;
  }
  /* The shape's limits are checked (by mdn_kernel_new) before anything is allocated. */
  k = mdn_kernel_new(header[0], header[1], header[2], header[3], rate, &local);
  if (!k) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s:%d: bad header \"%d %d %d %d\": %s", r->path, line, header[0], header[1],
                header[2], header[3], local->message);
    g_error_free(local);
  }
  return k;
}

/* cout*cin lines of taps, output-major. */
static gboolean
taps_read_rows(Reader *r, char tok[TOKEN_MAX + 1], MdnKernel *k, GError **error)
{
  const int rows = k->cout * k->cin;
  int row;

  for (row = 0; row < rows; row++) {
    char what[64];
    int kind = rd_first_word(r, tok, error);
    if (kind == TOK_ERROR)
      return FALSE;
    if (kind == TOK_END || strcmp(tok, "bias") == 0) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "%s:%d: %s after %d of %d taps lines (expected cout*cin = %d*%d lines)", r->path,
                  r->line, kind == TOK_END ? "the file ends" : "a bias line", row, rows, k->cout,
                  k->cin);
      return FALSE;
    }
    g_snprintf(what, sizeof what, "taps of output %d, input %d", row / k->cin, row % k->cin);
    if (!read_numbers(r, tok, k->weights + (size_t)row * k->taps, k->taps, what, error))
      return FALSE;
  }
  return TRUE;
}

/* An optional "bias b0 b1 ..." line, then nothing but comments. */
static gboolean
taps_read_tail(Reader *r, char tok[TOKEN_MAX + 1], MdnKernel *k, GError **error)
{
  int kind = rd_first_word(r, tok, error);

  if (kind == TOK_WORD && strcmp(tok, "bias") == 0) {
    int line = r->line;
    kind = rd_token(r, tok, error);
    if (kind != TOK_WORD) {
      if (kind != TOK_ERROR)
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "%s:%d: bias: expected %d numbers, found none", r->path, line, k->cout);
      return FALSE;
    }
    if (!read_numbers(r, tok, k->bias, k->cout, "bias", error))
      return FALSE;
    kind = rd_first_word(r, tok, error);
  }
  if (kind == TOK_WORD)
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s:%d: trailing garbage \"%s\" after the %d taps lines (expected an optional "
                "\"bias\" line, then the end of the file)",
                r->path, r->line, tok, k->cout * k->cin);
  return kind == TOK_END;
}

MdnKernel *
mdn_kernel_load_taps(const char *path, double rate, GError **error)
{
  char tok[TOKEN_MAX + 1];
  Reader *r;
  MdnKernel *k;

  if (!mdn_kernel_rate_check(rate, MDN_ERROR_INVALID_ARGUMENT, error)) {
    g_prefix_error(error, "%s: ", path);
    return NULL;
  }
  r = g_new0(Reader, 1);
  r->path = path;
  r->line = 1;
  r->fd = mdn_file_open_regular(path, error);
  if (r->fd < 0) {
    g_free(r);
    return NULL;
  }
  k = taps_read_header(r, tok, rate, error);
  if (k && !(taps_read_rows(r, tok, k, error) && taps_read_tail(r, tok, k, error))) {
    mdn_kernel_free(k);
    k = NULL;
  }
  if (k && r->read_errno) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(r->read_errno));
    mdn_kernel_free(k);
    k = NULL;
  }
  close(r->fd);
  g_free(r);
  return k;
}

/* ---- any kernel source -------------------------------------------------------- */

typedef enum { SOURCE_PRESET, SOURCE_WAV, SOURCE_TAPS } SourceKind;

/* What a kernel file holds: told by its first bytes, else by its name. */
static gboolean
source_kind(const char *path, SourceKind *kind, GError **error)
{
  guint8 head[MDN_PRESET_MAGIC_BYTES];
  int fd = mdn_file_open_regular(path, error);
  gssize got;

  if (fd < 0)
    return FALSE;
  do
    got = read(fd, head, sizeof head);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    int saved = errno;
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(saved));
    close(fd);
    return FALSE;
  }
  close(fd);
  if ((got == MDN_PRESET_MAGIC_BYTES && memcmp(head, MDN_PRESET_MAGIC, got) == 0)
      || g_str_has_suffix(path, ".mdn"))
    *kind = SOURCE_PRESET;
  else if ((got >= 4
            && (memcmp(head, "RIFF", 4) == 0 || memcmp(head, "RIFX", 4) == 0
                || memcmp(head, "RF64", 4) == 0))
           || g_str_has_suffix(path, ".wav") || g_str_has_suffix(path, ".WAV"))
    *kind = SOURCE_WAV;
  else
    *kind = SOURCE_TAPS;
  return TRUE;
}

/* The kernel of the preset's variant at `rate`, else of its default variant. */
static MdnKernel *
kernel_of_preset(const char *path, double rate, GError **error)
{
  MdnPreset *preset = mdn_preset_load(path, error);
  const MdnModel *model;
  MdnKernel *kernel;

  if (!preset)
    return NULL;
  model = mdn_preset_variant_at_rate(preset, rate);
  if (!model)
    model = mdn_preset_default_variant(preset);
  kernel = mdn_kernel_copy(mdn_model_kernel(model));
  mdn_preset_free(preset);
  return kernel;
}

MdnKernel *
mdn_kernel_load(const char *source, double taps_rate, gboolean *has_rate, GError **error)
{
  SourceKind kind = SOURCE_TAPS;
  MdnKernel *kernel = NULL;
  char *path;

  if (has_rate)
    *has_rate = FALSE;
  if (!mdn_kernel_rate_check(taps_rate, MDN_ERROR_INVALID_ARGUMENT, error)) {
    g_prefix_error(error, "the rate for a taps file: ");
    return NULL;
  }
  path = mdn_preset_find(source, error);
  if (path && source_kind(path, &kind, error)) {
    if (kind == SOURCE_PRESET)
      kernel = kernel_of_preset(path, taps_rate, error);
    else if (kind == SOURCE_WAV)
      kernel = mdn_kernel_load_wav(path, error);
    else
      kernel = mdn_kernel_load_taps(path, taps_rate, error);
  }
  if (has_rate)
    *has_rate = kernel && kind != SOURCE_TAPS;
  g_free(path);
  return kernel;
}

/* ---- resampling an impulse response (libsoxr) -------------------------------- */

/* Leading zeros, in input frames, the IR is resampled behind: room for the
 * resampler's ringing before the IR's first sample (libsoxr's very high
 * quality filter rings for well under this at the rates of audio). */
#define RESAMPLE_LEAD_MIN 2048
/* The share of the resampled response's energy that may fall before its
 * first sample (and is cut: the kernel stays causal and adds no delay). */
#define RESAMPLE_MAX_PRE_RING 1e-6

static guint64
gcd64(guint64 a, guint64 b)
{
  while (b) {
    guint64 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* One row of taps through libsoxr behind `lead` zeros: out gets the
 * n_out frames from the IR's first sample on; *pre the energy before it,
 * *total all of it. */
static gboolean
resample_row(const float *in, int n_in, double old_rate, double new_rate, size_t lead,
             size_t lead_out, double *out, int n_out, double *pre, double *total, GError **error)
{
  const size_t n_pad = lead + (size_t)n_in, n_pad_out = lead_out + (size_t)n_out;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT64_I, SOXR_FLOAT64_I);
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, SOXR_LINEAR_PHASE);
  double *x = g_new0(double, n_pad), *y = g_new0(double, n_pad_out + 1);
  size_t done_in = 0, done_out = 0, j;
  soxr_error_t err;

  for (j = 0; j < (size_t)n_in; j++)
    x[lead + j] = in[j];
  err = soxr_oneshot(old_rate, new_rate, 1, x, n_pad, &done_in, y, n_pad_out, &done_out, &io,
                     &quality, NULL);
  if (err)
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "libsoxr: %s", err);
  *pre = *total = 0;
  for (j = 0; j < n_pad_out; j++) {
    *total += y[j] * y[j];
    if (j < lead_out)
      *pre += y[j] * y[j];
  }
  memcpy(out, y + lead_out, sizeof(double) * n_out);
  g_free(x);
  g_free(y);
  return !err;
}

MdnKernel *
mdn_kernel_resample(const MdnKernel *k, double new_rate, GError **error)
{
  const double ratio = new_rate / k->rate;
  MdnKernel *out;
  double *row_out, taps_out, pre_all = 0, total_all = 0;
  size_t row, rows = (size_t)k->cin * k->cout, lead, lead_out;
  guint64 step;
  int j;

  if (!mdn_kernel_validate(k, error)
      || !mdn_kernel_rate_check(new_rate, MDN_ERROR_INVALID_ARGUMENT, error))
    return NULL;
  if (k->dilation != 1) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "a kernel of dilation %d is not resampled (design it at %g Hz instead)",
                k->dilation, new_rate);
    return NULL;
  }
  if (k->rate != floor(k->rate) || new_rate != floor(new_rate)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "resampling from %g to %g Hz: the rates must be whole numbers of Hz", k->rate,
                new_rate);
    return NULL;
  }
  taps_out = ceil(k->taps * ratio - 1e-9);
  if (!(taps_out <= MDN_MAX_TAPS)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%d taps at %g Hz become %.0f at %g Hz, more than %d", k->taps, k->rate, taps_out,
                new_rate, MDN_MAX_TAPS);
    return NULL;
  }
  /* A lead of whole periods of the two rates: the IR's first sample falls
   * on an output sample. */
  step = (guint64)k->rate / gcd64((guint64)k->rate, (guint64)new_rate);
  lead = (size_t)(((RESAMPLE_LEAD_MIN + step - 1) / step) * step);
  lead_out = (size_t)llround(lead * ratio);
  out = mdn_kernel_new(k->cin, k->cout, MAX(1, (int)taps_out), 1, new_rate, error);
  if (!out)
    return NULL;
  row_out = g_new(double, out->taps);
  for (row = 0; row < rows; row++) {
    double pre, total;

    if (!resample_row(k->weights + row * k->taps, k->taps, k->rate, new_rate, lead, lead_out,
                      row_out, out->taps, &pre, &total, error)) {
      g_clear_pointer(&out, mdn_kernel_free);
      break;
    }
    pre_all += pre;
    total_all += total;
    /* The same response at the new rate: the taps' sum (the gain) goes with 1 / ratio. */
    for (j = 0; j < out->taps; j++)
      out->weights[row * out->taps + j] = (float)(row_out[j] / ratio);
  }
  g_free(row_out);
  if (out && total_all > 0 && pre_all > RESAMPLE_MAX_PRE_RING * total_all) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "resampling from %g to %g Hz puts %.1f dB of the response's energy before its "
                "first sample: the response starts too early to be resampled without a delay "
                "(give it a few milliseconds of leading silence, as a measured room response "
                "has, or design the kernel at %g Hz)",
                k->rate, new_rate, 10 * log10(pre_all / total_all), new_rate);
    g_clear_pointer(&out, mdn_kernel_free);
  }
  if (out)
    memcpy(out->bias, k->bias, sizeof(float) * k->cout);
  return out;
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
