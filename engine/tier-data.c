/* tier-data.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
MdnTier *mdn_tier_alloc (const MdnTierSpec *spec, int cin, int cout, int taps, int dilation, int n_exact, int n_codebooks, GError **error) { (void) spec; (void) cin; (void) cout; (void) taps; (void) dilation; (void) n_exact; (void) n_codebooks; g_set_error (error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "not implemented"); return NULL; }
void mdn_tier_free (MdnTier *t) { (void) t; }
gboolean mdn_tier_validate (const MdnTier *t, GError **error) { (void) t; g_set_error (error, MDN_ERROR, MDN_ERROR_CORRUPT, "not implemented"); return FALSE; }
void mdn_tier_get_info (const MdnTier *t, MdnTierInfo *info) { (void) t; (void) info; }
size_t mdn_tier_table_bytes (const MdnTier *t) { (void) t; return 0; }
