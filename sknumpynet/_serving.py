"""Prediction at serving speed: what a fitted model needs, resolved once.

For one row, the network's arithmetic takes a few microseconds, but a full
``predict`` spends about a hundred more on bookkeeping: scikit-learn's
``check_array`` and feature-name checks, resolving each layer's activation
and decoding through the ``LabelBinarizer``. A :class:`ServingPlan` resolves
all of that once, after the first full prediction of a fitted model, and is
reused for as long as the model is unchanged (a refit, ``partial_fit`` or
``restore_best_weights`` replaces the weight lists, which retires the plan).

The plan takes a shortcut only for input that cheap checks prove the full
validation would accept unchanged:

* a 2-D float32 or float64 ``numpy.ndarray`` (not a subclass) with the
  fitted number of features, for a model fitted without feature names;
* a pandas DataFrame whose column names are exactly the fitted ones, in
  order, and whose values are numbers (integers are converted to float64,
  as scikit-learn converts them);
* at least one row, and finite values: the sum of the values is finite,
  which is scikit-learn's own first test (skipped, as there, under
  ``sklearn.set_config(assume_finite=True)``).

Everything else -- lists, sparse matrices, other dtypes, NaN or infinity,
a wrong number of features, other feature names, an unfitted model --
takes the full path, whose checks, errors and warnings are those of
scikit-learn; so does an output that is not finite, for its error message.
The forward pass and the decoding are the same operations as the full
path's, so the outputs are bitwise identical. (Large inputs are not cut into
chunks of rows, although that measured 1.6 times faster on 100,000 rows: a
BLAS matrix product may round a row differently depending on which rows
share its call, and predictions must not change in the last bit.)

Plans are kept in a weak dictionary beside the estimators, never in their
state: pickles, saved files and clones are unchanged. A plan is read-only,
so threads share it.
"""

import weakref

import numpy as np
from sklearn import get_config

from ._activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._model import hidden_activations
from ._network import predict

_PLANS = weakref.WeakKeyDictionary()
_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def current_plan(estimator):
    """The estimator's serving plan if it still describes the model, else None."""
    try:
        plan = _PLANS.get(estimator)
    except TypeError:  # an estimator subclass that is not hashable
        return None
    if plan is not None and plan.describes(estimator):
        return plan
    return None


def remember_plan(estimator):
    """Resolve and keep the plan of a fitted estimator that just predicted."""
    try:
        _PLANS[estimator] = ServingPlan(estimator)
    except TypeError:
        pass


def _is_pandas_frame(X):
    return type(X).__name__ == "DataFrame" and type(X).__module__.startswith("pandas")


class ServingPlan:
    """A fitted model's prediction, resolved: weights, activations, decoding.

    Parameters
    ----------
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        A fitted estimator that has just predicted through the full path.
    """

    __slots__ = (
        "coefs",
        "intercepts",
        "activation",
        "out_activation",
        "names",
        "name_list",
        "n_features",
        "dtype",
        "hidden",
        "output",
        "classes",
        "label_type",
        "threshold",
    )

    def __init__(self, estimator):
        # The lists themselves, not copies: prediction reads their arrays,
        # and a new list (refit, warm start) retires the plan.
        self.coefs = estimator.coefs_
        self.intercepts = estimator.intercepts_
        self.activation = estimator.activation
        self.out_activation = estimator.out_activation_
        self.names = getattr(estimator, "feature_names_in_", None)
        self.name_list = None if self.names is None else self.names.tolist()
        self.n_features = estimator.n_features_in_
        self.dtype = self.coefs[0].dtype
        self.hidden = [
            HIDDEN_ACTIVATIONS[name][0] for name in hidden_activations(estimator)
        ]
        self.output = OUTPUT_ACTIVATIONS[self.out_activation]
        self.classes = getattr(estimator, "classes_", None)
        binarizer = getattr(estimator, "_label_binarizer", None)
        self.label_type = None if binarizer is None else binarizer.y_type_
        self.threshold = (
            None
            if binarizer is None
            else (binarizer.pos_label + binarizer.neg_label) / 2.0
        )

    def describes(self, estimator):
        """Whether the estimator still has the model this plan was made from."""
        coefs = getattr(estimator, "coefs_", None)
        return (
            coefs is self.coefs
            and estimator.intercepts_ is self.intercepts
            and estimator.activation is self.activation
            and estimator.out_activation_ is self.out_activation
            and getattr(estimator, "feature_names_in_", None) is self.names
            and getattr(estimator, "classes_", None) is self.classes
            and len(coefs) == len(self.hidden) + 1
            and coefs[0].dtype == self.dtype
        )

    def accepted_input(self, X):
        """``X`` as the full validation would pass it on, or None if that is
        not cheap to prove (then the full path decides). Call it with
        floating-point warnings off: it sums X."""
        if type(X) is np.ndarray:
            if self.names is not None:  # the full path warns: no names
                return None
            values = X
        elif self.name_list is not None and _is_pandas_frame(X):
            if X.columns.tolist() != self.name_list:
                return None
            values = X.to_numpy()
            if values.dtype.kind in "iu":
                values = values.astype(np.float64)
        else:
            return None
        if (
            values.ndim != 2
            or values.shape[1] != self.n_features
            or values.shape[0] == 0
            or values.dtype not in _FLOATS
        ):
            return None
        if not get_config()["assume_finite"] and not np.isfinite(
            np.add.reduce(values, axis=None)
        ):
            return None
        if values.dtype != self.dtype:
            values = values.astype(self.dtype)
            # A float64 value beyond float32: the full path explains.
            if not np.isfinite(np.add.reduce(values, axis=None)):
                return None
        return values

    def output_of(self, X, n_layers=None):
        """The network's output (or a hidden layer's), or None when ``X`` is
        not provably valid or the output is not finite."""
        with np.errstate(over="ignore", invalid="ignore"):
            values = self.accepted_input(X)
            if values is None:
                return None
            output = predict(
                values,
                self.coefs,
                self.intercepts,
                self.hidden,
                self.output,
                n_layers=n_layers,
            )
            if not np.isfinite(np.add.reduce(output, axis=None)):
                return None
        return output

    def decoded(self, output):
        """``predict``'s answer from the output, as the full path decodes it,
        or None for the rarer label encodings (the full path decodes those)."""
        if self.label_type is None:  # a regressor
            return output.ravel() if output.shape[1] == 1 else output
        if self.label_type == "multiclass":
            # LabelBinarizer: the class of the largest probability.
            return self.classes.take(output.argmax(axis=1), mode="clip")
        if self.label_type == "binary" and len(self.classes) == 2:
            # LabelBinarizer: the second class above its threshold (0.5).
            return self.classes[(output.ravel() > self.threshold).astype(np.intp)]
        return None
