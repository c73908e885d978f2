"""Time one training epoch: sknumpynet vs scikit-learn's MLP vs a GEMM-only floor.

Run from the repository root::

    python benchmarks/bench_epoch.py              # everything (~8 min, 1 GB RAM)
    python benchmarks/bench_epoch.py --quick      # ~1 minute smoke run
    python benchmarks/bench_epoch.py --threads 2  # BLAS on two threads
    python benchmarks/bench_epoch.py --memory --cases none  # memory case only

What is measured (see benchmarks/README.md for the long version):

* Three contestants, run back to back ("A B C  A B C ...") for every repeat:
  A = sknumpynet, B = scikit-learn's MLPClassifier/MLPRegressor with identical
  hyper-parameters, C = the "GEMM floor": exactly the matrix products one epoch
  of that network needs (per batch: ``a @ W`` for every layer, ``a.T @ delta``
  for every layer, ``delta @ W.T`` for every layer but the first) into
  preallocated outputs, and nothing else. Interleaving means a slow moment of
  the shared machine hits all three, so the *ratios* are what to read; they are
  medians over repeats of the per-repeat ratios.
* BLAS threads are pinned with threadpoolctl (1 by default).
* The memory case fits 2,000,000 x 50 float32 samples, each fit in a fresh
  process, and reports the extra peak resident / anonymous memory of ``fit``.

Timings are for humans comparing implementations; they never go into tests.
"""

import argparse
import contextlib
import gc
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
import sklearn
from _report import cpu_model, format_table
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_info, threadpool_limits

import sknumpynet
from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor

MIB = 1024.0**2
MEMORY_TARGET_MIB = 100.0
FLOAT32_TARGET = 1.8


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    description: str
    kind: str  # "classifier" or "regressor"
    hidden: tuple
    batch_size: int
    n_full: int  # samples of the full run
    n_quick: int  # samples of --quick (the data set subsampled)
    # Fits run epoch_scale times --epochs epochs: an epoch of the digits lasts
    # a few ms, too short a window to time on a noisy machine.
    epoch_scale: int = 1

    def target(self, activation):
        """(minimum speedup, maximum sknumpynet/floor or None) for one row."""
        if self.key == "b":
            return (1.3 if activation == "relu" else 1.2), 1.25
        return 2.5, None

    def load(self, quick):
        n = self.n_quick if quick else self.n_full
        if self.key == "a":
            X, y = load_digits(return_X_y=True)
            X = X / 16.0
        elif self.key == "b":
            X, y = make_classification(
                n_samples=n,
                n_features=100,
                n_informative=30,
                n_classes=10,
                random_state=0,
            )
        else:
            X, y = make_regression(n_samples=n, n_features=20, random_state=0)
            y = (y - y.mean()) / y.std()
        return X, y


CASES = {
    "a": Case(
        key="a",
        description="load_digits 1797x64 (X/16), 10 classes",
        kind="classifier",
        hidden=(64,),
        batch_size=32,
        n_full=1797,
        n_quick=1797,
        epoch_scale=5,
    ),
    "b": Case(
        key="b",
        description="make_classification 50000x100, 30 informative, 10 classes",
        kind="classifier",
        hidden=(256, 256),
        batch_size=256,
        n_full=50_000,
        n_quick=10_000,
    ),
    "c": Case(
        key="c",
        description="make_regression 200000x20, y standardized",
        kind="regressor",
        hidden=(64,),
        batch_size=128,
        n_full=200_000,
        n_quick=50_000,
    ),
}
DTYPES = (np.float64, np.float32)
SOLVERS = ("sgd", "adam")
ACTIVATIONS = ("logistic", "relu")


def estimator_pair(kind):
    if kind == "classifier":
        return NumpyMLPClassifier, MLPClassifier
    return NumpyMLPRegressor, MLPRegressor


def fit_params(hidden, batch_size, solver, activation, epochs):
    """Hyper-parameters shared, identically, by both packages."""
    return dict(
        hidden_layer_sizes=hidden,
        activation=activation,
        solver=solver,
        batch_size=batch_size,
        max_iter=epochs,
        # No early stop: tol=0 and an infinite patience, so exactly `epochs`.
        tol=0.0,
        n_iter_no_change=np.inf,
        shuffle=True,
        random_state=0,
        # verbose prints one "Iteration N, loss = ..." line per epoch, which
        # the epoch clock below timestamps.
        verbose=True,
    )


# ---------------------------------------------------------------------------
# Timing an epoch
# ---------------------------------------------------------------------------


class _EpochClock(io.TextIOBase):
    """A stand-in stdout that timestamps each epoch's "Iteration N" line.

    Both packages print ``"Iteration %d, loss = %.8f"`` right after finishing
    an epoch (with ``verbose=True``) and nothing else in these fits.
    """

    def __init__(self):
        super().__init__()
        self.stamps = []

    def writable(self):
        return True

    def write(self, text):
        if text.startswith("Iteration"):
            self.stamps.append(time.perf_counter())
        return len(text)


def time_epoch_fit(estimator, X, y, epochs):
    """Per-epoch seconds of ``estimator.fit(X, y)`` run for ``epochs`` epochs.

    How setup cost is kept out: the fit runs ``epochs`` epochs and the time is
    taken between the end-of-epoch lines of epoch 1 and epoch ``epochs``,
    divided by ``epochs - 1``. Everything before the first epoch ends (input
    validation, target encoding, weight init, first allocation of the work
    buffers, cold caches) and everything after the last (attribute
    bookkeeping) is outside the window; what is inside is exactly the
    steady-state epoch loop of the package: shuffle, gather every batch,
    forward, loss, backward, optimizer step, end-of-epoch bookkeeping. This is
    cleaner than total fit time / E, whose setup share depends on E and the
    data size; it costs one discarded (warm-up) epoch per fit.
    """
    clock = _EpochClock()
    gc.collect()
    with contextlib.redirect_stdout(clock), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    if len(clock.stamps) != epochs:
        raise RuntimeError(
            f"{type(estimator).__name__} ran {len(clock.stamps)} epochs, "
            f"expected {epochs}"
        )
    return (clock.stamps[-1] - clock.stamps[0]) / (epochs - 1)


class GemmFloor:
    """Exactly the matrix products of one training epoch, nothing else.

    Per batch: the forward product ``a @ W`` for every layer, the
    weight-gradient product ``a.T @ delta`` for every layer and the backprop
    product ``delta @ W.T`` for every layer but the first, each with
    ``np.dot(..., out=...)`` into buffers allocated once, in the data's dtype,
    with the epoch's batch sizes (the last, shorter batch included). No
    activation, loss, intercept, gather or optimizer step. The input buffer is
    filled once with real rows of X (the engine, too, gathers every batch into
    one reused buffer); the output-layer deltas are random and fixed; weights
    are Glorot-scaled so the chained products stay O(1).
    """

    def __init__(self, X, layer_units, batch_size, seed=0):
        rng = np.random.default_rng(seed)
        dtype = X.dtype
        self.n_samples = X.shape[0]
        self.batch_size = batch_size
        shapes = list(zip(layer_units[:-1], layer_units[1:]))
        self.coefs = []
        for fan_in, fan_out in shapes:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            self.coefs.append(
                rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)
            )
        self.grads = [np.empty(shape, dtype) for shape in shapes]
        activations = [np.ascontiguousarray(X[:batch_size], dtype=dtype)]
        activations += [np.empty((batch_size, n), dtype) for n in layer_units[1:]]
        deltas = [
            rng.standard_normal((batch_size, n)).astype(dtype) for n in layer_units[1:]
        ]
        # Views for the full batch and for the short last batch, made once.
        sizes = {min(batch_size, self.n_samples), self.n_samples % batch_size}
        self.views = {
            size: ([a[:size] for a in activations], [d[:size] for d in deltas])
            for size in sizes
            if size
        }

    def epoch(self):
        coefs, grads = self.coefs, self.grads
        n_layers = len(coefs)
        n, batch_size = self.n_samples, self.batch_size
        for start in range(0, n, batch_size):
            a, d = self.views[min(batch_size, n - start)]
            for i in range(n_layers):
                np.dot(a[i], coefs[i], out=a[i + 1])
            for i in range(n_layers - 1, -1, -1):
                np.dot(a[i].T, d[i], out=grads[i])
                if i:
                    np.dot(d[i], coefs[i].T, out=d[i - 1])

    def time_epoch(self, epochs):
        """Per-epoch seconds over ``epochs`` epochs (already warmed up)."""
        gc.collect()
        start = time.perf_counter()
        for _ in range(epochs):
            self.epoch()
        return (time.perf_counter() - start) / epochs


def run_group(case, X, y, solver, activation, epochs, repeats, progress):
    """Time one (case, solver, activation) for both dtypes, interleaved.

    Every repeat runs sknumpynet, scikit-learn, floor for float64, then the
    same for float32, so the float64/float32 ratio is paired too.
    """
    ours_cls, theirs_cls = estimator_pair(case.kind)
    params = fit_params(case.hidden, case.batch_size, solver, activation, epochs)
    n_outputs = len(np.unique(y)) if case.kind == "classifier" else 1
    layer_units = [X.shape[1], *case.hidden, n_outputs]
    data, floors = {}, {}
    for dtype in DTYPES:
        Xd = np.ascontiguousarray(X, dtype=dtype)
        yd = y.astype(dtype) if case.kind == "regressor" else y
        data[dtype] = (Xd, yd)
        floors[dtype] = GemmFloor(Xd, layer_units, case.batch_size)
        floors[dtype].epoch()  # warm-up, as the fits discard their first epoch
    times = {dtype: {"ours": [], "sklearn": [], "floor": []} for dtype in DTYPES}
    for repeat in range(repeats):
        for dtype in DTYPES:
            Xd, yd = data[dtype]
            t = times[dtype]
            t["ours"].append(time_epoch_fit(ours_cls(**params), Xd, yd, epochs))
            t["sklearn"].append(time_epoch_fit(theirs_cls(**params), Xd, yd, epochs))
            t["floor"].append(floors[dtype].time_epoch(epochs - 1))
        progress(
            f"  case {case.key} {solver:4s} {activation:8s} repeat "
            f"{repeat + 1}/{repeats}"
        )
    rows = []
    for dtype in DTYPES:
        t = {k: np.asarray(v) for k, v in times[dtype].items()}
        rows.append(
            dict(
                case=case.key,
                dtype=np.dtype(dtype).name,
                solver=solver,
                activation=activation,
                ours=np.median(t["ours"]),
                sklearn=np.median(t["sklearn"]),
                floor=np.median(t["floor"]),
                # Medians of the per-repeat (paired) ratios.
                speedup=np.median(t["sklearn"] / t["ours"]),
                floor_ratio=np.median(t["ours"] / t["floor"]),
            )
        )
    ratio32 = np.median(
        np.asarray(times[np.float64]["ours"]) / np.asarray(times[np.float32]["ours"])
    )
    return rows, ratio32


# ---------------------------------------------------------------------------
# Memory case
# ---------------------------------------------------------------------------

MEMORY_SHAPE = (2_000_000, 50)
MEMORY_CLASSES = 10
MEMORY_RUNS = (
    ("sknumpynet", "in memory"),
    ("scikit-learn", "in memory"),
    ("sknumpynet", "memmap"),
)


def read_status():
    """Current VmRSS, RssAnon and VmHWM of this process, in bytes."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


class PeakSampler(threading.Thread):
    """Polls /proc/self/status every ``interval`` s, keeping peak VmRSS/RssAnon."""

    def __init__(self, interval=0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.done = threading.Event()
        self.peak_rss = self.peak_anon = 0

    def sample(self):
        status = read_status()
        self.peak_rss = max(self.peak_rss, status["VmRSS"])
        self.peak_anon = max(self.peak_anon, status["RssAnon"])

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)

    def stop(self):
        self.done.set()
        self.join()
        self.sample()


def write_memory_data(directory, seed=0, chunk=100_000):
    """Write X (float32) and y (int64) as .npy files, X chunk by chunk.

    Labels come from a random linear rule, argmax(X @ W), so generating never
    needs more than a chunk of X in memory.
    """
    rng = np.random.default_rng(seed)
    n_samples, n_features = MEMORY_SHAPE
    x_path = os.path.join(directory, "X.npy")
    y_path = os.path.join(directory, "y.npy")
    W = rng.standard_normal((n_features, MEMORY_CLASSES)).astype(np.float32)
    X = np.lib.format.open_memmap(
        x_path, mode="w+", dtype=np.float32, shape=MEMORY_SHAPE
    )
    y = np.empty(n_samples, dtype=np.int64)
    for start in range(0, n_samples, chunk):
        block = rng.standard_normal((min(chunk, n_samples - start), n_features))
        block = block.astype(np.float32)
        X[start : start + len(block)] = block
        y[start : start + len(block)] = np.argmax(block @ W, axis=1)
    X.flush()
    del X
    np.save(y_path, y)
    return x_path, y_path


def memory_child(impl, variant, x_path, y_path, threads):
    """One measurement, in a fresh process; prints a JSON line."""
    with threadpool_limits(limits=threads):
        X = np.load(x_path, mmap_mode="r" if variant == "memmap" else None)
        y = np.load(y_path)
        cls = NumpyMLPClassifier if impl == "sknumpynet" else MLPClassifier
        params = fit_params((64,), 256, "adam", "logistic", epochs=1)
        params["verbose"] = False
        estimator = cls(**params)
        gc.collect()
        # The kernel's own high-water mark, reset here (write 5 to clear_refs,
        # Linux >= 4.0), cross-checks the 5 ms sampler.
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
            hwm_reset = True
        except OSError:
            hwm_reset = False
        before = read_status()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        seconds = time.perf_counter() - start
        sampler.stop()
        after = read_status()
    result = dict(
        impl=impl,
        variant=variant,
        seconds=seconds,
        rss_before=before["VmRSS"] / MIB,
        extra_rss=(sampler.peak_rss - before["VmRSS"]) / MIB,
        extra_anon=(sampler.peak_anon - before["RssAnon"]) / MIB,
        extra_hwm=(after["VmHWM"] - before["VmRSS"]) / MIB if hwm_reset else None,
    )
    print(json.dumps(result))


def run_memory(threads, tmpdir, progress):
    directory = tempfile.mkdtemp(prefix="bench_epoch_", dir=tmpdir)
    try:
        progress(f"memory case: writing {MEMORY_SHAPE} float32 to {directory}")
        x_path, y_path = write_memory_data(directory)
        results = []
        for impl, variant in MEMORY_RUNS:
            progress(f"memory case: {impl}, X {variant} (fresh process)")
            command = [
                sys.executable,
                os.path.abspath(__file__),
                "--threads",
                str(threads),
                "--_memory-child",
                impl,
                variant,
                x_path,
                y_path,
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"memory child failed:\n{done.stderr}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        return results
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def machine_lines(threads):
    lines = [
        f"platform: {platform.platform()}, Python {platform.python_version()}",
        f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs",
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"sknumpynet {sknumpynet.__version__}",
    ]
    with threadpool_limits(limits=threads):
        for info in threadpool_info():
            if info.get("user_api") != "blas":
                continue
            lines.append(
                f"BLAS: {info.get('internal_api')} {info.get('version')} "
                f"({info.get('architecture')}, {info.get('threading_layer')}), "
                f"{os.path.basename(info.get('filepath', ''))}, "
                f"num_threads={info.get('num_threads')}"
            )
    lines.append(f"BLAS threads pinned to {threads} (threadpoolctl.threadpool_limits)")
    return lines


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report_timings(rows, ratios32, markdown):
    header = [
        "case",
        "dtype",
        "solver",
        "activation",
        "sknumpynet ms",
        "sklearn ms",
        "floor ms",
        "speedup",
        "floor ratio",
        "target",
        "result",
    ]
    table, n_pass, n_checks = [], 0, 0
    order = {name: i for i, name in enumerate(("float64", "float32"))}
    rows = sorted(
        rows,
        key=lambda r: (r["case"], order[r["dtype"]], r["solver"], r["activation"]),
    )
    for r in rows:
        min_speedup, max_floor = CASES[r["case"]].target(r["activation"])
        ok = r["speedup"] >= min_speedup
        target = f"speedup>={min_speedup}"
        if max_floor is not None:
            ok = ok and r["floor_ratio"] <= max_floor
            target += f", floor<={max_floor}"
        n_pass += ok
        n_checks += 1
        table.append(
            [
                r["case"],
                r["dtype"],
                r["solver"],
                r["activation"],
                f"{1e3 * r['ours']:.1f}",
                f"{1e3 * r['sklearn']:.1f}",
                f"{1e3 * r['floor']:.1f}",
                f"{r['speedup']:.2f}",
                f"{r['floor_ratio']:.2f}",
                target,
                verdict(ok),
            ]
        )
    print(format_table(header, table, markdown))
    if ratios32:
        print()
        print("case b, sknumpynet float64 time / float32 time:")
        print()
        table32 = []
        for (solver, activation), ratio in sorted(ratios32.items()):
            ok = ratio >= FLOAT32_TARGET
            n_pass += ok
            n_checks += 1
            table32.append(
                [solver, activation, f"{ratio:.2f}", f">={FLOAT32_TARGET}", verdict(ok)]
            )
        print(
            format_table(
                ["solver", "activation", "f64/f32", "target", "result"],
                table32,
                markdown,
            )
        )
    return n_pass, n_checks


def report_memory(results, markdown):
    header = [
        "fit",
        "X",
        "fit s",
        "RSS before MiB",
        "extra peak RSS MiB",
        "extra VmHWM MiB",
        "extra peak anon MiB",
        "target",
        "result",
    ]
    table, n_pass, n_checks = [], 0, 0
    for r in results:
        if r["impl"] != "sknumpynet":
            target, result = "-", "-"
        else:
            # In memory, every new byte is anonymous: extra RSS is the measure.
            # From a memmap, the file's pages count in RSS but are not a copy:
            # extra anonymous memory is the honest measure.
            key = "extra_rss" if r["variant"] == "in memory" else "extra_anon"
            label = "RSS" if key == "extra_rss" else "anon"
            ok = r[key] <= MEMORY_TARGET_MIB
            target = f"{label}<={MEMORY_TARGET_MIB:.0f}"
            result = verdict(ok)
            n_pass += ok
            n_checks += 1
        hwm = "n/a" if r["extra_hwm"] is None else f"{r['extra_hwm']:.1f}"
        table.append(
            [
                r["impl"],
                r["variant"],
                f"{r['seconds']:.1f}",
                f"{r['rss_before']:.1f}",
                f"{r['extra_rss']:.1f}",
                hwm,
                f"{r['extra_anon']:.1f}",
                target,
                result,
            ]
        )
    n, d = MEMORY_SHAPE
    print(
        f"Memory: {n} x {d} float32 ({n * d * 4 / MIB:.0f} MiB), "
        f"{MEMORY_CLASSES} classes, hidden (64,), batch 256, adam, one epoch; "
        "each fit in a fresh process."
    )
    print()
    print(format_table(header, table, markdown))
    print()
    print(
        "extra = peak during fit - value just before fit (X and y already loaded).\n"
        "RSS = VmRSS sampled every 5 ms by a thread; VmHWM = the kernel's peak RSS,\n"
        "reset just before fit (a cross-check of the sampler); anon = RssAnon, the\n"
        "memory the process allocated itself. Pages of a memmapped file that fit\n"
        "reads count in VmRSS (as RssFile: page cache, shared and reclaimable) but\n"
        "not in RssAnon, so for the memmap row extra anon is the honest answer to\n"
        "'does fit copy the data into memory?'."
    )
    return n_pass, n_checks


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and epochs, cases b and c subsampled (~1 minute); "
        "no memory case unless --memory",
    )
    parser.add_argument(
        "--cases",
        default=None,
        help="comma-separated subset of a,b,c, or 'none' (default: a,b,c)",
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument(
        "--repeats", type=int, default=None, help="repeats (default 5, quick 3)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs per fit, the first discarded (default 4, quick 2; >= 2)",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print tables as Markdown"
    )
    memory = parser.add_mutually_exclusive_group()
    memory.add_argument(
        "--memory",
        action="store_true",
        default=None,
        help="run the memory case (default only in a full run: neither --quick "
        "nor --cases)",
    )
    memory.add_argument(
        "--no-memory", dest="memory", action="store_false", help="skip it"
    )
    parser.add_argument(
        "--tmpdir", default=None, help="where the memory case writes its data"
    )
    parser.add_argument("--_memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.epochs is None:
        args.epochs = 2 if args.quick else 4
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first one is discarded)")
    if args.memory is None:
        args.memory = not args.quick and args.cases is None
    cases = [c.strip() for c in (args.cases or "a,b,c").split(",") if c.strip()]
    args.cases = [] if cases == ["none"] else cases
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from a, b, c")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args._memory_child:
        memory_child(*args._memory_child, threads=args.threads)
        return

    def progress(message):
        sys.stdout.flush()
        print(message, file=sys.stderr, flush=True)

    title = "sknumpynet epoch benchmark" + (" (--quick)" if args.quick else "")
    print(("## " if args.markdown else "") + title)
    print()
    for line in machine_lines(args.threads):
        print(("- " if args.markdown else "") + line)
    print()

    n_pass = n_checks = 0
    if args.cases:
        print(
            f"Per-epoch time, median of {args.repeats} interleaved repeats "
            "(sknumpynet, scikit-learn,\n"
            "floor, back to back); the first epoch of each fit is discarded as "
            "warm-up.\n"
            "speedup = sklearn / sknumpynet; floor ratio = sknumpynet / GEMM "
            "floor (the epoch's\n"
            "matrix products alone). Ratios are medians of per-repeat ratios."
        )
        print()
        for key in args.cases:
            case = CASES[key]
            n = case.n_quick if args.quick else case.n_full
            sub = f" (subsampled to {n})" if n != case.n_full else ""
            print(
                ("- " if args.markdown else "")
                + f"case {key}: {case.description}{sub}, {case.kind}, hidden "
                f"{case.hidden}, batch {case.batch_size}, "
                f"{args.epochs * case.epoch_scale} epochs per fit"
            )
        print()
        start = time.perf_counter()
        rows, ratios32 = [], {}
        with threadpool_limits(limits=args.threads):
            for key in args.cases:
                case = CASES[key]
                X, y = case.load(args.quick)
                progress(f"case {key}: {X.shape[0]} x {X.shape[1]}")
                for solver in SOLVERS:
                    for activation in ACTIVATIONS:
                        group, ratio32 = run_group(
                            case,
                            X,
                            y,
                            solver,
                            activation,
                            args.epochs * case.epoch_scale,
                            args.repeats,
                            progress,
                        )
                        rows += group
                        if key == "b":
                            ratios32[(solver, activation)] = ratio32
        passed, checked = report_timings(rows, ratios32, args.markdown)
        n_pass, n_checks = n_pass + passed, n_checks + checked
        if args.quick:
            print()
            print(
                "(--quick: cases b and c run on subsampled data and few repeats; "
                "the targets are\nset for the full run, so PASS/FAIL here is "
                "only indicative.)"
            )
        print()
        print(f"timing run: {time.perf_counter() - start:.0f} s")
        print()

    if args.memory:
        results = run_memory(args.threads, args.tmpdir, progress)
        passed, checked = report_memory(results, args.markdown)
        n_pass, n_checks = n_pass + passed, n_checks + checked
        print()

    if n_checks:
        print(f"targets met: {n_pass}/{n_checks}")


if __name__ == "__main__":
    main()
