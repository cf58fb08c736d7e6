#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""playbin-filter.py FILE [PRESET] [QUALITY]: plays FILE with maddnessfilter as
playbin's audio filter (Python GObject introspection: Debian's python3-gi and
gir1.2-gstreamer-1.0). The filter runs the preset's variant at the file's own
rate (44.1, 48 or 96 kHz for the shipped presets). Prints the negotiated rate
and what the filter ran, then "eos". MDN_AUDIO_SINK sets the audio sink as a
launch description (e.g. "fakesink sync=false"; default: your speakers)."""
import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: playbin-filter.py FILE [PRESET] [QUALITY]")
    path = sys.argv[1]
    preset = sys.argv[2] if len(sys.argv) > 2 else "lowpass"
    quality = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    Gst.init(None)

    playbin = Gst.ElementFactory.make("playbin", None)
    audio_filter = Gst.ElementFactory.make("maddnessfilter", None)
    if audio_filter is None:
        sys.exit("playbin-filter: no maddnessfilter (is the plugin in GST_PLUGIN_PATH?)")
    audio_filter.set_property("preset", preset)
    audio_filter.set_property("quality", quality)
    playbin.set_property("audio-filter", audio_filter)
    playbin.set_property("uri", Gst.filename_to_uri(os.path.abspath(path)))
    sink = os.environ.get("MDN_AUDIO_SINK")
    if sink:
        playbin.set_property("audio-sink", Gst.parse_bin_from_description(sink, True))

    loop = GLib.MainLoop()
    status = 0

    def on_message(_bus, message):
        nonlocal status
        if message.type == Gst.MessageType.ASYNC_DONE:
            caps = audio_filter.get_static_pad("sink").get_current_caps()
            rate = caps.get_structure(0).get_int("rate")[1] if caps else 0
            print(f"rate={rate} tier={audio_filter.get_property('tier')} "
                  f"expected-snr={audio_filter.get_property('expected-snr'):.1f}", flush=True)
        elif message.type == Gst.MessageType.ERROR:
            error, _debug = message.parse_error()
            print(f"playbin-filter: {error.message}", file=sys.stderr)
            status = 1
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            print("eos")
            loop.quit()

    bus = playbin.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    playbin.set_state(Gst.State.PLAYING)
    loop.run()
    playbin.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return status


if __name__ == "__main__":
    sys.exit(main())
