/* preset.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
MdnModel *mdn_model_load (const char *path, GError **error) { (void) path; g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "not implemented"); return NULL; }
MdnModel *mdn_model_load_from_data (const void *d, size_t n, GError **error) { (void) d; (void) n; g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "not implemented"); return NULL; }
gboolean mdn_model_save (const MdnModel *m, const char *path, GError **error) { (void) m; (void) path; g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "not implemented"); return FALSE; }
GBytes *mdn_model_serialize (const MdnModel *m, GError **error) { (void) m; g_set_error (error, MDN_ERROR, MDN_ERROR_IO, "not implemented"); return NULL; }
