"""ONNX export: skl2onnx converters for NumpyMLPClassifier and NumpyMLPRegressor.

After :func:`register_onnx_converters`, ``skl2onnx.to_onnx`` converts
sknumpynet estimators, alone or inside pipelines, like scikit-learn's own
MLPs. The graph is the network written out: for each layer a ``MatMul`` and
an ``Add``, then the layer's activation (``Sigmoid``, ``Tanh``, ``Relu``,
``Identity``; on the output layer also ``Softmax`` and ``Exp``). Every
network sknumpynet fits converts, including those that scikit-learn cannot
represent (a logistic output layer, several outputs).

Classifiers have the outputs of skl2onnx's classifiers: ``label`` (int64
or string labels; an (n_samples, n_classes) int64 indicator matrix for
multilabel targets) and ``probabilities``, which skl2onnx turns into a list
of dictionaries (ZipMap) unless ``options={"zipmap": False}`` is given; the
options ``zipmap="columns"``, ``nocl`` and ``output_class_labels`` work as
for scikit-learn's classifiers. Regressors have one output, ``variable``, of
shape (n_samples, n_outputs).

skl2onnx, onnx and onnxruntime are optional: ``pip install sknumpynet[onnx]``.
This module imports skl2onnx only when :func:`register_onnx_converters` is
called.
"""

import numpy as np

_ONNX_ACTIVATIONS = {
    "identity": "Identity",
    "logistic": "Sigmoid",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "softmax": "Softmax",
    "exp": "Exp",
}

#: The aliases under which the converters are registered with skl2onnx.
CLASSIFIER_ALIAS = "SknumpynetNumpyMLPClassifier"
REGRESSOR_ALIAS = "SknumpynetNumpyMLPRegressor"


def register_onnx_converters():
    """Teach skl2onnx to convert NumpyMLPClassifier and NumpyMLPRegressor.

    Registers a shape calculator and a converter for each estimator with
    ``skl2onnx.update_registered_converter``, so that ``skl2onnx.to_onnx``
    converts them alone or inside pipelines. Calling it again is harmless.

    Returns
    -------
    aliases : dict
        The skl2onnx alias registered for each estimator class name.

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
    1e-6; with a ``DoubleTensorType`` input, to about 1e-15.

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
    from ._estimators import NumpyMLPClassifier, NumpyMLPRegressor

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
    return {
        "NumpyMLPClassifier": CLASSIFIER_ALIAS,
        "NumpyMLPRegressor": REGRESSOR_ALIAS,
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
    if estimator._label_binarizer.y_type_.startswith("multilabel"):
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


# ---------------------------------------------------------------------------
# Converters
# ---------------------------------------------------------------------------


def _forward(scope, operator, container):
    """Add the network's layers to the graph; return the output's name."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    estimator = operator.raw_operator
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        proto_dtype, dtype = TensorProto.DOUBLE, np.float64
    else:
        proto_dtype, dtype = TensorProto.FLOAT, np.float32

    activation = scope.get_unique_variable_name("input")
    container.add_node(
        "Cast",
        operator.inputs[0].full_name,
        activation,
        to=proto_dtype,
        name=scope.get_unique_operator_name("Cast"),
    )
    last = len(estimator.coefs_) - 1
    for i, (coef, intercept) in enumerate(zip(estimator.coefs_, estimator.intercepts_)):
        coef_name = scope.get_unique_variable_name(f"coefficient{i}")
        intercept_name = scope.get_unique_variable_name(f"intercept{i}")
        container.add_initializer(
            coef_name, proto_dtype, list(coef.shape), coef.astype(dtype).ravel()
        )
        container.add_initializer(
            intercept_name,
            proto_dtype,
            [1, intercept.shape[0]],
            intercept.astype(dtype).ravel(),
        )
        product = scope.get_unique_variable_name(f"matmul{i}")
        container.add_node(
            "MatMul",
            [activation, coef_name],
            product,
            name=scope.get_unique_operator_name("MatMul"),
        )
        layer = scope.get_unique_variable_name(f"layer{i}")
        container.add_node(
            "Add",
            [product, intercept_name],
            layer,
            name=scope.get_unique_operator_name("Add"),
        )
        function = estimator.out_activation_ if i == last else estimator.activation
        op_type = _ONNX_ACTIVATIONS.get(function)
        if op_type is None:
            raise ValueError(
                f"The activation {function!r} has no ONNX counterpart in this "
                "converter."
            )
        activation = scope.get_unique_variable_name(f"activation{i}")
        attributes = {"axis": 1} if op_type == "Softmax" else {}
        container.add_node(
            op_type,
            layer,
            activation,
            name=scope.get_unique_operator_name(op_type),
            **attributes,
        )
    return activation, proto_dtype


def _convert_regressor(scope, operator, container):
    """Regressor: the network's output, shape (n_samples, n_outputs)."""
    output, _ = _forward(scope, operator, container)
    container.add_node(
        "Identity",
        output,
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("Identity"),
    )


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
    output, proto_dtype = _forward(scope, operator, container)
    label_name, proba_name = (variable.full_name for variable in operator.outputs)

    if estimator.n_outputs_ == 1:
        # Binary: the network gives P(second class); stack [1 - p, p].
        one = scope.get_unique_variable_name("one")
        container.add_initializer(one, proto_dtype, [], [1.0])
        negative = scope.get_unique_variable_name("negative_proba")
        container.add_node(
            "Sub", [one, output], negative, name=scope.get_unique_operator_name("Sub")
        )
        container.add_node(
            "Concat",
            [negative, output],
            proba_name,
            axis=1,
            name=scope.get_unique_operator_name("Concat"),
        )
    else:
        container.add_node(
            "Identity",
            output,
            proba_name,
            name=scope.get_unique_operator_name("Identity"),
        )

    if kind == "multilabel":
        # A label is on when its probability exceeds 0.5 (LabelBinarizer's
        # threshold), as in predict.
        half = scope.get_unique_variable_name("half")
        container.add_initializer(half, proto_dtype, [], [0.5])
        on = scope.get_unique_variable_name("on")
        container.add_node(
            "Greater",
            [proba_name, half],
            on,
            name=scope.get_unique_operator_name("Greater"),
        )
        container.add_node(
            "Cast",
            on,
            label_name,
            to=TensorProto.INT64,
            name=scope.get_unique_operator_name("Cast"),
        )
        return

    # The label of the most probable class: ArgMax, then a table lookup.
    if kind == "int64":
        class_type, values = TensorProto.INT64, classes.astype(np.int64)
    else:
        class_type = TensorProto.STRING
        values = np.array([label.encode("utf-8") for label in classes])
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(classes_name, class_type, [len(values)], values)
    index = scope.get_unique_variable_name("argmax")
    container.add_node(
        "ArgMax",
        proba_name,
        index,
        axis=1,
        name=scope.get_unique_operator_name("ArgMax"),
    )
    looked_up = scope.get_unique_variable_name("labels")
    container.add_node(
        "ArrayFeatureExtractor",
        [classes_name, index],
        looked_up,
        op_domain="ai.onnx.ml",
        name=scope.get_unique_operator_name("ArrayFeatureExtractor"),
    )
    shape = scope.get_unique_variable_name("shape")
    container.add_initializer(shape, TensorProto.INT64, [1], [-1])
    container.add_node(
        "Reshape",
        [looked_up, shape],
        label_name,
        name=scope.get_unique_operator_name("Reshape"),
    )
