"""Child process of ``bench_tabular.py``: runs pytabkit's RealMLP-TD or -TD-S.

pytabkit needs PyTorch (several GB), so it lives in a virtual environment of
its own and this script runs with that environment's Python. It imports
nothing from sknumpynet or from the benchmark, only pandas, numpy,
scikit-learn, threadpoolctl, torch and pytabkit.

Usage (done by ``bench_tabular.py``, not by hand)::

    python _pytabkit_child.py --probe         # print versions as JSON
    python _pytabkit_child.py WORKDIR         # run the job in WORKDIR

``WORKDIR`` holds ``job.json`` (task, split seeds, variant ``"td"`` or
``"td-s"``), ``X.parquet`` (the table's frame, strings as ``category``,
dates as seconds), ``y.parquet`` and ``splits.npz``
(``train_K`` / ``test_K`` row positions). The script writes
``result.json``: per split, the predictions for the test rows and the CPU
seconds of this process (``time.process_time``, all its threads, plus any
child processes it waited for) spent on preparing the numeric columns,
``fit`` and ``predict``. Importing torch and pytabkit happens before and is not
counted, just as the parent does not count its own imports.

pytabkit refuses NaN in numeric columns ("NaN values in continuous columns are
currently not allowed"), so numeric columns with missing values in the
training rows are imputed with the training median and get a 0/1
missing-indicator column (``SimpleImputer(strategy="median",
add_indicator=True)``, fitted on the training rows; that time is counted).
Missing values in categorical columns are left to pytabkit, which encodes them
as a category of their own.
"""

import json
import os
import resource
import sys
import time
import warnings
from collections import Counter

for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ.setdefault(_variable, "1")


def _cpu_seconds():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def probe():
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import pandas
    import pytabkit
    import sklearn
    import torch

    try:
        pytabkit_version = version("pytabkit")
    except PackageNotFoundError:  # run from a source tree
        pytabkit_version = getattr(pytabkit, "__version__", "unknown")

    print(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "pytabkit": pytabkit_version,
                "torch": torch.__version__,
                "numpy": numpy.__version__,
                "pandas": pandas.__version__,
                "scikit-learn": sklearn.__version__,
            }
        )
    )


def impute_numeric(X_train, X_test):
    """Median-impute numeric columns with NaN, adding missing indicators."""
    import pandas as pd
    from sklearn.impute import SimpleImputer

    numeric = [
        c
        for c in X_train.columns
        if pd.api.types.is_numeric_dtype(X_train[c])
        and not isinstance(X_train[c].dtype, pd.CategoricalDtype)
    ]
    with_nan = [c for c in numeric if X_train[c].isna().any() or X_test[c].isna().any()]
    if not with_nan:
        return X_train, X_test, 0
    imputer = SimpleImputer(strategy="median", add_indicator=True)
    imputer.set_output(transform="pandas")
    parts = []
    for frame, fit in ((X_train, True), (X_test, False)):
        block = frame[with_nan].astype("float64")
        filled = imputer.fit_transform(block) if fit else imputer.transform(block)
        filled.index = frame.index
        parts.append(pd.concat([frame.drop(columns=with_nan), filled], axis=1))
    return parts[0], parts[1], len(with_nan)


def run(workdir):
    import numpy as np
    import pandas as pd
    import torch
    from pytabkit.models.sklearn.sklearn_interfaces import (
        RealMLP_TD_Classifier,
        RealMLP_TD_Regressor,
        RealMLP_TD_S_Classifier,
        RealMLP_TD_S_Regressor,
    )
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set
        pass

    with open(os.path.join(workdir, "job.json")) as handle:
        job = json.load(handle)
    X = pd.read_parquet(os.path.join(workdir, "X.parquet"))
    y = pd.read_parquet(os.path.join(workdir, "y.parquet"))["y"]
    splits = np.load(os.path.join(workdir, "splits.npz"))
    classification = job["task"] == "classification"
    variant = job.get("variant", "td-s")
    factory = {
        ("td-s", True): RealMLP_TD_S_Classifier,
        ("td-s", False): RealMLP_TD_S_Regressor,
        ("td", True): RealMLP_TD_Classifier,
        ("td", False): RealMLP_TD_Regressor,
    }[variant, classification]

    results = []
    with threadpool_limits(limits=1):
        for k, seed in enumerate(job["seeds"]):
            train, test = splits[f"train_{k}"], splits[f"test_{k}"]
            X_train, X_test = X.iloc[train], X.iloc[test]
            y_train = y.iloc[train]
            model = factory(device="cpu", n_threads=1, random_state=seed, verbosity=0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                wall = time.perf_counter()
                cpu = _cpu_seconds()
                X_train, X_test, n_imputed = impute_numeric(X_train, X_test)
                model.fit(X_train, y_train)
                prediction = model.predict(X_test)
                cpu = _cpu_seconds() - cpu
                wall = time.perf_counter() - wall
            counts = Counter(w.category.__name__ for w in caught)
            samples = {}
            for w in caught:
                message = str(w.message).splitlines()[0][:160]
                samples.setdefault(w.category.__name__, message)
            prediction = np.asarray(prediction).reshape(-1)
            if classification:
                prediction = [str(p) for p in prediction]
            else:
                prediction = [float(p) for p in prediction]
            results.append(
                {
                    "prediction": prediction,
                    "cpu_seconds": cpu,
                    "wall_seconds": wall,
                    "warnings": dict(counts),
                    "warning_samples": samples,
                    "imputed_numeric_columns": n_imputed,
                }
            )
            print(
                f"  realmlp-{variant} split {k + 1}/{len(job['seeds'])}: "
                f"{cpu:.1f} CPU s",
                file=sys.stderr,
                flush=True,
            )
    with open(os.path.join(workdir, "result.json"), "w") as handle:
        json.dump({"splits": results}, handle)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--probe"]:
        probe()
    elif len(argv) == 1:
        run(argv[0])
    else:
        sys.exit("usage: _pytabkit_child.py --probe | WORKDIR")


if __name__ == "__main__":
    main()
