"""Write the golden model files that ``tests/test_file_format.py`` loads.

The files pin the format of :func:`sknumpynet.save` (documented field by field
in :mod:`sknumpynet._codec`): however the writer and the loader are
rearranged, these files must still load, predict the same to the last bit,
and be written again byte for byte.

They were made once, by sknumpynet 0.1.0 at commit 539c939 (before the file
format moved from ``_persistence.py`` into ``_codec.py``), with NumPy 2.4.6
and scikit-learn 1.9.1, by running from the repository root::

    PYTHONPATH=. python tests/data/make_golden_models.py

(``PYTHONPATH=.`` so that the sknumpynet of this checkout writes them, not
an installed one; the script refuses to run with another.)

The tabular classifier's files were added later, by sknumpynet 0.1.0 at the
commit that taught ``save`` the tabular estimators, with NumPy 2.4.6 and
scikit-learn 1.9.1, by running::

    PYTHONPATH=. python tests/data/make_golden_models.py tabular

which writes those two files only (the others stay as they were made).

Do not regenerate them to make a failing test pass: a file written by an
older sknumpynet must keep loading. Regenerate them only for a new format
version (and keep the old files, with a test of their own).

Each model file is saved, loaded and saved again, and the second file is
kept. The writer numbers the arrays (``a0000.npy``, ...) in the order of the
estimator's attributes, and a loaded estimator lists its fitted attributes
in sorted order, not in the order training created them; so only a file
written from a loaded estimator is one that ``save(load(file))`` reproduces
to the byte. (The first file differs from the second in that numbering
only; the script checks that both hold the same model.)

Files written (all in ``tests/data``):

``golden_sgd_classifier.npz``
    A NumpyMLPClassifier with string labels, trained with ``partial_fit``
    (solver "sgd") on a DataFrame (so with feature names), with a
    ``RandomState`` as ``random_state`` and a ``sample_weight`` fit request.
``golden_adam_regressor.npz``
    A two-output NumpyMLPRegressor trained with ``fit`` (solver "adam",
    two hidden layers with their own activations and dropout rates, a NumPy
    scalar ``alpha`` and an infinite ``n_iter_no_change``).
``golden_predictions.npz``
    Their predictions on fixed inputs, as the writer computed them:
    ``X_classifier`` (with the column names ``classifier_columns``),
    ``proba_classifier``, ``predict_classifier``, ``X_regressor`` and
    ``predict_regressor``.
``golden_tabular_classifier.npz``
    A small TabularMLPClassifier with string labels, fitted on a raw
    DataFrame (a numeric column with NaN, a string column with None, a
    nullable boolean column with NA), with its fitted TabularPreprocessor.
``golden_tabular_predictions.npz``
    Its probe, column by column (``size``: float64 with NaN; ``color``:
    strings, "" for None; ``member``: 1, 0, or -1 for NA), with unseen
    categories, and its ``predict`` and ``predict_proba`` on it.

Between them, the model files hold every tagged value type of the format:
array (and string array), float, scalar, tuple, dict, LabelBinarizer,
RandomState and MetadataRequest, and (the tabular classifier) estimator.
(``scalar_type``, a ``dtype`` given as ``numpy.float32``, is tested by
round trips only.)
"""

import math
import os
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
import sklearn

import sknumpynet
from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor, TabularMLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSIFIER = "golden_sgd_classifier.npz"
REGRESSOR = "golden_adam_regressor.npz"
PREDICTIONS = "golden_predictions.npz"
TABULAR = "golden_tabular_classifier.npz"
TABULAR_PREDICTIONS = "golden_tabular_predictions.npz"
CLASSIFIER_COLUMNS = ["height", "weight", "speed"]


def classifier_data():
    """Inputs (a DataFrame) and string labels of the classifier."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 3))
    labels = np.array(["cat", "dog", "emu"])
    y = labels[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    return pd.DataFrame(X, columns=CLASSIFIER_COLUMNS), y


def regressor_data():
    """Inputs and two targets of the regressor."""
    rng = np.random.RandomState(2)
    X = rng.uniform(-1, 1, size=(25, 2))
    Y = np.column_stack([X[:, 0] * X[:, 1], np.sin(X[:, 0]) + X[:, 1]])
    return X, Y


def make_classifier():
    X, y = classifier_data()
    with sklearn.config_context(enable_metadata_routing=True):
        clf = NumpyMLPClassifier(
            hidden_layer_sizes=(4,),
            activation="tanh",
            solver="sgd",
            learning_rate="invscaling",
            random_state=np.random.RandomState(0),
        ).set_fit_request(sample_weight=True)
    for _ in range(3):
        clf.partial_fit(X, y, classes=["cat", "dog", "emu"])
    return clf


def make_regressor():
    X, Y = regressor_data()
    reg = NumpyMLPRegressor(
        hidden_layer_sizes=(5, 3),
        activation=["tanh", "relu"],
        dropout=[0.1, 0.0],
        alpha=np.float64(1e-3),  # a NumPy scalar
        n_iter_no_change=math.inf,  # a non-finite float: never stop early
        solver="adam",
        max_iter=20,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 20 epochs only
        return reg.fit(X, Y)


def tabular_columns(n_samples, seed):
    """The columns of a raw table as plain arrays (see tabular_frame)."""
    rng = np.random.RandomState(seed)
    size = rng.normal(size=n_samples)
    size[::5] = np.nan
    color = rng.choice(["red", "green", "blue"], n_samples).astype("<U8")
    color[::4] = ""
    member = (rng.uniform(size=n_samples) < 0.5).astype(np.int8)
    member[::6] = -1
    return {"size": size, "color": color, "member": member}


def tabular_frame(columns):
    """The raw DataFrame of tabular_columns: None and NA where marked."""
    color = np.asarray(columns["color"], dtype=object)
    color[color == ""] = None
    member = pd.array(np.asarray(columns["member"]) == 1, dtype="boolean")
    member[np.asarray(columns["member"]) == -1] = pd.NA
    return pd.DataFrame({"size": columns["size"], "color": color, "member": member})


def make_tabular_classifier():
    X = tabular_frame(tabular_columns(40, 3))
    signal = np.nan_to_num(X["size"].to_numpy()) + (X["color"] == "red").to_numpy()
    y = np.where(signal > 0.3, "high", "low")
    clf = TabularMLPClassifier(
        hidden_layer_sizes=(4,), n_epochs=4, batch_size=16, random_state=0
    ).fit(X, y)
    for entry in clf.history_:
        entry["time"] = 0.0  # wall-clock seconds: fixed, so the file reproduces
    return clf


def tabular_probe():
    """Columns of the probe: other rows, and unseen or missing values."""
    columns = tabular_columns(10, 4)
    columns["size"][:2] = [np.nan, 30.0]
    columns["color"][:2] = ["purple", ""]
    columns["member"][:2] = [-1, 1]
    return columns


def save_loaded(estimator, path):
    """Save ``estimator`` as a loaded copy of it saves itself (see above)."""
    with tempfile.TemporaryDirectory() as directory:
        first = sknumpynet.save(estimator, os.path.join(directory, "first.npz"))
        loaded = sknumpynet.load(first)
        sknumpynet.save(loaded, path)
        with np.load(first) as a, np.load(path) as b:
            assert sorted(a.files) == sorted(b.files)
            assert sorted(a[name].tobytes() for name in a.files if name[0] == "a") == (
                sorted(b[name].tobytes() for name in b.files if name[0] == "a")
            )
    return loaded


def main_tabular():
    clf = make_tabular_classifier()
    loaded = save_loaded(clf, os.path.join(HERE, TABULAR))
    columns = tabular_probe()
    X = tabular_frame(columns)
    predictions = {
        **{f"X_{name}": values for name, values in columns.items()},
        "predict": clf.predict(X),
        "proba": clf.predict_proba(X),
    }
    assert np.array_equal(loaded.predict_proba(X), predictions["proba"])
    np.savez(os.path.join(HERE, TABULAR_PREDICTIONS), **predictions)


def main():
    root = os.path.dirname(os.path.dirname(HERE))
    if os.path.dirname(os.path.dirname(os.path.abspath(sknumpynet.__file__))) != root:
        raise SystemExit(
            f"This imports sknumpynet from {sknumpynet.__file__}, not from the "
            f"checkout {root}: run it with PYTHONPATH=. from there."
        )
    if sys.argv[1:] == ["tabular"]:
        main_tabular()
        return
    clf, reg = make_classifier(), make_regressor()
    loaded_clf = save_loaded(clf, os.path.join(HERE, CLASSIFIER))
    loaded_reg = save_loaded(reg, os.path.join(HERE, REGRESSOR))
    X_clf, _ = classifier_data()
    X_reg, _ = regressor_data()
    predictions = {
        "X_classifier": X_clf.to_numpy(),
        "classifier_columns": np.array(CLASSIFIER_COLUMNS),
        "proba_classifier": clf.predict_proba(X_clf),
        "predict_classifier": clf.predict(X_clf),
        "X_regressor": X_reg,
        "predict_regressor": reg.predict(X_reg),
    }
    proba = loaded_clf.predict_proba(X_clf)
    assert np.array_equal(proba, predictions["proba_classifier"])
    assert np.array_equal(loaded_reg.predict(X_reg), predictions["predict_regressor"])
    np.savez(os.path.join(HERE, PREDICTIONS), **predictions)


if __name__ == "__main__":
    main()
