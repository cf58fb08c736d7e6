/* mdn-alloc-count.h: counts heap allocations and file opens of one thread.
 *
 * mdn-alloc-count.c defines malloc, calloc, realloc, free, the aligned
 * allocators and open/fopen in the test executable itself, so every library
 * (GLib, GStreamer, libmaddness) calls them; they count and forward to the
 * next definition (libc, or the sanitizer runtime) found with
 * dlsym (RTLD_NEXT). Only calls on the thread that called
 * mdn_alloc_count_begin() are counted, until mdn_alloc_count_end().
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef MDN_ALLOC_COUNT_H
#define MDN_ALLOC_COUNT_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 allocs;   /* malloc, calloc, realloc, aligned allocations */
  guint64 frees;    /* free of a non-NULL pointer (realloc counts as alloc only) */
  guint64 opens;    /* open, openat, fopen (and their 64-bit names) */
  guint64 bytes;    /* sum of the sizes asked for */
  guint64 max_size; /* the largest single size asked for */
  gint64 peak_live; /* peak of (bytes allocated - bytes freed) inside the window */
} MdnAllocCount;

/* Starts counting on this thread (counters zeroed). */
void mdn_alloc_count_begin(void);
/* Stops counting on this thread and returns what was counted. */
void mdn_alloc_count_end(MdnAllocCount *count);
/* TRUE when the wrappers are the ones in use (the test can trust zero). */
gboolean mdn_alloc_count_works(void);

G_END_DECLS

#endif
