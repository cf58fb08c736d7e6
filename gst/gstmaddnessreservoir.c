/* gstmaddnessreservoir.c: the trainer's recording (see the header).
 *
 * Byte position p of the ring (0 <= p < capacity) lives in block
 * p / block_size at offset p % block_size. Until the ring first wraps, bytes
 * are written from position 0 on, so only the blocks below the write
 * position are needed: they are added one by one as it advances.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstmaddnessreservoir.h"

#include <string.h>

struct _GstMaddnessReservoir {
  gsize capacity;
  gsize block_size;
  gsize n_blocks; /* to hold capacity */
  gsize n_added;  /* blocks[0 .. n_added - 1] are allocated */
  guint8 **blocks;
  gsize write_pos; /* next byte to write; == filled until the ring wraps */
  gsize filled;
};

GstMaddnessReservoir *
gst_maddness_reservoir_new(gsize capacity, gsize block_size, GError **error)
{
  GstMaddnessReservoir *reservoir;
  gsize n_blocks;

  g_return_val_if_fail(capacity > 0 && block_size > 0, NULL);
  n_blocks = capacity / block_size + (capacity % block_size != 0);
  reservoir = g_try_new0(GstMaddnessReservoir, 1);
  if (reservoir)
    reservoir->blocks = g_try_new0(guint8 *, n_blocks);
  if (!reservoir || !reservoir->blocks) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                "cannot allocate the table of %" G_GSIZE_FORMAT " blocks of a %" G_GSIZE_FORMAT
                "-byte recording",
                n_blocks, capacity);
    g_free(reservoir);
    return NULL;
  }
  reservoir->capacity = capacity;
  reservoir->block_size = block_size;
  reservoir->n_blocks = n_blocks;
  return reservoir;
}

void
gst_maddness_reservoir_free(GstMaddnessReservoir *reservoir)
{
  gsize i;

  if (!reservoir)
    return;
  for (i = 0; i < reservoir->n_added; i++)
    g_free(reservoir->blocks[i]);
  g_free(reservoir->blocks);
  g_free(reservoir);
}

gsize
gst_maddness_reservoir_capacity(const GstMaddnessReservoir *reservoir)
{
  return reservoir->capacity;
}

gsize
gst_maddness_reservoir_filled(const GstMaddnessReservoir *reservoir)
{
  return reservoir->filled;
}

/* Bytes of block i: block_size, but the last one ends at the capacity. */
static gsize
block_length(const GstMaddnessReservoir *reservoir, gsize i)
{
  return i + 1 < reservoir->n_blocks ? reservoir->block_size
                                     : reservoir->capacity - i * reservoir->block_size;
}

gsize
gst_maddness_reservoir_allocated(const GstMaddnessReservoir *reservoir)
{
  if (reservoir->n_added == reservoir->n_blocks)
    return reservoir->capacity;
  return reservoir->n_added * reservoir->block_size;
}

gsize
gst_maddness_reservoir_next_block(const GstMaddnessReservoir *reservoir, gsize n)
{
  gsize end;

  if (reservoir->n_added == reservoir->n_blocks)
    return 0;
  /* Not wrapped yet: the write covers [filled, end), end at most the capacity
   * (a longer write wraps, and needs every block). */
  end = n >= reservoir->capacity - reservoir->filled ? reservoir->capacity : reservoir->filled + n;
  if (end <= gst_maddness_reservoir_allocated(reservoir))
    return 0;
  return block_length(reservoir, reservoir->n_added);
}

void
gst_maddness_reservoir_add_block(GstMaddnessReservoir *reservoir, guint8 *block)
{
  g_return_if_fail(block != NULL && reservoir->n_added < reservoir->n_blocks);
  reservoir->blocks[reservoir->n_added++] = block;
}

void
gst_maddness_reservoir_write(GstMaddnessReservoir *reservoir, const guint8 *data, gsize n)
{
  g_return_if_fail(gst_maddness_reservoir_next_block(reservoir, n) == 0);

  /* Of a write longer than the ring, only its end is kept. */
  if (n > reservoir->capacity) {
    data += n - reservoir->capacity;
    n = reservoir->capacity;
  }
  while (n > 0) {
    gsize i = reservoir->write_pos / reservoir->block_size;
    gsize offset = reservoir->write_pos % reservoir->block_size;
    gsize chunk = MIN(n, block_length(reservoir, i) - offset);

    memcpy(reservoir->blocks[i] + offset, data, chunk);
    data += chunk;
    n -= chunk;
    reservoir->write_pos += chunk;
    if (reservoir->write_pos == reservoir->capacity)
      reservoir->write_pos = 0;
    reservoir->filled += MIN(chunk, reservoir->capacity - reservoir->filled);
  }
}

void
gst_maddness_reservoir_read_latest(const GstMaddnessReservoir *reservoir, guint8 *dest, gsize n)
{
  gsize pos;

  g_return_if_fail(n <= reservoir->filled);
  pos = reservoir->write_pos >= n ? reservoir->write_pos - n
                                  : reservoir->write_pos + (reservoir->capacity - n);
  while (n > 0) {
    gsize i = pos / reservoir->block_size;
    gsize offset = pos % reservoir->block_size;
    gsize chunk = MIN(n, block_length(reservoir, i) - offset);

    memcpy(dest, reservoir->blocks[i] + offset, chunk);
    dest += chunk;
    n -= chunk;
    pos += chunk;
    if (pos == reservoir->capacity)
      pos = 0;
  }
}
