"""What several test files share: case lists, data sets, comparisons, model files.

The test modules import these plain names with ``from _helpers import ...``:
pyproject.toml's ``pythonpath`` puts this directory on ``sys.path`` under
every import mode of pytest (``--import-mode=importlib`` too, where a
conftest.py is not importable by name).
The data helpers take as parameters the few things in which the test files'
data differ (sample counts, noise, how targets are scaled), so that every
file keeps its own numbers.
"""

import hashlib
import io
import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, is_classifier
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    parametrize_with_checks as sklearn_parametrize_with_checks,
)

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor
from sknumpynet._losses import LOSSES

# ---------------------------------------------------------------------------
# Case lists
# ---------------------------------------------------------------------------

ESTIMATORS = [NumpyMLPClassifier, NumpyMLPRegressor]
SOLVERS = ["sgd", "adam", "lbfgs"]
STOCHASTIC_SOLVERS = ["sgd", "adam"]

# Every hidden activation, by its canonical name ("sigmoid" is an alias).
HIDDEN_ACTIVATION_NAMES = [
    "logistic",
    "tanh",
    "relu",
    "identity",
    "leaky_relu",
    "elu",
    "softplus",
    "selu",
    "mish",
]
# The hidden activations scikit-learn's MLP has too.
SKLEARN_ACTIVATIONS = ["logistic", "tanh", "relu", "identity"]

# Every (output activation, loss) pair the engine supports.
OUTPUT_LOSS_PAIRS = list(LOSSES)


def pair_id(pair):
    """A test id for an (output activation, loss) pair: "softmax-log_loss"."""
    return "-".join(pair)


def output_cases():
    """(pair, n_outputs) for every pair, single- and multi-output.

    Softmax needs two classes at least, so its "single" case is binary
    softmax.
    """
    cases = []
    for pair in OUTPUT_LOSS_PAIRS:
        for n_outputs in (1, 3):
            if pair[0] == "softmax" and n_outputs == 1:
                n_outputs = 2
            cases.append(
                pytest.param(pair, n_outputs, id=f"{pair_id(pair)}-{n_outputs}")
            )
    return cases


def targets(pair, n_samples, n_outputs, rng, *, poisson_high=3, zero_counts_every=0):
    """Targets of the kind the estimators feed each (output activation, loss) pair.

    Poisson counts are drawn uniformly from [0, poisson_high); with
    ``zero_counts_every=k`` every k-th row is a zero count, which exercises
    the 0 log 0 = 0 convention.
    """
    output_activation, loss = pair
    if output_activation == "softmax":
        # One-hot boolean indicator matrix.
        return np.eye(n_outputs, dtype=bool)[rng.integers(0, n_outputs, n_samples)]
    if loss == "log_loss":
        # 0/1 boolean indicators (binary or multilabel).
        return rng.random((n_samples, n_outputs)) < 0.5
    if loss == "poisson":
        y = rng.uniform(0, poisson_high, (n_samples, n_outputs))
        if zero_counts_every:
            y[::zero_counts_every] = 0.0
        return y
    if output_activation == "logistic":
        return rng.random((n_samples, n_outputs))
    return rng.normal(size=(n_samples, n_outputs))


def parametrize_with_checks(estimators):
    """scikit-learn's ``parametrize_with_checks``, with its cases in a list.

    Before 1.9, scikit-learn hands ``pytest.mark.parametrize`` a generator of
    cases, which pytest 9 deprecates: under this suite's
    ``filterwarnings = ["error"]`` the module then fails to collect. The
    cases, their ids and marks are the same.
    """
    mark = sklearn_parametrize_with_checks(estimators)
    argnames, argvalues = mark.args
    return pytest.mark.parametrize(argnames, list(argvalues), **mark.kwargs)


# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------


def classification(n_samples=60, n_classes=3, *, n_features=5, labels=None, seed=0):
    """Standardized make_classification data, 3 informative features.

    ``labels``, if given, names the classes: ``y`` is then an object array of
    those names.
    """
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X)
    if labels is not None:
        y = np.asarray(labels, dtype=object)[y]
    return X, y


def regression(
    n_samples=60,
    n_targets=1,
    *,
    n_features=5,
    n_informative=10,
    noise=0.1,
    seed=0,
    unit_target=False,
):
    """Standardized make_regression data, each target standardized too.

    With ``unit_target``, the targets are divided by their largest magnitude
    instead (into [-1, 1], means left as they are).
    """
    X, y = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_targets=n_targets,
        noise=noise,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X)
    if unit_target:
        return X, y / np.abs(y).max()
    return X, (y - y.mean(axis=0)) / y.std(axis=0)


def multilabel(n_samples=80):
    """make_multilabel_classification data: 5 count features, 3 labels."""
    return make_multilabel_classification(
        n_samples=n_samples, n_features=5, n_classes=3, random_state=0
    )


def data(Estimator, n_samples=60, *, n_features=5, noise=0.1, seed=0):
    """classification() for the classifier, regression() for the regressor."""
    if Estimator is NumpyMLPClassifier:
        return classification(n_samples, n_features=n_features, seed=seed)
    return regression(n_samples, n_features=n_features, noise=noise, seed=seed)


def digits(n_samples=600):
    """The first rows of scikit-learn's digits, pixels scaled into [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return X[:n_samples] / 16, y[:n_samples]


def split_digits():
    """Digits as (X, y, X_val, y_val): 900 rows to train, the next 400 to validate."""
    X, y = digits(1300)
    return X[:900], y[:900], X[900:], y[900:]


def early_stopping_network(Estimator=NumpyMLPClassifier, **params):
    """The 16-unit network that the validation-set tests train on split_digits().

    Early stopping at a step of 0.01 by default; ``params`` add or override.
    """
    defaults = {
        "hidden_layer_sizes": (16,),
        "learning_rate_init": 0.01,
        "early_stopping": True,
        "random_state": 0,
    }
    return Estimator(**{**defaults, **params})


def seed_article_network(**params):
    """The seed article's network (examples/plot_seed_article.py): 4 logistic
    hidden units and a logistic output, no intercepts, uniform initial
    weights, SGD; ``params`` add or override."""
    defaults = {
        "hidden_layer_sizes": (4,),
        "activation": "logistic",
        "out_activation": "logistic",
        "fit_intercept": False,
        "weight_init": "uniform",
        "solver": "sgd",
    }
    return NumpyMLPRegressor(**{**defaults, **params})


# ---------------------------------------------------------------------------
# Comparing fitted estimators
# ---------------------------------------------------------------------------


def continuous_output(est, X):
    """A continuous output to compare fits: probabilities or predictions."""
    return est.predict_proba(X) if is_classifier(est) else est.predict(X)


def predictions(est, X):
    """{method: output}: predict, and predict_proba where there is one."""
    result = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        result["predict_proba"] = est.predict_proba(X)
    return result


def assert_same_weights(first, second, *, strict=False):
    """The same coefs_ and intercepts_, bit for bit (strict: dtypes and shapes too)."""
    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_
    ):
        assert_array_equal(a, b, strict=strict)


# ---------------------------------------------------------------------------
# scikit-learn's callbacks
# ---------------------------------------------------------------------------

#: scikit-learn >= 1.9: estimators take callbacks (``sklearn.callback``).
HAS_CALLBACKS = hasattr(NumpyMLPClassifier(), "set_callbacks")
needs_callbacks = pytest.mark.skipif(
    not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no sklearn.callback"
)


class CountingCallback:
    """A FitCallback that counts its hooks, keeps the estimator it is given
    at the end of each epoch (``snapshots``) and asks to stop at some epoch."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.begins, self.ends, self.setups, self.teardowns = [], [], 0, 0
        self.snapshots = []

    def setup(self, estimator, context):
        self.setups += 1

    def on_fit_task_begin(self, estimator, context):
        self.begins.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.ends.append(context.task_name)
        epochs = self.ends.count("epoch")
        if fitted_estimator is not None and context.task_name == "epoch":
            # A snapshot the callback may keep: the weights after this epoch.
            assert fitted_estimator.coefs_[0] is not estimator.coefs_[0]
            self.snapshots.append(fitted_estimator)
        return self.stop_at is not None and epochs >= self.stop_at

    def teardown(self, estimator, context):
        self.teardowns += 1


# ---------------------------------------------------------------------------
# Model files written by sknumpynet.save
# ---------------------------------------------------------------------------

METADATA = "sknumpynet.json"


def documented_checksum(content, members):
    """The SHA-256 of a model file as the format documentation describes it.

    Computed from scratch, as a forger would: the canonical JSON of
    ``content``, then each ``.npy`` member (name -> bytes) in name order,
    every piece framed by its length.
    """

    def framed(data):
        return len(data).to_bytes(8, "little") + data

    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")
    digest = hashlib.sha256(b"sknumpynet-model\n" + framed(canonical))
    for name in sorted(members):
        digest.update(framed(name.encode("utf-8")) + framed(members[name]))
    return digest.hexdigest()


def npy_bytes(array, allow_pickle=False):
    """``array`` as the bytes of a .npy file."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def assert_same_value(a, b, where):
    """The same value, type by type, dtype by dtype, to the bit.

    Arrays, lists, tuples and dicts are compared element by element, random
    states by their state, estimators (a fitted preprocessor, scikit-learn's
    label binarizer) by their attributes and metadata-routing requests by
    their text. The wall-clock seconds of a
    ``history_`` entry are never reproducible: only their sign is checked.
    """
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert_array_equal(a, b, err_msg=where, strict=True)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_value(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            if key == "time" and "history_" in where:
                assert a[key] >= 0 and b[key] >= 0, where
                continue
            assert_same_value(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, np.random.RandomState):
        assert_same_value(a.get_state(), b.get_state(), where)
    elif isinstance(a, BaseEstimator):
        assert_same_value(vars(a), vars(b), f"{where}({type(a).__name__})")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    elif type(a).__name__ == "MetadataRequest":
        # scikit-learn's routing requests have no __eq__: compare their text.
        assert str(a) == str(b), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"
