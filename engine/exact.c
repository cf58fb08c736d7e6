/* exact.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
MdnExact *mdn_exact_new (const MdnKernel *k) { (void) k; return NULL; }
void mdn_exact_free (MdnExact *e) { (void) e; }
size_t mdn_exact_history (const MdnKernel *k) { return (size_t) (k->taps - 1) * k->dilation; }
void mdn_exact_invalidate (MdnExact *e) { (void) e; }
void mdn_exact_process (MdnExact *e, const float *const *x, guint64 f0, size_t n, float *out) { (void) e; (void) x; (void) f0; (void) n; (void) out; }
double mdn_exact_cost_per_frame (const MdnKernel *k) { return (double) k->cin * k->cout * k->taps; }
