"""Searches on every core and on a real Dask cluster; dask-ml's Incremental.

* ``GridSearchCV``, ``RandomizedSearchCV`` and ``cross_validate`` over
  sknumpynet pipelines give the same scores, parameters and weights with
  ``n_jobs=-1`` as with ``n_jobs=1``: under joblib's default backend (loky
  worker processes) and under the Dask backend on a ``distributed.LocalCluster``
  of two worker processes that this module starts on the loopback interface.
* The workers run BLAS on one thread (no oversubscription), configured as
  ``docs/user_guide/scaling_out.rst`` says.
* ``dask_ml.wrappers.Incremental`` trains on a chunked dask array through
  ``partial_fit`` (bitwise the same weights as calling ``partial_fit`` block by
  block by hand) and predicts and scores lazily.

The module is skipped when dask, distributed or dask-ml is not installed
(``pip install "sknumpynet[dask]"``).
"""

import os
import warnings

import joblib
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

pytestmark = [
    # A few epochs are enough to compare runs; they do not converge.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # Under pytest-xdist, in one test process: one cluster for the module.
    pytest.mark.xdist_group("dask"),
]

# Dask's nanny sets these in every worker process before it starts (the
# default of ``distributed.nanny.pre-spawn-environ``); set explicitly here, as
# the documentation recommends, so that a user's Dask configuration cannot
# change what is tested.
ONE_BLAS_THREAD = {
    "distributed.nanny.pre-spawn-environ.OMP_NUM_THREADS": 1,
    "distributed.nanny.pre-spawn-environ.OPENBLAS_NUM_THREADS": 1,
    "distributed.nanny.pre-spawn-environ.MKL_NUM_THREADS": 1,
}


@pytest.fixture(scope="module")
def dask_client():
    """A real cluster: two worker processes of one thread each, on loopback.

    Started once for the module (starting worker processes takes seconds) and
    shut down after its last test.
    """
    # The nanny writes its pre-spawn environment into this process's
    # os.environ (so that the spawned workers inherit it); undo that after.
    saved_environ = dict(os.environ)
    with dask.config.set(ONE_BLAS_THREAD):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler's HTTP server (on without the dashboard) on a
            # free port: 8787 may be taken by another cluster (another test
            # run, say), and the warning about it would fail the setup.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
        for name in set(os.environ) - set(saved_environ):
            del os.environ[name]
        os.environ.update(saved_environ)


# ---------------------------------------------------------------------------
# The searches
# ---------------------------------------------------------------------------


def _data(kind):
    if kind == "classifier":
        X, y = make_classification(
            n_samples=240,
            n_features=8,
            n_informative=5,
            n_classes=3,
            random_state=0,
        )
    else:
        X, y = make_regression(n_samples=240, n_features=8, noise=1.0, random_state=0)
        y = y / y.std()
    return X, y


def _pipeline(kind):
    params = dict(hidden_layer_sizes=(8,), max_iter=15, random_state=0)
    if kind == "classifier":
        # adam, shuffled batches: every fit draws from its random_state.
        model = NumpyMLPClassifier(learning_rate_init=0.01, **params)
    else:
        model = NumpyMLPRegressor(solver="sgd", learning_rate_init=0.01, **params)
    return make_pipeline(StandardScaler(), model)


def _run(kind, method, n_jobs):
    X, y = _data(kind)
    pipe = _pipeline(kind)
    step = pipe.steps[-1][0]
    if method == "grid":
        grid = {f"{step}__alpha": [1e-4, 1e-1], f"{step}__batch_size": [16, 64]}
        return GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs).fit(X, y)
    if method == "randomized":
        distributions = {
            f"{step}__alpha": loguniform(1e-5, 1e-1),
            f"{step}__hidden_layer_sizes": [(4,), (8,), (4, 4)],
        }
        return RandomizedSearchCV(
            pipe, distributions, n_iter=4, cv=3, n_jobs=n_jobs, random_state=0
        ).fit(X, y)
    return cross_validate(
        pipe, X, y, cv=3, n_jobs=n_jobs, return_estimator=True, return_train_score=True
    )


def _reference(kind, method):
    # Workers run BLAS on one thread (see below); so does the reference, so
    # that the comparison is about distributing the fits and not about the
    # order in which a multi-threaded BLAS may sum (which some BLAS libraries
    # let depend on the number of threads).
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(kind, method, n_jobs=1)


def _assert_same_weights(estimator, other):
    model, other_model = estimator[-1], other[-1]
    assert model.n_iter_ == other_model.n_iter_
    for a, b in zip(
        model.coefs_ + model.intercepts_, other_model.coefs_ + other_model.intercepts_
    ):
        np.testing.assert_array_equal(a, b)


def _assert_same_results(reference, result):
    if isinstance(reference, dict):  # cross_validate
        for key in ("test_score", "train_score"):
            np.testing.assert_array_equal(result[key], reference[key])
        # The models were fitted in the workers: the same weights, bit for bit.
        for estimator, other in zip(reference["estimator"], result["estimator"]):
            _assert_same_weights(estimator, other)
        return
    ref, res = reference.cv_results_, result.cv_results_
    assert res["params"] == ref["params"]
    for key in ref:
        if key.endswith("_time") or key == "params":
            continue
        if key.startswith("param_"):
            assert list(res[key]) == list(ref[key]), key
        else:
            np.testing.assert_array_equal(res[key], ref[key], err_msg=key)
    assert result.best_params_ == reference.best_params_
    assert result.best_index_ == reference.best_index_
    assert result.best_score_ == reference.best_score_
    _assert_same_weights(reference.best_estimator_, result.best_estimator_)


KINDS = ["classifier", "regressor"]
METHODS = ["grid", "randomized", "cross_validate"]


def test_reference_results_are_informative():
    # The candidates differ, so identical results below are not a tie between
    # equal numbers: a mix-up of candidates or folds would be seen.
    for kind in KINDS:
        search = _reference(kind, "grid")
        scores = search.cv_results_["mean_test_score"]
        assert len(np.unique(scores)) == len(scores)
        assert np.all(np.isfinite(scores))
    assert search.best_score_ > 0.5  # the regressor's R^2: it learned something


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_n_jobs_loky_same_as_n_jobs_1(kind, method):
    result = _run(kind, method, n_jobs=-1)
    _assert_same_results(_reference(kind, method), result)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", KINDS)
def test_dask_backend_same_as_n_jobs_1(dask_client, kind, method):
    with joblib.parallel_config(backend="dask"):
        result = _run(kind, method, n_jobs=-1)
    _assert_same_results(_reference(kind, method), result)


def test_dask_backend_runs_the_fits_on_the_workers(dask_client):
    # The tasks of a search really go to the cluster's worker processes.
    def fit_and_report(X, y):
        import os

        model = NumpyMLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
        return os.getpid(), model.n_iter_

    X, y = _data("classifier")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with joblib.parallel_config(backend="dask"):
            results = joblib.Parallel(n_jobs=-1)(
                joblib.delayed(fit_and_report)(X, y) for _ in range(6)
            )
    worker_pids = set(dask_client.run(os.getpid).values())
    assert len(worker_pids) == 2
    assert {pid for pid, _ in results} <= worker_pids
    assert os.getpid() not in worker_pids
    assert all(n_iter == 2 for _, n_iter in results)


# ---------------------------------------------------------------------------
# BLAS threads in the workers
# ---------------------------------------------------------------------------


def _make_blas_probe():
    # A nested function: Dask workers cannot import this test module, so its
    # module-level functions cannot be pickled by reference; this one is
    # pickled by value.
    def blas_threads():
        import numpy as np
        from threadpoolctl import threadpool_info

        np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded and initialised
        infos = [info for info in threadpool_info() if info["user_api"] == "blas"]
        return sorted({info["num_threads"] for info in infos})

    return blas_threads


def _require_visible_blas():
    probe = _make_blas_probe()
    if not probe():
        pytest.skip("threadpoolctl sees no BLAS library (Accelerate, for instance)")
    return probe


def test_dask_workers_run_one_blas_thread(dask_client):
    probe = _require_visible_blas()
    # In each worker process, directly...
    per_worker = dask_client.run(probe)
    assert len(per_worker) == 2
    assert all(counts == [1] for counts in per_worker.values()), per_worker
    # ... and in the tasks that joblib's Dask backend sends them.
    with joblib.parallel_config(backend="dask"):
        counts = joblib.Parallel(n_jobs=-1)(joblib.delayed(probe)() for _ in range(4))
    assert all(c == [1] for c in counts), counts


def test_loky_workers_share_the_cores_among_blas_threads():
    # joblib's loky backend gives each of n_jobs workers cpu_count // n_jobs
    # BLAS threads: one each with n_jobs=-1.
    probe = _require_visible_blas()
    counts = joblib.Parallel(n_jobs=-1)(joblib.delayed(probe)() for _ in range(4))
    assert all(c == [1] for c in counts), counts


# ---------------------------------------------------------------------------
# dask-ml's Incremental
# ---------------------------------------------------------------------------

N_BLOCKS = 8
BLOCK = 100


def _incremental_data():
    X, y = make_classification(
        n_samples=N_BLOCKS * BLOCK,
        n_features=10,
        n_informative=6,
        n_classes=3,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.mark.parametrize("shuffle_blocks", [False, True])
def test_incremental_same_as_partial_fit_by_hand(dask_client, shuffle_blocks):
    X, y = _incremental_data()
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    y_dask = da.from_array(y, chunks=BLOCK)
    assert X_dask.numblocks == (N_BLOCKS, 1)
    classes = np.unique(y)
    model = NumpyMLPClassifier(
        hidden_layer_sizes=(8,), batch_size=32, learning_rate_init=0.01, random_state=0
    )

    # Trained on the cluster: the model travels from block to block.
    incremental = dask_ml_wrappers.Incremental(
        model, shuffle_blocks=shuffle_blocks, random_state=0
    ).fit(X_dask, y_dask, classes=classes)
    fitted = incremental.estimator_

    # By hand, in the same order (Incremental shuffles the blocks with its
    # random_state, as below).
    order = list(range(N_BLOCKS))
    if shuffle_blocks:
        check_random_state(0).shuffle(order)
        assert order != sorted(order)
    by_hand = clone(model)
    with threadpool_limits(limits=1, user_api="blas"):
        for block in order:
            rows = slice(block * BLOCK, (block + 1) * BLOCK)
            by_hand.partial_fit(X[rows], y[rows], classes=classes)

    assert not hasattr(model, "coefs_")  # Incremental fitted a clone
    assert fitted.t_ == by_hand.t_ == X.shape[0]
    assert len(fitted.loss_curve_) == N_BLOCKS
    np.testing.assert_array_equal(fitted.loss_curve_, by_hand.loss_curve_)
    for a, b in zip(
        fitted.coefs_ + fitted.intercepts_, by_hand.coefs_ + by_hand.intercepts_
    ):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(incremental.classes_, classes)


def test_incremental_predicts_and_scores_lazily(dask_client):
    X, y = _incremental_data()
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    y_dask = da.from_array(y, chunks=BLOCK)
    classes = np.unique(y)
    model = NumpyMLPClassifier(
        hidden_layer_sizes=(8,), batch_size=32, learning_rate_init=0.01, random_state=0
    )
    incremental = dask_ml_wrappers.Incremental(model, random_state=0)
    for _ in range(3):  # three passes over the blocks
        incremental.partial_fit(X_dask, y_dask, classes=classes)
    fitted = incremental.estimator_
    assert fitted.t_ == 3 * X.shape[0]

    predictions = incremental.predict(X_dask)
    assert isinstance(predictions, da.Array)  # nothing computed yet
    assert predictions.chunks == y_dask.chunks
    np.testing.assert_array_equal(predictions.compute(), fitted.predict(X))

    probabilities = incremental.predict_proba(X_dask)
    assert isinstance(probabilities, da.Array)
    # Block by block: float32 matrix products of another number of rows may
    # round differently in the last bit (OpenBLAS's kernels).
    np.testing.assert_allclose(
        probabilities.compute(), fitted.predict_proba(X), rtol=1e-6, atol=0
    )

    score = incremental.score(X_dask, y_dask, compute=False)
    assert dask.is_dask_collection(score)
    assert float(score.compute()) == fitted.score(X, y)
    assert incremental.score(X_dask, y_dask) == fitted.score(X, y)
    # Three passes learned something (3 classes: chance is about 1/3).
    assert fitted.score(X, y) > 0.6
