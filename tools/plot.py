"""Plots for taskfarm experiments (tools/plot runs this file).

gantt TRACE.json OUT.png: one row per rank, one bar per chunk attempt from a
--trace file (accepted bars coloured by chunk size, others hatched by
outcome), instant events (timeouts, re-issues, losses) as markers.

sweep SWEEP.csv OUT.png: from a tools/sweep CSV, the median makespan of each
schedule relative to the ideal (total work / sum of measured speeds) and its
parallel efficiency, one group of bars per slowdown profile and rank count.
"""
import csv
import json
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUTCOME_STYLE = {
    "accepted": dict(alpha=0.9),
    "duplicate": dict(alpha=0.5, hatch="xx", facecolor="lightgrey"),
    "cancelled": dict(alpha=0.5, hatch="//", facecolor="lightgrey"),
    "abandoned": dict(alpha=0.5, hatch="\\\\", facecolor="salmon"),
}
INSTANT_MARK = {"timeout": "v", "reissue": "x", "lost": "X", "back": "^",
                "speculate": "*", "cancel": "|"}


def gantt(trace_path, out_path):
    with open(trace_path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    slices = [e for e in events if e.get("ph") == "X"]
    instants = [e for e in events if e.get("ph") == "i"]
    ranks = sorted(t for t in names if t > 0)
    if not slices:
        sys.exit(f"tools/plot: {trace_path} has no chunk slices")
    sizes = [e["args"]["size"] for e in slices]
    lo, hi = min(sizes), max(sizes)
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.6 * len(ranks)))
    for e in slices:
        y = ranks.index(e["tid"]) if e["tid"] in ranks else -1
        style = dict(OUTCOME_STYLE.get(e["args"]["outcome"], {}))
        if e["args"]["outcome"] == "accepted":
            frac = 0.5 if hi == lo else (e["args"]["size"] - lo) / (hi - lo)
            style["facecolor"] = cmap(0.15 + 0.7 * frac)
        ax.barh(y, max(e["dur"], 1) / 1e6, left=e["ts"] / 1e6, height=0.7,
                edgecolor="black", linewidth=0.3, **style)
    for e in instants:
        if e["tid"] in ranks:
            ax.plot(e["ts"] / 1e6, ranks.index(e["tid"]) + 0.4,
                    INSTANT_MARK.get(e["name"], "o"), color="red",
                    markersize=6)
    ax.set_yticks(range(len(ranks)))
    ax.set_yticklabels([names[t] for t in ranks])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the start of the run")
    other = trace.get("otherData", {})
    ax.set_title(f"{other.get('job', '')} n={other.get('n', '')}, schedule "
                 f"{other.get('schedule', '')}: {len(slices)} chunk attempts "
                 f"(colour: chunk size {lo}..{hi})")
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)


def sweep(csv_path, out_path):
    rows = list(csv.DictReader(open(csv_path)))
    if not rows:
        sys.exit(f"tools/plot: {csv_path} has no rows")
    groups = defaultdict(lambda: defaultdict(list))
    order = []
    for r in rows:
        load = r.get("workload") or f"n={r['n']}"
        key = f"{load}, {r['profile']}, {int(r['ranks']) - 1} workers"
        if r["schedule"] not in order:
            order.append(r["schedule"])
        groups[key][r["schedule"]].append(r)
    keys = sorted(groups)
    fig, axes = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True)
    width = 0.8 / len(keys)
    for k, key in enumerate(keys):
        xs, rel, eff = [], [], []
        for i, s in enumerate(order):
            runs = groups[key].get(s, [])
            if not runs:
                continue
            xs.append(i + (k - (len(keys) - 1) / 2) * width)
            # The ideal from the quota timeline where the sweep has it,
            # else total work / sum of measured speeds.
            rel.append(statistics.median(
                float(r["wall_s"]) / float(r.get("ideal_tl_s") or
                                           r["ideal_s"]) for r in runs))
            eff.append(statistics.median(float(r["efficiency"]) for r in runs))
        axes[0].bar(xs, rel, width, label=key)
        axes[1].bar(xs, eff, width, label=key)
    axes[0].axhline(1.0, color="black", linewidth=0.8)
    axes[0].set_ylabel("makespan / ideal (median)")
    axes[0].set_title("makespan relative to the ideal (from the quota timeline "
                      "where the sweep has one, else total work / sum of "
                      "speeds)")
    axes[0].legend(fontsize=8)
    axes[1].set_ylabel("parallel efficiency (median)")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_xticks(range(len(order)))
    axes[1].set_xticklabels(order, rotation=30)
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("gantt", "sweep"):
        sys.exit(__doc__)
    (gantt if argv[1] == "gantt" else sweep)(argv[2], argv[3])
    print(f"tools/plot: wrote {argv[3]}")


if __name__ == "__main__":
    main(sys.argv)
