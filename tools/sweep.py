"""Runs a scheduling experiment matrix (tools/sweep runs this file).

Each repetition first measures one worker alone on an idle core; with the
quotas that gives a second ideal (ideal_ref_s), independent of the run.
Every run goes through tools/uneven, so a slowdown profile is a real CPU
quota per rank; every run writes a --report, and one CSV row is taken from
it. Repetitions are the outer loop, so noise from the machine spreads over
all the cells instead of hitting one. At the end tools/plot draws the
comparison of makespan / ideal and efficiency per schedule.

A profile is `even` or a list of RANK:PERCENT joined by `+`, e.g. `2:25` (the
last of 2 workers at a quarter of a core) or `1:50+3:25`.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEDULES = ["static", "cyclic", "dynamic", "guided", "trapezoid",
             "factoring", "wf", "awf-b", "awf-c", "af"]
FIELDS = ["schedule", "ranks", "profile", "n", "rep", "wall_s", "ideal_s",
          "ideal_ref_s",
          "efficiency", "imbalance", "finish_cov", "chunks", "master_cpu_s",
          "overhead_per_chunk_s", "bits"]


def limits(profile):
    if profile == "even":
        return {}
    out = {}
    for part in profile.split("+"):
        rank, pct = part.split(":")
        out[int(rank)] = int(pct)
    return out


def run_one(schedule, ranks, profile, n, job, timeout):
    lim = limits(profile)
    if any(r >= ranks for r in lim):
        return None  # the profile names a rank this run does not have
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [os.path.join(HERE, "uneven"), "-n", str(ranks)]
        for r, pct in sorted(lim.items()):
            cmd += ["--limit", f"{r}:{pct}"]
        cmd += ["--", job, "--n", n, "--schedule", schedule, "--report",
                report, "--quiet"]
        if schedule == "wf":
            # Weighted factoring is given the speeds the quotas set.
            w = [lim.get(r, 100) / 100 for r in range(1, ranks)]
            cmd += ["--weights", ",".join(f"{x:g}" for x in w)]
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            sys.exit(f"tools/sweep: {' '.join(cmd)} failed "
                     f"({done.returncode}):\n{done.stderr}")
        with open(report) as f:
            rep = json.load(f)
    b = rep["balance"]
    return {"wall_s": rep["wall_s"], "ideal_s": b["ideal_s"],
            "efficiency": b["efficiency"], "imbalance": b["imbalance"],
            "finish_cov": b["finish_cov"], "chunks": rep["chunks"],
            "master_cpu_s": rep["master_cpu_s"],
            "overhead_per_chunk_s": b["overhead_per_chunk_s"],
            "bits": rep["result"].get("bits", rep["result"]["value"])}


def calibrate(n, job, timeout):
    """Iterations per second of one worker alone on an idle core."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [os.path.join(HERE, "uneven"), "-n", "2", "--", job, "--n", n,
               "--report", report, "--quiet"]
        subprocess.run(cmd, capture_output=True, check=True, timeout=timeout)
        with open(report) as f:
            r = json.load(f)["ranks"][0]
    return r["iterations"] / r["busy_s"]


def ideal_ref(n_text, ranks, profile, speed):
    """Total work / sum of speeds, the speeds set by the quotas."""
    lim = limits(profile)
    shares = sum(lim.get(r, 100) / 100 for r in range(1, ranks))
    return float(n_text) / (speed * shares)


def main():
    ap = argparse.ArgumentParser(prog="tools/sweep", description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--schedules", default=",".join(SCHEDULES),
                    help="comma-separated (default: all ten)")
    ap.add_argument("--ranks", default="3",
                    help="comma-separated rank counts, master included "
                         "(default 3)")
    ap.add_argument("--profiles", default="even,2:25",
                    help="comma-separated slowdown profiles (default "
                         "even,2:25)")
    ap.add_argument("--n", default="2e10",
                    help="comma-separated problem sizes (default 2e10)")
    ap.add_argument("--job", default="pi", help="pi, dot or noop (default pi)")
    ap.add_argument("--reps", type=int, default=3,
                    help="repetitions per cell (default 3)")
    ap.add_argument("--out", default=None,
                    help="output directory (default sweep-<time>)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds before one run counts as hung (default 600)")
    a = ap.parse_args()
    out = a.out or time.strftime("sweep-%Y%m%d-%H%M%S")
    os.makedirs(out, exist_ok=True)
    csv_path = os.path.join(out, "sweep.csv")
    cells = [(s, int(r), p, n) for n in a.n.split(",")
             for r in a.ranks.split(",") for p in a.profiles.split(",")
             for s in a.schedules.split(",")]
    bits = {}
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for rep in range(1, a.reps + 1):
            speed = {n: calibrate(n, a.job, a.timeout)
                     for n in a.n.split(",")}
            print(f"rep {rep} calibration: " + ", ".join(
                f"n={n} {v:.4g} it/s per core" for n, v in speed.items()))
            for s, r, p, n in cells:
                row = run_one(s, r, p, n, a.job, a.timeout)
                if row is None:
                    continue
                row.update(schedule=s, ranks=r, profile=p, n=n, rep=rep,
                           ideal_ref_s=ideal_ref(n, r, p, speed[n]))
                w.writerow(row)
                f.flush()
                print(f"rep {rep} {s:10} ranks={r} {p:8} n={n}: "
                      f"{row['wall_s']:.3f} s, ideal {row['ideal_s']:.3f} s "
                      f"(from quotas {row['ideal_ref_s']:.3f} s), "
                      f"efficiency {row['efficiency']:.3f}", flush=True)
                if bits.setdefault(n, row["bits"]) != row["bits"]:
                    sys.exit(f"tools/sweep: {s} gave {row['bits']}, "
                             f"earlier runs {bits[n]} for n={n}")
    png = os.path.join(out, "sweep.png")
    subprocess.run([os.path.join(HERE, "plot"), "sweep", csv_path, png],
                   check=True)
    print(f"tools/sweep: wrote {csv_path} and {png}")


if __name__ == "__main__":
    main()
