"""Time prediction: sknumpynet vs scikit-learn's MLP vs onnxruntime vs bare NumPy.

Run from the repository root (onnxruntime comes with the ``onnx`` extra)::

    python benchmarks/bench_predict.py             # everything (~2 minutes)
    python benchmarks/bench_predict.py --quick     # ~20 seconds
    python benchmarks/bench_predict.py --markdown  # tables to paste in docs

The model is the one of the serving issue: a digits classifier (X / 16,
hidden (100,), relu), fitted by both packages with the same parameters and
seed, in float64 and float32. Each case times, back to back in one loop
("A B C D  A B C D ..."), so that a slow moment of the shared machine hits
all of them:

* ``sklearn``: scikit-learn's ``MLPClassifier.predict``;
* ``sknumpynet``: ``NumpyMLPClassifier.predict`` (after one warm-up call,
  as a served model is warm);
* ``onnxruntime``: the sknumpynet model exported with skl2onnx (labels and
  probabilities, ``zipmap=False``), one intra-op thread, input of the
  model's precision;
* ``bare``: the arithmetic alone, ``softmax(relu(X W0 + b0) W1 + b1)`` then
  ``argmax``, written in NumPy with nothing around it.

The tabular estimators get a table of their own (``--only tabular``): a
raw frame of 2,000 training rows (eight numeric columns with 10% NaN, three
string columns with missing values, two categorical columns, one boolean),
and, on the same frame, for a classifier and a regressor:

* ``sknumpynet``: ``TabularMLPClassifier`` / ``TabularMLPRegressor`` with
  their defaults (3 x 256, float32), warm;
* ``sklearn MLP``: scikit-learn's careful pipeline, a ColumnTransformer of
  SimpleImputer + StandardScaler (numbers) and SimpleImputer +
  OneHotEncoder (the rest), then ``MLPClassifier`` / ``MLPRegressor`` of the
  same hidden sizes;
* ``HGB``: ``HistGradientBoostingClassifier`` / ``Regressor`` after an
  OrdinalEncoder of the non-numeric columns (its categorical features);
* ``preprocess``: the fitted ``TabularPreprocessor.transform`` alone;
* ``bare``: the forward pass alone, in NumPy, on the already preprocessed
  matrix with the effective weights already computed.

Every library runs on one thread (threadpoolctl for BLAS; onnxruntime's
session options). Times are medians; the ratios are medians of per-round
ratios. Timings are for humans; they never go into tests.
"""

import argparse
import platform
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import sknumpynet
from sknumpynet import NumpyMLPClassifier, register_onnx_converters

TARGETS = {
    "1 row": {"vs sklearn": 5.0, "vs onnxruntime": 3.0},
    "1 row, DataFrame": {"vs sklearn": 5.0},
    "100 rows": {"vs sklearn": 3.0, "vs onnxruntime": 2.0},
    "100,000 rows": {"vs bare": 1.2},
}


def _onnx_session(model, dtype):
    try:
        import onnxruntime
        from skl2onnx import to_onnx
    except ImportError:
        return None
    register_onnx_converters()
    onx = to_onnx(model, np.zeros((1, 64), dtype=dtype), options={"zipmap": False})
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return lambda X: session.run(["label"], {"X": X})[0]


def _bare(model):
    (W0, W1), (b0, b1) = model.coefs_, model.intercepts_

    def run(X):
        a = X @ W0
        a += b0
        np.maximum(a, 0, out=a)
        z = a @ W1
        z += b1
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z.argmax(axis=1)

    return run


def _time_round(functions, X, n_calls):
    """Median seconds per call of each function, interleaved call by call."""
    times = {name: [] for name in functions}
    for _ in range(n_calls):
        for name, function in functions.items():
            start = time.perf_counter()
            function(X)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _peak_mib(function, X):
    tracemalloc.start()
    function(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run_case(name, X, contestants, n_calls, n_rounds):
    rounds = [_time_round(contestants, X, n_calls) for _ in range(n_rounds)]
    medians = {k: statistics.median(r[k] for r in rounds) for k in contestants}
    ours = [r["sknumpynet"] for r in rounds]
    ratios = {}
    for other, label in [
        ("sklearn", "vs sklearn"),
        ("onnxruntime", "vs onnxruntime"),
        ("bare", "vs bare"),
    ]:
        if other in contestants:
            per_round = [r[other] / o for r, o in zip(rounds, ours)]
            ratios[label] = statistics.median(per_round)
    return medians, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    parser.add_argument(
        "--only", choices=["mlp", "tabular"], help="one of the two tables"
    )
    args = parser.parse_args(argv)
    print(f"- platform: {platform.platform()}, Python {platform.python_version()}")
    print(
        f"- numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"sknumpynet {sknumpynet.__version__}"
    )
    for info in threadpool_info():
        print(f"- BLAS: {info.get('internal_api')} {info.get('version')}, 1 thread")
    print()
    if args.only != "tabular":
        mlp_report(args)
    if args.only != "mlp":
        tabular_report(args)


def mlp_report(args):
    """The NumpyMLP table: the digits classifier against the others."""
    n_small, n_rounds, n_large = (300, 3, 2) if args.quick else (2000, 5, 5)
    X, y = load_digits(return_X_y=True)
    X = X / 16
    names = [f"pixel {i}" for i in range(64)]
    params = {
        "hidden_layer_sizes": (100,),
        "activation": "relu",
        "max_iter": 50,
        "random_state": 0,
    }
    rows = []
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for dtype in (np.float64, np.float32):
            Xd = X.astype(dtype)
            frame = pd.DataFrame(Xd, columns=names)
            ours = NumpyMLPClassifier(**params).fit(Xd, y)
            ours_named = NumpyMLPClassifier(**params).fit(frame, y)
            theirs = MLPClassifier(**params).fit(Xd, y)
            theirs_named = MLPClassifier(**params).fit(frame, y)
            onnx = _onnx_session(ours, dtype)
            big = np.ascontiguousarray(np.tile(Xd, (56, 1))[:100_000])
            cases = [
                ("1 row", Xd[:1].copy(), ours, theirs, n_small),
                (
                    "1 row, DataFrame",
                    frame.iloc[:1].copy(),
                    ours_named,
                    theirs_named,
                    n_small,
                ),
                ("100 rows", Xd[:100].copy(), ours, theirs, n_small),
                ("100,000 rows", big, ours, theirs, n_large),
            ]
            for case, inputs, model, sk_model, n_calls in cases:
                model.predict(inputs[:1])  # warm: a served model has predicted
                contestants = {
                    "sklearn": sk_model.predict,
                    "sknumpynet": model.predict,
                }
                if onnx is not None and not isinstance(inputs, pd.DataFrame):
                    contestants["onnxruntime"] = onnx
                if not isinstance(inputs, pd.DataFrame):
                    contestants["bare"] = _bare(model)
                print(f"{case}, {np.dtype(dtype).name}...", file=sys.stderr)
                medians, ratios = run_case(case, inputs, contestants, n_calls, n_rounds)
                peak = (
                    _peak_mib(model.predict, inputs)
                    if case.startswith("100,")
                    else None
                )
                rows.append((case, np.dtype(dtype).name, medians, ratios, peak))

    header = (
        "| rows | dtype | sklearn | sknumpynet | onnxruntime | bare NumPy "
        "| sklearn / ours | ours / onnxruntime | ours / bare | targets |"
    )
    print(header)
    print("|" + "---|" * 10)
    for case, dtype, medians, ratios, peak in rows:

        def fmt(key):
            seconds = medians.get(key)
            if seconds is None:
                return "-"
            return (
                f"{seconds * 1e3:.1f} ms"
                if seconds > 1e-3
                else f"{seconds * 1e6:.1f} µs"
            )

        vs_onnx = ratios.get("vs onnxruntime")
        vs_bare = ratios.get("vs bare")
        targets = []
        for label, target in TARGETS[case].items():
            value = ratios.get(label)
            if value is None:
                continue
            # "vs sklearn" is a speedup (higher is better); the others are
            # how many times slower than the reference we are (lower).
            ok = value >= target if label == "vs sklearn" else 1 / value <= target
            targets.append(f"{label} {'PASS' if ok else 'FAIL'}")
        print(
            f"| {case} | {dtype} | {fmt('sklearn')} | {fmt('sknumpynet')} "
            f"| {fmt('onnxruntime')} | {fmt('bare')} "
            f"| {ratios['vs sklearn']:.1f}x "
            f"| {'-' if vs_onnx is None else f'{1 / vs_onnx:.2f}x'} "
            f"| {'-' if vs_bare is None else f'{1 / vs_bare:.2f}x'} "
            f"| {', '.join(targets)} |"
        )
    for case, dtype, _, _, peak in rows:
        if peak is not None:
            print(f"\n- {case}, {dtype}: peak memory of predict {peak:.1f} MiB")


def raw_frame(n_samples, seed=0):
    """The tabular benchmark's raw frame and its class and numeric targets."""
    rng = np.random.default_rng(seed)
    columns = {}
    for j in range(8):
        x = rng.normal(size=n_samples)
        x[rng.random(n_samples) < 0.1] = np.nan
        columns[f"number {j}"] = x
    for j in range(3):
        words = rng.choice([f"word {k}" for k in range(6)], n_samples).astype(object)
        words[rng.random(n_samples) < 0.05] = None
        columns[f"string {j}"] = words
    for j in range(2):
        columns[f"category {j}"] = pd.Categorical(rng.choice(list("abcd"), n_samples))
    columns["flag"] = rng.random(n_samples) < 0.5
    X = pd.DataFrame(columns)
    signal = np.nan_to_num(X["number 0"].to_numpy()) + (X["string 0"] == "word 1")
    return X, np.where(signal > 0.3, "yes", "no"), 3.0 * signal.to_numpy() + 1.0


def _tabular_contestants(kind, X, y):
    """The fitted models of one kind ("classifier" or "regressor")."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    from sknumpynet import TabularMLPClassifier, TabularMLPRegressor

    classifier = kind == "classifier"
    numbers = make_column_selector(dtype_include="number")
    others = make_column_selector(dtype_exclude="number")
    careful = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numbers),
            (
                "others",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                others,
            ),
        ]
    )
    MLP = MLPClassifier if classifier else MLPRegressor
    n_others = len(others(X))
    ordinal = ColumnTransformer(
        [
            (
                "others",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                ),
                others,
            )
        ],
        remainder="passthrough",
    )
    HGB = (
        HistGradientBoostingClassifier if classifier else HistGradientBoostingRegressor
    )
    Ours = TabularMLPClassifier if classifier else TabularMLPRegressor
    # The number of epochs changes nothing of the cost of a prediction.
    return {
        "sknumpynet": Ours(n_epochs=2, random_state=0).fit(X, y),
        "sklearn MLP": make_pipeline(
            careful,
            MLP(hidden_layer_sizes=(256, 256, 256), max_iter=2, random_state=0),
        ).fit(X, y),
        "HGB": make_pipeline(
            ordinal,
            HGB(categorical_features=list(range(n_others)), random_state=0),
        ).fit(X, y),
    }


def _tabular_bare(model):
    """The forward pass alone, on the preprocessed matrix."""
    from sknumpynet._activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
    from sknumpynet._network import predict
    from sknumpynet._parameters import effective_coefs, weight_factors

    units = [coef.shape[0] for coef in model.coefs_] + [model.n_outputs_]
    coefs = effective_coefs(
        model.coefs_, weight_factors(units, "ntk"), model.feature_scale_
    )
    hidden = HIDDEN_ACTIVATIONS[model.activation or model._default_activation][0]
    output = OUTPUT_ACTIVATIONS[model._output[0]]

    def run(Z):
        with np.errstate(over="ignore", invalid="ignore"):
            return predict(Z, coefs, model.intercepts_, hidden, output)

    return run


def tabular_report(args):
    """The tabular estimators on a raw frame, against the careful pipeline."""
    n_small, n_rounds, n_large = (200, 3, 1) if args.quick else (1000, 5, 2)
    X, y_class, y_reg = raw_frame(2000)
    big = raw_frame(100_000, seed=1)[0]
    rows = []
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for kind, y in [("classifier", y_class), ("regressor", y_reg)]:
            models = _tabular_contestants(kind, X, y)
            ours = models["sknumpynet"]
            bare = _tabular_bare(ours)
            for case, inputs, n_calls in [
                ("1 row", X.iloc[:1].copy(), n_small),
                ("100 rows", X.iloc[:100].copy(), n_small),
                ("100,000 rows", big, n_large),
            ]:
                Z = ours.preprocessor_.transform(inputs)
                contestants = {name: model.predict for name, model in models.items()}
                contestants["preprocess"] = ours.preprocessor_.transform
                contestants["bare"] = lambda _, Z=Z: bare(Z)
                for function in contestants.values():
                    function(inputs[:1])  # warm: a served model has predicted
                print(f"tabular {kind}, {case}...", file=sys.stderr)
                rounds = [
                    _time_round(contestants, inputs, n_calls) for _ in range(n_rounds)
                ]
                medians = {
                    name: statistics.median(r[name] for r in rounds)
                    for name in contestants
                }
                ratios = {
                    name: statistics.median(r[name] / r["sknumpynet"] for r in rounds)
                    for name in contestants
                }
                rows.append((kind, case, medians, ratios))

    print()
    print(
        "| model | rows | sknumpynet | sklearn MLP pipeline | HGB | preprocess "
        "| bare forward | sklearn MLP / ours | HGB / ours | ours / bare "
        "| ours / (preprocess + bare) |"
    )
    print("|" + "---|" * 11)
    for kind, case, medians, ratios in rows:

        def fmt(seconds):
            if seconds > 1e-3:
                return f"{seconds * 1e3:.1f} ms"
            return f"{seconds * 1e6:.0f} µs"

        floor = medians["preprocess"] + medians["bare"]
        print(
            f"| {kind} | {case} | {fmt(medians['sknumpynet'])} "
            f"| {fmt(medians['sklearn MLP'])} | {fmt(medians['HGB'])} "
            f"| {fmt(medians['preprocess'])} | {fmt(medians['bare'])} "
            f"| {ratios['sklearn MLP']:.1f}x | {ratios['HGB']:.1f}x "
            f"| {1 / ratios['bare']:.2f}x "
            f"| {medians['sknumpynet'] / floor:.2f}x |"
        )


if __name__ == "__main__":
    main()
