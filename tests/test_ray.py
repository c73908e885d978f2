"""A search on a local Ray instance through ray.util.joblib's joblib backend.

The recipe of ``docs/user_guide/scaling_out.rst``: the same results as
``n_jobs=1``, the fits run in Ray's worker processes with one BLAS thread.
Skipped where Ray is not installed (it is not a dependency of any extra).
"""

import os

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sknumpynet import NumpyMLPClassifier

ray = pytest.importorskip("ray")
ray_joblib = pytest.importorskip("ray.util.joblib")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def ray_backend():
    """A fresh local Ray instance with two CPUs, shut down after the module."""
    saved_environ = dict(os.environ)
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    ray_joblib.register_ray()
    try:
        yield
    finally:
        ray.shutdown()
        for name in set(os.environ) - set(saved_environ):
            del os.environ[name]
        os.environ.update(saved_environ)


def _search(n_jobs):
    X, y = make_classification(
        n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    pipe = make_pipeline(
        StandardScaler(),
        NumpyMLPClassifier(
            hidden_layer_sizes=(8,),
            max_iter=15,
            learning_rate_init=0.01,
            random_state=0,
        ),
    )
    grid = {
        "numpymlpclassifier__alpha": [1e-4, 1e-1],
        "numpymlpclassifier__batch_size": [16, 64],
    }
    return GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs).fit(X, y)


def test_ray_backend_same_as_n_jobs_1(ray_backend):
    with threadpool_limits(limits=1, user_api="blas"):
        reference = _search(n_jobs=1)
    with joblib.parallel_config(backend="ray"):
        result = _search(n_jobs=-1)
    assert result.cv_results_["params"] == reference.cv_results_["params"]
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(
            result.cv_results_[key], reference.cv_results_[key]
        )
    for split in range(3):
        key = f"split{split}_test_score"
        np.testing.assert_array_equal(
            result.cv_results_[key], reference.cv_results_[key]
        )
    assert len(np.unique(reference.cv_results_["mean_test_score"])) == 4
    assert result.best_params_ == reference.best_params_
    assert result.best_score_ == reference.best_score_


def test_ray_workers_run_one_blas_thread(ray_backend):
    if not [i for i in threadpool_info() if i["user_api"] == "blas"]:
        pytest.skip("threadpoolctl sees no BLAS library (Accelerate, for instance)")

    def report():
        import os

        import numpy as np
        from threadpoolctl import threadpool_info

        np.ones((2, 2)) @ np.ones((2, 2))
        infos = [info for info in threadpool_info() if info["user_api"] == "blas"]
        return os.getpid(), sorted({info["num_threads"] for info in infos})

    with joblib.parallel_config(backend="ray"):
        results = joblib.Parallel(n_jobs=-1)(joblib.delayed(report)() for _ in range(4))
    assert all(pid != os.getpid() for pid, _ in results)
    assert all(counts == [1] for _, counts in results), results
