/* fit.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
#include <string.h>
void mdn_fit_options_init (MdnFitOptions *o) { memset (o, 0, sizeof *o); }
MdnModel *mdn_fit (const MdnKernel *k, const float *a, size_t n, const MdnFitOptions *o, GError **error) { (void) k; (void) a; (void) n; (void) o; g_set_error (error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "not implemented"); return NULL; }
