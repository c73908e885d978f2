"""The scikit-learn estimators: NumpyMLPClassifier and NumpyMLPRegressor.

This is the only module of the package that imports scikit-learn. It
validates parameters and data, encodes targets, runs the epochs (early
stopping, convergence, warnings) and drives the NumPy engine of
:mod:`sknumpynet._network`.
"""

import copy
import time
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy
import scipy.optimize
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.model_selection import train_test_split
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
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activations import CANONICAL_NAMES, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._export import _SklearnExportMixin
from ._network import MLP, WEIGHT_INITS, predict
from ._optimizers import SGD, Adam
from ._version import VersionStampMixin

_STOCHASTIC_SOLVERS = ("sgd", "adam")

#: A training loss this many times above the lowest one seen (or above 1,
#: whichever is larger) means the solver has diverged, even while finite.
_DIVERGENCE_FACTOR = 1e8

# SciPy 1.15 deprecated L-BFGS-B's ``iprint``; older versions print with it.
_SCIPY_HAS_IPRINT = tuple(int(part) for part in scipy.__version__.split(".")[:2]) < (
    1,
    15,
)


try:  # scikit-learn >= 1.9: estimators can take callbacks (progress bars...)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older scikit-learn: no callbacks, nothing else changes

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's callback mixin (scikit-learn < 1.9)."""


def _check_some_features(estimator, X):
    if hasattr(X, "columns") and len(X.columns) == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
            f"of 1 is required by {type(estimator).__name__}."
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


def _is_fitted_attribute(name):
    # Everything learned ends in "_", private state starts with "_";
    # constructor parameters do neither. The callbacks' bookkeeping belongs to
    # scikit-learn's callback machinery, which tears it down itself.
    return (
        (name.endswith("_") or name.startswith("_"))
        and not name.startswith("__")
        and "callback" not in name
    )


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
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
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
        "weight_init": [StrOptions(set(WEIGHT_INITS))],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "scoring": [StrOptions({"loss"}), str, callable, None],
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
    def _output_activation(self):
        """Name of the output activation for the current targets."""

    @abstractmethod
    def _decode(self, y_pred):
        """Turn the network's output into the predictions of ``predict``."""

    @abstractmethod
    def _score_predictions(self, y, y_pred, sample_weight):
        """Score used for early stopping (accuracy or R^2)."""

    # -----------------------------------------------------------------------
    # Fitting
    # -----------------------------------------------------------------------

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if not all(
            isinstance(size, Integral | np.integer) and size > 0 for size in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes}."
            )
        return [int(size) for size in sizes]

    def _per_hidden_layer(self, name, value, n_hidden, check):
        """One value per hidden layer from a parameter given once or per layer."""
        if isinstance(value, list | tuple):
            if len(value) != n_hidden:
                raise ValueError(
                    f"{name} has {len(value)} entries but the network has "
                    f"{n_hidden} hidden layers (hidden_layer_sizes="
                    f"{self.hidden_layer_sizes!r}); give one value, or one per "
                    "hidden layer."
                )
            values = list(value)
        else:
            values = [value] * n_hidden
        for entry in values:
            check(entry)
        return values

    def _hidden_activations(self, n_hidden):
        """The activation of each hidden layer, validated."""

        def check(name):
            if not isinstance(name, str) or name not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"activation must be one of {sorted(HIDDEN_ACTIVATIONS)} or a "
                    f"list of them, one per hidden layer; got {name!r}."
                )

        return self._per_hidden_layer("activation", self.activation, n_hidden, check)

    def _dropout_rates(self, n_hidden):
        """The dropout probability of each hidden layer, validated."""

        def check(rate):
            if not isinstance(rate, Real) or not 0 <= rate < 1:
                raise ValueError(
                    "dropout must be a probability in [0, 1) or a list of them, "
                    f"one per hidden layer; got {rate!r}."
                )

        return self._per_hidden_layer("dropout", self.dropout, n_hidden, check)

    def _glorot_factors(self, activations):
        """The constant of the Glorot bound of each layer of weights.

        scikit-learn uses 2 for logistic units and 6 otherwise; each layer of
        weights follows the activation of the units it feeds (the output
        layer's weights follow the last hidden layer's, as in scikit-learn,
        where every layer follows the one hidden activation).
        """
        names = activations or [self._single_activation_name()]
        feeding = [*names, names[-1]]
        return [2.0 if CANONICAL_NAMES[name] == "logistic" else 6.0 for name in feeding]

    def _single_activation_name(self):
        # Used only for a network without hidden layers.
        if isinstance(self.activation, str) and self.activation in CANONICAL_NAMES:
            return self.activation
        return "relu"

    def _fit(self, X, y, sample_weight=None, incremental=False, **fit_params):
        """Fit, keeping the previous fitted state if anything goes wrong."""
        # A fit never writes into the arrays it finds (the engine copies the
        # weights into a buffer of its own), so keeping references is enough;
        # only the lists it appends to (loss_curve_, ...) need copies.
        saved_state = {
            k: copy.copy(v) if isinstance(v, list) else v
            for k, v in vars(self).items()
            if _is_fitted_attribute(k)
        }
        try:
            return self._fit_unguarded(X, y, sample_weight, incremental, **fit_params)
        except BaseException:
            # Nothing already trained is lost: a failed call (bad input,
            # divergence) leaves the estimator as it found it.
            for name in [k for k in vars(self) if _is_fitted_attribute(k)]:
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
        network, X, y, sample_weight, random_state = self._prepare_fit(
            X, y, sample_weight, incremental
        )
        validation = self._validation_data(X_val, y_val, sample_weight_val, X.dtype)
        callbacks = _EpochCallbacks(
            self,
            X,
            self._decode_targets(y),
            sample_weight,
            max_epochs=1 if incremental else self.max_iter,
        )
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(
                network,
                X,
                y,
                sample_weight,
                incremental,
                random_state,
                validation,
                callbacks,
            )
        else:
            self._fit_lbfgs(network, X, y, sample_weight, validation, callbacks)
        callbacks.end_fit()

        if not np.isfinite(network.params).all():
            raise ValueError(self._divergence_message())
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore", invalid="ignore"):
                finite = np.isfinite(network.predict(X)).all()
            if not finite:
                raise ValueError(self._divergence_message())
        return self

    def _prepare_fit(self, X, y, sample_weight, incremental):
        """Validate and encode the data and set up the engine for training.

        Returns the network (freshly initialised on a first pass, else holding
        a copy of the current weights, which ``coefs_`` and ``intercepts_``
        then view), the validated ``X``, the 2-D target matrix, the sample
        weights (class weights folded in) and the random generator of this
        call.
        """
        hidden_layer_sizes = self._hidden_layer_sizes()
        activations = self._hidden_activations(len(hidden_layer_sizes))
        dropout = self._dropout_rates(len(hidden_layer_sizes))
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )

        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if not first_pass and X.dtype != self.coefs_[0].dtype:
            # The first fit fixed the model's precision; later data follows it
            # (a float64 model is not silently downcast by a float32 batch).
            X = X.astype(self.coefs_[0].dtype)
            if y.dtype.kind == "f":
                y = y.astype(X.dtype)
        if sample_weight is not None:
            with np.errstate(over="ignore"):
                sample_weight = _check_sample_weight(
                    sample_weight, X, dtype=X.dtype, ensure_non_negative=True
                )
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        sample_weight = self._with_class_weight(y, sample_weight, incremental, X.dtype)
        layer_units = [X.shape[1], *hidden_layer_sizes, y.shape[1]]

        # A fresh generator from random_state at every call, as scikit-learn
        # does, so the same seed gives the same draws in the same order:
        # weights, then the validation split, then one shuffle per epoch.
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units)
        elif [c.shape for c in self.coefs_] != list(
            zip(layer_units[:-1], layer_units[1:])
        ):
            raise ValueError(
                "The network's layers have changed since the last fit "
                f"(now {layer_units[1:-1]} hidden units and {layer_units[-1]} "
                "outputs); with warm_start=True or partial_fit, "
                "hidden_layer_sizes and the number of outputs must stay the "
                "same. Use fit with warm_start=False to start over."
            )

        network = MLP(
            layer_units,
            activations,
            self.out_activation_,
            self.loss,
            X.dtype,
            fit_intercept=self.fit_intercept,
            dropout=dropout,
        )
        if first_pass:
            network.initialize(
                random_state,
                method=self.weight_init,
                glorot_factor=self._glorot_factors(activations),
            )
            self._best_params = network.params.copy()
        else:
            network.set_weights(self.coefs_, self.intercepts_)
        # coefs_ and intercepts_ are live views of the engine's flat buffer.
        self.coefs_, self.intercepts_ = network.coefs, network.intercepts
        return network, X, y, sample_weight, random_state

    def _with_class_weight(self, y, sample_weight, incremental, dtype):
        """Fold per-class weights into the sample weights (classifier only)."""
        return sample_weight

    def _initialize(self, y, layer_units):
        """Set the attributes of a fresh fit (weights are drawn by the engine)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        self.loss_curve_ = []
        self.history_ = []
        self._optimizer_state = None
        self._best_loss_seen = np.inf
        if self.solver in _STOCHASTIC_SOLVERS:
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _divergence_message(self, loss=None, epoch=None):
        where = (
            "" if loss is None else f" (the training loss was {loss} at epoch {epoch})"
        )
        hint = (
            f"; or learning_rate_init={self.learning_rate_init} is too large for "
            "this data: try a smaller one"
            if self.solver in _STOCHASTIC_SOLVERS
            else ""
        )
        return (
            f"Solver produced non-finite parameter weights{where}: training "
            "diverged. The input data may contain large values and need to be "
            "preprocessed, for instance with StandardScaler"
            + hint
            + ". The estimator keeps the state it had before this call."
        )

    def _make_optimizer(self, network, incremental):
        """The solver's optimizer, resumed from the last call in partial_fit."""
        state = getattr(self, "_optimizer_state", None)
        if not incremental or state is None or state.get("solver") != self.solver:
            state = None
        n_params, dtype = network.params.size, network.dtype
        if self.solver == "sgd":
            return SGD(
                n_params,
                dtype,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
                state=state,
            )
        return Adam(
            n_params,
            dtype,
            self.learning_rate_init,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            lr_schedule=self.learning_rate,
            power_t=self.power_t,
            state=state,
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
        X_val = validate_data(
            self,
            X_val,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        X_val = X_val.astype(dtype, copy=False)
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
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=dtype, ensure_non_negative=True
            )
        return _Validation(X_val, y_val, self._decode_targets(y_val), sample_weight_val)

    def _validation_split(self, X, y, sample_weight, random_state):
        """Rows to train on and the held-out set for early stopping."""
        n_samples = X.shape[0]
        # Stratified like scikit-learn's MLP: only single-output classification.
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        train_rows, val_rows = train_test_split(
            np.arange(n_samples),
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
        return train_rows, _Validation(
            X[val_rows], y_val, self._decode_targets(y_val), sample_weight_val
        )

    def _decode_targets(self, y):
        """The encoded target matrix back in the form the scorers expect."""
        return y

    def _encode_validation_targets(self, y_val):
        """Check and encode the user's validation targets like the training's."""
        raise NotImplementedError

    def _evaluate(self, network, validation):
        """Validation loss and score; overflow of a diverging network is
        reported by the loss check, not as warnings."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._evaluate_unguarded(network, validation)

    def _evaluate_unguarded(self, network, validation):
        """Validation loss and score of the network as it is now.

        The score is what early stopping watches (higher is better): by
        default accuracy or R^2 as in scikit-learn, ``-loss`` with
        ``scoring="loss"``, or the given scorer.
        """
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
            params = (
                {}
                if validation.sample_weight is None
                else {"sample_weight": validation.sample_weight}
            )
            score = scorer(self, validation.X, validation.labels, **params)
        return float(loss), float(score)

    # -----------------------------------------------------------------------
    # Stochastic solvers
    # -----------------------------------------------------------------------

    def _fit_stochastic(
        self,
        network,
        X,
        y,
        sample_weight,
        incremental,
        random_state,
        validation,
        callbacks,
    ):
        optimizer = self._make_optimizer(network, incremental)
        early_stopping = self.early_stopping
        if early_stopping and incremental and validation is None:
            raise ValueError(
                "partial_fit does not support early_stopping=True without a "
                "validation set: pass X_val and y_val to partial_fit to stop "
                "on their score, or set early_stopping=False."
            )
        train_rows = None
        if early_stopping and validation is None:
            train_rows, validation = self._validation_split(
                X, y, sample_weight, random_state
            )
        n_samples = X.shape[0] if train_rows is None else train_rows.shape[0]
        if validation is not None and self.validation_scores_ is None:
            # A validation set given to a fit without early stopping is
            # scored too, and its best epoch remembered.
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf

        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        # The order of the rows: shuffled in place every epoch, which draws
        # the same permutations as scikit-learn's ``shuffle(sample_idx)``.
        if self.shuffle:
            rows = np.arange(n_samples) if train_rows is None else train_rows.copy()
        else:
            rows = train_rows
        # Dropout masks come from a generator of their own, seeded from
        # random_state only when dropout is used (the draws above stay those
        # of scikit-learn).
        dropout_rng = (
            np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
            if any(network.dropout)
            else None
        )

        try:
            self.n_iter_ = 0
            if incremental:
                self.should_stop_ = False
            for _ in range(self.max_iter):
                epoch_start = time.perf_counter()
                learning_rate = optimizer.base_learning_rate
                if self.shuffle:
                    random_state.shuffle(rows)
                callbacks.begin_epoch()
                # Overflow is detected below, from the loss, and explained.
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    loss = network.train_epoch(
                        X,
                        y,
                        sample_weight,
                        optimizer,
                        batch_size,
                        self.alpha,
                        rows,
                        dropout_rng=dropout_rng,
                        max_grad_norm=self.max_grad_norm,
                    )
                if not np.isfinite(loss) or loss > _DIVERGENCE_FACTOR * max(
                    self._best_loss_seen, 1.0
                ):
                    # Non-finite, or finite but 1e8 times the best loss yet:
                    # healthy training never climbs that far.
                    raise ValueError(
                        self._divergence_message(loss, len(self.loss_curve_) + 1)
                    )
                self.n_iter_ += 1
                self.loss_ = loss
                self.t_ += n_samples
                self.loss_curve_.append(loss)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                record = self._track_progress(network, validation, early_stopping)
                optimizer.iteration_ends(self.t_)
                self._record_epoch(
                    loss, record, learning_rate, time.perf_counter() - epoch_start
                )
                stop_requested = callbacks.end_epoch()

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        message = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        message = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    if optimizer.trigger_stopping(message, self.verbose):
                        if incremental:
                            # Streaming: the caller decides; tell it to stop.
                            self.should_stop_ = True
                        break
                    self._no_improvement_count = 0

                if incremental or stop_requested:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if early_stopping and (not incremental or self.should_stop_):
            network.params[...] = self._best_params
        self._optimizer_state = {"solver": self.solver, **optimizer.get_state()}

    def _track_progress(self, network, validation, early_stopping):
        """Score the epoch, remember the best weights, count stalled epochs.

        Stopping follows scikit-learn: the validation score with early
        stopping, the training loss otherwise. Returns (validation loss,
        score) or (None, None).
        """
        best_score_before = self.best_validation_score_
        val_loss, score = self._remember_best(network, validation)
        last_loss = self.loss_curve_[-1]
        if early_stopping:
            # Compared with the best score before this epoch, as in
            # scikit-learn.
            if score < best_score_before + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
        else:
            if last_loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_loss < self.best_loss_:
                self.best_loss_ = last_loss
        return val_loss, score

    def _remember_best(self, network, validation):
        """Score the weights just reached and keep them if they are the best.

        The best weights are those of the best validation score when there is
        a validation set, else of the lowest training loss (the last entry of
        ``loss_curve_``). Returns (validation loss, score) or (None, None).
        """
        last_loss = self.loss_curve_[-1]
        val_loss = score = None
        if validation is not None:
            val_loss, score = self._evaluate(network, validation)
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = network.params.copy()
        elif last_loss < self._best_loss_seen:
            self._best_params = network.params.copy()
        self._best_loss_seen = min(self._best_loss_seen, last_loss)
        return val_loss, score

    def _record_epoch(self, loss, record, learning_rate, seconds):
        """Append one epoch (or L-BFGS iteration) to ``history_``."""
        val_loss, val_score = record
        entry = {"epoch": len(self.history_) + 1, "loss": float(loss)}
        if val_loss is not None:
            entry["val_loss"] = val_loss
            entry["val_score"] = val_score
        entry["learning_rate"] = learning_rate
        entry["time"] = seconds
        self.history_.append(entry)

    def restore_best_weights(self):
        """Set the weights to those of the best epoch seen so far.

        The best epoch is the one with the best validation score when a
        validation set was used (early stopping, or ``X_val``/``y_val``), else
        the one with the lowest training loss. With ``early_stopping=True``,
        ``fit`` already ends with these weights.

        Returns
        -------
        self : object
            The estimator, with ``coefs_`` and ``intercepts_`` replaced.

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
        network = MLP(
            [c.shape[0] for c in self.coefs_] + [self.coefs_[-1].shape[1]],
            "identity",
            "identity",
            "squared_error",
            self.coefs_[0].dtype,
        )
        network.params[...] = self._best_params
        self.coefs_, self.intercepts_ = network.coefs, network.intercepts
        return self

    # -----------------------------------------------------------------------
    # L-BFGS
    # -----------------------------------------------------------------------

    def _fit_lbfgs(self, network, X, y, sample_weight, validation, callbacks):
        """Full-batch training with SciPy's L-BFGS-B on the flat parameters."""
        alpha = self.alpha
        last = {}  # the last evaluated point and its loss as reported

        def loss_and_gradient(flat_params):
            network.params[...] = flat_params
            loss = network.loss_and_gradient(X, y, sample_weight, alpha)
            last["x"] = np.array(flat_params, dtype=np.float64)
            last["reported_loss"] = network.reported_loss
            return loss, network.grad.astype(np.float64)

        accepted = {"x": network.params.astype(np.float64), "n_iter": 0}
        clock = {"start": time.perf_counter()}
        if validation is not None and getattr(self, "validation_scores_", None) is None:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        callbacks.begin_epoch()

        def on_iteration(flat_params):
            # L-BFGS-B calls back with the point its line search accepted,
            # which is the one it evaluated last.
            accepted["x"] = np.array(flat_params, dtype=np.float64)
            accepted["n_iter"] += 1
            network.params[...] = flat_params
            loss = last["reported_loss"]
            self.loss_curve_.append(loss)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (accepted["n_iter"], loss))
            record = self._remember_best(network, validation)
            now = time.perf_counter()
            self._record_epoch(loss, record, None, now - clock["start"])
            clock["start"] = now
            if callbacks.end_epoch():
                raise _StopTraining
            callbacks.begin_epoch()

        def reported_loss_at(flat_params):
            if not np.array_equal(last.get("x"), flat_params):
                loss_and_gradient(flat_params)
            return last["reported_loss"]

        options = {"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol}
        if _SCIPY_HAS_IPRINT:
            options["iprint"] = 1 if self.verbose else -1
        try:
            # Overflow shows up as a non-finite loss, checked below.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                result = scipy.optimize.minimize(
                    loss_and_gradient,
                    accepted["x"],
                    method="L-BFGS-B",
                    jac=True,
                    options=options,
                    callback=on_iteration,
                )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
            self.n_iter_ = accepted["n_iter"]
            final_params = accepted["x"]
        except _StopTraining:
            self.n_iter_ = accepted["n_iter"]
            final_params = accepted["x"]
        else:
            self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
            final_params = result.x
        callbacks.close_epoch()
        # The loss as scikit-learn reports it (output-averaged squared error).
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.loss_ = reported_loss_at(final_params)
        network.params[...] = final_params
        if not np.isfinite(self.loss_):
            raise ValueError(self._divergence_message())

    # -----------------------------------------------------------------------
    # Prediction
    # -----------------------------------------------------------------------

    def _forward(self, X, check_input=True, n_layers=None):
        """The network's output for X (validated unless told otherwise), or
        the activation of an earlier layer."""
        if check_input:
            _check_some_features(self, X)
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
        dtype = self.coefs_[0].dtype
        if X.dtype != dtype:
            X = X.astype(dtype)
        names = self._hidden_activations(len(self.coefs_) - 1)
        # Extreme logits may overflow on the way to a finite, correct output
        # (softmax subtracts the row maximum); that is not worth a warning.
        with np.errstate(over="ignore"):
            return predict(
                X,
                self.coefs_,
                self.intercepts_,
                [HIDDEN_ACTIVATIONS[name][0] for name in names],
                OUTPUT_ACTIVATIONS[self.out_activation_],
                n_layers=n_layers,
            )

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
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
            Non-negative weight of each sample; the loss is their weighted
            average.
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
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=False,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _Validation:
    """A validation set: inputs, encoded targets, their labels, weights."""

    def __init__(self, X, y, labels, sample_weight):
        self.X, self.y, self.labels, self.sample_weight = X, y, labels, sample_weight


class _StopTraining(Exception):
    """Raised from L-BFGS's callback when a callback asks training to stop."""


class _EpochCallbacks:
    """scikit-learn's callbacks (``sklearn.callback``, scikit-learn >= 1.9).

    One task per fit with one subtask per epoch (or L-BFGS iteration); a
    no-op when the estimator has no callbacks or scikit-learn has no callback
    support.
    """

    def __init__(self, estimator, X, y, sample_weight, max_epochs):
        self.estimator, self.X, self.y = estimator, X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self.context = self.epoch_context = None
        if getattr(estimator, "_skl_callbacks", None) and hasattr(
            estimator, "_init_callback_context"
        ):
            # L-BFGS may open one more, empty, iteration task than it runs.
            self.context = estimator._init_callback_context(max_subtasks=max_epochs + 1)
            self.context.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=self.metadata
            )

    def _weights(self):
        # A snapshot: the live coefs_ keep changing after the callback returns.
        return {
            "coefs_": [c.copy() for c in self.estimator.coefs_],
            "intercepts_": [b.copy() for b in self.estimator.intercepts_],
        }

    def begin_epoch(self):
        if self.context is None:
            return
        self.epoch_context = self.context.subcontext(task_name="epoch")
        self.epoch_context.call_on_fit_task_begin(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=self._weights,
        )

    def end_epoch(self):
        """Close the epoch's task; True when a callback asks to stop."""
        if self.epoch_context is None:
            return False
        stop = self.epoch_context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=self._weights,
        )
        self.epoch_context = None
        return bool(stop)

    def close_epoch(self):
        """Close an epoch task that was opened but never run (L-BFGS)."""
        if self.epoch_context is not None:
            self.epoch_context.call_on_fit_task_end(estimator=self.estimator)
            self.epoch_context = None

    def end_fit(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes={},
            )


_PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : str or list of str, default='logistic'
        Activation of the hidden layers, or one per hidden layer (a list as
        long as ``hidden_layer_sizes``; not in scikit-learn). 'logistic'
        (alias 'sigmoid', the seed article's name) is :math:`1 / (1 +
        e^{-z})`, computed without overflow for any input; 'tanh' is
        :math:`\\tanh z`; 'relu' is :math:`\\max(0, z)`; 'identity' is
        :math:`z`; and, not in scikit-learn, 'leaky_relu' is :math:`\\max(z,
        0.01 z)`, 'elu' is :math:`z` for :math:`z > 0` and :math:`e^z - 1`
        otherwise, 'softplus' is :math:`\\log(1 + e^z)`. The default differs
        from scikit-learn's ('relu'): it is the seed network's sigmoid.

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver: SciPy's L-BFGS-B quasi-Newton method, stochastic gradient
        descent, or Adam.

    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) sample count of
        each batch when added to the loss.

    batch_size : int or 'auto', default='auto'
        Size of minibatches for the stochastic solvers, ``min(200,
        n_samples)`` when 'auto'. Not used by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step-size schedule of 'sgd' and, unlike scikit-learn, of 'adam' too:
        constant; ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the
        samples seen; or divided by 5 each time ``n_iter_no_change`` epochs
        fail to improve by ``tol`` (instead of stopping).

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch (stochastic solvers).

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the early-stopping split and the
        shuffling. The draws are made in the same order as in scikit-learn's
        MLP, so an integer seed gives the same network as there.

    tol : float, default=1e-4
        Training stops when the loss (or validation score) fails to improve
        by ``tol`` for ``n_iter_no_change`` consecutive epochs; for 'lbfgs'
        it is the gradient tolerance.

    verbose : bool, default=False
        Whether to print progress messages to stdout.

    warm_start : bool, default=False
        Reuse the previous solution as initialization of the next ``fit``.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when
        its score fails to improve by ``tol`` for ``n_iter_no_change``
        epochs; the best weights are restored. Stochastic solvers only.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Number of epochs without ``tol`` improvement before stopping.

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.

    fit_intercept : bool, default=True
        Whether the layers have intercepts (biases). False gives the seed
        article's network, whose biases stay at zero. Not in scikit-learn.

    weight_init : {'glorot', 'uniform', 'he'}, default='glorot'
        Initial weights: 'glorot' is scikit-learn's scheme (uniform on
        :math:`\\pm\\sqrt{c / (\\text{fan\\_in} + \\text{fan\\_out})}`, c = 2
        for logistic units and 6 otherwise); 'uniform' draws weights and
        intercepts from :math:`[0, 1)`, as the seed article's
        ``np.random.rand``; 'he' draws weights from
        :math:`\\mathcal{N}(0, 2 / \\text{fan\\_in})` and zero intercepts.
        Not in scikit-learn.

    dropout : float or list of float, default=0.0
        Probability of dropping each hidden unit during training (inverted
        dropout: kept units are scaled by ``1 / (1 - dropout)``, so prediction
        uses the whole network unchanged), one value or one per hidden layer.
        The masks are drawn from a generator seeded by ``random_state``.
        Stochastic solvers only. Not in scikit-learn.

    max_grad_norm : float or None, default=None
        Clip each mini-batch gradient to this Euclidean norm (over all
        weights and intercepts). Stochastic solvers only. Not in scikit-learn.

    scoring : None, 'loss', str or callable, default=None
        What the validation set is judged by (early stopping, best weights):
        None is scikit-learn's choice (accuracy for the classifier, R^2 for
        the regressor); 'loss' is the validation loss (``validation_scores_``
        then holds its negative, higher being better); any other string or
        callable is a scikit-learn scorer. Not in scikit-learn.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        The loss at the end of fitting (data term plus L2 penalty).

    best_loss_ : float or None
        The smallest training loss reached; None with early stopping.
        Stochastic solvers only.

    loss_curve_ : list of float
        The loss at each epoch (stochastic solvers) or L-BFGS iteration.

    validation_scores_ : list of float or None
        The validation score at each epoch when ``early_stopping=True``,
        else None. Stochastic solvers only.

    best_validation_score_ : float or None
        The best validation score with early stopping, else None.
        Stochastic solvers only.

    t_ : int
        Number of training samples seen by the stochastic solver.

    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix from layer i to layer i + 1, of
        shape ``(n_units_i, n_units_i+1)``, in the dtype of the training data.

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i + 1.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    n_iter_ : int
        Number of epochs (iterations) run by the last call to fit.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation.

    history_ : list of dict
        One entry per epoch (or L-BFGS iteration), across warm starts and
        ``partial_fit`` calls: ``epoch``, ``loss`` (training), ``val_loss``
        and ``val_score`` when there is a validation set, ``learning_rate``
        (the scheduled step size; None for L-BFGS) and ``time`` (seconds).
        Not in scikit-learn.

    should_stop_ : bool
        After ``partial_fit``: True once ``n_iter_no_change`` calls in a row
        brought no improvement (of the validation score with
        ``early_stopping=True`` and ``X_val``/``y_val``, which also restores
        the best weights; of the training loss otherwise). Not in
        scikit-learn, whose ``partial_fit`` refuses early stopping.
"""


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
        + _PARAMETERS_DOC
        + """
    class_weight : dict, 'balanced' or None, default=None
        Weight of each class, multiplied into ``sample_weight`` as
        scikit-learn's linear models do: a dict ``{label: weight}``, or
        'balanced' for ``n_samples / (n_classes * np.bincount(y))``. Not
        for multilabel targets; with ``partial_fit``, only a dict (the class
        frequencies of a stream are unknown). Not in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
"""
        + _ATTRIBUTES_DOC
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
        class_weight=None,
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
        self.class_weight = class_weight

    _parameter_constraints: dict = {
        **_BaseNumpyMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    #: The classifier always minimises the log-loss.
    loss = "log_loss"

    def _output_activation(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _validate_input(self, X, y, incremental, reset):
        _check_some_features(self, X)
        _check_label_types(y)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
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

    def predict(self, X):
        """Predict the class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes (an indicator matrix for multilabel targets).
        """
        check_is_fitted(self)
        return self._decode(self._forward(X))

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
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
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.
        classes : array-like of shape (n_classes,), default=None
            Every class across all calls to partial_fit, for instance
            ``np.unique(y_all)``. Required on the first call, optional after.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            A validation set, scored after this call's epoch: the best weights
            so far are remembered (:meth:`restore_best_weights`) and, with
            ``early_stopping=True``, ``should_stop_`` turns True (and the best
            weights come back) once ``n_iter_no_change`` calls in a row fail to
            improve its score by ``tol``. Not in scikit-learn.
        y_val : array-like of shape (n_val,) or (n_val, n_classes), \
default=None
            Labels of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=True,
            classes=classes,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )

    def _fit_unguarded(self, X, y, sample_weight, incremental, classes=None, **kw):
        if incremental and _check_partial_fit_first_call(self, classes):
            # The first partial_fit call learns the label encoding from
            # ``classes`` (or from y itself when it is a multilabel matrix).
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return super()._fit_unguarded(X, y, sample_weight, incremental, **kw)

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

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        if len(self.classes_) == 1 and self.n_outputs_ == 1:
            return np.ones((y_pred.shape[0], 1), dtype=y_pred.dtype)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``; a probability of exactly zero gives
            ``-inf``.
        """
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
        + _PARAMETERS_DOC
        + """
    out_activation : {'identity', 'logistic'}, default='identity'
        Output activation with ``loss='squared_error'``. 'logistic' is the
        seed article's sigmoid output, for targets in [0, 1]. Not in
        scikit-learn.

    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
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

    def _output_activation(self):
        if self.loss == "poisson":
            return "exp"
        return self.out_activation

    def _validate_input(self, X, y, incremental, reset):
        if self.loss == "poisson" and self.out_activation != "identity":
            raise ValueError(
                f"out_activation={self.out_activation!r} cannot be combined with "
                "loss='poisson', whose output is always exponential (log link); "
                "use out_activation='identity'."
            )
        _check_some_features(self, X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
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

    def predict(self, X):
        """Predict the target of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._decode(self._forward(X))

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None
    ):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            A validation set, scored after this call's epoch: the best weights
            so far are remembered (:meth:`restore_best_weights`) and, with
            ``early_stopping=True``, ``should_stop_`` turns True (and the best
            weights come back) once ``n_iter_no_change`` calls in a row fail to
            improve its score by ``tol``. Not in scikit-learn.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), \
default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=True,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
        )

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
