#!/usr/bin/env python3
"""Draws one SVG bar chart per scenario from run.py's figures (JSON on stdin): each server's
median as a bar, its spread over the runs as an error bar, the floors hatched and marked."""
import json
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402


def draw(chart):
    servers = chart["servers"]
    names = [s["server"] for s in servers]
    medians = [sorted(s["values"])[len(s["values"]) // 2] for s in servers]
    lows = [m - min(s["values"]) for m, s in zip(medians, servers)]
    highs = [max(s["values"]) - m for m, s in zip(medians, servers)]
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.55 * len(servers)))
    colors = ["#d0d0d0" if s["floor"] else ("#2a6fdb" if s["server"] == "sio" else "#8aa1c1") for s in servers]
    bars = axes.barh(names, medians, xerr=[lows, highs], color=colors, capsize=3)
    for bar, server in zip(bars, servers):
        if server["floor"]:
            bar.set_hatch("//")
            axes.axvline(bar.get_width(), color="#888888", linestyle=":", linewidth=1)
    for bar, median, high in zip(bars, medians, highs):
        # After the spread's end, so the figure never sits on the error bar.
        axes.text(median + high, bar.get_y() + bar.get_height() / 2, f"  {median:,.1f}",
                  va="center", fontsize=8)
    axes.margins(x=0.15)
    axes.invert_yaxis()
    axes.set_xlabel(chart["unit"] + " (lower is better; hatched: the floor)")
    axes.set_title(chart["title"])
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    figure.savefig(chart["file"])
    plt.close(figure)


def main():
    for chart in json.load(sys.stdin):
        draw(chart)


if __name__ == "__main__":
    main()
