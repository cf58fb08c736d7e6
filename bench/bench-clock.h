/* bench-clock.h: the benches' clock, this thread's CPU time in ns: a
 * process preempted on the shared machine is not charged for the wait.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <time.h>

static inline double
bench_thread_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#endif /* BENCH_CLOCK_H */
