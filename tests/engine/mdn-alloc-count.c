/* mdn-alloc-count.c: allocation and file-open counting wrappers (see the header).
 *
 * Linked into a test executable only. The executable's definitions come first
 * in symbol lookup, so the libraries' calls land here; the real functions are
 * the next definitions (glibc's, or ASan's when the build is sanitized).
 * While dlsym itself needs memory (before the real functions are known),
 * requests are served from a small static arena that is never freed.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* Both the 32- and 64-bit offset names are defined below: no redirection. */
#undef _FILE_OFFSET_BITS
#include "mdn-alloc-count.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Declared here rather than through <fcntl.h>, whose fortified inline
 * versions would clash with these definitions. */
int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
FILE *fopen64(const char *path, const char *mode);
void *memalign(size_t alignment, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
size_t malloc_usable_size(void *ptr);

#define O_CREAT_FLAG 0100        /* Linux O_CREAT */
#define O_TMPFILE_FLAG 020000000 /* Linux __O_TMPFILE */

typedef void *(*MallocFn)(size_t);
typedef void *(*CallocFn)(size_t, size_t);
typedef void *(*ReallocFn)(void *, size_t);
typedef void (*FreeFn)(void *);
typedef int (*PosixMemalignFn)(void **, size_t, size_t);
typedef void *(*AlignedAllocFn)(size_t, size_t);
typedef size_t (*UsableSizeFn)(void *);
typedef int (*OpenFn)(const char *, int, ...);
typedef int (*OpenatFn)(int, const char *, int, ...);
typedef FILE *(*FopenFn)(const char *, const char *);

static MallocFn real_malloc;
static CallocFn real_calloc;
static ReallocFn real_realloc;
static FreeFn real_free;
static PosixMemalignFn real_posix_memalign;
static AlignedAllocFn real_aligned_alloc, real_memalign;
static MallocFn real_valloc, real_pvalloc;
static UsableSizeFn real_usable_size;
static OpenFn real_open, real_open64;
static OpenatFn real_openat, real_openat64;
static FopenFn real_fopen, real_fopen64;

static int resolving;
static _Alignas(64) unsigned char arena[1 << 16];
static size_t arena_used;

static void *
arena_alloc(size_t n)
{
  size_t start = (arena_used + 63) & ~(size_t)63;

  if (start + n > sizeof arena)
    abort();
  arena_used = start + n;
  return arena + start;
}

static int
in_arena(const void *p)
{
  return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + sizeof arena;
}

static void
resolve(void)
{
  if (real_malloc || resolving)
    return;
  resolving = 1;
  real_calloc = (CallocFn)dlsym(RTLD_NEXT, "calloc");
  real_malloc = (MallocFn)dlsym(RTLD_NEXT, "malloc");
  real_realloc = (ReallocFn)dlsym(RTLD_NEXT, "realloc");
  real_free = (FreeFn)dlsym(RTLD_NEXT, "free");
  real_posix_memalign = (PosixMemalignFn)dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = (AlignedAllocFn)dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = (AlignedAllocFn)dlsym(RTLD_NEXT, "memalign");
  real_valloc = (MallocFn)dlsym(RTLD_NEXT, "valloc");
  real_pvalloc = (MallocFn)dlsym(RTLD_NEXT, "pvalloc");
  real_usable_size = (UsableSizeFn)dlsym(RTLD_NEXT, "malloc_usable_size");
  real_open = (OpenFn)dlsym(RTLD_NEXT, "open");
  real_open64 = (OpenFn)dlsym(RTLD_NEXT, "open64");
  real_openat = (OpenatFn)dlsym(RTLD_NEXT, "openat");
  real_openat64 = (OpenatFn)dlsym(RTLD_NEXT, "openat64");
  real_fopen = (FopenFn)dlsym(RTLD_NEXT, "fopen");
  real_fopen64 = (FopenFn)dlsym(RTLD_NEXT, "fopen64");
  resolving = 0;
  if (!real_malloc || !real_calloc || !real_realloc || !real_free)
    abort();
}

__attribute__((constructor)) static void
alloc_count_init(void)
{
  resolve();
}

/* ---- per-thread counting ---- */

/* Pointers allocated inside the window and their sizes, to follow live bytes. */
#define LIVE_SLOTS 4096

static __thread int counting;
static __thread MdnAllocCount counts;
static __thread gint64 live;
static __thread struct {
  void *ptr;
  size_t size;
} live_slots[LIVE_SLOTS];

static void
note_alloc(void *p, size_t n)
{
  size_t h, j;

  if (!counting)
    return;
  counts.allocs++;
  counts.bytes += n;
  if (n > counts.max_size)
    counts.max_size = n;
  if (!p)
    return;
  live += (gint64)n;
  if (live > counts.peak_live)
    counts.peak_live = live;
  h = ((uintptr_t)p >> 4) % LIVE_SLOTS;
  for (j = 0; j < LIVE_SLOTS; j++) {
    size_t k = (h + j) % LIVE_SLOTS;
    if (live_slots[k].ptr == NULL) {
      live_slots[k].ptr = p;
      live_slots[k].size = n;
      return;
    }
  }
}

static void
note_free(void *p)
{
  size_t h, j;

  if (!counting || !p)
    return;
  counts.frees++;
  h = ((uintptr_t)p >> 4) % LIVE_SLOTS;
  for (j = 0; j < LIVE_SLOTS; j++) {
    size_t k = (h + j) % LIVE_SLOTS;
    if (live_slots[k].ptr == p) {
      live -= (gint64)live_slots[k].size;
      live_slots[k].ptr = NULL;
      /* Re-insert the rest of the probe run so later lookups still find them. */
      for (k = (k + 1) % LIVE_SLOTS; live_slots[k].ptr; k = (k + 1) % LIVE_SLOTS) {
        void *q = live_slots[k].ptr;
        size_t size = live_slots[k].size, m = ((uintptr_t)q >> 4) % LIVE_SLOTS;

        live_slots[k].ptr = NULL;
        while (live_slots[m].ptr)
          m = (m + 1) % LIVE_SLOTS;
        live_slots[m].ptr = q;
        live_slots[m].size = size;
      }
      return;
    }
  }
}

void
mdn_alloc_count_begin(void)
{
  memset(&counts, 0, sizeof counts);
  memset(live_slots, 0, sizeof live_slots);
  live = 0;
  counting = 1;
}

void
mdn_alloc_count_end(MdnAllocCount *count)
{
  counting = 0;
  *count = counts;
}

gboolean
mdn_alloc_count_works(void)
{
  /* Through a volatile pointer: the compiler may not elide the pair. */
  void *(*volatile do_malloc)(size_t) = malloc;
  void (*volatile do_free)(void *) = free;
  MdnAllocCount count;
  void *p;

  mdn_alloc_count_begin();
  p = do_malloc(24);
  do_free(p);
  mdn_alloc_count_end(&count);
  return count.allocs == 1 && count.frees == 1 && count.max_size == 24;
}

/* ---- the wrappers ---- */

void *
malloc(size_t n)
{
  void *p;

  resolve();
  if (!real_malloc)
    return arena_alloc(n);
  p = real_malloc(n);
  note_alloc(p, n);
  return p;
}

void *
calloc(size_t n, size_t size)
{
  void *p;

  resolve();
  if (!real_calloc) {
    /* dlsym asking for memory before calloc is known: zeroed static memory. */
    if (size && n > SIZE_MAX / size)
      return NULL;
    return arena_alloc(n * size);
  }
  p = real_calloc(n, size);
  note_alloc(p, size && n <= SIZE_MAX / size ? n * size : SIZE_MAX);
  return p;
}

void *
realloc(void *old, size_t n)
{
  void *p;

  resolve();
  if (in_arena(old)) {
    size_t avail = (size_t)(arena + sizeof arena - (unsigned char *)old);

    p = malloc(n);
    if (p)
      memcpy(p, old, n < avail ? n : avail);
    return p;
  }
  note_free(old);
  if (counting && old)
    counts.frees--; /* a realloc counts as one allocation */
  p = real_realloc(old, n);
  note_alloc(p, n);
  return p;
}

void
free(void *p)
{
  if (!p || in_arena(p))
    return;
  resolve();
  note_free(p);
  real_free(p);
}

int
posix_memalign(void **out, size_t alignment, size_t n)
{
  int res;

  resolve();
  res = real_posix_memalign(out, alignment, n);
  note_alloc(res == 0 ? *out : NULL, n);
  return res;
}

void *
aligned_alloc(size_t alignment, size_t n)
{
  void *p;

  resolve();
  p = real_aligned_alloc(alignment, n);
  note_alloc(p, n);
  return p;
}

void *
memalign(size_t alignment, size_t n)
{
  void *p;

  resolve();
  p = real_memalign(alignment, n);
  note_alloc(p, n);
  return p;
}

void *
valloc(size_t n)
{
  void *p;

  resolve();
  p = real_valloc(n);
  note_alloc(p, n);
  return p;
}

void *
pvalloc(size_t n)
{
  void *p;

  resolve();
  p = real_pvalloc(n);
  note_alloc(p, n);
  return p;
}

size_t
malloc_usable_size(void *p)
{
  resolve();
  if (in_arena(p))
    return 0;
  return real_usable_size ? real_usable_size(p) : 0;
}

static void
note_open(void)
{
  if (counting)
    counts.opens++;
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, last, mode)                                                               \
  do {                                                                                             \
    if ((flags) & (O_CREAT_FLAG | O_TMPFILE_FLAG)) {                                               \
      va_list ap;                                                                                  \
      va_start(ap, last);                                                                          \
      mode = va_arg(ap, int);                                                                      \
      va_end(ap);                                                                                  \
    }                                                                                              \
  } while (0)

int
open(const char *path, int flags, ...)
{
  int mode = 0;

  OPEN_MODE(flags, flags, mode);
  resolve();
  note_open();
  return real_open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
  int mode = 0;

  OPEN_MODE(flags, flags, mode);
  resolve();
  note_open();
  return (real_open64 ? real_open64 : real_open)(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
  int mode = 0;

  OPEN_MODE(flags, flags, mode);
  resolve();
  note_open();
  return real_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
  int mode = 0;

  OPEN_MODE(flags, flags, mode);
  resolve();
  note_open();
  return (real_openat64 ? real_openat64 : real_openat)(dirfd, path, flags, mode);
}

FILE *
fopen(const char *path, const char *mode)
{
  resolve();
  note_open();
  return real_fopen(path, mode);
}

FILE *
fopen64(const char *path, const char *mode)
{
  resolve();
  note_open();
  return (real_fopen64 ? real_fopen64 : real_fopen)(path, mode);
}
