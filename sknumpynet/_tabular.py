r"""Strong default multilayer perceptrons for raw tabular data: RealMLP-TD-S.

:class:`TabularMLPClassifier` and :class:`TabularMLPRegressor` take a raw
table (a pandas or polars DataFrame, or an array, with numeric, string,
categorical and boolean columns and missing values), preprocess it with
:class:`~sknumpynet.TabularPreprocessor` and train the engine's network with
the recipe of RealMLP-TD-S, from "Better by Default: Strong Pre-Tuned MLPs
and Boosted Trees on Tabular Data" (NeurIPS 2024) and its reference package
pytabkit (``RealMLP_TD_S_CLASS`` and ``RealMLP_TD_S_REG`` in
``pytabkit/models/sklearn/default_params.py``):

* three hidden layers of 256 units, SELU units for classification and Mish
  units for regression;
* the NTK parametrization, weights and intercepts drawn from
  :math:`\mathcal{N}(0, 1)`, a zero output layer and a learnable per-feature
  scale in front (:class:`~sknumpynet._network.MLP`);
* Adam with betas (0.9, 0.95), learning rate 0.04 (classification) or 0.07
  (regression), multiplied by 0.1 for the intercepts and by 6 for the
  feature scale, and by the "coslog4" schedule over the whole training
  (:func:`~sknumpynet._optimizers.coslog_schedule`);
* label smoothing 0.1 for classification, standardized targets for
  regression;
* 256 epochs of whole mini-batches of 256 rows (the remainder left out of
  each epoch, as pytabkit's ``drop_last=True``), and the weights of the
  epoch with the lowest validation error (1 - accuracy, or the root mean
  squared error) on an internal split restored at the end.

The epochs run in :func:`sknumpynet._training.fit_scheduled`, beside the
NumpyMLP estimators' loop and with its helpers: the same ``history_``,
divergence errors and scikit-learn callbacks. The schedule is defined over
the whole fit, so these estimators have no ``partial_fit`` or
``warm_start`` and no stopping rule.
"""

from dataclasses import replace
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._callbacks import CallbackSupportMixin, EpochCallbacks
from ._model import effective_weights, fitted_state, is_fitted_state_name
from ._network import MLP
from ._optimizers import Adam, flat_cos_schedule
from ._parameters import (
    REALMLP_TD_S_LR_FACTORS,
    REALMLP_TD_WD_FACTORS,
    layer_views,
)
from ._serving import TabularPlan, current_plan, remember_plan
from ._tabular_preprocessing import TabularPreprocessor, validate_frame
from ._training import Progress, Validation, fit_scheduled, whole_batches

#: The training record's entries that become the estimators' attributes.
_TRAINING_ATTRIBUTES = ("loss_curve_", "validation_scores_", "history_", "n_iter_")


def _check_2d(X):
    """A clear error for input that is not a table (before any other check)."""
    ndim = len(X.shape) if hasattr(X, "shape") else np.ndim(np.asarray(X, object))
    if ndim != 2:
        raise ValueError(
            f"Expected 2D array-like input (a table), got {ndim}D input instead. "
            "Reshape your data with array.reshape(-1, 1) for a single feature "
            "or array.reshape(1, -1) for a single sample."
        )


def _fill(text, **values):
    """``text`` with each ``<name>`` replaced by its value (the docstrings
    hold braces of their own, so no ``str.format``)."""
    for name, value in values.items():
        text = text.replace(f"<{name}>", value)
    return text


# Docstring pieces of the two estimators, each sentence written once.
_INTRO = """Multilayer perceptron <kind> with the RealMLP-TD-S recipe.

    Takes raw tables -- a pandas or polars DataFrame or an array with
    numeric, string, categorical and boolean columns and missing values --
    and works well with its defaults: preprocessing, architecture,
    initialisation, optimizer, schedule and the number of epochs are those of
    RealMLP-TD-S (see Notes).

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(256, 256, 256)
        Units of each hidden layer (one int: one hidden layer; an empty
        sequence: no hidden layer, a linear model).
    activation : str, default=None
        The hidden units' activation, a name such as "selu", "mish" or
        "relu"; None means the recipe's "<activation>".
    n_epochs : int, default=256
        Number of passes over the training rows. The learning-rate schedule
        spans them all.
    batch_size : int, default=256
        Rows per mini-batch (all the training rows if there are fewer).
        Every batch is whole: each epoch leaves out the remainder of fewer
        rows, a different one each epoch (as pytabkit does).
    learning_rate : float, default=None
        The base step size of Adam; None means the recipe's <learning_rate>.
    dropout : float, default=0.0
        Dropout rate of the hidden units, as the full RealMLP-TD schedules
        it (which sets 0.15): constant for the first half of the fit, then
        down to 0 along a half cosine ("flat_cos", set at the start of each
        epoch). Off by default: on the benchmark's 16 tables, RealMLP-TD's
        dropout and weight decay together lowered the geometric-mean error
        by 0.6 %, within the noise of the splits, for 25 % more CPU time.
    weight_decay : float, default=0.0
        Decoupled weight decay of the weights and the feature scale, not of
        the intercepts, as the full RealMLP-TD applies it (which sets 0.02):
        it follows the learning rate and the "flat_cos" schedule, and the
        feature scale decays 36 times as fast as the weights (pytabkit's
        factors, which enter squared). Off by default (see ``dropout``).
"""

_VALIDATION_FRACTION = """    validation_fraction : float, default=0.2
        Fraction of the training rows held out to choose the best epoch,
        whose weights the fitted model keeps; 0 trains on every row and
        keeps the last epoch.<stratified>
    preprocessor : transformer, default=None
        Turns X into the network's numeric input; None means a
        :class:`TabularPreprocessor` of this ``dtype``. A clone is fitted.
    random_state : int, RandomState instance or None, default=None
        Seeds, in this order, the validation split, the initial weights and
        the shuffle of the training rows at every epoch.
    verbose : bool, default=False
        Print the training loss and validation score of every epoch.
    dtype : {"float32", "float64"}, default="float32"
        The precision the network computes in.

    Attributes
    ----------
    preprocessor_ : transformer
        The fitted preprocessor.
"""

_NETWORK_ATTRIBUTES = """    n_features_in_ : int
        Number of columns of X seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the columns of X seen in fit, when they are all strings.
    coefs_ : list of ndarray
        ``coefs_[i]`` is the stored weight matrix of layer ``i``, of shape
        ``(fan_in, fan_out)``; the forward pass multiplies it by
        :math:`1/\\sqrt{\\text{fan\\_in}}` (and the first one, row by row, by
        ``feature_scale_``).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the intercept vector of layer ``i``.
    feature_scale_ : ndarray of shape (n_preprocessed_features,)
        The learned scale of each preprocessed feature.
    n_outputs_ : int
        Number of output units (<outputs>).
    loss_curve_ : list of float
        The training loss (<loss>) of each epoch.
    validation_scores_ : list of float
        <score> after each epoch
        (empty with ``validation_fraction=0``).
    best_epoch_ : int
        The epoch whose weights were kept (the last with the best validation
        score; the last one without validation).
    history_ : list of dict
        One entry per epoch, as the NumpyMLP estimators': ``epoch``,
        ``loss`` (training), ``val_loss`` and ``val_score`` with
        validation, ``learning_rate`` (the scheduled step size at the end
        of the epoch) and ``time`` (seconds).
        ``val_loss`` is <val_loss>.
    n_iter_ : int
        Number of epochs run: ``n_epochs``, unless a callback stopped the fit.

    See Also
    --------
    <other> : The <other_kind> of the same recipe.
    TabularPreprocessor : The preprocessing of raw tables it uses.
    <general> : The general-purpose <kind>, a superset of
        scikit-learn's <sklearn>.

    Notes
    -----
    The recipe is RealMLP-TD-S from "Better by Default: Strong Pre-Tuned MLPs
    and Boosted Trees on Tabular Data" (NeurIPS 2024), as its reference
    package pytabkit sets it: robust scaling and smooth clipping of the
    features with one-hot categories (:class:`TabularPreprocessor`); three
    hidden layers of 256 <activation_name> units; the NTK parametrization
    with :math:`\\mathcal{N}(0, 1)` weights, a learnable scale in front of the
    first layer and a zero output layer; Adam with betas (0.9, 0.95) and
    learning rate <learning_rate>, times 0.1 for the intercepts and 6 for the
    scale, following the "coslog4" schedule over all the steps of the fit;
    <targets>; 256 epochs of whole batches of 256 rows; the weights of the
    epoch with the lowest validation error (<error>) restored, the latest one
    of ties.

    There is no ``partial_fit`` (and no ``warm_start``): the schedule is
    defined over the whole fit -- it needs the total number of steps -- so
    a fit always trains from scratch.

    With scikit-learn >= 1.9, callbacks (``set_callbacks``) see one task per
    epoch, as with the NumpyMLP estimators, and may stop the fit early. A
    fit that diverges raises a ``ValueError`` and leaves the estimator as it
    was.

"""


class _BaseTabularMLP(CallbackSupportMixin, BaseEstimator):
    """What the tabular classifier and regressor share.

    Do not use directly; use :class:`TabularMLPClassifier` or
    :class:`TabularMLPRegressor`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), None],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "preprocessor": [HasMethods(["fit", "transform"]), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    #: The recipe's choices that are not parameters: the network's
    #: parametrization, initialisation and feature scale, and Adam's betas,
    #: schedule and per-group learning-rate factors. Held in one place so that
    #: an ablation (``benchmarks/``) can change one of them in a subclass.
    _recipe = {
        "parametrization": "ntk",
        "feature_scale": True,
        "init": "normal",
        "zero_output": True,
        "betas": (0.9, 0.95),
        "lr_schedule": "coslog4",
        "lr_factors": REALMLP_TD_S_LR_FACTORS,
        "dropout_schedule": flat_cos_schedule,
        "wd_schedule": "flat_cos",
        "wd_factors": REALMLP_TD_WD_FACTORS,
    }

    #: The recipe's defaults of the parameters left at None.
    _default_activation = None
    _default_learning_rate = None
    #: The engine's output activation and loss.
    _output = None

    @property
    def parametrization(self):
        """How the forward pass scales the stored weights: the recipe's
        "ntk" (read by :func:`~sknumpynet._model.effective_weights`)."""
        return self._recipe["parametrization"]

    # -- hooks of the subclasses ---------------------------------------------

    def _encode_targets(self, y):
        """Validate y, set the target attributes; return the network's targets
        (2-D) and the labels to stratify the split by (or None)."""
        raise NotImplementedError

    def _validation_score(self, targets, output):
        """Score (higher is better) of the network's output on the
        validation rows."""
        raise NotImplementedError

    def _label_smoothing(self):
        return 0.0

    def _evaluate(self, network, validation):
        """Validation loss and score of the network as it is now.

        The loss is the network's (without label smoothing); the score is
        :meth:`_validation_score`, -inf when the output is not finite.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            output = network.predict(validation.X)
            loss = np.nan
            if np.isfinite(output).all():
                loss = network.reported_data_loss(validation.y, output)
        return loss, self._validation_score(validation.y, output)

    # -- fit -----------------------------------------------------------------

    def _hidden_sizes(self):
        sizes = np.asarray(self.hidden_layer_sizes, dtype=object).ravel().tolist()
        if not all(
            isinstance(size, Integral) and not isinstance(size, bool) and size > 0
            for size in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return [int(size) for size in sizes]

    def _preprocess_fit(self, X):
        """Fit the preprocessor on X; return the network's input."""
        if self.preprocessor is None:
            self.preprocessor_ = TabularPreprocessor(dtype=self.dtype)
        else:
            self.preprocessor_ = clone(self.preprocessor)
        Z = self.preprocessor_.fit_transform(X)
        validate_frame(self, X, reset=True)
        return self._as_input(Z)

    def _as_input(self, Z):
        """The preprocessor's output as a finite matrix of the model's dtype."""
        return check_array(
            Z,
            accept_sparse="csr",
            dtype=np.dtype(self.dtype),
            input_name="X after preprocessing",
        )

    def _split(self, n_samples, stratify, random_state):
        """Rows to train on and rows whose best epoch is restored."""
        rows = np.arange(n_samples)
        if self.validation_fraction == 0:
            return rows, rows[:0]
        if stratify is not None:
            counts = np.bincount(stratify)
            n_val = int(np.ceil(self.validation_fraction * n_samples))
            n_classes = len(counts)
            if counts.min() < 2 or min(n_val, n_samples - n_val) < n_classes:
                stratify = None  # too few rows of some class to stratify
        return train_test_split(
            rows,
            test_size=self.validation_fraction,
            random_state=random_state,
            stratify=stratify,
        )

    def _fit(self, X, y):
        """Fit, keeping the previous fitted state if anything goes wrong."""
        saved = fitted_state(self)
        try:
            return self._fit_unguarded(X, y)
        except BaseException:
            # A failed fit (bad input, divergence) leaves the estimator as it
            # found it: the new attributes go, the old ones come back.
            for name in [name for name in vars(self) if is_fitted_state_name(name)]:
                delattr(self, name)
            vars(self).update(saved)
            raise

    def _fit_unguarded(self, X, y):
        sizes = self._hidden_sizes()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        _check_2d(X)
        check_consistent_length(X, y)
        Z = self._preprocess_fit(X)
        targets, stratify = self._encode_targets(y)
        dtype = np.dtype(self.dtype)
        targets = targets.astype(dtype, copy=False)

        random_state = check_random_state(self.random_state)
        train_rows, val_rows = self._split(Z.shape[0], stratify, random_state)
        units = [Z.shape[1], *sizes, targets.shape[1]]
        recipe = self._recipe
        network = MLP(
            units,
            self.activation or self._default_activation,
            *self._output,
            dtype,
            label_smoothing=self._label_smoothing(),
            parametrization=recipe["parametrization"],
            feature_scale=recipe["feature_scale"],
            dropout=self.dropout,
        )
        network.initialize(
            random_state, method=recipe["init"], zero_output=recipe["zero_output"]
        )
        batch_size = min(self.batch_size, len(train_rows))
        n_batches = whole_batches(len(train_rows), batch_size)
        learning_rate = self.learning_rate or self._default_learning_rate
        optimizer = Adam(
            network.params.size,
            dtype,
            learning_rate_init=learning_rate,
            beta_1=recipe["betas"][0],
            beta_2=recipe["betas"][1],
            lr_schedule=recipe["lr_schedule"],
            lr_multipliers=network.lr_multipliers(**recipe["lr_factors"]),
            total_steps=self.n_epochs * n_batches,
            weight_decay=self.weight_decay,
            wd_multipliers=network.lr_multipliers(**recipe["wd_factors"]),
            wd_schedule=recipe["wd_schedule"],
        )
        validation = (
            Validation(Z[val_rows], targets[val_rows], None, None)
            if len(val_rows)
            else None
        )
        self.n_outputs_ = targets.shape[1]
        # Live views of the weights being trained, so that callbacks see them.
        self._set_weights(network.params, units)
        params = SimpleNamespace(
            solver="adam",
            learning_rate_init=learning_rate,
            learning_rate_parameter="learning_rate",
            alpha=0.0,
            max_grad_norm=None,
            verbose=self.verbose,
        )
        # The best epoch's weights are restored, as with early stopping.
        progress = Progress.fresh("adam", early_stopping=True)
        callbacks = EpochCallbacks(self, X, y, None, max_epochs=self.n_epochs)
        self.best_epoch_ = fit_scheduled(
            network,
            Z,
            targets,
            params=params,
            progress=progress,
            optimizer=optimizer,
            train_rows=train_rows,
            batch_size=batch_size,
            n_epochs=self.n_epochs,
            random_state=random_state,
            validation=validation,
            evaluate=self._evaluate,
            callbacks=callbacks,
            dropout_schedule=recipe["dropout_schedule"],
        )
        for name in _TRAINING_ATTRIBUTES:
            setattr(self, name, getattr(progress, name))
        # The kept weights, in a buffer of their own.
        self._set_weights(network.params.copy(), units)
        callbacks.end_fit()
        return self

    def _set_weights(self, flat_params, units):
        """``coefs_``, ``intercepts_`` and ``feature_scale_``: views of the
        flat parameter buffer."""
        recipe = self._recipe
        views = layer_views(flat_params, units, feature_scale=recipe["feature_scale"])
        self.coefs_, self.intercepts_ = views[:2]
        # Without the learnable scale the input is scaled by ones.
        self.feature_scale_ = (
            views[2] if len(views) == 3 else np.ones(units[0], flat_params.dtype)
        )

    # -- predict -------------------------------------------------------------

    def _network_output(self, X):
        """The fitted network's output for the raw X.

        The first prediction of a fitted model makes its serving plan
        (:class:`~sknumpynet._serving.TabularPlan`): the effective weights,
        computed once, and the activations. Later ones reuse it, and take
        the preprocessed matrix straight to the network when cheap checks
        prove that ``_as_input`` would pass it on unchanged; the outputs are
        bitwise the same.
        """
        plan = current_plan(self)  # a current plan means a fitted model
        if plan is None:
            check_is_fitted(self)
        _check_2d(X)
        validate_frame(self, X, reset=False)
        Z = self.preprocessor_.transform(X)
        if plan is None:
            coefs = effective_weights(self)
            activation = self.activation or self._default_activation
            plan = TabularPlan(
                self,
                coefs,
                HIDDEN_ACTIVATIONS[activation][0],
                OUTPUT_ACTIVATIONS[self._output[0]],
            )
        with np.errstate(over="ignore", invalid="ignore"):
            values = plan.accepted_input(Z)
            output = plan.forward(self._as_input(Z) if values is None else values)
        n_bad = len(output) - int(np.isfinite(output).all(axis=1).sum())
        if n_bad:
            raise ValueError(
                f"The network's output is not finite for {n_bad} of the "
                f"{len(output)} rows of X: their preprocessed values overflowed "
                "the network."
            )
        remember_plan(self, plan)
        return output

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Raw tables: missing values, strings and categories are all welcome.
        tags.input_tags = replace(
            tags.input_tags, allow_nan=True, string=True, categorical=True
        )
        return tags


class TabularMLPClassifier(ClassifierMixin, _BaseTabularMLP):
    __doc__ = (
        _fill(_INTRO, kind="classifier", activation="selu", learning_rate="0.04")
        + """    label_smoothing : float, default=0.1
        :math:`\\varepsilon` in [0, 1): train on the targets
        :math:`(1 - \\varepsilon) y + \\varepsilon / K` of ``K`` classes.
"""
        + _fill(
            _VALIDATION_FRACTION,
            stratified="\n        The split is stratified by class when every "
            "class has enough\n        rows.",
        )
        + """    classes_ : ndarray of shape (n_classes,)
        The class labels.
"""
        + _fill(
            _NETWORK_ATTRIBUTES,
            outputs="the number of classes",
            loss="with the smoothed targets",
            val_loss="the log-loss of the validation labels (not\n        smoothed)",
            score="The validation accuracy",
            other="TabularMLPRegressor",
            other_kind="regressor",
            general="NumpyMLPClassifier",
            kind="classifier",
            sklearn="MLPClassifier",
            activation_name="SELU",
            learning_rate="0.04",
            targets="label smoothing 0.1",
            error="1 - accuracy",
        )
        + "    Softmax outputs serve any number of classes, two included.\n\n"
        + """    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sknumpynet import TabularMLPClassifier
    >>> X = pd.DataFrame({
    ...     "size": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0] * 4,
    ...     "color": ["red", "red", "blue", "blue", "red", None, "blue", "red"] * 4,
    ... })
    >>> y = ["small", "small", "small", "small", "large", "large", "large",
    ...      "large"] * 4
    >>> clf = TabularMLPClassifier(hidden_layer_sizes=(16,), n_epochs=10,
    ...                            random_state=0).fit(X, y)
    >>> clf.classes_
    array(['large', 'small'], dtype='<U5')
    >>> clf.predict(X.iloc[:4]).tolist()
    ['small', 'small', 'small', 'small']
    >>> clf.predict_proba(X.iloc[:2]).shape
    (2, 2)
    """
    )

    _parameter_constraints: dict = {
        **_BaseTabularMLP._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }
    _default_activation = "selu"
    _default_learning_rate = 0.04
    _output = ("softmax", "log_loss")

    def __init__(
        self,
        hidden_layer_sizes=(256, 256, 256),
        activation=None,
        *,
        n_epochs=256,
        batch_size=256,
        learning_rate=None,
        dropout=0.0,
        weight_decay=0.0,
        label_smoothing=0.1,
        validation_fraction=0.2,
        preprocessor=None,
        random_state=None,
        verbose=False,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.validation_fraction = validation_fraction
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def _label_smoothing(self):
        return self.label_smoothing

    def _encode_targets(self, y):
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        encoder = LabelEncoder()
        codes = encoder.fit_transform(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                "The classifier needs samples of at least 2 classes in the data, "
                f"but the data contains only 1 class: {encoder.classes_[0]!r}."
            )
        self.classes_ = encoder.classes_
        return np.eye(len(self.classes_))[codes], codes

    def _validation_score(self, targets, output):
        if not np.isfinite(output).all():
            return -np.inf
        return float(np.mean(output.argmax(axis=1) == targets.argmax(axis=1)))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Preprocess X and train the network on it with the recipe.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            The raw table: numeric, string, categorical and boolean columns,
            missing values allowed.
        y : array-like of shape (n_samples,)
            The class labels.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(X, y)

    def predict_proba(self, X):
        """Probability of each class for each row of X.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            A table with the columns seen in fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The class probabilities, in the order of ``classes_`` (float64).
        """
        proba = self._network_output(X).astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X):
        """Predict the class of each row of X.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            A table with the columns seen in fit.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted classes.
        """
        output = self._network_output(X)  # checks that the model is fitted
        return self.classes_[output.argmax(axis=1)]


class TabularMLPRegressor(RegressorMixin, _BaseTabularMLP):
    __doc__ = (
        _fill(_INTRO, kind="regressor", activation="mish", learning_rate="0.07")
        + _fill(_VALIDATION_FRACTION, stratified="")
        + """    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        Mean and standard deviation of the training targets: the network
        learns ``(y - target_mean_) / target_scale_``. Predictions are
        float64, on the targets' scale.
"""
        + _fill(
            _NETWORK_ATTRIBUTES,
            outputs="the number of targets",
            loss="half the squared error of the standardized\n        targets, "
            "averaged over the targets",
            val_loss="the same measure on the validation rows",
            score="Minus the root mean squared error of the standardized\n"
            "        validation targets",
            other="TabularMLPClassifier",
            other_kind="classifier",
            general="NumpyMLPRegressor",
            kind="regressor",
            sklearn="MLPRegressor",
            activation_name="Mish",
            learning_rate="0.07",
            targets="standardized targets",
            error="the root mean squared error",
        )
        + """    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sknumpynet import TabularMLPRegressor
    >>> X = pd.DataFrame({
    ...     "rooms": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0] * 4,
    ...     "city": ["a", "b", "a", "b", None, "a", "b", "a"] * 4,
    ... })
    >>> y = 100_000 + 20_000 * X["rooms"].fillna(3.0).to_numpy()
    >>> reg = TabularMLPRegressor(hidden_layer_sizes=(16,), n_epochs=30,
    ...                           random_state=0).fit(X, y)
    >>> reg.target_mean_.round()
    array([190000.])
    >>> bool(reg.score(X, y) > 0.5)
    True
    """
    )

    _default_activation = "mish"
    _default_learning_rate = 0.07
    _output = ("identity", "squared_error")

    def __init__(
        self,
        hidden_layer_sizes=(256, 256, 256),
        activation=None,
        *,
        n_epochs=256,
        batch_size=256,
        learning_rate=None,
        dropout=0.0,
        weight_decay=0.0,
        validation_fraction=0.2,
        preprocessor=None,
        random_state=None,
        verbose=False,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def _encode_targets(self, y):
        y = check_array(
            y, ensure_2d=False, dtype=np.float64, input_name="y", ensure_min_samples=1
        )
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got {y.ndim} dimensions.")
        self._y_ndim = y.ndim
        y = y.reshape(len(y), -1)
        self.target_mean_ = y.mean(axis=0)
        scale = y.std(axis=0)
        self.target_scale_ = np.where(scale > 0, scale, 1.0)
        return (y - self.target_mean_) / self.target_scale_, None

    def _validation_score(self, targets, output):
        with np.errstate(over="ignore", invalid="ignore"):
            score = -float(np.sqrt(np.mean((output - targets) ** 2)))
        return score if np.isfinite(score) else -np.inf

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Preprocess X and train the network on it with the recipe.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            The raw table: numeric, string, categorical and boolean columns,
            missing values allowed.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, y)

    def predict(self, X):
        """Predict the target(s) of each row of X, on the targets' scale.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            A table with the columns seen in fit.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions (float64), 1-D when y was 1-D in fit.
        """
        output = self._network_output(X).astype(np.float64)
        y = output * self.target_scale_ + self.target_mean_
        return y.ravel() if self._y_ndim == 1 else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
