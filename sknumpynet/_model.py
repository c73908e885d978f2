"""What a network estimator is made of: the facts every module reads from it.

The estimators, the training loops, persistence, the exports, the gradient
check and the hidden-layer features all need the same few facts about an
estimator -- fitted state, per-layer settings, output activation, the layers
of a fitted network, the weights its forward pass applies and the engine
network that computes it. Each is answered here, once. Like the NumPy core
below it, this module never imports scikit-learn.
"""

from numbers import Integral, Real

import numpy as np

from ._activations import hidden_activation_names, per_layer
from ._network import MLP
from ._parameters import effective_coefs, weight_factors
from ._tabular_network import TabularNetwork


def is_fitted_state_name(name):
    """Whether an attribute of an estimator is fitted (or private) state.

    Everything learned ends in "_", private state starts with "_";
    constructor parameters do neither. scikit-learn's callbacks
    (``set_callbacks``) keep their own bookkeeping, which is no fitted state:
    it survives a refit and is never saved.

    Parameters
    ----------
    name : str
        An attribute name.

    Returns
    -------
    bool
    """
    return (
        isinstance(name, str)
        and (name.endswith("_") or name.startswith("_"))
        and not name.startswith("__")
        and "callback" not in name
    )


def fitted_state(estimator):
    """The estimator's fitted and private state, by attribute name."""
    return {
        name: value
        for name, value in vars(estimator).items()
        if is_fitted_state_name(name)
    }


def hidden_layer_sizes(estimator):
    """The units of each hidden layer, validated, as a list of int (None
    means the estimator's ``_default_hidden_layer_sizes``, its recipe's)."""
    value = estimator.hidden_layer_sizes
    if value is None:
        value = estimator._default_hidden_layer_sizes
    sizes = np.asarray(value, dtype=object).ravel().tolist()
    if not all(
        isinstance(size, Integral | np.integer)
        and not isinstance(size, bool | np.bool_)
        and size > 0
        for size in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a positive integer or a sequence of them, "
            f"got {estimator.hidden_layer_sizes!r}."
        )
    return [int(size) for size in sizes]


def _n_hidden(estimator, n_hidden):
    if n_hidden is not None:
        return n_hidden
    if hasattr(estimator, "coefs_"):
        return len(estimator.coefs_) - 1
    return len(hidden_layer_sizes(estimator))


def hidden_activations(estimator, n_hidden=None):
    """The canonical activation name of each hidden layer, validated.

    Parameters
    ----------
    estimator : object
        A network estimator; its ``activation`` is one name, one per hidden
        layer, or None for its ``_default_activation``.
    n_hidden : int, default=None
        Number of hidden layers; by default that of the fitted weights, or
        of ``hidden_layer_sizes`` before the first fit.

    Returns
    -------
    names : list of str
        Keys of :data:`~sknumpynet._activations.HIDDEN_ACTIVATIONS`, aliases
        resolved.
    """
    activation = estimator.activation
    if activation is None:  # a tabular estimator's recipe default
        activation = estimator._default_activation
    return hidden_activation_names(activation, _n_hidden(estimator, n_hidden))


def dropout_rates(estimator, n_hidden=None):
    """The dropout probability of each hidden layer, validated: as
    :func:`hidden_activations`, for the parameter ``dropout``."""

    def check(rate):
        if not isinstance(rate, Real) or not 0 <= rate < 1:
            raise ValueError(
                "dropout must be a probability in [0, 1) or a list of them, "
                f"one per hidden layer; got {rate!r}."
            )

    dropout = estimator.dropout
    if dropout is None:  # a tabular estimator's recipe default
        dropout = estimator._default_dropout
    rates = per_layer(dropout, _n_hidden(estimator, n_hidden), "dropout", check)
    return [float(rate) for rate in rates]


#: The parameter groups ``learning_rate_factors`` may name.
LR_FACTOR_GROUPS = ("coefs", "intercepts", "feature_scale")


def learning_rate_factors(estimator):
    """The learning-rate factor of each parameter group, validated.

    Parameters
    ----------
    estimator : object
        Its ``learning_rate_factors`` is None or a dict from some of
        :data:`LR_FACTOR_GROUPS` to non-negative finite numbers.

    Returns
    -------
    factors : dict or None
        None (every factor 1: no multipliers at all), or a factor for each
        group named, as float.
    """
    factors = estimator.learning_rate_factors
    if factors is None:
        return None
    unknown = sorted(map(str, set(factors) - set(LR_FACTOR_GROUPS)))
    if unknown:
        raise ValueError(
            f"learning_rate_factors has unknown keys {unknown}; the parameter "
            f"groups are {list(LR_FACTOR_GROUPS)}."
        )
    for group, factor in factors.items():
        if (
            not isinstance(factor, Real)
            or isinstance(factor, bool)
            or not 0 <= factor < np.inf
        ):
            raise ValueError(
                f"learning_rate_factors[{group!r}] must be a non-negative finite "
                f"number, got {factor!r}."
            )
    return {group: float(factor) for group, factor in factors.items()}


def output_activation(estimator):
    """The output activation the estimator's loss and targets call for.

    The classifier (which always minimises the log-loss) has a softmax output
    for multiclass targets and logistic outputs for binary and multilabel
    ones; the regressor has an exponential output with the Poisson loss and
    its ``out_activation`` otherwise.
    """
    if estimator.loss == "log_loss":
        y_type = estimator._label_binarizer.y_type_
        return "softmax" if y_type == "multiclass" else "logistic"
    if estimator.loss == "poisson":
        return "exp"
    return estimator.out_activation


def layer_units(estimator):
    """Units per layer of a fitted network, input and output included."""
    coefs = estimator.coefs_
    return [coefs[0].shape[0], *(coef.shape[1] for coef in coefs)]


def layer_activations(estimator):
    """The activation of every layer of a fitted network, output last.

    Returns
    -------
    names : list of str
        One canonical hidden activation name per hidden layer, then
        ``out_activation_``.
    """
    return [*hidden_activations(estimator), estimator.out_activation_]


def effective_weights(estimator):
    r"""The weights a fitted network's forward pass applies, layer by layer.

    :math:`\widetilde W^{(i)} = c_i W^{(i)}` with the factors :math:`c_i` of
    the estimator's ``parametrization`` (1, or :math:`1/\sqrt{\text{fan\_in}}`
    for "ntk"), the first layer's rows also multiplied by ``feature_scale_``
    when the model has one (see
    :func:`~sknumpynet._parameters.effective_coefs`). Prediction, the
    serving plan, the hidden-layer features and the exports all multiply
    the input by these, never by ``coefs_`` directly. For the standard
    network without a feature scale they are the arrays of ``coefs_``
    themselves (no copy): scikit-learn's computation, bitwise.

    Parameters
    ----------
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        A fitted estimator.

    Returns
    -------
    coefs : list of ndarray
        One matrix per layer of weights, the shapes of ``coefs_``.
    """
    factors = weight_factors(layer_units(estimator), estimator.parametrization)
    scale = getattr(estimator, "feature_scale_", None)
    return effective_coefs(estimator.coefs_, factors, scale)


def is_reparametrized(estimator):
    """Whether a fitted network's stored weights differ from those its
    forward pass applies (NTK factors or a feature scale)."""
    return (
        estimator.parametrization != "standard"
        or getattr(estimator, "feature_scale_", None) is not None
    )


def build_network(estimator, units, dtype):
    """The engine network that trains or computes the estimator's model.

    Parameters
    ----------
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        Gives the activations, dropout, output activation (``out_activation_``,
        so fitted or being fitted), loss, ``fit_intercept``, label smoothing
        (the classifier's), ``parametrization`` and ``feature_scale``.
    units : list of int
        Units per layer, input and output included.
    dtype : numpy dtype
        float32 or float64.

    Returns
    -------
    network : sknumpynet._network.MLP
        With zero weights: initialise them or copy them in.
    """
    n_hidden = len(units) - 2
    return MLP(
        units,
        hidden_activations(estimator, n_hidden),
        estimator.out_activation_,
        estimator.loss,
        dtype,
        fit_intercept=estimator.fit_intercept,
        dropout=dropout_rates(estimator, n_hidden),
        # Options the classifier or both estimators have beyond scikit-learn.
        label_smoothing=getattr(estimator, "label_smoothing", 0.0),
        parametrization=estimator.parametrization,
        feature_scale=estimator.feature_scale,
    )


def build_tabular_network(estimator, n_inputs, n_outputs, dtype):
    """The engine network of a tabular estimator's full RealMLP-TD recipe.

    Parameters
    ----------
    estimator : TabularMLPClassifier or TabularMLPRegressor
        Gives the hidden layers, activation, output activation and loss, and
        the options of :class:`~sknumpynet._tabular_network.TabularNetwork`
        (its ``_tabular_network_options()``: embeddings, members, dropout,
        label smoothing).
    n_inputs, n_outputs : int
        Columns of the preprocessed input; output units.
    dtype : numpy dtype
        float32 or float64.

    Returns
    -------
    network : sknumpynet._tabular_network.TabularNetwork
        With zero parameters: initialise them or copy them in.
    """
    sizes = hidden_layer_sizes(estimator)
    return TabularNetwork(
        n_inputs,
        sizes,
        n_outputs,
        hidden_activations(estimator, len(sizes))[0] if sizes else "identity",
        estimator.out_activation_,
        estimator.loss,
        dtype,
        **estimator._tabular_network_options(),
    )
