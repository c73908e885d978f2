"""The public estimators: NumpyMLPClassifier and NumpyMLPRegressor.

Each class says what is its own -- its parameters, how it validates and
encodes targets, how it decodes the network's output -- and inherits the
rest from :class:`sknumpynet._base._BaseNumpyMLP`.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)

from ._base import _BaseNumpyMLP, network_output, validate_X
from ._docs import (
    ATTRIBUTES_DOC,
    CLASSES_DOC,
    PARAMETERS_DOC,
    PARTIAL_FIT_DOC,
    predict_doc,
    with_doc,
)


def _check_label_types(y):
    y = np.asarray(y)
    if y.dtype == object and y.size:
        kinds = {type(label).__name__ for label in y.ravel()}
        if any(isinstance(label, str) for label in y.ravel()) and len(kinds) > 1:
            raise ValueError(
                "Mix of label input types (string and number): y has labels of "
                f"types {sorted(kinds)}. Use labels of a single type, for "
                "instance y.astype(str)."
            )


class NumpyMLPClassifier(ClassifierMixin, _BaseNumpyMLP):
    __doc__ = (
        """Multilayer perceptron classifier with a hand-written NumPy engine.

    A drop-in superset of scikit-learn's
    :class:`~sklearn.neural_network.MLPClassifier`: the same parameters,
    attributes and methods, the same result for the same seed, plus what it
    lacks (``class_weight``, a validation set of your own, per-layer
    activations, dropout, gradient clipping, ``history_``, callbacks...). The
    default hidden activation is the sigmoid ('logistic'). It minimises the
    log-loss (softmax output for multiclass, logistic outputs for binary and
    multilabel targets) with L-BFGS, SGD or Adam.

    Parameters
    ----------"""
        + PARAMETERS_DOC
        + """
    class_weight : dict, 'balanced' or None, default=None
        Weight of each class, multiplied into ``sample_weight`` as
        scikit-learn's linear models do: a dict ``{label: weight}``, or
        'balanced' for ``n_samples / (n_classes * np.bincount(y))``. Not
        for multilabel targets; with ``partial_fit``, only a dict (the class
        frequencies of a stream are unknown). Not in scikit-learn.

    label_smoothing : float, default=0.0
        :math:`\\varepsilon \\in [0, 1)`: train on the smoothed targets
        :math:`(1 - \\varepsilon)\\, y + \\varepsilon / K`, with :math:`K`
        the number of classes for a softmax output and 2 for the logistic
        outputs of binary and multilabel targets. ``loss_curve_`` and
        ``loss_`` are then the log-loss against the smoothed targets (the
        validation loss of ``history_`` is against the true ones). 0 trains
        on the labels themselves, as scikit-learn. Not in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
"""
        + ATTRIBUTES_DOC
        + """
    See Also
    --------
    NumpyMLPRegressor : The regressor with the same engine.
    sklearn.neural_network.MLPClassifier : scikit-learn's classifier.

    Notes
    -----
    The forward pass computes :math:`a^{(i+1)} = f(a^{(i)} W^{(i)} + b^{(i)})`
    layer by layer; backpropagation applies the chain rule from the output
    down. float32 input trains and predicts in float32 with every solver.

    References
    ----------
    Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of
    training deep feedforward neural networks. AISTATS.

    Kingma, D. P. and Ba, J. (2014). Adam: A method for stochastic
    optimization. arXiv:1412.6980.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknumpynet import NumpyMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs",
    ...                          max_iter=1000, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="logistic",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        fit_intercept=True,
        weight_init="glorot",
        dropout=0.0,
        max_grad_norm=None,
        scoring=None,
        parametrization="standard",
        feature_scale=False,
        learning_rate_factors=None,
        class_weight=None,
        label_smoothing=0.0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.fit_intercept = fit_intercept
        self.weight_init = weight_init
        self.dropout = dropout
        self.max_grad_norm = max_grad_norm
        self.scoring = scoring
        self.parametrization = parametrization
        self.feature_scale = feature_scale
        self.learning_rate_factors = learning_rate_factors
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    _parameter_constraints: dict = {
        **_BaseNumpyMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    #: The classifier always minimises the log-loss.
    loss = "log_loss"

    def _validate_input(self, X, y, incremental, reset):
        _check_label_types(y)
        X, y = validate_X(self, X, y, reset=reset, multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # As scikit-learn: (re)define classes_ on a fresh fit; otherwise check
        # that y's classes fit those already known.
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        return X, self._encode_targets(y)

    def _encode_targets(self, y):
        """Targets as a boolean indicator matrix, as LabelBinarizer encodes them.

        One byte a cell and never a float64 upcast of float32 training; built
        directly rather than through LabelBinarizer's int64 matrix, which for
        millions of samples is the largest array of the whole fit.
        """
        y_type = self._label_binarizer.y_type_
        if y_type.startswith("multilabel"):
            return self._label_binarizer.transform(y).astype(bool)
        if y_type == "multiclass":
            codes = np.searchsorted(self.classes_, y)
            indicator = np.zeros((len(y), len(self.classes_)), dtype=bool)
            indicator[np.arange(len(y)), codes] = True
            return indicator
        # Binary: one column, True for the second class (none with one class).
        positive = self.classes_[1] if len(self.classes_) > 1 else None
        return (
            (y == positive).reshape(-1, 1)
            if positive is not None
            else (np.zeros((len(y), 1), dtype=bool))
        )

    def _decode(self, y_pred):
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score_predictions(self, y, y_pred, sample_weight):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @with_doc(
        PARTIAL_FIT_DOC.format(outputs="n_classes", classes=CLASSES_DOC, y_val="Labels")
    )
    def partial_fit(
        self,
        X,
        y,
        sample_weight=None,
        classes=None,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        validation = (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, True, *validation, classes=classes)

    def _fit_unguarded(
        self, X, y, sample_weight, incremental, *validation, classes=None
    ):
        if incremental and _check_partial_fit_first_call(self, classes):
            # The first partial_fit call learns the label encoding from
            # ``classes`` (or from y itself when it is a multilabel matrix).
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return super()._fit_unguarded(X, y, sample_weight, incremental, *validation)

    def _with_class_weight(self, y, sample_weight, incremental, dtype):
        """Multiply the weight of each sample's class into ``sample_weight``."""
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError(
                "class_weight is not supported for multilabel targets; give "
                "per-sample weights with sample_weight instead."
            )
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: the "
                "class frequencies of the whole stream are unknown. Compute them "
                "with sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y_sample) on a large enough sample of the "
                "targets and pass the result as a dict."
            )
        labels = self._decode_targets(y)
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=labels
        )
        per_sample = weights[np.searchsorted(self.classes_, labels)].astype(dtype)
        if sample_weight is None:
            return per_sample
        return sample_weight * per_sample

    def _decode_targets(self, y):
        return self._label_binarizer.inverse_transform(y)

    def _encode_validation_targets(self, y_val):
        y_val = check_array(y_val, ensure_2d=False, dtype=None)
        _check_label_types(y_val)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return self._label_binarizer.transform(y_val).astype(bool)
        unknown = np.setdiff1d(np.unique(y_val), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y_val has classes not in the training classes {self.classes_}: "
                f"{unknown}."
            )
        return self._encode_targets(y_val)

    @predict_doc(
        "Probability of each class.",
        "y_prob : ndarray of shape (n_samples, n_classes)\n"
        "            The probability of each class, in the order of "
        "``classes_``.",
    )
    def predict_proba(self, X):
        y_pred = network_output(self, X)
        if len(self.classes_) == 1 and self.n_outputs_ == 1:
            return np.ones((y_pred.shape[0], 1), dtype=y_pred.dtype)
        if self.n_outputs_ == 1:
            # [1 - p, p], one row per sample.
            proba = np.empty((y_pred.shape[0], 2), dtype=y_pred.dtype)
            np.subtract(1, y_pred[:, 0], out=proba[:, 0])
            proba[:, 1] = y_pred[:, 0]
            return proba
        return y_pred

    @predict_doc(
        "Logarithm of the probability of each class.",
        "log_y_prob : ndarray of shape (n_samples, n_classes)\n"
        "            ``log(predict_proba(X))``; a probability of exactly zero "
        "gives ``-inf``.",
    )
    def predict_log_proba(self, X):
        y_prob = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NumpyMLPRegressor(RegressorMixin, _BaseNumpyMLP):
    __doc__ = (
        """Multilayer perceptron regressor with a hand-written NumPy engine.

    A drop-in superset of scikit-learn's
    :class:`~sklearn.neural_network.MLPRegressor`: the same parameters,
    attributes and methods, the same result for the same seed, plus what it
    lacks (``out_activation``, a validation set of your own, per-layer
    activations, dropout, gradient clipping, ``history_``, callbacks...). The
    default
    hidden activation is the sigmoid ('logistic'). It minimises half the
    squared error (identity or logistic output) or half the Poisson deviance
    (exponential output) with L-BFGS, SGD or Adam, for one or several
    outputs.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half the squared error, or half the Poisson deviance with a log link
        (exponential output; requires ``y >= 0``).
"""
        + PARAMETERS_DOC
        + """
    out_activation : {'identity', 'logistic'}, default='identity'
        Output activation with ``loss='squared_error'``. 'logistic' is the
        seed article's sigmoid output, for targets in [0, 1]. Not in
        scikit-learn.

    Attributes
    ----------"""
        + ATTRIBUTES_DOC
        + """
    See Also
    --------
    NumpyMLPClassifier : The classifier with the same engine.
    sklearn.neural_network.MLPRegressor : scikit-learn's regressor.

    Notes
    -----
    Multi-output targets are supported (and declared in the estimator tags).
    float32 input trains and predicts in float32 with every solver.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sknumpynet import NumpyMLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0,
    ...                        random_state=0)
    >>> y = y / 100  # targets of order one suit the network's scale
    >>> reg = NumpyMLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs",
    ...                         max_iter=500, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> bool(reg.score(X, y) > 0.9)
    True
    """
    )

    _parameter_constraints: dict = {
        **_BaseNumpyMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
        "out_activation": [StrOptions({"identity", "logistic"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="logistic",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        fit_intercept=True,
        weight_init="glorot",
        out_activation="identity",
        dropout=0.0,
        max_grad_norm=None,
        scoring=None,
        parametrization="standard",
        feature_scale=False,
        learning_rate_factors=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.fit_intercept = fit_intercept
        self.weight_init = weight_init
        self.out_activation = out_activation
        self.dropout = dropout
        self.max_grad_norm = max_grad_norm
        self.scoring = scoring
        self.parametrization = parametrization
        self.feature_scale = feature_scale
        self.learning_rate_factors = learning_rate_factors

    def _validate_input(self, X, y, incremental, reset):
        if self.loss == "poisson" and self.out_activation != "identity":
            raise ValueError(
                f"out_activation={self.out_activation!r} cannot be combined with "
                "loss='poisson', whose output is always exponential (log link); "
                "use out_activation='identity'."
            )
        X, y = validate_X(self, X, y, reset=reset, multi_output=True, y_numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # Targets in the dtype of X keep float32 training in float32.
        y = y.astype(X.dtype, copy=False)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for "
                "loss='poisson'."
            )
        if self.out_activation == "logistic" and ((y < 0) | (y > 1)).any():
            raise ValueError(
                "out_activation='logistic' outputs values in [0, 1], but y has "
                f"values in [{y.min()}, {y.max()}]; scale y into [0, 1] (for "
                "instance with MinMaxScaler) or use out_activation='identity'."
            )
        return X, y

    def _decode(self, y_pred):
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score_predictions(self, y, y_pred, sample_weight):
        return r2_score(y, y_pred, sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @with_doc(PARTIAL_FIT_DOC.format(outputs="n_outputs", classes="", y_val="Targets"))
    def partial_fit(
        self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None
    ):
        return self._fit(X, y, sample_weight, True, X_val, y_val, sample_weight_val)

    def _decode_targets(self, y):
        return y.ravel() if y.shape[1] == 1 else y

    def _encode_validation_targets(self, y_val):
        y_val = check_array(y_val, ensure_2d=False, dtype="numeric")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        y_val = y_val.astype(self.coefs_[0].dtype)
        if self.loss == "poisson" and (y_val < 0).any():
            raise ValueError(
                "Some value(s) of y_val are negative which is not allowed for "
                "loss='poisson'."
            )
        return y_val

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's MLPRegressor supports several outputs but does not
        # say so in its tags.
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
