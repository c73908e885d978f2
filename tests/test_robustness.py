"""Property-based robustness tests: bad input and extreme numbers.

Hypothesis generates data sets -- 0 to 24 samples, 0 to 5 features, every
input dtype (int8, uint8, int64, bool, float16, float32, float64, object),
every container (ndarray, list, pandas with and without nullable dtypes,
CSR / CSC / COO), magnitudes from 1e-300 to 1e6, constant features, NaN and
+-inf, text in object arrays, every kind of label (int, str, bool, integral
floats, categoricals, mixed types, continuous values, multilabel, a single
class) and target, sample weights (zeros, negative, NaN, tiny, huge) -- fits
small networks (every solver and hidden activation, per-layer activations,
dropout, gradient clipping, class weights, early stopping) and predicts on
generated input (with the wrong number of features, say).

Further properties: a partial_fit stream survives bad batches unchanged;
predict_proba is a distribution at any weight scale; the same seed gives a
bitwise-identical model for any generated configuration.

The property: every case either trains and predicts finite outputs of the
right shape and dtype, or raises ValueError / TypeError whose message names
the problem (one of the keywords listed for that kind of problem). Never a
crash of another type, a silent NaN or a RuntimeWarning (they are errors
here). ConvergenceWarning is expected: the networks train for 1-4 epochs.

The examples are drawn by the Hypothesis profile that conftest.py loads: by
default a derandomized one (the same examples on every run, so that CI is
deterministic); ``HYPOTHESIS_PROFILE=random`` draws new examples, ten times as
many, and ``SKNUMPYNET_HYPOTHESIS_EXAMPLES`` sets the number of examples of
either. Cases that a random search once found to fail are kept as explicit
``@example`` cases, which run every time.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _helpers import ESTIMATORS, SKLEARN_ACTIVATIONS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._activations import HIDDEN_ACTIVATIONS

pytestmark = [
    pytest.mark.filterwarnings("error::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning"),
    # batch_size larger than the data, feature names present or not at
    # predict time: documented scikit-learn UserWarnings, not failures.
    pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning"),
    pytest.mark.filterwarnings("ignore:X does not have valid feature names"),
    pytest.mark.filterwarnings("ignore:X has feature names"),
]

# The number of examples, the seed and the database are the profile's
# (conftest.py).
SETTINGS = settings(
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# ---------------------------------------------------------------------------
# Generated input
# ---------------------------------------------------------------------------

X_DTYPES = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "object"]
# Powers of ten the values are scaled by, per dtype (float16 tops at 65504).
EXPONENTS = {
    "float64": [-300, -30, -3, 0, 3, 6],
    "float32": [-300, -3, 0, 3, 6],
    "float16": [-3, 0, 3],
    "object": [-300, 0, 6],
    "int64": [0, 3, 6],
    "int8": [0, 3],
    "uint8": [0, 3],
    "bool": [0],
}
CONTAINERS = ["ndarray", "list", "pandas", "pandas-nullable", "csr", "csc", "coo"]
SPARSE_DTYPES = {"float64", "float32", "int64", "int8", "uint8", "bool"}
SPECIALS = [None, None, None, "nan", "inf", "-inf"]

# What an error must mention, per kind of problem (case-insensitive).
KEYWORDS = {
    "no samples": ["0 sample", "2D array"],
    "no features": ["0 feature", "2D array"],
    "nan": ["NaN"],
    "inf": ["infinity"],
    "text": ["convert", "string"],
    "wrong width": ["feature"],
    "mixed labels": ["label", "mix"],
    "continuous labels": ["label type"],
    "string targets": ["convert", "string"],
    "negative targets": ["negative"],
    "targets outside [0, 1]": ["[0, 1]"],
    "zero weights": ["weight"],
    "negative weights": ["negative"],
    "nan weights": ["NaN"],
    # Weights of 1e-300 or 1e300 may diverge, or leave float32's range.
    "extreme weights": ["diverged", "sample_weight", "sample weights"],
    "object labels": ["label type"],
    "validation split": ["validation", "class", "n_samples", "test_size"],
    "divergence": ["diverged"],
    "output overflow": ["output is not finite"],
    "unknown class": ["classes"],
    "class_weight multilabel": ["class_weight"],
}


@dataclass
class Matrix:
    """A generated input matrix, in its container, and what is odd about it."""

    data: object
    dtype: str
    container: str
    n_samples: int
    n_features: int
    exponent: int
    special: str | None

    def problems(self):
        problems = set()
        if self.n_samples == 0:
            problems.add("no samples")
        if self.n_features == 0:
            problems.add("no features")
        if self.special == "nan":
            problems.add("nan")
        elif self.special == "text":
            problems.add("text")
        elif self.special is not None:
            problems.add("inf")
        return problems

    @property
    def keeps_float32(self):
        # Lists become float64 arrays; scikit-learn converts pandas' nullable
        # Float32 columns to float64 (to hold pd.NA as NaN).
        return self.dtype == "float32" and self.container not in (
            "list",
            "pandas-nullable",
        )


@st.composite
def matrices(draw, n_samples, n_features):
    dtype = draw(st.sampled_from(X_DTYPES))
    exponent = draw(st.sampled_from(EXPONENTS[dtype]))
    values = draw(
        hnp.arrays(
            np.float64,
            (n_samples, n_features),
            elements=st.floats(-1, 1, allow_subnormal=False),
        )
    )
    values = values * 10.0**exponent
    if n_samples and n_features and draw(st.booleans()):
        values[:, 0] = values[0, 0]  # a constant feature
    special, where = None, None
    if n_samples * n_features and dtype in ("float64", "float32", "float16", "object"):
        special = draw(
            st.sampled_from(SPECIALS + (["text"] if dtype == "object" else []))
        )
        if special is not None:
            where = draw(st.integers(0, n_samples * n_features - 1))
            if special != "text":
                values.flat[where] = float(special)

    if dtype == "bool":
        array = values > 0
    elif dtype in ("int64", "int8", "uint8"):
        info = np.iinfo(dtype)
        magnitude = np.abs(values) if dtype == "uint8" else values
        array = np.clip(np.round(magnitude), info.min, info.max).astype(dtype)
    elif dtype == "object":
        array = values.astype(object)
        # Python ints and floats side by side.
        for i, j in zip(*np.nonzero(np.isfinite(values[::2]))):
            array[2 * i, j] = int(values[2 * i, j])
        if special == "text":
            array.flat[where] = "a"
    else:
        array = values.astype(dtype)

    container = draw(st.sampled_from(CONTAINERS))
    if container in ("csr", "csc", "coo") and dtype not in SPARSE_DTYPES:
        container = "ndarray"
    if container == "pandas-nullable" and dtype not in ("float64", "float32"):
        container = "pandas"
    columns = [f"f{i}" for i in range(n_features)]
    if container == "list":
        data = array.tolist()
    elif container == "pandas":
        data = pd.DataFrame(array, columns=columns)
    elif container == "pandas-nullable":
        # NaN becomes pd.NA in a nullable float column.
        nullable = "Float32" if dtype == "float32" else "Float64"
        data = pd.DataFrame(array, columns=columns).astype(nullable)
    elif container in ("csr", "csc", "coo"):
        data = getattr(sp, f"{container}_matrix")(array)
    else:
        data = array
    return Matrix(data, dtype, container, n_samples, n_features, exponent, special)


LABELS = ["int", "str", "bool", "float-int", "mixed", "continuous", "multilabel"]


@st.composite
def class_labels(draw, n_samples):
    """(y, problems) for a classifier."""
    kind = draw(st.sampled_from(LABELS))
    n_classes = draw(st.integers(1, 4))
    codes = draw(
        hnp.arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1))
    )
    problems = set()
    if kind == "int":
        y = codes * 3 - 1
    elif kind == "str":
        y = np.array(["cat", "dog", "emu", "yak"])[codes]
    elif kind == "bool":
        y = codes % 2 == 1
    elif kind == "float-int":
        y = codes.astype(np.float64)
    elif kind == "mixed":
        y = np.array([1, "a", 2, "b"], dtype=object)[codes]
        if len({type(label) for label in y}) > 1:
            problems.add("mixed labels")
        elif n_samples and not isinstance(y[0], str):
            # scikit-learn refuses numbers in an object array.
            problems.add("object labels")
    elif kind == "continuous":
        y = codes + 0.5
        if n_samples:
            problems.add("continuous labels")
    else:
        y = draw(hnp.arrays(np.int64, (n_samples, 3), elements=st.integers(0, 1)))
    container = draw(st.sampled_from(["ndarray", "list", "pandas", "category"]))
    if container == "list" and kind != "mixed":  # a mixed list becomes strings
        y = y.tolist()
    elif container == "pandas" or (container == "category" and np.ndim(y) == 2):
        y = pd.DataFrame(y) if np.ndim(y) == 2 else pd.Series(y)
    elif container == "category" and kind in ("int", "str", "bool"):
        y = pd.Series(y, dtype="category")
    return y, problems


TARGETS = [
    "float",
    "int",
    "2-outputs",
    "column",
    "strings",
    "nan",
    "inf",
    "poisson",
    "poisson-negative",
    "logistic",
    "logistic-out-of-range",
]


@st.composite
def regression_targets(draw, n_samples):
    """(y, estimator parameters, problems, exponent) for a regressor."""
    kind = draw(st.sampled_from(TARGETS))
    exponent = draw(st.sampled_from([-300, -3, 0, 3, 6]))
    n_outputs = 2 if kind == "2-outputs" else 1
    values = draw(
        hnp.arrays(
            np.float64,
            (n_samples, n_outputs),
            elements=st.floats(-1, 1, allow_subnormal=False),
        )
    )
    params, problems = {}, set()
    y = values * 10.0**exponent
    if kind in ("logistic", "logistic-out-of-range"):
        exponent = 0
        y = np.abs(values)
        params["out_activation"] = "logistic"
        if kind == "logistic-out-of-range" and n_samples:
            y[0] = 1.5
            problems.add("targets outside [0, 1]")
    elif kind.startswith("poisson"):
        y = np.abs(y)
        params["loss"] = "poisson"
        if kind == "poisson-negative" and n_samples:
            y[0] = -1.0
            problems.add("negative targets")
    elif kind == "int":
        y = np.round(y).astype(np.int64)
    elif kind == "strings":
        y = np.char.add("v", y.astype(str))  # not numbers written as text
        if n_samples:
            problems.add("string targets")
    elif kind in ("nan", "inf") and n_samples:
        y[0] = np.nan if kind == "nan" else np.inf
        problems.add(kind)
    if kind != "column" and n_outputs == 1:
        y = y[:, 0]
    if draw(st.booleans()):
        y = pd.Series(y) if y.ndim == 1 else pd.DataFrame(y)
    return y, params, problems, exponent


WEIGHTS = [
    None,
    None,
    "uniform",
    "with-zeros",
    "zeros",
    "negative",
    "nan",
    "tiny",
    "huge",
]


@st.composite
def sample_weights(draw, n_samples):
    """(sample_weight, problems, extreme) -- extreme weights may diverge."""
    kind = draw(st.sampled_from(WEIGHTS))
    if kind is None:
        return None, set(), False
    w = draw(hnp.arrays(np.float64, n_samples, elements=st.floats(0.5, 2.0)))
    problems = set()
    if kind == "with-zeros":
        w[::2] = 0.0
    elif kind == "zeros":
        w[:] = 0.0
    elif kind == "negative" and n_samples:
        w[0] = -1.0
        problems.add("negative weights")
    elif kind == "nan" and n_samples:
        w[0] = np.nan
        problems.add("nan weights")
    elif kind == "tiny":
        w *= 1e-300
    elif kind == "huge":
        w *= 1e300
    if n_samples and (w == 0).all():
        problems.add("zero weights")
    if not n_samples:
        problems = set()  # the empty X is the problem
    return w, problems, kind in ("tiny", "huge")


ACTIVATIONS = sorted(HIDDEN_ACTIVATIONS)


@st.composite
def networks(draw, solvers=("adam", "sgd", "lbfgs")):
    """Parameters of a small, quickly trained network."""
    solver = draw(st.sampled_from(solvers))
    sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    if draw(st.booleans()):
        activation = draw(st.sampled_from(ACTIVATIONS))
    else:  # one per hidden layer
        activation = [draw(st.sampled_from(ACTIVATIONS)) for _ in sizes]
    return {
        "solver": solver,
        "activation": activation,
        "hidden_layer_sizes": sizes,
        "dropout": draw(st.sampled_from([0.0, 0.0, 0.5])),
        "max_grad_norm": draw(st.sampled_from([None, None, 1.0])),
        "scoring": draw(st.sampled_from([None, None, "loss"])),
        "max_iter": draw(st.integers(1, 4)),
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1.0])),
        "batch_size": draw(st.sampled_from(["auto", 1, 7, 50])),
        "learning_rate_init": draw(st.sampled_from([1e-3, 0.1])),
        "early_stopping": solver != "lbfgs" and draw(st.booleans()),
        "fit_intercept": draw(st.booleans()),
        "weight_init": draw(st.sampled_from(["glorot", "uniform", "he"])),
        "random_state": draw(st.integers(0, 3)),
    }


@dataclass
class Case:
    X: Matrix
    y: object
    sample_weight: object
    params: dict
    X_predict: Matrix
    must: set = field(default_factory=set)  # problems that must raise
    may: set = field(default_factory=set)  # problems that may raise


def _prediction_input(draw, X):
    n_predict = draw(st.integers(0, 5))
    width = X.n_features + draw(st.sampled_from([0, 0, 0, 0, 1, -1]))
    return draw(matrices(n_predict, max(width, 0)))


@st.composite
def classification_cases(draw):
    n_samples = draw(st.integers(0, 24))
    X = draw(matrices(n_samples, draw(st.integers(0, 5))))
    y, y_problems = draw(class_labels(n_samples))
    sample_weight, w_problems, extreme_weights = draw(sample_weights(n_samples))
    params = draw(networks())
    params["class_weight"] = draw(st.sampled_from([None, None, "balanced"]))
    if params["class_weight"] and np.ndim(y) == 2 and n_samples:
        y_problems = y_problems | {"class_weight multilabel"}
    case = Case(X, y, sample_weight, params, _prediction_input(draw, X))
    case.must = X.problems() | y_problems | w_problems
    _possible_failures(case, X.exponent, extreme_weights)
    return case


def regression_case(X, target, weights, params, X_predict):
    """The Case of a regressor: what must and what may fail, from its parts.

    ``target`` and ``weights`` are what regression_targets() and
    sample_weights() draw.
    """
    y, y_params, y_problems, y_exponent = target
    sample_weight, w_problems, extreme_weights = weights
    case = Case(X, y, sample_weight, {**params, **y_params}, X_predict)
    case.must = X.problems() | y_problems | w_problems
    _possible_failures(case, max(X.exponent, y_exponent), extreme_weights)
    return case


@st.composite
def regression_cases(draw):
    n_samples = draw(st.integers(0, 24))
    X = draw(matrices(n_samples, draw(st.integers(0, 5))))
    target = draw(regression_targets(n_samples))
    weights = draw(sample_weights(n_samples))
    return regression_case(
        X, target, weights, draw(networks()), _prediction_input(draw, X)
    )


def plain_matrix(array, exponent=0):
    """A Matrix of an ndarray with nothing odd about it."""
    return Matrix(array, array.dtype.name, "ndarray", *array.shape, exponent, None)


def _possible_failures(case, exponent, extreme_weights):
    if case.params["early_stopping"]:
        case.may.add("validation split")
    # Large unscaled values, extreme weights or sgd's larger step (0.1, with
    # momentum) may legitimately diverge; otherwise the fit must not.
    fast_sgd = (
        case.params["solver"] == "sgd" and case.params["learning_rate_init"] > 0.01
    )
    if exponent >= 3 or extreme_weights or fast_sgd:
        case.may.add("divergence")
    if extreme_weights:
        case.may.add("extreme weights")


# ---------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------


def _raises_naming_the_problem(action, must, may=()):
    """Run action(); return its result, or None when it raised as allowed."""
    try:
        result = action()
    except (ValueError, TypeError) as error:
        message = str(error)
        problems = set(must) | set(may)
        assert problems, f"unexpected {type(error).__name__}: {message}"
        keywords = [k for problem in sorted(problems) for k in KEYWORDS[problem]]
        assert any(k.lower() in message.lower() for k in keywords), (
            f"{type(error).__name__} for {sorted(problems)} names none of "
            f"{keywords}: {message}"
        )
        return None
    assert not must, f"expected an error for {sorted(must)}, but none was raised"
    return result


def _check_fitted(est, case):
    assert est.n_features_in_ == case.X.n_features
    for w in est.coefs_ + est.intercepts_:
        assert np.isfinite(w).all()
        assert w.dtype == (np.float32 if case.X.keeps_float32 else np.float64)
    assert est.n_iter_ <= case.params["max_iter"]


def _predict_problems(case):
    problems = case.X_predict.problems()
    if case.X_predict.n_features != case.X.n_features:
        problems.add("wrong width")
    return problems


def _possible_predict_failures(case):
    """Problems that may, not must, make predict raise."""
    if case.params.get("loss") == "poisson" and case.X_predict.exponent >= 3:
        # exp(z) of new, large input may overflow where the training data's
        # did not: the clear error, not an infinite mean.
        return {"output overflow"}
    return set()


@SETTINGS
@given(case=classification_cases())
def test_classifier_on_generated_data(case):
    est = NumpyMLPClassifier(**case.params)
    fitted = _raises_naming_the_problem(
        lambda: est.fit(case.X.data, case.y, sample_weight=case.sample_weight),
        case.must,
        case.may,
    )
    if fitted is None:
        assert not hasattr(est, "coefs_")  # a failed first fit leaves nothing
        return
    _check_fitted(est, case)
    y = np.asarray(case.y)
    multilabel = y.ndim == 2
    if not multilabel:
        assert_array_equal(est.classes_, np.unique(y))

    outputs = _raises_naming_the_problem(
        lambda: (
            est.predict(case.X_predict.data),
            est.predict_proba(case.X_predict.data),
            est.predict_log_proba(case.X_predict.data),
        ),
        _predict_problems(case),
    )
    if outputs is None:
        return
    labels, proba, log_proba = outputs
    n = case.X_predict.n_samples
    assert proba.dtype == est.coefs_[0].dtype
    assert np.isfinite(proba).all(), proba
    assert ((proba >= 0) & (proba <= 1)).all()
    assert not np.isnan(log_proba).any()
    if multilabel:
        assert labels.shape == proba.shape == (n, y.shape[1])
        assert set(np.unique(labels)) <= {0, 1}
    else:
        assert labels.shape == (n,)
        assert set(labels.tolist()) <= set(est.classes_.tolist())
        # Single-class models are checked in test_single_class below.
        if len(est.classes_) > 1:
            assert proba.shape == (n, len(est.classes_))
        tolerance = 1e-5 if proba.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=tolerance)


@SETTINGS
@given(case=regression_cases())
# One all-False training row leaves a Poisson network without intercepts as
# initialized; a row of 1000s overflows its exp output at predict time.
@example(
    case=regression_case(
        plain_matrix(np.zeros((1, 1), dtype=bool)),
        (np.array([1.0]), {"loss": "poisson"}, set(), 0),
        (None, set(), False),
        {
            "solver": "adam",
            "activation": ["elu"],
            "hidden_layer_sizes": (1,),
            "dropout": 0.0,
            "max_grad_norm": None,
            "scoring": None,
            "max_iter": 1,
            "alpha": 0.0,
            "batch_size": "auto",
            "learning_rate_init": 1e-3,
            "early_stopping": False,
            "fit_intercept": False,
            "weight_init": "he",
            "random_state": 0,
        },
        plain_matrix(np.full((1, 1), 1000.0), exponent=3),
    )
)
def test_regressor_on_generated_data(case):
    est = NumpyMLPRegressor(**case.params)
    fitted = _raises_naming_the_problem(
        lambda: est.fit(case.X.data, case.y, sample_weight=case.sample_weight),
        case.must,
        case.may,
    )
    if fitted is None:
        assert not hasattr(est, "coefs_")
        return
    _check_fitted(est, case)
    prediction = _raises_naming_the_problem(
        lambda: est.predict(case.X_predict.data),
        _predict_problems(case),
        _possible_predict_failures(case),
    )
    if prediction is None:
        return
    y = np.asarray(case.y)
    n = case.X_predict.n_samples
    expected_shape = (n,) if y.ndim == 1 else (n, y.shape[1])
    if y.ndim == 2 and y.shape[1] == 1:
        expected_shape = (n,)
    assert prediction.shape == expected_shape
    assert prediction.dtype == est.coefs_[0].dtype
    assert np.isfinite(prediction).all(), prediction
    if case.params.get("loss") == "poisson":
        assert (prediction >= 0).all()
        # On its training data a fitted model is finite (no overflow error).
        assert np.isfinite(est.predict(case.X.data)).all()
    if case.params.get("out_activation") == "logistic":
        assert ((prediction >= 0) & (prediction <= 1)).all()


# ---------------------------------------------------------------------------
# partial_fit over a stream of generated batches, some of them bad
# ---------------------------------------------------------------------------

BATCH_DEFECTS = [None, None, "nan", "inf", "wrong width", "unknown class", "empty"]


def _state(est):
    keys = ("coefs_", "intercepts_", "t_", "n_iter_", "loss_curve_", "classes_")
    return copy.deepcopy({k: v for k, v in vars(est).items() if k in keys})


@SETTINGS
@given(
    params=networks(solvers=("adam", "sgd")),
    defects=st.lists(st.sampled_from(BATCH_DEFECTS), min_size=1, max_size=4),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 2**16),
)
def test_partial_fit_stream_survives_bad_batches(params, defects, dtype, seed):
    # A bad batch raises a clear error and leaves the model as it was; the
    # good batches keep training it.
    params = {**params, "early_stopping": False}
    rng = np.random.RandomState(seed)
    est = NumpyMLPClassifier(**params)
    classes = np.array(["a", "b", "c"])
    est.partial_fit(
        rng.normal(size=(6, 3)).astype(dtype), classes[[0, 1, 2] * 2], classes=classes
    )
    for defect in defects:
        X = rng.normal(size=(5, 3)).astype(dtype)
        y = classes[rng.randint(0, 3, 5)]
        problems = set()
        if defect == "nan":
            X[1, 2] = np.nan
            problems.add("nan")
        elif defect == "inf":
            X[0, 0] = -np.inf
            problems.add("inf")
        elif defect == "wrong width":
            X = X[:, :2]
            problems.add("wrong width")
        elif defect == "unknown class":
            y[0] = "zebra"
            problems.add("unknown class")
        elif defect == "empty":
            X, y = X[:0], y[:0]
            problems.add("no samples")
        before = _state(est)
        updated = _raises_naming_the_problem(lambda: est.partial_fit(X, y), problems)
        if updated is None:
            after = _state(est)
            assert after.keys() == before.keys()
            for key in before:
                if key in ("coefs_", "intercepts_"):
                    for a, b in zip(after[key], before[key]):
                        assert_array_equal(a, b, strict=True)
                elif key == "classes_":
                    assert_array_equal(after[key], before[key], strict=True)
                else:
                    assert after[key] == before[key]
        else:
            assert est.t_ == before["t_"] + 5
        proba = est.predict_proba(rng.normal(size=(4, 3)))
        assert np.isfinite(proba).all()


# ---------------------------------------------------------------------------
# Any finite weights give a probability distribution
# ---------------------------------------------------------------------------


@SETTINGS
@given(
    activation=st.sampled_from(SKLEARN_ACTIVATIONS),
    n_classes=st.integers(2, 4),
    exponent=st.integers(0, 300),
    seed=st.integers(0, 2**16),
)
def test_predict_proba_is_a_distribution_at_any_weight_scale(
    activation, n_classes, exponent, seed
):
    # Output weights scaled by up to 1e300 (logits up to ~1e300 with bounded
    # hidden units; the unbounded ones are kept to 1e100 so that a logit
    # is never an overflowed inf - inf).
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(12, 3))
    y = np.arange(12) % n_classes
    est = NumpyMLPClassifier(
        hidden_layer_sizes=(3,), activation=activation, max_iter=1, random_state=0
    ).fit(X, y)
    if activation in ("relu", "identity"):
        exponent = min(exponent, 100)
    est.coefs_[-1][...] = rng.normal(size=est.coefs_[-1].shape) * 10.0**exponent
    proba = est.predict_proba(X * 10.0 ** rng.randint(-3, 4))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------------
# Determinism over generated configurations
# ---------------------------------------------------------------------------


@SETTINGS
@given(
    params=networks(),
    classification=st.booleans(),
    weighted=st.booleans(),
    dtype=st.sampled_from(["float64", "float32"]),
    sparse=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_same_seed_gives_a_bitwise_identical_model(
    params, classification, weighted, dtype, sparse, seed
):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(30, 3)).astype(dtype)
    if classification:
        Estimator, y = NumpyMLPClassifier, rng.randint(0, 3, 30)
    else:
        Estimator, y = NumpyMLPRegressor, rng.normal(size=30)
    if sparse:
        X[np.abs(X) < 0.5] = 0
        X = sp.csr_matrix(X)
    sample_weight = rng.uniform(0, 2, 30) if weighted else None

    def fit():
        try:
            return Estimator(**params).fit(X, y, sample_weight=sample_weight)
        except ValueError as error:  # sgd with a step of 0.1 may diverge
            assert "diverged" in str(error)
            return str(error)

    first, second = fit(), fit()
    if isinstance(first, str):
        assert first == second  # the same failure, at the same epoch
        return
    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_
    ):
        assert_array_equal(a, b, strict=True)
    assert first.loss_curve_ == second.loss_curve_
    assert first.n_iter_ == second.n_iter_
    assert_array_equal(first.predict(X), second.predict(X), strict=True)


# ---------------------------------------------------------------------------
# Explicit cases
# ---------------------------------------------------------------------------


def _small(Estimator, **params):
    return Estimator(hidden_layer_sizes=(4,), max_iter=20, random_state=0, **params)


def _data(Estimator, n_samples=40, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if Estimator is NumpyMLPClassifier:
        return X, rng.randint(0, 3, n_samples)
    return X, X @ rng.normal(size=n_features)


@pytest.mark.parametrize("container", ["ndarray", "pandas", "csr"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_with_wrong_number_of_features(Estimator, container):
    X, y = _data(Estimator)
    wrap = {
        "ndarray": np.asarray,
        "pandas": lambda a: pd.DataFrame(
            a, columns=[f"c{i}" for i in range(a.shape[1])]
        ),
        "csr": sp.csr_matrix,
    }[container]
    est = _small(Estimator).fit(wrap(X), y)
    for X_bad in (X[:, :3], np.hstack([X, X[:, :1]])):
        with pytest.raises(ValueError, match="feature"):
            est.predict(wrap(X_bad))
        if Estimator is NumpyMLPClassifier:
            with pytest.raises(ValueError, match="feature"):
                est.predict_proba(wrap(X_bad))
    if container == "ndarray":
        with pytest.raises(ValueError, match=f"expecting {X.shape[1]} features"):
            est.predict(X[:, :3])


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("label", [7, "only"])
def test_single_class(solver, label):
    X, _ = _data(NumpyMLPClassifier, n_samples=10)
    y = np.full(10, label, dtype=object if isinstance(label, str) else None)
    est = _small(NumpyMLPClassifier, solver=solver).fit(X, y)
    assert_array_equal(est.classes_, [label])
    assert_array_equal(est.predict(X), y)
    # predict_proba has one column per class: here a single column of ones.
    proba = est.predict_proba(X)
    assert proba.shape == (10, 1), proba.shape
    assert_array_equal(proba, 1.0)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_constant_features(Estimator, solver):
    X, y = _data(Estimator, n_samples=20)
    X_constant = np.full_like(X, 3.0)
    est = _small(Estimator, solver=solver).fit(X_constant, y)
    output = (
        est.predict_proba(X_constant)
        if Estimator is NumpyMLPClassifier
        else est.predict(X_constant)
    )
    assert np.isfinite(output).all()
    # Identical rows, identical outputs.
    assert (output == output[0]).all()
    # One constant column among informative ones changes nothing else.
    X_mixed = X.copy()
    X_mixed[:, 0] = -2.0
    assert np.isfinite(
        _small(Estimator, solver=solver).fit(X_mixed, y).predict(X_mixed)
    ).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_float16_input(Estimator):
    X, y = _data(Estimator)
    X16 = X.astype(np.float16)
    est = _small(Estimator).fit(X16, y)
    # float16 is not a training precision: it trains in float64 ...
    assert all(w.dtype == np.float64 for w in est.coefs_ + est.intercepts_)
    prediction = est.predict(X16)
    assert np.isfinite(np.asarray(prediction, dtype=float)).all()
    # ... exactly as the same values in float64 do.
    reference = _small(Estimator).fit(X16.astype(np.float64), y)
    for a, b in zip(est.coefs_, reference.coefs_):
        assert_array_equal(a, b, strict=True)
    # A float32 model predicts float16 input in float32.
    est32 = _small(Estimator).fit(X.astype(np.float32), y)
    out = (
        est32.predict_proba(X16)
        if Estimator is NumpyMLPClassifier
        else est32.predict(X16)
    )
    assert out.dtype == np.float32 and np.isfinite(out).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_object_array_of_numbers_equals_float_array(Estimator):
    X, y = _data(Estimator)
    X_object = X.astype(object)
    X_object[::2, 0] = 1  # Python ints among the floats
    X_float = X_object.astype(np.float64)
    est = _small(Estimator).fit(X_object, y)
    reference = _small(Estimator).fit(X_float, y)
    for a, b in zip(
        est.coefs_ + est.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert_array_equal(a, b, strict=True)
    assert_array_equal(est.predict(X_object), reference.predict(X_float), strict=True)


@pytest.mark.parametrize("where", ["y", "y_val"])
@pytest.mark.parametrize("container", ["object-array", "pandas"])
def test_mixed_type_labels_raise_a_clear_error(container, where):
    X, _ = _data(NumpyMLPClassifier, n_samples=10)
    mixed = np.array([1, "a"] * 5, dtype=object)
    if container == "pandas":
        mixed = pd.Series(mixed)
    if where == "y":
        y, fit_params = mixed, {}
    else:  # the user's validation set
        y, fit_params = np.array(["1", "a"] * 5), {"X_val": X, "y_val": mixed}
    with pytest.raises((ValueError, TypeError)) as error:
        _small(NumpyMLPClassifier).fit(X, y, **fit_params)
    message = str(error.value).lower()
    assert "label" in message or "mix" in message, message


def test_unknown_label_type_raises_a_clear_error():
    X, _ = _data(NumpyMLPClassifier, n_samples=10)
    with pytest.raises(ValueError, match="Unknown label type"):
        _small(NumpyMLPClassifier).fit(X, np.linspace(0, 1, 10))


@pytest.mark.parametrize("scale", [1e-300, 1e6])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_extreme_magnitudes(Estimator, solver, scale):
    X, y = _data(Estimator)
    X = X * scale
    if Estimator is NumpyMLPRegressor:
        y = y * scale
    # With a scaler in front: an ordinary problem.
    pipe = make_pipeline(StandardScaler(), _small(Estimator, solver=solver)).fit(X, y)
    assert np.isfinite(pipe.predict(X).astype(float)).all()
    if Estimator is NumpyMLPRegressor:
        assert pipe.score(X, y) > -1.0
    # Without: either finite outputs, or the clear divergence error.
    est = _small(Estimator, solver=solver, activation="relu")
    try:
        est.fit(X, y)
    except ValueError as error:
        assert "diverged" in str(error) and "StandardScaler" in str(error)
        assert not hasattr(est, "coefs_")
    else:
        output = (
            est.predict_proba(X) if Estimator is NumpyMLPClassifier else est.predict(X)
        )
        assert np.isfinite(output).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dataframe_without_columns_names_the_problem(Estimator):
    # scikit-learn's own message here is "at least one array or dtype is
    # required", which names neither the features nor the frame.
    for n_samples in (5, 0):
        X = pd.DataFrame(index=range(n_samples))
        y = np.arange(n_samples) % 2
        with pytest.raises(ValueError, match="0 feature"):
            _small(Estimator).fit(X, y)
    est = _small(Estimator).fit(*_data(Estimator))
    with pytest.raises(ValueError, match="feature"):
        est.predict(pd.DataFrame(index=range(3)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_early_stopping_with_zero_weights_in_the_validation_set(Estimator):
    # Half the samples weigh nothing; for some seeds the whole validation
    # set does. Each seed trains, or says what is wrong with the validation
    # set (not "Sample weights must contain at least one non-zero number",
    # which the caller's weights do).
    X, y = _data(Estimator, n_samples=20)
    sample_weight = np.tile([0.0, 1.0], 10)
    for seed in range(8):
        est = Estimator(
            hidden_layer_sizes=(3,), early_stopping=True, max_iter=3, random_state=seed
        )
        try:
            est.fit(X, y, sample_weight=sample_weight)
        except ValueError as error:
            assert "validation" in str(error), f"seed {seed}: {error}"
        else:
            assert np.isfinite(est.predict(X)).all()


def test_float32_data_with_weights_beyond_float32_range():
    # Weights of 1e300 cannot be float32: a clear error, no RuntimeWarning
    # from the cast on the way.
    X, y = _data(NumpyMLPClassifier)
    with pytest.raises(ValueError, match="sample_weight"):
        _small(NumpyMLPClassifier).fit(
            X.astype(np.float32), y, sample_weight=np.full(len(y), 1e300)
        )


@pytest.mark.parametrize(
    "defect, message",
    [
        ("empty", "0 sample"),
        ("no features", "0 feature"),
        ("nan", "NaN"),
        ("inf", "infinity"),
        ("1-D", "2D array"),
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_arrays_are_named(Estimator, defect, message):
    X, y = _data(Estimator, n_samples=10)
    if defect == "empty":
        X, y = X[:0], y[:0]
    elif defect == "no features":
        X = X[:, :0]
    elif defect == "nan":
        X[3, 1] = np.nan
    elif defect == "inf":
        X[0, 0] = -np.inf
    else:
        X = X[:, 0]
    with pytest.raises(ValueError, match=message):
        _small(Estimator).fit(X, y)
    fitted = _small(Estimator).fit(*_data(Estimator, n_samples=10))
    if defect != "no features":  # that one is a width mismatch at predict
        with pytest.raises(ValueError, match=message):
            fitted.predict(X)
