/* input-file.c: the one rule for the files the engine reads (presets, WAV
 * impulse responses, taps files) and the tools' audio: regular files only.
 *
 * A FIFO blocks its reader until a writer comes, and a device such as
 * /dev/zero never ends, so either would hang or exhaust a loader that reads
 * to the end. The file is opened without blocking (O_NONBLOCK: a FIFO opens
 * at once) and refused by what fstat() says of the descriptor itself, so no
 * other file can be swapped in between the check and the read.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mdn-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif

/* What a file that is not a regular one is, for the message. */
static const char *
file_kind(mode_t mode)
{
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
#ifdef S_ISSOCK
  if (S_ISSOCK(mode))
    return "a socket";
#endif
  return "a special file";
}

int
mdn_file_open_regular(const char *path, GError **error)
{
  struct stat st;
  int fd, flags, saved;

  fd = g_open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0) {
    saved = errno;
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(saved));
    return -1;
  }
  if (fstat(fd, &st) != 0) {
    saved = errno;
    close(fd);
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: %s", path, g_strerror(saved));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, MDN_ERROR, MDN_ERROR_IO, "%s: not a regular file (%s)", path,
                file_kind(st.st_mode));
    return -1;
  }
  /* Regular files ignore O_NONBLOCK; cleared all the same for the readers. */
  flags = fcntl(fd, F_GETFL);
  if (flags != -1)
    (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}
