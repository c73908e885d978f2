"""What the classifier and the regressor share: parameters, data, fit, predict.

:class:`_BaseNumpyMLP` validates parameters and data, prepares the engine
network, keeps a failed fit from changing anything, and predicts. The epochs
themselves run in :mod:`sknumpynet._training`; the facts about an estimator's
layers come from :mod:`sknumpynet._model`. Two module-level functions are
what the modules around the estimators use instead of private methods:
:func:`prepare_training` (the gradient check) and :func:`network_output`
(prediction and the hidden-layer features).
"""

import copy
from abc import ABC, abstractmethod
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._activations import CANONICAL_NAMES, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._callbacks import CallbackSupportMixin, EpochCallbacks
from ._docs import predict_doc
from ._export import _SklearnExportMixin
from ._model import (
    build_network,
    dropout_rates,
    effective_weights,
    fitted_state,
    hidden_activations,
    hidden_layer_sizes,
    is_fitted_state_name,
    layer_units,
    learning_rate_factors,
    output_activation,
)
from ._network import predict
from ._parameters import INIT_METHODS, PARAMETRIZATIONS, layer_views
from ._sample_weight import check_sample_weight
from ._serving import current_plan, remember_plan
from ._training import (
    PROGRESS_NAMES,
    STOCHASTIC_SOLVERS,
    Progress,
    Validation,
    divergence_message,
    fit_lbfgs,
    fit_stochastic,
)
from ._version import VersionStampMixin

#: How ``validate_data`` is asked to check X: sparse CSR/CSC, float64 or
#: float32 (other dtypes become float64).
_X_CHECKS = {"accept_sparse": ["csr", "csc"], "dtype": (np.float64, np.float32)}


def validate_X(estimator, X, y="no_validation", reset=False, **checks):
    """``validate_data`` for the estimators' input, warnings turned into errors.

    A DataFrame without columns gets a clear error (scikit-learn's is
    obscure), and the finiteness check runs without floating-point warnings:
    float16 input holding both +inf and -inf overflows its sum to NaN on the
    way to scikit-learn's clear ``ValueError``.
    """
    if hasattr(X, "columns") and len(X.columns) == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
            f"of 1 is required by {type(estimator).__name__}."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        return validate_data(estimator, X, y, reset=reset, **_X_CHECKS, **checks)


def cast_input(X, dtype):
    """``X`` in the model's dtype; a float64 value beyond float32's range is
    refused with a clear error rather than cast to infinity."""
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        cast = X.astype(dtype)
    data = cast.data if hasattr(cast, "tocsr") else cast
    if not np.isfinite(data).all():
        largest = float(abs(X).max())
        raise ValueError(
            f"X has values of magnitude up to {largest:g}, beyond the range of "
            f"{np.dtype(dtype).name} ({np.finfo(dtype).max:g}), the precision "
            "this model computes in. Scale X as the training data was scaled "
            "(for instance with a StandardScaler fitted on it)."
        )
    return cast


def network_output(estimator, X, n_layers=None):
    """The network's output for ``X``, or the activation of an earlier layer.

    ``X`` is validated against the fitted estimator (number of features,
    feature names, finiteness) and cast to the weights' dtype -- or, when
    cheap checks prove that validation would pass, taken straight to the
    network by the estimator's serving plan (:mod:`sknumpynet._serving`).

    Parameters
    ----------
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        A fitted estimator.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The input.
    n_layers : int, default=None
        Stop after this many weight layers (a hidden representation); by
        default run the whole network.

    Returns
    -------
    output : ndarray of shape (n_samples, n_units)

    Raises
    ------
    ValueError
        If the input is invalid, or so large that the network overflows (the
        output would not be finite).
    """
    plan = current_plan(estimator)  # a current plan means a fitted model
    if plan is not None:
        output = plan.output_of(X, n_layers)
        if output is not None:
            return output
    check_is_fitted(estimator)
    X = cast_input(validate_X(estimator, X), estimator.coefs_[0].dtype)
    names = hidden_activations(estimator)
    # Extreme logits may overflow on the way to a finite, correct output
    # (softmax subtracts the row maximum); a non-finite result is caught below.
    with np.errstate(over="ignore", invalid="ignore"):
        output = predict(
            X,
            effective_weights(estimator),
            estimator.intercepts_,
            [HIDDEN_ACTIVATIONS[name][0] for name in names],
            OUTPUT_ACTIVATIONS[estimator.out_activation_],
            n_layers=n_layers,
        )
    if not np.isfinite(output).all():
        n_bad = int((~np.isfinite(output)).any(axis=1).sum())
        raise ValueError(
            f"The network's output is not finite for {n_bad} of the "
            f"{output.shape[0]} samples of X: the input is too large for this "
            "network and overflowed it. Scale X as the training data was "
            "scaled (for instance with a StandardScaler fitted on it)."
        )
    remember_plan(estimator)
    return output


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


def prepare_training(estimator, X, y, sample_weight, incremental):
    """Validate and encode the data and set up the engine for training.

    Sets up the estimator's fitted attributes on a first pass (then draws the
    initial weights from ``random_state``); on a warm start or ``partial_fit``
    checks the data against the fit so far. ``coefs_`` and ``intercepts_``
    become views of the returned network's flat buffer.

    Returns
    -------
    network : sknumpynet._network.MLP
    X : ndarray or sparse matrix
        The validated input.
    y : ndarray of shape (n_samples, n_outputs)
        The encoded targets.
    sample_weight : ndarray or None
        The sample weights, class weights folded in.
    random_state : numpy.random.RandomState
        The generator of this call, after the weights were drawn.
    """
    sizes = hidden_layer_sizes(estimator)
    activations = hidden_activations(estimator, len(sizes))
    dropout_rates(estimator, len(sizes))  # invalid rates fail before any work
    learning_rate_factors(estimator)
    first_pass = not hasattr(estimator, "coefs_") or (
        not estimator.warm_start and not incremental
    )

    X, y = estimator._validate_input(X, y, incremental, reset=first_pass)
    if not first_pass and X.dtype != estimator.coefs_[0].dtype:
        # The first fit fixed the model's precision; later data follows it
        # (a float64 model is not silently downcast by a float32 batch).
        X = cast_input(X, estimator.coefs_[0].dtype)
        if y.dtype.kind == "f":
            y = y.astype(X.dtype)
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, X, X.dtype)
    if y.ndim == 1:
        y = y.reshape((-1, 1))
    sample_weight = estimator._with_class_weight(y, sample_weight, incremental, X.dtype)
    units = [X.shape[1], *sizes, y.shape[1]]

    # A fresh generator from random_state at every call, as scikit-learn
    # does, so the same seed gives the same draws in the same order: weights,
    # then the validation split, then one shuffle per epoch.
    random_state = check_random_state(estimator.random_state)
    if first_pass:
        estimator.n_outputs_ = y.shape[1]
        estimator.n_layers_ = len(units)
        estimator.out_activation_ = output_activation(estimator)
        fresh = Progress.fresh(estimator.solver, estimator.early_stopping)
        vars(estimator).update(vars(fresh))
    elif bool(estimator.feature_scale) != hasattr(estimator, "feature_scale_"):
        raise ValueError(
            f"feature_scale={estimator.feature_scale!r} but the model was fitted "
            f"{'without' if estimator.feature_scale else 'with'} a feature "
            "scale; with warm_start=True or partial_fit, feature_scale must stay "
            "the same. Use fit with warm_start=False to start over."
        )
    elif layer_units(estimator) != units:
        raise ValueError(
            "The network's layers have changed since the last fit "
            f"(now {units[1:-1]} hidden units and {units[-1]} outputs); with "
            "warm_start=True or partial_fit, hidden_layer_sizes and the number "
            "of outputs must stay the same. Use fit with warm_start=False to "
            "start over."
        )

    network = build_network(estimator, units, X.dtype)
    if first_pass:
        network.initialize(
            random_state,
            method=estimator.weight_init,
            glorot_factor=_glorot_factors(estimator, activations),
        )
        estimator._best_params = network.params.copy()
    else:
        network.set_weights(
            estimator.coefs_,
            estimator.intercepts_,
            getattr(estimator, "feature_scale_", None),
        )
    # coefs_, intercepts_ (and feature_scale_) are live views of the engine's
    # flat buffer.
    _set_weight_views(estimator, [network.coefs, network.intercepts, network.scale])
    return network, X, y, sample_weight, random_state


def _set_weight_views(estimator, views):
    """``coefs_``, ``intercepts_`` and, when the network has one (the third
    view is not None), ``feature_scale_``; a stale ``feature_scale_`` of a
    previous model goes."""
    estimator.coefs_, estimator.intercepts_ = views[:2]
    scale = views[2] if len(views) > 2 else None
    if scale is None:
        vars(estimator).pop("feature_scale_", None)
    else:
        estimator.feature_scale_ = scale


class _BaseNumpyMLP(
    VersionStampMixin, _SklearnExportMixin, CallbackSupportMixin, BaseEstimator, ABC
):
    """Shared machinery of the classifier and the regressor.

    Do not use directly; use :class:`NumpyMLPClassifier` or
    :class:`NumpyMLPRegressor`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
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
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
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
    def _validate_input(self, X, y, incremental, reset):
        """Validate X and y; return X and the 2-D target matrix."""

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

    def _fit(self, X, y, sample_weight, incremental, *validation, **fit_params):
        """Fit, keeping the previous fitted state if anything goes wrong."""
        # A fit never writes into the arrays it finds (the engine copies the
        # weights into a buffer of its own), so keeping references is enough;
        # only the lists it appends to (loss_curve_, ...) need copies.
        saved_state = {
            name: copy.copy(value) if isinstance(value, list) else value
            for name, value in fitted_state(self).items()
        }
        try:
            return self._fit_unguarded(
                X, y, sample_weight, incremental, *validation, **fit_params
            )
        except BaseException:
            # Nothing already trained is lost: a failed call (bad input,
            # divergence) leaves the estimator as it found it.
            for name in fitted_state(self):
                delattr(self, name)
            vars(self).update(saved_state)
            raise

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
        network, X, y, sample_weight, random_state = prepare_training(
            self, X, y, sample_weight, incremental
        )
        validation = self._validation_data(X_val, y_val, sample_weight_val, X.dtype)
        callbacks = EpochCallbacks(
            self,
            X,
            self._decode_targets(y),
            sample_weight,
            max_epochs=1 if incremental else self.max_iter,
        )
        # What __init__ stored (get_params would miss what a subclass's
        # narrower signature hides).
        params = SimpleNamespace(
            **{k: v for k, v in vars(self).items() if not is_fitted_state_name(k)}
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
            "params": params,
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
                sample_weight,
                incremental=incremental,
                random_state=random_state,
                split_validation=self._validation_split,
                **training,
            )
        else:
            fit_lbfgs(network, X, y, sample_weight, **training)
        vars(self).update(vars(progress))
        callbacks.end_fit()

        if not np.isfinite(network.params).all():
            raise ValueError(divergence_message(params))
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore", invalid="ignore"):
                finite = np.isfinite(network.predict(X)).all()
            if not finite:
                raise ValueError(divergence_message(params))
        return self

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
        train_rows, val_rows = train_test_split(
            np.arange(X.shape[0]),
            random_state=random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if val_rows.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
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

    def _evaluate(self, network, validation):
        """Validation loss and score of the network as it is now.

        The score is what early stopping watches (higher is better): by
        default accuracy or R^2 as in scikit-learn, ``-loss`` with
        ``scoring="loss"``, or the given scorer. Overflow of a diverging
        network is reported by the loss check, not as warnings.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            y_pred = network.predict(validation.X)
            if not np.isfinite(y_pred).all():
                return np.nan, np.nan
            loss = network.reported_data_loss(
                validation.y, y_pred, validation.sample_weight
            )
            if self.scoring is None:
                score = self._score_predictions(
                    validation.labels, self._decode(y_pred), validation.sample_weight
                )
            elif self.scoring == "loss":
                score = -loss
            else:
                scorer = check_scoring(self, scoring=self.scoring)
                weights = validation.sample_weight
                metadata = {} if weights is None else {"sample_weight": weights}
                score = scorer(self, validation.X, validation.labels, **metadata)
        return float(loss), float(score)

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
        _set_weight_views(self, layer_views(best, layer_units(self), scaled))
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
        output = network_output(self, X)
        plan = current_plan(self)  # made by the first prediction
        decoded = None if plan is None else plan.decoded(output)
        return self._decode(output) if decoded is None else decoded

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
