r"""Activation functions and their derivatives, NumPy only.

Each forward rule turns the pre-activation ``z`` into the layer's output
``a = f(z)`` in place. Each ``*_backward`` rule multiplies the error signal
``delta`` by ``f'(z)`` in place, written in terms of the output ``a`` (as the
seed article does for the sigmoid), so the backward pass needs only what the
forward pass stored. mish is the exception: its rule reads ``z`` and carries
the mark that :func:`takes_pre_activation` checks. SELU and mish are
RealMLP-TD-S's hidden activations (sources in the tabular page's credits).
"""

import math

import numpy as np

# ---------------------------------------------------------------------------
# Subnormal numbers. Below the dtype's smallest normal number ``tiny``
# (1.2e-38 in float32, 2.2e-308 in float64) arithmetic can be very slow
# (a microcode assist per operation on Intel CPUs). Where an ``exp`` would
# land there, the rules below make it exactly 0 instead (``exp(-inf)``): an
# absolute change below a few ``tiny``, and every other value bitwise the same.
# Not in logistic_output, whose tail accuracy down to the subnormal range is
# its contract, nor in the exp output, a prediction of the Poisson loss.
# ---------------------------------------------------------------------------

_LOG_TINY = {
    np.dtype(t): math.log(np.finfo(t).tiny)
    for t in (np.float16, np.float32, np.float64)
}


def _exp_floor(dtype, scale=1):
    """The exponent below which ``exp`` is flushed to 0: ``log(2 scale tiny)``.

    Above it ``exp(x) / scale`` is a normal number, with a factor of 2 to
    spare for rounding.
    """
    log_tiny = _LOG_TINY.get(dtype)
    if log_tiny is None:
        log_tiny = math.log(np.finfo(dtype).tiny)
    return log_tiny + math.log(2 * scale)


def _flush_exp_arguments(x, floor):
    """Set the entries of ``x`` below ``floor`` to -inf, in place, so that
    ``exp`` gives exactly 0 there rather than computing a subnormal."""
    np.copyto(x, -np.inf, where=x < floor)
    return x


# ---------------------------------------------------------------------------
# Forward rules a = f(z), in place; each backward rule sits beside its forward.
# ---------------------------------------------------------------------------


def identity(z):
    r"""Identity, :math:`f(z) = z`. Leaves ``z`` untouched and returns it."""
    return z


def identity_backward(a, delta):
    r"""Derivative of the identity, :math:`f'(z) = 1`: ``delta`` is unchanged."""
    return delta


def logistic(z):
    r"""Logistic sigmoid in place, overflow-free at any input.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}} = \frac{1}{2}
              \left(1 + \tanh\frac{z}{2}\right)

    The tanh form never evaluates ``exp`` of a large number, so it cannot
    overflow (``exp(-z)`` would for ``z < -709`` in float64), and it is faster
    than :func:`scipy.special.expit`.
    """
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def logistic_backward(a, delta):
    r"""Sigmoid derivative through its output: :math:`\sigma' = a (1 - a)`."""
    delta *= a
    delta *= 1 - a
    return delta


def tanh(z):
    r"""Hyperbolic tangent in place, :math:`f(z) = \tanh z`."""
    return np.tanh(z, out=z)


def tanh_backward(a, delta):
    r"""Tanh derivative through its output: :math:`f' = 1 - a^2`."""
    delta *= 1 - a**2
    return delta


def relu(z):
    r"""Rectified linear unit in place, :math:`f(z) = \max(0, z)`."""
    return np.maximum(z, 0, out=z)


def relu_backward(a, delta):
    r"""ReLU derivative through its output: :math:`f' = [a > 0]`."""
    # A mask multiply, not ``delta[a == 0] = 0``: boolean indexing is slower.
    delta *= a > 0
    return delta


#: Slope of the leaky ReLU for negative inputs.
LEAKY_RELU_SLOPE = 0.01


def leaky_relu(z):
    r"""Leaky ReLU in place, :math:`f(z) = \max(z, 0.01 z)`."""
    return np.maximum(z, z * LEAKY_RELU_SLOPE, out=z)


def leaky_relu_backward(a, delta):
    r"""Leaky ReLU derivative through its output (same sign as z):
    :math:`f' = 1` where :math:`a > 0`, else 0.01."""
    delta *= np.where(a > 0, 1.0, LEAKY_RELU_SLOPE).astype(delta.dtype, copy=False)
    return delta


def elu(z):
    r"""Exponential linear unit in place (with :math:`\alpha = 1`).

    .. math:: f(z) = z \ (z > 0), \qquad f(z) = e^z - 1 \ (z \le 0)

    ``expm1`` only ever sees non-positive inputs, so it cannot overflow.
    """
    negative_part = np.expm1(np.minimum(z, 0))
    np.copyto(z, negative_part, where=z <= 0)
    return z


def elu_backward(a, delta):
    r"""ELU derivative through its output: :math:`f' = 1` where
    :math:`a > 0`, else :math:`e^z = a + 1`."""
    delta *= np.where(a > 0, 1, a + 1)
    return delta


def softplus(z):
    r"""Softplus in place, overflow-free and subnormal-free.

    .. math:: f(z) = \log(1 + e^z) = \max(z, 0) + \log(1 + e^{-|z|})

    :math:`e^{-|z|}` is taken as 0 where it would be subnormal (below
    :math:`-|z| \approx -86.6` in float32, -707.7 in float64): for large
    ``z`` nothing changes (``z + e^{-z}`` rounds to ``z`` there), for very
    negative ``z`` the output is 0 instead of :math:`e^z < 2` ``tiny``.
    """
    correction = np.abs(z)
    np.negative(correction, out=correction)
    _flush_exp_arguments(correction, _exp_floor(z.dtype))
    np.exp(correction, out=correction)
    np.log1p(correction, out=correction)
    np.maximum(z, 0, out=z)
    z += correction
    return z


def softplus_backward(a, delta):
    r"""Softplus derivative through its output: the sigmoid,
    :math:`f'(z) = \sigma(z) = 1 - e^{-a}` (computed as ``-expm1(-a)``, exact
    for small ``a``)."""
    delta *= -np.expm1(-a)
    return delta


#: The constants of SELU (reference [1] of the module, to the precision
#: ``torch.selu`` uses): the scale :math:`\lambda` and :math:`\alpha`, chosen
#: so that standardised inputs keep zero mean and unit variance.
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def selu(z):
    r"""Scaled exponential linear unit in place, overflow-free.

    .. math:: f(z) = \lambda z \ (z > 0), \qquad
              f(z) = \lambda \alpha (e^z - 1) \ (z \le 0)

    with :data:`SELU_SCALE` :math:`\lambda \approx 1.0507` and
    :data:`SELU_ALPHA` :math:`\alpha \approx 1.6733`, computed as
    :math:`\lambda (\max(z, 0) + \alpha (e^{\min(z, 0)} - 1))`: ``exp``
    only ever sees non-positive inputs, and NumPy's vectorized ``exp`` and
    ``maximum`` cost a fraction of ``expm1`` and a masked copy (SELU was a
    third of a tabular fit's time). Near 0 the difference :math:`e^z - 1`
    keeps its absolute accuracy (one rounding of 1), not its relative one.
    An input beyond the dtype's largest number over :math:`\lambda` gives
    ``inf`` without a warning.
    """
    negative_part = np.minimum(z, 0)
    np.exp(negative_part, out=negative_part)
    negative_part -= 1
    negative_part *= SELU_ALPHA
    np.maximum(z, 0, out=z)
    z += negative_part
    # Beyond max / lambda the true value is out of range: inf, silently.
    with np.errstate(over="ignore"):
        z *= SELU_SCALE
    return z


def selu_backward(a, delta):
    r"""SELU derivative through its output (same sign as z):
    :math:`f' = \lambda` where :math:`a > 0`, else
    :math:`\lambda \alpha e^z = a + \lambda \alpha`."""
    delta *= np.where(a > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA)
    return delta


def _softplus_of(z):
    """A new array ``log(1 + e^z)``, overflow-free (see :func:`softplus`)."""
    return softplus(np.array(z, copy=True))


#: Where Mish's :math:`e^z` is capped: beyond it :math:`\tanh(\operatorname{
#: softplus}(z))` and the slope are 1 to the dtype's precision, and the
#: closed forms below stay finite (:math:`(e^z)^4` included).
_MISH_CAP = {np.dtype(np.float32): 20.0, np.dtype(np.float64): 40.0}


def _mish_parts(z):
    r""":math:`\min(z, c)`, :math:`w = e^{\min(z, c)}` (0 where it would be
    subnormal) and :math:`n = w (w + 2)`, new arrays: with them
    :math:`\tanh(\operatorname{softplus}(z)) = n / (n + 2)`."""
    capped = np.minimum(z, _MISH_CAP.get(z.dtype, 40.0))
    w = _flush_exp_arguments(capped.copy(), _exp_floor(z.dtype))
    np.exp(w, out=w)
    n = w + 2
    n *= w
    return capped, w, n


def mish(z):
    r"""Mish in place, overflow-free.

    .. math:: f(z) = z \tanh(\operatorname{softplus}(z))
              = z \, \frac{n}{n + 2}, \quad n = e^z (e^z + 2),

    since :math:`\tanh(\log(1 + w)) = ((1 + w)^2 - 1) / ((1 + w)^2 + 1)`:
    one ``exp`` instead of an ``exp``, a ``log1p`` and a ``tanh``. For very
    negative ``z``, :math:`n / (n + 2) \approx e^z` to full relative
    precision, so :math:`f(z) \approx z e^z` keeps its digits down to the
    point where :math:`e^z` would be subnormal (:math:`z \approx -86.6` in
    float32, -707.7 in float64); below it ``f`` is exactly 0, an absolute
    change below :math:`|z| e^z < 2.1e-36` (float32) or ``3.2e-305``
    (float64). So neither the output nor anything computed on the way is
    subnormal, and :math:`f(-\infty) = 0`.
    """
    _, _, n = _mish_parts(z)
    gate = n / (n + 2)
    # z * gate, except where the gate is 0: there f is 0 even at z = -inf
    # (no inf * 0).
    np.multiply(gate, z, out=gate, where=gate != 0)
    np.copyto(z, gate)
    return z


def _takes_pre_activation(backward):
    """Mark a backward rule that reads the pre-activation ``z``, not ``a``."""
    backward.takes_pre_activation = True
    return backward


@_takes_pre_activation
def mish_backward(z, delta):
    r"""Mish derivative, through the *pre-activation* ``z`` (not the output).

    With :math:`w = e^z`, :math:`n = w (w + 2)`, :math:`t = n / (n + 2)`
    (:math:`\tanh(\operatorname{softplus}(z))`), :math:`\sigma(z) = w / (1 +
    w)` and :math:`1 - t^2 = 4 (1 + w)^2 / (n + 2)^2`:

    .. math:: f'(z) = t + z\,\sigma(z)\,(1 - t^2)
              = t + \frac{4 z\, w (1 + w)}{(n + 2)^2}

    (divided by :math:`n + 2` twice, so that nothing overflows). Beyond the
    cap of :math:`w` the second term is below the dtype's precision and
    ``z`` is capped in it too, so that :math:`f'(\infty) = 1`. Where
    :func:`mish` is flushed to 0 (:math:`w` is), the slope is exactly 0 too,
    even at :math:`z = -\infty`.
    """
    capped, w, n = _mish_parts(z)
    denominator = n + 2
    slope = n / denominator
    term = w + 1
    term *= w
    term *= 4
    term /= denominator
    term /= denominator
    np.multiply(term, capped, out=term, where=term != 0)  # 0 even at z = -inf
    slope += term
    delta *= slope
    return delta


def takes_pre_activation(backward):
    """Whether a hidden backward rule reads the pre-activation ``z``.

    Most rules compute :math:`f'` from the layer's output ``a``; those marked
    where they are written (mish's) read ``z``, which the engine then keeps.

    Parameters
    ----------
    backward : callable
        The second entry of a :data:`HIDDEN_ACTIVATIONS` value.

    Returns
    -------
    bool
    """
    return getattr(backward, "takes_pre_activation", False)


# ---------------------------------------------------------------------------
# Output-layer activations (their derivative is folded into the loss's delta).
# ---------------------------------------------------------------------------


def softmax(z):
    r"""Row-wise softmax in place, shifted by the row maximum so ``exp`` never
    overflows.

    .. math:: \mathrm{softmax}(z)_k = \frac{e^{z_k - \max_j z_j}}
              {\sum_l e^{z_l - \max_j z_j}}

    Probabilities below about ``2 K tiny`` (``K`` classes; ``tiny`` the
    dtype's smallest normal number) are exactly 0 rather than subnormal.
    """
    # The ufuncs' own reduce: same result as z.max / z.sum, less overhead.
    row_max = np.maximum.reduce(z, axis=1, keepdims=True)
    # A row whose maximum is infinite or NaN takes the careful path (raw
    # ufunc calls: ndarray.all() costs more than the check itself).
    if not np.logical_and.reduce(np.isfinite(row_max), axis=None):
        return _softmax_infinite(z, row_max)
    return _softmax_shifted(z, row_max)


def _softmax_shifted(z, row_max):
    """Softmax of rows whose maxima are finite, in place."""
    z -= row_max
    # A probability that would be subnormal is 0 instead: logits more than
    # -log(2 K tiny) below the row's largest (86.6 + log K in float32, 707.7
    # + log K in float64) get exp(-inf) = 0. Each was below 2 K tiny, far
    # below one ulp of the denominator (at least 1), so every other
    # probability stays bitwise the same.
    _flush_exp_arguments(z, _exp_floor(z.dtype, z.shape[1]))
    np.exp(z, out=z)
    z /= np.add.reduce(z, axis=1, keepdims=True)
    return z


def _softmax_infinite(z, row_max):
    """Rows with infinite logits: the +inf logits share the probability; a
    row of -inf only is uniform; NaN rows stay NaN."""
    top = np.isposinf(z)
    hot = top.any(axis=1)
    cold = np.isneginf(row_max[:, 0])
    finite = ~(hot | cold | np.isnan(row_max[:, 0]))
    if finite.any():
        z[finite] = _softmax_shifted(z[finite], row_max[finite])
    z[hot] = top[hot] / top[hot].sum(axis=1, keepdims=True)
    z[cold] = 1.0 / z.shape[1]
    return z


def logistic_output(z):
    r"""Logistic sigmoid in place, accurate to the last bit in both tails.

    The output layer feeds :math:`\log \sigma(z)` to the log-loss, so there
    the small probabilities must keep their relative precision, which the tanh
    form of :func:`logistic` loses below about ``1e-8``. With
    :math:`e = e^{-|z|} \le 1` (never overflows):

    .. math:: \sigma(z) = \frac{1}{1 + e} \ (z \ge 0), \qquad
              \sigma(z) = \frac{e}{1 + e} \ (z < 0)
    """
    e = np.exp(-np.abs(z))
    numerator = np.where(z >= 0, 1.0, e)
    np.divide(numerator, 1.0 + e, out=z)
    return z


def exp(z):
    r"""Exponential in place, :math:`f(z) = e^z` (the inverse of the log link
    of the Poisson loss)."""
    return np.exp(z, out=z)


#: Hidden-layer activations by name: ``name -> (forward, backward)``.
#: "sigmoid" is an alias of "logistic", the seed article's name for it.
HIDDEN_ACTIVATIONS = {
    "logistic": (logistic, logistic_backward),
    "sigmoid": (logistic, logistic_backward),
    "tanh": (tanh, tanh_backward),
    "relu": (relu, relu_backward),
    "identity": (identity, identity_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "elu": (elu, elu_backward),
    "softplus": (softplus, softplus_backward),
    "selu": (selu, selu_backward),
    "mish": (mish, mish_backward),
}

#: Output-layer activations by name (the names scikit-learn's
#: ``out_activation_`` uses).
OUTPUT_ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic_output,
    "softmax": softmax,
    "exp": exp,
}

#: Canonical name of each accepted hidden activation (resolves aliases).
CANONICAL_NAMES = {name: name for name in HIDDEN_ACTIVATIONS} | {"sigmoid": "logistic"}


# ---------------------------------------------------------------------------
# Per-layer settings: one value for every hidden layer, or one per layer.
# ---------------------------------------------------------------------------


def per_layer(value, n_hidden, name="value", check=None):
    """One entry per hidden layer from a single value or a per-layer list.

    Parameters
    ----------
    value : object or list or tuple
        One value for every hidden layer, or a list (or tuple) of one value
        per hidden layer.
    n_hidden : int
        Number of hidden layers.
    name : str, default="value"
        The parameter's name, for the error messages.
    check : callable, default=None
        Called on each entry; raises ``ValueError`` for an invalid one.

    Returns
    -------
    values : list
        ``n_hidden`` entries.
    """
    if isinstance(value, list | tuple):
        if len(value) != n_hidden:
            raise ValueError(
                f"{name} has {len(value)} entries but the network has "
                f"{n_hidden} hidden layers; give one value, or one per hidden "
                "layer."
            )
        values = list(value)
    else:
        values = [value] * n_hidden
    if check is not None:
        for entry in values:
            check(entry)
    return values


def hidden_activation_names(activation, n_hidden):
    """The canonical activation name of each hidden layer, validated.

    Parameters
    ----------
    activation : str or list of str
        One name of :data:`HIDDEN_ACTIVATIONS` for every hidden layer, or one
        per hidden layer.
    n_hidden : int
        Number of hidden layers.

    Returns
    -------
    names : list of str
        ``n_hidden`` keys of :data:`HIDDEN_ACTIVATIONS`, aliases resolved
        ("sigmoid" becomes "logistic").
    """

    def check(name):
        if not isinstance(name, str) or name not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(HIDDEN_ACTIVATIONS)} or a "
                f"list of them, one per hidden layer; got {name!r}."
            )

    names = per_layer(activation, n_hidden, "activation", check)
    return [CANONICAL_NAMES[name] for name in names]
