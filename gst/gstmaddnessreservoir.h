/* gstmaddnessreservoir.h: the trainer's recording, a ring of the most recent
 * bytes kept in blocks that are allocated as the recording grows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_MADDNESS_RESERVOIR_H
#define GST_MADDNESS_RESERVOIR_H

#include <glib.h>

G_BEGIN_DECLS

/* Holds the most recent `capacity` bytes written. Memory is taken block by
 * block (block_size bytes, the last one smaller) as the recording grows, by
 * the caller: the reservoir itself never allocates after it is made, so its
 * owner decides where and when (outside its lock) the blocks are allocated.
 * Not thread-safe: the owner locks. */
typedef struct _GstMaddnessReservoir GstMaddnessReservoir;

/* A reservoir of capacity bytes in blocks of block_size (both > 0): allocates
 * its block table only (capacity / block_size pointers). NULL with error set
 * if that table cannot be allocated. */
GstMaddnessReservoir *gst_maddness_reservoir_new(gsize capacity, gsize block_size, GError **error);
/* Frees the reservoir and its blocks; NULL is ignored. */
void gst_maddness_reservoir_free(GstMaddnessReservoir *reservoir);

gsize gst_maddness_reservoir_capacity(const GstMaddnessReservoir *reservoir);
/* Bytes held: the most recent ones written, at most the capacity. */
gsize gst_maddness_reservoir_filled(const GstMaddnessReservoir *reservoir);
/* Bytes of the blocks added so far. */
gsize gst_maddness_reservoir_allocated(const GstMaddnessReservoir *reservoir);

/* The size of the block to add before n more bytes can be written, or 0
 * when the blocks added so far take them. Call again after adding it. */
gsize gst_maddness_reservoir_next_block(const GstMaddnessReservoir *reservoir, gsize n);
/* Adds a block of the size gst_maddness_reservoir_next_block() gave; the
 * reservoir frees it (g_free). */
void gst_maddness_reservoir_add_block(GstMaddnessReservoir *reservoir, guint8 *block);

/* Appends n bytes, dropping the oldest beyond the capacity. The blocks they
 * need must have been added (gst_maddness_reservoir_next_block() is 0). */
void gst_maddness_reservoir_write(GstMaddnessReservoir *reservoir, const guint8 *data, gsize n);
/* Copies the most recent n bytes (n <= filled), oldest first, to dest. */
void gst_maddness_reservoir_read_latest(const GstMaddnessReservoir *reservoir, guint8 *dest,
                                        gsize n);

G_END_DECLS

#endif /* GST_MADDNESS_RESERVOIR_H */
