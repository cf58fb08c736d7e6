/* nam-file.c: Neural Amp Modeler .nam files (JSON, through json-glib) as
 * engine models (engine/net).
 *
 * What is read (the format as NAM documents it and NeuralAmpModelerCore reads
 * it): "version" (semantic version; 0.5.0 up to 0.7.x run), "architecture",
 * "config", "weights" (one flat array), optional "sample_rate" (48 kHz when
 * absent) and "metadata" (loudness, input_level_dbu, output_level_dbu,
 * gain, names). Architectures: "WaveNet" (A1 and A2 configs, slimmable
 * layer arrays) and "SlimmableContainer" (submodels with max_value, each a
 * whole model). Not run, with an error that says so: LSTM, ConvNet, Linear,
 * FiLM, condition DSPs.
 *
 * Hostile files: the size, the JSON nesting and the number of JSON values
 * are bounded before json-glib parses (its parser recurses and builds a node
 * per value), every count and size in the config before anything is sized
 * from it (net-private.h's limits), and the weights must be exactly as many
 * as the config needs, all finite.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "net-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAM_DEFAULT_RATE 48000.0

/* ---- before parsing: size, depth, values ---- */

static gboolean
prescan(const char *data, size_t size, GError **error)
{
  size_t i, values = 1;
  int depth = 0;
  gboolean in_string = FALSE;

  if (size == 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "empty file");
    return FALSE;
  }
  if (size > MDN_NAM_MAX_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%zu bytes: more than the limit of %zu for a model file", size,
                (size_t)MDN_NAM_MAX_BYTES);
    return FALSE;
  }
  for (i = 0; i < size; i++) {
    const char c = data[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    switch (c) {
    case '"':
      in_string = TRUE;
      break;
    case '[':
    case '{':
      values++;
      if (++depth > MDN_NAM_MAX_DEPTH) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "JSON nested deeper than %d levels",
                    MDN_NAM_MAX_DEPTH);
        return FALSE;
      }
      break;
    case ']':
    case '}':
      depth--;
      break;
    case ',':
      values++;
      break;
    default:
      break;
    }
  }
  if (values > MDN_NAM_MAX_VALUES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "more than %zu JSON values: over the limit for a model file",
                (size_t)MDN_NAM_MAX_VALUES);
    return FALSE;
  }
  return TRUE;
}

/* ---- typed access with errors naming the member ---- */

static gboolean
bad(GError **error, MdnErrorCode code, const char *where, const char *what)
{
  g_set_error(error, MDN_ERROR, code, "%s: %s", where, what);
  return FALSE;
}

static JsonNode *
member(JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && !JSON_NODE_HOLDS_NULL(n) ? n : NULL;
}

static gboolean
node_is_number(JsonNode *n)
{
  GType t;
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return FALSE;
  t = json_node_get_value_type(n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static gboolean
node_number(JsonNode *n, double *out)
{
  if (!node_is_number(n))
    return FALSE;
  *out = json_node_get_value_type(n) == G_TYPE_INT64 ? (double)json_node_get_int(n)
                                                     : json_node_get_double(n);
  return TRUE;
}

/* An integer in lo..hi (a JSON integer, or a number with an integral value). */
static gboolean
node_int(JsonNode *n, const char *where, const char *name, int lo, int hi, int *out, GError **error)
{
  double v;
  if (!node_number(n, &v) || v != floor(v) || v < lo || v > hi) {
    g_set_error(error, MDN_ERROR, n ? MDN_ERROR_CORRUPT : MDN_ERROR_CORRUPT,
                "%s: \"%s\" must be an integer in %d..%d", where, name, lo, hi);
    return FALSE;
  }
  *out = (int)v;
  return TRUE;
}

static gboolean
get_int(JsonObject *o, const char *where, const char *name, int lo, int hi, int dflt,
        gboolean required, int *out, GError **error)
{
  JsonNode *n = member(o, name);
  if (!n) {
    if (required) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s: \"%s\" is missing", where, name);
      return FALSE;
    }
    *out = dflt;
    return TRUE;
  }
  return node_int(n, where, name, lo, hi, out, error);
}

static gboolean
get_bool(JsonObject *o, const char *where, const char *name, gboolean dflt, gboolean required,
         gboolean *out, GError **error)
{
  JsonNode *n = member(o, name);
  if (!n) {
    if (required) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s: \"%s\" is missing", where, name);
      return FALSE;
    }
    *out = dflt;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s: \"%s\" must be true or false", where,
                name);
    return FALSE;
  }
  *out = json_node_get_boolean(n);
  return TRUE;
}

static const char *
node_string(JsonNode *n)
{
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

static JsonObject *
node_object(JsonNode *n)
{
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
node_array(JsonNode *n)
{
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* ---- activations ---- */

static const struct {
  const char *name;
  MdnActType type;
} act_table[] = {
  { "Tanh", MDN_ACT_TANH },
  { "Hardtanh", MDN_ACT_HARDTANH },
  { "Fasttanh", MDN_ACT_FASTTANH },
  { "ReLU", MDN_ACT_RELU },
  { "LeakyReLU", MDN_ACT_LEAKYRELU },
  { "PReLU", MDN_ACT_PRELU },
  { "Sigmoid", MDN_ACT_SIGMOID },
  { "SiLU", MDN_ACT_SILU },
  { "Hardswish", MDN_ACT_HARDSWISH },
  { "LeakyHardtanh", MDN_ACT_LEAKYHARDTANH },
  { "LeakyHardTanh", MDN_ACT_LEAKYHARDTANH },
  { "Softsign", MDN_ACT_SOFTSIGN },
};

static gboolean
get_float_param(JsonObject *o, const char *where, const char *name, float dflt, float *out,
                GError **error)
{
  JsonNode *n = member(o, name);
  double v;
  if (!n) {
    *out = dflt;
    return TRUE;
  }
  if (!node_number(n, &v) || !isfinite((float)v)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "%s: activation \"%s\" must be a finite number", where, name);
    return FALSE;
  }
  *out = (float)v;
  return TRUE;
}

static gboolean
parse_act(JsonNode *n, const char *where, MdnNetAct *act, GError **error)
{
  JsonObject *o = node_object(n);
  const char *name = o ? node_string(member(o, "type")) : node_string(n);
  guint i;

  memset(act, 0, sizeof(*act));
  if (!name)
    return bad(error, MDN_ERROR_CORRUPT, where,
               "an activation must be a name or an object with a \"type\"");
  for (i = 0; i < G_N_ELEMENTS(act_table); i++)
    if (strcmp(name, act_table[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS(act_table)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "%s: unknown activation \"%.64s\"",
                where, name);
    return FALSE;
  }
  act->type = act_table[i].type;
  act->negative_slope = 0.01f;
  act->min_val = -1.0f;
  act->max_val = 1.0f;
  act->min_slope = act->max_slope = 0.01f;
  if (!o)
    return TRUE;
  if (!get_float_param(o, where, "negative_slope", 0.01f, &act->negative_slope, error)
      || !get_float_param(o, where, "min_val", -1.0f, &act->min_val, error)
      || !get_float_param(o, where, "max_val", 1.0f, &act->max_val, error)
      || !get_float_param(o, where, "min_slope", 0.01f, &act->min_slope, error)
      || !get_float_param(o, where, "max_slope", 0.01f, &act->max_slope, error))
    return FALSE;
  if (act->type == MDN_ACT_PRELU && member(o, "negative_slopes")) {
    JsonArray *a = node_array(member(o, "negative_slopes"));
    guint len = a ? json_array_get_length(a) : 0;
    if (len == 0 || len > MDN_MAX_CHANNELS)
      return bad(error, MDN_ERROR_CORRUPT, where,
                 "PReLU \"negative_slopes\" must hold 1..256 numbers");
    act->slopes = g_new(float, len);
    act->n_slopes = (int)len;
    for (i = 0; i < len; i++) {
      double v;
      if (!node_number(json_array_get_element(a, i), &v) || !isfinite((float)v))
        return bad(error, MDN_ERROR_CORRUPT, where, "PReLU slopes must be finite numbers");
      act->slopes[i] = (float)v;
    }
  }
  return TRUE;
}

/* A per-layer list: an array of n entries, or one entry for every layer. */
static JsonNode *
per_layer(JsonNode *n, int l)
{
  JsonArray *a = node_array(n);
  return a ? json_array_get_element(a, l) : n;
}

static gboolean
check_per_layer(JsonNode *n, int n_layers, const char *where, const char *name, GError **error)
{
  JsonArray *a = node_array(n);
  if (a && (int)json_array_get_length(a) != n_layers) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s: \"%s\" has %u entries for %d layers",
                where, name, json_array_get_length(a), n_layers);
    return FALSE;
  }
  return TRUE;
}

/* ---- WaveNet config ---- */

static const char *const film_keys[] = {
  "conv_pre_film",       "conv_post_film",       "input_mixin_pre_film", "input_mixin_post_film",
  "activation_pre_film", "activation_post_film", "layer1x1_post_film",   "head1x1_post_film",
};

static gboolean
parse_array(JsonObject *lc, int index, MdnWaveNetArray *p, GError **error)
{
  char where[64];
  JsonNode *n, *acts, *gating, *secondary;
  JsonArray *dil;
  JsonObject *sub;
  gboolean legacy_gated = FALSE;
  guint i;
  int l;

  g_snprintf(where, sizeof(where), "layer array %d", index);
  if (!lc)
    return bad(error, MDN_ERROR_CORRUPT, where, "must be an object");

  for (i = 0; i < G_N_ELEMENTS(film_keys); i++) {
    JsonNode *f = member(lc, film_keys[i]);
    gboolean active = FALSE;
    if (!f)
      continue;
    if (JSON_NODE_HOLDS_VALUE(f) && json_node_get_value_type(f) == G_TYPE_BOOLEAN)
      active = json_node_get_boolean(f);
    else if (node_object(f)
             && !get_bool(node_object(f), where, "active", TRUE, FALSE, &active, error))
      return FALSE;
    if (active) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "%s: FiLM (\"%s\") is not supported", where, film_keys[i]);
      return FALSE;
    }
  }

  if (!get_int(lc, where, "input_size", 1, MDN_MAX_CHANNELS, 0, TRUE, &p->input_size, error)
      || !get_int(lc, where, "condition_size", 1, MDN_MAX_CHANNELS, 0, TRUE, &p->condition_size,
                  error)
      || !get_int(lc, where, "channels", 1, MDN_MAX_CHANNELS, 0, TRUE, &p->channels, error)
      || !get_int(lc, where, "bottleneck", 1, MDN_MAX_CHANNELS, p->channels, FALSE, &p->bottleneck,
                  error)
      || !get_int(lc, where, "groups_input", 1, MDN_MAX_CHANNELS, 1, FALSE, &p->groups_input, error)
      || !get_int(lc, where, "groups_input_mixin", 1, MDN_MAX_CHANNELS, 1, FALSE,
                  &p->groups_input_mixin, error))
    return FALSE;

  p->layer1x1_active = TRUE;
  p->layer1x1_groups = 1;
  if ((sub = node_object(member(lc, "layer1x1")))
      && (!get_bool(sub, where, "active", TRUE, TRUE, &p->layer1x1_active, error)
          || !get_int(sub, where, "groups", 1, MDN_MAX_CHANNELS, 1, FALSE, &p->layer1x1_groups,
                      error)))
    return FALSE;
  p->head1x1_out = p->channels;
  p->head1x1_groups = 1;
  if ((sub = node_object(member(lc, "head1x1")))
      && (!get_bool(sub, where, "active", FALSE, TRUE, &p->head1x1_active, error)
          || !get_int(sub, where, "out_channels", 1, MDN_MAX_CHANNELS, p->channels, FALSE,
                      &p->head1x1_out, error)
          || !get_int(sub, where, "groups", 1, MDN_MAX_CHANNELS, 1, FALSE, &p->head1x1_groups,
                      error)))
    return FALSE;

  p->head_kernel = p->head_dilation = 1;
  if ((sub = node_object(member(lc, "head")))) {
    if (!get_int(sub, where, "out_channels", 1, MDN_MAX_CHANNELS, 0, TRUE, &p->head_size, error)
        || !get_int(sub, where, "kernel_size", 1, MDN_NET_MAX_KERNEL, 0, TRUE, &p->head_kernel,
                    error)
        || !get_int(sub, where, "head_dilation", 1, MDN_NET_MAX_DILATION, 1, FALSE,
                    &p->head_dilation, error)
        || !get_bool(sub, where, "bias", FALSE, TRUE, &p->head_bias, error))
      return FALSE;
  } else if (!get_int(lc, where, "head_size", 1, MDN_MAX_CHANNELS, 0, TRUE, &p->head_size, error)
             || !get_bool(lc, where, "head_bias", FALSE, TRUE, &p->head_bias, error)) {
    return FALSE;
  }

  dil = node_array(member(lc, "dilations"));
  if (!dil || json_array_get_length(dil) < 1 || json_array_get_length(dil) > MDN_NET_MAX_LAYERS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "%s: \"dilations\" must list 1..%d layers",
                where, MDN_NET_MAX_LAYERS);
    return FALSE;
  }
  p->n_layers = (int)json_array_get_length(dil);
  p->dilations = g_new0(int, p->n_layers);
  p->kernel_sizes = g_new0(int, p->n_layers);
  p->acts = g_new0(MdnNetAct, p->n_layers);
  p->secondary = g_new0(MdnNetAct, p->n_layers);
  p->gating = g_new0(MdnGating, p->n_layers);

  if (member(lc, "kernel_size") && member(lc, "kernel_sizes"))
    return bad(error, MDN_ERROR_CORRUPT, where,
               "only one of kernel_size and kernel_sizes may be given");
  n = member(lc, "kernel_sizes") ? member(lc, "kernel_sizes") : member(lc, "kernel_size");
  if (!n)
    return bad(error, MDN_ERROR_CORRUPT, where, "\"kernel_size\" is missing");
  if (member(lc, "kernel_sizes") && !node_array(n))
    return bad(error, MDN_ERROR_CORRUPT, where, "\"kernel_sizes\" must be an array");
  acts = member(lc, "activation");
  if (!acts)
    return bad(error, MDN_ERROR_CORRUPT, where, "\"activation\" is missing");
  gating = member(lc, "gating_mode");
  secondary = member(lc, "secondary_activation");
  if (!gating && member(lc, "gated")
      && !get_bool(lc, where, "gated", FALSE, FALSE, &legacy_gated, error))
    return FALSE;
  if (!check_per_layer(n, p->n_layers, where, "kernel_sizes", error)
      || !check_per_layer(acts, p->n_layers, where, "activation", error)
      || !check_per_layer(gating, p->n_layers, where, "gating_mode", error)
      || !check_per_layer(secondary, p->n_layers, where, "secondary_activation", error))
    return FALSE;

  for (l = 0; l < p->n_layers; l++) {
    char lw[96];
    JsonNode *sec;
    g_snprintf(lw, sizeof(lw), "%s layer %d", where, l);
    if (!node_int(json_array_get_element(dil, l), lw, "dilations", 1, MDN_NET_MAX_DILATION,
                  &p->dilations[l], error)
        || !node_int(per_layer(n, l), lw, "kernel_size", 1, MDN_NET_MAX_KERNEL, &p->kernel_sizes[l],
                     error)
        || !parse_act(per_layer(acts, l), lw, &p->acts[l], error))
      return FALSE;
    p->gating[l] = legacy_gated ? MDN_GATING_GATED : MDN_GATING_NONE;
    if (gating) {
      const char *mode = node_string(per_layer(gating, l));
      if (mode && strcmp(mode, "none") == 0)
        p->gating[l] = MDN_GATING_NONE;
      else if (mode && strcmp(mode, "gated") == 0)
        p->gating[l] = MDN_GATING_GATED;
      else if (mode && strcmp(mode, "blended") == 0)
        p->gating[l] = MDN_GATING_BLENDED;
      else
        return bad(error, MDN_ERROR_CORRUPT, lw, "\"gating_mode\" must be none, gated or blended");
    }
    if (p->gating[l] == MDN_GATING_NONE)
      continue;
    sec = per_layer(secondary, l);
    if (sec && !JSON_NODE_HOLDS_NULL(sec)) {
      if (!parse_act(sec, lw, &p->secondary[l], error))
        return FALSE;
    } else {
      p->secondary[l].type = MDN_ACT_SIGMOID;
    }
  }

  if ((sub = node_object(member(lc, "slimmable")))) {
    const char *method = node_string(member(sub, "method"));
    JsonObject *kw = node_object(member(sub, "kwargs"));
    JsonArray *allowed = kw ? node_array(member(kw, "allowed_channels")) : NULL;
    if (!method || strcmp(method, "slice_channels_uniform") != 0) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                  "%s: slimmable method \"%.64s\" is not supported (slice_channels_uniform is)",
                  where, method ? method : "");
      return FALSE;
    }
    if (allowed) {
      guint len = json_array_get_length(allowed);
      if (len < 1 || len > MDN_MAX_CHANNELS)
        return bad(error, MDN_ERROR_CORRUPT, where, "\"allowed_channels\" must list 1..256 counts");
      p->n_allowed = (int)len;
      p->allowed = g_new0(int, len);
      for (i = 0; i < len; i++)
        if (!node_int(json_array_get_element(allowed, i), where, "allowed_channels", 1, p->channels,
                      &p->allowed[i], error))
          return FALSE;
    } else {
      p->n_allowed = p->channels;
      p->allowed = g_new0(int, p->channels);
      for (l = 0; l < p->channels; l++)
        p->allowed[l] = l + 1;
    }
    for (i = 1; i < (guint)p->n_allowed; i++)
      if (p->allowed[i] <= p->allowed[i - 1])
        return bad(error, MDN_ERROR_CORRUPT, where, "\"allowed_channels\" must be ascending");
    if (p->allowed[p->n_allowed - 1] != p->channels)
      return bad(error, MDN_ERROR_CORRUPT, where,
                 "the last of \"allowed_channels\" must be the array's channels");
  }
  return TRUE;
}

static gboolean
parse_weights(JsonNode *n, MdnWaveNetDesc *d, GError **error)
{
  JsonArray *a = node_array(n);
  guint len, i;

  if (!a)
    return bad(error, MDN_ERROR_CORRUPT, "weights", "missing, or not an array");
  len = json_array_get_length(a);
  if (len > MDN_NET_MAX_WEIGHTS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%u weights: more than the limit of %d", len, MDN_NET_MAX_WEIGHTS);
    return FALSE;
  }
  d->n_weights = len;
  d->weights = g_new(float, MAX(len, 1));
  for (i = 0; i < len; i++) {
    double v;
    if (!node_number(json_array_get_element(a, i), &v)) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "weight %u is not a number", i);
      return FALSE;
    }
    d->weights[i] = (float)v;
    if (!isfinite(d->weights[i])) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "weight %u (%g) is not a finite float", i,
                  v);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
parse_wavenet(JsonObject *cfg, JsonNode *weights, MdnWaveNetDesc *d, GError **error)
{
  JsonArray *layers;
  JsonObject *head;
  double v;
  guint i;

  if (!cfg)
    return bad(error, MDN_ERROR_CORRUPT, "config", "missing, or not an object");
  if (member(cfg, "condition_dsp"))
    return bad(error, MDN_ERROR_INVALID_ARGUMENT, "config",
               "a condition DSP (\"condition_dsp\") is not supported");
  if (!get_int(cfg, "config", "in_channels", 1, MDN_MAX_CHANNELS, 1, FALSE, &d->in_channels, error))
    return FALSE;
  layers = node_array(member(cfg, "layers"));
  if (!layers || json_array_get_length(layers) < 1
      || json_array_get_length(layers) > MDN_NET_MAX_ARRAYS) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "config: \"layers\" must list 1..%d layer arrays", MDN_NET_MAX_ARRAYS);
    return FALSE;
  }
  d->n_arrays = (int)json_array_get_length(layers);
  d->arrays = g_new0(MdnWaveNetArray, d->n_arrays);
  for (i = 0; i < (guint)d->n_arrays; i++)
    if (!parse_array(node_object(json_array_get_element(layers, i)), (int)i, &d->arrays[i], error))
      return FALSE;
  if (!node_number(member(cfg, "head_scale"), &v) || !isfinite((float)v))
    return bad(error, MDN_ERROR_CORRUPT, "config", "\"head_scale\" must be a finite number");
  d->head_scale = (float)v;

  if ((head = node_object(member(cfg, "head")))) {
    JsonArray *ks = node_array(member(head, "kernel_sizes"));
    int in;
    d->with_head = TRUE;
    if (!get_int(head, "head", "channels", 1, MDN_MAX_CHANNELS, 0, TRUE, &d->head_channels, error)
        || !get_int(head, "head", "out_channels", 1, MDN_MAX_CHANNELS, 0, TRUE, &d->head_out, error)
        || !parse_act(member(head, "activation"), "head", &d->head_act, error))
      return FALSE;
    if (!get_int(head, "head", "in_channels", 1, MDN_MAX_CHANNELS,
                 d->arrays[d->n_arrays - 1].head_size, FALSE, &in, error))
      return FALSE;
    if (in != d->arrays[d->n_arrays - 1].head_size)
      return bad(error, MDN_ERROR_CORRUPT, "head",
                 "\"in_channels\" is not the last layer array's head size");
    if (!ks || json_array_get_length(ks) < 1 || json_array_get_length(ks) > MDN_NET_MAX_LAYERS)
      return bad(error, MDN_ERROR_CORRUPT, "head", "\"kernel_sizes\" must list 1..256 sizes");
    d->n_head_kernels = (int)json_array_get_length(ks);
    d->head_kernels = g_new0(int, d->n_head_kernels);
    for (i = 0; i < (guint)d->n_head_kernels; i++)
      if (!node_int(json_array_get_element(ks, i), "head", "kernel_sizes", 1, MDN_NET_MAX_KERNEL,
                    &d->head_kernels[i], error))
        return FALSE;
  }
  return parse_weights(weights, d, error);
}

/* ---- the file ---- */

typedef struct {
  MdnNetGraph **graphs;
  double *max_value;
  int n;
  double rate; /* 0: none given */
} Submodels;

static void
add_graph(Submodels *s, MdnNetGraph *g, double max_value)
{
  s->graphs = g_renew(MdnNetGraph *, s->graphs, s->n + 1);
  s->max_value = g_renew(double, s->max_value, s->n + 1);
  s->graphs[s->n] = g;
  s->max_value[s->n] = max_value;
  s->n++;
}

static gboolean
check_version(JsonObject *root, char **version_out, GError **error)
{
  const char *v = node_string(member(root, "version"));
  guint64 part[3];
  const char *p;
  char *end;
  int i;

  if (!v)
    return bad(error, MDN_ERROR_CORRUPT, "version", "missing, or not a string");
  p = v;
  for (i = 0; i < 3; i++) {
    if (!g_ascii_isdigit(*p))
      break;
    part[i] = g_ascii_strtoull(p, &end, 10);
    p = end;
    if (i < 2 && *p++ != '.')
      break;
  }
  if (i < 3 || *p != '\0' || part[0] > 1000 || part[1] > 1000) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_VERSION,
                "version \"%.32s\" is not a version number (MAJOR.MINOR.PATCH)", v);
    return FALSE;
  }
  /* What NeuralAmpModelerCore 0.4.1 reads: 0.5.0 up to 0.7.x (a newer
   * patch level only adds what old readers may ignore). */
  if (part[0] != 0 || part[1] < 5 || part[1] > 7) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_VERSION,
                "file version %.32s is not supported (this engine reads 0.5.0 to 0.7.x)", v);
    return FALSE;
  }
  if (version_out && !*version_out)
    *version_out = g_strdup(v);
  return TRUE;
}

static void
read_metadata(JsonObject *root, MdnNetMetadata *m)
{
  JsonObject *o = node_object(member(root, "metadata"));
  const char *make, *model, *type;
  double v;

  if (!o)
    return;
  if (node_number(member(o, "loudness"), &v))
    m->loudness = v;
  if (node_number(member(o, "input_level_dbu"), &v))
    m->input_level_dbu = v;
  if (node_number(member(o, "output_level_dbu"), &v))
    m->output_level_dbu = v;
  if (node_number(member(o, "gain"), &v))
    m->gain = v;
  if (node_string(member(o, "name")))
    g_strlcpy(m->name, node_string(member(o, "name")), sizeof(m->name));
  if (node_string(member(o, "modeled_by")))
    g_strlcpy(m->modeled_by, node_string(member(o, "modeled_by")), sizeof(m->modeled_by));
  make = node_string(member(o, "gear_make"));
  model = node_string(member(o, "gear_model"));
  type = node_string(member(o, "gear_type"));
  if (make || model)
    g_snprintf(m->gear, sizeof(m->gear), "%s%s%s%s%s%s", make ? make : "", make && model ? " " : "",
               model ? model : "", type ? " (" : "", type ? type : "", type ? ")" : "");
}

static gboolean
read_rate(JsonObject *root, Submodels *s, GError **error)
{
  JsonNode *n = member(root, "sample_rate");
  double rate;
  if (!n)
    return TRUE;
  if (!node_number(n, &rate) || !(rate >= 1000 && rate <= 1e6))
    return bad(error, MDN_ERROR_CORRUPT, "sample_rate", "must be a number in 1000..1000000 Hz");
  if (s->rate > 0 && rate != s->rate) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                "submodels at different sample rates (%g and %g Hz)", s->rate, rate);
    return FALSE;
  }
  s->rate = rate;
  return TRUE;
}

/* A WaveNet: one graph, or one per size when its layer arrays are slimmable. */
static gboolean
load_wavenet(JsonObject *root, Submodels *s, double max_value, gboolean allow_slim, GError **error)
{
  MdnWaveNetDesc d;
  gboolean ok = FALSE, slim = FALSE;
  int a, q, last_q = -1;

  memset(&d, 0, sizeof(d));
  if (!parse_wavenet(node_object(member(root, "config")), member(root, "weights"), &d, error))
    goto out;
  for (a = 0; a < d.n_arrays; a++)
    slim = slim || d.arrays[a].n_allowed > 0;
  if (!slim) {
    MdnNetGraph *g = mdn_wavenet_build(&d, error);
    if (g)
      add_graph(s, g, max_value);
    ok = g != NULL;
    goto out;
  }
  if (!allow_slim) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "a slimmable WaveNet inside a container is not supported");
    goto out;
  }
  {
    size_t need;
    if (!mdn_wavenet_desc_check(&d, &need, error))
      goto out;
    if (need != d.n_weights) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "the file has %zu weights; its config needs %zu", d.n_weights, need);
      goto out;
    }
  }
  /* NAM's slimmable size v = quality / 10 picks in every slimmable array
   * allowed[min(floor(v * n), n - 1)]; each distinct choice is a submodel,
   * valid while v stays below the next quality step. */
  for (q = 0; q <= 10; q++) {
    int channels[MDN_NET_MAX_ARRAYS], prev[MDN_NET_MAX_ARRAYS];
    gboolean same = last_q >= 0;
    for (a = 0; a < d.n_arrays; a++) {
      const MdnWaveNetArray *p = &d.arrays[a];
      if (p->n_allowed == 0) {
        channels[a] = p->channels;
      } else {
        int idx = MIN((int)floor(q / 10.0 * p->n_allowed), p->n_allowed - 1);
        channels[a] = p->allowed[idx];
      }
      if (last_q >= 0) {
        const MdnWaveNetArray *pp = &d.arrays[a];
        int pidx
            = pp->n_allowed ? MIN((int)floor(last_q / 10.0 * pp->n_allowed), pp->n_allowed - 1) : 0;
        prev[a] = pp->n_allowed ? pp->allowed[pidx] : pp->channels;
        same = same && prev[a] == channels[a];
      }
    }
    if (same) {
      s->max_value[s->n - 1] = q == 10 ? 1.0 : (q + 1) / 10.0;
      last_q = q;
      continue;
    }
    {
      MdnWaveNetDesc sd;
      MdnNetGraph *g;
      if (!mdn_wavenet_desc_slice(&d, channels, &sd, error))
        goto out;
      g = mdn_wavenet_build(&sd, error);
      mdn_wavenet_desc_clear(&sd);
      if (!g)
        goto out;
      add_graph(s, g, q == 10 ? 1.0 : (q + 1) / 10.0);
    }
    last_q = q;
  }
  ok = TRUE;
out:
  mdn_wavenet_desc_clear(&d);
  return ok;
}

static gboolean
unsupported_architecture(const char *arch, GError **error)
{
  g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
              "architecture \"%.64s\" is not supported (this engine runs WaveNet and "
              "SlimmableContainer of WaveNets)",
              arch);
  return FALSE;
}

static gboolean
load_root(JsonObject *root, MdnNet **net_out, GError **error)
{
  Submodels s = { NULL, NULL, 0, 0 };
  const char *arch;
  char *version = NULL;
  MdnNetMetadata meta;
  MdnNet *net;
  int i;

  memset(&meta, 0, sizeof(meta));
  meta.loudness = meta.input_level_dbu = meta.output_level_dbu = meta.gain = NAN;
  if (!root)
    return bad(error, MDN_ERROR_CORRUPT, "file", "not a JSON object");
  if (!check_version(root, &version, error))
    goto fail;
  arch = node_string(member(root, "architecture"));
  if (!arch) {
    bad(error, MDN_ERROR_CORRUPT, "architecture", "missing, or not a string");
    goto fail;
  }
  read_metadata(root, &meta);
  if (!read_rate(root, &s, error))
    goto fail;
  if (strcmp(arch, "WaveNet") == 0) {
    if (!load_wavenet(root, &s, 1.0, TRUE, error))
      goto fail;
  } else if (strcmp(arch, "SlimmableContainer") == 0) {
    JsonObject *cfg = node_object(member(root, "config"));
    JsonArray *subs = cfg ? node_array(member(cfg, "submodels")) : NULL;
    guint n = subs ? json_array_get_length(subs) : 0;
    double prev = -G_MAXDOUBLE;
    if (n < 1 || n > MDN_NET_MAX_SUBMODELS) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                  "config: \"submodels\" must list 1..%d models", MDN_NET_MAX_SUBMODELS);
      goto fail;
    }
    for (i = 0; i < (int)n; i++) {
      JsonObject *entry = node_object(json_array_get_element(subs, i));
      JsonObject *model = entry ? node_object(member(entry, "model")) : NULL;
      const char *sub_arch = model ? node_string(member(model, "architecture")) : NULL;
      double max_value;
      if (!model || !node_number(member(entry, "max_value"), &max_value) || !isfinite(max_value)) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "submodel %d: needs a \"max_value\" number and a \"model\" object", i);
        goto fail;
      }
      if (max_value <= prev) {
        g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT,
                    "submodel %d: max_value %g not above the previous one's", i, max_value);
        goto fail;
      }
      prev = max_value;
      if (!check_version(model, NULL, error) || !read_rate(model, &s, error))
        goto fail;
      if (!sub_arch || strcmp(sub_arch, "WaveNet") != 0) {
        unsupported_architecture(sub_arch ? sub_arch : "(none)", error);
        g_prefix_error(error, "submodel %d: ", i);
        goto fail;
      }
      if (!load_wavenet(model, &s, max_value, FALSE, error)) {
        g_prefix_error(error, "submodel %d: ", i);
        goto fail;
      }
      if (i == (int)n - 1)
        read_metadata(model, &meta);
    }
    read_metadata(root, &meta); /* the container's own, over its last submodel's */
    if (prev < 1.0) {
      bad(error, MDN_ERROR_CORRUPT, "config", "the last submodel's max_value must be at least 1");
      goto fail;
    }
  } else {
    unsupported_architecture(arch, error);
    goto fail;
  }
  net = mdn_net_new_from_graphs(s.graphs, s.n, s.max_value, s.rate > 0 ? s.rate : NAM_DEFAULT_RATE,
                                error);
  s.graphs = NULL;
  g_free(s.max_value);
  if (!net) {
    g_free(version);
    return FALSE;
  }
  net->architecture = g_strdup(arch);
  net->version = version;
  net->rate_from_file = s.rate > 0;
  net->metadata = meta;
  *net_out = net;
  return TRUE;

fail:
  for (i = 0; i < s.n; i++)
    mdn_net_graph_free(s.graphs[i]);
  g_free(s.graphs);
  g_free(s.max_value);
  g_free(version);
  return FALSE;
}

gboolean
mdn_nam_parse_wavenet(const void *data, size_t size, MdnWaveNetDesc *desc, GError **error)
{
  JsonParser *parser;
  JsonObject *root;
  GError *json_error = NULL;
  const char *arch;
  gboolean ok = FALSE;

  memset(desc, 0, sizeof(*desc));
  if (!prescan(data, size, error))
    return FALSE;
  parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, data, (gssize)size, &json_error)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "not JSON: %s", json_error->message);
    g_error_free(json_error);
    g_object_unref(parser);
    return FALSE;
  }
  root = node_object(json_parser_get_root(parser));
  arch = root ? node_string(member(root, "architecture")) : NULL;
  if (!root || !check_version(root, NULL, error))
    ;
  else if (!arch || strcmp(arch, "WaveNet") != 0)
    unsupported_architecture(arch ? arch : "(none)", error);
  else
    ok = parse_wavenet(node_object(member(root, "config")), member(root, "weights"), desc, error);
  if (!ok && error && !*error)
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "not a JSON object");
  if (!ok)
    mdn_wavenet_desc_clear(desc);
  g_object_unref(parser);
  return ok;
}

MdnNet *
mdn_net_load_from_data(const void *data, size_t size, GError **error)
{
  JsonParser *parser;
  GError *json_error = NULL;
  MdnNet *net = NULL;

  if (!data && size > 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "no data");
    return NULL;
  }
  if (!prescan(data, size, error))
    return NULL;
  parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, data, (gssize)size, &json_error)) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_CORRUPT, "not JSON: %s", json_error->message);
    g_error_free(json_error);
    g_object_unref(parser);
    return NULL;
  }
  load_root(node_object(json_parser_get_root(parser)), &net, error);
  g_object_unref(parser);
  return net;
}

/* The whole of a regular file (mdn_file_open_regular: a FIFO or a device is
 * refused, not read), at most MDN_NAM_MAX_BYTES. */
static char *
read_regular(const char *path, size_t *size, GError **error)
{
  struct stat st;
  char *data;
  size_t done = 0;
  int fd = mdn_file_open_regular(path, error);

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || st.st_size < 0) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(errno));
    close(fd);
    return NULL;
  }
  if ((guint64)st.st_size > MDN_NAM_MAX_BYTES) {
    g_set_error(error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: %" G_GUINT64_FORMAT " bytes: more than the limit of %zu for a model file",
                path, (guint64)st.st_size, (size_t)MDN_NAM_MAX_BYTES);
    close(fd);
    return NULL;
  }
  data = g_malloc((gsize)st.st_size + 1);
  while (done < (size_t)st.st_size) {
    const ssize_t got = read(fd, data + done, (size_t)st.st_size - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path,
                  got < 0 ? g_strerror(errno) : "shorter than its size");
      g_free(data);
      close(fd);
      return NULL;
    }
    done += (size_t)got;
  }
  close(fd);
  *size = done;
  return data;
}

MdnNet *
mdn_net_load(const char *path, GError **error)
{
  size_t size = 0;
  char *data = read_regular(path, &size, error);
  MdnNet *net;

  if (!data)
    return NULL;
  net = mdn_net_load_from_data(data, size, error);
  g_free(data);
  if (!net)
    g_prefix_error(error, "%s: ", path);
  return net;
}

gboolean
mdn_net_file_is_model(const char *path)
{
  char buf[64];
  ssize_t n;
  size_t i = 0;
  int fd = mdn_file_open_regular(path, NULL);

  if (fd < 0)
    return FALSE;
  n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n >= 3 && (guchar)buf[0] == 0xEF && (guchar)buf[1] == 0xBB && (guchar)buf[2] == 0xBF)
    i = 3; /* a UTF-8 byte order mark */
  while (n > 0 && i < (size_t)n && g_ascii_isspace(buf[i]))
    i++;
  return n > 0 && i < (size_t)n && buf[i] == '{';
}
