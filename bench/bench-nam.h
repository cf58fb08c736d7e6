/* bench-nam.h: the nam-standard workload of maddness-bench (bench-nam.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_NAM_H
#define BENCH_NAM_H

#include "net-private.h"

#include <stdio.h>

G_BEGIN_DECLS

/* Measures the engine and the OpenBLAS per-layer peer on the standard
 * capture over `seconds` of audio, median of `runs`; one table line per
 * method to `text`, JSON lines to stdout when `json`. */
void bench_nam_standard(double seconds, int runs, FILE *text, gboolean json, const char *cpu,
                        const char *isa);

G_END_DECLS

#endif
