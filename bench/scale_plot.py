#!/usr/bin/env python3
"""bench/scale_plot.py MEDIANS OUT.svg — draws bench/scale.sh's medians:
broker CPU per task (whole process and its own thread) and connect time
against the number of workers, log-scaled x, as a small SVG (no plotting
library needed)."""
import math
import sys

rows = [line.split() for line in open(sys.argv[1]) if line[:1].isdigit()]
workers = [int(r[0]) for r in rows]
series = [("broker CPU per task, µs (whole process)", [float(r[4]) for r in rows], "#1f77b4"),
          ("broker CPU per task, µs (its own thread)", [float(r[5]) for r in rows], "#2ca02c"),
          ("seconds until every worker had a task", [float(r[2]) for r in rows], "#d62728")]
W, H, L, R, T, B = 640, 360, 60, 40, 20, 90
top = max(max(v) for _, v, _ in series) * 1.1 or 1
lo, hi = math.log10(min(workers)), math.log10(max(workers))
x = lambda w: L + (math.log10(w) - lo) / ((hi - lo) or 1) * (W - L - R)
y = lambda v: T + (1 - v / top) * (H - T - B)
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<line x1="{L}" y1="{y(0)}" x2="{W - R}" y2="{y(0)}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{y(0)}" stroke="black"/>']
for w in workers:
    out.append(f'<text x="{x(w)}" y="{y(0) + 16}" text-anchor="middle">{w:,}</text>')
for k in range(6):
    v = top * k / 5
    out.append(f'<text x="{L - 6}" y="{y(v) + 4}" text-anchor="end">{v:.1f}</text>')
out.append(f'<text x="{(L + W - R) / 2}" y="{y(0) + 34}" text-anchor="middle">workers (log scale)</text>')
for i, (label, values, colour) in enumerate(series):
    points = " ".join(f"{x(w):.1f},{y(v):.1f}" for w, v in zip(workers, values))
    out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
    out += [f'<circle cx="{x(w):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for w, v in zip(workers, values)]
    out.append(f'<rect x="{L + 10}" y="{H - 40 + i * 14 - 9}" width="10" height="10" fill="{colour}"/>')
    out.append(f'<text x="{L + 26}" y="{H - 40 + i * 14}">{label}</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
