"""Strong default multilayer perceptrons for raw tables: RealMLP-TD(-S).

:class:`TabularMLPClassifier` and :class:`TabularMLPRegressor` preprocess a
raw table with :class:`~sknumpynet.TabularPreprocessor` and train, with the
recipe of the full RealMLP-TD (by default) or of RealMLP-TD-S, its network
or the engine's plain one (the user guide's "Raw tables" page derives both
and credits their sources) through
:func:`sknumpynet._training.fit_scheduled`. Everything else -- the fit
guard, the version stamp, the weight views, the validation split, the
serving plan -- is :class:`~sknumpynet._base._NetworkEstimator`'s.
"""

from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from ._activations import HIDDEN_ACTIVATIONS
from ._base import TrainingData, _NetworkEstimator
from ._callbacks import EpochCallbacks
from ._docs import (
    TABULAR_FIT_PARAMETERS,
    TABULAR_NETWORK_ATTRIBUTES,
    TABULAR_RECIPE_PARAMETERS,
    fill,
)
from ._model import build_tabular_network, dropout_rates, hidden_layer_sizes
from ._optimizers import flat_cos_schedule
from ._parameters import REALMLP_TD_S_LR_FACTORS, REALMLP_TD_WD_FACTORS, layer_views
from ._serving import TabularNetworkPlan, TabularPlan, fitted_views
from ._tabular_network import REALMLP_TD_LR_FACTORS
from ._tabular_network import REALMLP_TD_WD_FACTORS as TD_WD_FACTORS
from ._tabular_preprocessing import (
    TabularPreprocessor,
    validate_frame,
)
from ._training import Progress, TrainingConfig, Validation, fit_scheduled
from ._validation import check_2d

#: The fitted state only a ``recipe="td"`` model has.
_TD_STATE = (
    "_parameter_buffer",
    "_n_network_inputs",
    "_ple_columns",
    "_ple_bins",
    "activation_mix_",
    "numeric_embedding_",
    "category_embedding_",
    "member_scale_",
)

#: The training record's entries that become the estimators' attributes.
_TRAINING_ATTRIBUTES = ("loss_curve_", "validation_scores_", "history_", "n_iter_")


class _BaseTabularMLP(_NetworkEstimator):
    """What the tabular classifier and regressor share.

    Do not use directly; use :class:`TabularMLPClassifier` or
    :class:`TabularMLPRegressor`.
    """

    _parameter_constraints: dict = {
        **_NetworkEstimator._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), None],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "recipe": [StrOptions({"td", "td-s"})],
        "numeric_embedding": [StrOptions({"pbld", "ple", "none"}), None],
        "n_members": [Interval(Integral, 1, None, closed="left"), None],
        # The base's, or None: the recipe's.
        "hidden_layer_sizes": [
            *_NetworkEstimator._parameter_constraints["hidden_layer_sizes"],
            None,
        ],
        "preprocessor": [HasMethods(["fit", "transform"]), None],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    #: The choices of RealMLP-TD-S (``recipe="td-s"``) that are not
    #: parameters, and the defaults of those left at None: the network's
    #: parametrization, initialisation and feature scale, and Adam's betas,
    #: schedule and per-group learning-rate factors. Held in one place so
    #: that an ablation (``benchmarks/``) can change one of them in a
    #: subclass.
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
        "dropout": 0.0,
        "weight_decay": 0.0,
        "hidden_layer_sizes": (256, 256, 256),
    }

    #: The full RealMLP-TD (``recipe="td"``): the engine's
    #: :class:`~sknumpynet._tabular_network.TabularNetwork` with periodic
    #: numeric embeddings, learned category tables, a parametric activation,
    #: the data-dependent initialisation, dropout 0.15 and weight decay 0.02.
    _td_recipe = {
        "parametrization": "ntk",
        "feature_scale": True,
        "init": "data",
        "betas": (0.9, 0.95),
        "lr_schedule": "coslog4",
        "lr_factors": REALMLP_TD_LR_FACTORS,
        "dropout_schedule": flat_cos_schedule,
        "wd_schedule": "flat_cos",
        "wd_factors": TD_WD_FACTORS,
        "dropout": 0.15,
        "weight_decay": 0.02,
        "numeric_embedding": "pbld",
        "n_frequencies": 16,
        "embedding_dim": 3,
        "frequency_scale": 0.1,
        "ple_max_bins": 16,
        "ple_min_samples_leaf": 8,
        "parametric_activation": True,
        "max_one_hot": 8,
        "category_dim": 8,
        # The shared-weight ensemble and its width were chosen on development
        # tables outside the benchmark (benchmarks/bench_tabular_ensemble.py),
        # then judged on the benchmark by a rule written before its results.
        "n_members": 4,
        "hidden_layer_sizes": (128, 128, 128),
    }

    #: The value a model file implies for a parameter it lacks, where that
    #: differs from today's default: a file written before ``recipe``
    #: existed holds a RealMLP-TD-S model (read by ``sknumpynet.load``; an
    #: object unpickled without the attribute reads as "td-s" too).
    _older_file_defaults = {"recipe": "td-s"}
    #: The recipe's defaults of the parameters left at None.
    _default_activation = None
    #: The recipes' base step sizes.
    _learning_rates = {"td": None, "td-s": None}
    #: The engine's output activation and loss.
    _output = None
    #: Every layer has intercepts.
    fit_intercept = True
    _overflow_remedy = (
        "The preprocessed input is bounded, so the weights themselves are too "
        "large: refit with a smaller learning_rate."
    )

    # -- the facts sknumpynet._model reads: the recipe's ----------------------

    def _settings(self):
        """The recipe's choices: ``_recipe`` or ``_td_recipe``."""
        return self._td_recipe if self._is_td() else self._recipe

    def _is_td(self):
        """Whether the model is the full RealMLP-TD's network."""
        return getattr(self, "recipe", "td-s") == "td"

    @property
    def parametrization(self):
        """How the forward pass scales the stored weights (the recipe's)."""
        return self._settings()["parametrization"]

    @property
    def feature_scale(self):
        """Whether a learnable scale multiplies the input (the recipe's)."""
        return self._settings()["feature_scale"]

    @property
    def _default_dropout(self):
        return self._settings()["dropout"]

    @property
    def _default_hidden_layer_sizes(self):
        return self._settings()["hidden_layer_sizes"]

    @property
    def _default_learning_rate(self):
        return self._learning_rates[getattr(self, "recipe", "td-s")]

    @property
    def loss(self):
        """The engine's loss."""
        return self._output[1]

    @property
    def out_activation_(self):
        """The output layer's activation."""
        return self._output[0]

    # -- hooks of the subclasses ---------------------------------------------

    def _encode_targets(self, y, from_fitted):
        """Validate y and return the network's targets (2-D) and the labels
        to stratify the split by (or None); set the target attributes, or,
        ``from_fitted``, encode y as the fit did."""
        raise NotImplementedError

    # -- fit -----------------------------------------------------------------

    def _training_config(self):
        """What the training loop reads: the recipe and the parameters."""
        recipe = self._settings()
        weight_decay = self.weight_decay
        if weight_decay is None:
            weight_decay = recipe["weight_decay"]
        return TrainingConfig(
            solver="adam",
            learning_rate=self.learning_rate or self._default_learning_rate,
            learning_rate_name="learning_rate",
            lr_schedule=recipe["lr_schedule"],
            beta_1=recipe["betas"][0],
            beta_2=recipe["betas"][1],
            lr_factors=recipe["lr_factors"],
            weight_decay=weight_decay,
            wd_factors=recipe["wd_factors"],
            wd_schedule=recipe["wd_schedule"],
            max_epochs=self.n_epochs,
            batch_size=self.batch_size,
            dropout_schedule=recipe["dropout_schedule"],
            # The best epoch's weights are kept, as pytabkit does: of tied
            # epochs the latest, which has trained on with a smaller step.
            restore_best=True,
            latest_of_ties=True,
            verbose=self.verbose,
        )

    def _preprocess(self, X, from_fitted):
        """Fit the preprocessor on X (or, ``from_fitted``, use the fitted
        one); return the network's input."""
        if from_fitted:
            validate_frame(self, X, reset=False)
            return self._as_input(self.preprocessor_.transform(X))
        if self.preprocessor is None:
            self.preprocessor_ = TabularPreprocessor(dtype=self.dtype)
            if self._is_td():
                # Larger categorical columns get a learned table instead.
                self.preprocessor_.set_params(
                    max_one_hot=self._settings()["max_one_hot"]
                )
        else:
            self.preprocessor_ = clone(self.preprocessor)
        Z = self.preprocessor_.fit_transform(X)
        validate_frame(self, X, reset=True)
        return self._as_input(Z)

    def _as_input(self, Z):
        """The preprocessor's output as a finite matrix of the model's dtype
        (dense for ``recipe="td"``, whose embeddings read columns)."""
        Z = check_array(
            Z,
            accept_sparse="csr",
            dtype=np.dtype(self.dtype),
            input_name="X after preprocessing",
        )
        return Z.toarray() if self._is_td() and hasattr(Z, "toarray") else Z

    def _prepare_training(self, X, y, sample_weight, *, from_fitted=False):
        """Preprocess X, encode y, draw the validation split and the initial
        weights (or, ``from_fitted``, start from the fitted model on all the
        rows); return a :class:`~sknumpynet._base.TrainingData`."""
        sizes = hidden_layer_sizes(self)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        if sample_weight is not None:
            raise ValueError(
                f"{type(self).__name__} takes no sample_weight: its recipe "
                "trains on unweighted rows."
            )
        check_2d(X)
        check_consistent_length(X, y)
        Z = self._preprocess(X, from_fitted)
        targets, stratify = self._encode_targets(y, from_fitted)
        dtype = np.dtype(self.dtype)
        targets = targets.astype(dtype, copy=False)
        units = [Z.shape[1], *sizes, targets.shape[1]]

        random_state = check_random_state(self.random_state)
        train_rows, validation = np.arange(Z.shape[0]), None
        if not from_fitted and self.validation_fraction > 0:
            train_rows, val_rows = self._split_rows(
                Z.shape[0], stratify, random_state, strict=False
            )
            validation = Validation(Z[val_rows], targets[val_rows], None, None)
        if self._is_td():
            if not from_fitted:
                self._n_network_inputs = Z.shape[1]
                bins = self._tree_bins(Z[train_rows], targets[train_rows])
                # Two lists, as the file format stores them.
                self._ple_columns = list(bins)
                self._ple_bins = list(bins.values())
            network = build_tabular_network(self, Z.shape[1], targets.shape[1], dtype)
            if from_fitted:
                for name, array in fitted_views(self).items():
                    network.views[name][...] = array
            else:
                network.initialize(
                    random_state, Z[train_rows], method=self._settings()["init"]
                )
            self._set_td_views(network)
        else:
            # A previous fit's TD state is no state of this model.
            for name in _TD_STATE:
                vars(self).pop(name, None)
            network = self._build_network(units, dtype)
            if from_fitted:
                network.set_weights(
                    self.coefs_, self.intercepts_, getattr(self, "feature_scale_", None)
                )
            else:
                recipe = self._recipe
                network.initialize(
                    random_state,
                    method=recipe["init"],
                    zero_output=recipe["zero_output"],
                )
            # Live views of the weights being trained, so callbacks see them.
            self._set_weight_views([network.coefs, network.intercepts, network.scale])
        if not from_fitted:
            self.n_outputs_ = targets.shape[1]
        return TrainingData(
            network,
            Z,
            targets,
            None,
            random_state,
            self._training_config(),
            train_rows,
            validation,
        )

    # -- the full RealMLP-TD's network ---------------------------------------

    def _tabular_network_options(self):
        """The :class:`~sknumpynet._tabular_network.TabularNetwork` options
        of this estimator and its fitted preprocessor."""
        recipe = self._settings()
        embedding = self._numeric_embedding()
        n_members = self.n_members or recipe["n_members"]
        numeric, codes, n_codes = _column_roles(
            self.preprocessor_, self._n_network_inputs
        )
        return {
            "ple_columns": getattr(self, "_ple_columns", []),
            "ple_bins": getattr(self, "_ple_bins", []),
            "numeric_columns": numeric,
            "code_columns": codes,
            "n_codes": n_codes,
            "category_dim": recipe["category_dim"],
            "n_frequencies": recipe["n_frequencies"] if embedding == "pbld" else 0,
            "embedding_dim": recipe["embedding_dim"],
            "frequency_scale": recipe["frequency_scale"],
            "parametric_activation": recipe["parametric_activation"],
            "feature_scale": recipe["feature_scale"],
            "n_members": n_members,
            "dropout": dropout_rates(self, 1)[0],
            "label_smoothing": getattr(self, "label_smoothing", 0.0),
        }

    def _numeric_embedding(self):
        return self.numeric_embedding or self._settings()["numeric_embedding"]

    def _tree_bins(self, Z, targets):
        """Bin edges of the piecewise-linear encoding, by numeric column: the
        thresholds of a small decision tree fitted on that column alone (the
        "T" of Gorishniy et al.'s PLE-T), between the column's extremes.
        Columns whose extremes meet get none. Returns ``{column: edges}``,
        empty unless ``numeric_embedding="ple"``."""
        if self._numeric_embedding() != "ple":
            return {}
        recipe = self._settings()
        numeric = _column_roles(self.preprocessor_, Z.shape[1])[0]
        if is_classifier(self):
            tree = DecisionTreeClassifier
            target = targets.argmax(axis=1)
        else:
            tree, target = DecisionTreeRegressor, targets
        bins = {}
        for column in numeric:
            values = Z[:, column].astype(np.float64)
            low, high = values.min(), values.max()
            if not low < high:
                continue
            fitted = tree(
                max_leaf_nodes=recipe["ple_max_bins"],
                min_samples_leaf=recipe["ple_min_samples_leaf"],
                random_state=0,
            ).fit(values[:, None], target)
            inner = fitted.tree_.threshold[fitted.tree_.children_left >= 0]
            inner = inner[(inner > low) & (inner < high)]
            bins[int(column)] = np.unique(np.concatenate([[low, high], inner]))
        return bins

    def _set_td_views(self, network, buffer=None):
        """The fitted attributes of a TD network: views of ``buffer`` (by
        default the network's own, live while it trains)."""
        buffer = network.params if buffer is None else buffer
        views = network.parameter_views(buffer)
        self._parameter_buffer = buffer
        n_layers = len(network.layer_units) - 1
        self.coefs_ = [views[f"coef_{i}"] for i in range(n_layers)]
        self.intercepts_ = [views[f"intercept_{i}"] for i in range(n_layers)]
        optional = {
            "feature_scale_": views.get("scale"),
            "activation_mix_": [
                views[f"mix_{i}"] for i in range(n_layers - 1) if f"mix_{i}" in views
            ]
            or None,
            "numeric_embedding_": {
                name: views[name]
                for name in (
                    "frequencies",
                    "phases",
                    "embedding_coefs",
                    "embedding_intercepts",
                )
                if name in views
            }
            or None,
            "category_embedding_": views.get("table"),
            "member_scale_": views.get("member_scale"),
        }
        for name, value in optional.items():
            if value is None:
                vars(self).pop(name, None)
            else:
                setattr(self, name, value)

    def _fit_unguarded(self, X, y):
        data = self._prepare_training(X, y, None)
        progress = Progress.fresh(data.config)
        callbacks = EpochCallbacks(self, X, y, None, max_epochs=self.n_epochs)
        self.best_epoch_ = fit_scheduled(
            data.network,
            data.X,
            data.y,
            config=data.config,
            progress=progress,
            train_rows=data.train_rows,
            random_state=data.random_state,
            validation=data.validation,
            evaluate=self._evaluate,
            callbacks=callbacks,
        )
        for name in _TRAINING_ATTRIBUTES:
            setattr(self, name, getattr(progress, name))
        # The kept weights, in a buffer of their own.
        network = data.network
        if self._is_td():
            self._set_td_views(network, network.params.copy())
        else:
            self._set_weight_views(
                layer_views(
                    network.params.copy(),
                    network.layer_units,
                    network.scale is not None,
                )
            )
        callbacks.end_fit()
        return self

    # -- predict -------------------------------------------------------------

    def _new_plan(self):
        return TabularNetworkPlan(self) if self._is_td() else TabularPlan(self)

    def _network_input(self, X, plan):
        """The preprocessed X; the plan takes the matrix straight to the
        network when cheap checks prove ``_as_input`` would pass it on
        unchanged (bitwise the same outputs)."""
        check_2d(X)
        validate_frame(self, X, reset=False)
        Z = self.preprocessor_.transform(X)
        values = None
        if plan is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                values = plan.accepted_input(Z)
        return self._as_input(Z) if values is None else values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Raw tables: missing values, strings and categories are all welcome.
        tags.input_tags = replace(
            tags.input_tags, allow_nan=True, string=True, categorical=True
        )
        return tags


class TabularMLPClassifier(ClassifierMixin, _BaseTabularMLP):
    __doc__ = (
        fill(
            TABULAR_RECIPE_PARAMETERS,
            kind="classifier",
            activation="selu",
            learning_rate="0.04 for both",
        )
        + """    label_smoothing : float, default=0.1
        :math:`\\varepsilon` in [0, 1): train on the targets
        :math:`(1 - \\varepsilon) y + \\varepsilon / K` of ``K`` classes.
"""
        + fill(
            TABULAR_FIT_PARAMETERS,
            stratified="\n        The split is stratified by class when every "
            "class has enough\n        rows.",
        )
        + """    classes_ : ndarray of shape (n_classes,)
        The class labels.
"""
        + fill(
            TABULAR_NETWORK_ATTRIBUTES,
            outputs="the number of classes",
            loss="with the smoothed targets",
            val_loss="the log-loss of the validation labels (not\n        smoothed)",
            score="The validation accuracy",
            other="TabularMLPRegressor",
            other_kind="regressor",
            general="NumpyMLPClassifier",
            kind="classifier",
            sklearn="MLPClassifier",
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
    >>> clf = TabularMLPClassifier(hidden_layer_sizes=(16,), n_epochs=20,
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
    _learning_rates = {"td": 0.04, "td-s": 0.04}
    _output = ("softmax", "log_loss")

    def __init__(
        self,
        hidden_layer_sizes=None,
        activation=None,
        *,
        recipe="td",
        n_epochs=256,
        batch_size=256,
        learning_rate=None,
        dropout=None,
        weight_decay=None,
        numeric_embedding=None,
        n_members=None,
        label_smoothing=0.1,
        validation_fraction=0.2,
        preprocessor=None,
        random_state=None,
        verbose=False,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.recipe = recipe
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.numeric_embedding = numeric_embedding
        self.n_members = n_members
        self.label_smoothing = label_smoothing
        self.validation_fraction = validation_fraction
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def _encode_targets(self, y, from_fitted):
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        if from_fitted:
            unknown = np.setdiff1d(y, self.classes_)
            if len(unknown):
                raise ValueError(f"y has classes not seen in fit: {unknown}.")
            codes = np.searchsorted(self.classes_, y)
            return np.eye(len(self.classes_))[codes], codes
        encoder = LabelEncoder()
        codes = encoder.fit_transform(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                "The classifier needs samples of at least 2 classes in the data, "
                f"but the data contains only 1 class: {encoder.classes_[0]!r}."
            )
        self.classes_ = encoder.classes_
        return np.eye(len(self.classes_))[codes], codes

    def _validation_score(self, validation, output, loss):
        """The accuracy."""
        return float(np.mean(output.argmax(axis=1) == validation.y.argmax(axis=1)))

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
        fill(
            TABULAR_RECIPE_PARAMETERS,
            kind="regressor",
            activation="mish",
            learning_rate='0.07 for "td-s", 0.2 for "td"',
        )
        + fill(TABULAR_FIT_PARAMETERS, stratified="")
        + """    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        Mean and standard deviation of the training targets: the network
        learns ``(y - target_mean_) / target_scale_``. Predictions are
        float64, on the targets' scale.
"""
        + fill(
            TABULAR_NETWORK_ATTRIBUTES,
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
    _learning_rates = {"td": 0.2, "td-s": 0.07}
    _output = ("identity", "squared_error")

    def __init__(
        self,
        hidden_layer_sizes=None,
        activation=None,
        *,
        recipe="td",
        n_epochs=256,
        batch_size=256,
        learning_rate=None,
        dropout=None,
        weight_decay=None,
        numeric_embedding=None,
        n_members=None,
        validation_fraction=0.2,
        preprocessor=None,
        random_state=None,
        verbose=False,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.recipe = recipe
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.numeric_embedding = numeric_embedding
        self.n_members = n_members
        self.validation_fraction = validation_fraction
        self.preprocessor = preprocessor
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def _encode_targets(self, y, from_fitted):
        y = check_array(
            y, ensure_2d=False, dtype=np.float64, input_name="y", ensure_min_samples=1
        )
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got {y.ndim} dimensions.")
        y_ndim = y.ndim
        y = y.reshape(len(y), -1)
        if from_fitted:
            if y.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {y.shape[1]} targets; the model was fitted on "
                    f"{self.n_outputs_}."
                )
            return (y - self.target_mean_) / self.target_scale_, None
        self._y_ndim = y_ndim
        self.target_mean_ = y.mean(axis=0)
        scale = y.std(axis=0)
        self.target_scale_ = np.where(scale > 0, scale, 1.0)
        return (y - self.target_mean_) / self.target_scale_, None

    def _validation_score(self, validation, output, loss):
        """Minus the root mean squared error of the standardized targets."""
        return -float(np.sqrt(np.mean((output - validation.y) ** 2)))

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


def _column_roles(preprocessor, n_inputs):
    """Which preprocessed columns are numeric values (embedded) and which
    hold category codes (looked up), with each code column's table size.

    :class:`~sknumpynet.TabularPreprocessor` says so in its fitted
    attributes; any other preprocessor's columns are all taken as numeric.
    """
    numeric = getattr(preprocessor, "numeric_columns_", None)
    if numeric is None:
        return np.arange(n_inputs), [], []
    numeric = np.asarray(numeric)
    if numeric.dtype == bool:
        numeric = np.flatnonzero(numeric)
    codes = getattr(preprocessor, "code_columns_", [])
    n_codes = getattr(preprocessor, "n_codes_", [])
    return numeric, codes, n_codes
