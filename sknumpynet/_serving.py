"""Prediction at serving speed: what a fitted model needs, resolved once.

A :class:`ServingPlan` (a :class:`TabularPlan` for the tabular estimators)
resolves the bookkeeping of ``predict`` once per fitted model and takes a
shortcut only for input that cheap checks prove the full validation would
accept unchanged; everything else, and every error, takes scikit-learn's full
path, and the outputs are bitwise those of the full path. A plan lives in a
weak dictionary beside its estimator, never in its state, and is retired when
an attribute it watches (:attr:`_Plan.watched`) is replaced. The user guide's
performance page says what is checked, and why rows are not chunked.
"""

import weakref

import numpy as np
from sklearn import get_config

from ._activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._model import build_tabular_network, effective_weights, hidden_activations
from ._network import predict
from ._validation import is_pandas_frame

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


def remember_plan(estimator, plan):
    """Keep the plan of a fitted estimator that just predicted with it."""
    try:
        _PLANS[estimator] = plan
    except TypeError:
        pass
    return plan


class _Plan:
    """What every plan shares: its retirement, its input, its forward pass.

    A plan describes the model of the estimator it was made from for as long
    as each attribute named in :attr:`watched` is the very object it was
    then; the subclasses resolve the rest.
    """

    #: The attributes (parameters and fitted state) that define the model.
    watched = ()

    __slots__ = (
        "seen",
        "weight_matrices",
        "coefs",
        "intercepts",
        "hidden",
        "output",
        "names",
        "name_list",
        "n_features",
        "dtype",
    )

    def __init__(self, estimator):
        # The weights the forward pass applies: the arrays of ``coefs_``
        # themselves (no copies) but for NTK factors or a feature scale,
        # multiplied in once here.
        coefs = effective_weights(estimator)
        self.seen = tuple(getattr(estimator, name, None) for name in self.watched)
        # Each stored matrix too: effective weights (NTK factors, a feature
        # scale) are copies, so a matrix replaced in ``coefs_`` must retire
        # the plan.
        self.weight_matrices = tuple(estimator.coefs_)
        self.coefs = coefs
        # The list itself: prediction reads its arrays.
        self.intercepts = estimator.intercepts_
        self.hidden = [
            HIDDEN_ACTIVATIONS[name][0] for name in hidden_activations(estimator)
        ]
        self.output = OUTPUT_ACTIVATIONS[estimator.out_activation_]
        self.n_features = coefs[0].shape[0]
        self.dtype = coefs[0].dtype

    def describes(self, estimator):
        """Whether the estimator still has the model this plan was made from."""
        if not all(
            getattr(estimator, name, None) is value
            for name, value in zip(self.watched, self.seen)
        ):
            return False
        coefs = estimator.coefs_
        return len(coefs) == len(self.weight_matrices) and all(
            now is then for now, then in zip(coefs, self.weight_matrices)
        )

    def accepted_input(self, X):
        """``X`` as the full validation would pass it on, or None if that is
        not cheap to prove (then the full path decides). Call it with
        floating-point warnings off: it sums X."""
        if type(X) is np.ndarray:
            if self.names is not None:  # the full path warns: no names
                return None
            values = X
        elif self.name_list is not None and is_pandas_frame(X):
            columns = X.columns.tolist()
            # Names of another type than str are no feature names (it warns).
            if columns != self.name_list or any(type(c) is not str for c in columns):
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

    def forward(self, values, n_layers=None):
        """The network's output for accepted input (see :func:`predict`).
        Call it with floating-point warnings off: extreme logits may overflow
        on the way to a finite output."""
        return predict(
            values,
            self.coefs,
            self.intercepts,
            self.hidden,
            self.output,
            n_layers=n_layers,
        )


class ServingPlan(_Plan):
    """A fitted model's prediction, resolved: weights, activations, decoding.

    Parameters
    ----------
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        A fitted estimator that has just predicted through the full path.
    """

    watched = (
        "coefs_",
        "intercepts_",
        "feature_scale_",
        "parametrization",
        "activation",
        "out_activation_",
        "feature_names_in_",
        "classes_",
    )

    __slots__ = ("classes", "label_type", "threshold")

    def __init__(self, estimator):
        super().__init__(estimator)
        self.names = getattr(estimator, "feature_names_in_", None)
        self.name_list = None if self.names is None else self.names.tolist()
        self.n_features = estimator.n_features_in_
        self.classes = getattr(estimator, "classes_", None)
        binarizer = getattr(estimator, "_label_binarizer", None)
        self.label_type = None if binarizer is None else binarizer.y_type_
        self.threshold = (
            None
            if binarizer is None
            else (binarizer.pos_label + binarizer.neg_label) / 2.0
        )

    def describes(self, estimator):
        coefs = getattr(estimator, "coefs_", None)
        return (
            super().describes(estimator)
            and len(coefs) == len(self.hidden) + 1
            and coefs[0].dtype == self.dtype
        )

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


class TabularPlan(_Plan):
    """A fitted tabular model's network, resolved: effective weights once.

    Parameters
    ----------
    estimator : TabularMLPClassifier or TabularMLPRegressor
        A fitted estimator.

    The input it accepts is the preprocessed matrix, a float ndarray with as
    many columns as the first weights have rows, cast to the estimator's
    ``dtype``.
    """

    watched = (
        "coefs_",
        "intercepts_",
        "feature_scale_",
        "activation",
        "dtype",
        "preprocessor_",
        "feature_names_in_",
    )

    __slots__ = ()

    def __init__(self, estimator):
        super().__init__(estimator)
        self.names = self.name_list = None
        # The precision the input is cast to (the weights may differ).
        self.dtype = np.dtype(estimator.dtype)

    def forward(self, values, n_layers=None):
        """The network's output for accepted input (see :func:`predict`).

        A one-unit output layer is computed in float64: a float32
        matrix-vector product rounds differently with the number of rows, so
        a row's prediction would change in its last bits with the rows
        predicted beside it, beyond the tolerance of scikit-learn's
        subset-invariance check. (The float32 hidden layers may differ in
        their last bits too on some BLAS builds, within that tolerance.)
        """
        if n_layers is not None or self.coefs[-1].shape[1] != 1:
            return super().forward(values, n_layers)
        hidden = super().forward(values, len(self.coefs) - 1)
        output = hidden.astype(np.float64) @ self.coefs[-1].astype(np.float64)
        output += self.intercepts[-1]
        self.output(output)
        return output


class TabularNetworkPlan(TabularPlan):
    """A fitted model of the full RealMLP-TD recipe, its engine network built
    once from the fitted attributes: embeddings, members and all.

    Parameters
    ----------
    estimator : TabularMLPClassifier or TabularMLPRegressor
        A fitted estimator whose ``recipe`` builds a
        :class:`~sknumpynet._tabular_network.TabularNetwork`.
    """

    watched = (
        "coefs_",
        "intercepts_",
        "feature_scale_",
        "activation_mix_",
        "numeric_embedding_",
        "category_embedding_",
        "member_scale_",
        "activation",
        "recipe",
        "numeric_embedding",
        "n_members",
        "dtype",
        "preprocessor_",
        "feature_names_in_",
    )

    __slots__ = ("network",)

    def __init__(self, estimator):
        self.seen = tuple(getattr(estimator, name, None) for name in self.watched)
        # Each array too: one replaced in a list or dict retires the plan.
        self.weight_matrices = _fitted_arrays(estimator)
        self.names = self.name_list = None
        self.dtype = np.dtype(estimator.dtype)
        # Computed in float64 from the stored weights: float32 products of
        # matrices round differently with the rows beside a row (the BLAS
        # kernels' blocking), beyond scikit-learn's invariance checks.
        self.network = build_tabular_network(
            estimator, estimator._n_network_inputs, estimator.n_outputs_, np.float64
        )
        views = self.network.views
        for name, array in fitted_views(estimator).items():
            views[name][...] = array
        self.n_features = self.network.n_inputs

    def describes(self, estimator):
        return all(
            getattr(estimator, name, None) is value
            for name, value in zip(self.watched, self.seen)
        ) and all(
            now is then
            for now, then in zip(_fitted_arrays(estimator), self.weight_matrices)
        )

    def forward(self, values, n_layers=None):
        """The mean of the members' outputs (or hidden activations after
        ``n_layers`` layers) for accepted input."""
        return self.network.predict(values.astype(np.float64, copy=False), n_layers)


def fitted_views(estimator):
    """A TD model's fitted arrays by the name of the network's view of them
    (:meth:`~sknumpynet._tabular_network.TabularNetwork.parameter_views`)."""
    views = {}
    for i, coef in enumerate(estimator.coefs_):
        views[f"coef_{i}"] = coef
    for i, intercept in enumerate(estimator.intercepts_):
        views[f"intercept_{i}"] = intercept
    for i, mix in enumerate(getattr(estimator, "activation_mix_", [])):
        views[f"mix_{i}"] = mix
    views.update(getattr(estimator, "numeric_embedding_", {}))
    for attribute, name in (
        ("feature_scale_", "scale"),
        ("category_embedding_", "table"),
        ("member_scale_", "member_scale"),
    ):
        if hasattr(estimator, attribute):
            views[name] = getattr(estimator, attribute)
    return views


def _fitted_arrays(estimator):
    return tuple(fitted_views(estimator).values())
