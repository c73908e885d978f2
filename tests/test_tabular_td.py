"""The full RealMLP-TD recipe (``recipe="td"``) of the tabular estimators:
its ingredients reach the engine, its fitted attributes, its switches, its
errors and its guard."""

import io

import joblib
import numpy as np
import pytest
from _helpers import CountingCallback, needs_callbacks
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from sknumpynet import (
    HiddenLayerFeatures,
    ModelFileError,
    TabularMLPClassifier,
    TabularMLPRegressor,
    check_gradients,
    load,
    save,
)
from sknumpynet._gradcheck import _parameter_name
from sknumpynet._tabular_network import TabularNetwork

pd = pytest.importorskip("pandas")

SMALL = {"hidden_layer_sizes": (8, 8), "n_epochs": 6, "batch_size": 16}


def _table(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(10, 1, n)),
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
            "member": rng.random(n) < 0.5,
        }
    )
    y_class = np.where(X["age"] > 40, "old", "young")
    y_reg = X["age"].to_numpy() * 2.0 + rng.normal(0, 1, n)
    return X, y_class, y_reg


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_td_fits_raw_tables_with_every_ingredient(Estimator):
    X, y_class, y_reg = _table()
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    model = Estimator(**SMALL, recipe="td", n_members=1, random_state=0).fit(X, y)
    # The two numeric columns (not the indicator, the one-hot or the +-1
    # columns) are embedded: 16 frequencies, 3 outputs each.
    embedding = model.numeric_embedding_
    assert embedding["frequencies"].shape == (2, 16)
    assert embedding["embedding_coefs"].shape == (2, 16, 3)
    n_inputs = model.preprocessor_.transform(X).shape[1] + 2 * 3
    assert model.coefs_[0].shape == (n_inputs, 8)
    assert model.feature_scale_.shape == (n_inputs,)
    assert [mix.shape for mix in model.activation_mix_] == [(8,), (8,)]
    assert not hasattr(model, "member_scale_")
    # The recipe's dropout and weight decay were on: the mixing weights and
    # the scale have moved from their initial ones.
    assert not np.all(model.activation_mix_[0] == 1.0)
    assert len(model.history_) == SMALL["n_epochs"]
    prediction = model.predict(X)
    assert prediction.shape == (len(X),)


def test_switches_reach_the_network(monkeypatch):
    X, y, _ = _table()
    built = []
    original = TabularNetwork.__init__

    def spy(self, *args, **kwargs):
        built.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TabularNetwork, "__init__", spy)
    model = TabularMLPClassifier(
        **SMALL, recipe="td", numeric_embedding="none", n_members=3, dropout=0.0,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    options = built[0]
    assert options["n_frequencies"] == 0 and options["n_members"] == 3
    assert options["dropout"] == 0.0 and options["label_smoothing"] == 0.1
    assert options["parametric_activation"] is True
    assert not hasattr(model, "numeric_embedding_")
    assert model.member_scale_.shape == (3, model.coefs_[0].shape[0])
    assert model.coefs_[-1].shape == (3, 8, 2)
    assert model.intercepts_[-1].shape == (3, 2)


def test_members_average_their_probabilities():
    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", n_members=4, random_state=0)
    model.fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    network = model._new_plan().network
    members = network.member_outputs(model.preprocessor_.transform(X).astype(float))
    np.testing.assert_allclose(proba, members.mean(axis=0), rtol=1e-12)
    # The members disagree: an ensemble, not four copies.
    assert np.abs(members[0] - members[1]).max() > 1e-3


def test_td_is_the_default_and_td_s_unchanged():
    X, y, _ = _table()
    default = TabularMLPClassifier(**SMALL, random_state=0).fit(X, y)
    explicit = TabularMLPClassifier(
        **SMALL, recipe="td", dropout=0.15, weight_decay=0.02, random_state=0
    ).fit(X, y)
    assert default.recipe == "td"
    np.testing.assert_array_equal(default.coefs_[0], explicit.coefs_[0])
    assert hasattr(default, "activation_mix_")
    # RealMLP-TD-S, on request: its recipe's dropout and weight decay are off.
    td_s = TabularMLPClassifier(**SMALL, recipe="td-s", random_state=0).fit(X, y)
    explicit = TabularMLPClassifier(
        **SMALL, recipe="td-s", dropout=0.0, weight_decay=0.0, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(td_s.coefs_[0], explicit.coefs_[0])
    assert not hasattr(td_s, "activation_mix_")


def test_the_regressor_takes_the_td_learning_rate():
    assert TabularMLPRegressor(recipe="td")._default_learning_rate == 0.2
    assert TabularMLPRegressor()._default_learning_rate == 0.2
    assert TabularMLPRegressor(recipe="td-s")._default_learning_rate == 0.07
    assert TabularMLPClassifier(recipe="td")._default_learning_rate == 0.04


@pytest.mark.parametrize(
    "params, match",
    [
        ({"recipe": "td-x"}, "recipe"),
        ({"n_members": 0}, "n_members"),
        ({"numeric_embedding": "periodic"}, "numeric_embedding"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X, y, _ = _table()
    with pytest.raises(InvalidParameterError, match=match):
        TabularMLPClassifier(**SMALL, **params).fit(X, y)


def test_a_failed_refit_keeps_the_fitted_model():
    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", random_state=0).fit(X, y)
    before = model.predict_proba(X)
    buffer = model._parameter_buffer
    with pytest.raises(ValueError, match="classes"):
        model.fit(X, np.full(len(X), "one"))
    assert model._parameter_buffer is buffer
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_pickled_td_models_predict_the_same():
    X, _, y = _table()
    model = TabularMLPRegressor(**SMALL, recipe="td", n_members=2, random_state=0)
    model.fit(X, y)
    stream = io.BytesIO()
    joblib.dump(model, stream)
    stream.seek(0)
    copy = joblib.load(stream)
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))


def test_float32_predictions_do_not_depend_on_the_rows_beside_them():
    X, y, _ = _table(200)
    model = TabularMLPClassifier(**SMALL, recipe="td", random_state=0).fit(X, y)
    order = np.random.default_rng(1).permutation(len(X))
    np.testing.assert_array_equal(
        model.predict_proba(X)[order], model.predict_proba(X.iloc[order])
    )


@pytest.mark.parametrize("n_members", [1, 3])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_save_and_load_without_pickle(Estimator, n_members, tmp_path):
    X, y_class, y_reg = _table()
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    model = Estimator(**SMALL, recipe="td", n_members=n_members, random_state=0)
    model.fit(X, y)
    loaded = load(save(model, tmp_path / "model.npz"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded._parameter_buffer, model._parameter_buffer)
    # The weight attributes are views of the one buffer again.
    assert np.shares_memory(loaded.coefs_[-1], loaded._parameter_buffer)
    assert np.shares_memory(
        loaded.numeric_embedding_["phases"], loaded._parameter_buffer
    )


def _tampered(tmp_path, change):
    X, _, y = _table()
    # One member, so that a member_scale_ is an attribute it has not.
    model = TabularMLPRegressor(**SMALL, recipe="td", n_members=1, random_state=0)
    model.fit(X, y)
    change(model)
    return save(model, tmp_path / "tampered.npz")


@pytest.mark.parametrize(
    "change, match",
    [
        (
            lambda m: setattr(m, "_parameter_buffer", m._parameter_buffer[:-1]),
            "holds .* weights; its parameters describe a network of",
        ),
        (
            lambda m: setattr(m, "coefs_", [c + 1 for c in m.coefs_]),
            "coefs_ is not the weights",
        ),
        (
            lambda m: m._parameter_buffer.__setitem__(0, np.nan),
            "non-finite",
        ),
        (lambda m: setattr(m, "_n_network_inputs", 3), "the network takes 3 inputs"),
        # A one-member model whose n_members reads as the recipe's 4 (as in
        # a file written while the recipe's default was one member).
        (
            lambda m: setattr(m, "n_members", None),
            r"describe a network of \d+ \(hidden layers of \[8, 8\] units, "
            r"4 member\(s\)\)",
        ),
        (lambda m: setattr(m, "recipe", "td-z"), "recipe"),
        (
            lambda m: setattr(m, "member_scale_", np.ones((2, 3), np.float32)),
            "member_scale_, which its network has not",
        ),
    ],
)
def test_a_tampered_file_is_refused_clearly(change, match, tmp_path):
    path = _tampered(tmp_path, change)
    with pytest.raises(ModelFileError, match=match):
        load(path)


def test_piecewise_linear_bins_come_from_trees_on_the_training_rows():
    X, _, y = _table()
    model = TabularMLPRegressor(
        **SMALL, recipe="td", numeric_embedding="ple", random_state=0
    ).fit(X, y)
    # The two numeric columns, each with edges between its extremes.
    assert model._ple_columns == [0, 1]  # age and income, not the indicator
    Z = model.preprocessor_.transform(X)
    for column, edges in zip(model._ple_columns, model._ple_bins):
        assert 2 < len(edges) <= 17
        assert (np.diff(edges) > 0).all()
        assert Z[:, column].min() <= edges[0] and edges[-1] <= Z[:, column].max()
    assert not hasattr(model, "numeric_embedding_")  # no periodic embedding
    n_components = sum(len(edges) - 1 for edges in model._ple_bins)
    assert model.coefs_[0].shape[0] == Z.shape[1] + n_components


def test_many_categories_get_a_learned_table():
    X, y, _ = _table(120)
    rng = np.random.default_rng(3)
    X["city"] = rng.choice([f"city{i}" for i in range(12)], len(X)).astype(object)
    X.loc[::9, "city"] = None
    model = TabularMLPClassifier(**SMALL, recipe="td", random_state=0).fit(X, y)
    prep = model.preprocessor_
    # The recipe one-hot encodes at most 8 categories: "color" (3) stays
    # one-hot, "city" (12, plus the missing row) gets codes and a table.
    assert prep.max_one_hot == 8
    assert prep.n_codes_.tolist() == [13]
    assert model.category_embedding_.shape == (13, 8)
    before = model.category_embedding_.copy()
    model.set_params(n_epochs=SMALL["n_epochs"] + 2).fit(X, y)
    assert not np.array_equal(model.category_embedding_, before)  # learned
    unseen = X.iloc[:3].assign(city=["nowhere", None, "city1"])
    assert model.predict_proba(unseen).shape == (3, 2)


@pytest.mark.parametrize(
    "params",
    [
        {"n_members": 2},
        {"numeric_embedding": "ple", "preprocessor": None},
    ],
)
def test_check_gradients_covers_every_new_parameter(params):
    X, y, _ = _table(30)
    X["city"] = [f"c{i % 11}" for i in range(len(X))]  # a learned table
    small = {**SMALL, "hidden_layer_sizes": (4, 3)}
    model = TabularMLPClassifier(**small, recipe="td", random_state=0, **params)
    error, details = check_gradients(model, X, y, return_details=True)
    assert error < 1e-6
    network = _network(model, X, y)
    assert details.indices.size == network.params.size  # every parameter
    # Names are those of the fitted attributes.
    names = {_parameter_name(network, index) for index in details.indices[::7]}
    prefixes = {name.split("[")[0] for name in names}
    assert {"coefs_", "intercepts_", "feature_scale_", "activation_mix_"} <= prefixes
    assert "category_embedding_" in prefixes


def _network(model, X, y):
    """The engine network a fit of ``model`` trains."""
    return clone(model)._prepare_training(X, y, None).network


def test_a_wrong_mixing_rule_is_caught(monkeypatch):
    X, y, _ = _table(40)
    model = TabularMLPClassifier(**SMALL, recipe="td", random_state=0)
    original = TabularNetwork._hidden

    def skewed(self, z, i):
        a, fz = original(self, z, i)
        return a * 1.05, fz  # the forward no longer matches its backward

    monkeypatch.setattr(TabularNetwork, "_hidden", skewed)
    error = check_gradients(model, X, y, max_params=60, random_state=0)
    assert error > 1e-3


def test_hidden_layer_features_average_the_members():
    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", n_members=3, random_state=0)
    model.fit(X, y)
    features = HiddenLayerFeatures(model, layer=0, prefit=True).fit(X)
    hidden = features.transform(X)
    assert hidden.shape == (len(X), 8)
    network = model._new_plan().network
    Z = model.preprocessor_.transform(X).astype(np.float64)
    by_hand = network.member_outputs(Z, n_layers=1).mean(axis=0)
    np.testing.assert_allclose(hidden, by_hand, rtol=1e-12)


@pytest.mark.parametrize("change", ["coefs_", "numeric_embedding_", "member_scale_"])
def test_a_changed_weight_attribute_changes_the_predictions(change):
    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", n_members=2, random_state=0)
    before = model.fit(X, y).predict_proba(X)  # makes the serving plan
    if change == "coefs_":
        model.coefs_[0] = model.coefs_[0] * 2
    elif change == "numeric_embedding_":
        model.numeric_embedding_["phases"] = model.numeric_embedding_["phases"] + 1
    else:
        model.member_scale_ = -model.member_scale_
    after = model.predict_proba(X)
    assert np.abs(after - before).max() > 1e-3


def test_switching_recipes_leaves_no_stale_state():
    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", n_members=2, random_state=0)
    model.fit(X, y)
    model.set_params(recipe="td-s").fit(X, y)
    for name in ("_parameter_buffer", "activation_mix_", "member_scale_"):
        assert not hasattr(model, name), name
    assert model.coefs_[0].shape[0] == model.preprocessor_.transform(X).shape[1]
    model.set_params(recipe="td", n_members=1).fit(X, y)
    assert not hasattr(model, "member_scale_")
    assert hasattr(model, "activation_mix_")


def test_the_training_curve_display_draws_a_td_fit():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from sknumpynet import TrainingCurveDisplay

    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", random_state=0).fit(X, y)
    display = TrainingCurveDisplay.from_estimator(model)
    assert len(display.lines_) >= 2
    assert 1 <= model.best_epoch_ <= SMALL["n_epochs"] == len(model.history_)


@needs_callbacks
def test_callbacks_see_each_epochs_td_weights():
    counter = CountingCallback()
    X, y, _ = _table()
    model = TabularMLPClassifier(**SMALL, recipe="td", n_members=2, random_state=0)
    model.set_callbacks(counter).fit(X, y)
    assert counter.begins.count("epoch") == SMALL["n_epochs"]
    # The best epoch's snapshot is the fitted model, embeddings included.
    best = counter.snapshots[model.best_epoch_ - 1]
    np.testing.assert_array_equal(
        best.numeric_embedding_["frequencies"], model.numeric_embedding_["frequencies"]
    )
    np.testing.assert_array_equal(best.predict_proba(X), model.predict_proba(X))
