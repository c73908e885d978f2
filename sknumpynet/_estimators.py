"""The NumpyMLP estimators: NumpyMLPClassifier and NumpyMLPRegressor.

:class:`_BaseNumpyMLP` holds what the two share on top of
:class:`~sknumpynet._base._NetworkEstimator` -- scikit-learn's parameters, warm
starts, ``partial_fit``, a validation set of one's own; each class adds its
targets' encoding and decoding.
"""

from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context, is_classifier
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_array, check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted

from ._activations import CANONICAL_NAMES, HIDDEN_ACTIVATIONS
from ._base import TrainingData, _NetworkEstimator
from ._callbacks import EpochCallbacks
from ._docs import (
    ATTRIBUTES_DOC,
    CLASSES_DOC,
    PARAMETERS_DOC,
    PARTIAL_FIT_DOC,
    fill,
    predict_doc,
    with_doc,
)
from ._export import _SklearnExportMixin
from ._model import (
    dropout_rates,
    hidden_activations,
    hidden_layer_sizes,
    layer_units,
    learning_rate_factors,
    output_activation,
)
from ._parameters import INIT_METHODS, PARAMETRIZATIONS, layer_views
from ._sample_weight import check_sample_weight
from ._serving import ServingPlan, current_plan
from ._training import (
    PROGRESS_NAMES,
    STOCHASTIC_SOLVERS,
    Progress,
    TrainingConfig,
    Validation,
    divergence_message,
    fit_lbfgs,
    fit_stochastic,
)
from ._validation import cast_input, validate_X


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


def _glorot_factors(estimator, activations):
    """The constant of the Glorot bound of each layer of weights.

    scikit-learn uses 2 for logistic units and 6 otherwise; each layer of
    weights follows the activation of the units it feeds (the output layer's
    weights follow the last hidden layer's, as in scikit-learn, where every
    layer follows the one hidden activation). A network without hidden layers
    follows ``activation`` if it is one name, else relu's 6.
    """
    names = activations
    if not names:
        single = estimator.activation
        names = [
            single if isinstance(single, str) and single in CANONICAL_NAMES else "relu"
        ]
    feeding = [*names, names[-1]]
    return [2.0 if CANONICAL_NAMES[name] == "logistic" else 6.0 for name in feeding]


class _BaseNumpyMLP(_SklearnExportMixin, _NetworkEstimator):
    """What the NumpyMLP classifier and regressor share.

    Do not use directly; use :class:`NumpyMLPClassifier` or
    :class:`NumpyMLPRegressor`.
    """

    _parameter_constraints: dict = {
        **_NetworkEstimator._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "coslog4"})
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "weight_init": [StrOptions(set(INIT_METHODS))],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "scoring": [StrOptions({"loss"}), str, callable, None],
        "parametrization": [StrOptions(set(PARAMETRIZATIONS))],
        "feature_scale": ["boolean"],
        "learning_rate_factors": [dict, None],
    }

    @abstractmethod
    def __init__(self):
        """Subclasses store their constructor arguments."""

    # -----------------------------------------------------------------------
    # Hooks of the subclasses
    # -----------------------------------------------------------------------

    @abstractmethod
    def _validate_input(self, X, y, incremental, reset, warm):
        """Validate X and y (against the fit so far unless ``reset``; ``warm``:
        as a warm start); return X and the 2-D target matrix."""

    @abstractmethod
    def _decode(self, y_pred):
        """Turn the network's output into the predictions of ``predict``."""

    @abstractmethod
    def _score_predictions(self, y, y_pred, sample_weight):
        """Score used for early stopping (accuracy or R^2)."""

    @abstractmethod
    def _encode_validation_targets(self, y_val):
        """Check and encode the user's validation targets like the training's."""

    def _decode_targets(self, y):
        """The encoded target matrix back in the form the scorers expect."""
        return y

    def _with_class_weight(self, y, sample_weight, incremental, dtype):
        """Fold per-class weights into the sample weights (classifier only)."""
        return sample_weight

    # -----------------------------------------------------------------------
    # Fitting
    # -----------------------------------------------------------------------

    def _prepare_training(
        self, X, y, sample_weight, *, incremental=False, from_fitted=False
    ):
        """Validate and encode the data and set up the engine for training.

        Sets up the fitted attributes on a first pass (then draws the initial
        weights from ``random_state``); on a warm start, ``partial_fit``
        (``incremental``) or ``from_fitted`` checks the data against the fit so
        far and starts from its weights. ``coefs_`` and ``intercepts_`` become
        views of the returned network's flat buffer.

        Returns
        -------
        data : sknumpynet._base.TrainingData
            ``sample_weight`` with the class weights folded in.
        """
        sizes = hidden_layer_sizes(self)
        activations = hidden_activations(self, len(sizes))
        dropout_rates(self, len(sizes))  # invalid rates fail before any work
        config = self._training_config()  # checks learning_rate_factors too
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental and not from_fitted
        )

        # A start from the fitted model checks y as a warm start does.
        X, y = self._validate_input(
            X, y, incremental, reset=first_pass, warm=self.warm_start or from_fitted
        )
        if not first_pass and X.dtype != self.coefs_[0].dtype:
            # The first fit fixed the model's precision; later data follows it
            # (a float64 model is not silently downcast by a float32 batch).
            X = cast_input(X, self.coefs_[0].dtype)
            if y.dtype.kind == "f":
                y = y.astype(X.dtype)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, X.dtype)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        sample_weight = self._with_class_weight(y, sample_weight, incremental, X.dtype)
        units = [X.shape[1], *sizes, y.shape[1]]

        # A fresh generator from random_state at every call, as scikit-learn
        # does, so the same seed gives the same draws in the same order: weights,
        # then the validation split, then one shuffle per epoch.
        random_state = check_random_state(self.random_state)
        if first_pass:
            self.n_outputs_ = y.shape[1]
            self.n_layers_ = len(units)
            self.out_activation_ = output_activation(self)
            vars(self).update(vars(Progress.fresh(config)))
        elif bool(self.feature_scale) != hasattr(self, "feature_scale_"):
            raise ValueError(
                f"feature_scale={self.feature_scale!r} but the model was fitted "
                f"{'without' if self.feature_scale else 'with'} a feature "
                "scale; with warm_start=True or partial_fit, feature_scale must stay "
                "the same. Use fit with warm_start=False to start over."
            )
        elif layer_units(self) != units:
            raise ValueError(
                "The network's layers have changed since the last fit "
                f"(now {units[1:-1]} hidden units and {units[-1]} outputs); with "
                "warm_start=True or partial_fit, hidden_layer_sizes and the number "
                "of outputs must stay the same. Use fit with warm_start=False to "
                "start over."
            )

        network = self._build_network(units, X.dtype)
        if first_pass:
            network.initialize(
                random_state,
                method=self.weight_init,
                glorot_factor=_glorot_factors(self, activations),
            )
            self._best_params = network.params.copy()
        else:
            network.set_weights(
                self.coefs_,
                self.intercepts_,
                getattr(self, "feature_scale_", None),
            )
        # coefs_, intercepts_ (and feature_scale_) are live views of the engine's
        # flat buffer.
        self._set_weight_views([network.coefs, network.intercepts, network.scale])
        return TrainingData(network, X, y, sample_weight, random_state, config)

    def _fit_unguarded(
        self,
        X,
        y,
        sample_weight,
        incremental,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        data = self._prepare_training(X, y, sample_weight, incremental=incremental)
        network, X, y, config = data.network, data.X, data.y, data.config
        validation = self._validation_data(X_val, y_val, sample_weight_val, X.dtype)
        callbacks = EpochCallbacks(
            self,
            X,
            self._decode_targets(y),
            data.sample_weight,
            max_epochs=1 if incremental else self.max_iter,
        )
        # The lists are shared, so that callbacks see the curves grow.
        progress = Progress(
            **{
                name: getattr(self, name)
                for name in PROGRESS_NAMES
                if hasattr(self, name)
            }
        )
        training = {
            "config": config,
            "progress": progress,
            "validation": validation,
            "evaluate": self._evaluate,
            "callbacks": callbacks,
        }
        if self.solver in STOCHASTIC_SOLVERS:
            fit_stochastic(
                network,
                X,
                y,
                data.sample_weight,
                incremental=incremental,
                random_state=data.random_state,
                split_validation=self._validation_split,
                **training,
            )
        else:
            fit_lbfgs(network, X, y, data.sample_weight, **training)
        vars(self).update(vars(progress))
        callbacks.end_fit()

        if not np.isfinite(network.params).all():
            raise ValueError(divergence_message(config))
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore", invalid="ignore"):
                finite = np.isfinite(network.predict(X)).all()
            if not finite:
                raise ValueError(divergence_message(config))
        return self

    def _training_config(self):
        """What the training loops read of this estimator's parameters."""
        return TrainingConfig(
            solver=self.solver,
            learning_rate=self.learning_rate_init,
            lr_schedule=self.learning_rate,
            power_t=self.power_t,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            lr_factors=learning_rate_factors(self),
            max_epochs=self.max_iter,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            early_stopping=self.early_stopping,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            max_fun=self.max_fun,
            alpha=self.alpha,
            max_grad_norm=self.max_grad_norm,
            verbose=self.verbose,
        )

    # -----------------------------------------------------------------------
    # Validation data: the user's, or a split of the training data
    # -----------------------------------------------------------------------

    def _validation_data(self, X_val, y_val, sample_weight_val, dtype):
        """Validate the user's validation set; None when there is none."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val was given without X_val and y_val.")
            return None
        if X_val is None or y_val is None:
            raise ValueError(
                "X_val and y_val must be given together (got only "
                f"{'X_val' if y_val is None else 'y_val'})."
            )
        X_val = cast_input(validate_X(self, X_val), dtype)
        y_val = self._encode_validation_targets(y_val)
        if y_val.ndim == 1:
            y_val = y_val.reshape((-1, 1))
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {y_val.shape[0]}."
            )
        if y_val.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {y_val.shape[1]} outputs but the training targets "
                f"have {self.n_outputs_}."
            )
        if sample_weight_val is not None:
            sample_weight_val = check_sample_weight(
                sample_weight_val, X_val, dtype, name="sample_weight_val"
            )
        return Validation(X_val, y_val, self._decode_targets(y_val), sample_weight_val)

    def _validation_split(self, X, y, sample_weight, random_state):
        """Rows to train on and the held-out set for early stopping."""
        # Stratified like scikit-learn's MLP: only single-output classification.
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        train_rows, val_rows = self._split_rows(X.shape[0], stratify, random_state)
        y_val = y[val_rows]
        sample_weight_val = None if sample_weight is None else sample_weight[val_rows]
        if sample_weight_val is not None and not sample_weight_val.any():
            raise ValueError(
                "Every sample of the validation set used for early stopping has "
                "a zero sample_weight, so it cannot be scored. Increase "
                "'validation_fraction', give fewer samples a zero weight, or set "
                "early_stopping=False."
            )
        return train_rows, Validation(
            X[val_rows], y_val, self._decode_targets(y_val), sample_weight_val
        )

    def _validation_score(self, validation, output, loss):
        """What early stopping watches (higher is better): by default accuracy
        or R^2 as in scikit-learn, ``-loss`` with ``scoring="loss"``, or the
        given scorer."""
        weights = validation.sample_weight
        if self.scoring is None:
            return self._score_predictions(
                validation.labels, self._decode(output), weights
            )
        if self.scoring == "loss":
            return -loss
        scorer = check_scoring(self, scoring=self.scoring)
        metadata = {} if weights is None else {"sample_weight": weights}
        return scorer(self, validation.X, validation.labels, **metadata)

    def restore_best_weights(self):
        """Set the weights to those of the best epoch seen so far.

        The best epoch is the one with the best validation score when a
        validation set was used (early stopping, or ``X_val``/``y_val``), else
        the one with the lowest training loss. With ``early_stopping=True``,
        ``fit`` already ends with these weights.

        Returns
        -------
        self : object
            The estimator, with ``coefs_`` and ``intercepts_`` (and
            ``feature_scale_``) replaced.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sknumpynet import NumpyMLPClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> X = X / 16
        >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(16,),
        ...                          learning_rate_init=0.01, tol=1e-2,
        ...                          random_state=0)
        >>> clf = clf.fit(X[:1000], y[:1000], X_val=X[1000:], y_val=y[1000:])
        >>> best = max(clf.validation_scores_)
        >>> clf.restore_best_weights().score(X[1000:], y[1000:]) == best
        True
        """
        check_is_fitted(self)
        best = self._best_params.copy()
        scaled = hasattr(self, "feature_scale_")
        self._set_weight_views(layer_views(best, layer_units(self), scaled))
        return self

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample, not all zero; the loss is
            their weighted average.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            A validation set of your own. It is scored after every epoch
            (``validation_scores_``, ``history_``), its best epoch is
            remembered (:meth:`restore_best_weights`) and, with
            ``early_stopping=True``, it replaces the internal split of
            ``validation_fraction``. Routed like ``sample_weight`` with
            metadata routing; in a Pipeline, ``transform_input=["X_val"]``
            passes it through the preceding steps. Not in scikit-learn.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), \
default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, False, X_val, y_val, sample_weight_val)

    @predict_doc(
        "Predict the class or the target values of each sample.",
        "y : ndarray of shape (n_samples,) or (n_samples, n_outputs)\n"
        "            The predicted classes (an indicator matrix for "
        "multilabel targets) or values.",
    )
    def predict(self, X):
        output = self._network_output(X)
        plan = current_plan(self)  # made by the first prediction
        decoded = None if plan is None else plan.decoded(output)
        return self._decode(output) if decoded is None else decoded

    # -----------------------------------------------------------------------
    # Prediction: the serving plan and the input it takes
    # -----------------------------------------------------------------------

    _overflow_remedy = (
        "Scale X as the training data was scaled (for instance with a "
        "StandardScaler fitted on it)."
    )
    _min_validation_rows = 2

    def _new_plan(self):
        return ServingPlan(self)

    def _network_input(self, X, plan):
        values = None
        if plan is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                values = plan.accepted_input(X)
        if values is None:
            values = cast_input(validate_X(self, X), self.coefs_[0].dtype)
        return values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


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

    def _validate_input(self, X, y, incremental, reset, warm):
        _check_label_types(y)
        X, y = validate_X(self, X, y, reset=reset, multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # As scikit-learn: (re)define classes_ on a fresh fit; otherwise check
        # that y's classes fit those already known.
        if (not hasattr(self, "classes_")) or (not warm and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if warm:
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
        fill(PARTIAL_FIT_DOC, outputs="n_classes", classes=CLASSES_DOC, y_val="Labels")
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
        y_pred = self._network_output(X)
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

    def _validate_input(self, X, y, incremental, reset, warm):
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
    @with_doc(fill(PARTIAL_FIT_DOC, outputs="n_outputs", classes="", y_val="Targets"))
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
