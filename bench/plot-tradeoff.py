#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Draws the accuracy/speed trade-off from maddness-bench --json output.

One panel per workload: SNR against the double-precision reference (dB)
against the speed-up over the fastest exact method of that workload in the
same run (log scale). Exact methods are squares, MADDNESS tiers circles.

Usage: plot-tradeoff.py BENCH.json OUT.png
"""
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

SNR_CAP = 160.0  # exact methods can be bit-exact (infinite SNR): drawn at the cap


def read_results(path):
    results = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"plot-tradeoff: {path}:{number}: not JSON: {e}")
    return results


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    results = read_results(sys.argv[1])
    workloads = list(dict.fromkeys(r["workload"] for r in results))
    if not workloads:
        sys.exit(f"plot-tradeoff: {sys.argv[1]}: no results")

    cols = min(3, len(workloads))
    rows = math.ceil(len(workloads) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax, workload in zip(axes.flat, workloads):
        for index, r in enumerate(r for r in results if r["workload"] == workload):
            speedup = r.get("speedup_vs_best_exact")
            if not speedup or speedup <= 0:
                continue
            snr = r.get("snr_db")
            snr = SNR_CAP if snr is None or snr > SNR_CAP else snr
            exact = r["exact"]
            ax.scatter(
                speedup,
                snr,
                marker="s" if exact else "o",
                s=46,
                color="tab:gray" if exact else "tab:blue",
                edgecolors="black",
                linewidths=0.5,
                zorder=3,
            )
            ax.annotate(
                r["method"],
                (speedup, snr),
                textcoords="offset points",
                xytext=(5, 4 - 9 * (index % 3)),  # staggered: tiers cluster
                fontsize=7,
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(x=0.15, y=0.08)
        ax.axvline(1.0, color="black", linewidth=0.6, linestyle=":")
        ax.set_title(workload)
        ax.set_xlabel("speed-up vs fastest exact method (this run)")
        ax.set_ylabel("SNR vs double reference (dB)")
        ax.grid(True, which="both", linewidth=0.3)
    for ax in list(axes.flat)[len(workloads):]:
        ax.axis("off")

    handles = [
        plt.Line2D([], [], marker="s", linestyle="", color="tab:gray", markeredgecolor="black",
                   label="exact method"),
        plt.Line2D([], [], marker="o", linestyle="", color="tab:blue", markeredgecolor="black",
                   label="MADDNESS tier"),
    ]
    cpu = results[0].get("cpu", "")
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False)
    fig.suptitle(f"gst-maddness: accuracy against speed ({cpu})")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=110)
    print(f"plot-tradeoff: wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
