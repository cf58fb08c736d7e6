/* tier.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
size_t mdn_tier_history (const MdnTier *t) { (void) t; return 0; }
MdnTierState *mdn_tier_state_new (const MdnTier *t) { (void) t; return NULL; }
void mdn_tier_state_free (MdnTierState *s) { (void) s; }
void mdn_tier_state_invalidate (MdnTierState *s) { (void) s; }
void mdn_tier_process (const MdnTier *t, MdnTierState *s, const float *const *x, guint64 f0, size_t n, float *out) { (void) t; (void) s; (void) x; (void) f0; (void) n; (void) out; }
double mdn_tier_cost (const MdnTier *t) { (void) t; return 0; }
