"""Raw tabular data into the inputs of a multilayer perceptron: RealMLP-TD-S.

:class:`TabularPreprocessor` turns a pandas or polars DataFrame, or an array,
with numeric, boolean and categorical columns (missing values in any of them,
unseen categories at transform time) into a dense float matrix: one-hot
encoding, robust scaling and smooth clipping, the preprocessing of
RealMLP-TD-S. The user guide's tabular page derives each step and says where
in pytabkit each fact was read, and what goes beyond it: datetime and
timedelta columns (skrub's DatetimeEncoder features) and category codes for
learned embeddings (``max_one_hot``).
"""

import datetime
import numbers
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._validation import (
    check_2d,
    check_scalar_values,
    is_pandas_frame,
    is_polars_frame,
)

NUMERIC = "numeric"
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
DATETIME = "datetime"
TIMEDELTA = "timedelta"
# A hint only, for columns of object dtype: the kind is read from the values.
_OBJECT = "object"
# The roles of output columns: a numeric value; an encoding (one-hot, +-1,
# missing indicator); a category code.
_VALUE, _ENCODED, _CODE = 0, 1, 2

#: Added to the quantile range before it is inverted, as pytabkit does.
ROBUST_SCALE_EPS = 1e-30

# Beyond this magnitude the quantiles are computed on values divided by a
# power of two (exact), so that their interpolation cannot overflow.
_HUGE = 2.0**1000
# Beyond this magnitude, t / sqrt(1 + t^2) is +-1 in float64.
_T_MAX = 1e150


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def _is_missing(value):
    """None, NaN, pandas' NA and NaT are missing values."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return value != value
    return type(value).__name__ in ("NAType", "NaTType")


def _missing_mask(values):
    """Where a 1-D array of any dtype holds missing values.

    Object arrays are checked by pandas' ``isna`` (vectorized) when pandas is
    installed, value by value otherwise.
    """
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    try:
        from pandas import isna
    except ImportError:
        return np.fromiter((_is_missing(v) for v in values), bool, len(values))
    return np.asarray(isna(values), dtype=bool)


def _is_number(value):
    """A real number that is not a boolean (nor a NumPy timedelta, which is
    an integer to NumPy)."""
    return isinstance(value, numbers.Real) and not isinstance(
        value, (bool, np.bool_, np.timedelta64)
    )


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _is_datetime(value):
    # pandas' Timestamp is a datetime, and a datetime a date.
    return isinstance(value, (datetime.date, np.datetime64))


def _is_timedelta(value):
    # pandas' Timedelta is a timedelta.
    return isinstance(value, (datetime.timedelta, np.timedelta64))


def _infer_kind(values, missing):
    """The kind of an object column, from its non-missing values."""
    observed = values[~missing]
    if all(_is_number(v) for v in observed):
        return NUMERIC
    if all(_is_bool(v) for v in observed):
        return BOOLEAN
    if all(_is_datetime(v) for v in observed):
        return DATETIME
    if all(_is_timedelta(v) for v in observed):
        return TIMEDELTA
    return CATEGORICAL


# ---------------------------------------------------------------------------
# Input containers: pandas and polars DataFrames, arrays
# ---------------------------------------------------------------------------


def _unsupported_dtype(name, dtype):
    return TypeError(
        f"Column {name!r} has dtype {dtype}, which TabularPreprocessor cannot "
        "encode: numeric, boolean, string, categorical, datetime, timedelta "
        "and object columns are supported. Convert the column first or drop it."
    )


class _Table:
    """The columns of X, each a 1-D NumPy array, and a hint of their kind.

    ``column(j, kind)`` gives column ``j`` for a column of that kind: as
    float64 (missing as NaN) when ``kind`` is numeric and the column has a
    numeric dtype; as ``datetime64[us]`` (UTC, missing as NaT) or
    ``timedelta64[us]`` when ``kind`` is datetime or timedelta and the
    column has that dtype; otherwise as an array of its own values (object,
    boolean, string or number dtype), from which the caller reads numbers,
    dates or categories.
    """

    def __init__(self, n_samples, hints, column):
        self.n_samples = n_samples
        self.hints = hints
        self.column = column


#: The kind of a column of each NumPy dtype kind that needs no more thought.
_NUMPY_HINTS = {
    "f": NUMERIC,
    "i": NUMERIC,
    "u": NUMERIC,
    "b": BOOLEAN,
    "O": _OBJECT,
    "M": DATETIME,
    "m": TIMEDELTA,
}
#: The NumPy dtype each temporal kind is read as.
_TEMPORAL_DTYPES = {DATETIME: "datetime64[us]", TIMEDELTA: "timedelta64[us]"}


def _pandas_hint(series):
    dtype = series.dtype
    if type(dtype) is np.dtype and dtype.kind in _NUMPY_HINTS:
        return _NUMPY_HINTS[dtype.kind]  # what the tests below would find

    from pandas import CategoricalDtype, StringDtype
    from pandas.api import types

    if isinstance(dtype, (CategoricalDtype, StringDtype)):
        return CATEGORICAL
    if types.is_bool_dtype(dtype):
        return BOOLEAN
    if types.is_complex_dtype(dtype):
        raise ValueError(
            f"Complex data not supported: column {series.name!r} has dtype {dtype}."
        )
    if types.is_numeric_dtype(dtype):
        return NUMERIC
    if types.is_datetime64_any_dtype(dtype):  # time zones included
        return DATETIME
    if types.is_timedelta64_dtype(dtype):
        return TIMEDELTA
    if types.is_object_dtype(dtype):
        return _OBJECT
    if types.is_string_dtype(dtype):
        return CATEGORICAL
    raise _unsupported_dtype(series.name, dtype)


def _pandas_table(X):
    columns = [series for _, series in X.items()]  # iloc[:, j]'s, faster
    hints = [_pandas_hint(series) for series in columns]

    def column(j, kind):
        series = columns[j]
        if kind == hints[j] == NUMERIC:
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        if kind == hints[j] and kind in _TEMPORAL_DTYPES:
            if getattr(series.dtype, "tz", None) is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            return series.to_numpy().astype(_TEMPORAL_DTYPES[kind])
        return series.to_numpy(dtype=object)

    return _Table(X.shape[0], hints, column)


def validate_frame(estimator, X, reset):
    """``validate_data(..., skip_check_array=True)`` that knows polars names.

    scikit-learn reads the column names of a polars frame through narwhals
    from 1.9 on, but before through the dataframe interchange protocol,
    which polars 2 no longer has: the names would then be lost on the
    floor of the supported range. The same names are remembered and
    checked here, so that behaviour does not depend on the version.

    A frame whose columns are exactly the fitted names, after fit, is let
    through at once: there is nothing scikit-learn's checks (names, then
    their number) would say about it, and they cost more than the
    prediction of a row.
    """
    if not reset and _has_fitted_names(estimator, X):
        return
    if not is_polars_frame(X):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        return
    with warnings.catch_warnings():
        # Before 1.9 scikit-learn cannot see these names: its warning that X
        # has none is wrong, and the check below replaces it.
        warnings.filterwarnings("ignore", "X does not have valid feature names")
        validate_data(estimator, X, skip_check_array=True, reset=reset)
    names = np.asarray(X.columns, dtype=object)
    if reset:
        if not hasattr(estimator, "feature_names_in_"):
            estimator.feature_names_in_ = names
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None and (
        len(fitted) != len(names) or (np.asarray(fitted) != names).any()
    ):
        raise ValueError(
            "The feature names should match those that were passed during fit.\n"
            f"Fitted with {list(fitted)}, got {list(names)}."
        )


def _has_fitted_names(estimator, X):
    """Whether X is a pandas or polars frame whose columns are exactly the
    estimator's fitted names, in order, each of type ``str`` (scikit-learn
    takes no other type as a feature name)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or getattr(estimator, "n_features_in_", None) != len(names):
        return False
    if not (is_pandas_frame(X) or is_polars_frame(X)):
        return False
    columns = X.columns  # a list (polars) or an Index (pandas: tolist is fast)
    columns = columns.tolist() if hasattr(columns, "tolist") else list(columns)
    return columns == names.tolist() and all(type(c) is str for c in columns)


def _polars_hint(series):
    import polars as pl

    dtype = series.dtype
    if dtype == pl.Boolean:
        return BOOLEAN
    if dtype.is_numeric():
        return NUMERIC
    if dtype in (pl.String, pl.Categorical, pl.Enum):
        return CATEGORICAL
    if dtype in (pl.Datetime, pl.Date):  # any unit and time zone
        return DATETIME
    if dtype == pl.Duration:
        return TIMEDELTA
    if dtype in (pl.Null, pl.Object):
        return _OBJECT
    raise _unsupported_dtype(series.name, dtype)


def _polars_table(X):
    import polars as pl

    columns = X.get_columns()
    hints = [_polars_hint(series) for series in columns]

    def column(j, kind):
        series = columns[j]
        if kind == hints[j] == NUMERIC:
            return series.cast(pl.Float64).to_numpy()
        if kind == hints[j] and kind in _TEMPORAL_DTYPES:
            if getattr(series.dtype, "time_zone", None) is not None:
                series = series.dt.convert_time_zone("UTC")
                series = series.dt.replace_time_zone(None)
            return series.to_numpy().astype(_TEMPORAL_DTYPES[kind])
        values = np.empty(len(series), dtype=object)
        values[:] = series.to_list()
        return values

    return _Table(X.shape[0], hints, column)


def _array_table(X, estimator):
    if isinstance(X, (list, tuple)) and np.asarray(X).dtype.kind in "US":
        # NumPy would turn the numbers of a mixed list into strings.
        X = np.asarray(X, dtype=object)
    array = check_array(
        X,
        dtype=None,
        accept_sparse=False,
        ensure_all_finite=False,
        estimator=estimator,
        input_name="X",
    )
    kind = array.dtype.kind
    if kind in "fiu":
        hint = NUMERIC
    elif kind == "b":
        hint = BOOLEAN
    elif kind == "O":
        hint = _OBJECT
    elif kind in "US":
        hint = CATEGORICAL
    elif kind in "Mm":
        hint = _NUMPY_HINTS[kind]
    else:
        raise _unsupported_dtype("(every column)", array.dtype)

    def column(j, wanted):
        if wanted == hint == NUMERIC:
            return array[:, j].astype(np.float64)
        if wanted == hint and hint in _TEMPORAL_DTYPES:
            return array[:, j].astype(_TEMPORAL_DTYPES[hint])
        return array[:, j].astype(object) if kind in "fiuMm" else array[:, j]

    return array, _Table(array.shape[0], [hint] * array.shape[1], column)


# ---------------------------------------------------------------------------
# Encoding one column
# ---------------------------------------------------------------------------


def _numeric_values(values, label):
    """A column as float64, missing values as NaN; no infinity allowed."""
    kind = values.dtype.kind
    if kind == "f":
        x = values.astype(np.float64, copy=False)
    elif kind in "iub":
        x = values.astype(np.float64)
    elif kind == "O":
        missing = _missing_mask(values)
        observed = values[~missing]
        for value in observed:
            if not (_is_number(value) or _is_bool(value)):
                raise ValueError(
                    f"Column {label} was numeric in fit but holds the non-numeric "
                    f"value {value!r} of type {type(value).__name__}."
                )
        x = np.full(values.shape, np.nan)
        x[~missing] = observed.astype(np.float64)
    else:
        raise ValueError(
            f"Column {label} was numeric in fit but holds {values.dtype} values, "
            f"such as {values[0]!r}."
        )
    if np.isinf(x).any():
        raise ValueError(
            f"Column {label} holds infinite values (inf or -inf). "
            "TabularPreprocessor takes NaN as a missing value but refuses "
            "infinities: replace them first (with NaN, or a large finite value)."
        )
    return x


def _to_datetime64(value):
    """A date, datetime or ``np.datetime64`` as ``datetime64[us]``, in UTC."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return np.datetime64(value, "us")


def _temporal_values(values, kind, label):
    """A datetime (UTC) or timedelta column as ``datetime64[us]`` or
    ``timedelta64[us]``, missing values as NaT."""
    dtype = np.dtype(_TEMPORAL_DTYPES[kind])
    if values.dtype.kind == dtype.kind:
        return values.astype(dtype, copy=False)
    is_value, convert = (
        (_is_datetime, _to_datetime64)
        if kind == DATETIME
        else (_is_timedelta, lambda v: np.timedelta64(v, "us"))
    )
    if values.dtype.kind == "O":
        missing = _missing_mask(values)
        out = np.full(values.shape, np.datetime64("NaT"), dtype=dtype)
        for i in np.flatnonzero(~missing):
            if not is_value(values[i]):
                break
            out[i] = convert(values[i])
        else:
            return out
        value = values[i]
        raise ValueError(
            f"Column {label} was {kind} in fit but holds the value {value!r} "
            f"of type {type(value).__name__}."
        )
    raise ValueError(
        f"Column {label} was {kind} in fit but holds {values.dtype} values, "
        f"such as {values[0]!r}: give it {kind} values again."
    )


#: The periods of the circular features of a datetime column.
_PERIODS = {"month": 12, "weekday": 7, "hour": 24}


def _datetime_features(t, periodic, has_hour=None):
    """The features of a ``datetime64[us]`` column, NaN where it is NaT.

    Returns ``{name: float64 column}`` in output order. ``has_hour`` None:
    the hour (and its circular features) when a value is not at midnight.
    """
    missing = np.isnat(t)
    safe = np.where(missing, np.datetime64(0, "us"), t)
    days = safe.astype("datetime64[D]")
    months = safe.astype("datetime64[M]")
    years = safe.astype("datetime64[Y]")
    if has_hour is None:
        has_hour = bool((safe != days)[~missing].any())
    parts = {
        "year": years.astype(np.int64) + 1970,
        "month": (months - years).astype(np.int64) + 1,
        "day": (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
    }
    if has_hour:
        parts["hour"] = (safe.astype("datetime64[h]") - days).astype(np.int64)
    # 1970-01-01 was a Thursday (3, Monday being 0).
    parts["weekday"] = (days.astype(np.int64) + 3) % 7
    parts["total_seconds"] = safe.astype(np.int64) / 1e6
    if periodic:
        for name, period in _PERIODS.items():
            if name in parts:
                angle = (2 * np.pi / period) * parts[name]
                parts[f"{name}_sin"] = np.sin(angle)
                parts[f"{name}_cos"] = np.cos(angle)
    features = {}
    for name, x in parts.items():
        x = x.astype(np.float64)
        x[missing] = np.nan
        features[name] = x
    return features


def datetime_feature_names(kind, periodic, has_hour):
    """The features a datetime or timedelta column gives, in output order.

    Parameters
    ----------
    kind : {"datetime", "timedelta"}
        The kind of the column.
    periodic : bool
        With the circular features (``datetime_periodic``).
    has_hour : bool
        With the hour (a column with a time of day in fit).

    Returns
    -------
    names : list of str
        The names, as in ``datetime_features_``.
    """
    if kind == TIMEDELTA:
        return ["seconds"]
    empty = np.zeros(0, dtype="datetime64[us]")
    return list(_datetime_features(empty, periodic, has_hour))


def _temporal_block(values, kind, names, label):
    """The derived columns ``names`` of a datetime or timedelta column, and
    where it is missing."""
    t = _temporal_values(values, kind, label)
    missing = np.isnat(t)
    if kind == TIMEDELTA:
        x = t.astype(np.int64) / 1e6
        x[missing] = np.nan
        return x[:, None], missing
    features = _datetime_features(
        t, periodic=any(n.endswith("_sin") for n in names), has_hour="hour" in names
    )
    return np.column_stack([features[name] for name in names]), missing


def _category_keys(values, label):
    """The string form of each value, and where values are missing."""
    missing = _missing_mask(values)
    try:
        strings = values.astype(str)
    except ValueError:
        check_scalar_values(values, label)  # names the column of lists
        raise
    keys = np.where(missing, "", strings)
    return keys, missing


def _fit_categories(kind, values, keys, missing, max_categories):
    """The categories of a column, in their encoding order, as strings."""
    observed = keys[~missing]
    if kind == BOOLEAN:
        present = set(observed.tolist())
        return np.asarray([c for c in ("True", "False") if c in present], dtype=object)
    unique, first, counts = np.unique(observed, return_index=True, return_counts=True)
    originals = values[~missing][first]
    if all(_is_number(v) for v in originals):
        # Numbers in numeric order, not in the order of their strings.
        order = sorted(range(len(unique)), key=lambda i: (float(originals[i]), i))
    else:
        order = list(range(len(unique)))
    if max_categories is not None and len(order) > max_categories:
        # The most frequent (ties: the first in order), kept in order.
        rank = {index: position for position, index in enumerate(order)}
        top = set(sorted(order, key=lambda i: (-counts[i], rank[i]))[:max_categories])
        order = [i for i in order if i in top]
    return np.asarray([str(unique[i]) for i in order], dtype=object)


def _category_codes(keys, missing, categories):
    """Each key's position in ``categories``; -1 if missing or unknown."""
    codes = np.full(len(keys), -1, dtype=np.intp)
    if len(categories) == 0:
        return codes
    names = np.asarray(categories, dtype=str)
    sorter = np.argsort(names)
    position = np.searchsorted(names, keys, sorter=sorter)
    position = sorter[np.minimum(position, len(names) - 1)]
    found = (names[position] == keys) & ~missing
    codes[found] = position[found]
    return codes


def _one_hot(codes, n_categories):
    """One-hot columns; two categories give one +1/-1 column. -1 codes: zeros."""
    known = codes >= 0
    if n_categories == 2:
        return np.where(known, 1.0 - 2.0 * codes, 0.0)[:, None]
    block = np.zeros((len(codes), n_categories))
    block[np.flatnonzero(known), codes[known]] = 1.0
    return block


# ---------------------------------------------------------------------------
# Robust scaling and smooth clipping
# ---------------------------------------------------------------------------


def robust_statistics(z):
    """(center, factor) of one column, NaN ignored: ``factor * (z - center)``.

    The median, and the inverse of the interquartile range; half the range
    where the interquartile range is zero; a factor of 0 where the column is
    constant (or has no value at all).
    """
    observed = z[~np.isnan(z)]
    if observed.size == 0:
        return 0.0, 0.0
    peak = np.max(np.abs(observed))
    exponent = int(np.frexp(peak)[1]) if peak > _HUGE else 0
    observed = np.ldexp(observed, -exponent)
    median = float(np.median(observed))
    low, high = np.quantile(observed, [0.25, 0.75])
    spread = high - low
    if spread == 0.0:
        spread = 0.5 * (observed.max() - observed.min())
    center = float(np.ldexp(median, exponent))
    if spread == 0.0:
        return center, 0.0
    if exponent:
        return center, float(np.ldexp(1.0 / spread, -exponent))
    return center, float(1.0 / (spread + ROBUST_SCALE_EPS))


def smooth_clip(z, bound=3.0, *, out=None):
    """``z / sqrt(1 + (z / bound)^2)``: about ``z`` near 0, tends to ``+-bound``.

    Computed as ``bound * t / sqrt(1 + t^2)`` with ``t = z / bound`` limited
    to ``+-1e150`` (where the result is ``+-bound`` to the last bit), which
    cannot overflow; infinite ``z`` gives ``+-bound``. ``out``: a float64
    array to write the result into (``z`` itself, for instance).
    """
    with np.errstate(over="ignore"):
        t = np.divide(np.asarray(z, dtype=np.float64), bound, out=out)
    np.clip(t, -_T_MAX, _T_MAX, out=t)
    root = t * t
    root += 1.0
    np.sqrt(root, out=root)
    t /= root
    t *= bound
    return t


# ---------------------------------------------------------------------------
# The transformer
# ---------------------------------------------------------------------------


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    r"""Raw tabular data into MLP inputs: one-hot, robust scaling, smooth clip.

    The preprocessing of RealMLP-TD-S ("Better by Default: Strong Pre-Tuned
    MLPs and Boosted Trees on Tabular Data", D. Holzmüller, L. Grinsztajn,
    I. Steinwart, NeurIPS 2024), with missing numeric values handled too.
    Takes a pandas or polars DataFrame, or an array, with numeric, boolean
    and categorical columns, missing values in any of them, and gives a dense
    float matrix, ready for a network or any other estimator in a Pipeline.

    **Column kinds.** Numeric: integer and float dtypes, pandas' nullable
    ``Int64``/``Float64`` included. Boolean: ``bool`` and pandas'
    ``boolean``. Categorical: string, ``category`` (polars: ``String``,
    ``Categorical``, ``Enum``). Datetime: ``datetime64`` with or without a
    time zone (polars: ``Datetime``, ``Date``). Timedelta: ``timedelta64``
    (polars: ``Duration``). An object column is numeric if all its values
    are numbers, boolean if all are booleans, datetime if all are dates,
    datetimes or ``np.datetime64`` (timedelta for timedeltas), categorical
    otherwise. A numeric NumPy array has numeric columns only
    (``categorical_features`` names integer-coded ones). Other dtypes
    (complex, periods, times of day...) are refused. Missing values are
    ``None``, ``NaN``, ``pd.NA`` and ``NaT``.

    **Dates and times.** As skrub's ``DatetimeEncoder`` does, a datetime
    column (converted to UTC when it has a time zone) gives numeric columns:
    its year, month (1-12), day (1-31), hour (0-23; only when a value in fit
    is not at midnight: a column of dates has none), weekday (0: Monday)
    and total seconds since 1970-01-01 UTC, then, with
    ``datetime_periodic``, the sine and cosine of :math:`2\pi` month / 12,
    weekday / 7 and hour / 24 (skrub's ``periodic_encoding="circular"``). A
    timedelta column gives its total seconds. These columns are numeric
    columns from then on (scaled and clipped); a missing value (``NaT``)
    makes each of them missing, and the input column gets one indicator
    (``missing_indicators``), not one per derived column.

    **Encoding.** A categorical or boolean column with two categories becomes
    one column, +1 for the first category, -1 for the second; with more (or
    one), one 0/1 column per category. Categories are the values seen in
    fit, compared by their string form, in sorted order (numbers in numeric
    order; booleans ``True`` first). Missing values and categories unseen in
    fit encode as zeros: transform never fails on them. Numeric columns keep
    their values, missing ones as NaN, and a numeric column with missing
    values in fit gets a 0/1 indicator column after it
    (``missing_indicators``).

    **Category codes.** With ``max_one_hot``, a categorical or boolean
    column with more categories than that is not one-hot encoded but
    becomes one column holding its category's code, as a float: 1 to
    :math:`K` for its :math:`K` categories in ``categories_`` order, 0 for
    missing and unseen values. Code columns are neither scaled nor clipped,
    and have no missing indicator: they are indices into a learned embedding
    table (of ``n_codes_`` rows) for a network to look up.

    **Scaling.** Every numeric column, and with ``scale_encoded`` (the
    recipe) every encoded column too, is centred on its median :math:`q_{1/2}`
    in fit and multiplied by

    .. math::

        s = \begin{cases}
            1 / (q_{3/4} - q_{1/4} + 10^{-30}) & \text{if } q_{3/4} > q_{1/4},\\
            1 / (\tfrac12 (\max - \min) + 10^{-30}) & \text{if } q_{3/4} = q_{1/4}
                \text{ and } \max > \min,\\
            0 & \text{if the column is constant,}
        \end{cases}

    the quantiles, minimum and maximum taken in fit over the non-missing
    values (``np.quantile``, linear interpolation), then smoothly clipped:

    .. math::

        z = s\,(x - q_{1/2}), \qquad
        f(z) = \frac{z}{\sqrt{1 + (z / m)^2}} \in (-m, m),

    with :math:`m` = ``smooth_clip`` (3). A missing numeric value becomes 0,
    the median's place. A numeric column with no value at all in fit becomes
    zeros; infinite values are refused, in fit and in transform.

    Parameters
    ----------
    categorical_features : array-like of str or int, default=None
        Columns to encode as categorical whatever their dtype (integer
        codes, for instance), by name or by position. Their values are
        compared by their string form: ``1`` and ``1.0`` differ.
    missing_indicators : {"auto", "all", "none"}, default="auto"
        Which numeric columns get a 0/1 indicator column (1: missing):
        "auto" those with missing values in fit, "all" every one, "none" no
        column. Categorical columns need none (missing encodes as zeros).
    max_categories : int, default=None
        The most categories a column is one-hot encoded with: the most
        frequent ones are kept, the others encode as zeros like unseen
        ones. None (the recipe) keeps them all. It applies first:
        ``max_one_hot`` then counts the categories kept.
    max_one_hot : int, default=None
        The most categories a column is one-hot encoded with; a column with
        more becomes one column of category codes (see above), for learned
        embeddings. RealMLP-TD embeds the columns of more than 8 categories
        (``max_one_hot_cat_size=9`` counts the missing value): 8 here. None
        one-hot encodes every column.
    datetime_periodic : bool, default=True
        Add the circular features (sine and cosine) of the month, weekday
        and hour of datetime columns. On by default, unlike in skrub: a
        network sees a month as a number, to which December and January
        are far apart, and the two columns per period are cheap.
    scale_encoded : bool, default=True
        Robust-scale and clip the encoded columns (one-hot, +-1 and
        indicators) too, as RealMLP-TD-S does. With False they keep their
        exact 0/1/-1 values.
    smooth_clip : float, default=3.0
        The bound :math:`m` of the smooth clip. None: no clip.
    dtype : {np.float32, np.float64, "float32", "float64"}, default=np.float32
        The dtype of the output.

    Attributes
    ----------
    feature_kinds_ : ndarray of str of shape (n_features_in_,)
        The kind of each input column: "numeric", "boolean",
        "categorical", "datetime" or "timedelta".
    categories_ : list of (ndarray of str or None)
        For each input column, its categories in encoding order (the first
        of two is +1); None for numeric, datetime and timedelta columns.
    datetime_features_ : list of (ndarray of str or None)
        For each datetime or timedelta input column, the features it gives,
        in output order ("year", "month", ..., "month_sin", ...; "seconds"
        for a timedelta); None for the other columns.
    missing_indicator_mask_ : ndarray of bool of shape (n_features_in_,)
        The input columns followed by a missing-value indicator.
    numeric_columns_ : ndarray of bool of shape (n_features_out,)
        The output columns holding a numeric value: those of numeric
        columns and the features of datetime and timedelta columns; not
        indicators, one-hot, +-1 or code columns.
    code_columns_ : ndarray of int
        The positions of the output columns holding category codes (empty
        unless ``max_one_hot`` is set).
    n_codes_ : ndarray of int
        For each code column, its number of codes: its categories plus one
        (code 0: missing or unseen).
    center_ : ndarray of shape (n_features_out,)
        The median of each output column before scaling (0 if unscaled).
    factor_ : ndarray of shape (n_features_out,)
        The factor :math:`s` of each output column (1 if unscaled).
    scaled_mask_ : ndarray of bool of shape (n_features_out,)
        The output columns that are robust-scaled and clipped.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder : One-hot encoding alone.
    sklearn.preprocessing.RobustScaler : Median and IQR scaling alone.
    NumpyMLPClassifier : A network to feed the output to.

    Examples
    --------
    >>> import pandas as pd
    >>> from sknumpynet import TabularPreprocessor
    >>> X = pd.DataFrame({
    ...     "age": [22.0, 38.0, None, 35.0, 54.0, 41.0],
    ...     "color": ["red", "blue", "red", None, "green", "red"],
    ...     "member": [True, False, True, True, False, True],
    ... })
    >>> prep = TabularPreprocessor().fit(X)
    >>> prep.feature_kinds_
    array(['numeric', 'categorical', 'boolean'], dtype=object)
    >>> prep.get_feature_names_out()
    array(['age', 'age_missing', 'color_blue', 'color_green', 'color_red',
           'member'], dtype=object)
    >>> prep.transform(X[:2]).round(3)
    array([[-1.993,  0.   ,  0.   ,  0.   ,  0.493,  0.   ],
           [ 0.   ,  0.   ,  1.664,  0.   , -0.493, -1.218]], dtype=float32)

    Age 22 is :math:`(22 - 38) / 6` interquartile ranges from the median,
    clipped to :math:`-2.667 / \sqrt{1 + (2.667/3)^2} = -1.993`. The encoded
    columns are scaled too, as in the recipe; ``scale_encoded=False`` keeps
    the encoding itself, where an unseen color and a missing ``member`` are
    zeros:

    >>> plain = TabularPreprocessor(scale_encoded=False).fit(X)
    >>> plain.transform(X[:2]).round(3)
    array([[-1.993,  0.   ,  0.   ,  0.   ,  1.   ,  1.   ],
           [ 0.   ,  0.   ,  1.   ,  0.   ,  0.   , -1.   ]], dtype=float32)
    >>> new = pd.DataFrame({"age": [38.0], "color": ["purple"], "member": [None]})
    >>> plain.transform(new)
    array([[0., 0., 0., 0., 0., 0.]], dtype=float32)
    """

    _parameter_constraints: dict = {
        "categorical_features": ["array-like", None],
        "missing_indicators": [StrOptions({"auto", "all", "none"})],
        "max_categories": [Interval(Integral, 1, None, closed="left"), None],
        "max_one_hot": [Interval(Integral, 0, None, closed="left"), None],
        "datetime_periodic": ["boolean"],
        "scale_encoded": ["boolean"],
        "smooth_clip": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": [
            Options(type, {np.float32, np.float64}),
            StrOptions({"float32", "float64"}),
        ],
    }

    def __init__(
        self,
        *,
        categorical_features=None,
        missing_indicators="auto",
        max_categories=None,
        max_one_hot=None,
        datetime_periodic=True,
        scale_encoded=True,
        smooth_clip=3.0,
        dtype=np.float32,
    ):
        self.categorical_features = categorical_features
        self.missing_indicators = missing_indicators
        self.max_categories = max_categories
        self.max_one_hot = max_one_hot
        self.datetime_periodic = datetime_periodic
        self.scale_encoded = scale_encoded
        self.smooth_clip = smooth_clip
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        try:
            name = np.dtype(self.dtype).name
        except TypeError:
            name = None
        tags.transformer_tags.preserves_dtype = (
            [name] if name in ("float32", "float64") else []
        )
        return tags

    # -- input --------------------------------------------------------------

    def _table(self, X, reset):
        """Check X (names, column count) and split it into columns."""
        check_2d(X)
        if is_pandas_frame(X) or is_polars_frame(X):
            n_samples, n_features = X.shape
            validate_frame(self, X, reset)
            if n_features == 0:
                raise ValueError(
                    f"X has no columns: 0 feature(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
            if n_samples == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
            if is_pandas_frame(X):
                return _pandas_table(X)
            return _polars_table(X)
        array, table = _array_table(X, self)
        validate_data(self, array, skip_check_array=True, reset=reset)
        return table

    def _label(self, j):
        """How error messages name input column j."""
        names = getattr(self, "feature_names_in_", None)
        return repr(str(names[j])) if names is not None else str(j)

    def _forced_categorical(self):
        """Positions of the columns named in ``categorical_features``."""
        if self.categorical_features is None:
            return set()
        names = getattr(self, "feature_names_in_", None)
        positions = set()
        for item in np.asarray(self.categorical_features, dtype=object).ravel():
            if isinstance(item, str):
                if names is None or item not in names:
                    raise ValueError(
                        f"categorical_features names the column {item!r}, which "
                        "X does not have"
                        + ("" if names is None else f" (its columns: {list(names)})")
                        + "."
                    )
                positions.add(int(np.flatnonzero(names == item)[0]))
            elif isinstance(item, Integral) and not isinstance(item, bool):
                if not 0 <= item < self.n_features_in_:
                    raise ValueError(
                        f"categorical_features holds the position {item}, but X "
                        f"has {self.n_features_in_} columns."
                    )
                positions.add(int(item))
            else:
                raise ValueError(
                    "categorical_features must hold column names (str) or "
                    f"positions (int); got {item!r}."
                )
        return positions

    # -- fit ----------------------------------------------------------------

    def _fit_encode(self, X):
        """Fit the encoding; return the encoded X before scaling."""
        table = self._table(X, reset=True)
        forced = self._forced_categorical()
        kinds, categories, features, indicators = [], [], [], []
        # The role of each output column: _VALUE (a numeric value), _ENCODED
        # (one-hot, +-1, indicator) or _CODE (a category code).
        blocks, roles, n_codes = [], [], []
        for j, hint in enumerate(table.hints):
            if j in forced:
                kind = CATEGORICAL
            elif hint == _OBJECT:
                values = table.column(j, _OBJECT)
                kind = _infer_kind(values, _missing_mask(values))
            else:
                kind = hint
            values = table.column(j, kind)
            label = self._label(j)
            names = None
            if kind in (NUMERIC, DATETIME, TIMEDELTA):
                if kind == NUMERIC:
                    block = _numeric_values(values, label)[:, None]
                    missing = np.isnan(block[:, 0])
                elif kind == TIMEDELTA:
                    names = ["seconds"]
                    block, missing = _temporal_block(values, kind, names, label)
                else:
                    t = _temporal_values(values, kind, label)
                    parts = _datetime_features(t, self.datetime_periodic)
                    names = list(parts)
                    block, missing = np.column_stack(list(parts.values())), np.isnat(t)
                indicator = self.missing_indicators == "all" or (
                    self.missing_indicators == "auto" and bool(missing.any())
                )
                categories.append(None)
                blocks.append(block)
                roles.extend([_VALUE] * block.shape[1])
                if indicator:
                    blocks.append(missing.astype(np.float64)[:, None])
                    roles.append(_ENCODED)
            else:
                indicator = False
                keys, missing = _category_keys(values, label)
                cats = _fit_categories(kind, values, keys, missing, self.max_categories)
                categories.append(cats)
                codes = _category_codes(keys, missing, cats)
                if self._codes(cats):
                    blocks.append((codes + 1.0)[:, None])
                    roles.append(_CODE)
                    n_codes.append(len(cats) + 1)
                else:
                    block = _one_hot(codes, len(cats))
                    blocks.append(block)
                    roles.extend([_ENCODED] * block.shape[1])
            kinds.append(kind)
            features.append(None if names is None else np.asarray(names, dtype=object))
            indicators.append(indicator)
        self.feature_kinds_ = np.asarray(kinds, dtype=object)
        self.categories_ = categories
        self.datetime_features_ = features
        self.missing_indicator_mask_ = np.asarray(indicators, dtype=bool)
        Z = _stack(blocks, table.n_samples)
        roles = np.asarray(roles, dtype=np.int8).reshape(-1)
        self.numeric_columns_ = roles == _VALUE
        self.code_columns_ = np.flatnonzero(roles == _CODE).astype(np.intp)
        self.n_codes_ = np.asarray(n_codes, dtype=np.intp)
        self.scaled_mask_ = self.numeric_columns_ | (
            (roles == _ENCODED) & bool(self.scale_encoded)
        )
        self.center_ = np.zeros(Z.shape[1])
        self.factor_ = np.ones(Z.shape[1])
        for k in np.flatnonzero(self.scaled_mask_):
            self.center_[k], self.factor_[k] = robust_statistics(Z[:, k])
        return Z

    def _codes(self, categories):
        """Whether a column with these categories is encoded as codes (in
        fit: from ``max_one_hot``)."""
        return self.max_one_hot is not None and len(categories) > self.max_one_hot

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the column kinds, the categories and the scaling statistics.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            A pandas or polars DataFrame, or an array (numeric, or of
            objects). Missing values may be None, NaN, ``pd.NA``, ``NaT``.
        y : None
            Ignored; there for the Pipeline API.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._fit_encode(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, and transform the same X (encoded only once).

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            As in :meth:`fit`.
        y : None
            Ignored; there for the Pipeline API.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            The preprocessed data, in ``dtype``.
        """
        return self._scale(self._fit_encode(X))

    # -- transform ----------------------------------------------------------

    def _encode(self, X):
        table = self._table(X, reset=False)
        coded = self._coded_columns()
        blocks = []
        for j, kind in enumerate(self.feature_kinds_):
            values = table.column(j, kind)
            label = self._label(j)
            if kind in (NUMERIC, DATETIME, TIMEDELTA):
                if kind == NUMERIC:
                    block = _numeric_values(values, label)[:, None]
                    missing = np.isnan(block[:, 0])
                else:
                    names = self.datetime_features_[j]
                    block, missing = _temporal_block(values, kind, names, label)
                blocks.append(block)
                if self.missing_indicator_mask_[j]:
                    blocks.append(missing.astype(np.float64)[:, None])
            else:
                cats = self.categories_[j]
                codes = _category_codes(*_category_keys(values, label), cats)
                if coded[j]:
                    blocks.append((codes + 1.0)[:, None])
                else:
                    blocks.append(_one_hot(codes, len(cats)))
        return _stack(blocks, table.n_samples)

    def _coded_columns(self):
        """Whether each input column was encoded as codes, read from the
        fitted ``code_columns_`` (absent from files of older versions)."""
        coded = np.zeros(self.n_features_in_, dtype=bool)
        code_columns = set(getattr(self, "code_columns_", np.zeros(0)).tolist())
        start = 0
        for j, width in enumerate(self._widths()):
            # A coded column has a category at least: it starts there.
            coded[j] = width > 0 and start in code_columns
            start += 1 if coded[j] else width
        return coded

    def _widths(self, coded=None):
        """The number of output columns of each input column (a categorical
        one: as one-hot, unless ``coded``)."""
        widths = []
        features = getattr(self, "datetime_features_", None)
        for j, (kind, cats, indicator) in enumerate(
            zip(self.feature_kinds_, self.categories_, self.missing_indicator_mask_)
        ):
            if kind == NUMERIC:
                widths.append(1 + bool(indicator))
            elif kind in (DATETIME, TIMEDELTA):
                widths.append(len(features[j]) + bool(indicator))
            elif coded is not None and coded[j]:
                widths.append(1)
            else:
                widths.append(1 if len(cats) == 2 else len(cats))
        return widths

    def _scale(self, Z):
        """Robust-scale and clip the scaled columns of Z (in place); cast."""
        dtype = np.dtype(self.dtype)
        k = self.scaled_mask_
        every = bool(k.all())
        x = Z if every else Z[:, k]
        center, factor = self.center_[k], self.factor_[k]
        with np.errstate(over="ignore", invalid="ignore"):
            z = x - center
            z *= factor
            # Huge values whose difference overflows: distribute the factor.
            overflow = np.isinf(z)
            if overflow.any():
                z = np.where(overflow, x * factor - center * factor, z)
        # Missing values (and constant columns' 0 * inf): the median's place.
        z[np.isnan(z)] = 0.0
        if self.smooth_clip is not None:
            smooth_clip(z, self.smooth_clip, out=z)
        else:
            limit = np.finfo(dtype).max
            np.clip(z, -limit, limit, out=z)
        if every:
            return z.astype(dtype, copy=False)
        Z[:, k] = z
        return Z.astype(dtype, copy=False)

    def transform(self, X):
        """Encode, robust-scale and clip X.

        Parameters
        ----------
        X : {DataFrame, array-like} of shape (n_samples, n_features)
            The same columns as in :meth:`fit` (same names, same order).
            Missing values and unseen categories are allowed.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            The preprocessed data, in ``dtype``.
        """
        check_is_fitted(self)
        return self._scale(self._encode(X))

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        A numeric column keeps its name (its indicator: ``<name>_missing``);
        a two-category column keeps its name; a one-hot column is
        ``<name>_<category>``; a code column is ``<name>_code``. A datetime
        column gives ``<name>_year``, ``<name>_month``, ``<name>_day``,
        ``<name>_hour`` (if fitted with one), ``<name>_weekday``,
        ``<name>_total_seconds``, then ``<name>_month_sin``,
        ``<name>_month_cos`` and so on (``datetime_periodic``); a timedelta
        column ``<name>_seconds``. A missing indicator comes last:
        ``<name>_missing``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            The input column names; by default ``feature_names_in_``, or
            ``x0, x1, ...`` when X had none.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        coded = self._coded_columns()
        features = getattr(self, "datetime_features_", None)
        out = []
        for j, (name, kind, cats, indicator) in enumerate(
            zip(
                names,
                self.feature_kinds_,
                self.categories_,
                self.missing_indicator_mask_,
            )
        ):
            if kind == NUMERIC:
                out.append(str(name))
            elif kind in (DATETIME, TIMEDELTA):
                out.extend(f"{name}_{feature}" for feature in features[j])
            elif coded[j]:
                out.append(f"{name}_code")
            elif len(cats) == 2:
                out.append(str(name))
            else:
                out.extend(f"{name}_{category}" for category in cats)
            if indicator:
                out.append(f"{name}_missing")
        return np.asarray(out, dtype=object)


def _stack(blocks, n_samples):
    if not blocks:
        return np.zeros((n_samples, 0))
    return np.hstack(blocks)
