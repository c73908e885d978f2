"""Demo: ``python -m sknumpynet``.

Tunes a ``StandardScaler`` + :class:`~sknumpynet.NumpyMLPClassifier`
pipeline with a small :class:`~sklearn.model_selection.GridSearchCV` on
scikit-learn's bundled digits data (no download), then trains scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` with the identical
hyper-parameters and prints the two side by side: cross-validated accuracy,
held-out accuracy, epochs and fit time.

Run ``python -m sknumpynet --help`` for the options.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from . import NumpyMLPClassifier, __version__

#: Hyper-parameters shared by every candidate and by both packages. Without
#: early stopping, Adam meets the default ``tol`` on digits in 300-520 epochs
#: for these grids (checked for the seeds 0, 1 and 2 on every fold), so
#: ``max_iter=1000`` lets every fit converge: there is no ConvergenceWarning
#: to silence. NumpyMLPClassifier's own extras, ``fit_intercept=True`` and
#: ``weight_init="glorot"``, are left at their defaults, which are
#: scikit-learn's behaviour: the two packages train the same network.
COMMON_PARAMS = {
    "activation": "logistic",
    "solver": "adam",
    "learning_rate_init": 1e-3,
    "batch_size": "auto",
    "max_iter": 1000,
    "tol": 1e-4,
    "n_iter_no_change": 10,
}

#: The search grids: a handful of candidates by default, a tiny one for tests.
GRIDS = {
    "full": {
        "mlp__hidden_layer_sizes": [(32,), (64,)],
        "mlp__alpha": [1e-4, 1e-2, 1e-1],
    },
    "quick": {
        "mlp__hidden_layer_sizes": [(32,)],
        "mlp__alpha": [1e-2, 1e-1],
    },
}


def _log(message):
    """Print a progress line at once (the grid search runs for seconds)."""
    print(message, flush=True)


def build_pipeline(estimator_class, random_state, **params):
    """A ``StandardScaler`` + MLP pipeline with the shared hyper-parameters.

    Parameters
    ----------
    estimator_class : type
        :class:`~sknumpynet.NumpyMLPClassifier` or scikit-learn's
        :class:`~sklearn.neural_network.MLPClassifier`.
    random_state : int
        Seed of the weight initialisation and of the shuffling.
    **params : dict
        Hyper-parameters that override :data:`COMMON_PARAMS`.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"scale"`` and ``"mlp"``.
    """
    mlp = estimator_class(random_state=random_state, **{**COMMON_PARAMS, **params})
    return Pipeline([("scale", StandardScaler()), ("mlp", mlp)])


def _timed_fit(pipeline, X, y, repeat):
    """Fit ``repeat`` times; return the last fitted copy and the best time.

    The best of several runs is the least disturbed by other processes. Each
    fit uses one BLAS thread, so that the timing measures the two packages'
    code rather than how the threads of a busy machine are scheduled.
    """
    best = np.inf
    fitted = None
    for _ in range(repeat):
        fitted = clone(pipeline)
        with threadpool_limits(limits=1, user_api="blas"):
            start = time.perf_counter()
            fitted.fit(X, y)
            best = min(best, time.perf_counter() - start)
    return fitted, best


def _format_table(rows, header):
    """Left-align the first column, right-align the others."""
    widths = [
        max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))
    ]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m sknumpynet",
        description=(
            "Tune a StandardScaler + NumpyMLPClassifier pipeline with "
            "GridSearchCV on scikit-learn's digits data, then compare it with "
            "scikit-learn's MLPClassifier trained with the same "
            "hyper-parameters (accuracy and fit time)."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny grid (2 candidates) and one timed fit each: a few seconds",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="parallel jobs of the grid search and cross-validation "
        "(default: -1, all cores)",
    )
    parser.add_argument(
        "--cv", type=int, default=3, help="cross-validation folds (default: 3)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed fits per package; the best time is reported "
        "(default: 3, or 1 with --quick)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the data split and of both networks (default: 0)",
    )
    parser.add_argument(
        "--version", action="version", version=f"sknumpynet {__version__}"
    )
    args = parser.parse_args(argv)
    if args.n_jobs == 0:
        parser.error("--n-jobs must not be 0 (use -1 for all cores)")
    if args.cv < 2:
        parser.error("--cv must be at least 2")
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv=None):
    """Run the demo.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments without the program name; ``sys.argv[1:]``
        when None.

    Returns
    -------
    status : int
        The exit status, 0 on success.
    """
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    seed = args.random_state
    total_start = time.perf_counter()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    _log(
        f"Digits: {X_train.shape[0]} training and {X_test.shape[0]} held-out "
        f"images of {X.shape[1]} pixels, {len(np.unique(y))} classes."
    )

    grid = GRIDS["quick" if args.quick else "full"]
    n_candidates = int(np.prod([len(values) for values in grid.values()]))
    _log(
        f"[1/3] Grid search: {n_candidates} candidates x {args.cv} folds, "
        f"n_jobs={args.n_jobs} ..."
    )
    start = time.perf_counter()
    search = GridSearchCV(
        build_pipeline(NumpyMLPClassifier, seed),
        grid,
        cv=args.cv,
        scoring="accuracy",
        n_jobs=args.n_jobs,
    )
    search.fit(X_train, y_train)
    _log(f"      done in {time.perf_counter() - start:.1f} s")
    best_params = {
        name.removeprefix("mlp__"): value for name, value in search.best_params_.items()
    }
    _log(f"      best parameters: {best_params}")
    _log(
        f"      cross-validated accuracy of the best pipeline: {search.best_score_:.4f}"
    )
    _log(
        "      shared: "
        + ", ".join(f"{k}={v!r}" for k, v in COMMON_PARAMS.items())
        + f", random_state={seed}"
    )

    pipelines = {
        "NumpyMLPClassifier": build_pipeline(NumpyMLPClassifier, seed, **best_params),
        "sklearn MLPClassifier": build_pipeline(MLPClassifier, seed, **best_params),
    }

    _log(f"[2/3] Cross-validating both with the best parameters ({args.cv} folds) ...")
    cv_scores = {}
    for name, pipeline in pipelines.items():
        if name == "NumpyMLPClassifier":
            # The grid search already scored this very pipeline on these folds.
            cv_scores[name] = search.best_score_
        else:
            cv_scores[name] = cross_val_score(
                pipeline, X_train, y_train, cv=args.cv, n_jobs=args.n_jobs
            ).mean()
        _log(f"      {name}: {cv_scores[name]:.4f}")

    _log(
        f"[3/3] Fitting each on the {X_train.shape[0]} training images "
        f"(best of {args.repeat}, one BLAS thread) ..."
    )
    rows, fit_times = [], []
    for name, pipeline in pipelines.items():
        fitted, seconds = _timed_fit(pipeline, X_train, y_train, args.repeat)
        fit_times.append(seconds)
        accuracy = fitted.score(X_test, y_test)
        _log(f"      {name}: {seconds:.2f} s, held-out accuracy {accuracy:.4f}")
        rows.append(
            [
                name,
                f"{cv_scores[name]:.4f}",
                f"{accuracy:.4f}",
                fitted[-1].n_iter_,
                f"{seconds:.2f}",
            ]
        )

    print()
    print(
        _format_table(
            rows,
            ["model", "CV accuracy", "test accuracy", "epochs", "fit time (s)"],
        )
    )
    print(
        "\nThe grid search chose these parameters for their CV accuracy, so that "
        "score is\noptimistic; the held-out test accuracy is not."
    )
    ratio = fit_times[1] / fit_times[0]
    print(f"Fit-time ratio, scikit-learn / sknumpynet: {ratio:.2f}")
    print(f"Total time: {time.perf_counter() - total_start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
