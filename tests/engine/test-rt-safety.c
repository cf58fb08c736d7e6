/* test-rt-safety.c: mdn_stream_process() never allocates, frees or opens files.
 *
 * The executable defines the allocator and open/fopen (mdn-alloc-count.c),
 * counting calls on this thread. After setup (model fitted, stream made), the
 * calls a real-time thread makes (mdn_stream_process on every tier and the
 * exact path in direct and FFT form, tier changes with a crossfade, resets,
 * non-finite input, chunks of 1 to 5000 frames, the accuracy audit on, off
 * and at other cost fractions, its SNRs read and the quality governor
 * asked) must make zero calls.
 *
 * The engine picks its instruction set once per process (MADDNESS_ISA), so
 * each ISA this CPU supports runs in a subprocess with MADDNESS_ISA set; the
 * subprocess checks mdn_isa() says that ISA. ISAs the CPU lacks are listed in
 * the log and not run (there is no way to run them here). Cross-built and run
 * under an emulator (make check-neon), the subprocess is started through it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"
#include "mdn-signals.h"
#include "mdn-alloc-count.h"
#include "mdn-test-fit.h"
#include "mdn-test-spawn.h"

#include <math.h>
#include <string.h>

#define RATE 16000
#define CROSSFADE 160

/* exact.c, for the tests and the bench: the planner's level sizes. */
int mdn_exact_plan_blocks(const MdnKernel *kernel, int *blocks);
#define MAX_CHUNK 5000
/* Every path is run over chunks of these sizes, in this order. */
static const size_t chunk_sizes[] = { 1, 17, 64, 1000, 1023, 1024, 1025, 4096, 5000, 3 };

static MdnModel *
exact_model(const MdnKernel *k)
{
  GError *error = NULL;
  MdnModel *m = mdn_model_new(k, &error);

  g_assert_no_error(error);
  return m;
}

/* Input with a few hostile samples: NaN, Inf, denormals, a huge value. */
static float *
make_input(int channels, size_t n_frames)
{
  float *in = mdn_signal_multichannel(mdn_signal_music, n_frames, channels, RATE, 3);
  size_t n = n_frames * channels;

  in[n / 7] = NAN;
  in[n / 5] = INFINITY;
  in[n / 3] = -INFINITY;
  in[n / 2] = 1e-40f;
  in[n / 2 + 1] = -1e-42f;
  in[2 * n / 3] = 3e38f;
  return in;
}

/* Runs `stream` over every path in turn with the chunk sizes above, then
 * alternates paths at every call (crossfades), resets in between. Counts
 * allocations and opens on this thread around all of it. */
static void
check_stream(const char *what, MdnModel *model, int groups)
{
  const MdnKernel *k = mdn_model_kernel(model);
  const int n_tiers = mdn_model_n_tiers(model);
  const size_t total = 4 * MAX_CHUNK;
  GError *error = NULL;
  MdnStream *s = mdn_stream_new(model, groups, &error);
  float *in = make_input(groups * k->cin, total);
  float *out = g_new0(float, (size_t)MAX_CHUNK *groups * k->cout);
  MdnAllocCount count;
  size_t pos = 0, j, c;
  int tier, round, audited = 0;
  guint64 nonfinite;

  g_assert_no_error(error);
  mdn_stream_set_crossfade(s, CROSSFADE);
  /* A dense audit: many audited frames in every chunk size. */
  mdn_stream_set_audit(s, 20);

  mdn_alloc_count_begin();
  for (round = 0; round < 2; round++) {
    for (tier = MDN_TIER_EXACT; tier < n_tiers; tier++)
      for (c = 0; c < G_N_ELEMENTS(chunk_sizes); c++) {
        size_t n = chunk_sizes[c];

        if (pos + n > total)
          pos = 0;
        g_assert_true(mdn_stream_process(s, tier, in + pos * groups * k->cin, out, n));
        pos += n;
      }
    /* A path change at every call, in both directions, mid-crossfade. */
    for (c = 0; c < 40; c++) {
      size_t n = chunk_sizes[c % G_N_ELEMENTS(chunk_sizes)] % 700 + 1;

      tier = (int)(c * 7 % (n_tiers + 1)) - 1;
      if (pos + n > total)
        pos = 0;
      g_assert_true(mdn_stream_process(s, tier, in + pos * groups * k->cin, out, n));
      pos += n;
    }
    /* The governor picks the path; the audit goes off, on, denser. */
    tier = MDN_TIER_EXACT;
    for (c = 0; c < 60; c++) {
      size_t n = chunk_sizes[c % G_N_ELEMENTS(chunk_sizes)];

      if (c % 20 == 10)
        mdn_stream_set_audit(s, c % 40 == 10 ? 0 : MDN_AUDIT_DEFAULT_FRACTION * (c + 1));
      tier = mdn_stream_pick_tier(s, tier, c < 30 ? 20.0 : 60.0);
      audited += mdn_stream_audit_snr(s, n_tiers > 0 ? 0 : MDN_TIER_EXACT) > -1000;
      if (pos + n > total)
        pos = 0;
      g_assert_true(mdn_stream_process(s, tier, in + pos * groups * k->cin, out, n));
      pos += n;
    }
    mdn_stream_set_audit(s, 20);
    g_assert_true(mdn_stream_process(s, MDN_TIER_EXACT, in, out, 0));
    g_assert_false(mdn_stream_process(s, n_tiers, in, out, 10));
    nonfinite = mdn_stream_nonfinite_count(s);
    mdn_stream_reset(s);
  }
  mdn_alloc_count_end(&count);

  g_test_message("%s (%d groups, %d tiers, %s): %" G_GUINT64_FORMAT
                 " allocations, %" G_GUINT64_FORMAT " frees, %" G_GUINT64_FORMAT
                 " opens; %" G_GUINT64_FORMAT " audited frames, %d reads with an SNR",
                 what, groups, n_tiers, mdn_isa(), count.allocs, count.frees, count.opens,
                 mdn_stream_audit_count(s), audited);
  g_assert_cmpuint(count.allocs, ==, 0);
  g_assert_cmpuint(count.frees, ==, 0);
  g_assert_cmpuint(count.opens, ==, 0);
  /* The audit ran where there are tiers, and measured. */
  if (n_tiers > 0) {
    g_assert_cmpuint(mdn_stream_audit_count(s), >, 100);
    g_assert_cmpint(audited, >, 0);
  }
  /* The hostile samples were seen, and replaced: the last output is finite. */
  g_assert_cmpuint(nonfinite, >, 0);
  for (j = 0; j < (size_t)groups * k->cout; j++)
    g_assert_true(isfinite(out[j]));

  mdn_stream_free(s);
  g_free(in);
  g_free(out);
}

static void
run_checks(void)
{
  MdnKernel *lp = mdn_design_lowpass(64, 2000, RATE);
  MdnKernel *layer = mdn_design_random_kernel(2, 3, 12, 3, RATE, 9);
  MdnKernel *room = mdn_design_room_ir(4096, 0.3, RATE, 4);
  MdnModel *m;

  g_assert_true(mdn_alloc_count_works());

  m = mdn_test_fit(lp, "s8d4e2,s4d6e8,s2d6e4q16,s1d8", RATE, 5);
  check_stream("1->1 lowpass, 64 taps", m, 1);
  check_stream("1->1 lowpass, 64 taps", m, 2);
  mdn_model_free(m);

  m = mdn_test_fit(layer, "s4d4,s2d6e6q16", RATE, 5);
  check_stream("2->3 layer, 12 taps, dilation 3", m, 1);
  mdn_model_free(m);

  /* A room impulse response: the exact path runs as a partitioned FFT
   * convolution (its cost per frame is far below the direct form's). */
  m = exact_model(room);
  g_assert_cmpfloat(mdn_model_exact_cost(m), <, room->taps / 4.0);
  check_stream("1->1 room IR, 4096 taps (FFT)", m, 1);
  check_stream("1->1 room IR, 4096 taps (FFT)", m, 2);
  mdn_model_free(m);

  /* A stereo response on a mono input: several levels, the later ones
   * spread over the calls before their deadline. */
  {
    MdnKernel *stereo = mdn_kernel_new(1, 2, 16384, 1, RATE, NULL);
    int blocks[16], o;
    for (o = 0; o < 2; o++) {
      MdnKernel *side = mdn_design_room_ir(16384, 0.5, RATE, 5 + o);
      memcpy(stereo->weights + (size_t)o * 16384, side->weights, sizeof(float) * 16384);
      mdn_kernel_free(side);
    }
    g_assert_cmpint(mdn_exact_plan_blocks(stereo, blocks), >=, 2);
    m = exact_model(stereo);
    check_stream("1->2 room IR, 16384 taps (FFT, levels)", m, 1);
    mdn_model_free(m);
    mdn_kernel_free(stereo);
  }

  mdn_kernel_free(lp);
  mdn_kernel_free(layer);
  mdn_kernel_free(room);
}

/* This executable, as started (argv[0]). */
static const char *self_path;

/* The child of test_isa() when this runs under an emulator: meson sets
 * MESON_EXE_WRAPPER (e.g. qemu-aarch64, make check-neon) in a cross build's
 * test environment, and the child must be started through it too, which
 * g_test_trap_subprocess() cannot do. MDN_RT_SAFETY_CHILD makes the child
 * run the checks. */
static void
run_wrapped_child(void)
{
  const char *args[] = { self_path, "-p", g_test_get_path(), NULL };
  char **argv = mdn_test_wrap_argv(args);
  char **envp = g_environ_setenv(g_get_environ(), "MDN_RT_SAFETY_CHILD", "1", TRUE);
  char *out = NULL, *err = NULL;
  GError *error = NULL;
  int status = 0;

  g_assert_true(
      g_spawn_sync(NULL, argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error(error);
  g_printerr("%s%s", out, err);
  g_assert_true(g_spawn_check_wait_status(status, &error));
  g_assert_no_error(error);
  g_free(out);
  g_free(err);
  g_strfreev(envp);
  g_strfreev(argv);
}

static gboolean
in_child(void)
{
  return g_test_subprocess() || g_getenv("MDN_RT_SAFETY_CHILD") != NULL;
}

static void
test_isa(gconstpointer data)
{
  MdnIsa isa = GPOINTER_TO_INT(data);
  const char *wrapper = g_getenv("MESON_EXE_WRAPPER");

  if (in_child()) {
    g_assert_cmpstr(mdn_isa(), ==, mdn_isa_name(isa));
    g_assert_cmpuint(mdn_cpu_flags(), ==, mdn_cpu_flags_detect() & mdn_isa_flags(isa));
    run_checks();
    return;
  }
  /* The subprocess inherits the environment; this process never asks
   * mdn_cpu_flags(), so it can set the variable for each ISA in turn. */
  g_setenv("MADDNESS_ISA", mdn_isa_name(isa), TRUE);
  if (wrapper != NULL && *wrapper != '\0') {
    run_wrapped_child();
    return;
  }
  g_test_trap_subprocess(NULL, 0,
                         G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
}

/* The wrappers themselves: allocations and opens on this thread are counted,
 * other threads' are not. */
static gpointer
other_thread(gpointer data)
{
  (void)data;
  return g_malloc(100);
}

static void
test_counter(void)
{
  MdnAllocCount count;
  GThread *thread;
  gpointer p, q;
  FILE *f;

  g_assert_true(mdn_alloc_count_works());
  mdn_alloc_count_begin();
  p = g_malloc(1000);
  p = g_realloc(p, 5000);
  g_free(p);
  f = fopen("/dev/null", "r");
  mdn_alloc_count_end(&count);
  g_assert_nonnull(f);
  fclose(f);
  g_assert_cmpuint(count.allocs, >=, 2);
  g_assert_cmpuint(count.frees, >=, 1);
  g_assert_cmpuint(count.max_size, >=, 5000);
  g_assert_cmpuint(count.opens, >=, 1);

  thread = g_thread_new("other", other_thread, NULL);
  mdn_alloc_count_begin();
  q = g_thread_join(thread);
  mdn_alloc_count_end(&count);
  g_free(q);
  g_assert_cmpuint(count.max_size, <, 100);
}

int
main(int argc, char **argv)
{
  int isa;

  self_path = argv[0];
  g_test_init(&argc, &argv, NULL);
#if defined(__aarch64__)
  /* The NEON kernels are built and run on every AArch64 CPU. */
  g_assert_true(mdn_cpu_supports(MDN_ISA_NEON));
#endif
  for (isa = 0; isa < MDN_N_ISAS; isa++) {
    char *path = g_strdup_printf("/rt-safety/stream/%s", mdn_isa_name((MdnIsa)isa));

    if (mdn_cpu_supports((MdnIsa)isa))
      g_test_add_data_func(path, GINT_TO_POINTER(isa), test_isa);
    else if (!in_child())
      g_printerr("# %s: not supported by this CPU, not run\n", mdn_isa_name((MdnIsa)isa));
    g_free(path);
  }
  /* Last: it starts a thread, and the ISA tests set an environment variable. */
  g_test_add_func("/rt-safety/wrappers/counter", test_counter);
  return g_test_run();
}
