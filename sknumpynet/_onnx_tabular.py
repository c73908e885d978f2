"""ONNX export of the tabular estimators: their preprocessing, as a graph.

:func:`preprocess` writes a fitted :class:`~sknumpynet.TabularPreprocessor`
with the ``_Graph`` helper of :mod:`sknumpynet._onnx`, one input per raw
column (or one matrix), operation by operation as ``transform`` computes it;
the converters of :mod:`sknumpynet._onnx` add the network and the outputs.
The user guide's persistence page says which inputs a graph takes and how
missing strings are passed. Datetime and timedelta columns are refused (ONNX
has no date type). It imports skl2onnx and onnx only in its
functions.
"""

import warnings

import numpy as np

from ._tabular_preprocessing import (
    _T_MAX,
    DATETIME,
    NUMERIC,
    TIMEDELTA,
    TabularPreprocessor,
)

#: The skl2onnx tensor types the graph reads, by name.
_INPUT_TYPES = (
    "BooleanTensorType",
    "DoubleTensorType",
    "FloatTensorType",
    "Int8TensorType",
    "Int16TensorType",
    "Int32TensorType",
    "Int64TensorType",
    "UInt8TensorType",
    "UInt16TensorType",
    "UInt32TensorType",
    "UInt64TensorType",
    "StringTensorType",
)


def check_inputs(operator):
    """Check that the operator's inputs are tensors of the types the graph
    reads.

    Parameters
    ----------
    operator
        skl2onnx's operator of a tabular estimator.

    Raises
    ------
    ValueError
        If an input has another type, named in the message.
    """
    from skl2onnx.common import data_types

    good = tuple(getattr(data_types, name) for name in _INPUT_TYPES)
    for variable in operator.inputs:
        if not isinstance(variable.type, good):
            raise ValueError(
                f"The input {variable.raw_name!r} of "
                f"{type(operator.raw_operator).__name__} has the type "
                f"{type(variable.type).__name__}; the ONNX export reads float, "
                "double, integer, boolean and string tensors."
            )


# ---------------------------------------------------------------------------
# The preprocessing
# ---------------------------------------------------------------------------


def _preprocessor(estimator):
    preprocessor = estimator.preprocessor_
    if not isinstance(preprocessor, TabularPreprocessor):
        raise ValueError(
            f"The {type(estimator).__name__}'s preprocessor is a "
            f"{type(preprocessor).__name__}; the ONNX export writes out "
            "TabularPreprocessor only (the default, preprocessor=None)."
        )
    return preprocessor


def _column_names(preprocessor):
    names = getattr(preprocessor, "feature_names_in_", None)
    if names is None:
        return [str(j) for j in range(preprocessor.n_features_in_)]
    return [str(name) for name in names]


def _columns(graph, preprocessor, inputs):
    """One (name, type) per fitted column: the inputs matched to the columns.

    One input per column (by name when the names are the fitted ones, else
    by position), or one input holding every column (split with Gather).
    """
    from onnx import TensorProto

    n_features = preprocessor.n_features_in_
    fitted = getattr(preprocessor, "feature_names_in_", None)
    if len(inputs) == n_features:
        by_name = {variable.raw_name: variable for variable in inputs}
        if fitted is not None and set(map(str, fitted)) == set(by_name):
            inputs = [by_name[str(name)] for name in fitted]
        for variable in inputs:
            width = variable.type.shape[1] if len(variable.type.shape) == 2 else -1
            if width not in (1, None, "None") and n_features > 1:
                raise ValueError(
                    f"The input {variable.raw_name!r} has shape "
                    f"{variable.type.shape}; one input per column must have "
                    "shape (n_samples, 1)."
                )
        return [(variable.full_name, variable.type) for variable in inputs]
    if len(inputs) == 1:
        (variable,) = inputs
        shape = variable.type.shape
        if len(shape) != 2 or shape[1] not in (n_features, None, "None"):
            raise ValueError(
                f"The model was fitted on {n_features} columns; its single ONNX "
                f"input {variable.raw_name!r} has shape {shape}, not "
                f"(n_samples, {n_features})."
            )
        columns = []
        for j in range(n_features):
            index = graph.constant([j], "column", TensorProto.INT64)
            column = graph.node("Gather", [variable.full_name, index], axis=1)
            columns.append((column, variable.type))
        return columns
    raise ValueError(
        f"The model was fitted on {n_features} columns, but the ONNX graph has "
        f"{len(inputs)} inputs: give one input per column (as "
        "to_onnx(model, X=frame) does) or a single (n_samples, "
        f"{n_features}) input."
    )


def preprocess(graph, estimator, inputs):
    """Add the estimator's ``preprocessor_.transform`` to the graph.

    Parameters
    ----------
    graph : sknumpynet._onnx._Graph
        The graph being built.
    estimator : TabularMLPClassifier or TabularMLPRegressor
        A fitted estimator whose ``preprocessor_`` is a TabularPreprocessor.
    inputs : list of skl2onnx Variable
        The graph's inputs: one per column, or one holding every column.

    Returns
    -------
    name : str
        The name of the preprocessed matrix, of the preprocessor's ``dtype``.

    Raises
    ------
    ValueError
        If a column, an input or the preprocessor cannot be converted;
        among them datetime and timedelta columns, refused with their name:
        ONNX has no date type, and the calendar arithmetic of their
        features is not written out (convert them into numbers upstream).

    Notes
    -----
    Code columns (``max_one_hot``) are converted: each value is looked up
    among the column's categories, its code being its position plus one, 0
    for a missing or unseen value.
    """
    from onnx import TensorProto

    preprocessor = _preprocessor(estimator)
    names = _column_names(preprocessor)
    for name, kind in zip(names, preprocessor.feature_kinds_):
        if kind in (DATETIME, TIMEDELTA):
            raise ValueError(
                f"Column {name!r} is a {kind} column in the fitted model, which "
                "the ONNX export cannot convert: ONNX has no date or time "
                "type. Convert the column upstream (into numbers: a year, a "
                "month, seconds...) and fit on those."
            )
    coded = preprocessor._coded_columns()
    blocks = []
    for j, (column, tensor_type) in enumerate(_columns(graph, preprocessor, inputs)):
        kind = preprocessor.feature_kinds_[j]
        if kind == NUMERIC:
            blocks.extend(
                _numeric_block(
                    graph,
                    column,
                    tensor_type,
                    names[j],
                    bool(preprocessor.missing_indicator_mask_[j]),
                )
            )
        else:
            categories = [str(c) for c in preprocessor.categories_[j]]
            if categories:  # no category: no output column
                blocks.append(
                    _categorical_block(
                        graph,
                        column,
                        tensor_type,
                        names[j],
                        kind,
                        categories,
                        bool(coded[j]),
                    )
                )
    if not blocks:
        raise ValueError(
            "The fitted preprocessor gives no column (every column categorical "
            "without a category): there is nothing to convert."
        )
    encoded = blocks[0] if len(blocks) == 1 else graph.node("Concat", blocks, axis=1)
    scaled = _scale(graph, preprocessor, encoded)
    dtype = np.dtype(preprocessor.dtype)
    proto = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    return graph.node("Cast", scaled, to=proto)


def _is_string(tensor_type):
    from skl2onnx.common.data_types import StringTensorType

    return isinstance(tensor_type, StringTensorType)


def _numeric_block(graph, column, tensor_type, name, indicator):
    """The float64 column, and its missing indicator when fitted with one."""
    from onnx import TensorProto

    if _is_string(tensor_type):
        raise ValueError(
            f"Column {name!r} is numeric in the fitted model, but its ONNX input "
            "is a string tensor: give it a float, double or integer input "
            "(NaN for missing values)."
        )
    values = graph.node("Cast", column, to=TensorProto.DOUBLE)
    if not indicator:
        return [values]
    missing = graph.node("IsNaN", values)
    return [values, graph.node("Cast", missing, to=TensorProto.DOUBLE)]


def _category_value(category, tensor_type):
    """The value of the input's type whose ``str`` is ``category`` (the key
    transform compares), or None when there is none."""
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
    )

    if isinstance(tensor_type, BooleanTensorType):
        return {"True": 1, "False": 0}.get(category)
    if isinstance(tensor_type, (FloatTensorType, DoubleTensorType)):
        # transform prints a float32 value widened to a Python float.
        try:
            value = float(category)
        except ValueError:
            return None
        if repr(value) != category or value != value:
            return None
        if isinstance(tensor_type, FloatTensorType) and np.float32(value) != value:
            return None
        return value
    # Integers: "01" or "1.0" are not how transform prints an integer.
    try:
        value = int(category)
    except ValueError:
        return None
    return value if str(value) == category and -(2**63) <= value < 2**63 else None


def _categorical_block(graph, column, tensor_type, name, kind, categories, code):
    """One-hot columns (one +1/-1 column for two categories), float64; or,
    when ``code``, one column of category codes (1 to n).

    A value that is missing, or matches no category, encodes as zeros.
    """
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    n = len(categories)
    if _is_string(tensor_type):
        if "" in categories:
            warnings.warn(
                f"Column {name!r} has the empty string among its categories: "
                "in the ONNX graph, '' is that category, not a missing value. "
                "Pass missing values of this column as another string that "
                "is not a category.",
                UserWarning,
                stacklevel=2,
            )
        # The position of each string among the categories, -1 if none.
        codes = graph.node(
            "LabelEncoder",
            column,
            op_domain="ai.onnx.ml",
            # Version 2 maps string keys to int64 values; skl2onnx does not
            # support the newest (4) of the ai.onnx.ml domain.
            op_version=2,
            keys_strings=categories,
            values_int64s=list(range(n)),
            default_int64=-1,
        )
        positions = graph.constant(np.arange(n)[None], "positions", TensorProto.INT64)
        one_hot = graph.node("Equal", [codes, positions])
    else:
        values = [_category_value(c, tensor_type) for c in categories]
        known = [v is not None for v in values]
        if not any(known):
            raise ValueError(
                f"Column {name!r} is {kind} in the fitted model, with categories "
                f"such as {categories[0]!r}, but its ONNX input is a "
                f"{type(tensor_type).__name__}, none of whose values is such a "
                "category: give it a string input (or a numeric one of the type "
                "of its categories)."
            )
        if isinstance(tensor_type, (FloatTensorType, DoubleTensorType)):
            # NaN matches nothing: no category, and missing values neither.
            proto = (
                TensorProto.FLOAT
                if isinstance(tensor_type, FloatTensorType)
                else TensorProto.DOUBLE
            )
            table = np.array([np.nan if v is None else v for v in values])
            keys = graph.constant(table[None], "categories", proto)
            one_hot = graph.node("Equal", [column, keys])
        else:
            # Integers and booleans, as int64 (True: 1): equal to a value
            # that is a category.
            column = graph.node("Cast", column, to=TensorProto.INT64)
            table = np.array([0 if v is None else v for v in values], np.int64)
            keys = graph.constant(table[None], "categories", TensorProto.INT64)
            equal = graph.node("Equal", [column, keys])
            mask = graph.constant(np.array(known)[None], "known", TensorProto.BOOL)
            one_hot = graph.node("And", [equal, mask])
    one_hot = graph.node("Cast", one_hot, to=TensorProto.DOUBLE)
    if code:
        # At most one category matches: the sum is its code, or 0.
        codes = np.arange(1.0, n + 1.0)[:, None]
        weights = graph.constant(codes, "codes", TensorProto.DOUBLE)
        return graph.node("MatMul", [one_hot, weights])
    if n != 2:
        return one_hot
    # Two categories: +1 for the first, -1 for the second, 0 for neither.
    signs = graph.constant(np.array([[1.0], [-1.0]]), "signs", TensorProto.DOUBLE)
    return graph.node("MatMul", [one_hot, signs])


def _double(graph, values, name):
    from onnx import TensorProto

    return graph.constant(np.asarray(values, np.float64), name, TensorProto.DOUBLE)


def _scale(graph, preprocessor, encoded):
    """Robust scaling and smooth clip of the scaled columns, in float64,
    operation by operation as ``TabularPreprocessor._scale``."""
    mask = np.asarray(preprocessor.scaled_mask_, dtype=bool)
    if not mask.any():
        return encoded
    center = _double(graph, preprocessor.center_[None], "center")
    factor = _double(graph, preprocessor.factor_[None], "factor")
    z = graph.node("Mul", [graph.node("Sub", [encoded, center]), factor])
    # Huge values whose difference overflows: the factor distributed.
    distributed = graph.node(
        "Sub",
        [
            graph.node("Mul", [encoded, factor]),
            _double(graph, (preprocessor.center_ * preprocessor.factor_)[None], "cf"),
        ],
    )
    z = graph.node("Where", [graph.node("IsInf", z), distributed, z])
    # Missing values (and constant columns' 0 * inf): the median's place.
    zero = _double(graph, 0.0, "zero")
    z = graph.node("Where", [graph.node("IsNaN", z), zero, z])
    bound = preprocessor.smooth_clip
    if bound is not None:
        t = graph.node("Div", [z, _double(graph, bound, "bound")])
        t = graph.node(
            "Max",
            [
                graph.node("Min", [t, _double(graph, _T_MAX, "t_max")]),
                _double(graph, -_T_MAX, "t_min"),
            ],
        )
        root = graph.node(
            "Add", [graph.node("Mul", [t, t]), _double(graph, 1.0, "one")]
        )
        t = graph.node("Div", [t, graph.node("Sqrt", root)])
        z = graph.node("Mul", [t, _double(graph, bound, "bound")])
    else:
        limit = float(np.finfo(np.dtype(preprocessor.dtype)).max)
        z = graph.node(
            "Max",
            [
                graph.node("Min", [z, _double(graph, limit, "limit")]),
                _double(graph, -limit, "minus_limit"),
            ],
        )
    if mask.all():
        return z
    from onnx import TensorProto

    keep = graph.constant(mask[None], "scaled", TensorProto.BOOL)
    return graph.node("Where", [keep, z, encoded])
