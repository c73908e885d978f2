"""ONNX export of TabularMLPClassifier and TabularMLPRegressor, preprocessing
included: every converted graph is run with onnxruntime on raw columns
(missing values, unseen categories) and compared with predict and
predict_proba.

Tolerances: a float32 model's graph computes the network in float32, as the
estimator does, but sums in another order: probabilities within 1e-5
(absolute), regression outputs within 1e-5 of the target's scale
(``target_scale_``, the unit the network predicts in). A float64 model's
graph computes what transform and the network compute, operation by
operation in float64: within 1e-12 (of the target's scale).
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sknumpynet import (
    TabularMLPClassifier,
    TabularMLPRegressor,
    TabularPreprocessor,
)

pd = pytest.importorskip("pandas")
pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from skl2onnx import to_onnx  # noqa: E402
from skl2onnx.common.data_types import (  # noqa: E402
    DoubleTensorType,
    Int64TensorType,
    StringTensorType,
)

from sknumpynet import register_onnx_converters  # noqa: E402

TINY = {"hidden_layer_sizes": (8,), "n_epochs": 3, "random_state": 0}
ATOL = {"float32": 1e-5, "float64": 1e-12}


@pytest.fixture(scope="module", autouse=True)
def _registered():
    register_onnx_converters()


def _frame(n=90, seed=0):
    """A small table of a few kinds of columns, with missing values."""
    rng = np.random.RandomState(seed)
    age = rng.normal(40, 12, n).round()
    age[rng.rand(n) < 0.15] = np.nan
    city = rng.choice(["Paris", "Lyon", "Nice", "Lille"], n).astype(object)
    city[rng.rand(n) < 0.15] = None
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.lognormal(10, 0.8, n),
            "rooms": rng.randint(1, 6, n),
            "city": city,
            "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
            "member": rng.rand(n) < 0.4,
            "smoker": rng.choice(["yes", "no"], n),
        }
    )


def _new_rows(frame):
    """The rows to predict: unseen categories and missing values added."""
    new = frame.copy()
    new["city"] = new["city"].astype(object)
    new.loc[0:4, "city"] = "Marseille"  # unseen
    new.loc[5:9, "city"] = None
    new.loc[10:12, "smoker"] = "sometimes"  # unseen, in a +1/-1 column
    new.loc[13:16, "age"] = np.nan
    return new


def _classes(frame, n_classes=3):
    score = np.log(frame["income"]) + 0.02 * frame["age"].fillna(40)
    edges = np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1])
    return np.array(["bronze", "silver", "gold"])[np.searchsorted(edges, score)]


def _session(model, options=None, **to_onnx_kwargs):
    onx = to_onnx(model, options=options, **to_onnx_kwargs)
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


_NUMPY_TYPES = {
    "tensor(double)": np.float64,
    "tensor(float)": np.float32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


def _inputs(session, frame):
    """onnxruntime's inputs: one (n, 1) array per column; a missing string
    is passed as the empty string."""
    feeds = {}
    for variable in session.get_inputs():
        column = frame[[variable.name]]
        if variable.type == "tensor(string)":
            values = column.astype(object).to_numpy()
            missing = pd.isna(values)
            feeds[variable.name] = np.where(missing, "", values.astype(str)).astype(
                object
            )
        else:
            feeds[variable.name] = column.to_numpy(_NUMPY_TYPES[variable.type])
    return feeds


def _run(model, frame, new, **kwargs):
    session = _session(model, X=frame, **kwargs)
    return session.run(None, _inputs(session, new))


# ---------------------------------------------------------------------------
# Agreement with the estimator
# ---------------------------------------------------------------------------


#: The recipes: RealMLP-TD-S, and the full RealMLP-TD's network with its
#: periodic embeddings and a shared-weight ensemble of three, or with
#: piecewise-linear encodings.
RECIPES = {
    "td-s": {"recipe": "td-s"},
    "td-k3": {"recipe": "td", "n_members": 3},
    "td-ple": {"recipe": "td", "numeric_embedding": "ple"},
    # Category codes into learned tables: "city" and "plan" have more than 2.
    "td-codes": {"recipe": "td", "preprocessor": TabularPreprocessor(max_one_hot=2)},
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_agrees_on_raw_columns(dtype, n_classes, recipe):
    frame = _frame()
    y = _classes(frame, n_classes)
    clf = TabularMLPClassifier(dtype=dtype, **TINY, **RECIPES[recipe]).fit(frame, y)
    new = _new_rows(frame)
    labels, probabilities = _run(clf, frame, new, options={"zipmap": False})
    expected = clf.predict_proba(new)
    assert probabilities.dtype == np.dtype(dtype)
    assert_array_equal(labels, clf.predict(new))
    assert_allclose(probabilities, expected, rtol=0, atol=ATOL[dtype])
    # The test rows do reach the unseen-category and missing-value paths.
    assert not np.allclose(expected[0], expected[20])


def test_classifier_zipmap_and_integer_labels():
    frame = _frame()
    y = np.searchsorted(["bronze", "gold", "silver"], _classes(frame))
    clf = TabularMLPClassifier(**TINY).fit(frame, y)
    labels, probabilities = _run(clf, frame, _new_rows(frame))
    probabilities = np.array([[row[c] for c in clf.classes_] for row in probabilities])
    assert labels.dtype == np.int64
    assert_array_equal(labels, clf.predict(_new_rows(frame)))
    assert_allclose(
        probabilities, clf.predict_proba(_new_rows(frame)), rtol=0, atol=1e-5
    )


@pytest.mark.parametrize("recipe", sorted(RECIPES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_agrees_on_the_targets_scale(dtype, n_targets, recipe):
    frame = _frame()
    y = 1000 * np.log(frame["income"].to_numpy()) + 50 * frame["rooms"].to_numpy()
    if n_targets == 2:
        y = np.column_stack([y, -0.01 * y])
    reg = TabularMLPRegressor(dtype=dtype, **TINY, **RECIPES[recipe]).fit(frame, y)
    new = _new_rows(frame)
    (predictions,) = _run(reg, frame, new)
    expected = reg.predict(new).reshape(len(new), n_targets)
    assert predictions.shape == (len(new), n_targets)
    assert predictions.dtype == np.dtype(dtype)
    # In units of the target's scale: the network's own unit.
    assert_allclose((predictions - expected) / reg.target_scale_, 0, atol=ATOL[dtype])
    assert np.ptp(expected) > 10 * reg.target_scale_.min() * ATOL["float32"]


@pytest.mark.parametrize(
    "preprocessor",
    [
        TabularPreprocessor(scale_encoded=False, missing_indicators="all"),
        TabularPreprocessor(smooth_clip=None, max_categories=2),
        TabularPreprocessor(categorical_features=["rooms"], dtype=np.float64),
        # Codes: city (4 categories, strings) and rooms (5, integers).
        TabularPreprocessor(categorical_features=["rooms"], max_one_hot=3),
        TabularPreprocessor(max_one_hot=0, scale_encoded=False, max_categories=3),
    ],
    ids=[
        "unscaled-encoding",
        "no-clip-capped",
        "integer-categories",
        "codes",
        "every-column-codes",
    ],
)
def test_preprocessor_options_convert(preprocessor):
    frame = _frame()
    y = _classes(frame)
    clf = TabularMLPClassifier(preprocessor=preprocessor, dtype="float64", **TINY)
    clf.fit(frame, y)
    new = _new_rows(frame)
    new.loc[20:22, "rooms"] = 9  # an unseen integer category
    labels, probabilities = _run(clf, frame, new, options={"zipmap": False})
    assert_array_equal(labels, clf.predict(new))
    assert_allclose(probabilities, clf.predict_proba(new), rtol=0, atol=1e-12)


def test_missing_string_is_the_empty_string():
    """'' gives the encoding of a missing value (and of an unseen one)."""
    frame = _frame()
    clf = TabularMLPClassifier(dtype="float64", **TINY).fit(frame, _classes(frame))
    session = _session(clf, X=frame, options={"zipmap": False})
    rows = frame.iloc[[0, 0, 0]].copy()
    rows["city"] = rows["city"].astype(object)
    rows.iloc[0, rows.columns.get_loc("city")] = None
    rows.iloc[1, rows.columns.get_loc("city")] = "Atlantis"
    feeds = _inputs(session, rows)
    assert feeds["city"][0, 0] == ""
    _, probabilities = session.run(None, feeds)
    assert_allclose(probabilities[0], probabilities[1], rtol=0, atol=0)
    assert_allclose(probabilities, clf.predict_proba(rows), rtol=0, atol=1e-12)
    # A known city encodes otherwise.
    feeds["city"][2, 0] = "Paris"
    _, changed = session.run(None, feeds)
    assert not np.allclose(changed[2], changed[0])


def test_inputs_are_matched_by_name():
    """Inputs declared in another order are matched to the fitted columns."""
    frame = _frame()
    reg = TabularMLPRegressor(dtype="float64", **TINY).fit(
        frame, frame["income"].to_numpy()
    )
    from skl2onnx.algebra.type_helper import guess_initial_types

    types = guess_initial_types(frame, None)[::-1]
    session = _session(reg, initial_types=types)
    assert [v.name for v in session.get_inputs()][0] == "smoker"
    new = _new_rows(frame)
    (predictions,) = session.run(None, _inputs(session, new))
    assert_allclose(predictions.ravel(), reg.predict(new), rtol=1e-12)


def test_polars_fit_and_names_that_are_not_identifiers():
    """A polars-fitted model exports through pandas; skl2onnx renames the
    input "floor area" to "floor_area", still matched to its column."""
    pl = pytest.importorskip("polars")
    frame = _frame().rename(columns={"income": "floor area"})
    reg = TabularMLPRegressor(dtype="float64", **TINY)
    reg.fit(pl.from_pandas(frame), np.log(frame["floor area"].to_numpy()))
    types = _types(frame)[::-1]  # matched by name, not by position
    session = _session(reg, initial_types=types)
    names = [variable.name for variable in session.get_inputs()]
    assert "floor_area" in names and "floor area" not in names
    original = {name.replace(" ", "_"): name for name in frame.columns}
    renamed = frame.rename(columns={v: k for k, v in original.items()})
    new = _new_rows(renamed)
    (predictions,) = session.run(None, _inputs(session, new))
    expected = reg.predict(pl.from_pandas(new.rename(columns=original)))
    assert_allclose(predictions.ravel(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("input_dtype", [np.float32, np.float64])
def test_array_fitted_model_takes_one_matrix(input_dtype):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 4)) * [1, 10, 100, 1]
    X[:, 3] = rng.randint(0, 3, 80)  # an integer-coded category
    X[rng.rand(80) < 0.1, 0] = np.nan
    X = X.astype(input_dtype)
    y = (X[:, 1] > 0).astype(int)
    prep = TabularPreprocessor(categorical_features=[3])
    clf = TabularMLPClassifier(preprocessor=prep, **TINY).fit(X, y)
    session = _session(clf, X=X[:1], options={"zipmap": False})
    assert len(session.get_inputs()) == 1
    X_new = X.copy()
    X_new[:5, 3] = 7  # unseen
    X_new[5:10, 1] = np.nan  # missing where fit saw none: no indicator
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: X_new})
    assert_array_equal(labels, clf.predict(X_new))
    assert_allclose(probabilities, clf.predict_proba(X_new), rtol=0, atol=1e-5)


def test_nullable_boolean_column_as_a_string_input():
    """skl2onnx cannot type pandas' nullable booleans: a string input can."""
    frame = _frame()
    frame["member"] = pd.array(
        np.where(np.arange(len(frame)) % 7 == 0, None, frame["member"]),
        dtype="boolean",
    )
    clf = TabularMLPClassifier(dtype="float64", **TINY).fit(frame, _classes(frame))
    assert clf.preprocessor_.feature_kinds_[5] == "boolean"
    types = _types(frame.drop(columns="member"))
    types.append(("member", StringTensorType([None, 1])))
    session = _session(clf, initial_types=types, options={"zipmap": False})
    feeds = _inputs(session, frame)
    assert set(feeds["member"].ravel()) == {"True", "False", ""}
    _, probabilities = session.run(None, feeds)
    assert_allclose(probabilities, clf.predict_proba(frame), rtol=0, atol=1e-12)


def test_pandas_categorical_of_numbers():
    """skl2onnx types a category column of numbers as int64: integer
    categories are matched by value; float ones ("0.5") cannot be, and say
    so, but convert from a double input."""
    frame = _frame()
    rng = np.random.RandomState(2)
    frame["floors"] = pd.Categorical(rng.choice([1, 2, 3], len(frame)))
    frame["ratio"] = pd.Categorical(rng.choice([0.5, 1.5, 2.0], len(frame)))
    clf = TabularMLPClassifier(dtype="float64", **TINY).fit(frame, _classes(frame))
    assert list(clf.preprocessor_.categories_[-1]) == ["0.5", "1.5", "2.0"]
    with pytest.raises(ValueError, match="Column 'ratio' is categorical"):
        to_onnx(clf, X=frame)
    types = _types(frame.drop(columns="ratio"))
    types.append(("ratio", DoubleTensorType([None, 1])))
    assert dict(types)["floors"].__class__ is Int64TensorType
    session = _session(clf, initial_types=types, options={"zipmap": False})
    new = frame.copy()
    new["floors"] = new["floors"].cat.add_categories([4])
    new.loc[0:3, "floors"] = 4  # unseen
    new["ratio"] = new["ratio"].astype(float)
    new.loc[4:6, "ratio"] = np.nan
    feeds = _inputs(session, new)
    feeds["floors"] = new[["floors"]].astype(np.int64).to_numpy()
    _, probabilities = session.run(None, feeds)
    expected = clf.predict_proba(new)
    assert_allclose(probabilities, expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# What cannot be converted
# ---------------------------------------------------------------------------


def _fitted_classifier(frame):
    return TabularMLPClassifier(**TINY).fit(frame, _classes(frame))


def _types(frame, **replaced):
    from skl2onnx.algebra.type_helper import guess_initial_types

    return [
        (name, replaced.get(name, type_))
        for name, type_ in guess_initial_types(frame, None)
    ]


def test_numeric_column_given_strings_names_the_column():
    frame = _frame()
    clf = _fitted_classifier(frame)
    types = _types(frame, income=StringTensorType([None, 1]))
    with pytest.raises(ValueError, match="Column 'income' is numeric"):
        to_onnx(clf, initial_types=types)


def test_string_categories_given_numbers_names_the_column():
    frame = _frame()
    clf = _fitted_classifier(frame)
    types = _types(frame, city=Int64TensorType([None, 1]))
    with pytest.raises(ValueError, match="Column 'city' is categorical"):
        to_onnx(clf, initial_types=types)


def test_numeric_categories_given_doubles_are_matched_by_value():
    """Integer categories ("1") match no double (whose str is "1.0")."""
    frame = _frame()
    prep = TabularPreprocessor(categorical_features=["rooms"])
    clf = TabularMLPClassifier(preprocessor=prep, **TINY).fit(frame, _classes(frame))
    types = _types(frame, rooms=DoubleTensorType([None, 1]))
    with pytest.raises(ValueError, match="Column 'rooms' is categorical"):
        to_onnx(clf, initial_types=types)


def test_code_columns_agree_with_transform():
    """The preprocessing graph's code columns are transform's: a float64
    model fed the two code columns only predicts as its graph does, to
    1e-12, on unseen and missing categories too."""
    frame = _frame()[["city", "rooms"]]
    prep = TabularPreprocessor(
        categorical_features=["rooms"], max_one_hot=2, dtype=np.float64
    )
    reg = TabularMLPRegressor(preprocessor=prep, dtype="float64", **TINY)
    reg.fit(frame, np.arange(len(frame), dtype=float))
    new = _new_rows(_frame())[["city", "rooms"]]
    new.loc[20:22, "rooms"] = 9  # unseen
    codes = reg.preprocessor_.transform(new)
    assert_array_equal(reg.preprocessor_.code_columns_, [0, 1])
    assert set(codes[:, 0]) == {0.0, 1.0, 2.0, 3.0, 4.0}  # 0: unseen or missing
    assert (codes[20:23, 1] == 0).all()
    (predicted,) = _run(reg, frame, new)
    assert_allclose(predicted[:, 0], reg.predict(new), rtol=0, atol=1e-12)


def test_datetime_columns_are_refused_with_the_reason():
    frame = _frame()[["age", "income"]]
    frame["joined"] = pd.date_range("2020-01-01", periods=len(frame), freq="D")
    frame["waited"] = pd.to_timedelta(np.arange(len(frame)), unit="h")
    clf = TabularMLPClassifier(**TINY).fit(frame, _classes(_frame()))
    types = [
        ("age", DoubleTensorType([None, 1])),
        ("income", DoubleTensorType([None, 1])),
        ("joined", Int64TensorType([None, 1])),
        ("waited", Int64TensorType([None, 1])),
    ]
    with pytest.raises(
        ValueError, match="Column 'joined' is a datetime column.*ONNX has no date"
    ):
        to_onnx(clf, initial_types=types)
    clf.fit(frame.drop(columns="joined"), _classes(_frame()))
    with pytest.raises(ValueError, match="Column 'waited' is a timedelta column"):
        to_onnx(clf, initial_types=types[:2] + types[3:])


def test_other_preprocessors_are_refused():
    from sklearn.preprocessing import StandardScaler

    X = _frame()[["age", "income"]].fillna(0.0)
    clf = TabularMLPClassifier(preprocessor=StandardScaler(), **TINY)
    clf.fit(X, _classes(_frame()))
    with pytest.raises(ValueError, match="preprocessor is a StandardScaler"):
        to_onnx(clf, X=X)


def test_wrong_number_of_inputs_is_explained():
    frame = _frame()
    clf = _fitted_classifier(frame)
    with pytest.raises(ValueError, match="fitted on 7 columns, but the ONNX graph"):
        to_onnx(clf, X=frame.iloc[:, :3])


def test_empty_string_category_warns():
    frame = _frame()
    frame["smoker"] = np.where(frame["smoker"] == "no", "", "yes")
    clf = _fitted_classifier(frame)
    with pytest.warns(UserWarning, match="Column 'smoker' has the empty string"):
        session = _session(clf, X=frame, options={"zipmap": False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels, probabilities = session.run(None, _inputs(session, frame))
    assert_allclose(probabilities, clf.predict_proba(frame), rtol=0, atol=1e-5)


def test_register_names_the_tabular_converters():
    aliases = register_onnx_converters()
    assert aliases["TabularMLPClassifier"] == "SknumpynetTabularMLPClassifier"
    assert aliases["TabularMLPRegressor"] == "SknumpynetTabularMLPRegressor"
