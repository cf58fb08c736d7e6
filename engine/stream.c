/* stream.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
MdnStream *mdn_stream_new (const MdnModel *m, int g, GError **error) { (void) m; (void) g; g_set_error (error, MDN_ERROR, MDN_ERROR_INVALID_ARGUMENT, "not implemented"); return NULL; }
void mdn_stream_free (MdnStream *s) { (void) s; }
gboolean mdn_stream_process (MdnStream *s, int tier, const float *in, float *out, size_t n) { (void) s; (void) tier; (void) in; (void) out; (void) n; return FALSE; }
void mdn_stream_reset (MdnStream *s) { (void) s; }
int mdn_stream_groups (const MdnStream *s) { (void) s; return 0; }
