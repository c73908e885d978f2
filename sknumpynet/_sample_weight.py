"""Sample weights, checked the same way whatever scikit-learn's version.

scikit-learn's ``_check_sample_weight`` converts the weights and checks their
shape and finiteness on every supported version, but what it refuses beyond
that has changed: all-zero weights are refused only from scikit-learn 1.9 on,
and the wording of its negative-weight error is its own. sknumpynet makes
both checks itself, with one message on every version: a fit needs weights
that are non-negative and not all zero.
"""

import inspect

import numpy as np
from sklearn.utils.validation import _check_sample_weight

# scikit-learn >= 1.9 refuses all-zero weights unless told not to; the check
# below is made here instead, so that every version gives the same error.
_LEAVE_ZERO_CHECK_TO_US = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def check_sample_weight(sample_weight, X, dtype, name="sample_weight"):
    """``sample_weight`` as a C-contiguous array of ``dtype``, one per row of X.

    Raises ``ValueError`` for weights of the wrong shape, non-finite weights
    (a float64 weight beyond ``dtype``'s range included), negative weights
    and weights that are all zero. ``name`` is the parameter the error names
    (``"sample_weight"`` or ``"sample_weight_val"``).
    """
    # A weight of 1e300 cast to float32 overflows to infinity, which the
    # finiteness check then refuses by name: no RuntimeWarning on the way.
    with np.errstate(over="ignore"):
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=dtype, **_LEAVE_ZERO_CHECK_TO_US
        )
    if sample_weight.size == 0:
        return sample_weight
    smallest = sample_weight.min()
    if smallest < 0:
        raise ValueError(
            f"{name} has negative values (the smallest is {smallest:g}); "
            "sample weights must be non-negative."
        )
    if smallest == 0 and not sample_weight.any():
        raise ValueError(
            f"{name} is zero for every sample: at least one sample must have "
            "a positive weight."
        )
    return sample_weight
