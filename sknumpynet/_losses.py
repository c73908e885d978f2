r"""Losses and the output layer's error signal, NumPy only.

For each pair (output activation, loss): the loss, averaged over samples
(weighted by ``sample_weight``) and combined over outputs as scikit-learn's
MLP combines them, so that loss curves agree; and the output delta, the
gradient of the *summed* loss with respect to the output pre-activation,
which is :math:`\hat y - y` for the four canonical pairs (the user guide's
network page derives it). ``y`` may be a boolean indicator matrix and is
never modified. :func:`smooth_labels` makes soft targets, on which both
log-losses and their canonical delta hold as they are.
"""

import numpy as np


def _clipped(y_prob):
    # Probabilities are clipped away from 0 and 1 before the log, as
    # scikit-learn does, so a confident mistake costs a large but finite loss.
    # (np.maximum/np.minimum: the same result as np.clip, for less.)
    eps = _EPS[y_prob.dtype]
    return np.minimum(np.maximum(y_prob, eps), 1 - eps)


# Machine epsilon by dtype, looked up once rather than at every batch.
_EPS = {np.dtype(t): np.finfo(t).eps for t in (np.float16, np.float32, np.float64)}


def _sample_average(values, sample_weight):
    r"""Average over samples (weighted), summed over outputs.

    .. math:: \sum_k \frac{\sum_i w_i v_{ik}}{\sum_i w_i}

    Equal to ``np.average(values, weights=sample_weight, axis=0).sum()`` up to
    rounding, with fewer NumPy calls (this runs once per mini-batch).
    """
    if sample_weight is None:
        return np.add.reduce(values, axis=None) / values.shape[0]
    return np.dot(sample_weight, values.sum(axis=1)) / sample_weight.sum()


def squared_error(y, y_pred, sample_weight=None):
    r"""Half the mean squared error, summed over outputs.

    .. math:: L = \frac{1}{2} \sum_k \frac{\sum_i w_i (y_{ik} - \hat y_{ik})^2}
              {\sum_i w_i}

    Summed, like the other losses, so that the output delta is its gradient.
    scikit-learn *reports* it averaged over the K outputs (see
    :data:`REPORTED_AS_MEAN_OVER_OUTPUTS`).
    """
    residual = y - y_pred
    residual *= residual
    return 0.5 * _sample_average(residual, sample_weight)


def poisson_deviance(y, y_pred, sample_weight=None):
    r"""Half the Poisson deviance, summed over outputs.

    .. math:: L = \sum_k \frac{\sum_i w_i \left(y_{ik}\log\frac{y_{ik}}
              {\hat y_{ik}} - y_{ik} + \hat y_{ik}\right)}{\sum_i w_i}

    with :math:`0 \log 0 = 0`.
    """
    ratio = np.ones_like(y_pred)
    np.divide(y, y_pred, out=ratio, where=y > 0)
    terms = np.log(ratio, out=ratio)
    terms *= y
    terms -= y
    terms += y_pred
    return _sample_average(terms, sample_weight)


def log_loss(y, y_prob, sample_weight=None):
    r"""Categorical cross-entropy of a softmax output.

    .. math:: L = -\frac{\sum_i w_i \sum_k y_{ik} \log \hat y_{ik}}{\sum_i w_i}
    """
    log_prob = np.log(_clipped(y_prob))
    log_prob *= y
    return -_sample_average(log_prob, sample_weight)


def binary_log_loss(y, y_prob, sample_weight=None):
    r"""Binary cross-entropy of each logistic output, summed over outputs.

    .. math:: L = -\sum_k \frac{\sum_i w_i \left(y_{ik} \log \hat y_{ik}
              + (1 - y_{ik}) \log (1 - \hat y_{ik})\right)}{\sum_i w_i}
    """
    y_prob = _clipped(y_prob)
    # The log-probability given to what actually happened: log p where y is 1,
    # log(1 - p) where y is 0 (y may be fractional in the seed's regression).
    log_likelihood = np.log(y_prob) * y + np.log(1 - y_prob) * (1 - y)
    return -_sample_average(log_likelihood, sample_weight)


def canonical_delta(y, y_pred, out):
    r"""Output delta of a canonical (activation, loss) pair: :math:`\hat y - y`.

    The derivative of the output activation cancels against the loss's, for
    softmax + log-loss, logistic + binary log-loss, identity + squared error
    and exp + Poisson deviance alike.
    """
    return np.subtract(y_pred, y, out=out)


def logistic_squared_error_delta(y, y_pred, out):
    r"""Output delta of the seed article's logistic output with squared error.

    .. math:: \delta = (\hat y - y)\,\hat y\,(1 - \hat y)

    The article's ``2 (y - \hat y) \sigma'(\hat y)`` is the negative of this
    for its un-halved sum of squares, which it *adds* to the weights.
    """
    np.subtract(y_pred, y, out=out)
    out *= y_pred
    out *= 1 - y_pred
    return out


def smooth_labels(y, epsilon, n_classes, out):
    r"""Smoothed targets, written into ``out``.

    .. math:: \tilde y = (1 - \varepsilon)\, y + \frac{\varepsilon}{K}

    Training on :math:`\tilde y` keeps the canonical delta
    :math:`\hat y - \tilde y` the exact gradient of the loss, whose value is
    then the cross-entropy against :math:`\tilde y`.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_outputs)
        Targets, a boolean indicator matrix (or 0/1 values).
    epsilon : float
        :math:`\varepsilon` in [0, 1).
    n_classes : int
        :math:`K`, see :func:`label_smoothing_classes`.
    out : ndarray of shape (n_samples, n_outputs)
        Where to write :math:`\tilde y` (its dtype is kept).

    Returns
    -------
    out : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpynet._losses import smooth_labels
    >>> y = np.array([[True, False, False]])
    >>> smooth_labels(y, 0.1, 3, np.empty((1, 3)))
    array([[0.93333333, 0.03333333, 0.03333333]])
    """
    np.multiply(y, 1.0 - epsilon, out=out)
    out += epsilon / n_classes
    return out


def label_smoothing_classes(pair, n_outputs):
    """The number of classes :math:`K` label smoothing spreads over.

    Parameters
    ----------
    pair : tuple of str
        ``(output activation, loss)``.
    n_outputs : int
        Units of the output layer.

    Returns
    -------
    n_classes : int
        ``n_outputs`` for a softmax output (one unit per class), 2 for
        logistic outputs (each unit a yes/no question, binary or multilabel).

    Raises
    ------
    ValueError
        If the loss is no log-loss: only class labels can be smoothed.
    """
    if pair == ("softmax", "log_loss"):
        return n_outputs
    if pair == ("logistic", "log_loss"):
        return 2
    raise ValueError(
        f"label_smoothing needs a log-loss output (softmax or logistic); the "
        f"{pair[0]} output with the {pair[1]} loss has no class labels to smooth."
    )


#: ``(output activation, loss) -> (loss function, output delta function)``.
#: The classifier's "log_loss" means categorical cross-entropy with a softmax
#: output and binary cross-entropy with a logistic one.
LOSSES = {
    ("softmax", "log_loss"): (log_loss, canonical_delta),
    ("logistic", "log_loss"): (binary_log_loss, canonical_delta),
    ("identity", "squared_error"): (squared_error, canonical_delta),
    ("exp", "poisson"): (poisson_deviance, canonical_delta),
    ("logistic", "squared_error"): (squared_error, logistic_squared_error_delta),
}

#: Losses that scikit-learn's MLP reports (``loss_``, ``loss_curve_``)
#: averaged over outputs although its gradient is that of their sum
#: (scikit-learn issue 8349). sknumpynet reports the same numbers, trains
#: SGD and Adam with the same gradient, and gives L-BFGS the summed loss, the
#: one that gradient belongs to.
REPORTED_AS_MEAN_OVER_OUTPUTS = {"squared_error"}
