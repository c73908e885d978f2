"""ONNX export: skl2onnx converters for every sknumpynet estimator.

After :func:`register_onnx_converters`, ``skl2onnx.to_onnx`` converts the
NumpyMLP estimators, alone or in pipelines, and the tabular ones with their
preprocessing (:mod:`sknumpynet._onnx_tabular`). The graph is the network
written out, a ``MatMul`` and an ``Add`` per layer, then the layer's
activation; the outputs are those of skl2onnx's own classifiers and
regressors. The user guide's persistence page lists what converts and how.
"""

import numpy as np

from . import _onnx_tabular
from ._activations import LEAKY_RELU_SLOPE, SELU_ALPHA, SELU_SCALE
from ._estimators import NumpyMLPClassifier, NumpyMLPRegressor
from ._model import build_tabular_network, effective_weights, layer_activations
from ._serving import fitted_views
from ._tabular import TabularMLPClassifier, TabularMLPRegressor


def _operator(op_type, **attributes):
    """An activation that is one ONNX operator."""
    return lambda graph, z: graph.node(op_type, z, **attributes)


def _leaky_relu(graph, z):
    """max(z, 0.01 z), as :func:`sknumpynet._activations.leaky_relu`."""
    slope = graph.constant(LEAKY_RELU_SLOPE)
    return graph.node("Max", [z, graph.node("Mul", [z, slope])])


def _elu_negative_part(graph, z):
    """exp(min(z, 0)) - 1, never overflowing."""
    exp_negative_part = graph.node("Exp", graph.node("Min", [z, graph.constant(0.0)]))
    return graph.node("Sub", [exp_negative_part, graph.constant(1.0)])


def _elu(graph, z):
    """relu(z) + exp(min(z, 0)) - 1: the ELU with alpha = 1, never overflowing."""
    return graph.node("Add", [graph.node("Relu", z), _elu_negative_part(graph, z)])


def _selu(graph, z):
    """lambda (relu(z) + alpha (exp(min(z, 0)) - 1)), as
    :func:`sknumpynet._activations.selu`."""
    negative_part = graph.node(
        "Mul", [_elu_negative_part(graph, z), graph.constant(SELU_ALPHA)]
    )
    elu = graph.node("Add", [graph.node("Relu", z), negative_part])
    return graph.node("Mul", [elu, graph.constant(SELU_SCALE)])


def _softplus(graph, z):
    """relu(z) + log(1 + exp(-|z|)), the overflow-free softplus."""
    exp_minus_abs = graph.node("Exp", graph.node("Neg", graph.node("Abs", z)))
    correction = graph.node(
        "Log", graph.node("Add", [graph.constant(1.0), exp_minus_abs])
    )
    return graph.node("Add", [graph.node("Relu", z), correction])


def _mish(graph, z):
    """z tanh(softplus(z)), as :func:`sknumpynet._activations.mish`."""
    return graph.node("Mul", [z, graph.node("Tanh", _softplus(graph, z))])


#: How each activation is written in ONNX, by the canonical names of
#: :func:`sknumpynet._model.layer_activations`: a function of the
#: :class:`_Graph` and the name of the layer's input, returning the name of
#: its output. ONNX's own LeakyRelu, Elu, Softplus, Selu and Mish operators are
#: not used: onnxruntime runs some in float32 only, not in float64 graphs
#: (Mish needs opset 18 besides).
_ONNX_ACTIVATIONS = {
    "identity": _operator("Identity"),
    "logistic": _operator("Sigmoid"),
    "tanh": _operator("Tanh"),
    "relu": _operator("Relu"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _softplus,
    "selu": _selu,
    "mish": _mish,
    "softmax": _operator("Softmax", axis=1),
    "exp": _operator("Exp"),
}


#: The aliases under which the converters are registered with skl2onnx.
CLASSIFIER_ALIAS = "SknumpynetNumpyMLPClassifier"
REGRESSOR_ALIAS = "SknumpynetNumpyMLPRegressor"
TABULAR_CLASSIFIER_ALIAS = "SknumpynetTabularMLPClassifier"
TABULAR_REGRESSOR_ALIAS = "SknumpynetTabularMLPRegressor"


def register_onnx_converters():
    """Teach skl2onnx to convert the NumpyMLP and TabularMLP estimators.

    Registers a shape calculator and a converter for NumpyMLPClassifier,
    NumpyMLPRegressor, TabularMLPClassifier and TabularMLPRegressor with
    ``skl2onnx.update_registered_converter``, so that ``skl2onnx.to_onnx``
    converts them (the NumpyMLP estimators alone or inside pipelines).
    Calling it again is harmless.

    A tabular model converts with its preprocessing:
    ``to_onnx(model, X=frame)`` gives a graph with one input per column of
    the DataFrame (float, integer, boolean or string tensors of shape
    (n_samples, 1)), or one (n_samples, n_features) input for a model fitted
    on an array. NaN is a missing number; a missing string is passed as the
    empty string "" (string tensors cannot hold None); unseen categories
    encode as in ``transform``. A column the graph cannot read (a numeric
    column given strings, say) raises a ``ValueError`` naming it.

    Returns
    -------
    aliases : dict
        The skl2onnx alias registered for each estimator class name: the
        four classes above.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install sknumpynet[onnx]``).

    See Also
    --------
    sknumpynet.NumpyMLPClassifier.to_sklearn : Export to scikit-learn.
    save : Save an estimator in a file that runs no code when loaded.

    Notes
    -----
    Probabilities are computed in the precision of the ONNX input (float32
    for ``FloatTensorType``), so they agree with ``predict_proba`` to about
    1e-6; with a ``DoubleTensorType`` input, to about 1e-15. The tabular
    graphs compute the preprocessing in float64, as ``transform`` does,
    and the network in the estimator's ``dtype``, whatever the inputs.

    Examples
    --------
    >>> import importlib.util
    >>> import numpy as np
    >>> from sknumpynet import NumpyMLPClassifier, register_onnx_converters
    >>> X = np.random.RandomState(0).normal(size=(30, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs",
    ...                          random_state=0).fit(X, y)
    >>> if importlib.util.find_spec("onnxruntime") is None:  # optional extra
    ...     agree = True
    ... else:
    ...     import onnxruntime
    ...     from skl2onnx import to_onnx
    ...     _ = register_onnx_converters()
    ...     onx = to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    ...     session = onnxruntime.InferenceSession(
    ...         onx.SerializeToString(), providers=["CPUExecutionProvider"])
    ...     labels, proba = session.run(None, {"X": X.astype(np.float32)})
    ...     agree = bool((labels == clf.predict(X)).all()
    ...                  and np.abs(proba - clf.predict_proba(X)).max() < 1e-5)
    >>> agree
    True
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as error:
        raise ImportError(
            "ONNX export needs skl2onnx (and onnxruntime to run the models): "
            "pip install 'sknumpynet[onnx]'."
        ) from error

    update_registered_converter(
        NumpyMLPClassifier,
        CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options={
            "zipmap": [True, False, "columns"],
            "output_class_labels": [False, True],
            "nocl": [True, False],
        },
    )
    update_registered_converter(
        NumpyMLPRegressor, REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )
    update_registered_converter(
        TabularMLPClassifier,
        TABULAR_CLASSIFIER_ALIAS,
        _tabular_classifier_shapes,
        _convert_tabular_classifier,
        options={
            "zipmap": [True, False, "columns"],
            "output_class_labels": [False, True],
            "nocl": [True, False],
        },
    )
    update_registered_converter(
        TabularMLPRegressor,
        TABULAR_REGRESSOR_ALIAS,
        _tabular_regressor_shapes,
        _convert_tabular_regressor,
    )
    return {
        "NumpyMLPClassifier": CLASSIFIER_ALIAS,
        "NumpyMLPRegressor": REGRESSOR_ALIAS,
        "TabularMLPClassifier": TABULAR_CLASSIFIER_ALIAS,
        "TabularMLPRegressor": TABULAR_REGRESSOR_ALIAS,
    }


# ---------------------------------------------------------------------------
# Shape calculators
# ---------------------------------------------------------------------------


def _float_tensor_type(operator):
    """The float tensor type the network computes in: the input's if double."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def _check_types(operator, n_outputs):
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(
        operator,
        good_input_types=[
            BooleanTensorType,
            DoubleTensorType,
            FloatTensorType,
            Int64TensorType,
        ],
    )


def _label_kind(estimator, classes):
    """'multilabel', 'int64' or 'string': how the labels are output."""
    binarizer = getattr(estimator, "_label_binarizer", None)  # tabular: none
    if binarizer is not None and binarizer.y_type_.startswith("multilabel"):
        return "multilabel"
    if classes.dtype.kind in "biu":
        return "int64"
    if classes.dtype.kind == "f":
        if not np.array_equal(classes, np.round(classes)):
            raise ValueError(
                f"The class labels {classes} are not integers: ONNX labels are "
                "int64 or strings. Encode the labels as integers or strings "
                "before fitting."
            )
        return "int64"
    if all(isinstance(label, str) for label in classes):
        return "string"
    raise ValueError(
        f"The class labels {classes} are neither all integers nor all strings; "
        "ONNX labels are int64 or strings."
    )


def _classifier_shapes(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType
    from skl2onnx.common.utils_classifier import get_label_classes

    _check_types(operator, 2)
    estimator = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    classes = np.asarray(get_label_classes(operator.scope_inst, estimator))
    kind = _label_kind(estimator, classes)
    if kind == "multilabel":
        operator.outputs[0].type = Int64TensorType([n_samples, len(classes)])
    elif kind == "int64":
        operator.outputs[0].type = Int64TensorType([n_samples])
    else:
        operator.outputs[0].type = StringTensorType([n_samples])
    operator.outputs[1].type = _float_tensor_type(operator)([n_samples, len(classes)])


def _regressor_shapes(operator):
    _check_types(operator, 1)
    n_samples = operator.inputs[0].get_first_dimension()
    n_outputs = operator.raw_operator.n_outputs_
    operator.outputs[0].type = _float_tensor_type(operator)([n_samples, n_outputs])


def _tabular_float_type(estimator):
    """The tensor type of a tabular model's outputs: its ``dtype``."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if np.dtype(estimator.dtype) == np.float64:
        return DoubleTensorType
    return FloatTensorType


def _tabular_classifier_shapes(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType
    from skl2onnx.common.utils_classifier import get_label_classes

    _onnx_tabular.check_inputs(operator)
    estimator = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    classes = np.asarray(get_label_classes(operator.scope_inst, estimator))
    if _label_kind(estimator, classes) == "int64":
        operator.outputs[0].type = Int64TensorType([n_samples])
    else:
        operator.outputs[0].type = StringTensorType([n_samples])
    operator.outputs[1].type = _tabular_float_type(estimator)([n_samples, len(classes)])


def _tabular_regressor_shapes(operator):
    _onnx_tabular.check_inputs(operator)
    estimator = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    float_type = _tabular_float_type(estimator)
    operator.outputs[0].type = float_type([n_samples, estimator.n_outputs_])


# ---------------------------------------------------------------------------
# Converters
# ---------------------------------------------------------------------------


class _Graph:
    """Adds nodes and constants to the ONNX graph skl2onnx is building.

    Parameters
    ----------
    scope, container
        skl2onnx's scope (unique names) and container (the graph).
    operator
        skl2onnx's operator: a float64 input makes a float64 graph, any other
        input a float32 graph.
    dtype : {np.float32, np.float64}, default=None
        The graph's precision, whatever the input (the tabular converters
        compute in the estimator's ``dtype``); None: from the input.
    """

    def __init__(self, scope, container, operator, dtype=None):
        from onnx import TensorProto
        from skl2onnx.common.data_types import DoubleTensorType

        self.scope, self.container = scope, container
        if dtype is not None:
            double = np.dtype(dtype) == np.float64
        else:
            double = isinstance(operator.inputs[0].type, DoubleTensorType)
        if double:
            self.proto_dtype, self.dtype = TensorProto.DOUBLE, np.float64
        else:
            self.proto_dtype, self.dtype = TensorProto.FLOAT, np.float32

    def node(self, op_type, inputs, output=None, **attributes):
        """Add a node; return the name of its output (a new one by default)."""
        if output is None:
            output = self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output

    def constant(self, values, name="constant", proto_dtype=None):
        """Add a constant tensor, in the graph's precision unless
        ``proto_dtype`` says otherwise; return its name."""
        if proto_dtype is None:
            proto_dtype, values = self.proto_dtype, np.asarray(values, self.dtype)
        values = np.asarray(values)
        unique_name = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(
            unique_name, proto_dtype, list(values.shape), values.ravel()
        )
        return unique_name


def _network(graph, estimator, input_name):
    """Add the network's layers to the graph; return the output's name."""
    output = graph.node("Cast", input_name, to=graph.proto_dtype)
    activations = layer_activations(estimator)
    layers = zip(effective_weights(estimator), estimator.intercepts_, activations)
    for i, (coef, intercept, activation) in enumerate(layers):
        product = graph.node(
            "MatMul", [output, graph.constant(coef, f"coefficient{i}")]
        )
        bias = graph.constant(intercept.reshape(1, -1), f"intercept{i}")
        output = _ONNX_ACTIVATIONS[activation](
            graph, graph.node("Add", [product, bias])
        )
    return output


def _convert_regressor(scope, operator, container):
    """Regressor: the network's output, shape (n_samples, n_outputs)."""
    graph = _Graph(scope, container, operator)
    output = _network(graph, operator.raw_operator, operator.inputs[0].full_name)
    graph.node("Identity", output, operator.outputs[0].full_name)


def _convert_classifier(scope, operator, container):
    """Classifier: labels and probabilities, as skl2onnx's MLPClassifier."""
    from onnx import TensorProto
    from skl2onnx.common.utils_classifier import get_label_classes

    estimator = operator.raw_operator
    classes = np.asarray(get_label_classes(scope, estimator))
    kind = _label_kind(estimator, classes)
    if kind != "multilabel" and len(estimator.classes_) < 2:
        raise ValueError(
            "A classifier fitted on a single class cannot be converted to ONNX."
        )
    graph = _Graph(scope, container, operator)
    output = _network(graph, estimator, operator.inputs[0].full_name)
    label_name, proba_name = (variable.full_name for variable in operator.outputs)

    if estimator.n_outputs_ == 1:
        # Binary: the network gives P(second class); stack [1 - p, p].
        negative = graph.node("Sub", [graph.constant(1.0), output])
        graph.node("Concat", [negative, output], proba_name, axis=1)
    else:
        graph.node("Identity", output, proba_name)

    if kind == "multilabel":
        # A label is on when its probability exceeds 0.5 (LabelBinarizer's
        # threshold), as in predict.
        on = graph.node("Greater", [proba_name, graph.constant(0.5)])
        graph.node("Cast", on, label_name, to=TensorProto.INT64)
        return

    _add_labels(graph, proba_name, label_name, classes, kind)


def _add_labels(graph, proba_name, label_name, classes, kind):
    """The label of the most probable class: ArgMax, then a table lookup."""
    from onnx import TensorProto

    if kind == "int64":
        labels = graph.constant(classes.astype(np.int64), "classes", TensorProto.INT64)
    else:
        encoded = np.array([label.encode("utf-8") for label in classes])
        labels = graph.constant(encoded, "classes", TensorProto.STRING)
    index = graph.node("ArgMax", proba_name, axis=1)
    looked_up = graph.node(
        "ArrayFeatureExtractor", [labels, index], op_domain="ai.onnx.ml"
    )
    shape = graph.constant([-1], "shape", TensorProto.INT64)
    graph.node("Reshape", [looked_up, shape], label_name)


def _tabular_network(scope, operator, container):
    """A tabular model's graph: the preprocessing
    (:func:`sknumpynet._onnx_tabular.preprocess`), then the network, in the
    estimator's ``dtype`` whatever the inputs; return the graph and the
    network's output."""
    estimator = operator.raw_operator
    graph = _Graph(scope, container, operator, dtype=np.dtype(estimator.dtype))
    preprocessed = _onnx_tabular.preprocess(graph, estimator, operator.inputs)
    if estimator._is_td():
        return graph, _td_network(graph, estimator, preprocessed)
    return graph, _network(graph, estimator, preprocessed)


def _td_network(graph, estimator, input_name):
    """Add a recipe="td" network (:mod:`sknumpynet._tabular_network`) to the
    graph: embeddings, scales, shared hidden layers, the members' heads and
    their mean; return the output's name."""
    from onnx import TensorProto

    network = build_tabular_network(
        estimator, estimator._n_network_inputs, estimator.n_outputs_, graph.dtype
    )
    v = network.views
    for name, array in fitted_views(estimator).items():
        v[name][...] = array

    def indices(values, name):
        return graph.constant(np.asarray(values, np.int64), name, TensorProto.INT64)

    def columns(x, which, name):
        return graph.node("Gather", [x, indices(which, name)], axis=1)

    x = graph.node("Cast", input_name, to=graph.proto_dtype)
    parts = [columns(x, network.passthrough, "passthrough")]
    m, E = len(network.numeric_columns), network.embedding_dim
    if m:
        numeric = graph.node(
            "Transpose", columns(x, network.numeric_columns, "numeric"), perm=[1, 0]
        )
        numeric = graph.node("Reshape", [numeric, indices([m, -1, 1], "shape")])
        # As the engine: the frequencies times 2 pi, rounded to the dtype.
        frequencies = (2.0 * np.pi * v["frequencies"][:, None, :]).astype(graph.dtype)
        t = graph.node("Mul", [numeric, graph.constant(frequencies, "frequencies")])
        t = graph.node("Add", [t, graph.constant(v["phases"][:, None, :], "phases")])
        h = graph.node(
            "MatMul",
            [graph.node("Cos", t), graph.constant(v["embedding_coefs"], "embedding")],
        )
        h = graph.node(
            "Add",
            [h, graph.constant(v["embedding_intercepts"][:, None, :], "embedding_b")],
        )
        h = graph.node("Transpose", h, perm=[1, 0, 2])
        parts.append(graph.node("Reshape", [h, indices([-1, m * E], "shape")]))
    if len(network._ple_source):
        encoded = graph.node(
            "Sub",
            [
                columns(x, network._ple_source, "ple_source"),
                graph.constant(network._ple_left[None, :], "ple_left"),
            ],
        )
        encoded = graph.node(
            "Div", [encoded, graph.constant(network._ple_width[None, :], "ple_width")]
        )
        encoded = graph.node(
            "Max", [encoded, graph.constant(network._ple_low[None, :], "ple_low")]
        )
        parts.append(
            graph.node(
                "Min", [encoded, graph.constant(network._ple_high[None, :], "ple_high")]
            )
        )
    n_code_columns = len(network.code_columns)
    if n_code_columns:
        codes = graph.node(
            "Cast", columns(x, network.code_columns, "codes"), to=TensorProto.INT64
        )
        # Codes out of range read row 0, as the engine does.
        n_codes = indices(network.n_codes[None, :], "n_codes")
        zero = indices(0, "zero")
        outside = graph.node(
            "Or",
            [
                graph.node("Less", [codes, zero]),
                graph.node("Not", graph.node("Less", [codes, n_codes])),
            ],
        )
        codes = graph.node("Where", [outside, zero, codes])
        rows = graph.node(
            "Add", [codes, indices(network._code_offsets[None, :], "offsets")]
        )
        looked_up = graph.node("Gather", [graph.constant(v["table"], "table"), rows])
        width = n_code_columns * network.category_dim
        parts.append(graph.node("Reshape", [looked_up, indices([-1, width], "shape")]))
    a = graph.node("Concat", parts, axis=1) if len(parts) > 1 else parts[0]
    if network.has_feature_scale:
        a = graph.node("Mul", [a, graph.constant(v["scale"][None, :], "scale")])
    k = network.n_members
    if k > 1:
        a = graph.node(
            "Mul",
            [
                graph.node("Reshape", [a, indices([1, -1, a_width(network)], "shape")]),
                graph.constant(v["member_scale"][:, None, :], "member_scale"),
            ],
        )
    last = len(network.layer_units) - 2
    for i in range(last + 1):
        z = graph.node("MatMul", [a, graph.constant(v[f"coef_{i}"], f"coefficient{i}")])
        z = graph.node("Mul", [z, graph.constant(network.weight_factors[i])])
        intercept = v[f"intercept_{i}"]
        intercept = intercept[:, None, :] if (i == last and k > 1) else intercept
        z = graph.node("Add", [z, graph.constant(intercept, f"intercept{i}")])
        if i == last:
            a = z
            break
        f = _ONNX_ACTIVATIONS[network.activation](graph, z)
        if network.parametric_activation:
            mix = graph.constant(v[f"mix_{i}"], f"mix{i}")
            f = graph.node(
                "Add", [z, graph.node("Mul", [mix, graph.node("Sub", [f, z])])]
            )
        a = f
    if network.output_activation == "softmax":
        a = graph.node("Softmax", a, axis=-1)
    elif network.output_activation != "identity":
        a = _ONNX_ACTIVATIONS[network.output_activation](graph, a)
    if k == 1:
        return a
    # The members' mean: (n, outputs, k) times a column of 1/k.
    stacked = graph.node("Transpose", a, perm=[1, 2, 0])
    mean = graph.node("MatMul", [stacked, graph.constant(np.full((k, 1), 1.0 / k))])
    return graph.node(
        "Reshape", [mean, indices([-1, network.layer_units[-1]], "shape")]
    )


def a_width(network):
    """Width of the first dense layer's input."""
    return network.layer_units[0]


def _convert_tabular_regressor(scope, operator, container):
    """Tabular regressor: the network's output on the targets' scale,
    (n_samples, n_outputs)."""
    estimator = operator.raw_operator
    graph, output = _tabular_network(scope, operator, container)
    scale = graph.constant(estimator.target_scale_[None], "target_scale")
    scaled = graph.node("Mul", [output, scale])
    mean = graph.constant(estimator.target_mean_[None], "target_mean")
    graph.node("Add", [scaled, mean], operator.outputs[0].full_name)


def _convert_tabular_classifier(scope, operator, container):
    """Tabular classifier: labels and probabilities (the softmax output)."""
    from skl2onnx.common.utils_classifier import get_label_classes

    estimator = operator.raw_operator
    classes = np.asarray(get_label_classes(scope, estimator))
    kind = _label_kind(estimator, classes)
    graph, output = _tabular_network(scope, operator, container)
    label_name, proba_name = (variable.full_name for variable in operator.outputs)
    graph.node("Identity", output, proba_name)
    _add_labels(graph, proba_name, label_name, classes, kind)
