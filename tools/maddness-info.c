/* maddness-info: prints what a .mdn preset (a file or a preset name) holds, as "key: value" lines,
 * or (--taps) its exact kernel as a taps-file body. */
#include "maddness.h"

#include <stdlib.h>
#include <string.h>

static gboolean opt_taps = FALSE;

static const GOptionEntry entries[] = {
  { "taps", 't', 0, G_OPTION_ARG_NONE, &opt_taps,
    "Print the exact kernel as a taps file body (no header line)", NULL },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static void
print_info(const MdnModel *model)
{
  const MdnKernel *k = mdn_model_kernel(model);
  const MdnProvenance *p = mdn_model_provenance(model);
  int t;

  printf("cin: %d\n", k->cin);
  printf("cout: %d\n", k->cout);
  printf("taps: %d\n", k->taps);
  printf("dilation: %d\n", k->dilation);
  printf("rate: %.10g\n", k->rate);
  printf("seconds: %.10g\n", p->seconds);
  printf("date: %s\n", p->date[0] ? p->date : "-");
  printf("seed: %" G_GUINT64_FORMAT "\n", p->seed);
  printf("exact_cost: %.10g\n", mdn_model_exact_cost(model));
  /* The ladder is stored fastest first. */
  for (t = 0; t < mdn_model_n_tiers(model); t++) {
    MdnTierInfo info;
    mdn_model_tier_info(model, t, &info);
    printf("tier: %s snr_db=%.2f buckets=%d taps_per_codebook=%d exact_taps=%d table_bytes=%zu "
           "cost=%.10g\n",
           info.name, info.snr_db, info.buckets, info.spec.taps_per_codebook, info.spec.exact_taps,
           info.table_bytes, info.cost);
  }
}

int
main(int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  MdnModel *model;
  char *path;
  int status = 0;

  context = g_option_context_new("FILE|NAME - show what a maddness preset (.mdn) holds");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_summary(context,
                               "Prints the kernel shape, the provenance and one line per tier "
                               "(fastest first) as \"key: value\" lines. A NAME is looked "
                               "up as NAME or NAME.mdn in $MADDNESS_PRESET_PATH, then in the "
                               "installed presets.");
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "maddness-info: %s\n", error->message);
    g_error_free(error);
    g_option_context_free(context);
    return 2;
  }
  if (argc != 2) {
    char *help = g_option_context_get_help(context, TRUE, NULL);
    fprintf(stderr, "maddness-info: expected one FILE\n%s", help);
    g_free(help);
    g_option_context_free(context);
    return 2;
  }
  g_option_context_free(context);

  /* A path to a file, or the name of a preset found through mdn_preset_find().
   * A path with a directory part is always loaded as a path, so that a missing
   * file gives the loader's "FILE: reason" message. */
  if (strchr(argv[1], G_DIR_SEPARATOR) || g_file_test(argv[1], G_FILE_TEST_EXISTS))
    path = g_strdup(argv[1]);
  else
    path = mdn_preset_find(argv[1], &error);
  /* The loader's messages start with the file name. */
  model = path ? mdn_model_load(path, &error) : NULL;
  g_free(path);
  if (!model) {
    fprintf(stderr, "maddness-info: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  if (opt_taps) {
    if (!mdn_kernel_write_taps_body(mdn_model_kernel(model), stdout, &error)) {
      fprintf(stderr, "maddness-info: %s\n", error->message);
      g_error_free(error);
      status = 1;
    }
  } else {
    print_info(model);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      fprintf(stderr, "maddness-info: cannot write the output\n");
      status = 1;
    }
  }
  mdn_model_free(model);
  return status;
}
