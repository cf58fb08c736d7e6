#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make-nam-models.py OUTDIR: writes the test models, small Neural Amp Modeler
WaveNets in NAM's .nam format (JSON) with this project's own random weights.

Nothing is downloaded: the layout (config keys, the order of the flat weight
array) is NAM's format as its documentation and NeuralAmpModelerCore read it;
the weights are drawn here, at the scales of trained captures (convs about
1/sqrt(fan-in), small biases, head_scale 0.02), so the signals inside stay in
tanh's working range as in a real capture.

Files:
  a1-standard.nam   the A1 "standard" topology: 16 then 8 channels, 10 layers
                    each, kernel 3, dilations 1..512, Tanh (13,802 weights)
  tiny.nam          2 small layer arrays, version 0.5.0, no sample_rate, no metadata
  a2-like.nam       A2 features: bottleneck, per-layer kernel sizes, gated and
                    blended layers, many activations, head1x1, grouped convs,
                    a K=16 dilated head, inactive FiLM keys
  post-head.nam     a post-stack head (activation + convs)
  rate-44100.nam    sample_rate 44100
  slimmable.nam     a slimmable WaveNet (slice_channels_uniform), and
  slim-C0-C1.nam    the plain WaveNet each of its sizes is, sliced here
  container.nam     a SlimmableContainer of three WaveNets (max_value 0.3, 0.7, 1)
  container-N.nam   its submodels as plain files
"""
import json
import math
import os
import random
import sys


def conv_count(cin, cout, k, groups=1, bias=True):
    return cin // groups * cout * k + (cout if bias else 0)


def conv_weights(rng, cin, cout, k, groups=1, bias=True, gain=1.0):
    """A conv's weights in NAM's order: [group][out][in][tap], then the bias."""
    fan = cin // groups * k
    s = gain * math.sqrt(3.0 / fan)
    w = [rng.uniform(-s, s) for _ in range(cin // groups * cout * k)]
    if bias:
        w += [rng.uniform(-0.05, 0.05) for _ in range(cout)]
    return w


def layer_array(input_size, channels, dilations, head_size, head_bias, kernel=3, **extra):
    la = {
        "input_size": input_size,
        "condition_size": 1,
        "head_size": head_size,
        "channels": channels,
        "kernel_size": kernel,
        "dilations": dilations,
        "activation": "Tanh",
        "gated": False,
        "head_bias": head_bias,
    }
    la.update(extra)
    return la


def gating_of(la, i):
    g = la.get("gating_mode")
    if g is None:
        return "gated" if la.get("gated") else "none"
    return g[i] if isinstance(g, list) else g


def array_weights(rng, la):
    """Weights of one layer array, in NAM's order."""
    ch = la["channels"]
    bn = la.get("bottleneck", ch)
    n = len(la["dilations"])
    ks = la.get("kernel_sizes", [la.get("kernel_size")] * n)
    l1 = la.get("layer1x1", {"active": True, "groups": 1})
    h1 = la.get("head1x1", {"active": False, "out_channels": ch, "groups": 1})
    gi, gm = la.get("groups_input", 1), la.get("groups_input_mixin", 1)
    head = la.get("head")
    head_size = head["out_channels"] if head else la["head_size"]
    head_k = head["kernel_size"] if head else 1
    head_bias = head["bias"] if head else la["head_bias"]
    w = conv_weights(rng, la["input_size"], ch, 1, bias=False)
    for i in range(n):
        bg = bn * (1 if gating_of(la, i) == "none" else 2)
        w += conv_weights(rng, ch, bg, ks[i], gi)
        w += conv_weights(rng, la["condition_size"], bg, 1, gm, bias=False, gain=0.5)
        if l1["active"]:
            w += conv_weights(rng, bn, ch, 1, l1["groups"], gain=0.7)
        if h1["active"]:
            w += conv_weights(rng, bn, h1["out_channels"], 1, h1["groups"])
    ho = h1["out_channels"] if h1["active"] else bn
    w += conv_weights(rng, ho, head_size, head_k, 1, bias=head_bias, gain=0.5)
    return w


def model(layers, weights, version="0.5.4", rate=48000, metadata=None, head=None, scale=0.02):
    m = {"version": version}
    if metadata is not None:
        m["metadata"] = metadata
    m["architecture"] = "WaveNet"
    m["config"] = {"layers": layers, "head": head, "head_scale": scale}
    m["weights"] = weights + [scale]
    if rate is not None:
        m["sample_rate"] = rate
    return m


def wavenet(rng, layers, **kw):
    w = []
    for la in layers:
        w += array_weights(rng, la)
    head = kw.get("head")
    if head:
        cin = layers[-1]["head_size"] if "head_size" in layers[-1] else layers[-1]["head"]["out_channels"]
        ks = head["kernel_sizes"]
        for i, k in enumerate(ks):
            cout = head["out_channels"] if i + 1 == len(ks) else head["channels"]
            w += conv_weights(rng, cin, cout, k)
            cin = cout
    return model(layers, w, **kw)


META = {"loudness": -18.5, "gain": 0.4, "name": "Project test capture",
        "modeled_by": "make-nam-models.py", "gear_make": "Test", "gear_model": "Amp",
        "gear_type": "amp", "input_level_dbu": 12.0, "output_level_dbu": 6.5}


def a1_standard(rng, rate=48000, meta=META):
    d = [2 ** i for i in range(10)]
    layers = [layer_array(1, 16, d, 8, False), layer_array(16, 8, d, 1, True)]
    return wavenet(rng, layers, rate=rate, metadata=meta)


def tiny(rng):
    layers = [layer_array(1, 3, [1, 2], 2, False), layer_array(3, 2, [8], 1, True)]
    return wavenet(rng, layers, version="0.5.0", rate=None)


def a2_like(rng):
    off = {"active": False, "shift": True, "groups": 1}
    films = {k: dict(off) for k in ("conv_pre_film", "conv_post_film", "input_mixin_pre_film",
                                    "input_mixin_post_film", "activation_pre_film",
                                    "activation_post_film", "layer1x1_post_film",
                                    "head1x1_post_film")}
    acts = [{"type": "LeakyReLU", "negative_slope": 0.02}, "SiLU", "Hardswish", "Softsign",
            {"type": "PReLU", "negative_slopes": [0.05, 0.1, 0.2, 0.3]},
            {"type": "LeakyHardtanh", "min_val": -0.8, "max_val": 0.9, "min_slope": 0.02,
             "max_slope": 0.03}, "ReLU", "Fasttanh"]
    la0 = {
        "input_size": 1, "condition_size": 1,
        "head": {"out_channels": 4, "kernel_size": 4, "bias": False, "head_dilation": 2},
        "channels": 6, "bottleneck": 4,
        "kernel_sizes": [3, 6, 2, 3, 5, 3, 2, 4],
        "dilations": [1, 3, 7, 17, 1, 5, 11, 2],
        "activation": acts,
        "gating_mode": ["none", "gated", "blended", "none", "none", "gated", "blended", "none"],
        "secondary_activation": [None, "Sigmoid", "Sigmoid", None, None, "Hardtanh",
                                 {"type": "LeakyReLU", "negative_slope": 0.1}, None],
        "head1x1": {"active": True, "out_channels": 4, "groups": 2},
        "layer1x1": {"active": True, "groups": 2},
        "groups_input": 2, "groups_input_mixin": 1,
        "slimmable": None,
    }
    la0.update(films)
    la1 = {
        "input_size": 6, "condition_size": 1,
        "head": {"out_channels": 1, "kernel_size": 16, "bias": True},
        "channels": 4, "bottleneck": 4, "kernel_sizes": [6, 6, 15],
        "dilations": [1, 13, 3], "activation": "Tanh", "gating_mode": "none",
        "layer1x1": {"active": False, "groups": 1},
    }
    return wavenet(rng, [la0, la1], version="0.7.0", metadata={"loudness": -24.0})


def post_head(rng):
    layers = [layer_array(1, 4, [1, 2, 4], 3, True)]
    head = {"channels": 5, "out_channels": 1, "kernel_sizes": [3, 2], "activation": "ReLU"}
    return wavenet(rng, layers, version="0.6.0", head=head)


def slimmable(rng):
    d = [1, 2, 4, 8, 16, 32]
    la0 = layer_array(1, 8, d, 4, False, slimmable={
        "method": "slice_channels_uniform", "kwargs": {"allowed_channels": [2, 4, 8]}})
    la0["bottleneck"] = 8
    la1 = layer_array(8, 4, d, 1, True, slimmable={"method": "slice_channels_uniform"})
    return wavenet(rng, [la0, la1], version="0.7.0")


def slice_first(src, pos, full_in, full_out, slim_in, slim_out, k, bias, out):
    """The first slim_out x slim_in of a [out][in][k] conv, then slim_out biases."""
    for i in range(full_out):
        for j in range(full_in):
            if i < slim_out and j < slim_in:
                out += src[pos:pos + k]
            pos += k
    if bias:
        out += src[pos:pos + slim_out]
        pos += full_out
    return pos


def slim_model(full, channels):
    """The plain WaveNet a slimmable one is at these per-array channels."""
    layers = full["config"]["layers"]
    w, pos = [], 0
    new_layers = []
    for a, la in enumerate(layers):
        ch, full_ch = channels[a], la["channels"]
        full_bn = la.get("bottleneck", full_ch)
        bn = max(1, full_bn * ch // full_ch)
        nla = dict(la)
        nla.pop("slimmable", None)
        nla["channels"] = ch
        nla["bottleneck"] = bn
        nla["input_size"] = la["input_size"] if a == 0 else channels[a - 1]
        nla["head_size"] = channels[a + 1] if a + 1 < len(layers) else la["head_size"]
        src = full["weights"]
        pos = slice_first(src, pos, la["input_size"], full_ch, nla["input_size"], ch, 1, False, w)
        for i, _ in enumerate(la["dilations"]):
            pos = slice_first(src, pos, full_ch, full_bn, ch, bn, la["kernel_size"], True, w)
            pos = slice_first(src, pos, 1, full_bn, 1, bn, 1, False, w)
            pos = slice_first(src, pos, full_bn, full_ch, bn, ch, 1, True, w)
        pos = slice_first(src, pos, full_bn, la["head_size"], bn, nla["head_size"], 1,
                          la["head_bias"], w)
        new_layers.append(nla)
    assert pos == len(full["weights"]) - 1
    m = dict(full)
    m["config"] = dict(full["config"], layers=new_layers)
    m["weights"] = w + [full["weights"][-1]]
    return m


def slim_sizes(full):
    """The distinct channel choices of quality 0..10 (NAM: v = quality / 10,
    allowed[min(floor(v * n), n - 1)])."""
    sizes = []
    for q in range(11):
        chs = []
        for la in full["config"]["layers"]:
            s = la.get("slimmable")
            if not s:
                chs.append(la["channels"])
                continue
            allowed = s.get("kwargs", {}).get("allowed_channels",
                                              list(range(1, la["channels"] + 1)))
            chs.append(allowed[min(int(math.floor(q / 10 * len(allowed))), len(allowed) - 1)])
        if chs not in sizes:
            sizes.append(chs)
    return sizes


def container(rng):
    subs = [tiny(rng), post_head(rng), a1_standard(rng, meta=None)]
    subs[0]["sample_rate"] = 48000
    return {"version": "0.7.0", "metadata": META, "architecture": "SlimmableContainer",
            "config": {"submodels": [{"max_value": v, "model": m}
                                     for v, m in zip([0.3, 0.7, 1.0], subs)]},
            "sample_rate": 48000}, subs


def write(outdir, name, m):
    with open(os.path.join(outdir, name), "w") as f:
        json.dump(m, f)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(16)
    write(outdir, "a1-standard.nam", a1_standard(rng))
    write(outdir, "tiny.nam", tiny(rng))
    write(outdir, "a2-like.nam", a2_like(rng))
    write(outdir, "post-head.nam", post_head(rng))
    write(outdir, "rate-44100.nam", a1_standard(rng, rate=44100))
    s = slimmable(rng)
    write(outdir, "slimmable.nam", s)
    for chs in slim_sizes(s):
        write(outdir, "slim-%s.nam" % "-".join(str(c) for c in chs), slim_model(s, chs))
    c, subs = container(rng)
    write(outdir, "container.nam", c)
    for i, m in enumerate(subs):
        write(outdir, "container-%d.nam" % i, m)


if __name__ == "__main__":
    main()
