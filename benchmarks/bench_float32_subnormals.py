"""Do subnormal float32 numbers cause the slow float32 fits of the tabular recipe?

The ablation (``bench_tabular_ablation.py``) found float32 fits of
``TabularMLPClassifier`` much slower without label smoothing or with the
standard parametrization and Glorot initialisation. The suspect is subnormal
(denormal) numbers, ``0 < |x| < np.finfo(np.float32).tiny`` (1.18e-38), whose
arithmetic is slow on many x86 CPUs. This script measures, with BLAS on
one thread, on two synthetic tables of 2000 rows and 20 features
(``make_classification`` with 3 classes, ``make_regression`` with noise):

1. **Fit times**: ``TabularMLPClassifier`` in float32 and float64 for the
   recipe (``full``), without label smoothing (``no-ls``) and with the
   standard parametrization and Glorot init (``standard-glorot``);
   ``TabularMLPRegressor`` for the recipe (``reg-full``) and
   ``reg-standard-glorot``. The ``+flush`` variants are a monkeypatched
   experiment of a possible fix: Adam's moments
   and the gradient flushed to zero below ``tiny``, the output activations
   too, the softmax logits clamped at 80 below their row's largest and the
   pre-activations of Mish layers clamped at -80, so that neither softmax's
   exp nor Mish computes on subnormals. (The package has since fixed its
   softplus, mish and softmax itself, flushing to 0 where ``exp`` would be
   subnormal; ``+flush`` now runs on top of that.) Several repeats
   interleaved, medians, and the ratio of each to the recipe (same
   estimator) in float32.
2. **Where subnormals arise**: one instrumented float32 fit per variant
   (monkeypatched ``sknumpynet._training.make_optimizer`` to capture Adam and
   wrap its ``step``, and ``MLP.loss_and_gradient`` to inspect every batch's
   buffers). For each buffer, the fraction of subnormal entries averaged over
   all steps: the weights, the gradient, Adam's first and second moments,
   ``(1 - beta_2) g^2`` (the increment of the second moment), the hidden
   activations, the output layer and the backpropagated deltas; and the
   share of the hidden pre-activations ``z`` whose ``exp(z)`` is subnormal
   (-103.8 < z <= -87.3) or underflows to 0, which Mish meets.
3. **The mechanism on this CPU**: elementwise float32 operations (``a * b``,
   ``np.sqrt``, Adam's ``m / (sqrt(v) + eps)``, ``exp``, the package's
   ``mish``) and a ``np.dot`` on arrays of
   normal numbers against arrays full of subnormals, and the slowdown factor.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_float32_subnormals.py
    PYTHONPATH=. python benchmarks/bench_float32_subnormals.py --repeats 3 \\
        --epochs 30 --markdown           # tables ready for benchmarks/README.md

About three minutes on one core with the defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import platform
import statistics
import time

import numpy as np
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

import sknumpynet._training as training
from sknumpynet import TabularMLPClassifier, TabularMLPRegressor
from sknumpynet._activations import mish
from sknumpynet._network import MLP

TINY32 = np.finfo(np.float32).tiny


class StandardGlorotClassifier(TabularMLPClassifier):
    """The ablation's ``standard-glorot`` variant."""

    _recipe = {
        **TabularMLPClassifier._recipe,
        "parametrization": "standard",
        "init": "glorot",
    }


class StandardGlorotRegressor(TabularMLPRegressor):
    """The ablation's ``standard-glorot`` variant, for regression."""

    _recipe = {
        **TabularMLPRegressor._recipe,
        "parametrization": "standard",
        "init": "glorot",
    }


#: name -> (estimator class, parameters, flush-to-zero patch)
VARIANTS = {
    "full": (TabularMLPClassifier, {}, False),
    "no-ls": (TabularMLPClassifier, {"label_smoothing": 0.0}, False),
    "no-ls+flush": (TabularMLPClassifier, {"label_smoothing": 0.0}, True),
    "standard-glorot": (StandardGlorotClassifier, {}, False),
    "reg-full": (TabularMLPRegressor, {}, False),
    "reg-standard-glorot": (StandardGlorotRegressor, {}, False),
    "reg-standard-glorot+flush": (StandardGlorotRegressor, {}, True),
}


def subnormal_count(x):
    """Number of subnormal entries of a float32 array (0 for other dtypes)."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        return 0
    magnitude = np.abs(x)
    return int(np.count_nonzero((magnitude < TINY32) & (x != 0)))


def flush(x):
    """Set the subnormal entries of ``x`` to zero, in place."""
    if x.dtype == np.float32:
        x[np.abs(x) < TINY32] = 0.0


#: Pre-activations whose exp is subnormal in float32, and those whose exp
#: underflows to 0: the inputs of Mish (softplus(z) ~ exp(z)) that make it
#: compute on subnormals.
Z_SUBNORMAL = (
    float(np.log(np.float32(np.finfo(np.float32).smallest_subnormal))) - 0.5,
    float(np.log(TINY32)),
)
Z_ZERO = (-np.inf, Z_SUBNORMAL[0])
#: The clamp of the flush experiment: mish(-80) = -80 e^-80 = -1.4e-33, a
#: normal float32, and its derivative is as small.
Z_CLAMP = -80.0


def flush_network(network):
    """The flush experiment on one network: softmax logits clamped at 80
    below their row's largest, output activations below tiny set to 0 after
    the output activation, and the pre-activations of Mish
    layers clamped at :data:`Z_CLAMP` (forward and backward) so that its
    exp, tanh and products never see nor make a subnormal. Wraps the
    network's activation functions on the instance."""
    forward = network.output_forward

    def flushed_output(z):
        if getattr(forward, "__name__", "") == "softmax":
            # Logits more than 80 below the row's largest: exp(-80) = 1.8e-35
            # keeps every probability a normal number (an absolute change
            # below 2e-35).
            floor = np.maximum.reduce(z, axis=1, keepdims=True)
            floor -= z.dtype.type(-Z_CLAMP)
            np.maximum(z, floor, out=z)
        out = forward(z)
        flush(z)
        return out

    network.output_forward = flushed_output
    for i, rule in enumerate(network.hidden_forwards):
        if getattr(rule, "__name__", "") != "mish":
            continue
        f, b = network.hidden_forwards[i], network.hidden_backwards[i]

        def clamped_forward(z, f=f):
            np.maximum(z, z.dtype.type(Z_CLAMP), out=z)
            return f(z)

        def clamped_backward(z, delta, b=b):
            np.maximum(z, z.dtype.type(Z_CLAMP), out=z)
            return b(z, delta)

        clamped_backward.takes_pre_activation = True
        network.hidden_forwards[i] = clamped_forward
        network.hidden_backwards[i] = clamped_backward
    network._flushing = True


class Counter:
    """Subnormal and total entries seen, per buffer name."""

    def __init__(self):
        self.subnormal = {}
        self.total = {}

    def add(self, name, x):
        if x is None:
            return
        self.subnormal[name] = self.subnormal.get(name, 0) + subnormal_count(x)
        self.total[name] = self.total.get(name, 0) + np.asarray(x).size

    def add_band(self, name, z, band):
        """Count the entries of ``z`` in the interval ``band``."""
        low, high = band
        inside = np.count_nonzero((z > low) & (z <= high))
        self.subnormal[name] = self.subnormal.get(name, 0) + int(inside)
        self.total[name] = self.total.get(name, 0) + z.size

    def fraction(self, name):
        return self.subnormal.get(name, 0) / max(self.total.get(name, 0), 1)


@contextlib.contextmanager
def patched(counter=None, flush_to_zero=False):
    """Instrument (``counter``) and/or flush (``flush_to_zero``) the training.

    Patches ``sknumpynet._training.make_optimizer`` (the optimizer's ``step``
    is wrapped on the instance) and ``MLP.loss_and_gradient``; both are
    restored on exit.
    """
    original_make = training.make_optimizer
    original_loss = MLP.loss_and_gradient

    def make_optimizer(*args, **kwargs):
        optimizer = original_make(*args, **kwargs)
        step = optimizer.step

        def wrapped_step(params, grad):
            if flush_to_zero:
                flush(grad)
            if counter is not None:
                counter.add("gradient", grad)
                increment = np.multiply(grad, grad)
                increment *= grad.dtype.type(1 - optimizer.beta_2)
                counter.add("(1 - beta_2) g^2", increment)
            step(params, grad)
            if flush_to_zero:
                flush(optimizer.first_moment)
                flush(optimizer.second_moment)
            if counter is not None:
                counter.add("weights", params)
                counter.add("Adam m (1st moment)", optimizer.first_moment)
                counter.add("Adam v (2nd moment)", optimizer.second_moment)

        optimizer.step = wrapped_step
        return optimizer

    def loss_and_gradient(
        self, X, y, sample_weight, alpha, batch_size=None, masks=None
    ):
        if flush_to_zero and not getattr(self, "_flushing", False):
            flush_network(self)
        loss = original_loss(self, X, y, sample_weight, alpha, batch_size, masks)
        if counter is not None:
            buffers = self._work[batch_size or X.shape[0]]
            rows = X.shape[0]
            *hidden, output = buffers["activations"]
            for a in hidden:
                counter.add("hidden activations", a[:rows])
            counter.add("output layer (probabilities)", output[:rows])
            for z in buffers["pre_activations"]:
                if z is not None:
                    z = z[:rows]
                    counter.add_band("hidden z: exp(z) subnormal", z, Z_SUBNORMAL)
                    counter.add_band("hidden z: exp(z) underflows to 0", z, Z_ZERO)
            *hidden_deltas, output_delta = buffers["deltas"]
            counter.add("output delta (p - y)", output_delta[:rows])
            for d in hidden_deltas:
                counter.add("hidden deltas", d[:rows])
        return loss

    training.make_optimizer = make_optimizer
    MLP.loss_and_gradient = loss_and_gradient
    try:
        yield
    finally:
        training.make_optimizer = original_make
        MLP.loss_and_gradient = original_loss


def make_estimator(variant, dtype, args):
    cls, params, _ = VARIANTS[variant]
    # RealMLP-TD-S, whose plain MLP and ``_recipe`` this study patches.
    return cls(
        n_epochs=args.epochs,
        random_state=args.seed,
        dtype=dtype,
        recipe="td-s",
        **params,
    )


def task_of(variant):
    """The variant's table: "regression" or "classification"."""
    return "regression" if variant.startswith("reg-") else "classification"


def fit_seconds(variant, dtype, data, args):
    X, y = data[task_of(variant)]
    estimator = make_estimator(variant, dtype, args)
    flush_to_zero = VARIANTS[variant][2]
    with (
        patched(flush_to_zero=flush_to_zero)
        if flush_to_zero
        else (contextlib.nullcontext())
    ):
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, estimator.score(X, y)


def time_fits(variants, dtypes, data, args):
    """Median fit seconds and training accuracy per (variant, dtype),
    repeats interleaved so that a noisy neighbour hits every cell alike."""
    seconds = {(v, d): [] for v in variants for d in dtypes}
    scores = {}
    for _ in range(args.repeats):
        for key in seconds:
            s, scores[key] = fit_seconds(*key, data, args)
            seconds[key].append(s)
    return {key: statistics.median(s) for key, s in seconds.items()}, scores


def count_subnormals(variants, data, args):
    """One instrumented float32 fit per variant: a Counter each."""
    counters = {}
    for variant in variants:
        counter = Counter()
        with patched(counter=counter, flush_to_zero=VARIANTS[variant][2]):
            estimator = make_estimator(variant, "float32", args)
            estimator.fit(*data[task_of(variant)])
        counters[variant] = counter
    return counters


def best_seconds(function, repeats=7):
    """The fastest of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def micro_benchmark(n=1_000_000, seed=0):
    """Seconds of float32 operations on normal against subnormal operands."""
    rng = np.random.default_rng(seed)
    normal = rng.uniform(0.5, 1.0, n).astype(np.float32)
    other = rng.uniform(0.5, 1.0, n).astype(np.float32)
    # Subnormal numbers: about 1e-39 to 1e-40.
    sub = (normal * np.float32(1e-39)).astype(np.float32)
    assert subnormal_count(sub) == n
    small = (normal * np.float32(1e-20)).astype(np.float32)  # small^2 subnormal
    out = np.empty(n, np.float32)
    eps = np.float32(1e-8)
    z_normal = rng.uniform(-5.0, 5.0, n).astype(np.float32)
    z_band = rng.uniform(-100.0, -90.0, n).astype(np.float32)
    side = 256
    W = rng.standard_normal((side, side)).astype(np.float32)
    A = rng.uniform(0.5, 1.0, (side, side)).astype(np.float32)
    A_sub = (A * np.float32(1e-39)).astype(np.float32)

    def adam_update(m, v):
        return lambda: np.divide(m, np.sqrt(v, out=out) + eps, out=out)

    cases = [
        (
            "a * b",
            lambda: np.multiply(normal, other, out=out),
            lambda: np.multiply(sub, other, out=out),
            "a subnormal",
        ),
        (
            "g * g (result)",
            lambda: np.multiply(normal, normal, out=out),
            lambda: np.multiply(small, small, out=out),
            "g ~ 1e-20: the product is subnormal",
        ),
        (
            "a + b",
            lambda: np.add(normal, other, out=out),
            lambda: np.add(sub, sub, out=out),
            "both subnormal",
        ),
        (
            "np.sqrt(v)",
            lambda: np.sqrt(normal, out=out),
            lambda: np.sqrt(sub, out=out),
            "v subnormal",
        ),
        (
            "m / (sqrt(v) + eps)",
            adam_update(normal, other),
            adam_update(sub, sub),
            "m, v subnormal",
        ),
        (
            "np.exp(z)",
            lambda: np.exp(-normal, out=out),
            lambda: np.exp(-(normal + np.float32(88.0)), out=out),
            "z in [-89, -88.5]: the result is subnormal",
        ),
        (
            "mish(z)",
            lambda: mish(np.copyto(out, z_normal) or out),
            lambda: mish(np.copyto(out, z_band) or out),
            "z in [-100, -90]: softplus(z), mish(z) subnormal",
        ),
        (
            "np.dot(A, W) 256x256",
            lambda: np.dot(A, W),
            lambda: np.dot(A_sub, W),
            "A subnormal",
        ),
    ]
    rows = []
    with np.errstate(all="ignore"):
        for name, fast, slow, what in cases:
            t_normal = best_seconds(fast)
            t_sub = best_seconds(slow)
            rows.append((name, what, t_normal, t_sub))
    return rows


def print_table(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated, among {', '.join(VARIANTS)}",
    )
    parser.add_argument("--skip-fits", action="store_true", help="micro only")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")

    print(
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}, "
        f"{args.rows} rows, {args.epochs} epochs, {args.repeats} repeats, "
        "BLAS on 1 thread\n"
    )
    with threadpool_limits(1):
        rows = micro_benchmark()
        print("Micro-benchmark: float32, 1e6 elements (dot: 256x256), best of 7")
        print_table(
            [
                "operation",
                "subnormal operands",
                "normal ms",
                "subnormal ms",
                "slowdown",
            ],
            [
                (name, what, f"{1e3 * a:.3f}", f"{1e3 * b:.3f}", f"{b / a:.1f}x")
                for name, what, a, b in rows
            ],
            args.markdown,
        )
        print()
        if args.skip_fits:
            return

        data = {
            "classification": make_classification(
                n_samples=args.rows,
                n_features=20,
                n_informative=10,
                n_classes=3,
                random_state=args.seed,
            ),
            "regression": make_regression(
                n_samples=args.rows,
                n_features=20,
                n_informative=10,
                noise=10.0,
                random_state=args.seed,
            ),
        }
        dtypes = ("float32", "float64")
        medians, scores = time_fits(variants, dtypes, data, args)
        references = {"classification": "full", "regression": "reg-full"}
        print(
            f"Fit seconds (median of {args.repeats}); ratio to full (classifier) "
            "or reg-full (regressor) in float32; training accuracy or R^2"
        )
        table = []
        for v in variants:
            reference = medians.get((references[task_of(v)], "float32"), math.nan)
            f32, f64 = medians[(v, "float32")], medians[(v, "float64")]
            table.append(
                (
                    v,
                    f"{f32:.2f}",
                    f"{f32 / reference:.2f}",
                    f"{f64:.2f}",
                    f"{f64 / reference:.2f}",
                    f"{f32 / f64:.2f}",
                    f"{scores[(v, 'float32')]:.3f} / {scores[(v, 'float64')]:.3f}",
                )
            )
        print_table(
            [
                "variant",
                "float32 s",
                "f32 / full f32",
                "float64 s",
                "f64 / full f32",
                "f32 / f64",
                "score f32 / f64",
            ],
            table,
            args.markdown,
        )
        print()

        counters = count_subnormals(variants, data, args)
        names = []
        for counter in counters.values():
            names += [n for n in counter.total if n not in names]
        print("Fraction of subnormal entries (float32, averaged over all steps)")
        print_table(
            ["buffer", *variants],
            [
                (name, *(f"{counters[v].fraction(name):.2e}" for v in variants))
                for name in names
            ],
            args.markdown,
        )


if __name__ == "__main__":
    main()
