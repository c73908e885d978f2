"""TrainingCurveDisplay: the loss, validation score and loss, and best epoch.

Drawn from a fitted estimator's ``history_``; needs matplotlib (skipped
without it).
"""

import numpy as np
import pytest
from _helpers import early_stopping_network, regression, split_digits
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor, TrainingCurveDisplay

# The estimators drawn train for a few epochs only.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_training_curve_display_from_estimator():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, X_val, y_val = split_digits()
    est = early_stopping_network(max_iter=30).fit(X, y, X_val=X_val, y_val=y_val)
    display = TrainingCurveDisplay.from_estimator(est)
    assert_allclose(display.lines_["loss"].get_ydata(), est.loss_curve_)
    assert_allclose(display.lines_["val_score"].get_ydata(), est.validation_scores_)
    assert_allclose(
        display.lines_["val_loss"].get_ydata(),
        [entry["val_loss"] for entry in est.history_],
    )
    best = int(np.argmax(est.validation_scores_)) + 1
    assert display.lines_["best_epoch"].get_xdata()[0] == best
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_title() == "NumpyMLPClassifier"

    # Without validation: the loss alone, on the axes given.
    _, ax = plt.subplots()
    plain = NumpyMLPRegressor(hidden_layer_sizes=(4,), max_iter=5).fit(
        *regression(300, n_features=8, noise=1.0, unit_target=True)
    )
    display = TrainingCurveDisplay.from_estimator(plain, ax=ax, name="mine")
    assert display.ax_ is ax and display.ax_score_ is None
    assert set(display.lines_) == {"loss", "best_epoch"}
    assert ax.get_title() == "mine"
    plt.close("all")


def test_training_curve_display_needs_a_fitted_estimator():
    pytest.importorskip("matplotlib")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(NumpyMLPClassifier())


def test_training_curve_display_from_a_pipeline_uses_its_final_step():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, X_val, y_val = split_digits()
    network = NumpyMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    pipe = make_pipeline(StandardScaler(), network)
    with pytest.warns(ConvergenceWarning):
        pipe.fit(X, y)
    display = TrainingCurveDisplay.from_estimator(pipe)
    assert display.estimator_name == "NumpyMLPClassifier"
    assert display.loss_curve == list(pipe[-1].loss_curve_)
    assert len(display.loss_curve) == 5
    with pytest.raises(TypeError, match="needs a network with a loss curve"):
        TrainingCurveDisplay.from_estimator(make_pipeline(StandardScaler().fit(X)))
    plt.close("all")
