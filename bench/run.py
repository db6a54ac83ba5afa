"""Benchmark: the batched engine against the usual ways of training one small network.

Usage (from the repository root)::

    .venv/bin/python bench/run.py                 # everything (the peers add 5 torch.compile runs of 20-70 s)
    .venv/bin/python bench/run.py --quick         # shorter windows, for a smoke test
    .venv/bin/python bench/run.py --only circles  # one workload
    .venv/bin/python bench/run.py --no-peers      # without JAX and torch.func

Every implementation runs a window of its workload's steps (a few hundred
full-batch steps, or a few epochs of mini-batches), several times; the
median time per model-step is extrapolated to the whole workload. Results go
to bench/results/latest.json and bench/results/latest.md.

Times are process CPU time by default (``--clock wall`` for wall-clock): on
a machine shared with other jobs, CPU time leaves out the time the process
waited for a core. Every library runs on one thread, and the process is
pinned to one core. The compiled peers (JAX, torch.func: bench/peers.py)
are timed cold, their first call with its compilation, and warm.
"""

import os

# One thread everywhere, before NumPy (or PyTorch) loads its BLAS.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
# And one core: every implementation runs on one thread, but XLA's runtime
# may run independent operations of a step on another core. Threads started
# later (XLA's, PyTorch's) inherit the pinning.
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines  # noqa: E402
import peers  # noqa: E402

from nnstudy.core import fused, initializers, network, optimizers, training
from nnstudy.data import course_files, datasets
from nnstudy.study import replication  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BATCH_SIZES = (1, 8, 32, 128)


# ---------------------------------------------------------------------------
# Workloads


@dataclass
class Workload:
    name: str
    description: str
    layer_sizes: tuple
    X: np.ndarray
    Y: np.ndarray
    epochs: int
    learning_rate: float
    optimizer: str = "gd"
    batch_size: int | None = None
    lambd: float = 0.0
    keep_prob: float = 1.0
    window_epochs: int = 300
    notes: list = field(default_factory=list)

    @property
    def softmax(self):
        return self.layer_sizes[-1] > 1

    @property
    def m(self):
        return self.X.shape[1]

    @property
    def steps_per_epoch(self):
        return 1 if self.batch_size is None else math.ceil(self.m / self.batch_size)

    @property
    def steps(self):
        return self.epochs * self.steps_per_epoch

    def options(self):
        return dict(
            learning_rate=self.learning_rate, optimizer=self.optimizer, batch_size=self.batch_size,
            lambd=self.lambd, keep_prob=self.keep_prob, softmax=self.softmax,
        )


def _regularization_data(notes):
    folder = Path(os.environ.get(course_files.DATA_DIR_VARIABLE, REPO.parent / "shared" / "datasets"))
    path = folder / datasets.MAT_FILE
    if path.is_file():
        data = datasets.load_mat(path)
        return data.X_train, data.y_train
    notes.append(f"{path} not found: the football generator (211 samples) stands in for data.mat")
    splits = datasets.make_dataset("football", 7, {"n_samples": 352}, 0.2, 0.2)
    return splits.X_train[:, :211], splits.y_train[:211]


def workloads(quick):
    scale = 0.25 if quick else 1.0
    X_c, y_c, _, _ = replication.course_circles()
    X_m, y_m = replication.course_moons()
    notes = []
    X_r, y_r = _regularization_data(notes)
    digits = datasets.make_dataset("digits", 13, None, 0.2, 0.2)
    Y_d = np.eye(10)[digits.y_train].T

    def w(epochs):
        return max(2, int(epochs * scale))

    def binary(y):
        return np.asarray(y, dtype=float)[None]

    return [
        Workload("circles", "course circles [2,10,5,1], 300 samples, full-batch GD lr 0.01, 15000 steps",
                 (2, 10, 5, 1), X_c, binary(y_c), 15000, 0.01, window_epochs=w(250)),
        Workload("regularization_l2", "course data.mat [2,20,3,1], 211 samples, full-batch GD lr 0.3, "
                 "L2 0.7, 30000 steps", (2, 20, 3, 1), X_r, binary(y_r), 30000, 0.3, lambd=0.7,
                 window_epochs=w(250), notes=notes),
        Workload("regularization_dropout", "course data.mat [2,20,3,1], 211 samples, full-batch GD "
                 "lr 0.3, dropout keep 0.86, 30000 steps", (2, 20, 3, 1), X_r, binary(y_r), 30000, 0.3,
                 keep_prob=0.86, window_epochs=w(250), notes=notes),
        Workload("moons", "course moons [2,5,2,1], 300 samples, mini-batch 64 Adam lr 0.0007, "
                 "10000 epochs (50000 steps)", (2, 5, 2, 1), X_m, binary(y_m), 10000, 0.0007,
                 optimizer="adam", batch_size=64, window_epochs=w(50)),
        Workload("digits", f"digits [64,32,10] softmax, {digits.X_train.shape[1]} samples, mini-batch "
                 "64 Adam lr 0.001, 150 epochs", (64, 32, 10), digits.X_train, Y_d, 150, 0.001,
                 optimizer="adam", batch_size=64, window_epochs=w(16)),
    ]


# ---------------------------------------------------------------------------
# Timing


def _clock(kind):
    return time.process_time if kind == "cpu" else time.perf_counter


def time_once(run, clock):
    """One timing of ``run()`` (which returns its model-steps): (clock us, wall us) per model-step."""
    tick = _clock(clock)
    t0, w0 = tick(), time.perf_counter()
    n = run()
    return (tick() - t0) / n * 1e6, (time.perf_counter() - w0) / n * 1e6


def interleaved(timers, repeats):
    """Time every candidate once per round, ``repeats`` rounds.

    timers : {name: function returning (clock us, wall us)}. Round-robin
    order makes every candidate see the same machine: on a shared machine
    the speed drifts over minutes. Returns {name: ([clock us], [wall us])}.
    """
    results = {name: ([], []) for name in timers}
    for _ in range(repeats):
        for name, timer in timers.items():
            per, wall = timer()
            results[name][0].append(per)
            results[name][1].append(wall)
    return results


def engine_batch(work, n_models, epochs):
    """(arch, seeds, params, data, config) of a batch of ``n_models`` He-initialized models on ``work``."""
    arch = network.Architecture(work.layer_sizes, "relu", "softmax" if work.softmax else "sigmoid")
    seeds = list(range(n_models))
    params = initializers.initialize(arch.layer_sizes, "he", seeds)
    y = work.Y.argmax(axis=0) if work.softmax else work.Y[0].astype(int)
    data = training.TrainData(work.X, work.Y, y)
    steps = epochs * work.steps_per_epoch
    config = training.TrainConfig(epochs=epochs, batch_size=work.batch_size, eval_every=steps)
    return arch, seeds, params, data, config


def engine_run(work, n_models, epochs):
    arch, seeds, params, data, config = engine_batch(work, n_models, epochs)
    optimizer = optimizers.make_optimizer(work.optimizer)

    def run():
        result = training.train(
            params, arch, optimizer, data, config, learning_rate=work.learning_rate,
            lambd=work.lambd, keep_prob=work.keep_prob, seeds=seeds,
        )
        return result.steps * n_models

    return run


# ---------------------------------------------------------------------------
# A tuning batch: every model its own hyperparameters, against shared ones


# Workloads measured (Adam, so that betas and epsilon are in play), with the
# L2 strength and keep probability both variants train with.
TUNING_WORKLOADS = {"moons": (0.1, 0.9), "digits": (0.1, 0.9)}
TUNING_MODELS = 32


def tuning_settings(work, n_models, per_model):
    """Hyperparameters of a tuning batch: one value per model, or the same value for all.

    The shared values are the middles of the per-model ranges, so both
    variants do the same arithmetic on numbers of the same size.
    """
    lambd, keep_prob = TUNING_WORKLOADS[work.name]
    spread = {
        "learning_rate": (work.learning_rate / 3, work.learning_rate * 3),
        "beta1": (0.85, 0.95), "beta2": (0.99, 0.9999), "epsilon": (1e-9, 1e-7),
        "lambd": (lambd / 3, lambd * 3), "keep_prob": (keep_prob - 0.05, keep_prob + 0.05),
    }
    if per_model:
        return {k: np.geomspace(lo, hi, n_models) for k, (lo, hi) in spread.items()}
    return {k: float(np.sqrt(lo * hi)) for k, (lo, hi) in spread.items()}


def tuning_run(work, n_models, epochs, per_model):
    arch, seeds, params, data, config = engine_batch(work, n_models, epochs)
    settings = tuning_settings(work, n_models, per_model)
    optimizer = optimizers.make_optimizer(
        "adam", beta1=settings["beta1"], beta2=settings["beta2"], epsilon=settings["epsilon"]
    )

    def run():
        result = training.train(
            params, arch, optimizer, data, config, learning_rate=settings["learning_rate"],
            lambd=settings["lambd"], keep_prob=settings["keep_prob"], seeds=seeds,
        )
        return result.steps * n_models

    return run


def tuning_batch(work, clock, repeats, quick):
    """us per model-step of a tuning batch with per-model and with shared hyperparameters, interleaved."""
    epochs = max(2, work.window_epochs // 2)
    timers = {}
    for per_model in (True, False):
        run = tuning_run(work, TUNING_MODELS, epochs, per_model)
        run()  # warm-up
        timers[per_model] = lambda run=run: time_once(run, clock)
    # At least 7 rounds, and the ratio as the median of each round's ratio:
    # the two variants of a round ran within seconds of each other, so the
    # machine's drift cancels in it.
    measured = interleaved(timers, max(repeats, 7))
    per, shared = (float(np.median(measured[v][0])) for v in (True, False))
    ratio = float(np.median(np.divide(measured[True][0], measured[False][0])))
    lambd, keep_prob = TUNING_WORKLOADS[work.name]
    row = {
        "workload": work.name, "models": TUNING_MODELS, "window_epochs": epochs,
        "settings": f"Adam, L2 {lambd}, keep {keep_prob}",
        "per_model_us": per, "shared_us": shared, "ratio": ratio,
        "per_model_repeats": measured[True][0], "shared_repeats": measured[False][0],
    }
    print(f"  tuning batch {work.name} S={TUNING_MODELS}: per-model {per:.2f}, shared {shared:.2f} "
          f"us/model-step, ratio {ratio:.3f}", flush=True)
    return row


def peer_run(build, work, n_models, epochs):
    """A peer's trainer for S models from the engine's initial weights; builds (and compiles) lazily."""
    seeds = list(range(n_models))
    params = initializers.initialize(work.layer_sizes, "he", seeds)
    trainer = []

    def run():
        if not trainer:
            trainer.append(build(work.X, work.Y, work.layer_sizes, epochs=epochs, **work.options()))
        trainer[0](params)
        return epochs * work.steps_per_epoch * n_models

    return run


def _cpu_with_children():
    # A compiler may run as a child process (inductor's C++ compiler): count it.
    usages = map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(r.ru_utime + r.ru_stime for r in usages)


def first_call(run, clock):
    """Seconds (clock, wall) of ``run()``'s first call: building, tracing and compiling included."""
    tick = _cpu_with_children if clock == "cpu" else time.perf_counter
    t0, w0 = tick(), time.perf_counter()
    run()
    return tick() - t0, time.perf_counter() - w0


def baseline_run(function, work, epochs):
    def run():
        return function(work.X, work.Y, work.layer_sizes, epochs=epochs, **work.options())

    return run


def flops_per_step(work):
    """Floating-point operations of one model-step (matrix products plus elementwise work)."""
    sizes, b = work.layer_sizes, (work.batch_size or work.m)
    L = len(sizes) - 1
    products = sum(2 * sizes[l] * sizes[l - 1] * b for l in range(1, L + 1))
    total = 2 * products + sum(2 * sizes[l] * sizes[l - 1] * b for l in range(2, L + 1))
    hidden = sum(sizes[1:-1]) * b
    total += hidden * (4 + (4 if work.keep_prob < 1 else 0)) + sizes[-1] * b * 9
    n_params = sum(sizes[l] * (sizes[l - 1] + 1) for l in range(1, L + 1))
    n_weights = sum(sizes[l] * sizes[l - 1] for l in range(1, L + 1))
    total += n_params * (12 if work.optimizer == "adam" else 2) + (2 * n_weights if work.lambd else 0)
    return total


def matmul_rate(clock, n=768, repeats=5):
    """Single-core double-precision matrix multiply rate, FLOP/s (median of repeats)."""
    g = np.random.default_rng(0)
    a, b = g.standard_normal((n, n)), g.standard_normal((n, n))
    out = np.empty((n, n))
    np.matmul(a, b, out=out)
    tick = _clock(clock)
    rates = []
    for _ in range(repeats):
        t0 = tick()
        np.matmul(a, b, out=out)
        rates.append(2 * n**3 / (tick() - t0))
    return float(np.median(rates))


# ---------------------------------------------------------------------------
# The knee: cost per model-step against chunk size


def knee(work, clock, n_models, chunk_sizes, epochs, repeats):
    arch = network.Architecture(work.layer_sizes, "relu", "softmax" if work.softmax else "sigmoid")
    width = work.batch_size or work.m
    per_model = fused.working_set(arch, width)
    saved = fused.CHUNK_BYTES

    def timer(size):
        run = engine_run(work, n_models, epochs)

        def timed():
            fused.CHUNK_BYTES = size * per_model
            try:
                return time_once(run, clock)
            finally:
                fused.CHUNK_BYTES = saved

        return timed

    results = interleaved({size: timer(size) for size in chunk_sizes}, repeats)
    rows = []
    for size, (per, _) in results.items():
        rows.append({
            "chunk": size, "working_set_kib": round(size * per_model / 1024, 1),
            "us_per_model_step": float(np.median(per)), "spread": [float(min(per)), float(max(per))],
        })
        print(f"  knee {work.name} chunk {size:4d} ({size * per_model / 1024:8.1f} KiB): "
              f"{np.median(per):7.2f} us/model-step", flush=True)
    return rows


# ---------------------------------------------------------------------------
# The whole process


def whole_process(clock, epochs):
    """``nnstudy train --seeds 0-31`` on the circles generator, as a separate process."""
    command = [
        str(Path(sys.executable).parent / "nnstudy"), "train", "--dataset", "circles", "--layers", "10,5",
        "--optimizer", "gd", "--learning-rate", "0.01", "--epochs", str(epochs), "--seeds", "0-31",
        "--eval-every", "1000",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    splits = datasets.make_dataset("circles", 0, None, 0.2, 0.2)
    m = splits.X_train.shape[1]
    model_steps = 32 * epochs
    seconds = cpu if clock == "cpu" else wall
    return {
        "command": " ".join(command[1:]),
        "samples": m,
        "seconds": seconds,
        "wall_seconds": wall,
        "us_per_model_step": seconds / model_steps * 1e6,
        "last_line": output.strip().splitlines()[-1],
    }


# ---------------------------------------------------------------------------
# Report


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "platform": platform.platform(),
        "load_average": os.getloadavg(), "pinned_to_cores": sorted(os.sched_getaffinity(0)),
    }


def markdown(report):
    lines = [
        f"Run {report['date']} on {report['machine']['cpu']} ({report['machine']['cores']} cores, "
        f"load average at start {report['machine']['load_average'][0]:.1f}), NumPy "
        f"{report['machine']['numpy']}, one thread on core {','.join(map(str, report['machine']['pinned_to_cores']))}, "
        f"{report['clock']} time, median of "
        f"{report['repeats']} repeats. Matrix-multiply rate {report['matmul_gflops']:.1f} GFLOP/s.",
        "",
        "| workload | implementation | us / model-step | spread (min-max) | workload s / model "
        "| ratio to ours (S=32) | x floor |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for work in report["workloads"]:
        ours = work["ours_s32"]
        for row in work["rows"]:
            if row.get("skipped"):
                lines.append(f"| {work['name']} | {row['implementation']} | n/a | | | | {row['skipped']} |")
                continue
            us = row["us_per_model_step"]
            lines.append(
                f"| {work['name']} | {row['implementation']} | {us:.1f} | {row['spread'][0]:.1f}-"
                f"{row['spread'][1]:.1f} | {row['workload_seconds']:.2f} | {us / ours:.2f} "
                f"| {us / work['floor_us']:.1f} |"
            )
        lines.append(
            f"| {work['name']} | *arithmetic floor* | {work['floor_us']:.2f} | | "
            f"{work['floor_us'] * work['steps'] / 1e6:.3f} | {work['floor_us'] / ours:.2f} | 1.0 |"
        )
    lines += peers_markdown(report)
    if report.get("process"):
        p = report["process"]
        lines += ["", f"Whole process, `nnstudy {p['command']}` ({p['samples']} samples): "
                  f"{p['seconds']:.1f} s {report['clock']} ({p['wall_seconds']:.1f} s wall), "
                  f"{p['us_per_model_step']:.1f} us per model-step including start-up."]
    if report.get("tuning"):
        lines += [
            "", f"Tuning batch, S = {report['tuning'][0]['models']}: every model its own learning rate, "
            "beta1, beta2, epsilon, L2 strength and keep probability, against one set shared by all "
            "(interleaved, same workload, us per model-step, medians; the ratio is the median of each "
            "round's ratio):", "",
            "| workload | settings | per-model | shared | ratio |", "|---|---|---:|---:|---:|",
        ]
        for row in report["tuning"]:
            lines.append(f"| {row['workload']} | {row['settings']} | {row['per_model_us']:.2f} "
                         f"| {row['shared_us']:.2f} | {row['ratio']:.3f} |")
    if report.get("knee"):
        lines += ["", "Cost per model-step against chunk size (models trained together):", ""]
        for name, rows in report["knee"].items():
            cells = ", ".join(f"{r['chunk']}: {r['us_per_model_step']:.1f}" for r in rows)
            lines.append(f"- {name} (KiB per model {rows[0]['working_set_kib']:.1f}): {cells}")
    return "\n".join(lines) + "\n"


def peers_markdown(report):
    """The engine and the compiled peers at each S: warm, cold, and their ratios to the engine."""
    if all(row["implementation"] == "ours" for work in report["workloads"] for row in work.get("peers", [])):
        return []  # --no-peers: the engine alone
    lines = [
        "", "Compiled peers beside the engine, same run. Warm: median per model-step of later calls; "
        "cold: the whole workload's cost per model-step when a job pays the first call's building, "
        "tracing and compilation once (warm + compile s / (S x workload steps)). Ratios are to ours at "
        "the same S (above 1: slower than ours).", "",
        "| workload | S | implementation | warm us / model-step | spread (min-max) | compile s "
        "| cold us / model-step | warm ratio to ours | cold ratio to ours |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for work in report["workloads"]:
        ours = {row["models"]: row for row in work.get("peers", []) if row["implementation"] == "ours"}
        for row in work.get("peers", []):
            if row.get("skipped"):
                lines.append(f"| {work['name']} | | {row['implementation']} | n/a | | | | | {row['skipped']} |")
                continue
            base = ours[row["models"]]
            lines.append(
                f"| {work['name']} | {row['models']} | {row['implementation']} | {row['us_per_model_step']:.1f} "
                f"| {row['spread'][0]:.1f}-{row['spread'][1]:.1f} | {row['compile_seconds']:.2f} "
                f"| {row['cold_us_per_model_step']:.1f} | {row['us_per_model_step'] / base['us_per_model_step']:.2f} "
                f"| {row['cold_us_per_model_step'] / base['cold_us_per_model_step']:.2f} |"
            )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows (a smoke test)")
    parser.add_argument("--only", action="append", help="run only this workload (repeatable)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--no-process", action="store_true", help="skip the whole-process run")
    parser.add_argument("--no-knee", action="store_true", help="skip the chunk-size sweep")
    parser.add_argument("--no-tuning", action="store_true", help="skip the per-model hyperparameter batch")
    parser.add_argument("--no-peers", action="store_true", help="skip the compiled peers (JAX, torch.func)")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    start = time.perf_counter()

    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
        print("PyTorch not installed (pip install -e '.[bench]'): skipping it", flush=True)

    missing_peers = {} if args.no_peers else peers.missing()
    if missing_peers:
        print(f"Compiled peers skipped, not installed: {', '.join(sorted(missing_peers))} "
              "(pip install -e '.[bench]')", flush=True)

    clock = args.clock
    rate = matmul_rate(clock)
    print(f"matmul rate {rate / 1e9:.1f} GFLOP/s", flush=True)
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(), "clock": clock, "repeats": args.repeats,
        "matmul_gflops": rate / 1e9, "workloads": [], "knee": {},
    }
    selected = [w for w in workloads(args.quick) if not args.only or w.name in args.only]
    for work in selected:
        print(f"{work.name}: {work.description}", flush=True)
        floor_us = flops_per_step(work) / rate * 1e6
        entry = {
            "name": work.name, "description": work.description, "steps": work.steps,
            "flops_per_model_step": flops_per_step(work), "floor_us": floor_us,
            "window_epochs": work.window_epochs, "notes": work.notes, "rows": [],
        }
        epochs = work.window_epochs
        timers = {}
        first_calls = {}  # (implementation, S) -> first call (clock s, wall s)
        for S in BATCH_SIZES:
            run = engine_run(work, S, epochs)
            first_calls["ours", S] = first_call(run, clock)  # also the warm-up
            timers[f"ours S={S}"] = lambda run=run: time_once(run, clock)
        for name, (library, build, sizes) in ({} if args.no_peers else peers.PEERS).items():
            if library in missing_peers:
                entry.setdefault("peers", []).append({"implementation": name, "skipped": f"{library} not installed"})
                continue
            for S in sizes:
                run = peer_run(build, work, S, epochs)
                first_calls[name, S] = first_call(run, clock)
                print(f"  {name} S={S}: first call {first_calls[name, S][0]:.2f} s", flush=True)
                timers[f"{name} S={S}"] = lambda run=run: time_once(run, clock)
        others = [("course-style NumPy", baselines.course_loop)]
        if work.name == "circles":
            others.append(("preallocated NumPy", baselines.preallocated_loop))
        if have_torch:
            others.append(("PyTorch eager", baselines.torch_loop))
        else:
            entry["rows"].append({"implementation": "PyTorch eager", "skipped": "not installed"})
        if work.keep_prob < 1:
            entry["rows"].append({"implementation": "scikit-learn MLP", "skipped": "no dropout"})
        else:
            others.append(("scikit-learn MLP", baselines.sklearn_fit))
        for name, function in others:
            run = baseline_run(function, work, epochs)
            run()  # warm-up: imports, first allocations, BLAS start-up
            timers[name] = lambda run=run: time_once(run, clock)
        measured = interleaved(timers, args.repeats)
        for name, (per, wall) in measured.items():
            us = float(np.median(per))
            row = {
                "implementation": name, "us_per_model_step": us, "spread": [float(min(per)), float(max(per))],
                "repeats": [float(v) for v in per], "wall_us_per_model_step": float(np.median(wall)),
                "workload_seconds": us * work.steps / 1e6,
            }
            if not name.startswith(tuple(peers.PEERS)):
                entry["rows"].append(row)
            print(f"  {name:22s} {us:9.2f} us/model-step  (spread {min(per):.2f}-{max(per):.2f})", flush=True)
        entry["ours_s32"] = next(r["us_per_model_step"] for r in entry["rows"] if r["implementation"] == "ours S=32")
        entry.setdefault("peers", [])
        for (implementation, S), (first, first_wall) in sorted(first_calls.items(), key=lambda item: item[0][1]):
            per, wall = measured[f"{implementation} S={S}"]
            us = float(np.median(per))
            # What the first call paid beyond a warm call of the same window, spread over a whole workload.
            compile_seconds = max(0.0, first - us * S * epochs * work.steps_per_epoch / 1e6)
            entry["peers"].append({
                "implementation": implementation, "models": S, "us_per_model_step": us,
                "spread": [float(min(per)), float(max(per))], "repeats": [float(v) for v in per],
                "wall_us_per_model_step": float(np.median(wall)),
                "first_call_seconds": first, "first_call_wall_seconds": first_wall,
                "compile_seconds": compile_seconds,
                "cold_us_per_model_step": us + compile_seconds / (S * work.steps) * 1e6,
            })
        report["workloads"].append(entry)

    if not args.no_knee:
        # workload -> (models, window epochs): enough models for the largest
        # chunk to hold several MiB, well past the 2 MiB L2 cache.
        sweeps = {"circles": (64, 40), "moons": (256, 10), "digits": (32, 4)}
        for work in selected:
            if work.name in sweeps:
                n_models, epochs = sweeps[work.name]
                epochs = max(2, epochs // (4 if args.quick else 1))
                sizes = [2**k for k in range(int(math.log2(n_models)) + 1)]
                report["knee"][work.name] = knee(work, clock, n_models, sizes, epochs, args.repeats)
    if not args.no_tuning:
        report["tuning"] = [
            tuning_batch(work, clock, args.repeats, args.quick) for work in selected if work.name in TUNING_WORKLOADS
        ]
    if not args.no_process:
        epochs = 3000 if args.quick else 15000
        report["process"] = whole_process(clock, epochs)
        print(f"whole process: {report['process']['us_per_model_step']:.2f} us/model-step", flush=True)

    report["seconds"] = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "latest.md").write_text(markdown(report))
    print(markdown(report))
    print(f"wrote {out / 'latest.json'} and {out / 'latest.md'} in {report['seconds']:.0f} s")


if __name__ == "__main__":
    main()
