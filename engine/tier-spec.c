/* tier-spec.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
gboolean mdn_tier_spec_parse (const char *text, MdnTierSpec *spec, GError **error) { (void) text; (void) spec; g_set_error (error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "not implemented"); return FALSE; }
void mdn_tier_spec_name (const MdnTierSpec *spec, char name[MDN_TIER_NAME_MAX]) { (void) spec; name[0] = 0; }
int mdn_tier_ladder_parse (const char *text, MdnTierSpec **specs, GError **error) { (void) text; (void) specs; (void) error; return -1; }
const char *mdn_default_ladder (void) { return ""; }
