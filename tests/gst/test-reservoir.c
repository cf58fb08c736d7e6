/* test-reservoir.c: the trainer's recording ring (gst/gstmaddnessreservoir.c).
 *
 * A stream of numbered bytes is written in chunks of varied sizes (empty,
 * smaller and larger than a block, larger than the ring) into rings of
 * several capacities and block sizes, the blocks added as the reservoir asks
 * for them. After every write the reservoir must hold exactly the newest
 * min (written, capacity) bytes, oldest first, and must have asked for no
 * more blocks than the bytes written so far need.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib.h>

#include "gstmaddnessreservoir.h"

/* Byte i of the stream: not periodic over any length the tests use. */
static guint8
stream_byte(gsize i)
{
  return (guint8)((i * 2654435761u) >> 13);
}

/* Adds every block the next write of n bytes needs; returns how many. */
static int
add_blocks(GstMaddnessReservoir *reservoir, gsize n)
{
  gsize size;
  int added = 0;

  while ((size = gst_maddness_reservoir_next_block(reservoir, n)) > 0) {
    gsize before = gst_maddness_reservoir_allocated(reservoir);

    gst_maddness_reservoir_add_block(reservoir, g_malloc(size));
    g_assert_cmpuint(gst_maddness_reservoir_allocated(reservoir), ==,
                     MIN(before + size, gst_maddness_reservoir_capacity(reservoir)));
    added++;
  }
  return added;
}

static void
check_ring(gsize capacity, gsize block_size)
{
  GError *error = NULL;
  GstMaddnessReservoir *reservoir = gst_maddness_reservoir_new(capacity, block_size, &error);
  gsize chunk_sizes[] = { 0,
                          1,
                          block_size - 1,
                          block_size,
                          block_size + 1,
                          7,
                          capacity / 3,
                          capacity - 1,
                          capacity,
                          capacity + 5,
                          2 * capacity + 3,
                          13 };
  gsize max_chunk = 0, written = 0, round, k, i;
  guint8 *chunk, *out = g_malloc(capacity);

  for (k = 0; k < G_N_ELEMENTS(chunk_sizes); k++)
    max_chunk = MAX(max_chunk, chunk_sizes[k]);
  chunk = g_malloc(max_chunk);

  g_assert_no_error(error);
  g_assert_nonnull(reservoir);
  g_assert_cmpuint(gst_maddness_reservoir_allocated(reservoir), ==, 0);
  for (round = 0; round < 3; round++) {
    for (k = 0; k < G_N_ELEMENTS(chunk_sizes); k++) {
      gsize n = chunk_sizes[k], filled, allocated;

      /* The small chunks first in round 0: the ring fills up slowly. */
      if (round == 0 && n >= capacity)
        continue;
      for (i = 0; i < n; i++)
        chunk[i] = stream_byte(written + i);
      add_blocks(reservoir, n);
      gst_maddness_reservoir_write(reservoir, chunk, n);
      written += n;

      filled = gst_maddness_reservoir_filled(reservoir);
      g_assert_cmpuint(filled, ==, MIN(written, capacity));
      /* Lazy: the blocks cover what was written, and at most one block more
       * than that (the block the last byte is in). */
      allocated = gst_maddness_reservoir_allocated(reservoir);
      g_assert_cmpuint(allocated, >=, filled);
      if (written < capacity)
        g_assert_cmpuint(allocated, <, written + block_size);
      /* The newest `filled` bytes, oldest first; and the newest half. */
      gst_maddness_reservoir_read_latest(reservoir, out, filled);
      for (i = 0; i < filled; i++)
        if (out[i] != stream_byte(written - filled + i))
          g_error("capacity %" G_GSIZE_FORMAT " block %" G_GSIZE_FORMAT ": byte %" G_GSIZE_FORMAT
                  " of %" G_GSIZE_FORMAT " after %" G_GSIZE_FORMAT " written is wrong",
                  capacity, block_size, i, filled, written);
      gst_maddness_reservoir_read_latest(reservoir, out, filled / 2);
      for (i = 0; i < filled / 2; i++)
        g_assert_cmpuint(out[i], ==, stream_byte(written - filled / 2 + i));
    }
  }
  g_assert_cmpuint(gst_maddness_reservoir_allocated(reservoir), ==, capacity);
  /* Full: no more blocks, whatever is written. */
  g_assert_cmpuint(gst_maddness_reservoir_next_block(reservoir, 3 * capacity), ==, 0);
  gst_maddness_reservoir_free(reservoir);
  g_free(chunk);
  g_free(out);
}

static void
test_rings(void)
{
  const gsize capacities[] = { 1, 2, 10, 1000, 4099 };
  const gsize block_sizes[] = { 1, 3, 64, 1000, 5000 };
  gsize c, b;

  for (c = 0; c < G_N_ELEMENTS(capacities); c++)
    for (b = 0; b < G_N_ELEMENTS(block_sizes); b++)
      check_ring(capacities[c], block_sizes[b]);
}

/* Nothing but the block table is allocated up front; the first write asks
 * for exactly the blocks it covers. */
static void
test_lazy(void)
{
  GstMaddnessReservoir *reservoir = gst_maddness_reservoir_new(1000, 100, NULL);
  guint8 data[250] = { 0 };

  g_assert_cmpuint(gst_maddness_reservoir_next_block(reservoir, 0), ==, 0);
  g_assert_cmpuint(gst_maddness_reservoir_next_block(reservoir, 1), ==, 100);
  g_assert_cmpint(add_blocks(reservoir, 250), ==, 3);
  gst_maddness_reservoir_write(reservoir, data, 250);
  g_assert_cmpint(add_blocks(reservoir, 50), ==, 0);
  g_assert_cmpint(add_blocks(reservoir, 51), ==, 1);
  /* A write past the end wraps: every block is needed. */
  g_assert_cmpint(add_blocks(reservoir, 5000), ==, 6);
  gst_maddness_reservoir_free(reservoir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/reservoir/rings", test_rings);
  g_test_add_func("/reservoir/lazy", test_lazy);
  return g_test_run();
}
