#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-install.py: `meson install` of this build works as a prefix.

Usage: check-install.py MESON BUILD_DIR [--sanitized]

Installs the build into a temporary DESTDIR (meson install --destdir
--no-rebuild) and checks, with LD_LIBRARY_PATH unset:
- every installed file is under the build's prefix (the plugin included: it
  used to go to the system's GStreamer plugin directory);
- the installed plugin and tools load libmaddness from the same staged prefix
  (ldd), through their install rpath;
- gst-inspect-1.0 with GST_PLUGIN_PATH set to the staged plugin directory
  loads maddnessfilter and maddnesstrainer from it (not in a sanitized build:
  the unsanitized gst-inspect-1.0 cannot load a sanitized plugin);
- the staged maddness-info --list runs and lists the staged presets.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def run(cmd, env=None):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120)
    return proc.returncode, proc.stdout


def staged(destdir, path):
    return os.path.join(destdir, path.lstrip('/'))


def resolved_maddness(path, env):
    """Where the loader finds libmaddness for path (ldd), or None."""
    rc, out = run(['ldd', path], env)
    if rc != 0:
        fail('ldd %s: %s' % (path, out))
    for line in out.splitlines():
        if 'libmaddness' in line:
            parts = line.split('=>')
            if len(parts) == 2 and not parts[1].strip().startswith('not found'):
                return parts[1].split('(')[0].strip()
    return None


def main():
    if len(sys.argv) < 3:
        fail('usage: check-install.py MESON BUILD_DIR [--sanitized]')
    meson = sys.argv[1]
    build = sys.argv[2]
    sanitized = '--sanitized' in sys.argv[3:]

    rc, out = run([meson, 'introspect', '--buildoptions', build])
    if rc != 0:
        fail('meson introspect --buildoptions: ' + out)
    options = {o['name']: o['value'] for o in json.loads(out)}
    prefix = options['prefix'].rstrip('/')
    bindir = options['bindir']
    if not os.path.isabs(bindir):
        bindir = os.path.join(prefix, bindir)
    datadir = options['datadir']
    if not os.path.isabs(datadir):
        datadir = os.path.join(prefix, datadir)

    rc, out = run([meson, 'introspect', '--installed', build])
    if rc != 0:
        fail('meson introspect --installed: ' + out)
    installed = json.loads(out)
    outside = sorted(p for p in installed.values() if not p.startswith(prefix + '/'))
    if outside:
        fail('installed outside the prefix %s: %s' % (prefix, ', '.join(outside)))
    plugins = [p for p in installed.values() if os.path.basename(p) == 'libgstmaddness.so']
    if len(plugins) != 1:
        fail('the plugin is not in the install list: %s' % sorted(installed.values()))
    plugin = plugins[0]

    env = dict(os.environ)
    env.pop('LD_LIBRARY_PATH', None)
    destdir = tempfile.mkdtemp(prefix='check-install-')
    try:
        rc, out = run([meson, 'install', '-C', build, '--no-rebuild', '--quiet',
                       '--destdir', destdir], env)
        if rc != 0:
            fail('meson install: ' + out)

        staged_plugin = staged(destdir, plugin)
        if not os.path.isfile(staged_plugin):
            fail('the plugin was not installed at %s' % staged_plugin)
        tools = [staged(destdir, os.path.join(bindir, t)) for t in ('maddness-info', 'maddness-fit')]
        for path in [staged_plugin] + tools:
            lib = resolved_maddness(path, env)
            if lib is None:
                fail('%s: libmaddness not found without LD_LIBRARY_PATH' % path)
            if not os.path.realpath(lib).startswith(os.path.realpath(destdir) + '/'):
                fail('%s loads %s, not the libmaddness of its own prefix' % (path, lib))

        if not sanitized:
            inspect_env = dict(env)
            inspect_env['GST_PLUGIN_PATH'] = os.path.dirname(staged_plugin)
            inspect_env['GST_REGISTRY_1_0'] = os.path.join(destdir, 'registry.bin')
            for element in ('maddnessfilter', 'maddnesstrainer'):
                rc, out = run(['gst-inspect-1.0', element], inspect_env)
                if rc != 0 or staged_plugin not in out:
                    fail('gst-inspect-1.0 %s (GST_PLUGIN_PATH=%s) exit %d:\n%s'
                         % (element, inspect_env['GST_PLUGIN_PATH'], rc, out))

        info_env = dict(env)
        info_env['MADDNESS_PRESET_PATH'] = staged(destdir, os.path.join(datadir, 'gst-maddness',
                                                                       'presets'))
        rc, out = run([tools[0], '--list'], info_env)
        if rc != 0 or 'lowpass' not in out:
            fail('maddness-info --list exit %d:\n%s' % (rc, out))
    finally:
        shutil.rmtree(destdir, ignore_errors=True)
    print('installed under %s: plugin %s, tools and presets load from the prefix'
          % (prefix, plugin))


if __name__ == '__main__':
    main()
