"""Saving and loading sknumpynet's estimators: what a model file holds.

:func:`save` and :func:`load` store one of the classes of :data:`ESTIMATORS`
(inside a tabular estimator, only the :data:`NESTED` preprocessor) in the
format of :mod:`sknumpynet._codec`, and :func:`load` checks the fitted state
before it returns an estimator. The user guide compares this with pickle,
skops and ONNX (persistence.rst) and specifies the file (file_format.rst).
"""

import math

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from . import _codec, _model
from ._estimators import NumpyMLPClassifier, NumpyMLPRegressor
from ._optimizers import OPTIMIZERS, required_state_names
from ._parameters import n_parameters
from ._tabular import TabularMLPClassifier, TabularMLPRegressor
from ._tabular_preprocessing import (
    BOOLEAN,
    CATEGORICAL,
    DATETIME,
    NUMERIC,
    TIMEDELTA,
    TabularPreprocessor,
    datetime_feature_names,
)
from ._validation import is_int
from ._version import warn_if_other_version

_NETWORKS = (NumpyMLPClassifier, NumpyMLPRegressor)
_TABULAR = (TabularMLPClassifier, TabularMLPRegressor)

#: The only classes a model file holds, by name.
ESTIMATORS = {cls.__name__: cls for cls in (*_NETWORKS, *_TABULAR, TabularPreprocessor)}
#: The only classes a model file holds inside its estimator, by name: the
#: tabular estimators' ``preprocessor`` and ``preprocessor_``.
NESTED = {TabularPreprocessor.__name__: TabularPreprocessor}


def trusted_types():
    """Names of sknumpynet's types, to pass to ``skops.io.load(trusted=...)``.

    skops refuses to load objects of types it does not know unless they are
    listed as trusted. A pipeline holding sknumpynet estimators needs only
    these types beyond those skops trusts by default (scikit-learn's and
    NumPy's): the estimators keep their fitted state as arrays, numbers,
    strings, lists and dicts, and a scikit-learn ``LabelBinarizer``.

    Returns
    -------
    types : list of str
        The fully qualified names of :class:`~sknumpynet.NumpyMLPClassifier`
        and :class:`~sknumpynet.NumpyMLPRegressor`, as skops spells them.

    See Also
    --------
    save : A single estimator in a file that never runs code when loaded.

    Examples
    --------
    >>> from sknumpynet import trusted_types
    >>> for name in trusted_types():
    ...     print(name)
    sknumpynet._estimators.NumpyMLPClassifier
    sknumpynet._estimators.NumpyMLPRegressor

    With skops installed, a whole pipeline saves and loads without pickle:

    >>> import skops.io as sio  # doctest: +SKIP
    >>> sio.dump(pipe, "pipe.skops")  # doctest: +SKIP
    >>> pipe = sio.load("pipe.skops", trusted=trusted_types())  # doctest: +SKIP
    """
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in _NETWORKS]


def save(estimator, path):
    """Save a sknumpynet estimator to a file that never runs code when loaded.

    The file holds everything needed to predict and to continue training:
    the constructor parameters, the weights, the label encoding, and the
    optimizer's state (so that ``partial_fit`` after :func:`load` gives the
    same weights as if training had never stopped). An unfitted estimator
    saves its parameters only. The file is written to a temporary file
    first and then renamed, so an interrupted save never leaves a
    half-written file at ``path``.

    Parameters
    ----------
    estimator : estimator
        A :class:`NumpyMLPClassifier`, :class:`NumpyMLPRegressor`,
        :class:`TabularMLPClassifier`, :class:`TabularMLPRegressor` or
        :class:`TabularPreprocessor`, fitted or not (a subclass is refused:
        :func:`load` could not rebuild it). A tabular estimator is saved with its fitted
        ``preprocessor_``; its ``preprocessor`` must be None or a
        :class:`TabularPreprocessor`. To save a whole pipeline, use skops or
        joblib.
    path : str or path-like
        The file to write, replaced if it exists. No extension is added;
        ``.npz`` is a good choice, since the file is a NumPy ``.npz``
        archive.

    Returns
    -------
    path : str
        The path of the file written.

    Raises
    ------
    TypeError
        If the estimator is not one of sknumpynet's, holds a value that
        cannot be stored without pickle (the message names the attribute),
        or is a tabular estimator with another ``preprocessor`` than a
        :class:`TabularPreprocessor`.

    See Also
    --------
    load : Load the estimator back.
    trusted_types : Save whole pipelines with skops instead.

    Notes
    -----
    The format is a ZIP archive (a NumPy ``.npz``): one ``.npy`` member per
    array, read back with ``allow_pickle=False``, and a ``sknumpynet.json``
    member with the parameters, the fitted state (arrays referred to by
    name), a format version (currently 1) and a SHA-256 checksum of it all.
    Values are booleans, integers, floats (non-finite ones tagged), strings,
    lists, tuples and dicts of these, arrays of numbers or strings, NumPy
    scalar types (a ``dtype``), the classifier's ``LabelBinarizer``, a
    tabular estimator's ``TabularPreprocessor``, a ``RandomState``
    ``random_state`` and metadata-routing requests; any other value is
    refused rather than pickled. The user guide's page on the model file
    format specifies it field by field.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sknumpynet import NumpyMLPRegressor, load, save
    >>> X = np.linspace(0, 1, 20).reshape(-1, 1)
    >>> reg = NumpyMLPRegressor(hidden_layer_sizes=(3,), solver="sgd",
    ...                         random_state=0).partial_fit(X, X.ravel())
    >>> path = save(reg, os.path.join(tempfile.mkdtemp(), "reg.npz"))
    >>> sorted(np.load(path).files)[:2]  # a NumPy .npz archive
    ['a0000', 'a0001']
    >>> reg2 = load(path)
    >>> bool((reg2.predict(X) == reg.predict(X)).all())
    True

    Training goes on where it stopped, as if it had never been saved:

    >>> reg2 = reg2.partial_fit(X, X.ravel())
    >>> bool((reg2.coefs_[0] == reg.partial_fit(X, X.ravel()).coefs_[0]).all())
    True
    """
    _check_preprocessor(estimator)
    return _codec.write(estimator, path, ESTIMATORS, NESTED)


def _check_preprocessor(estimator):
    """Refuse a tabular estimator whose preprocessor the format cannot check.

    Another transformer (a Pipeline, a ColumnTransformer) may hold any
    object, and :func:`load` could check the fitted state of none of them.
    """
    if type(estimator) not in _TABULAR:
        return
    for name, what in (("preprocessor", "parameter"), ("preprocessor_", "attribute")):
        value = getattr(estimator, name, None)
        if value is not None and type(value) is not TabularPreprocessor:
            kind = type(value)
            raise TypeError(
                f"Cannot save {type(estimator).__name__}: its {what} {name} is "
                f"a {kind.__module__}.{kind.__qualname__}. sknumpynet.save stores "
                "the tabular estimators with preprocessor=None or a "
                "TabularPreprocessor only, whose fitted state load can check; "
                "use joblib or skops to save this estimator."
            )


def load(path):
    """Load an estimator saved with :func:`save`, running no code from the file.

    The file is checked completely (structure, format version, checksum,
    array headers, parameters and the consistency of the fitted state)
    before the estimator is built: a bad file raises
    :class:`ModelFileError` and nothing is half-loaded. A file written by
    another sknumpynet version loads with an
    :class:`InconsistentVersionWarning`.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    estimator : estimator
        The estimator as it was saved, of one of the classes :func:`save`
        stores, ready to predict (or transform) and,
        for the NumPy MLPs, to continue training.

    Raises
    ------
    ModelFileError
        If the file is not a complete, unmodified model file written by
        :func:`save` (truncated, corrupted, foreign, crafted, or in a newer
        format); the message says which.
    FileNotFoundError
        If there is no file at ``path``.
    IsADirectoryError
        If ``path`` is a directory.

    See Also
    --------
    save : Save an estimator.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sknumpynet import NumpyMLPClassifier, load, save
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(2,), solver="lbfgs",
    ...                          random_state=0).fit(X, [0, 0, 1, 1])
    >>> path = save(clf, os.path.join(tempfile.mkdtemp(), "clf.npz"))
    >>> load(path).predict(X)
    array([0, 0, 1, 1])
    """
    estimator, saved_version = _codec.read(
        path, ESTIMATORS, _validate_fitted_state, NESTED
    )
    warn_if_other_version(estimator, saved_version, stacklevel=3)
    return estimator


_CORE_STATE = ("coefs_", "intercepts_", "n_layers_", "n_outputs_", "out_activation_")


def _validate_fitted_state(fail, estimator, state):
    """Check that the fitted state is complete and consistent, or fail.

    The ``validate`` of :func:`sknumpynet._codec.read`: ``state`` is the
    fitted state just read into ``estimator`` (the file's object, or the
    preprocessor inside it), ``fail(problem)`` raises
    :class:`~sknumpynet.ModelFileError`.
    """
    if isinstance(estimator, TabularPreprocessor):
        _validate_preprocessor(fail, estimator, state)
    elif isinstance(estimator, _TABULAR):
        _validate_tabular(fail, estimator, state)
    else:
        _validate_network(fail, estimator, state)


def _is_unfitted(fail, state, configuration=()):
    """Whether the state is that of an unfitted estimator (or fail).

    An unfitted estimator holds its parameters only, and at most the
    private ``configuration`` that outlives fitting (``set_output``'s).
    """
    if any(name.endswith("_") for name in state):
        return False
    private = sorted(set(state) - set(configuration))
    if private:
        fail(f"it holds private state {private} but no fitted model.")
    return True


def _validate_network(fail, estimator, state):
    """The fitted state of a NumpyMLPClassifier or NumpyMLPRegressor."""
    if _is_unfitted(fail, state):
        return  # an unfitted estimator: its parameters only
    missing = [
        name
        for name in (*_CORE_STATE, "n_features_in_")
        if not hasattr(estimator, name)
    ]
    is_classifier = isinstance(estimator, NumpyMLPClassifier)
    if is_classifier:
        missing += [n for n in ("classes_", "_label_binarizer") if n not in state]
    if missing:
        fail(f"its fitted state lacks {missing}: it is incomplete.")

    _validate_weights(fail, estimator.coefs_, estimator.intercepts_)
    _validate_layers(fail, estimator)
    _validate_feature_scale(fail, estimator, state)
    _validate_bookkeeping(fail, estimator)
    out_activation = estimator.out_activation_
    if is_classifier:
        _validate_classes(fail, estimator, estimator.n_outputs_)
    expected = _model.output_activation(estimator)
    if out_activation != expected:
        fail(
            f"out_activation_ is {out_activation!r}, but this estimator's "
            f"parameters and targets call for {expected!r}."
        )
    _validate_flat_buffers(fail, estimator)


def _validate_weights(fail, coefs, intercepts):
    """Finite weights of one float dtype, in layers that chain."""
    if (
        not isinstance(coefs, list)
        or not isinstance(intercepts, list)
        or not coefs
        or len(coefs) != len(intercepts)
        or not all(isinstance(a, np.ndarray) for a in coefs + intercepts)
    ):
        fail("coefs_ and intercepts_ are not two lists of arrays of equal length.")
    dtype = coefs[0].dtype
    if dtype not in (np.float32, np.float64):
        fail(f"the weights have dtype {dtype}; only float32 and float64 are allowed.")
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        if coef.dtype != dtype or intercept.dtype != dtype:
            fail("the weights do not all have the same dtype.")
        if coef.ndim != 2 or intercept.shape != coef.shape[1:]:
            fail(
                f"coefs_[{i}] has shape {coef.shape} and intercepts_[{i}] "
                f"{intercept.shape}, which do not make a layer."
            )
        if i and coefs[i - 1].shape[1] != coef.shape[0]:
            fail(
                f"coefs_[{i - 1}] has shape {coefs[i - 1].shape} and coefs_[{i}] "
                f"{coef.shape}: the layers do not chain."
            )
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            fail(f"layer {i} has non-finite weights.")


def _validate_layers(fail, estimator):
    """The counts, parameters and feature names agree with the weights."""
    units = _model.layer_units(estimator)
    n_features, hidden, n_outputs = units[0], units[1:-1], units[-1]
    checks = {
        "n_features_in_": n_features,
        "n_outputs_": n_outputs,
        "n_layers_": len(units),
    }
    for name, value in checks.items():
        found = getattr(estimator, name)
        if not is_int(found) or found != value:
            fail(f"{name} is {found!r}, but the weights say {value}.")
    try:
        sizes = _model.hidden_layer_sizes(estimator)
        # Per-layer parameters must fit the network the weights describe.
        _model.hidden_activations(estimator, len(hidden))
        _model.dropout_rates(estimator, len(hidden))
        _model.learning_rate_factors(estimator)
    except ValueError as error:
        fail(f"its parameters do not fit its weights ({error}).")
    if hidden != sizes:
        fail(
            f"the weights have hidden layers of {hidden} units, but "
            f"hidden_layer_sizes is {estimator.hidden_layer_sizes!r}."
        )
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and (
        not isinstance(names, np.ndarray)
        or names.dtype != object
        or names.shape != (n_features,)
    ):
        fail("feature_names_in_ does not name each feature once.")


def _validate_feature_scale(fail, estimator, state):
    """``feature_scale_``: there exactly when ``feature_scale=True``, a finite
    value of the weights' dtype per input feature."""
    if "feature_scale_" not in state:
        if estimator.feature_scale:
            fail("feature_scale=True, but its fitted state lacks feature_scale_.")
        return
    if not estimator.feature_scale:
        fail("feature_scale=False, but its fitted state holds a feature_scale_.")
    coefs = estimator.coefs_
    _check_scale(fail, estimator.feature_scale_, coefs[0].dtype, coefs[0].shape[0])


def _check_scale(fail, scale, dtype, n_inputs):
    """A finite value of ``dtype`` per input of the network, or fail."""
    if not _is_array(scale, dtype, (n_inputs,)) or not np.isfinite(scale).all():
        fail(f"feature_scale_ is not a finite {dtype} value per input of the network.")


def _validate_flat_buffers(fail, estimator):
    """The best weights and the optimizer state fit the flat parameter buffer."""
    dtype = estimator.coefs_[0].dtype
    n_params = n_parameters(
        _model.layer_units(estimator), hasattr(estimator, "feature_scale_")
    )
    flat = [("_best_params", getattr(estimator, "_best_params", None))]
    optimizer_state = getattr(estimator, "_optimizer_state", None)
    if optimizer_state is not None:
        _validate_optimizer_state(fail, optimizer_state)
        flat += [
            (f"_optimizer_state[{key!r}]", value)
            for key, value in optimizer_state.items()
            if isinstance(value, np.ndarray)
        ]
    for name, value in flat:
        if value is None:
            continue
        if (
            not isinstance(value, np.ndarray)
            or value.dtype != dtype
            or value.shape != (n_params,)
        ):
            fail(
                f"{name} is not a {dtype} array of the network's {n_params} parameters."
            )


def _validate_optimizer_state(fail, optimizer_state):
    """A state of a known solver, with its entries, numbers and arrays."""
    if not isinstance(optimizer_state, dict) or not isinstance(
        optimizer_state.get("solver"), str
    ):
        fail("_optimizer_state is not a dict naming its solver.")
    solver = optimizer_state["solver"]
    if solver not in OPTIMIZERS:
        fail(
            f"_optimizer_state is the state of an unknown solver {solver!r}; "
            f"sknumpynet's optimizers are {sorted(OPTIMIZERS)}."
        )
    required = required_state_names(solver)
    if not required <= set(optimizer_state):
        fail(
            f"the {solver} optimizer state lacks "
            f"{sorted(required - set(optimizer_state))}."
        )
    for key, value in optimizer_state.items():
        if (
            key != "solver"
            and not isinstance(value, np.ndarray)
            and not _is_real(value)
        ):
            fail(f"_optimizer_state[{key!r}] is not a number or an array.")
    if not _is_real(optimizer_state.get("learning_rate", 0.0)) or not (
        0 <= optimizer_state.get("learning_rate", 0.0) < math.inf
    ):
        fail("the optimizer's learning rate is not a non-negative number.")
    if "t" in optimizer_state and (
        not is_int(optimizer_state["t"]) or optimizer_state["t"] < 0
    ):
        fail("the optimizer's step count t is not a non-negative integer.")


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _validate_bookkeeping(fail, estimator):
    """The counters and curves that training updates are numbers."""
    for name in ("n_iter_", "t_", "_no_improvement_count", "best_epoch_"):
        value = getattr(estimator, name, 0)
        if not is_int(value) or value < 0:
            fail(f"{name} is {value!r}, not a non-negative integer.")
    for name in ("loss_", "best_loss_", "best_validation_score_"):
        value = getattr(estimator, name, None)
        if value is not None and not _is_real(value):
            fail(f"{name} is {value!r}, not a number.")
    for name in ("loss_curve_", "validation_scores_"):
        value = getattr(estimator, name, None)
        if value is not None and (
            not isinstance(value, list) or not all(map(_is_real, value))
        ):
            fail(f"{name} is not a list of numbers.")


def _validate_classes(fail, estimator, n_outputs):
    binarizer, classes = estimator._label_binarizer, estimator.classes_
    if not isinstance(binarizer, LabelBinarizer):
        fail("_label_binarizer is not a LabelBinarizer.")
    if (
        not isinstance(classes, np.ndarray)
        or classes.ndim != 1
        or classes.dtype != binarizer.classes_.dtype
        or not np.array_equal(classes, binarizer.classes_)
    ):
        fail("classes_ does not match the label encoding.")
    n_classes = len(classes)
    expected = 1 if binarizer.y_type_ == "binary" else n_classes
    if n_outputs != expected or (binarizer.y_type_ == "binary" and n_classes > 2):
        fail(
            f"the network has {n_outputs} outputs for {n_classes} "
            f"{binarizer.y_type_} classes."
        )


# ---------------------------------------------------------------------------
# The tabular preprocessor and estimators
# ---------------------------------------------------------------------------

_PREPROCESSOR_STATE = (
    "n_features_in_",
    "feature_kinds_",
    "categories_",
    "missing_indicator_mask_",
    "scaled_mask_",
    "center_",
    "factor_",
)
# set_output(transform=...): a setting that outlives fitting.
_OUTPUT_CONFIG = "_sklearn_output_config"
_OUTPUT_CONTAINERS = ("default", "pandas", "polars")


def _is_array(value, dtype, shape):
    return (
        isinstance(value, np.ndarray) and value.dtype == dtype and value.shape == shape
    )


def _validate_output_config(fail, estimator):
    config = getattr(estimator, _OUTPUT_CONFIG, None)
    if config is not None and (
        not isinstance(config, dict)
        or not set(config) <= {"transform"}
        or not all(value in _OUTPUT_CONTAINERS for value in config.values())
    ):
        fail(
            f"{_OUTPUT_CONFIG} is {config!r}, not a set_output setting "
            f"(transform: one of {list(_OUTPUT_CONTAINERS)})."
        )


def _validate_feature_names(fail, names, n_features, owner):
    if names is not None and not (
        _is_array(names, object, (n_features,))
        and all(isinstance(name, str) for name in names)
    ):
        fail(f"the feature_names_in_ of {owner} do not name each column once.")


def _validate_preprocessor(fail, prep, state):
    """A TabularPreprocessor: columns, categories and scaling that agree."""
    _validate_output_config(fail, prep)
    if _is_unfitted(fail, state, configuration=(_OUTPUT_CONFIG,)):
        return
    missing = [name for name in _PREPROCESSOR_STATE if name not in state]
    if missing:
        fail(f"the TabularPreprocessor's fitted state lacks {missing}.")
    n_features = prep.n_features_in_
    if not is_int(n_features) or n_features < 1:
        fail(f"the TabularPreprocessor's n_features_in_ is {n_features!r}.")
    _validate_feature_names(
        fail, getattr(prep, "feature_names_in_", None), n_features, "the preprocessor"
    )
    kinds, categories = prep.feature_kinds_, prep.categories_
    indicators = prep.missing_indicator_mask_
    known_kinds = [NUMERIC, BOOLEAN, CATEGORICAL, DATETIME, TIMEDELTA]
    if not (
        _is_array(kinds, object, (n_features,))
        and all(kind in known_kinds for kind in kinds)
    ):
        fail(f"feature_kinds_ does not give each column one of {known_kinds}.")
    if not isinstance(categories, list) or len(categories) != n_features:
        fail("categories_ is not a list with one entry per column.")
    if not _is_array(indicators, bool, (n_features,)):
        fail("missing_indicator_mask_ is not one boolean per column.")
    # Absent from the files of versions without datetime columns and codes.
    features = getattr(prep, "datetime_features_", [None] * n_features)
    if not isinstance(features, list) or len(features) != n_features:
        fail("datetime_features_ is not a list with one entry per column.")
    for j, (kind, cats, names) in enumerate(zip(kinds, categories, features)):
        if kind not in (DATETIME, TIMEDELTA):
            if names is not None:
                fail(f"datetime_features_[{j}] is not None, but column {j} is {kind}.")
            continue
        if cats is not None:
            fail(f"categories_[{j}] is not None, but column {j} is {kind}.")
        valid = [
            datetime_feature_names(kind, periodic, hour)
            for periodic in (False, True)
            for hour in (False, True)
        ]
        if not (
            isinstance(names, np.ndarray)
            and names.dtype == object
            and names.tolist() in valid
        ):
            fail(f"datetime_features_[{j}] are not the features of a {kind} column.")
    code_columns = getattr(prep, "code_columns_", np.zeros(0, dtype=np.intp))
    n_codes = getattr(prep, "n_codes_", np.zeros(0, dtype=np.intp))
    if not (
        isinstance(code_columns, np.ndarray)
        and code_columns.dtype == np.intp
        and code_columns.ndim == 1
        and (np.diff(code_columns) > 0).all()
    ):
        fail("code_columns_ is not an array of increasing output positions.")
    if not _is_array(n_codes, np.intp, code_columns.shape):
        fail("n_codes_ is not one number of codes per code column.")
    width = 0
    coded = []
    for j, (kind, cats, indicator) in enumerate(zip(kinds, categories, indicators)):
        if kind in (NUMERIC, DATETIME, TIMEDELTA):
            if kind == NUMERIC and cats is not None:
                fail(f"categories_[{j}] is not None, but column {j} is numeric.")
            width += (1 if kind == NUMERIC else len(features[j])) + bool(indicator)
            continue
        # Decoded string arrays are object arrays of str (see _codec).
        if not (
            isinstance(cats, np.ndarray)
            and cats.dtype == object
            and cats.ndim == 1
            and len(set(cats.tolist())) == len(cats)
        ):
            fail(f"categories_[{j}] is not an array of distinct strings.")
        if kind == BOOLEAN and cats.tolist() not in (
            [],
            ["True"],
            ["False"],
            ["True", "False"],
        ):
            fail(f"categories_[{j}] are not the categories of a boolean column.")
        if indicator:
            fail(f"column {j} is {kind} but has a missing-value indicator.")
        if len(cats) and width in set(code_columns.tolist()):
            coded.append((width, len(cats) + 1))
            width += 1
        else:
            width += 1 if len(cats) == 2 else len(cats)
    if [position for position, _ in coded] != code_columns.tolist() or [
        n for _, n in coded
    ] != n_codes.tolist():
        fail(
            "code_columns_ and n_codes_ are not the first output columns of "
            "categorical columns and their numbers of categories plus one."
        )
    if not _is_array(prep.scaled_mask_, bool, (width,)):
        fail(f"scaled_mask_ is not one boolean per output column ({width}).")
    numeric = getattr(prep, "numeric_columns_", None)
    if numeric is not None and not _is_array(numeric, bool, (width,)):
        fail(f"numeric_columns_ is not one boolean per output column ({width}).")
    for name in ("center_", "factor_"):
        value = getattr(prep, name)
        if not _is_array(value, np.float64, (width,)) or not np.isfinite(value).all():
            fail(f"{name} is not a finite float64 value per output column ({width}).")
    if (prep.factor_ < 0).any():
        fail("factor_ holds negative scaling factors.")


def _validate_tabular(fail, estimator, state):
    """A TabularMLPClassifier or TabularMLPRegressor, preprocessor included."""
    for name in ("preprocessor", "preprocessor_"):
        value = getattr(estimator, name, None)
        if value is not None and type(value) is not TabularPreprocessor:
            fail(f"its {name} is a {type(value).__name__}, not a TabularPreprocessor.")
    if _is_unfitted(fail, state):
        return
    is_classifier = isinstance(estimator, TabularMLPClassifier)
    recipe = getattr(estimator, "recipe", "td-s")
    if recipe not in ("td", "td-s"):
        fail(f"its recipe is {recipe!r}, not 'td' or 'td-s'.")
    required = ["coefs_", "intercepts_", "feature_scale_", "n_outputs_"]
    required += ["_parameter_buffer", "_n_network_inputs"] if recipe == "td" else []
    required += ["n_features_in_", "preprocessor_"]
    required += ["classes_"] if is_classifier else ["target_mean_", "target_scale_"]
    required += [] if is_classifier else ["_y_ndim"]
    missing = [name for name in required if name not in state]
    if missing:
        fail(f"its fitted state lacks {missing}: it is incomplete.")

    prep = estimator.preprocessor_
    if not hasattr(prep, "center_"):
        fail("its preprocessor_ is not fitted.")
    n_features = estimator.n_features_in_
    if not is_int(n_features) or n_features != prep.n_features_in_:
        fail(
            f"n_features_in_ is {n_features!r}, but its preprocessor has "
            f"{prep.n_features_in_} input columns."
        )
    names = getattr(estimator, "feature_names_in_", None)
    _validate_feature_names(fail, names, n_features, "the estimator")
    prep_names = getattr(prep, "feature_names_in_", None)
    if (names is None) != (prep_names is None) or (
        names is not None and names.tolist() != prep_names.tolist()
    ):
        fail("feature_names_in_ are not the columns of its preprocessor.")

    if recipe == "td":
        _validate_td_network(fail, estimator, prep)
        n_outputs = estimator.n_outputs_
        if is_classifier:
            _validate_tabular_classes(fail, estimator.classes_, n_outputs)
        else:
            _validate_targets(fail, estimator, n_outputs)
        _validate_bookkeeping(fail, estimator)
        return

    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    _validate_weights(fail, coefs, intercepts)
    dtype = np.dtype(estimator.dtype)
    if coefs[0].dtype != dtype:
        fail(f"the weights have dtype {coefs[0].dtype}, but dtype is {dtype}.")
    units = _model.layer_units(estimator)
    if units[0] != prep.center_.shape[0]:
        fail(
            f"the first layer takes {units[0]} inputs, but the preprocessor "
            f"gives {prep.center_.shape[0]} columns."
        )
    _check_scale(fail, estimator.feature_scale_, dtype, units[0])
    try:
        sizes = _model.hidden_layer_sizes(estimator)
    except ValueError as error:
        fail(f"its parameters do not fit its weights ({error}).")
    if units[1:-1] != sizes:
        fail(
            f"the weights have hidden layers of {units[1:-1]} units, but "
            f"hidden_layer_sizes is {estimator.hidden_layer_sizes!r} "
            f"({sizes} units)."
        )
    n_outputs = estimator.n_outputs_
    if not is_int(n_outputs) or n_outputs != units[-1]:
        fail(f"n_outputs_ is {n_outputs!r}, but the weights say {units[-1]}.")
    if is_classifier:
        _validate_tabular_classes(fail, estimator.classes_, n_outputs)
    else:
        _validate_targets(fail, estimator, n_outputs)
    _validate_bookkeeping(fail, estimator)


#: The fitted attributes of a recipe="td" network, as names of its
#: parameter views (one name: an array; a tuple: a list or a dict of them).
_TD_VIEWS = {
    "feature_scale_": "scale",
    "category_embedding_": "table",
    "member_scale_": "member_scale",
}


def _validate_td_network(fail, estimator, prep):
    """A recipe="td" network: one finite buffer of the size its parameters
    and preprocessor call for, whose views every fitted weight attribute is;
    they become views of it again."""
    dtype = np.dtype(estimator.dtype)
    buffer = estimator._parameter_buffer
    if not (isinstance(buffer, np.ndarray) and buffer.ndim == 1):
        fail("_parameter_buffer is not a 1-D array.")
    if buffer.dtype != dtype:
        fail(f"the weights have dtype {buffer.dtype}, but dtype is {dtype}.")
    if not np.isfinite(buffer).all():
        fail("_parameter_buffer holds non-finite weights.")
    n_inputs, n_outputs = estimator._n_network_inputs, estimator.n_outputs_
    if not is_int(n_inputs) or n_inputs != prep.center_.shape[0]:
        fail(
            f"the network takes {n_inputs!r} inputs, but the preprocessor gives "
            f"{prep.center_.shape[0]} columns."
        )
    if not is_int(n_outputs) or n_outputs < 1:
        fail(f"n_outputs_ is {n_outputs!r}, not a positive integer.")
    try:
        network = _model.build_tabular_network(estimator, n_inputs, n_outputs, dtype)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        fail(f"its parameters do not describe a network ({error}).")
    if network.params.size != buffer.size:
        fail(
            f"_parameter_buffer holds {buffer.size} weights; its parameters "
            f"describe a network of {network.params.size} (hidden layers of "
            f"{network.layer_units[1:-1]} units, {network.n_members} "
            "member(s))."
        )
    views = network.parameter_views(buffer)
    n_layers = len(network.layer_units) - 1
    expected = {
        "coefs_": [views[f"coef_{i}"] for i in range(n_layers)],
        "intercepts_": [views[f"intercept_{i}"] for i in range(n_layers)],
    }
    mixes = [views[name] for name in views if name.startswith("mix_")]
    if mixes:
        expected["activation_mix_"] = mixes
    embedding = {
        name: views[name]
        for name in ("frequencies", "phases", "embedding_coefs", "embedding_intercepts")
        if name in views
    }
    if embedding:
        expected["numeric_embedding_"] = embedding
    for name, view in _TD_VIEWS.items():
        if view in views:
            expected[name] = views[view]
    for name in ("activation_mix_", "numeric_embedding_", *_TD_VIEWS):
        if hasattr(estimator, name) and name not in expected:
            fail(f"its fitted state holds {name}, which its network has not.")
    for name, value in expected.items():
        if not _same_arrays(getattr(estimator, name, None), value):
            fail(f"{name} is not the weights _parameter_buffer holds for it.")
    estimator._set_td_views(network, buffer)


def _same_arrays(saved, expected):
    """Whether ``saved`` has the structure of ``expected`` (an array, a list
    or a dict of arrays) with bitwise the same arrays."""
    if isinstance(expected, dict):
        return (
            isinstance(saved, dict)
            and sorted(saved) == sorted(expected)
            and all(_same_arrays(saved[key], expected[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(saved, list)
            and len(saved) == len(expected)
            and all(_same_arrays(a, b) for a, b in zip(saved, expected))
        )
    return _is_array(saved, expected.dtype, expected.shape) and np.array_equal(
        saved, expected
    )


def _validate_tabular_classes(fail, classes, n_outputs):
    """Sorted distinct labels (as LabelEncoder gives), one per output."""
    if (
        not isinstance(classes, np.ndarray)
        or classes.ndim != 1
        or classes.dtype.kind not in "biufUO"
        or (classes.dtype.kind == "f" and not np.isfinite(classes).all())
    ):
        fail("classes_ is not a 1-D array of finite numbers or strings.")
    if len(classes) < 2 or not np.array_equal(np.unique(classes), classes):
        fail("classes_ are not two or more distinct labels in sorted order.")
    if len(classes) != n_outputs:
        fail(f"the network has {n_outputs} outputs for {len(classes)} classes.")


def _validate_targets(fail, estimator, n_outputs):
    """Finite target means and positive scales, one per output."""
    for name in ("target_mean_", "target_scale_"):
        value = getattr(estimator, name)
        if (
            not _is_array(value, np.float64, (n_outputs,))
            or not np.isfinite(value).all()
        ):
            fail(f"{name} is not a finite float64 value per output ({n_outputs}).")
    if not (estimator.target_scale_ > 0).all():
        fail("target_scale_ holds scales that are not positive.")
    y_ndim = estimator._y_ndim
    if not is_int(y_ndim) or y_ndim not in (1, 2) or (y_ndim == 1 and n_outputs != 1):
        fail(f"_y_ndim is {y_ndim!r}, which does not fit {n_outputs} output(s).")
