/* maddness-info: prints what a .mdn preset (a file or a preset name) holds, as "key: value" lines
 * (its rate variants, then each variant's kernel, provenance and tiers), or (--taps) the exact
 * kernel of one variant as a taps-file body; --list lists the shipped presets.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "maddness.h"

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

int
main(int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  MdnPreset *preset;
  char *path;
  int status = 0;

  context = g_option_context_new("FILE|NAME - show what a maddness preset (.mdn) holds");
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
  preset = path ? mdn_preset_load(path, &error) : NULL;
  if (preset && opt_rate != 0 && !mdn_preset_variant_at_rate(preset, opt_rate)) {
    char *rates = mdn_preset_describe_rates(preset);

    g_set_error(&error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT,
                "%s: no variant at %g Hz; the preset has %s", path, opt_rate, rates);
    g_free(rates);
    g_clear_pointer(&preset, mdn_preset_free);
  }
  g_free(path);
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
