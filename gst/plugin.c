/* plugin.c: registers the elements of the maddness plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstmaddness-common.h"

#include <gst/gst.h>

#include "gstmaddnessfilter.h"
#include "gstmaddnesstrainer.h"

static gboolean
plugin_init(GstPlugin *plugin)
{
  gboolean ret = FALSE;

  /* One line per element: each element file has its GST_ELEMENT_REGISTER_DEFINE. */
  ret |= GST_ELEMENT_REGISTER(maddnessfilter, plugin);
  ret |= GST_ELEMENT_REGISTER(maddnesstrainer, plugin);

  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, maddness,
                  "Streaming conv1d filters with an exact path and MADDNESS approximate tiers",
                  plugin_init, VERSION, GST_MADDNESS_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
