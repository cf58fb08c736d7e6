/* maddness-info: prints what a .mdn preset (a file or a preset name) holds, as "key: value" lines
 * (its rate variants, then each variant's kernel, provenance and tiers), or (--taps) the exact
 * kernel of one variant as a taps-file body; --list lists the shipped presets.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static gboolean opt_taps = FALSE;
static gboolean opt_list = FALSE;
static double opt_rate = 0;

static const GOptionEntry entries[] = {
  { "taps", 't', 0, G_OPTION_ARG_NONE, &opt_taps,
    "Print the exact kernel as a taps file body (no header line)", NULL },
  { "list", 'l', 0, G_OPTION_ARG_NONE, &opt_list,
    "List the presets found by name: \"NAME CIN->COUT taps=K tiers=N rates=R1,R2\" per line "
    "(taps and tiers of the default variant)",
    NULL },
  { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &opt_rate,
    "Only the variant at this rate (--taps: default the 48 kHz variant, else the highest rate)",
    "HZ" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static int
compare_names(const char **a, const char **b)
{
  return strcmp(*a, *b);
}

static void
print_variant(const MdnModel *model)
{
  const MdnKernel *k = mdn_model_kernel(model);
  const MdnProvenance *p = mdn_model_provenance(model);
  int t, c;

  printf("cin: %d\n", k->cin);
  printf("cout: %d\n", k->cout);
  printf("taps: %d\n", k->taps);
  printf("dilation: %d\n", k->dilation);
  printf("rate: %.10g\n", k->rate);
  printf("seconds: %.10g\n", p->seconds);
  printf("date: %s\n", p->date[0] ? p->date : "-");
  printf("seed: %" G_GUINT64_FORMAT "\n", p->seed);
  printf("exact_cost: %.10g\n", mdn_model_exact_cost(model));
  if (mdn_model_n_classes(model) > 0) {
    printf("classes:");
    for (c = 0; c < mdn_model_n_classes(model); c++)
      printf(" %s", mdn_model_class_name(model, c));
    printf("\n");
  }
  /* The ladder is stored fastest first. snr_db is the claim (the worst
   * class when there are classes). */
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    MdnTierInfo info;
    mdn_model_tier_info(model, t, &info);
    printf("tier: %s snr_db=%.2f buckets=%d taps_per_codebook=%d exact_taps=%d table_bytes=%zu "
           "cost=%.10g",
           info.name, info.snr_db, info.buckets, info.spec.taps_per_codebook, info.spec.exact_taps,
           info.table_bytes, info.cost);
    for (c = 0; c < mdn_model_n_classes(model); c++)
      printf("%s%s:%.2f", c == 0 ? " class_snr_db=" : ",", mdn_model_class_name(model, c),
             mdn_model_tier_class_snr(model, t, c));
    printf("\n");
  }
}

/* The rates, then one block per variant (lowest rate first), each opened by
 * "variant: RATE". */
static void
print_info(const MdnPreset *preset)
{
  int v;

  printf("variants: %d\n", mdn_preset_n_variants(preset));
  printf("rates:");
  for (v = 0; v < mdn_preset_n_variants(preset); v++)
    printf(" %.10g", mdn_model_kernel(mdn_preset_variant(preset, v))->rate);
  printf("\n");
  for (v = 0; v < mdn_preset_n_variants(preset); v++) {
    const MdnModel *model = mdn_preset_variant(preset, v);

    if (opt_rate != 0 && model != mdn_preset_variant_at_rate(preset, opt_rate))
      continue;
    printf("variant: %.10g\n", mdn_model_kernel(model)->rate);
    print_variant(model);
  }
}

/* Quality levels 0..10 that run submodel `sub`, as "A-B" (or "A"). */
static void
print_quality_range(const MdnNet *net, int sub)
{
  int q, lo = -1, hi = -1;
  for (q = 0; q <= 10; q++)
    if (mdn_net_submodel_for_quality(net, q) == sub) {
      if (lo < 0)
        lo = q;
      hi = q;
    }
  if (lo < 0)
    printf("none");
  else if (lo == hi)
    printf("%d", lo);
  else
    printf("%d-%d", lo, hi);
}

static void
print_level(const char *key, double value, const char *unit)
{
  if (isnan(value))
    printf("%s: -\n", key);
  else
    printf("%s: %.10g%s\n", key, value, unit);
}

/* A trained model (.nam): what it is, its submodels, its levels. */
static void
print_net_info(const MdnNet *net)
{
  const MdnNetMetadata *m = mdn_net_metadata(net);
  int i;

  printf("format: nam\n");
  printf("architecture: %s\n", mdn_net_architecture(net));
  printf("version: %s\n", mdn_net_version(net));
  printf("rate: %.10g%s\n", mdn_net_rate(net),
         mdn_net_rate_from_file(net) ? "" : " (the file gives none: NAM's default)");
  printf("channels: %d->%d\n", mdn_net_in_channels(net), mdn_net_out_channels(net));
  /* Measured on NAM standard captures (docs/tiers.md): approximating every
   * dilated conv gave 4-12 dB at the output for 1.6-2.3x fewer operations. */
  printf("runs: exact (MADDNESS on every dilated conv of NAM standard captures measured 4-12 dB "
         "at the output for 1.6-2.3x fewer operations: docs/tiers.md); quality picks the "
         "submodel\n");
  printf("submodels: %d\n", mdn_net_n_submodels(net));
  for (i = 0; i < mdn_net_n_submodels(net); i++) {
    MdnNetInfo info;
    mdn_net_submodel_info(net, i, &info);
    printf("submodel: %d quality=", i);
    print_quality_range(net, i);
    printf(" layers=%d receptive_field=%zu weights=%zu macs_per_frame=%.10g %s\n", info.layers,
           info.receptive_field, info.weights, info.macs_per_frame, info.summary);
  }
  print_level("loudness", m->loudness, " dB");
  print_level("input_level_dbu", m->input_level_dbu, " dBu");
  print_level("output_level_dbu", m->output_level_dbu, " dBu");
  print_level("gain", m->gain, "");
  printf("name: %s\n", m->name[0] ? m->name : "-");
  printf("modeled_by: %s\n", m->modeled_by[0] ? m->modeled_by : "-");
  printf("gear: %s\n", m->gear[0] ? m->gear : "-");
}

/* Lists the NAME.mdn files of `dir` not already listed (`seen`: a name found
 * in an earlier directory shadows it, as in mdn_preset_find()). A missing
 * directory lists nothing; an unreadable preset is reported and sets *failed. */
static void
list_dir(const char *dir, GHashTable *seen, gboolean *failed)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  GPtrArray *names;
  const char *entry;
  guint i;

  if (!d)
    return;
  names = g_ptr_array_new_with_free_func(g_free);
  while ((entry = g_dir_read_name(d)))
    if (g_str_has_suffix(entry, ".mdn") && strlen(entry) > 4)
      g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
  g_dir_close(d);
  g_ptr_array_sort(names, (GCompareFunc)compare_names);

  for (i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    char *file, *path;
    GError *error = NULL;
    MdnPreset *preset;

    if (g_hash_table_contains(seen, name))
      continue;
    g_hash_table_add(seen, g_strdup(name));
    file = g_strconcat(name, ".mdn", NULL);
    path = g_build_filename(dir, file, NULL);
    g_free(file);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
      g_free(path);
      continue;
    }
    preset = mdn_preset_load(path, &error);
    if (preset) {
      const MdnModel *model = mdn_preset_default_variant(preset);
      const MdnKernel *k = mdn_model_kernel(model);
      int v;

      printf("%s %d->%d taps=%d tiers=%d rates=", name, k->cin, k->cout, k->taps,
             mdn_model_n_tiers(model));
      for (v = 0; v < mdn_preset_n_variants(preset); v++)
        printf("%s%.10g", v ? "," : "", mdn_model_kernel(mdn_preset_variant(preset, v))->rate);
      printf("\n");
      mdn_preset_free(preset);
    } else {
      fprintf(stderr, "maddness-info: %s\n", error->message);
      g_error_free(error);
      *failed = TRUE;
    }
    g_free(path);
  }
  g_ptr_array_unref(names);
}

/* The directories mdn_preset_find() searches, in its order. */
static int
list_presets(void)
{
  GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  const char *env = g_getenv("MADDNESS_PRESET_PATH");
  gboolean failed = FALSE;

  if (env) {
    char **dirs = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    char **d;

    for (d = dirs; *d; d++)
      if (**d) /* empty entries are skipped, as by mdn_preset_find() */
        list_dir(*d, seen, &failed);
    g_strfreev(dirs);
  }
  list_dir(mdn_preset_dir(), seen, &failed);
  g_hash_table_unref(seen);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "maddness-info: cannot write the output\n");
    failed = TRUE;
  }
  return failed ? 1 : 0;
}

/* Prints a trained model (.nam); the exit status. */
static int
show_net(const char *path)
{
  GError *error = NULL;
  MdnNet *net = mdn_net_load(path, &error);
  int status = 0;

  if (!net) {
    fprintf(stderr, "maddness-info: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  if (opt_taps) {
    fprintf(stderr, "maddness-info: --taps: a trained model is not one kernel\n");
    status = 1;
  } else {
    print_net_info(net);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, "maddness-info: cannot write the output\n");
      status = 1;
    }
  }
  mdn_net_free(net);
  return status;
}

/* Prints a preset (.mdn), or with --taps the kernel of its variant at --rate
 * (default: its default variant); the exit status. */
static int
show_preset(const char *path)
{
  GError *error = NULL;
  MdnPreset *preset = mdn_preset_load(path, &error);
  int status = 0;

  if (preset && opt_rate != 0 && !mdn_preset_variant_at_rate(preset, opt_rate)) {
    char *rates = mdn_preset_describe_rates(preset);

    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: no variant at %g Hz; the preset has %s", path, opt_rate, rates);
    g_free(rates);
    g_clear_pointer(&preset, mdn_preset_free);
  }
  if (!preset) {
    fprintf(stderr, "maddness-info: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  if (opt_taps) {
    const MdnModel *model = opt_rate != 0 ? mdn_preset_variant_at_rate(preset, opt_rate)
                                          : mdn_preset_default_variant(preset);

    if (!mdn_kernel_write_taps_body(mdn_model_kernel(model), stdout, &error)) {
      fprintf(stderr, "maddness-info: %s\n", error->message);
      g_error_free(error);
      status = 1;
    }
  } else {
    print_info(preset);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, "maddness-info: cannot write the output\n");
      status = 1;
    }
  }
  mdn_preset_free(preset);
  return status;
}

int
main(int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  char *path;
  int status;

  context = g_option_context_new(
      "FILE|NAME - show what a maddness preset (.mdn) or a trained model (.nam) holds");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_summary(context,
                               "Prints the rate variants, then per variant the kernel shape, the "
                               "provenance and one line per tier (fastest first, with its SNR on "
                               "each held-out class when it was measured per class) as \"key: "
                               "value\" lines. A NAME is looked "
                               "up as NAME or NAME.mdn in $MADDNESS_PRESET_PATH, then in the "
                               "installed presets. --list lists those presets, one line each; "
                               "a name in an earlier directory hides the same name later.");
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "maddness-info: %s\n", error->message);
    g_error_free(error);
    g_option_context_free(context);
    return 2;
  }
  if (opt_list) {
    g_option_context_free(context);
    if (argc != 1 || opt_taps) {
      fprintf(stderr, "maddness-info: --list takes no FILE and no --taps\n");
      return 2;
    }
    return list_presets();
  }
  if (argc != 2) {
    char *help = g_option_context_get_help(context, TRUE, NULL);
    fprintf(stderr, "maddness-info: expected one FILE\n%s", help);
    g_free(help);
    g_option_context_free(context);
    return 2;
  }
  g_option_context_free(context);

  /* A path, or the name of a preset (mdn_preset_find). The messages of both
   * and of the loader name the file once. */
  path = mdn_preset_find(argv[1], &error);
  if (!path) {
    fprintf(stderr, "maddness-info: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  /* A Neural Amp Modeler capture (.nam, JSON): a trained model. */
  status = mdn_net_file_is_model(path) ? show_net(path) : show_preset(path);
  g_free(path);
  return status;
}
