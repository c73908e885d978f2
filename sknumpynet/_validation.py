"""Input checks shared by the estimators, the preprocessor and the serving plans.

One home for each check, so that every entry point gives the same clear error,
naming our parameters and the offending column.
"""

from numbers import Number

import numpy as np
from sklearn.utils.validation import validate_data

#: How ``validate_data`` is asked to check a NumpyMLP's X: sparse CSR/CSC,
#: float64 or float32 (other dtypes become float64).
_X_CHECKS = {"accept_sparse": ["csr", "csc"], "dtype": (np.float64, np.float32)}


def is_int(value):
    """Whether ``value`` is an int (a JSON integer), not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _top_module(X):
    return type(X).__module__.partition(".")[0]


def is_pandas_frame(X):
    """Whether X is a pandas DataFrame (without importing pandas)."""
    return type(X).__name__ == "DataFrame" and _top_module(X) == "pandas"


def is_polars_frame(X):
    """Whether X is a polars DataFrame (without importing polars)."""
    return _top_module(X) == "polars" and hasattr(X, "get_columns")


def check_2d(X):
    """Refuse input that is not a table, before any other check.

    A 1-D X is usually the target passed where X should be; the message says
    how to make a one-column table instead.
    """
    if hasattr(X, "ndim"):
        ndim = X.ndim
    elif isinstance(X, (list, tuple)):
        try:
            ndim = np.asarray(X, dtype=object).ndim
        except ValueError:  # ragged rows: check_array explains
            return
    else:
        return
    if ndim == 2:
        return
    got = f"a {ndim}-D {type(X).__name__}"
    if ndim == 1:
        got += (
            f" of {len(X)} values (a 1-D input is usually the target y passed "
            "where X should be)"
        )
    raise ValueError(
        f"X must be a 2-D table of shape (n_samples, n_features); got {got}. "
        "Reshape your data for a single feature: X.reshape(-1, 1), or a "
        "one-column DataFrame such as df[['column']]."
    )


def check_scalar_values(values, label):
    """Refuse a column whose cells are containers (lists, arrays, dicts...).

    A cell of a table is one value; NumPy's own error for a column of lists
    ("setting an array element with a sequence") names no column.
    """
    for value in values:
        if not (value is None or isinstance(value, (str, bytes, Number, np.generic))):
            if type(value).__name__ in ("NAType", "NaTType"):
                continue
            raise ValueError(
                f"Column {label} holds a value of type {type(value).__name__} "
                f"({value!r}): each cell of a table must be one number, string, "
                "boolean or category. Expand or drop the column first."
            )


def validate_X(estimator, X, y="no_validation", reset=False, **checks):
    """``validate_data`` for a NumpyMLP's input, warnings turned into errors.

    A DataFrame without columns gets a clear error (scikit-learn's is
    obscure), and the finiteness check runs without floating-point warnings:
    float16 input holding both +inf and -inf overflows its sum to NaN on the
    way to scikit-learn's clear ``ValueError``.
    """
    if hasattr(X, "columns") and len(X.columns) == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
            f"of 1 is required by {type(estimator).__name__}."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        return validate_data(estimator, X, y, reset=reset, **_X_CHECKS, **checks)


def cast_input(X, dtype):
    """``X`` in the model's dtype; a float64 value beyond float32's range is
    refused with a clear error rather than cast to infinity."""
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        cast = X.astype(dtype)
    data = cast.data if hasattr(cast, "tocsr") else cast
    if not np.isfinite(data).all():
        largest = float(abs(X).max())
        raise ValueError(
            f"X has values of magnitude up to {largest:g}, beyond the range of "
            f"{np.dtype(dtype).name} ({np.finfo(dtype).max:g}), the precision "
            "this model computes in. Scale X as the training data was scaled "
            "(for instance with a StandardScaler fitted on it)."
        )
    return cast


def check_finite_output(output, remedy):
    """Raise when a network's output is not finite: its input overflowed it.

    Parameters
    ----------
    output : ndarray of shape (n_samples, n_outputs)
    remedy : str
        What the user can do, one sentence.
    """
    finite_rows = np.isfinite(output).all(axis=1)
    if finite_rows.all():
        return
    n_bad = len(output) - int(finite_rows.sum())
    raise ValueError(
        f"The network's output is not finite for {n_bad} of the {len(output)} "
        f"samples of X: the input is too large for this network and overflowed "
        f"it. {remedy}"
    )


def check_validation_split(n_samples, validation_fraction, min_validation):
    """The number of rows ``validation_fraction`` holds out, checked.

    Both sides of the split need rows; the error names our parameter, where
    scikit-learn's ``train_test_split`` would speak of its own ``test_size``.
    """
    n_val = int(np.ceil(validation_fraction * n_samples))
    if n_val < min_validation:
        # scikit-learn's MLP says the first sentence too.
        raise ValueError(
            f"The validation set is too small: validation_fraction="
            f"{validation_fraction} of {n_samples} samples holds out {n_val}, "
            f"and at least {min_validation} are needed. Increase "
            "'validation_fraction' or the size of your dataset."
        )
    if n_val == n_samples:
        raise ValueError(
            f"validation_fraction={validation_fraction} of {n_samples} samples "
            "leaves none to train on. Give more samples or lower "
            "validation_fraction."
        )
    return n_val
