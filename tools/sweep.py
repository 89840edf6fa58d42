"""Runs a scheduling experiment matrix (tools/sweep runs this file).

Each repetition first measures one worker alone on an idle core; with the
quotas that gives a second ideal (ideal_ref_s), independent of the run.
Every run goes through tools/uneven, so a slowdown profile is a real CPU
quota per rank; every run writes a --report, and one CSV row is taken from
it. Repetitions are the outer loop, so noise from the machine spreads over
all the cells instead of hitting one. At the end tools/plot draws the
comparison of makespan / ideal and efficiency per schedule.

A profile is `even` or a list of RANK:PERCENT joined by `+`, e.g. `2:25` (the
last of 2 workers at a quarter of a core) or `1:50+3:25`, where a PERCENT may
be a timeline P1@T1,P2@T2,... (tools/uneven --limit): `2:100@0,25@1,100@2`
drops worker 2 to a quarter of a core from 1 s to 2 s after the launch.
Give timelines with --profile (repeatable), since --profiles splits at
commas.

Workloads (--workloads, comma-separated) are `pi:N`, `loop:COST:N[:MEAN_NS]`
(tools: taskfarm loop --help) and `mandelbrot:WxH[:MAX_ITER]`. For each, one
worker alone on an idle core computes the whole workload first: its busy time
is the work W in core-seconds, and the ideal from the quotas (ideal_tl_s) is
the T at which the workers' speeds, integrated over their timelines, reach W.
The table (table.md) gives per workload and profile each schedule's median
makespan / that ideal, imbalance and overhead per chunk.
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
FIELDS = ["workload", "schedule", "ranks", "profile", "n", "rep", "wall_s",
          "ideal_s", "ideal_ref_s", "ideal_tl_s",
          "efficiency", "imbalance", "finish_cov", "chunks", "master_cpu_s",
          "overhead_per_chunk_s", "bits"]


def limits(profile):
    """{rank: [(t, percent), ...]} of a profile (a plain PERCENT is [(0, P)])."""
    if profile == "even":
        return {}
    out = {}
    for part in profile.split("+"):
        rank, spec = part.split(":", 1)
        steps = []
        for step in spec.split(","):
            pct, _, t = step.partition("@")
            steps.append((float(t or 0), int(pct)))
        out[int(rank)] = steps
    return out


def limit_arg(rank, steps):
    if len(steps) == 1 and steps[0][0] == 0:
        return f"{rank}:{steps[0][1]}"
    return f"{rank}:" + ",".join(f"{p}@{t:g}" for t, p in steps)


def speed_at(steps, t):
    pct = 100
    for at, p in steps:
        if t >= at:
            pct = p
    return pct / 100


def ideal_timeline(work, ranks, profile):
    """The T at which sum over workers of their speed integrated over
    [0, T] reaches work (core-seconds)."""
    lim = limits(profile)
    times = sorted({t for steps in lim.values() for t, _ in steps} | {0.0})
    done, t = 0.0, 0.0
    for k, start in enumerate(times):
        end = times[k + 1] if k + 1 < len(times) else float("inf")
        rate = sum(speed_at(lim.get(r, []), start) for r in range(1, ranks))
        if rate > 0 and done + rate * (end - start) >= work:
            return start + (work - done) / rate
        done += rate * (end - start)
        t = end
    return t


def job_args(workload, n_default, job_default):
    """taskfarm's job arguments for a workload spec (or the legacy
    --job/--n)."""
    if workload is None:
        return [job_default, "--n", n_default], n_default
    kind, *rest = workload.split(":")
    if kind == "pi" and len(rest) == 1:
        return ["pi", "--n", rest[0]], rest[0]
    if kind == "loop" and len(rest) in (2, 3):
        a = ["loop", "--cost", rest[0], "--n", rest[1]]
        if len(rest) == 3:
            a += ["--mean", rest[2]]
        return a, rest[1]
    if kind == "mandelbrot" and len(rest) in (1, 2):
        a = ["mandelbrot", "--size", rest[0]]
        if len(rest) == 2:
            a += ["--max-iter", rest[1]]
        w, h = rest[0].split("x")
        return a, str(int(w) * int(h))
    sys.exit(f"tools/sweep: cannot read workload '{workload}' (pi:N, "
             f"loop:COST:N[:MEAN_NS] or mandelbrot:WxH[:MAX_ITER])")


def run_one(schedule, ranks, profile, args, timeout):
    lim = limits(profile)
    if any(r >= ranks for r in lim):
        return None  # the profile names a rank this run does not have
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [os.path.join(HERE, "uneven"), "-n", str(ranks)]
        for r, steps in sorted(lim.items()):
            cmd += ["--limit", limit_arg(r, steps)]
        name, _, chunk = schedule.partition("/")
        cmd += ["--"] + args + ["--schedule", name, "--report", report,
                                "--quiet"]
        if chunk:
            cmd += ["--chunk", chunk]
        if name == "wf":
            # Weighted factoring is given the speeds the quotas set at the
            # start (it cannot know a timeline).
            w = [speed_at(lim.get(r, []), 0) for r in range(1, ranks)]
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


def calibrate(args, timeout):
    """The workload's work in core-seconds and iterations per second, from
    one worker alone on an idle core."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [os.path.join(HERE, "uneven"), "-n", "2", "--"] + args + [
            "--report", report, "--quiet"]
        subprocess.run(cmd, capture_output=True, check=True, timeout=timeout)
        with open(report) as f:
            r = json.load(f)["ranks"][0]
    return r["busy_s"], r["iterations"] / r["busy_s"]


def ideal_ref(n_text, ranks, profile, speed):
    """Total work / sum of speeds, the speeds set by the quotas at the
    start."""
    lim = limits(profile)
    shares = sum(speed_at(lim.get(r, []), 0) for r in range(1, ranks))
    return float(n_text) / (speed * shares)


def write_table(rows, path):
    """Per workload and profile, each schedule's medians."""
    import statistics
    groups = {}
    for r in rows:
        groups.setdefault((r["workload"], r["profile"], r["ranks"]),
                          {}).setdefault(r["schedule"], []).append(r)
    with open(path, "w") as f:
        for (workload, profile, ranks), by_s in groups.items():
            f.write(f"\n{workload}, {ranks - 1} workers, profile "
                    f"`{profile}` (medians of {max(len(v) for v in by_s.values())}"
                    f" runs)\n\n")
            f.write("| schedule | makespan s | ideal s | makespan / ideal | "
                    "imbalance | chunks | overhead per chunk |\n")
            f.write("|---|---|---|---|---|---|---|\n")
            for s, runs in by_s.items():
                med = lambda k: statistics.median(float(x[k]) for x in runs)
                ratio = statistics.median(
                    float(x["wall_s"]) / float(x["ideal_tl_s"]) for x in runs)
                f.write(f"| {s} | {med('wall_s'):.3f} | "
                        f"{med('ideal_tl_s'):.3f} | {ratio:.3f} | "
                        f"{med('imbalance'):.3f} | {med('chunks'):.0f} | "
                        f"{med('overhead_per_chunk_s') * 1e6:.0f} us |\n")


def main():
    ap = argparse.ArgumentParser(prog="tools/sweep", description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--schedules", default=",".join(SCHEDULES),
                    help="comma-separated (default: all ten); NAME/C also "
                         "gives --chunk C, e.g. dynamic/100")
    ap.add_argument("--ranks", default="3",
                    help="comma-separated rank counts, master included "
                         "(default 3)")
    ap.add_argument("--profiles", default=None,
                    help="comma-separated slowdown profiles (default "
                         "even,2:25)")
    ap.add_argument("--profile", action="append", default=[],
                    help="one more profile; timelines go here (repeatable)")
    ap.add_argument("--n", default="2e10",
                    help="comma-separated problem sizes for --job (default "
                         "2e10)")
    ap.add_argument("--job", default="pi", help="pi, dot or noop (default pi)")
    ap.add_argument("--workloads", default=None,
                    help="comma-separated workloads (see above); replaces "
                         "--job and --n")
    ap.add_argument("--reps", type=int, default=3,
                    help="repetitions per cell (default 3)")
    ap.add_argument("--out", default=None,
                    help="output directory (default sweep-<time>)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds before one run counts as hung (default 600)")
    a = ap.parse_args()
    profiles = (a.profiles.split(",") if a.profiles else []) + a.profile
    if not profiles:
        profiles = ["even", "2:25"]
    if a.workloads:
        loads = [(w,) + tuple(job_args(w, None, None))
                 for w in a.workloads.split(",")]
    else:
        loads = [(f"{a.job}:{n}",) + tuple(job_args(None, n, a.job))
                 for n in a.n.split(",")]
    out = a.out or time.strftime("sweep-%Y%m%d-%H%M%S")
    os.makedirs(out, exist_ok=True)
    csv_path = os.path.join(out, "sweep.csv")
    cells = [(load, s, int(r), p) for load in loads
             for r in a.ranks.split(",") for p in profiles
             for s in a.schedules.split(",")]
    bits = {}
    rows = []
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for rep in range(1, a.reps + 1):
            cal = {load[0]: calibrate(load[1], a.timeout) for load in loads}
            print(f"rep {rep} calibration: " + ", ".join(
                f"{k} {v[0]:.3f} core-s, {v[1]:.4g} it/s"
                for k, v in cal.items()))
            for (name, args, n), s, r, p in cells:
                row = run_one(s, r, p, args, a.timeout)
                if row is None:
                    continue
                work, speed = cal[name]
                row.update(workload=name, schedule=s, ranks=r, profile=p,
                           n=n, rep=rep,
                           ideal_ref_s=ideal_ref(n, r, p, speed),
                           ideal_tl_s=ideal_timeline(work, r, p))
                w.writerow(row)
                f.flush()
                rows.append(row)
                print(f"rep {rep} {name} {s:10} ranks={r} {p}: "
                      f"{row['wall_s']:.3f} s, ideal from the quotas "
                      f"{row['ideal_tl_s']:.3f} s "
                      f"({row['wall_s'] / row['ideal_tl_s']:.3f}x), "
                      f"imbalance {row['imbalance']:.3f}", flush=True)
                if bits.setdefault(name, row["bits"]) != row["bits"]:
                    sys.exit(f"tools/sweep: {s} gave {row['bits']}, "
                             f"earlier runs {bits[name]} for {name}")
    table = os.path.join(out, "table.md")
    write_table(rows, table)
    png = os.path.join(out, "sweep.png")
    subprocess.run([os.path.join(HERE, "plot"), "sweep", csv_path, png],
                   check=True)
    print(f"tools/sweep: wrote {csv_path}, {table} and {png}")


if __name__ == "__main__":
    main()
