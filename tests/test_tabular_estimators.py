"""TabularMLPClassifier and TabularMLPRegressor: their behaviour at the
default recipe (the full RealMLP-TD), and what is particular to RealMLP-TD-S
(``recipe="td-s"``), where a test pins it.

Small networks and few epochs throughout: the tests check the estimators'
behaviour, not the recipe's accuracy at its defaults.
"""

import joblib
import numpy as np
import pytest
from _helpers import parametrize_with_checks
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import sknumpynet._model
import sknumpynet._training
from sknumpynet import TabularMLPClassifier, TabularMLPRegressor

pd = pytest.importorskip("pandas")

SMALL = {"hidden_layer_sizes": (16,), "n_epochs": 20, "batch_size": 32}


@parametrize_with_checks(
    [
        TabularMLPClassifier(**SMALL, random_state=0),
        TabularMLPRegressor(**SMALL, random_state=0),
        # The full RealMLP-TD's network, one member and a shared-weight
        # ensemble of three.
        TabularMLPClassifier(**SMALL, recipe="td", random_state=0),
        TabularMLPRegressor(**SMALL, recipe="td", n_members=3, random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


ESTIMATORS = [TabularMLPClassifier, TabularMLPRegressor]


def mixed_frame(n_samples=200, seed=0):
    """A raw table of every column kind, missing values included, and the
    class and numeric targets it determines (mostly)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, n_samples)
    color = rng.choice(["red", "green", "blue"], n_samples).astype(object)
    member = rng.random(n_samples) < 0.5
    visits = rng.integers(0, 10, n_samples)
    signal = (age - 40) / 12 + 1.5 * (color == "red") - 1.0 * member
    age[rng.random(n_samples) < 0.1] = np.nan
    color[rng.random(n_samples) < 0.1] = None
    X = pd.DataFrame(
        {
            "age": age,
            "color": color,
            "member": pd.array(member, dtype="boolean"),
            "visits": pd.array(visits, dtype="Int64"),
            "city": pd.Categorical(rng.choice(["a", "b", "c"], n_samples)),
        }
    )
    X.loc[rng.random(n_samples) < 0.1, "member"] = pd.NA
    labels = np.where(signal > np.median(signal), "high", "low")
    return X, labels, 10.0 * signal + rng.normal(0, 0.5, n_samples)


def small(Estimator, **params):
    return Estimator(**{**SMALL, "random_state": 0, **params})


def fit_small(Estimator, X, y_class, y_reg, **params):
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    return small(Estimator, **params).fit(X, y), y


# ---------------------------------------------------------------------------
# Raw tables
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_raw_frame_with_missing_values_and_an_unseen_category(Estimator):
    X, y_class, y_reg = mixed_frame()
    model, y = fit_small(Estimator, X, y_class, y_reg)
    assert model.n_features_in_ == 5
    assert list(model.feature_names_in_) == list(X.columns)
    new = X.iloc[:3].copy()
    new["color"] = ["purple", None, "red"]
    new["age"] = [np.nan, 1e6, 30.0]
    new["city"] = pd.Categorical(["z", "a", None])
    pred = model.predict(new)
    assert pred.shape == (3,)
    if Estimator is TabularMLPClassifier:
        assert set(pred) <= set(model.classes_)
        proba = model.predict_proba(new)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.isfinite(pred).all()


def test_polars_frame():
    pl = pytest.importorskip("polars")
    X, y_class, _ = mixed_frame(100)
    member = [None if pd.isna(v) else bool(v) for v in X["member"]]
    color = [None if pd.isna(v) else v for v in X["color"]]
    frame = pl.DataFrame(
        {"age": X["age"].to_numpy(), "color": color, "member": member},
        schema={"age": pl.Float64, "color": pl.String, "member": pl.Boolean},
    )
    clf = small(TabularMLPClassifier).fit(frame, y_class)
    assert list(clf.feature_names_in_) == ["age", "color", "member"]
    assert set(clf.predict(frame)) <= {"high", "low"}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_the_estimators_learn(Estimator):
    X, y_class, y_reg = mixed_frame(400)
    train, test = slice(0, 300), slice(300, None)
    model, _ = fit_small(Estimator, X[train], y_class[train], y_reg[train])
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    score = model.score(X[test], y[test])
    # Chance is 0.5 accuracy and R^2 = 0; the signal is mostly learnable.
    assert score > (0.8 if Estimator is TabularMLPClassifier else 0.7)


def test_multiclass_probabilities():
    X, _, y_reg = mixed_frame()
    y = np.digitize(y_reg, np.quantile(y_reg, [1 / 3, 2 / 3]))
    clf = small(TabularMLPClassifier).fit(X, y)
    assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.n_outputs_ == 3


# ---------------------------------------------------------------------------
# The recipe: best epoch, precision, determinism, target standardization
# ---------------------------------------------------------------------------


def validation_rows(model, n_samples):
    """The rows the estimator held out: the first draws of its generator
    split the rows (without stratification, for the regressor)."""
    rng = np.random.RandomState(model.random_state)
    _, val = train_test_split(
        np.arange(n_samples), test_size=model.validation_fraction, random_state=rng
    )
    return val


def last_best_epoch(scores):
    """The 1-based number of the last epoch with the best score."""
    return len(scores) - int(np.argmax(scores[::-1]))


def test_the_best_epoch_is_restored():
    X, _, y = mixed_frame(300)
    reg = small(TabularMLPRegressor, n_epochs=40).fit(X, y)
    scores = reg.validation_scores_
    assert len(scores) == len(reg.loss_curve_) == len(reg.history_) == 40
    assert reg.n_iter_ == 40
    assert scores[reg.best_epoch_ - 1] == max(scores)
    assert reg.best_epoch_ == last_best_epoch(scores)
    # The fitted model is that epoch's: its own validation error is the
    # best one, and the last epoch's differs from it.
    val = validation_rows(reg, len(X))
    rmse = np.sqrt(np.mean(((reg.predict(X.iloc[val]) - y[val]) / y.std()) ** 2))
    np.testing.assert_allclose(-rmse, scores[reg.best_epoch_ - 1], rtol=1e-5)
    assert [entry["val_score"] for entry in reg.history_] == scores


def test_the_classifier_keeps_its_most_accurate_epoch():
    X, y, _ = mixed_frame(300)
    # One member: this fit's best accuracy is reached at several epochs,
    # which the tie rule below needs.
    clf = small(TabularMLPClassifier, n_epochs=30, n_members=1).fit(X, y)
    scores = clf.validation_scores_
    assert all(0 <= s <= 1 for s in scores)
    # Accuracy on a small validation set ties often: the latest of the tied
    # best epochs is kept.
    assert scores.count(max(scores)) > 1
    assert clf.best_epoch_ == last_best_epoch(scores)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_without_validation_the_last_epoch_is_kept(Estimator):
    X, y_class, y_reg = mixed_frame(100)
    model, y = fit_small(Estimator, X, y_class, y_reg, validation_fraction=0.0)
    assert model.validation_scores_ == []
    assert model.best_epoch_ == model.n_iter_ == SMALL["n_epochs"]
    assert "val_score" not in model.history_[0]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_float32_by_default_float64_on_request(Estimator):
    X, y_class, y_reg = mixed_frame(100)
    model, y = fit_small(Estimator, X, y_class, y_reg)
    arrays = [*model.coefs_, *model.intercepts_, model.feature_scale_]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    assert model.preprocessor_.transform(X).dtype == np.float32
    model64, _ = fit_small(Estimator, X, y_class, y_reg, dtype="float64")
    assert model64.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fixed_random_state_is_deterministic(Estimator):
    X, y_class, y_reg = mixed_frame(150)
    a, _ = fit_small(Estimator, X, y_class, y_reg, random_state=3)
    b, _ = fit_small(Estimator, X, y_class, y_reg, random_state=3)
    c, _ = fit_small(Estimator, X, y_class, y_reg, random_state=4)
    assert a.loss_curve_ == b.loss_curve_
    for wa, wb in zip(a.coefs_, b.coefs_):
        assert_array_equal(wa, wb)
    assert a.loss_curve_ != c.loss_curve_


def test_regression_targets_are_standardized():
    X, _, y = mixed_frame(200)
    base = small(TabularMLPRegressor).fit(X, y)
    # An affine change of the target changes nothing but the scale of the
    # predictions: the network learns the standardized target either way.
    shifted = small(TabularMLPRegressor).fit(X, 1e6 + 3e4 * y)
    np.testing.assert_allclose(shifted.target_mean_, [1e6 + 3e4 * y.mean()])
    np.testing.assert_allclose(shifted.target_scale_, [3e4 * y.std()])
    np.testing.assert_allclose(
        shifted.predict(X), 1e6 + 3e4 * base.predict(X), rtol=1e-5
    )
    assert shifted.score(X, 1e6 + 3e4 * y) > 0.7
    assert shifted.predict(X).dtype == np.float64


def test_regressor_with_two_targets():
    X, _, y = mixed_frame(150)
    Y = np.column_stack([y, -2.0 * y + 5.0])
    reg = small(TabularMLPRegressor).fit(X, Y)
    assert reg.n_outputs_ == 2
    assert reg.predict(X).shape == (150, 2)
    column = small(TabularMLPRegressor).fit(X, y[:, None])
    assert column.predict(X).shape == (150, 1)


# ---------------------------------------------------------------------------
# scikit-learn's tools
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_cross_validation_and_grid_search(Estimator):
    X, y_class, y_reg = mixed_frame(150)
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    model = small(Estimator, n_epochs=10)
    assert clone(model).get_params() == model.get_params()
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    grid = GridSearchCV(
        model, {"hidden_layer_sizes": [(4,), (8,)]}, cv=2, n_jobs=1
    ).fit(X, y)
    assert grid.best_params_["hidden_layer_sizes"] in [(4,), (8,)]
    assert grid.predict(X).shape == (150,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_joblib_round_trip(Estimator, tmp_path):
    X, y_class, y_reg = mixed_frame(100)
    model, _ = fit_small(Estimator, X, y_class, y_reg)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_custom_preprocessor_is_cloned():
    X = np.random.default_rng(0).normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    scaler = StandardScaler()
    clf = small(TabularMLPClassifier, preprocessor=scaler).fit(X, y)
    assert isinstance(clf.preprocessor_, StandardScaler)
    assert clf.preprocessor_ is not scaler and not hasattr(scaler, "mean_")
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_no_partial_fit_and_tags(Estimator):
    model = Estimator()
    assert not hasattr(model, "partial_fit")
    tags = model.__sklearn_tags__()
    assert tags.input_tags.allow_nan and tags.input_tags.string
    assert tags.input_tags.categorical
    expected = "classifier" if Estimator is TabularMLPClassifier else "regressor"
    assert tags.estimator_type == expected


def test_none_sizes_and_members_are_the_recipes():
    X = pd.DataFrame({"a": np.arange(40.0), "b": list("xyz" * 13 + "x")})
    y = np.arange(40) % 2
    td = TabularMLPClassifier(n_epochs=1, random_state=0).fit(X, y)
    assert [c.shape[-1] for c in td.coefs_[:-1]] == [128, 128, 128]
    assert td.member_scale_.shape[0] == 4 and td.coefs_[-1].shape[0] == 4
    td_s = TabularMLPClassifier(recipe="td-s", n_epochs=1, random_state=0)
    td_s.fit(X, y)
    assert [c.shape[1] for c in td_s.coefs_[:-1]] == [256, 256, 256]
    assert not hasattr(td_s, "member_scale_")
    # An explicit value wins over the recipe's.
    one = TabularMLPClassifier(hidden_layer_sizes=(8,), n_members=1, n_epochs=1)
    one.fit(X, y)
    assert one.coefs_[0].shape[1] == 8 and one.coefs_[-1].ndim == 2


def test_the_recipe_defaults():
    clf, reg = TabularMLPClassifier(), TabularMLPRegressor()
    for model in (clf, reg):
        # None: the recipe's, 4 members of width 128 for the full RealMLP-TD.
        assert (model.hidden_layer_sizes, model.n_members) == (None, None)
        assert model._default_hidden_layer_sizes == (128, 128, 128)
        assert (model.n_epochs, model.batch_size) == (256, 256)
        assert model.validation_fraction == 0.2 and model.dtype == "float32"
        assert model.recipe == "td"
        assert (model.dropout, model.weight_decay) == (None, None)
        # None: the recipe's, on for the full RealMLP-TD, off for TD-S.
        assert (model._default_dropout, model._training_config().weight_decay) == (
            0.15,
            0.02,
        )
        model.set_params(recipe="td-s")
        assert (model._default_dropout, model._training_config().weight_decay) == (
            0.0,
            0.0,
        )
    assert clf.label_smoothing == 0.1
    assert "label_smoothing" not in reg.get_params()
    assert (clf._default_activation, reg._default_activation) == ("selu", "mish")
    # TD-S's step sizes (the loop above set recipe="td-s"), then TD's.
    assert (clf._default_learning_rate, reg._default_learning_rate) == (0.04, 0.07)
    for model in (clf, reg):
        model.set_params(recipe="td")
    assert (clf._default_learning_rate, reg._default_learning_rate) == (0.04, 0.2)


def test_verbose_prints_every_epoch(capsys):
    X, y, _ = mixed_frame(60)
    small(TabularMLPClassifier, n_epochs=3, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1, loss = ")
    assert "validation score" in lines[0]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_one_class_is_a_clear_error():
    X, _, _ = mixed_frame(50)
    with pytest.raises(ValueError, match="only 1 class"):
        small(TabularMLPClassifier).fit(X, ["a"] * 50)


@pytest.mark.parametrize(
    "params",
    [
        {"n_epochs": 0},
        {"batch_size": 0},
        {"learning_rate": -1.0},
        {"validation_fraction": 1.0},
        {"activation": "nope"},
        {"dtype": "float16"},
        {"preprocessor": "scaler"},
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_parameters_are_refused(Estimator, params):
    X, y_class, y_reg = mixed_frame(50)
    y = y_class if Estimator is TabularMLPClassifier else y_reg
    with pytest.raises(InvalidParameterError, match=list(params)[0]):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize("sizes", [(0,), (8, -1), ("a",)])
def test_bad_hidden_layer_sizes(sizes):
    X, y, _ = mixed_frame(50)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        TabularMLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_length_mismatch(Estimator):
    X, y_class, y_reg = mixed_frame(50)
    y = (y_class if Estimator is TabularMLPClassifier else y_reg)[:40]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        small(Estimator).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        # TD-S has no weight decay: the steps themselves diverge.
        ({"recipe": "td-s"}, "diverged"),
        # The full RealMLP-TD refuses a decay that would flip the weights'
        # signs before the first step.
        ({}, "weight_decay=0.02 is too strong for the learning rate 1e[+]30"),
        ({"weight_decay": 0.0}, "diverged"),
    ],
)
def test_divergence_is_a_clear_error_and_keeps_the_fitted_model(params, match):
    X, _, y = mixed_frame(100)
    reg = small(TabularMLPRegressor, **params).fit(X, y)
    before = reg.predict(X)
    coefs = reg.coefs_
    reg.set_params(learning_rate=1e30)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)
    assert reg.coefs_ is coefs
    assert_array_equal(reg.predict(X), before)
    fresh = small(TabularMLPRegressor, **params, learning_rate=1e30)
    with pytest.raises(ValueError, match=match):
        fresh.fit(X, y)
    assert not hasattr(fresh, "coefs_")


def test_a_sparse_preprocessor_output_is_used_as_is():
    X = np.random.default_rng(0).integers(0, 5, size=(200, 3))
    y = (X[:, 0] > 2).astype(int)
    clf = small(TabularMLPClassifier, preprocessor=OneHotEncoder()).fit(X, y)
    assert sparse.issparse(clf.preprocessor_.transform(X))
    assert clf.score(X, y) > 0.8


def test_non_finite_values_after_preprocessing_are_clear_errors():
    X = np.random.default_rng(0).normal(size=(100, 3))
    y = X[:, 0]
    reg = small(TabularMLPRegressor, preprocessor=FunctionTransformer())
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="X after preprocessing contains NaN"):
        reg.fit(X_nan, y)
    # Pinned to TD-S, which predicts in float32 and overflows on such inputs;
    # the full RealMLP-TD predicts in float64, where the output stays finite.
    td_s = clone(reg).set_params(recipe="td-s").fit(X, y)
    with pytest.raises(ValueError, match="output is not finite for 2 of the 2"):
        td_s.predict(np.full((2, 3), 3e38))
    assert np.isfinite(reg.fit(X, y).predict(np.full((2, 3), 3e38))).all()


def test_a_failed_fit_keeps_the_previous_model():
    X, y, _ = mixed_frame(60)
    clf = small(TabularMLPClassifier).fit(X, y)
    state = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    with pytest.raises(ValueError, match="only 1 class"):
        clf.fit(X, ["a"] * len(X))
    assert {k: v for k, v in vars(clf).items() if k.endswith("_")} == state


@pytest.mark.parametrize(
    "sizes, shapes", [(8, [(10, 8), (8, 2)]), ((), [(10, 2)]), ([4, 3], None)]
)
def test_hidden_layer_sizes_forms(sizes, shapes):
    X, y, _ = mixed_frame(100)
    shapes = shapes or [(10, 4), (4, 3), (3, 2)]
    # Pinned to TD-S, whose first layer reads the preprocessed columns alone:
    # 10 of them, age, 3 colors, member, visits, 3 cities, and the
    # missing-age indicator.
    clf = small(TabularMLPClassifier, recipe="td-s", hidden_layer_sizes=sizes)
    clf.fit(X, y)
    assert [coef.shape for coef in clf.coefs_] == shapes
    assert clf.feature_scale_.shape == (10,)
    # The full RealMLP-TD's also reads 3 embedding outputs of each of the 2
    # numeric columns (age, visits), and its 4 members have an output layer
    # each.
    td = small(TabularMLPClassifier, hidden_layer_sizes=sizes).fit(X, y)
    expected = [(16, shapes[0][1]), *shapes[1:]]
    expected[-1] = (4, *expected[-1])
    assert [coef.shape for coef in td.coefs_] == expected
    assert td.feature_scale_.shape == (16,)


@pytest.mark.parametrize("recipe", ["td-s", "td"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_the_engine_gets_the_recipe(Estimator, recipe, monkeypatch):
    built = {}
    make_optimizer = sknumpynet._training.make_optimizer

    def recording_optimizer(solver, *args, **kwargs):
        built["adam"] = {"solver": solver, **kwargs}
        return make_optimizer(solver, *args, **kwargs)

    class RecordingMLP(sknumpynet._model.MLP):
        def __init__(self, *args, **kwargs):
            built["mlp"] = (args, kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sknumpynet._training, "make_optimizer", recording_optimizer)
    monkeypatch.setattr(sknumpynet._model, "MLP", RecordingMLP)
    X, y_class, y_reg = mixed_frame(100)
    model, _ = fit_small(Estimator, X, y_class, y_reg, batch_size=16, recipe=recipe)
    adam = built["adam"]
    assert adam["solver"] == "adam"
    assert (adam["beta_1"], adam["beta_2"]) == (0.9, 0.95)
    assert adam["lr_schedule"] == "coslog4"
    # 80 training rows in batches of 16: 5 steps per epoch.
    assert adam["total_steps"] == 5 * SMALL["n_epochs"]
    classifier = Estimator is TabularMLPClassifier
    # The schedule ends at zero: coslog4 at the end of training.
    rates = [entry["learning_rate"] for entry in model.history_]
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)
    assert max(rates) <= adam["learning_rate_init"]
    if recipe == "td":
        assert adam["learning_rate_init"] == (0.04 if classifier else 0.2)
        assert (adam["weight_decay"], adam["wd_schedule"]) == (0.02, "flat_cos")
        # The full RealMLP-TD's network is no plain MLP (test_tabular_td
        # checks what reaches it).
        assert "mlp" not in built
        return
    assert adam["learning_rate_init"] == (0.04 if classifier else 0.07)
    assert adam["weight_decay"] == 0.0
    assert set(np.unique(adam["lr_multipliers"])) == {
        np.float32(x) for x in (1, 0.1, 6)
    }
    # TD-S trains the engine's plain MLP.
    args, kwargs = built["mlp"]
    assert args[1] == (["selu"] if classifier else ["mish"])
    assert kwargs["parametrization"] == "ntk" and kwargs["feature_scale"]
    assert kwargs["label_smoothing"] == (0.1 if classifier else 0.0)
