"""Whole pipelines with sknumpynet estimators through skops, without pickle.

skops refuses types it does not know; ``sknumpynet.trusted_types()`` lists
the only ones a pipeline of sknumpynet estimators adds.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknumpynet
from sknumpynet import (
    InconsistentVersionWarning,
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    trusted_types,
)

sio = pytest.importorskip("skops.io")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _classification():
    X, y = make_classification(
        n_samples=80, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    return X, np.array(["cat", "dog", "emu"], dtype=object)[y]


def _regression():
    X, y = make_regression(
        n_samples=80, n_features=5, n_targets=2, noise=0.1, random_state=0
    )
    return X, y / y.std(axis=0)


PIPELINES = {
    "classifier-adam": (
        lambda: NumpyMLPClassifier((6,), max_iter=5, random_state=0),
        _classification,
    ),
    "classifier-early-stopping": (
        lambda: NumpyMLPClassifier(
            (6,), early_stopping=True, max_iter=10, random_state=0
        ),
        _classification,
    ),
    "regressor-sgd-randomstate": (
        lambda: NumpyMLPRegressor(
            hidden_layer_sizes=(6,),
            solver="sgd",
            max_iter=5,
            random_state=np.random.RandomState(0),
        ),
        _regression,
    ),
    "regressor-lbfgs": (
        lambda: NumpyMLPRegressor(
            hidden_layer_sizes=(6,), solver="lbfgs", max_iter=10, random_state=0
        ),
        _regression,
    ),
}


@pytest.mark.parametrize("name", PIPELINES)
def test_pipeline_dump_load(name, tmp_path):
    make_estimator, make_data = PIPELINES[name]
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), make_estimator()).fit(X, y)
    path = tmp_path / "pipeline.skops"
    sio.dump(pipe, path)

    # The file needs exactly sknumpynet's types beyond skops's defaults...
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and set(untrusted) <= set(trusted_types())
    # ... which skops refuses until they are trusted.
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    loaded = sio.load(path, trusted=trusted_types())

    assert_array_equal(loaded.predict(X), pipe.predict(X), strict=True)
    if hasattr(pipe, "predict_proba"):
        assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X), strict=True)
    network, loaded_network = pipe[-1], loaded[-1]
    for a, b in zip(
        network.coefs_ + network.intercepts_,
        loaded_network.coefs_ + loaded_network.intercepts_,
    ):
        assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_resume_partial_fit_after_skops(solver, tmp_path):
    X, y = _classification()
    chunks = np.array_split(np.arange(X.shape[0]), 4)

    def make():
        return NumpyMLPClassifier((6,), solver=solver, random_state=0)

    uninterrupted = make()
    for rows in chunks:
        uninterrupted.partial_fit(X[rows], y[rows], classes=np.unique(y))
    interrupted = make()
    for rows in chunks[:2]:
        interrupted.partial_fit(X[rows], y[rows], classes=np.unique(y))
    sio.dump(interrupted, tmp_path / "model.skops")
    resumed = sio.load(tmp_path / "model.skops", trusted=trusted_types())
    for rows in chunks[2:]:
        resumed.partial_fit(X[rows], y[rows])
    for a, b in zip(
        uninterrupted.coefs_ + uninterrupted.intercepts_,
        resumed.coefs_ + resumed.intercepts_,
    ):
        assert_array_equal(a, b, strict=True)
    assert uninterrupted.loss_curve_ == resumed.loss_curve_


def test_skops_version_warning(tmp_path, monkeypatch):
    X, y = _classification()
    clf = NumpyMLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    with monkeypatch.context() as patch:
        patch.setattr(sknumpynet._version, "__version__", "0.0.1")
        sio.dump(clf, tmp_path / "model.skops")
    with pytest.warns(InconsistentVersionWarning, match="sknumpynet 0.0.1"):
        sio.load(tmp_path / "model.skops", trusted=trusted_types())
