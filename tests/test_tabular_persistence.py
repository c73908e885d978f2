"""sknumpynet.save / load for the tabular estimators and TabularPreprocessor.

* every configuration round-trips: the loaded model predicts (and
  transforms) bitwise like the original on a raw frame with strings, NaN,
  pandas' NA and unseen categories, with the same parameters and fitted
  state, value by value and dtype by dtype;
* what the format cannot check is refused at save time with a TypeError
  (another ``preprocessor`` than a TabularPreprocessor, callbacks);
* forged files -- a valid checksum over inconsistent content -- are refused
  with a ModelFileError naming the problem.
"""

import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from _helpers import METADATA, assert_same_value, documented_checksum
from numpy.testing import assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from sknumpynet import (
    ModelFileError,
    TabularMLPClassifier,
    TabularMLPRegressor,
    TabularPreprocessor,
    _codec,
    _persistence,
    load,
    save,
)

SMALL = {"hidden_layer_sizes": (5,), "n_epochs": 3, "batch_size": 16}


def raw_frame(n_samples=48, seed=0):
    """Numeric, string, nullable boolean, mixed-type and integer columns,
    with missing values in each."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n_samples)
    size[::7] = np.nan
    color = rng.choice(["red", "green", "blue"], n_samples).astype(object)
    color[::5] = None
    member = pd.array(rng.random(n_samples) < 0.5, dtype="boolean")
    member[::6] = pd.NA
    mixed = np.array([1, "u", 2.5, None] * (n_samples // 4), dtype=object)
    count = rng.integers(0, 4, n_samples)
    return pd.DataFrame(
        {"size": size, "color": color, "member": member, "mixed": mixed, "n": count}
    )


# Unseen categories ("purple", "zz", 7), missing values of every kind.
PROBE = pd.DataFrame(
    {
        "size": [np.nan, 0.3, 50.0, -2.0],
        "color": ["purple", None, "red", "blue"],
        "member": pd.array([pd.NA, True, False, True], dtype="boolean"),
        "mixed": np.array(["zz", None, 1, 2.5], dtype=object),
        "n": [7, 0, 1, 3],
    }
)


def _labels(X, kind):
    signal = np.nan_to_num(X["size"].to_numpy()) + (X["color"] == "red")
    if kind == "strings":
        return np.where(signal > 0.3, "high", "low")
    if kind == "three-ints":
        return np.digitize(signal, [0.0, 0.8])
    return signal.to_numpy() * 10 + 100


def _classifier_strings():
    X = raw_frame()
    return TabularMLPClassifier(**SMALL, random_state=0), X, _labels(X, "strings")


def _classifier_strings_td_s():
    X = raw_frame()
    est = TabularMLPClassifier(**SMALL, recipe="td-s", random_state=0)
    return est, X, _labels(X, "strings")


def _classifier_ints_float64_series():
    X = raw_frame()
    y = pd.Series(_labels(X, "three-ints"))
    est = TabularMLPClassifier(**SMALL, dtype="float64", random_state=1)
    return est, X, y


def _classifier_object_labels_no_validation():
    X = raw_frame()
    y = pd.Series(_labels(X, "strings"), dtype=object)
    est = TabularMLPClassifier(**SMALL, validation_fraction=0.0, random_state=2)
    return est, X, y


def _classifier_given_preprocessor():
    X = raw_frame()
    prep = TabularPreprocessor(
        categorical_features=["n"], max_categories=2, scale_encoded=False
    )
    est = TabularMLPClassifier(**SMALL, preprocessor=prep, random_state=3)
    return est, X, _labels(X, "strings")


def _regressor_1d():
    X = raw_frame()
    return TabularMLPRegressor(**SMALL, random_state=0), X, _labels(X, "target")


def _regressor_1d_td_s():
    X = raw_frame()
    est = TabularMLPRegressor(**SMALL, recipe="td-s", random_state=0)
    return est, X, _labels(X, "target")


def _regressor_2d_float64_linear():
    X = raw_frame()
    y = np.column_stack([_labels(X, "target"), np.arange(len(X), dtype=float)])
    est = TabularMLPRegressor(
        hidden_layer_sizes=(), n_epochs=2, dtype="float64", random_state=0
    )
    return est, X, y


def _regressor_column_vector():
    X = raw_frame()
    y = _labels(X, "target").reshape(-1, 1)  # 2-D with one column stays 2-D
    return TabularMLPRegressor(**SMALL, activation="relu", random_state=4), X, y


def _preprocessor_default():
    # Its default dtype is the type np.float32, not a string.
    return TabularPreprocessor(), raw_frame(), None


def _preprocessor_numpy_array():
    X = raw_frame().drop(columns=["member"]).to_numpy(dtype=object)
    prep = TabularPreprocessor(dtype=np.float64, missing_indicators="all")
    return prep, X, None


def _preprocessor_pandas_output():
    prep = TabularPreprocessor(smooth_clip=None).set_output(transform="pandas")
    return prep, raw_frame(), None


def _dated(X):
    """X with a datetime column (NaT in it) and a timedelta column."""
    n = len(X)
    when = pd.Series(pd.date_range("2023-01-01 06:00", periods=n, freq="37h"))
    when[::9] = pd.NaT
    wait = pd.Series(pd.to_timedelta(np.arange(n), unit="min"))
    return X.assign(when=when, wait=wait)


def _classifier_dates_and_codes():
    X = _dated(raw_frame())
    prep = TabularPreprocessor(max_one_hot=2)
    est = TabularMLPClassifier(**SMALL, preprocessor=prep, random_state=5)
    return est, X, _labels(X, "strings")


def _preprocessor_dates_codes():
    prep = TabularPreprocessor(max_one_hot=2, datetime_periodic=False)
    return prep, _dated(raw_frame()), None


CONFIGURATIONS = {
    "classifier-strings": _classifier_strings,
    # RealMLP-TD-S, the default before the full RealMLP-TD: its plain MLP.
    "classifier-strings-td-s": _classifier_strings_td_s,
    "classifier-ints-float64": _classifier_ints_float64_series,
    "classifier-object-labels-no-validation": _classifier_object_labels_no_validation,
    "classifier-given-preprocessor": _classifier_given_preprocessor,
    "regressor-1d": _regressor_1d,
    "regressor-1d-td-s": _regressor_1d_td_s,
    "regressor-2d-float64-linear": _regressor_2d_float64_linear,
    "regressor-column-vector": _regressor_column_vector,
    "preprocessor": _preprocessor_default,
    "preprocessor-array": _preprocessor_numpy_array,
    "preprocessor-pandas-output": _preprocessor_pandas_output,
    "classifier-dates-and-codes": _classifier_dates_and_codes,
    "preprocessor-dates-codes": _preprocessor_dates_codes,
}


def _fitted(name):
    est, X, y = CONFIGURATIONS[name]()
    return (est.fit(X) if y is None else est.fit(X, y)), X


def _probe(X):
    if isinstance(X, pd.DataFrame) and "when" in X.columns:
        when = pd.to_datetime(
            ["2031-01-01 10:00", None, "1999-02-03 00:00", "2024-01-01 23:59"]
        )
        return PROBE.assign(when=when, wait=pd.to_timedelta([None, "1h", "0s", "3D"]))
    if isinstance(X, pd.DataFrame):
        return PROBE
    return PROBE.drop(columns="member").to_numpy(dtype=object)


def outputs(est, X):
    """{method: output} of every prediction method the estimator has."""
    methods = ("predict", "predict_proba", "transform")
    return {m: getattr(est, m)(X) for m in methods if hasattr(est, m)}


def assert_same_outputs(expected, est, X):
    for method, output in outputs(est, X).items():
        if isinstance(output, pd.DataFrame):
            pd.testing.assert_frame_equal(output, expected[method], check_exact=True)
        else:
            assert_array_equal(output, expected[method], strict=True)
            if output.dtype != object:
                assert output.tobytes() == expected[method].tobytes(), method


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_round_trip_predicts_bitwise(name, tmp_path):
    est, X = _fitted(name)
    loaded = load(save(est, tmp_path / "model.npz"))
    assert type(loaded) is type(est)
    assert_same_value(vars(est), vars(loaded), name)
    assert repr(loaded.get_params()) == repr(est.get_params())
    for probe in (X, _probe(X)):
        assert_same_outputs(outputs(est, probe), loaded, probe)


@pytest.mark.parametrize("name", ["classifier-strings", "preprocessor"])
def test_unfitted_round_trip(name, tmp_path):
    est, X, y = CONFIGURATIONS[name]()
    loaded = load(save(est, tmp_path / "model.npz"))
    assert vars(loaded).keys() == vars(est).keys()
    assert repr(loaded.get_params()) == repr(est.get_params())
    # And it fits as the original does.
    args = (X,) if y is None else (X, y)
    assert_same_outputs(outputs(est.fit(*args), PROBE), loaded.fit(*args), PROBE)


def test_attributes_of_the_fit(tmp_path):
    est, X = _fitted("regressor-1d")
    loaded = load(save(est, tmp_path / "model.npz"))
    assert loaded.feature_names_in_.tolist() == list(X.columns)
    assert loaded.preprocessor_.feature_names_in_.tolist() == list(X.columns)
    assert loaded.target_mean_.dtype == np.float64 and loaded._y_ndim == 1
    assert loaded.predict(PROBE).shape == (4,)
    assert loaded.history_ == est.history_ and loaded.best_epoch_ == est.best_epoch_
    cls, _ = _fitted("classifier-ints-float64")
    loaded = load(save(cls, tmp_path / "cls.npz"))
    assert loaded.classes_.dtype == cls.classes_.dtype == np.int64
    assert loaded.coefs_[0].dtype == np.float64


def test_new_fitted_attributes_round_trip_generically(tmp_path):
    """Attributes the training loop may add later need no code here."""
    est, _ = _fitted("classifier-strings")
    est.history_[0]["grad_norm"] = np.float32(0.5)
    est.lr_curve_ = [0.1, float("inf")]
    est.stopped_early_ = False
    est.preprocessor_.n_rare_ = np.array([0, 1])
    loaded = load(save(est, tmp_path / "model.npz"))
    assert_same_value(vars(est), vars(loaded), "est")


# ---------------------------------------------------------------------------
# What save refuses
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fit", [False, True], ids=["unfitted", "fitted"])
def test_save_refuses_another_preprocessor(fit, tmp_path):
    X = raw_frame()[["size", "n"]]
    est = TabularMLPRegressor(**SMALL, preprocessor=make_pipeline(StandardScaler()))
    if fit:
        est.fit(X.fillna(0.0), _labels(raw_frame(), "target"))
    with pytest.raises(TypeError, match=r"its parameter preprocessor is a .*Pipeline"):
        save(est, tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


def test_save_refuses_a_preprocessor_swapped_after_fit(tmp_path):
    est, _ = _fitted("classifier-strings")
    est.preprocessor_ = StandardScaler()
    with pytest.raises(TypeError, match="its attribute preprocessor_ is a"):
        save(est, tmp_path / "model.npz")


def test_save_refuses_a_preprocessor_subclass(tmp_path):
    class MyPreprocessor(TabularPreprocessor):
        pass

    est = TabularMLPClassifier(preprocessor=MyPreprocessor())
    with pytest.raises(TypeError, match="MyPreprocessor"):
        save(est, tmp_path / "model.npz")
    with pytest.raises(TypeError, match="not .*MyPreprocessor"):
        save(MyPreprocessor(), tmp_path / "model.npz")


def test_save_refuses_callbacks_as_for_the_numpy_mlps(tmp_path):
    # scikit-learn's set_callbacks keeps them in _skl_callbacks: never saved.
    est, _ = _fitted("classifier-strings")
    est._skl_callbacks = [object()]
    with pytest.raises(TypeError, match=r"TabularMLPClassifier\._skl_callbacks"):
        save(est, tmp_path / "model.npz")


def test_save_refuses_a_category_string_that_would_change(tmp_path):
    prep, _ = _fitted("preprocessor")
    prep.categories_[1] = np.array(["red", "x\x00"], dtype=object)
    with pytest.raises(TypeError, match="ending in a NUL"):
        save(prep, tmp_path / "model.npz")


# ---------------------------------------------------------------------------
# Forged files: a valid checksum over inconsistent content
# ---------------------------------------------------------------------------


def _forge(est, path):
    """Write ``est`` as it is, bypassing save's own checks (a forger's file)."""
    return _codec.write(est, path, _persistence.ESTIMATORS, _persistence.NESTED)


def _edit_json(path, edit):
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    header = json.loads(members[METADATA])
    edit(header["content"])
    arrays = {name: data for name, data in members.items() if name != METADATA}
    header["sha256"] = documented_checksum(header["content"], arrays)
    members[METADATA] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _set(name, value):
    def edit(est):
        *owners, last = name.split(".")
        obj = est
        for owner in owners:
            obj = getattr(obj, owner)
        setattr(obj, last, value() if callable(value) else value)

    return edit


def _delete(name):
    def edit(est):
        *owners, last = name.split(".")
        obj = est
        for owner in owners:
            obj = getattr(obj, owner)
        delattr(obj, last)

    return edit


def _item(name, index, value):
    def edit(est):
        obj = est
        for owner in name.split("."):
            obj = getattr(obj, owner)
        obj[index] = value

    return edit


P = "preprocessor_."
CRAFTED_OBJECTS = {
    "kind": (
        _item(P + "feature_kinds_", 0, "date"),
        "feature_kinds_ does not give each column",
    ),
    "kinds-not-strings": (
        _set(P + "feature_kinds_", np.array(["numeric"] * 5)),
        "feature_kinds_ does not give",
    ),
    "numeric-with-categories": (
        _item(P + "categories_", 0, np.array(["a"], dtype=object)),
        r"categories_\[0\] is not None",
    ),
    "categorical-without-categories": (
        _item(P + "categories_", 1, None),
        r"categories_\[1\] is not an array of distinct strings",
    ),
    "duplicate-categories": (
        _item(P + "categories_", 1, np.array(["red", "red", "x"], dtype=object)),
        "distinct strings",
    ),
    "number-categories": (
        _item(P + "categories_", 1, np.array([1.0, 2.0, 3.0])),
        "distinct strings",
    ),
    "boolean-categories": (
        _item(P + "categories_", 2, np.array(["False", "True"], dtype=object)),
        "categories of a boolean column",
    ),
    "category-count": (
        _item(P + "categories_", 1, np.array(["blue", "red"], dtype=object)),
        "one boolean per output column",
    ),
    "categories-list": (
        _set(P + "categories_", lambda: [None] * 4),
        "one entry per column",
    ),
    "indicator-on-categorical": (
        _set(P + "missing_indicator_mask_", np.array([True, True] + [False] * 3)),
        "column 1 is categorical but has a missing-value indicator",
    ),
    "indicator-shape": (
        _set(P + "missing_indicator_mask_", np.array([True])),
        "missing_indicator_mask_ is not one boolean per column",
    ),
    "center-nan": (
        _item(P + "center_", 0, np.nan),
        "center_ is not a finite float64",
    ),
    "center-float32": (
        _set(P + "center_", lambda: np.zeros(11, dtype=np.float32)),
        "center_ is not a finite float64",
    ),
    "negative-factor": (_item(P + "factor_", 0, -1.0), "negative scaling factors"),
    "preprocessor-columns": (
        _set("n_features_in_", 4),
        "n_features_in_ is 4, but its preprocessor has 5 input columns",
    ),
    "preprocessor-names": (
        # A new array: the two may share one (scikit-learn < 1.9).
        _set(
            P + "feature_names_in_",
            lambda: np.array(["height", "color", "member", "mixed", "n"], object),
        ),
        "feature_names_in_ are not the columns of its preprocessor",
    ),
    "unfitted-preprocessor": (
        _set("preprocessor_", TabularPreprocessor),
        "preprocessor_ is not fitted",
    ),
    "preprocessor-incomplete": (
        _delete(P + "factor_"),
        r"TabularPreprocessor's fitted state lacks \['factor_'\]",
    ),
    "output-config": (
        _set(P + "_sklearn_output_config", {"transform": "arrow"}),
        "_sklearn_output_config is",
    ),
    "no-preprocessor": (_delete("preprocessor_"), r"lacks \['preprocessor_'\]"),
    "first-layer": (
        _set("coefs_", lambda: None),
        "coefs_ and intercepts_ are not two lists",
    ),
    "feature-scale": (
        _set("feature_scale_", lambda: np.ones(3, np.float32)),
        "feature_scale_ is not a finite float32",
    ),
    "weights-dtype": (
        _set("dtype", "float64"),
        "weights have dtype float32, but dtype is float64",
    ),
    "hidden-layers": (
        _set("hidden_layer_sizes", (6,)),
        r"hidden layers of \[5\] units, but hidden_layer_sizes is \(6,\)",
    ),
    "n-outputs": (_set("n_outputs_", 3), "n_outputs_ is 3, but the weights say 2"),
    "classes-unsorted": (
        _set("classes_", lambda: np.array(["low", "high"])),
        "distinct labels in sorted order",
    ),
    "classes-count": (
        _set("classes_", lambda: np.array(["a", "b", "c"])),
        "2 outputs for 3 classes",
    ),
    "classes-nan": (
        _set("classes_", lambda: np.array([0.0, np.nan])),
        "finite numbers or strings",
    ),
    "loss-curve": (_set("loss_curve_", "abc"), "loss_curve_ is not a list"),
    "best-epoch": (_set("best_epoch_", -1), "best_epoch_ is -1"),
    "private-only": (None, "private state"),  # an unfitted one, see below
}


#: The forgeries of the layers' shapes, which the checks of TD-S's plain MLP
#: name; the full RealMLP-TD's weights are views of its parameter buffer,
#: which its own check compares them with first (these messages).
TD_LAYOUT_MESSAGES = {
    "first-layer": "coefs_ is not the weights _parameter_buffer holds",
    "feature-scale": "feature_scale_ is not the weights _parameter_buffer holds",
    "hidden-layers": "its parameters describe a network of",
    "n-outputs": "its parameters describe a network of",
}


def _forge_crafted(case, est):
    edit, match = CRAFTED_OBJECTS[case]
    if case == "private-only":
        est = TabularMLPClassifier()
        est._y = 1
    elif case == "first-layer":
        # A first layer of another width than the preprocessor's output.
        est.coefs_[0] = est.coefs_[0][:-1]
        est.feature_scale_ = est.feature_scale_[:-1]
        match = "first layer takes 9 inputs, but the preprocessor gives 10"
    else:
        edit(est)
    return est, match


@pytest.mark.parametrize("case", CRAFTED_OBJECTS)
def test_forged_classifier_files_are_refused(case, tmp_path):
    # The layout forgeries are pinned to TD-S, whose checks they target.
    td_s = case in TD_LAYOUT_MESSAGES
    est, _ = _fitted("classifier-strings-td-s" if td_s else "classifier-strings")
    est, match = _forge_crafted(case, est)
    path = _forge(est, tmp_path / "forged.npz")
    with pytest.raises(ModelFileError, match=match) as excinfo:
        load(path)
    assert str(excinfo.value).startswith(f"Cannot load {str(path)!r}: ")
    if td_s:
        est, _ = _forge_crafted(case, _fitted("classifier-strings")[0])
        path = _forge(est, tmp_path / "forged-td.npz")
        with pytest.raises(ModelFileError, match=TD_LAYOUT_MESSAGES[case]):
            load(path)


CRAFTED_REGRESSOR = {
    "scale-zero": (_item("target_scale_", 0, 0.0), "scales that are not positive"),
    "mean-inf": (_item("target_mean_", 0, np.inf), "target_mean_ is not a finite"),
    "mean-shape": (
        _set("target_mean_", lambda: np.zeros(2)),
        r"target_mean_ is not a finite float64 value per output \(1\)",
    ),
    "y-ndim": (_set("_y_ndim", 3), "_y_ndim is 3"),
    "y-ndim-missing": (_delete("_y_ndim"), r"lacks \['_y_ndim'\]"),
}


@pytest.mark.parametrize("case", CRAFTED_REGRESSOR)
def test_forged_regressor_files_are_refused(case, tmp_path):
    est, _ = _fitted("regressor-1d")
    edit, match = CRAFTED_REGRESSOR[case]
    edit(est)
    with pytest.raises(ModelFileError, match=match):
        load(_forge(est, tmp_path / "forged.npz"))


def _nested_class(name):
    def edit(content):
        content["state"]["preprocessor_"]["estimator"] = name

    return edit


def _top_level_preprocessor_state(content):
    content["state"]["preprocessor_"]["state"]["feature_kinds_"] = ["numeric"] * 5


CRAFTED_JSON = {
    "nested-class": (
        _nested_class("Pipeline"),
        r"preprocessor_ holds a 'Pipeline'; inside a model sknumpynet.load "
        r"rebuilds only \['TabularPreprocessor'\]",
    ),
    "nested-network": (_nested_class("NumpyMLPClassifier"), "holds a 'Numpy"),
    "nested-keys": (
        lambda c: c["state"]["preprocessor_"].pop("params"),
        "preprocessor_ has keys",
    ),
    "nested-parameter": (
        lambda c: c["state"]["preprocessor_"]["params"].update(smooth_clip=-1.0),
        "preprocessor_ has invalid parameters",
    ),
    "nested-unknown-parameter": (
        lambda c: c["state"]["preprocessor_"]["params"].update(evil=1),
        r"parameters \['evil'\] that TabularPreprocessor",
    ),
    "list-kinds": (_top_level_preprocessor_state, "feature_kinds_ does not give"),
    "scalar-type": (
        lambda c: c["params"].update(dtype={"type": "scalar_type", "dtype": "object"}),
        "unsupported scalar type",
    ),
    "label-binarizer-preprocessor": (
        lambda c: c["params"].update(
            preprocessor={"type": "LabelBinarizer", "params": {}, "state": {}}
        ),
        "not a fitted LabelBinarizer",
    ),
}


@pytest.mark.parametrize("case", CRAFTED_JSON)
def test_forged_json_is_refused(case, tmp_path):
    est, _ = _fitted("classifier-strings")
    edit, match = CRAFTED_JSON[case]
    path = _edit_json(save(est, tmp_path / "forged.npz"), edit)
    with pytest.raises(ModelFileError, match=match):
        load(path)


def test_an_unfitted_label_binarizer_is_no_preprocessor(tmp_path):
    # Even were it fitted, a LabelBinarizer has fit and transform: the
    # parameter's constraint would accept it, the loader does not.
    est = TabularMLPClassifier()
    binarizer = LabelBinarizer().fit([0, 1])
    est.preprocessor = binarizer
    with pytest.raises(ModelFileError, match="its preprocessor is a LabelBinarizer"):
        load(_forge(est, tmp_path / "forged.npz"))


@pytest.mark.parametrize("case", ["kind", "center-nan", "output-config"])
def test_forged_standalone_preprocessor_is_refused(case, tmp_path):
    prep, _ = _fitted("preprocessor")
    edit, match = CRAFTED_OBJECTS[case]
    est = TabularMLPClassifier()
    est.preprocessor_ = prep
    edit(est)
    with pytest.raises(ModelFileError, match=match):
        load(_forge(prep, tmp_path / "forged.npz"))


CRAFTED_DATES_CODES = {
    "code-on-numeric": (
        _set("code_columns_", lambda: np.array([0, 4], dtype=np.intp)),
        "code_columns_ and n_codes_ are not the first output columns",
    ),
    "n-codes": (
        _set("n_codes_", lambda: np.array([4, 9], dtype=np.intp)),
        "code_columns_ and n_codes_ are not the first output columns",
    ),
    "code-unsorted": (
        _set("code_columns_", lambda: np.array([4, 2], dtype=np.intp)),
        "code_columns_ is not an array of increasing output positions",
    ),
    "datetime-features": (
        _set(
            "datetime_features_", lambda: [None] * 5 + [np.array(["hour"], object)] * 2
        ),
        r"datetime_features_\[5\] are not the features of a datetime column",
    ),
    "numeric-columns": (
        _set("numeric_columns_", lambda: np.ones(2, dtype=bool)),
        "numeric_columns_ is not one boolean per output column",
    ),
}


@pytest.mark.parametrize("case", CRAFTED_DATES_CODES)
def test_forged_dates_and_codes_are_refused(case, tmp_path):
    prep, _ = _fitted("preprocessor-dates-codes")
    edit, match = CRAFTED_DATES_CODES[case]
    edit(prep)
    with pytest.raises(ModelFileError, match=match):
        load(_forge(prep, tmp_path / "forged.npz"))


def test_preprocessor_without_the_attributes_of_dates_and_codes_loads(tmp_path):
    """A file of a version before datetime and code columns loads, and
    transforms as before."""
    prep, X = _fitted("preprocessor")
    expected = prep.transform(PROBE)
    for name in ("datetime_features_", "code_columns_", "n_codes_", "numeric_columns_"):
        delattr(prep, name)
    loaded = load(save(prep, tmp_path / "old.npz"))
    assert_array_equal(loaded.transform(PROBE), expected, strict=True)
    assert_array_equal(loaded.get_feature_names_out(), prep.get_feature_names_out())
