"""Export to scikit-learn: an equivalent fitted MLPClassifier or MLPRegressor.

Whenever the fitted network is one scikit-learn can compute (one of its four
hidden activations, the output layer it would choose for the same targets),
:meth:`to_sklearn` copies it into a fitted scikit-learn estimator whose
predictions equal ours to rounding (1e-12 in float64). Anything else gets a
:class:`ValueError` that names each obstacle and recommends the ONNX export
(:func:`sknumpynet.register_onnx_converters`), which converts every network.
"""

import copy
import inspect
import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
from sklearn.utils.validation import check_is_fitted

from ._activations import CANONICAL_NAMES
from ._model import (
    effective_weights,
    hidden_activations,
    is_reparametrized,
    layer_units,
)
from ._optimizers import OPTIMIZERS, STEP_SCHEDULES
from ._parameters import layer_views, n_parameters

#: Hidden activations scikit-learn's MLP computes.
SKLEARN_HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")

# sknumpynet parameters that scikit-learn lacks, and why dropping them keeps
# the fitted network: they only shape training (or are checked below).
_TRAINING_ONLY = {
    "fit_intercept": "with fit_intercept=False the intercepts are zero",
    "weight_init": "the initial weights are already replaced by the fitted ones",
    "out_activation": "checked through out_activation_",
}

# scikit-learn's documented fitted attributes of its MLPs.
_PUBLIC_ATTRIBUTES = (
    "classes_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
    "t_",
    "n_features_in_",
    "feature_names_in_",
    "n_iter_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
)


def _per_layer_copies(flat, units):
    """Copies of a flat buffer's per-layer arrays: coefficients, then intercepts."""
    coefs, intercepts = layer_views(flat, units)
    return [array.copy() for array in coefs], [array.copy() for array in intercepts]


class _SklearnExportMixin:
    """Adds :meth:`to_sklearn` to sknumpynet's estimators."""

    def _sklearn_obstacles(self, target):
        """Why scikit-learn's ``target`` cannot compute this network, if it can't."""
        obstacles = []
        # Distinct canonical names, in layer order ("sigmoid" is "logistic").
        activations = list(dict.fromkeys(hidden_activations(self)))
        lacking = [
            name for name in activations if name not in SKLEARN_HIDDEN_ACTIVATIONS
        ]
        if lacking:
            obstacles.append(
                f"activation={self.activation!r}: scikit-learn's MLP lacks "
                f"{', '.join(lacking)} (its hidden activations are "
                f"{', '.join(SKLEARN_HIDDEN_ACTIVATIONS)})"
            )
        if len(activations) > 1:
            obstacles.append(
                f"activation={self.activation!r} differs between the hidden layers "
                f"({', '.join(activations)}): scikit-learn's MLP has one "
                "activation for all of them"
            )
        target_params = target().get_params()
        if is_classifier(self):
            allowed = {"softmax", "logistic"}
        else:
            # scikit-learn 1.7 added MLPRegressor(loss=...), with "poisson".
            has_poisson = "loss" in target_params
            loss = self.get_params().get("loss", "squared_error")
            if loss != "squared_error" and not has_poisson:
                obstacles.append(
                    f"loss={loss!r} (scikit-learn's MLPRegressor has it from "
                    "version 1.7 on)"
                )
            allowed = {"identity", "exp"} if has_poisson else {"identity"}
        if self.out_activation_ not in allowed:
            obstacles.append(
                f"the {self.out_activation_!r} output layer (out_activation="
                f"{self.get_params().get('out_activation')!r}): scikit-learn's "
                f"{target.__name__} has an identity output (exponential with "
                "loss='poisson') and no way to change it"
            )
        return obstacles

    def to_sklearn(self, *, keep_training_state=True):
        """Return an equivalent fitted scikit-learn MLPClassifier or MLPRegressor.

        The scikit-learn estimator gets the same parameters (those
        scikit-learn has; ``activation='sigmoid'`` becomes ``'logistic'``, and
        a list or tuple of one activation per hidden layer, all the same
        function, becomes that one name), copies of the weights and of the
        fitted attributes, so that its ``predict`` and ``predict_proba``
        equal ours to rounding: within 1e-12 in float64 (float32 networks
        stay float32, so agree to float32 rounding).

        Parameters
        ----------
        keep_training_state : bool, default=True
            Also copy the state scikit-learn keeps to continue training in
            private attributes (the optimizer's moments or velocities, the
            best weights of early stopping, the count of epochs without
            improvement), so that ``partial_fit`` on the export continues
            from where this estimator is. With False, the documented fitted
            attributes are copied and the training state is that of a fresh
            start from these weights, as scikit-learn's own initialisation
            sets it: continued training starts a fresh optimizer, with no
            epoch without improvement yet and these weights as the best.

        Returns
        -------
        estimator : sklearn.neural_network.MLPClassifier or MLPRegressor
            A fitted scikit-learn estimator computing the same network.

        Raises
        ------
        ValueError
            If the network has something scikit-learn's MLP cannot compute:
            a hidden activation it lacks (leaky_relu, elu, softplus),
            different activations in different hidden layers, or an output
            layer it cannot have, such as the logistic output layer of
            ``NumpyMLPRegressor(out_activation='logistic')``. The message
            names each obstacle. Such networks convert to ONNX
            (:func:`sknumpynet.register_onnx_converters`).
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.

        Notes
        -----
        ``fit_intercept=False`` networks are exported with their zero
        intercepts; scikit-learn would train intercepts if the export were
        trained further. ``weight_init`` has no counterpart: refitting the
        export starts from scikit-learn's own initialisation.

        With ``parametrization='ntk'`` or ``feature_scale=True`` the export is
        exact too: its ``coefs_`` are the weights the forward pass applies,
        the NTK factors :math:`1/\\sqrt{n}` and the feature scale
        multiplied into the stored weights (the very arrays prediction
        multiplies by). The training state is then not carried over, whatever
        ``keep_training_state`` says: it belongs to the stored weights, and
        continued training of the export starts afresh from the folded ones,
        in scikit-learn's standard parametrization. ``label_smoothing`` and
        ``learning_rate_factors`` only shape training, and are dropped with a
        warning like the other parameters scikit-learn lacks; so is
        ``learning_rate='coslog4'`` (the export gets 'constant', and no
        training state: scikit-learn has no per-step schedule).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from sknumpynet import NumpyMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(8,), activation="sigmoid",
        ...                          solver="lbfgs", max_iter=1000,
        ...                          random_state=0).fit(X, y)
        >>> sk = clf.to_sklearn()
        >>> type(sk).__name__, sk.activation
        ('MLPClassifier', 'logistic')
        >>> float(np.abs(sk.predict_proba(X) - clf.predict_proba(X)).max()) < 1e-12
        True
        """
        check_is_fitted(self)
        target = MLPClassifier if is_classifier(self) else MLPRegressor
        obstacles = self._sklearn_obstacles(target)
        if obstacles:
            raise ValueError(
                f"This {type(self).__name__} cannot be represented by "
                f"scikit-learn's {target.__name__}: "
                + "; ".join(obstacles)
                + ". Predict with sknumpynet, or export to ONNX instead."
            )

        params = self.get_params(deep=False)
        target_params = set(inspect.signature(target).parameters)
        kwargs = {k: v for k, v in params.items() if k in target_params}
        kwargs["activation"] = _sklearn_activation(self)
        defaults = type(self)().get_params(deep=False)
        dropped = sorted(
            name
            for name, value in params.items()
            if name not in target_params
            and name not in _TRAINING_ONLY
            and not _same(value, defaults.get(name))
        )
        if kwargs.get("learning_rate") in STEP_SCHEDULES:
            # scikit-learn has no per-step schedule: training further from
            # the export would take constant steps.
            kwargs["learning_rate"] = "constant"
            dropped.append("learning_rate")
        if dropped:
            warnings.warn(
                f"Parameters {dropped} have no counterpart in scikit-learn's "
                f"{target.__name__} and are not carried over; they do not change "
                "the exported network, only how it would be trained further.",
                UserWarning,
                stacklevel=2,
            )
        estimator = target(**kwargs)

        for name in _PUBLIC_ATTRIBUTES:
            if hasattr(self, name):
                setattr(estimator, name, copy.deepcopy(getattr(self, name)))
        # The weights the forward pass applies: with parametrization="ntk" or
        # a feature scale, their factors folded into the stored weights.
        coefs = effective_weights(self)
        estimator.coefs_ = [np.array(coef) for coef in coefs]
        estimator.intercepts_ = [np.array(b) for b in self.intercepts_]
        if is_classifier(self):
            estimator._label_binarizer = copy.deepcopy(self._label_binarizer)
        # The training state scikit-learn's initialisation gives these
        # weights (its training reads it); ours replaces it if kept.
        estimator._no_improvement_count = 0
        estimator._best_coefs = [np.array(coef) for coef in coefs]
        estimator._best_intercepts = [np.array(b) for b in self.intercepts_]
        if keep_training_state and _training_state_carries_over(self):
            self._copy_training_state(estimator)
        return estimator

    def _copy_training_state(self, estimator):
        """scikit-learn's private training state, from ours."""
        units = layer_units(self)
        best = getattr(self, "_best_params", None)
        if best is not None:
            estimator._best_coefs, estimator._best_intercepts = _per_layer_copies(
                best, units
            )
        if hasattr(self, "_no_improvement_count"):
            estimator._no_improvement_count = self._no_improvement_count
        state = getattr(self, "_optimizer_state", None)
        if state is None or self.solver not in OPTIMIZERS:
            return
        # Our optimizer, resumed from the saved state (a fresh one if the
        # state is another solver's), read into scikit-learn's, which keeps
        # one array per layer where ours keeps one flat buffer.
        ours = self._training_config().make_optimizer(
            n_parameters(units), self.coefs_[0].dtype, state
        )

        def per_layer(flat):
            coefs, intercepts = _per_layer_copies(flat, units)
            return coefs + intercepts

        params = estimator.coefs_ + estimator.intercepts_
        if self.solver == "sgd":
            optimizer = SGDOptimizer(
                params,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
            optimizer.velocities = per_layer(ours.velocity)
        else:
            optimizer = AdamOptimizer(
                params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
            )
            optimizer.ms = per_layer(ours.first_moment)
            optimizer.vs = per_layer(ours.second_moment)
            optimizer.t = ours.t
        optimizer.learning_rate = ours.learning_rate
        estimator._optimizer = optimizer


def _training_state_carries_over(estimator):
    """Whether scikit-learn's optimizer can continue ours: not when the
    stored weights are not the exported ones (NTK factors, a feature scale)
    or when the step size follows a per-step schedule it lacks."""
    return (
        not is_reparametrized(estimator)
        and estimator.learning_rate not in STEP_SCHEDULES
    )


def _sklearn_activation(estimator):
    """scikit-learn's one hidden activation for a network it can compute."""
    names = set(hidden_activations(estimator))
    if not names:
        # No hidden layer: the activation is never applied. Keep ours if
        # scikit-learn has it, else scikit-learn's default.
        activation = estimator.activation
        names = {CANONICAL_NAMES[activation] if isinstance(activation, str) else None}
    (name,) = names
    return name if name in SKLEARN_HIDDEN_ACTIVATIONS else "relu"


def _same(a, b):
    try:
        return bool(a == b) if not isinstance(a, np.ndarray) else False
    except (TypeError, ValueError):
        return False
