r"""The flat parameter buffer: its layout, its initial values, its groups.

Every weight and intercept of :class:`sknumpynet._network.MLP` (and, with a
feature scale, the scale) lives in one flat buffer; this module is the one
statement of how it is laid out (:func:`parameter_groups`,
:func:`layer_views`), of how each layer's product is scaled
(:func:`weight_factors`, :func:`effective_coefs`), of how its initial values
are drawn (:meth:`ParameterSetup.initialize`) and of the learning-rate factor
of each group (:meth:`ParameterSetup.lr_multipliers`). Like the rest of the
engine, it never imports scikit-learn.
"""

import numpy as np

#: Weight initialisations by name (those the estimators offer).
WEIGHT_INITS = ("glorot", "uniform", "he")

#: Every initialisation :meth:`ParameterSetup.initialize` draws:
#: :data:`WEIGHT_INITS` and "normal", the NTK parametrization's
#: :math:`\mathcal{N}(0, 1)`.
INIT_METHODS = (*WEIGHT_INITS, "normal")

#: How a layer's product is scaled: "standard" (not at all) or "ntk"
#: (:math:`1/\sqrt{\text{fan\_in}}`).
PARAMETRIZATIONS = ("standard", "ntk")

#: Learning-rate factors of the parameter groups in the RealMLP-TD-S recipe,
#: for :meth:`ParameterSetup.lr_multipliers` (the user guide's "Raw tables"
#: page says where each was read).
REALMLP_TD_S_LR_FACTORS = {"coefs": 1.0, "intercepts": 0.1, "feature_scale": 6.0}

#: Weight-decay multipliers of the parameter groups in RealMLP-TD, for
#: :class:`~sknumpynet._optimizers.Adam`'s ``wd_multipliers``: the decay of a
#: parameter is ``wd * lr`` times its wd factor times its lr factor, so the
#: scale's 6 enters squared.
REALMLP_TD_WD_FACTORS = {"coefs": 1.0, "intercepts": 0.0, "feature_scale": 36.0}


def parameter_groups(layer_units, feature_scale=False):
    """Where each group of parameters lies in the flat buffer.

    The one statement of the layout: every coefficient matrix, layer by
    layer, then every intercept vector (as scikit-learn packs them for
    L-BFGS), then, if the network has one, the feature scale. Without it the
    layout is exactly scikit-learn's.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input and output included.
    feature_scale : bool, default=False
        Whether the network has a per-feature scale in front.

    Returns
    -------
    groups : dict of str to slice
        "coefs", "intercepts" and, with ``feature_scale``, "feature_scale",
        in the order they are laid out; the last one ends at the buffer's
        length.
    """
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    n_coefs = sum(fan_in * fan_out for fan_in, fan_out in pairs)
    n_intercepts = sum(fan_out for _, fan_out in pairs)
    groups = {
        "coefs": slice(0, n_coefs),
        "intercepts": slice(n_coefs, n_coefs + n_intercepts),
    }
    if feature_scale:
        end = n_coefs + n_intercepts
        groups["feature_scale"] = slice(end, end + layer_units[0])
    return groups


def layer_views(flat, layer_units, feature_scale=False):
    """Split a flat buffer into per-layer coefficient and intercept views.

    The layout is :func:`parameter_groups`'s. Parameters, gradients,
    optimizer moments and remembered best weights all share it.

    Parameters
    ----------
    flat : ndarray of shape (n_params,)
        The buffer.
    layer_units : sequence of int
        Units per layer, input and output included.
    feature_scale : bool, default=False
        Whether the buffer ends with a feature scale (and then return its
        view too).

    Returns
    -------
    coefs : list of ndarray
        ``coefs[i]`` is a ``(layer_units[i], layer_units[i + 1])`` view.
    intercepts : list of ndarray
        ``intercepts[i]`` is a ``(layer_units[i + 1],)`` view.
    scale : ndarray of shape (layer_units[0],)
        Only with ``feature_scale=True``: the view of the feature scale.
    """
    groups = parameter_groups(layer_units, feature_scale)
    end = list(groups.values())[-1].stop
    if end != flat.shape[0]:
        scale = " with a feature scale" if feature_scale else ""
        raise ValueError(
            f"A buffer of {flat.shape[0]} parameters does not fit layers of "
            f"{list(layer_units)} units{scale} ({end} parameters)."
        )
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        coefs.append(flat[start : start + fan_in * fan_out].reshape(fan_in, fan_out))
        start += fan_in * fan_out
    for fan_out in layer_units[1:]:
        intercepts.append(flat[start : start + fan_out])
        start += fan_out
    if feature_scale:
        return coefs, intercepts, flat[groups["feature_scale"]]
    return coefs, intercepts


def n_parameters(layer_units, feature_scale=False):
    """Number of weights and intercepts (and feature scales) of a network with
    these layers; see :func:`parameter_groups`."""
    return list(parameter_groups(layer_units, feature_scale).values())[-1].stop


def weight_factors(layer_units, parametrization="standard"):
    r"""The factor :math:`c_i` each layer multiplies its product by.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input and output included.
    parametrization : {"standard", "ntk"}, default="standard"
        "standard": :math:`c_i = 1`; "ntk": :math:`c_i = 1/\sqrt{n_i}` with
        :math:`n_i` = ``layer_units[i]`` the layer's fan-in, on every layer
        of weights, the output layer's included (as pytabkit's
        ``weight_param="ntk"``).

    Returns
    -------
    factors : list of float
        One per layer of weights.
    """
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(
            f"Unknown parametrization {parametrization!r}; expected one of "
            f"{PARAMETRIZATIONS}."
        )
    if parametrization == "standard":
        return [1.0] * (len(layer_units) - 1)
    return [1.0 / np.sqrt(fan_in) for fan_in in layer_units[:-1]]


def effective_coefs(coefs, factors, feature_scale=None, out=None):
    r"""The weights as the forward pass applies them.

    .. math:: \widetilde W^{(i)} = c_i\, W^{(i)}, \qquad
              \widetilde W^{(0)} = c_0 \operatorname{diag}(s)\, W^{(0)}

    so that :math:`(X \odot s) W^{(0)} c_0 = X \widetilde W^{(0)}`: the
    scale and the parametrization cost a pass over the weights, never one
    over the data, and sparse input stays sparse. A layer with
    :math:`c_i = 1` (and no scale) is its own weights, not a copy, so the
    standard network computes exactly what it always has.

    Parameters
    ----------
    coefs : list of ndarray
        The stored weights, as in :class:`MLP`.
    factors : list of float
        :math:`c_i` per layer, from :func:`weight_factors`.
    feature_scale : ndarray of shape (n_features,), default=None
        The scale :math:`s` in front, if any.
    out : list of (ndarray or None), default=None
        Buffers to write into, one per layer (None where no buffer is
        needed); new arrays by default.

    Returns
    -------
    coefs : list of ndarray
        The effective weights, to pass to :func:`predict`.
    """
    effective = []
    for i, (W, factor) in enumerate(zip(coefs, factors)):
        scaled = i == 0 and feature_scale is not None
        if factor == 1.0 and not scaled:
            effective.append(W)
            continue
        buffer = None if out is None else out[i]
        buffer = np.multiply(W, W.dtype.type(factor), out=buffer)
        if scaled:
            buffer *= feature_scale[:, np.newaxis]
        effective.append(buffer)
    return effective


class ParameterSetup:
    """The network's parameters: drawn, copied in, grouped for the optimizer.

    A mixin of :class:`sknumpynet._network.MLP`, which holds the buffer and
    its views; these methods write into it.
    """

    def initialize(
        self, random_state, method="glorot", glorot_factor=6.0, zero_output=False
    ):
        r"""Draw initial weights, layer by layer: coefficients, then intercepts.

        The draws consume ``random_state`` in the same order as scikit-learn's
        MLP, so the same seed gives the same network. A feature scale starts
        at 1.

        Parameters
        ----------
        random_state : numpy.random.RandomState
            Source of randomness.
        method : {"glorot", "uniform", "he"}, default="glorot"
            - "glorot": :math:`U(-r, r)` with :math:`r = \sqrt{c /
              (\text{fan\_in} + \text{fan\_out})}` for weights and intercepts,
              ``c = glorot_factor`` (scikit-learn uses 2 for logistic units,
              6 otherwise);
            - "uniform": :math:`U[0, 1)` for weights and intercepts, the seed
              article's ``np.random.rand``;
            - "he": :math:`\mathcal{N}(0, 2 / \text{fan\_in})` weights, zero
              intercepts;
            - "normal": :math:`\mathcal{N}(0, 1)` weights and intercepts, the
              initialisation of the NTK parametrization (pytabkit's
              ``weight_init_mode="normal"`` and ``bias_init_mode="normal"``),
              whose :math:`1/\sqrt{\text{fan\_in}}` factor then gives each
              unit's pre-activation unit variance.
        glorot_factor : float or list of float, default=6.0
            The constant ``c`` of the "glorot" bound, or one per layer of
            weights.
        zero_output : bool, default=False
            Set the output layer's weights and intercepts to zero (after
            drawing them, so that the other layers get the same draws): the
            network starts as a constant, a uniform softmax or a zero
            regression, as the RealMLP-TD-S recipe's ``last_layer_config``.
        """
        factors = (
            list(glorot_factor)
            if isinstance(glorot_factor, list | tuple)
            else [glorot_factor] * len(self.coefs)
        )
        for coef, intercept, factor in zip(self.coefs, self.intercepts, factors):
            fan_in, fan_out = coef.shape
            if method == "glorot":
                bound = np.sqrt(factor / (fan_in + fan_out))
                coef[...] = random_state.uniform(-bound, bound, (fan_in, fan_out))
                intercept[...] = random_state.uniform(-bound, bound, fan_out)
            elif method == "uniform":
                coef[...] = random_state.uniform(0.0, 1.0, (fan_in, fan_out))
                intercept[...] = random_state.uniform(0.0, 1.0, fan_out)
            elif method == "he":
                coef[...] = random_state.normal(
                    0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)
                )
                intercept[...] = 0.0
            elif method == "normal":
                coef[...] = random_state.standard_normal((fan_in, fan_out))
                intercept[...] = random_state.standard_normal(fan_out)
            else:
                raise ValueError(
                    f"Unknown weight_init {method!r}; expected one of {INIT_METHODS}."
                )
        if zero_output:
            self.coefs[-1][...] = 0.0
            self.intercepts[-1][...] = 0.0
        if not self.fit_intercept:
            # Drawn and discarded, so that the weights match those of the same
            # seed with intercepts.
            self.params[self._groups["intercepts"]] = 0.0
        if self.scale is not None:
            self.scale[...] = 1.0

    def set_weights(self, coefs, intercepts, scale=None):
        """Copy per-layer arrays (and the feature scale, if the network has
        one and it is given) into the flat buffer, cast to its dtype."""
        views, values = self.coefs + self.intercepts, coefs + intercepts
        if scale is not None:
            if self.scale is None:
                raise ValueError("The network has no feature scale to set.")
            views, values = [*views, self.scale], [*values, scale]
        for view, value in zip(views, values):
            if np.shape(value) != view.shape:
                raise ValueError(
                    f"A layer's weights have shape {np.shape(value)}; the network "
                    f"needs {view.shape}."
                )
            view[...] = value

    def lr_multipliers(self, coefs=1.0, intercepts=1.0, feature_scale=1.0):
        r"""A learning-rate multiplier for every parameter, by group.

        Built once and given to the optimizer (``lr_multipliers``), it makes
        per-group learning rates one vectorized multiply per step.
        :data:`REALMLP_TD_S_LR_FACTORS` holds the RealMLP-TD-S recipe's.

        Parameters
        ----------
        coefs, intercepts, feature_scale : float, default=1.0
            The multiplier of the weights, of the intercepts and of the
            feature scale (ignored without one).

        Returns
        -------
        multipliers : ndarray of shape (n_params,)
            In the layout of :attr:`params` and of its dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from sknumpynet._network import MLP
        >>> from sknumpynet._parameters import REALMLP_TD_S_LR_FACTORS
        >>> net = MLP([2, 2, 1], "selu", "logistic", "log_loss", np.float64,
        ...           feature_scale=True)
        >>> net.lr_multipliers(**REALMLP_TD_S_LR_FACTORS)
        array([1. , 1. , 1. , 1. , 1. , 1. , 0.1, 0.1, 0.1, 6. , 6. ])
        """
        factors = {
            "coefs": coefs,
            "intercepts": intercepts,
            "feature_scale": feature_scale,
        }
        multipliers = np.empty(self.params.size, dtype=self.dtype)
        for group, where in self._groups.items():
            multipliers[where] = factors[group]
        return multipliers
