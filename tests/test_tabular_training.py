"""The tabular estimators' training loop: what they share with NumpyMLP*.

``TabularMLPClassifier`` and ``TabularMLPRegressor`` train with
:func:`sknumpynet._training.fit_scheduled`, beside the NumpyMLP estimators'
loop: the same ``history_``, divergence errors, scikit-learn callbacks and
training-curve display. Small networks and few epochs throughout.
"""

import warnings

import numpy as np
import pytest
from _helpers import HAS_CALLBACKS, CountingCallback, needs_callbacks
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpynet import (
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
    TrainingCurveDisplay,
)
from sknumpynet._minibatch import MiniBatchTraining
from sknumpynet._network import MLP
from sknumpynet._tabular_network import TabularNetwork

ESTIMATORS = [TabularMLPClassifier, TabularMLPRegressor]
N_EPOCHS = 6


def data(Estimator, n_samples=120):
    """A small numeric table and targets for the estimator's task."""
    if Estimator in (TabularMLPClassifier, NumpyMLPClassifier):
        return make_classification(n_samples, 5, random_state=0)
    return make_regression(n_samples, 5, noise=1.0, random_state=0)


def fit_small(Estimator, **params):
    X, y = data(Estimator)
    params = {
        "hidden_layer_sizes": (8,),
        "n_epochs": N_EPOCHS,
        "batch_size": 32,
        "random_state": 0,
        **params,
    }
    return Estimator(**params).fit(X, y)


def numpy_mlp_history(Estimator, early_stopping):
    """``history_`` of the NumpyMLP estimator of the same task."""
    X, y = data(Estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(
            hidden_layer_sizes=(8,),
            early_stopping=early_stopping,
            max_iter=3,
            random_state=0,
        ).fit(X, y)
    return est.history_


# ---------------------------------------------------------------------------
# history_
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("validation_fraction", [0.2, 0.0])
@pytest.mark.parametrize(
    "Estimator, NumpyEstimator",
    [
        (TabularMLPClassifier, NumpyMLPClassifier),
        (TabularMLPRegressor, NumpyMLPRegressor),
    ],
)
def test_history_has_the_numpy_mlp_format(
    Estimator, NumpyEstimator, validation_fraction
):
    model = fit_small(Estimator, validation_fraction=validation_fraction)
    validated = validation_fraction > 0
    expected_keys = list(numpy_mlp_history(NumpyEstimator, validated)[0])
    history = model.history_
    assert len(history) == model.n_iter_ == N_EPOCHS
    for entry in history:
        assert list(entry) == expected_keys
    assert [entry["epoch"] for entry in history] == list(range(1, N_EPOCHS + 1))
    assert [entry["loss"] for entry in history] == model.loss_curve_
    assert all(entry["time"] > 0 for entry in history)
    if validated:
        assert [entry["val_score"] for entry in history] == model.validation_scores_
        assert all(np.isfinite(entry["val_loss"]) for entry in history)
    else:
        assert model.validation_scores_ == []


def test_the_validation_loss_is_that_of_the_kept_weights():
    X, y = data(TabularMLPRegressor)
    model = fit_small(TabularMLPRegressor)
    # The internal split: the first draws of random_state (unstratified).
    _, val = train_test_split(
        np.arange(len(X)), test_size=0.2, random_state=np.random.RandomState(0)
    )
    mean, scale = model.target_mean_, model.target_scale_
    output = (model.predict(X[val]) - mean) / scale  # the network's, standardized
    half_mse = 0.5 * np.mean((output - (y[val] - mean) / scale) ** 2)
    best = model.history_[model.best_epoch_ - 1]
    assert best["val_loss"] == pytest.approx(half_mse, rel=1e-4)
    assert best["val_score"] == pytest.approx(-np.sqrt(2 * half_mse), rel=1e-4)


# ---------------------------------------------------------------------------
# Divergence: NumpyMLP's messages, the previous fit kept
# ---------------------------------------------------------------------------


def assert_unchanged_by_a_failed_fit(model, X, y, match):
    """``fit`` raises ``match`` and leaves ``model``'s fitted state as it was."""
    state = {k: v for k, v in vars(model).items() if k.endswith("_")}
    before = model.predict(X)
    with pytest.raises(ValueError, match=match) as error:
        model.fit(X, y)
    after = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert after.keys() == state.keys()
    assert all(after[k] is state[k] for k in state)
    assert_array_equal(model.predict(X), before)
    return str(error.value)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_finite_weights_are_numpy_mlps_divergence_error(Estimator):
    X, y = data(Estimator)
    model = fit_small(Estimator)
    # Without weight decay, whose bound would refuse such a rate up front.
    model.set_params(learning_rate=1e30, weight_decay=0.0)
    message = assert_unchanged_by_a_failed_fit(
        model, X, y, "Solver produced non-finite parameter weights"
    )
    # NumpyMLP's message, naming the tabular estimators' parameter.
    assert "training diverged" in message
    assert "learning_rate=1e+30 is too large" in message
    assert "learning_rate_init" not in message
    assert message.endswith("keeps the state it had before this call.")
    fresh = Estimator(
        hidden_layer_sizes=(8,), n_epochs=3, learning_rate=1e30, weight_decay=0.0
    )
    with pytest.raises(ValueError, match="training diverged"):
        fresh.fit(X, y)
    assert not hasattr(fresh, "coefs_") and not hasattr(fresh, "history_")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_exploding_finite_loss_is_divergence(Estimator, monkeypatch):
    X, y = data(Estimator)
    model = fit_small(Estimator)
    train_epoch = MiniBatchTraining.train_epoch
    calls = []

    def exploding_epoch(self, *args, **kwargs):
        # The third epoch's loss is finite but 1e12 times larger.
        calls.append(None)
        loss = train_epoch(self, *args, **kwargs)
        return loss * 1e12 if len(calls) == 3 else loss

    monkeypatch.setattr(MiniBatchTraining, "train_epoch", exploding_epoch)
    assert_unchanged_by_a_failed_fit(
        model, X, y, r"The training loss grew to .* at epoch 3, more than 1e\+08"
    )


def test_no_finite_validation_score_is_divergence(monkeypatch):
    X, y = data(TabularMLPRegressor)
    model = fit_small(TabularMLPRegressor)
    monkeypatch.setattr(
        TabularMLPRegressor,
        "_validation_score",
        lambda self, validation, output, loss: -np.inf,
    )
    assert_unchanged_by_a_failed_fit(
        model, X, y, "output on the validation rows was never finite: training"
    )


# ---------------------------------------------------------------------------
# The recipe drives the loop
# ---------------------------------------------------------------------------


def test_a_subclass_changes_one_recipe_entry():
    # Pinned to TD-S, whose choices are ``_recipe``; the full RealMLP-TD's
    # are ``_td_recipe``, changed the same way below.
    class ConstantRate(TabularMLPRegressor):
        _recipe = {**TabularMLPRegressor._recipe, "lr_schedule": "constant"}

    class NoScale(TabularMLPRegressor):
        _recipe = {**TabularMLPRegressor._recipe, "feature_scale": False}

    class ConstantRateTD(TabularMLPRegressor):
        _td_recipe = {**TabularMLPRegressor._td_recipe, "lr_schedule": "constant"}

    def rates(Estimator, recipe="td-s"):
        model = fit_small(Estimator, recipe=recipe)
        return [entry["learning_rate"] for entry in model.history_]

    assert rates(ConstantRate) == [0.07] * N_EPOCHS
    assert rates(ConstantRateTD, recipe="td") == [0.2] * N_EPOCHS
    for recipe in ("td-s", "td"):
        coslog = rates(TabularMLPRegressor, recipe)
        assert len(set(coslog)) == N_EPOCHS
        assert coslog[-1] == pytest.approx(0, abs=1e-12)
    model = fit_small(NoScale, recipe="td-s")
    # Without the learnable scale there is none, as in a NumpyMLP.
    assert not hasattr(model, "feature_scale_")
    assert np.isfinite(model.predict(data(NoScale)[0])).all()


def test_verbose_without_validation(capsys):
    fit_small(TabularMLPRegressor, n_epochs=2, validation_fraction=0, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("Epoch 2, loss = ") and "validation" not in lines[1]


# ---------------------------------------------------------------------------
# scikit-learn's callbacks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_callback_support_follows_scikit_learn(Estimator):
    # set_callbacks with scikit-learn >= 1.9, as the NumpyMLP estimators.
    assert hasattr(Estimator(), "set_callbacks") == HAS_CALLBACKS


@needs_callbacks
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_callbacks_see_one_task_per_epoch_and_can_stop(Estimator):
    counter = CountingCallback()
    X, y = data(Estimator)
    model = fit_small(Estimator).set_callbacks(counter).fit(X, y)
    assert counter.setups == counter.teardowns == 1
    assert counter.begins.count("epoch") == counter.ends.count("epoch") == N_EPOCHS
    assert counter.begins[0] == counter.ends[-1] == "fit"
    # Each epoch's snapshot holds that epoch's weights, feature scale
    # included: the best epoch's are the fitted model's.
    best = counter.snapshots[model.best_epoch_ - 1]
    assert_array_equal(best.feature_scale_, model.feature_scale_)
    assert_array_equal(best.coefs_[0], model.coefs_[0])
    assert_array_equal(best.predict(X), model.predict(X))
    scales = {snapshot.feature_scale_.tobytes() for snapshot in counter.snapshots}
    assert len(scales) == N_EPOCHS

    stopper = CountingCallback(stop_at=3)
    model = fit_small(Estimator).set_callbacks(stopper).fit(X, y)
    assert model.n_iter_ == len(model.history_) == len(model.loss_curve_) == 3
    assert 1 <= model.best_epoch_ <= 3


@needs_callbacks
def test_scoring_monitor_scores_every_epoch():
    from sklearn.callback import ScoringMonitor

    X, y = data(TabularMLPClassifier)
    monitor = ScoringMonitor(scoring="accuracy")
    model = fit_small(TabularMLPClassifier).set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row["accuracy"] for row in rows if row["task_name"] == "epoch"]
    (fit,) = [row["accuracy"] for row in rows if row["task_name"] == "fit"]
    assert len(epochs) == N_EPOCHS
    # The fitted model is the best epoch's.
    assert epochs[model.best_epoch_ - 1] == fit == model.score(X, y)


# ---------------------------------------------------------------------------
# TrainingCurveDisplay
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("validation_fraction", [0.2, 0.0])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_training_curve_display(Estimator, validation_fraction):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = fit_small(Estimator, validation_fraction=validation_fraction)
    display = TrainingCurveDisplay.from_estimator(model)
    lines = display.lines_
    assert_array_equal(lines["loss"].get_ydata(), model.loss_curve_)
    # The epoch the model kept, not the first of tied best scores.
    assert display.best_epoch == model.best_epoch_
    assert lines["best_epoch"].get_xdata()[0] == model.best_epoch_
    if validation_fraction:
        assert_array_equal(lines["val_score"].get_ydata(), model.validation_scores_)
        assert_array_equal(
            lines["val_loss"].get_ydata(), [e["val_loss"] for e in model.history_]
        )
    else:
        assert sorted(lines) == ["best_epoch", "loss"]
        assert model.best_epoch_ == N_EPOCHS
    plt.close(display.figure_)


@pytest.mark.parametrize("recipe", ["td-s", "td"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_batch_is_whole_and_the_remainder_changes(Estimator, recipe, monkeypatch):
    # 120 rows, 24 of them for validation: 96 training rows make 3 batches
    # of 32; with batch_size=40 two batches of 40 and 16 rows left out.
    batches = []
    # The network each recipe trains: the engine's MLP, or the full
    # RealMLP-TD's TabularNetwork.
    Network = MLP if recipe == "td-s" else TabularNetwork
    original = Network.loss_and_gradient

    def recording(self, X, y, *args, **kwargs):
        batches.append(np.array(X, copy=True))
        return original(self, X, y, *args, **kwargs)

    monkeypatch.setattr(Network, "loss_and_gradient", recording)
    model = fit_small(Estimator, batch_size=40, recipe=recipe)
    assert [len(batch) for batch in batches] == [40] * 2 * N_EPOCHS
    # The schedule spans exactly the steps taken: it ends at zero.
    assert model.history_[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-12)
    # Each epoch leaves out other rows: the rows seen differ between epochs.
    seen = [
        {row.tobytes() for batch in batches[2 * e : 2 * e + 2] for row in batch}
        for e in range(N_EPOCHS)
    ]
    assert all(len(rows) == 80 for rows in seen)
    assert len(set.union(*seen)) > 80


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dropout_follows_the_flat_cos_schedule_per_epoch(Estimator, monkeypatch):
    # RealMLP-TD's dropout: the rate at the start of each epoch is dropout
    # times flat_cos(progress); the network's own rate is left as it was.
    rates = []
    original = MiniBatchTraining.train_epoch

    def recording(self, *args, **kwargs):
        rates.append((list(self.dropout), kwargs.get("dropout_rng") is not None))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MiniBatchTraining, "train_epoch", recording)
    fit_small(Estimator, hidden_layer_sizes=(8, 8), dropout=0.2)
    progress = np.arange(N_EPOCHS) / N_EPOCHS
    expected = 0.2 * np.where(
        progress < 0.5, 1.0, 0.5 * (1 + np.cos(np.pi * (2 * progress - 1)))
    )
    np.testing.assert_allclose([r[0] for r in rates], np.c_[expected, expected])
    assert all(has_rng for _, has_rng in rates)


@pytest.mark.parametrize("recipe", ["td-s", "td"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dropout_and_weight_decay_change_the_training(Estimator, recipe):
    plain = fit_small(Estimator, recipe=recipe, dropout=0.0, weight_decay=0.0)
    dropped = fit_small(Estimator, recipe=recipe, dropout=0.3, weight_decay=0.0)
    # TD's regressor steps at 0.2, where the feature scale's decay (36 times
    # the weights') would refuse 0.3 as too strong.
    decay = 0.3 if recipe == "td-s" else 0.1
    decayed = fit_small(Estimator, recipe=recipe, dropout=0.0, weight_decay=decay)
    assert not np.array_equal(plain.coefs_[0], dropped.coefs_[0])
    # Decay pulls the weights and the feature scale towards zero.
    assert np.linalg.norm(decayed.coefs_[0]) < np.linalg.norm(plain.coefs_[0])
    assert np.abs(decayed.feature_scale_).sum() < np.abs(plain.feature_scale_).sum()
    # Same seed, same settings: the same model, dropout included.
    again = fit_small(Estimator, recipe=recipe, dropout=0.3, weight_decay=0.0)
    np.testing.assert_array_equal(again.coefs_[0], dropped.coefs_[0])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "params, name",
    [
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"weight_decay": -0.1}, "'weight_decay' parameter"),
        # The feature scale decays 36 times as fast as the weights.
        ({"weight_decay": 1.0}, "weight_decay=1.0 is too strong"),
    ],
)
def test_bad_dropout_and_weight_decay_are_named(Estimator, params, name):
    X, y = data(Estimator)
    fitted = fit_small(Estimator)
    coefs = fitted.coefs_
    with pytest.raises(ValueError, match=name):
        fitted.set_params(**params).fit(X, y)
    assert fitted.coefs_ is coefs  # the previous fit is kept
