/* gstmaddnessfilter.h: audio conv1d filter element over a maddness preset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_MADDNESS_FILTER_H
#define GST_MADDNESS_FILTER_H

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_MADDNESS_FILTER (gst_maddness_filter_get_type())
G_DECLARE_FINAL_TYPE(GstMaddnessFilter, gst_maddness_filter, GST, MADDNESS_FILTER, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(maddnessfilter);

G_END_DECLS

#endif /* GST_MADDNESS_FILTER_H */
