r"""A public gradient check: backpropagation against finite differences.

:func:`check_gradients` builds the network an estimator trains -- the same
layers, output activation, loss, target encoding and initial (or fitted)
weights -- and compares the gradient that backpropagation computes with a
numerical derivative of the loss, parameter by parameter.
"""

import copy

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state

from ._base import _NetworkEstimator
from ._model import build_network, build_tabular_network
from ._parameters import layer_views, parameter_groups
from ._tabular_network import TabularNetwork

#: Weights of the five-point central difference, for the steps -2h .. 2h.
_STENCIL = {2: -1.0, 1: 8.0, -1: -8.0, -2: 1.0}


def _float64_network(estimator, network):
    """A float64 copy of ``network``: same layers, activations, loss, weights."""
    if isinstance(network, TabularNetwork):
        network64 = build_tabular_network(
            estimator, network.n_inputs, network.layer_units[-1], np.float64
        )
        network64.params[...] = network.params
        return network64
    network64 = build_network(estimator, network.layer_units, np.float64)
    network64.set_weights(network.coefs, network.intercepts, network.scale)
    return network64


def _parameter_name(network, index):
    """``coefs_[l][i, j]``, ``intercepts_[l][j]`` or ``feature_scale_[j]``
    for a flat parameter index."""
    # The flat layout itself tells where each index lands.
    positions = np.arange(network.params.size)
    if isinstance(network, TabularNetwork):
        return _tabular_parameter_name(network.parameter_views(positions), index)
    scaled = network.scale is not None
    views = layer_views(positions, network.layer_units, scaled)
    coefs, intercepts = views[:2]
    if scaled and index >= views[2][0]:
        return f"feature_scale_[{index - views[2][0]}]"
    for layer, coef in enumerate(coefs):
        found = np.argwhere(coef == index)
        if found.size:
            i, j = found[0]
            return f"coefs_[{layer}][{i}, {j}]"
    for layer, intercept in enumerate(intercepts):
        found = np.flatnonzero(intercept == index)
        if found.size:
            return f"intercepts_[{layer}][{found[0]}]"
    raise IndexError(index)


#: The attribute of each parameter view of a TabularNetwork, by the view's
#: name (the layer's number follows the prefix).
_TABULAR_ATTRIBUTES = {
    "coef_": "coefs_[{}]",
    "intercept_": "intercepts_[{}]",
    "mix_": "activation_mix_[{}]",
    "scale": "feature_scale_",
    "frequencies": "numeric_embedding_['frequencies']",
    "phases": "numeric_embedding_['phases']",
    "embedding_coefs": "numeric_embedding_['embedding_coefs']",
    "embedding_intercepts": "numeric_embedding_['embedding_intercepts']",
    "table": "category_embedding_",
    "member_scale": "member_scale_",
}


def _tabular_parameter_name(views, index):
    """The fitted attribute and position of a TabularNetwork's flat index."""
    for name, positions in views.items():
        found = np.argwhere(positions == index)
        if found.size:
            prefix = name.rstrip("0123456789")
            layer = name[len(prefix) :]
            where = ", ".join(str(i) for i in found[0])
            return f"{_TABULAR_ATTRIBUTES[prefix].format(layer)}[{where}]"
    raise IndexError(index)


def check_gradients(
    estimator,
    X,
    y,
    sample_weight=None,
    *,
    epsilon=1e-4,
    floor=1e-3,
    max_params=None,
    random_state=0,
    return_details=False,
):
    r"""Compare backpropagation with finite differences for an estimator.

    The network is built exactly as ``fit`` would build it -- layers, output
    activation, loss, target encoding, initial weights drawn from the
    estimator's ``random_state`` -- or, for a fitted estimator, at its fitted
    weights. The loss :math:`L(\theta)` is the objective the solvers
    minimise: the (weighted) average data loss plus the L2 penalty

    .. math:: L(\theta) = \frac{\sum_i w_i\, \ell(y_i, f_\theta(x_i))}
              {\sum_i w_i} + \frac{\alpha}{2 \sum_i w_i}
              \sum_l \lVert W^{(l)} \rVert_F^2,

    with the estimator's ``alpha``. Its gradient :math:`g` comes from
    backpropagation (:meth:`sknumpynet._network.MLP.loss_and_gradient`); the
    numerical derivative of each parameter :math:`\theta_j` is the
    fourth-order central difference with step :math:`h` = ``epsilon``

    .. math:: \tilde g_j = \frac{-L(\theta + 2h e_j) + 8 L(\theta + h e_j)
              - 8 L(\theta - h e_j) + L(\theta - 2h e_j)}{12 h},

    whose truncation error is :math:`O(h^4)` and rounding error about
    :math:`\varepsilon_{\text{mach}} |L| / h`. The relative error of a
    parameter is

    .. math:: r_j = \frac{|g_j - \tilde g_j|}
              {\max(|g_j| + |\tilde g_j|, \text{floor})},

    so that components smaller than ``floor`` (a dead ReLU unit's exact
    zeros, say) are compared in absolute terms instead of dividing rounding
    noise by almost nothing. A correct gradient gives :math:`\max_j r_j`
    around 1e-8 or less (on data of unit scale); a wrong factor, sign or term
    gives 1e-3 or more.

    Parameters
    ----------
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        The configuration to check. If it is fitted, the check runs at its
        fitted weights (and the data must be what a warm-started ``fit``
        accepts: the same number of features and, for a classifier, the same
        classes); otherwise at the initial weights ``fit`` would draw. The
        estimator itself is never modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input data, validated as ``fit`` validates it.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, encoded as ``fit`` encodes them.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the loss.
    epsilon : float, default=1e-4
        Finite-difference step :math:`h`. Smaller steps trade truncation
        error for rounding error; with ReLU or SELU units (whose slope jumps
        at 0), a step large enough to move a pre-activation across 0 spoils
        that parameter's difference: then try a smaller step.
    floor : float, default=1e-3
        Smallest denominator of the relative error: components whose size is
        below it are held to an absolute agreement of ``floor`` times the
        returned error. The rounding noise of the differences is about
        :math:`10^{-16} |L| / h`, so for losses of order one and the default
        step a correct gradient stays below 1e-8.
    max_params : int, default=None
        Check only this many parameters, drawn at random without replacement
        (with ``random_state``); all of them when None. Each parameter costs
        four evaluations of the loss on the whole data set.
    random_state : int, RandomState instance or None, default=0
        Chooses the parameters when ``max_params`` is set, and the dropout
        masks. The network's initial weights come from the estimator's own
        ``random_state``.
    return_details : bool, default=False
        Also return the per-parameter arrays.

    Returns
    -------
    max_relative_error : float
        :math:`\max_j r_j` over the checked parameters.
    details : :class:`~sklearn.utils.Bunch`
        Only when ``return_details=True``, with the fields

        - ``indices``: ndarray of shape (n_checked,), the parameters checked,
          as positions in the flat layout (every coefficient, layer by layer,
          then every intercept, then the feature scale if there is one);
        - ``gradient``, ``finite_difference``, ``relative_error``: ndarrays
          of shape (n_checked,), :math:`g_j`, :math:`\tilde g_j` and
          :math:`r_j`;
        - ``loss``: float, :math:`L(\theta)`;
        - ``worst_parameter``: str, the parameter with the largest relative
          error, e.g. ``"coefs_[1][0, 2]"``.

    Notes
    -----
    The check always runs in float64, whatever the dtype the estimator would
    train in: the data and weights are cast to float64 (float32 weights are
    exact in float64), because finite differences in float32 are too coarse
    to tell a right gradient from a slightly wrong one.

    With ``fit_intercept=False`` the intercepts are not parameters (they stay
    at zero and their gradient is zero by construction), so only the
    coefficients (and the feature scale) are checked.

    With ``parametrization='ntk'`` and ``feature_scale=True`` the parameters
    are the stored weights and the scale, whose gradients backpropagation
    carries from the effective weights through the chain rule; the check
    perturbs the stored ones, so it tests that step too.

    With ``dropout``, one set of dropout masks is drawn (from
    ``random_state``) and used for every evaluation, so the loss is the
    deterministic function of the weights that one mini-batch sees. Class
    weights (``class_weight``) are folded into the sample weights as ``fit``
    does. Gradient clipping (``max_grad_norm``) is a step of the optimizer,
    not part of the gradient, and is not applied.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpynet import NumpyMLPClassifier
    >>> from sknumpynet._gradcheck import check_gradients
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(30, 4)), rng.randint(0, 3, 30)
    >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(5,), alpha=0.1,
    ...                          random_state=0)
    >>> bool(check_gradients(clf, X, y) < 1e-7)
    True
    >>> error, details = check_gradients(clf, X, y, max_params=10,
    ...                                  return_details=True)
    >>> details.gradient.shape
    (10,)
    """
    if not isinstance(estimator, _NetworkEstimator):
        raise TypeError(
            "check_gradients takes a sknumpynet estimator (NumpyMLP* or "
            f"TabularMLP*), got {type(estimator).__name__}."
        )
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}.")

    # Fitted: a copy starts from the fitted weights, checks X against the fit
    # and encodes y with the fitted encoding, as a warm-started fit does.
    fitted = hasattr(estimator, "coefs_")
    prepared = copy.deepcopy(estimator) if fitted else clone(estimator)
    prepared._validate_params()
    data = prepared._prepare_training(X, y, sample_weight, from_fitted=fitted)
    network, X, y, sample_weight = data.network, data.X, data.y, data.sample_weight

    network = _float64_network(prepared, network)
    X = X.astype(np.float64)
    if y.dtype.kind == "f":
        y = y.astype(np.float64)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(np.float64)
    alpha = float(data.config.alpha)

    checkable = np.arange(network.params.size)
    if not network.fit_intercept:
        # The intercepts are no parameters: they stay at zero.
        groups = parameter_groups(network.layer_units, network.scale is not None)
        checkable = np.delete(checkable, groups["intercepts"])
    if max_params is None or max_params >= checkable.size:
        indices = checkable
    else:
        rng = check_random_state(random_state)
        indices = np.sort(rng.choice(checkable, size=int(max_params), replace=False))

    masks = None
    if any(network.dropout):
        # One fixed draw of the dropout masks: the loss is then a
        # deterministic function of the weights, as within one mini-batch.
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        masks = network._dropout_masks(np.random.default_rng(seed), X.shape[0])

    loss = network.loss_and_gradient(X, y, sample_weight, alpha, masks=masks)
    gradient = network.grad[indices].copy()

    params = network.params
    finite_difference = np.empty(indices.size, dtype=np.float64)
    for k, j in enumerate(indices):
        original = params[j]
        total = 0.0
        for step, weight in _STENCIL.items():
            params[j] = original + step * epsilon
            total += weight * network.loss_and_gradient(
                X, y, sample_weight, alpha, masks=masks
            )
        params[j] = original
        finite_difference[k] = total / (12.0 * epsilon)

    relative_error = np.abs(gradient - finite_difference) / np.maximum(
        np.abs(gradient) + np.abs(finite_difference), floor
    )
    max_relative_error = float(relative_error.max()) if indices.size else 0.0
    if not return_details:
        return max_relative_error
    worst = int(indices[np.argmax(relative_error)]) if indices.size else None
    details = Bunch(
        indices=indices,
        gradient=gradient,
        finite_difference=finite_difference,
        relative_error=relative_error,
        loss=loss,
        worst_parameter=None if worst is None else _parameter_name(network, worst),
    )
    return max_relative_error, details
