/* gstmaddnesstrainer.h: fits a MADDNESS preset to the audio passing through.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_MADDNESS_TRAINER_H
#define GST_MADDNESS_TRAINER_H

#include <gst/gst.h>
#include <gst/audio/gstaudiofilter.h>

#include "maddness.h"

G_BEGIN_DECLS

#define GST_TYPE_MADDNESS_TRAINER (gst_maddness_trainer_get_type())
G_DECLARE_FINAL_TYPE(GstMaddnessTrainer, gst_maddness_trainer, GST, MADDNESS_TRAINER,
                     GstAudioFilter)

GST_ELEMENT_REGISTER_DECLARE(maddnesstrainer);

G_END_DECLS

#endif /* GST_MADDNESS_TRAINER_H */
