/* kernel-source.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
MdnKernel *mdn_kernel_load_wav (const char *path, GError **error) { (void) path; g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "not implemented"); return NULL; }
MdnKernel *mdn_kernel_load_taps (const char *path, double rate, GError **error) { (void) path; (void) rate; g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "not implemented"); return NULL; }
gboolean mdn_kernel_write_taps_body (const MdnKernel *k, FILE *out, GError **error) { (void) k; (void) out; (void) error; return FALSE; }
