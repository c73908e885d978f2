"""Saving and loading: version stamps, and a file format that runs no code.

There are four ways to keep a fitted estimator, one per need:

* ``pickle`` / ``joblib``: the most convenient. The pickled state records the
  sknumpynet version, and unpickling under another version warns with
  :class:`InconsistentVersionWarning`. Loading a pickle can run arbitrary
  code: only load pickles you trust.
* :func:`save` / :func:`load`: a file that never runs code when loaded, for
  models that come from places you do not control. It holds everything
  needed to predict and to continue training with ``partial_fit`` or
  ``warm_start``; a damaged, foreign or crafted file gets a
  :class:`ModelFileError` that says what is wrong.
* skops (``skops.io.dump`` / ``skops.io.load(..., trusted=trusted_types())``):
  whole pipelines, without pickle; :func:`trusted_types` lists the
  sknumpynet types to trust.
* ONNX (see :func:`sknumpynet.register_onnx_converters`): to predict in
  other runtimes and languages.

The file format of :func:`save`
-------------------------------
A model file is a ZIP archive, so also a NumPy ``.npz`` archive:
``numpy.load(path)`` opens it for inspection. Its members are stored
uncompressed, with fixed timestamps (the same model always gives the same
bytes):

``sknumpynet.json``
    UTF-8 JSON (ASCII only), an object with exactly four keys:

    ``"format"``
        Always ``"sknumpynet-model"``.
    ``"format_version"``
        The integer version of this layout, currently ``1``. A file in a
        newer format is refused with a message asking to upgrade sknumpynet.
    ``"sha256"``
        The SHA-256 checksum (64 hexadecimal digits) described below.
    ``"content"``
        An object with the keys ``"estimator"`` (the class name,
        ``"NumpyMLPClassifier"`` or ``"NumpyMLPRegressor"``),
        ``"sknumpynet_version"``, ``"sklearn_version"`` and
        ``"numpy_version"`` (of the writer), ``"params"`` (constructor
        parameter name -> value), ``"state"`` (fitted attribute name ->
        value, every attribute of the estimator that ends or starts with an
        underscore: ``coefs_``, ``classes_``, ``_optimizer_state``, ...) and
        ``"arrays"`` (array name -> ``{"dtype": numpy dtype string, "shape":
        list of int}``).

``a0000.npy``, ``a0001.npy``, ...
    One NumPy ``.npy`` file per array, in the dtype and shape the manifest
    ``content["arrays"]`` gives. Only booleans, integers, floating-point
    numbers and fixed-width strings: never an object array, so never a
    pickle. They are read with ``allow_pickle=False``.

Values in ``"params"`` and ``"state"`` are JSON values: ``null``, booleans,
integers, finite floats, strings and lists stand for themselves; every JSON
object is a tagged value whose ``"type"`` key says what it holds:

* ``{"type": "array", "ref": "a0003"}``: the array of member ``a0003.npy``
  (with ``"object": true``, a NumPy array of Python strings, stored as a
  fixed-width string array: ``feature_names_in_`` and string ``classes_``);
* ``{"type": "float", "value": "inf" | "-inf" | "nan"}``: a non-finite float;
* ``{"type": "scalar", "dtype": "float64", "value": ...}``: a NumPy scalar;
* ``{"type": "tuple", "items": [...]}`` and ``{"type": "dict", "items":
  {...}}`` (string keys): tuples and dictionaries;
* ``{"type": "LabelBinarizer", "params": {...}, "state": {...}}``: the
  classifier's fitted :class:`~sklearn.preprocessing.LabelBinarizer`;
* ``{"type": "RandomState", "key": array, "pos": int, "has_gauss": int,
  "cached_gaussian": float}``: a ``random_state`` given as a
  :class:`numpy.random.RandomState`;
* ``{"type": "MetadataRequest", "requests": {method: {param: value}}}``:
  the metadata routing requests set with ``set_fit_request`` and the like.

The checksum is the SHA-256 of, in order: the bytes ``sknumpynet-model\\n``;
the canonical form of ``content`` (``json.dumps`` with sorted keys, the
separators ``","`` and ``":"``, ASCII only) preceded by its length; and for
each ``.npy`` member in sorted name order, its name and its bytes, each
preceded by its length. Lengths are 8-byte little-endian unsigned integers.
It detects damage (a truncated download, flipped bits); it does not
authenticate the author, whom a file cannot prove.

:func:`load` checks, before it builds anything: that the file is a ZIP
archive with exactly the expected members, the format name and version, the
checksum, each array's header against the manifest (no object arrays), the
parameters against the estimator's own (and their validity), and the fitted
state's consistency (weight shapes chain from ``n_features_in_`` through
``hidden_layer_sizes`` to ``n_outputs_``, one float dtype, finite weights,
optimizer state of the right size, classes matching the label encoding).
Only sknumpynet's two estimator classes and scikit-learn's ``LabelBinarizer``
are ever instantiated.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from sknumpynet import NumpyMLPClassifier, load, save
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
>>> y = np.array(["no", "yes", "yes", "no"] * 5)
>>> clf = NumpyMLPClassifier(hidden_layer_sizes=(4,), max_iter=5,
...                          random_state=0).partial_fit(X, y, classes=["no", "yes"])
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> _ = save(clf, path)
>>> sorted(np.load(path).files)[:2]
['a0000', 'a0001']
>>> clf2 = load(path)
>>> bool((clf2.predict_proba(X) == clf.predict_proba(X)).all())
True
>>> bool((clf2.partial_fit(X, y).coefs_[0] == clf.partial_fit(X, y).coefs_[0]).all())
True
"""

import errno
import hashlib
import io
import json
import math
import os
import re
import secrets
import tokenize
import warnings
import zipfile

import numpy as np
import sklearn
from sklearn import config_context
from sklearn.preprocessing import LabelBinarizer

from . import _model, _version
from ._version import warn_if_other_version

FORMAT_NAME = "sknumpynet-model"
FORMAT_VERSION = 1

_METADATA_MEMBER = "sknumpynet.json"
_ARRAY_NAME = re.compile(r"a[0-9]{4,8}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The NumPy dtypes a file may hold: booleans, integers, floats, strings.
# Never objects (pickles), structured or datetime arrays.
_ARRAY_KINDS = "biufUS"
_SCALAR_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"]
    + ["uint64", "float16", "float32", "float64"]
)
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_MAX_JSON_BYTES = 256 * 2**20
_MAX_NPY_HEADER = 65536 + 16
_MAX_DEPTH = 32
_LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")


def _estimator_classes():
    """The only classes :func:`load` instantiates, by name."""
    from ._estimators import NumpyMLPClassifier, NumpyMLPRegressor

    return {
        "NumpyMLPClassifier": NumpyMLPClassifier,
        "NumpyMLPRegressor": NumpyMLPRegressor,
    }


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
    return [
        f"{cls.__module__}.{cls.__qualname__}" for cls in _estimator_classes().values()
    ]


# ---------------------------------------------------------------------------
# Warnings and errors
# ---------------------------------------------------------------------------


class ModelFileError(ValueError):
    """A file that :func:`load` cannot read as a sknumpynet model.

    Raised for a truncated or corrupted file, a file that is not a model
    written by :func:`save` (a plain ``.npz``, a pickle, any other file), a
    file in a newer format, a checksum mismatch, and a crafted file (an
    object array, an unexpected member, inconsistent weights). Nothing is
    half-loaded: the error is raised before any estimator is returned. It
    is a :class:`ValueError`.

    Parameters
    ----------
    message : str
        What is wrong with the file, and what to do about it.
    path : str, default=None
        The file.

    Attributes
    ----------
    path : str or None
        The file that could not be loaded.

    See Also
    --------
    load : Load an estimator saved with :func:`save`.

    Examples
    --------
    >>> import os, tempfile
    >>> from sknumpynet import ModelFileError, load
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("not a model")
    >>> try:
    ...     load(path)
    ... except ModelFileError as error:
    ...     print(str(error).split(": ", 1)[1])  # doctest: +NORMALIZE_WHITESPACE
    this is not a model file written by sknumpynet.save: it is not a ZIP (.npz)
    archive, or it is truncated (an interrupted download or copy?).
    """

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


def _fail(path, problem):
    raise ModelFileError(f"Cannot load {str(path)!r}: {problem}", path)


# ---------------------------------------------------------------------------
# Encoding values into JSON and arrays
# ---------------------------------------------------------------------------


def _is_state_name(name):
    """Fitted attributes end in "_", private state starts with "_"."""
    return (
        isinstance(name, str)
        and _IDENTIFIER.fullmatch(name) is not None
        and (name.endswith("_") or name.startswith("_"))
        and not name.startswith("__")
    )


class _Encoder:
    """Turn an estimator's values into JSON values and a set of arrays."""

    def __init__(self, owner):
        self.owner = owner
        self.arrays = {}

    def _refuse(self, where, value, why=""):
        raise TypeError(
            f"Cannot save {self.owner}: {where} holds {type(value).__name__} "
            f"{_short_repr(value)}{why}. sknumpynet.save stores arrays of "
            "numbers or strings, numbers, strings, None, and lists, tuples "
            "and dicts of these; it never pickles. Set the value to one of "
            "those types, or use joblib or skops to save this estimator."
        )

    def array(self, value, where):
        if type(value) is not np.ndarray:
            self._refuse(where, value, " (an ndarray subclass)")
        node = {"type": "array"}
        if value.dtype.kind == "O":
            if not all(isinstance(item, str) for item in value.flat):
                self._refuse(where, value, " (an object array not all strings)")
            value = value.astype(str) if value.size else value.astype("<U1")
            node["object"] = True
        if value.dtype.kind not in _ARRAY_KINDS or value.dtype.fields is not None:
            self._refuse(where, value, f" (an array of dtype {value.dtype})")
        name = f"a{len(self.arrays):04d}"
        self.arrays[name] = value
        node["ref"] = name
        return node

    def encode(self, value, where, depth=0):
        if depth > _MAX_DEPTH:
            self._refuse(where, value, " (nested too deeply)")
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, np.ndarray):
            return self.array(value, where)
        if isinstance(value, np.generic):
            if value.dtype.name not in _SCALAR_DTYPES:
                if isinstance(value, np.str_):
                    return str(value)
                self._refuse(where, value)
            return {
                "type": "scalar",
                "dtype": value.dtype.name,
                "value": self.encode(value.item(), where, depth + 1),
            }
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            return {"type": "float", "value": repr(float(value))}
        if isinstance(value, str):
            return str(value)
        if isinstance(value, list):
            return [
                self.encode(item, f"{where}[{i}]", depth + 1)
                for i, item in enumerate(value)
            ]
        if isinstance(value, tuple):
            return {
                "type": "tuple",
                "items": [
                    self.encode(item, f"{where}[{i}]", depth + 1)
                    for i, item in enumerate(value)
                ],
            }
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                self._refuse(where, value, " (a dict with non-string keys)")
            return {
                "type": "dict",
                "items": {
                    key: self.encode(item, f"{where}[{key!r}]", depth + 1)
                    for key, item in value.items()
                },
            }
        if type(value) is LabelBinarizer:
            params, state = _split_vars(value, where, self._refuse)
            return {
                "type": "LabelBinarizer",
                "params": {
                    k: self.encode(v, f"{where}.{k}", depth + 1)
                    for k, v in params.items()
                },
                "state": {
                    k: self.encode(v, f"{where}.{k}", depth + 1)
                    for k, v in state.items()
                },
            }
        if type(value) is np.random.RandomState:
            _, key, pos, has_gauss, cached_gaussian = value.get_state(legacy=True)
            return {
                "type": "RandomState",
                "key": self.array(np.asarray(key, dtype=np.uint32), where),
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": self.encode(float(cached_gaussian), where),
            }
        self._refuse(where, value)

    def metadata_request(self, value, where):
        """The requests set with ``set_fit_request`` and the like."""
        serialize = getattr(value, "_serialize", None)
        if serialize is None:
            self._refuse(where, value)
        return {"type": "MetadataRequest", "requests": self.encode(serialize(), where)}


def _short_repr(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _split_vars(obj, where, refuse):
    """(constructor parameters, fitted state) of an estimator-like object."""
    params = obj.get_params(deep=False)
    state = {}
    for name, value in vars(obj).items():
        if name in params:
            continue
        if not _is_state_name(name):
            refuse(
                f"{where}.{name}",
                value,
                " (an attribute that is neither a constructor parameter nor "
                "fitted state, whose names end or start with an underscore)",
            )
        state[name] = value
    return params, state


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _canonical_json(content):
    return json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    ).encode("ascii")


def _checksum(canonical_content, members):
    """SHA-256 over the content and the array members (see the module notes)."""
    digest = hashlib.sha256()
    digest.update(FORMAT_NAME.encode("ascii") + b"\n")
    for chunk in _framed(canonical_content):
        digest.update(chunk)
    for name in sorted(members):
        for chunk in (*_framed(name.encode("ascii")), *_framed(members[name])):
            digest.update(chunk)
    return digest.hexdigest()


def _framed(data):
    return len(data).to_bytes(8, "little"), data


# ---------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------


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
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        The estimator to save (a subclass is refused: :func:`load` could not
        rebuild it). To save a whole pipeline, use skops or joblib.
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
        If the estimator is not one of sknumpynet's, or holds a value that
        cannot be stored without pickle (the message names the attribute).

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
    lists, tuples and dicts of these, arrays of numbers or strings, the
    classifier's ``LabelBinarizer``, a ``RandomState`` ``random_state`` and
    metadata-routing requests; any other value is refused rather than
    pickled. The module :mod:`sknumpynet._persistence` documents the format
    field by field.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sknumpynet import NumpyMLPRegressor, load, save
    >>> X = np.linspace(0, 1, 20).reshape(-1, 1)
    >>> reg = NumpyMLPRegressor(hidden_layer_sizes=(3,), solver="sgd",
    ...                         random_state=0).partial_fit(X, X.ravel())
    >>> path = save(reg, os.path.join(tempfile.mkdtemp(), "reg.npz"))
    >>> bool((load(path).predict(X) == reg.predict(X)).all())
    True
    """
    classes = _estimator_classes()
    cls = type(estimator)
    if classes.get(cls.__name__) is not cls:
        raise TypeError(
            "sknumpynet.save stores NumpyMLPClassifier and NumpyMLPRegressor "
            f"estimators, not {cls.__module__}.{cls.__qualname__}. To save a "
            "pipeline or another estimator, use skops (skops.io.dump) or "
            "joblib."
        )
    owner = cls.__name__
    encoder = _Encoder(owner)
    params, state = _split_vars(estimator, owner, encoder._refuse)
    content = {
        "estimator": owner,
        "sknumpynet_version": _version.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "params": {
            name: encoder.encode(value, f"{owner}.{name}")
            for name, value in params.items()
        },
        "state": {
            name: (
                encoder.metadata_request(value, f"{owner}.{name}")
                if name == "_metadata_request"
                else encoder.encode(value, f"{owner}.{name}")
            )
            for name, value in state.items()
        },
    }
    content["arrays"] = {
        name: {"dtype": array.dtype.str, "shape": list(array.shape)}
        for name, array in encoder.arrays.items()
    }
    members = {
        f"{name}.npy": _npy_bytes(array) for name, array in encoder.arrays.items()
    }
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sha256": _checksum(_canonical_json(content), members),
        "content": content,
    }
    metadata = json.dumps(
        header, indent=1, sort_keys=True, ensure_ascii=True, allow_nan=False
    ).encode("ascii")

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            errno.ENOENT, "No such directory to save the model in", directory
        )
    # A new file next to the target (so that the final rename is atomic),
    # created like any other file: with the permissions the umask gives.
    temporary = os.path.join(
        directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp"
    )
    try:
        with open(temporary, "xb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
                for name, data in [(_METADATA_MEMBER, metadata), *members.items()]:
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_STORED
                    info.external_attr = 0o644 << 16
                    archive.writestr(info, data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


# ---------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------


def _strict_object(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}"
        )
    return dict(pairs)


def _no_constants(name):
    raise ValueError(f"the non-standard JSON constant {name}")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


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
    estimator : NumpyMLPClassifier or NumpyMLPRegressor
        The estimator as it was saved, ready to predict and to continue
        training.

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
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            errno.ENOENT, "No such sknumpynet model file (nothing to load)", path
        )
    if os.path.isdir(path):
        raise IsADirectoryError(
            errno.EISDIR,
            "This is a directory, not a model file written by sknumpynet.save",
            path,
        )
    try:
        estimator, saved_version = _load(path)
    except (ModelFileError, MemoryError, PermissionError):
        raise
    except Exception as error:
        # Every problem of the file itself is caught with a specific message
        # above; this is the net under them, so that no file crashes load.
        _fail(
            path,
            f"the file could not be read as a sknumpynet model ({type(error).__name__}"
            f": {error}); it is damaged or was not written by sknumpynet.save.",
        )
    warn_if_other_version(estimator, saved_version, stacklevel=3)
    return estimator


def _load(path):
    try:
        archive = zipfile.ZipFile(path)
    except (MemoryError, PermissionError):
        raise
    except Exception:  # BadZipFile, EOFError, struct.error, ...: not a ZIP
        _fail(
            path,
            "this is not a model file written by sknumpynet.save: it is not a "
            "ZIP (.npz) archive, or it is truncated (an interrupted download "
            "or copy?).",
        )
    with archive:
        return _load_archive(path, archive)


def _read_member(path, archive, info, limit):
    if info.compress_type != zipfile.ZIP_STORED:
        _fail(
            path,
            f"member {info.filename!r} is compressed, but sknumpynet.save "
            "stores members uncompressed: the file was repacked or crafted.",
        )
    if info.file_size > limit:
        _fail(
            path,
            f"member {info.filename!r} is {info.file_size} bytes, more than its "
            f"declared content allows ({limit}): the file is corrupted or crafted.",
        )
    # A stored member's sizes agree, and it lies inside the file: the ZIP
    # directory is never trusted to size a read (a damaged size field would
    # otherwise ask for gigabytes).
    if (
        info.compress_size != info.file_size
        or info.header_offset + info.compress_size > os.path.getsize(path)
    ):
        _fail(
            path,
            f"member {info.filename!r} has inconsistent sizes in the ZIP "
            "directory: the file is corrupted.",
        )
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as error:
        _fail(
            path,
            f"member {info.filename!r} is corrupted ({error}); the file was "
            "damaged after it was written (a truncated or altered copy?).",
        )


def _load_archive(path, archive):
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        _fail(path, "the archive has duplicate members: it was crafted or damaged.")
    if _METADATA_MEMBER not in names:
        if names and all(name.endswith(".npy") for name in names):
            what = "a plain NumPy .npz archive"
        else:
            what = "a ZIP archive"
        _fail(
            path,
            f"this is {what}, not a model file written by sknumpynet.save (it "
            f"has no {_METADATA_MEMBER!r} member).",
        )
    raw = _read_member(
        path, archive, archive.getinfo(_METADATA_MEMBER), _MAX_JSON_BYTES
    )
    try:
        header = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_strict_object,
            parse_constant=_no_constants,
            parse_float=_finite_float,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        _fail(
            path,
            f"its {_METADATA_MEMBER!r} member is not valid JSON ({error}): the "
            "file is corrupted.",
        )
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        found = header.get("format") if isinstance(header, dict) else None
        _fail(
            path,
            f"its {_METADATA_MEMBER!r} member does not describe a sknumpynet "
            f"model (format {found!r}, expected {FORMAT_NAME!r}).",
        )
    version = header.get("format_version")
    if not _is_int(version) or version < 1:
        _fail(path, f"it has an invalid format version {version!r}.")
    if version > FORMAT_VERSION:
        content = header.get("content")
        writer = (
            content.get("sknumpynet_version") if isinstance(content, dict) else None
        )
        _fail(
            path,
            f"it is in format version {version}, written by a newer sknumpynet "
            f"({writer or 'unknown version'}); sknumpynet {_version.__version__} "
            f"reads format version {FORMAT_VERSION} only. Upgrade sknumpynet to "
            "load it.",
        )
    _expect_keys(
        path, header, {"format", "format_version", "sha256", "content"}, "file"
    )
    content, digest = header["content"], header["sha256"]
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        _fail(path, "its checksum is not a SHA-256 digest.")
    if not isinstance(content, dict):
        _fail(path, "its content is not a JSON object.")
    _expect_keys(
        path,
        content,
        {
            "estimator",
            "sknumpynet_version",
            "sklearn_version",
            "numpy_version",
            "params",
            "state",
            "arrays",
        },
        "content",
    )
    manifest = _check_manifest(path, content["arrays"], os.path.getsize(path))

    expected = {_METADATA_MEMBER} | {f"{name}.npy" for name in manifest}
    unexpected = sorted(set(names) - expected)
    if unexpected:
        _fail(
            path,
            f"it has unexpected members {unexpected}: it was modified or crafted "
            "(sknumpynet.save writes only the members its metadata lists).",
        )
    missing = sorted(expected - set(names))
    if missing:
        _fail(path, f"members {missing} are missing: the file is incomplete.")

    members = {
        f"{name}.npy": _read_member(
            path,
            archive,
            archive.getinfo(f"{name}.npy"),
            _MAX_NPY_HEADER + nbytes,
        )
        for name, (_, _, nbytes) in manifest.items()
    }
    if _checksum(_canonical_json(content), members) != digest:
        _fail(
            path,
            "checksum mismatch: its content does not match the SHA-256 checksum "
            "written with it, so it was corrupted or modified after "
            "sknumpynet.save wrote it. Save the model again from its source.",
        )
    arrays = {
        name: _read_array(path, f"{name}.npy", members[f"{name}.npy"], dtype, shape)
        for name, (dtype, shape, _) in manifest.items()
    }
    estimator = _Decoder(path, content, arrays).build()
    return estimator, content["sknumpynet_version"]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _expect_keys(path, mapping, keys, what):
    if set(mapping) != keys:
        extra, missing = sorted(set(mapping) - keys), sorted(keys - set(mapping))
        _fail(
            path,
            f"its {what} has unexpected keys {extra} or lacks {missing}: it was "
            "not written by this format version of sknumpynet.save.",
        )


def _check_manifest(path, manifest, file_size):
    """{name: (dtype, shape, nbytes)} from the "arrays" manifest, validated.

    No array may claim more bytes than the whole file holds, and none may
    have elements of zero bytes: sizes are settled before anything is read or
    allocated.
    """
    if not isinstance(manifest, dict):
        _fail(path, "its array manifest is not a JSON object.")
    checked = {}
    for name, entry in manifest.items():
        if not _ARRAY_NAME.fullmatch(name):
            _fail(path, f"its manifest names an array {name!r} in no known form.")
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape"}:
            _fail(path, f"the manifest entry of array {name!r} is malformed.")
        try:
            with warnings.catch_warnings():
                # A deprecated alias ('a10'...) is refused, not warned about.
                warnings.simplefilter("error")
                dtype = (
                    np.dtype(entry["dtype"])
                    if isinstance(entry["dtype"], str)
                    else None
                )
        except Exception:  # whatever NumPy raises for a malformed dtype string
            dtype = None
        if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.fields:
            _fail(
                path,
                f"array {name!r} has dtype {entry['dtype']!r}; only booleans, "
                "integers, floats and strings are allowed (never objects).",
            )
        shape = entry["shape"]
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(_is_int(n) and n >= 0 for n in shape)
        ):
            _fail(path, f"array {name!r} has an invalid shape {shape!r}.")
        n_elements = math.prod(shape)
        nbytes = n_elements * dtype.itemsize
        if nbytes > file_size or (dtype.itemsize == 0 and n_elements > 0):
            _fail(
                path,
                f"array {name!r} declares dtype {dtype} and shape {tuple(shape)}, "
                f"which do not fit in the {file_size} bytes of the file: it is "
                "corrupted or crafted.",
            )
        checked[name] = (dtype, tuple(shape), nbytes)
    return checked


def _read_array(path, member, data, dtype, shape):
    """Parse one .npy member, refusing anything but the manifest's array."""
    buffer = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buffer)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(buffer)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(buffer)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, SyntaxError, tokenize.TokenError, OverflowError) as error:
        _fail(path, f"member {member!r} is not a valid .npy array ({error}).")
    found_shape, _, found_dtype = header
    if found_dtype.hasobject:
        _fail(
            path,
            f"member {member!r} holds an object array, which could run code "
            "when loaded; sknumpynet.save never writes one, so the file was "
            "crafted. Refusing to load it.",
        )
    if found_dtype != dtype or tuple(found_shape) != shape:
        _fail(
            path,
            f"member {member!r} holds an array of dtype {found_dtype} and shape "
            f"{found_shape}, not the {dtype} and {shape} of the manifest.",
        )
    if len(data) - buffer.tell() != math.prod(shape) * dtype.itemsize:
        _fail(
            path,
            f"member {member!r} holds {len(data) - buffer.tell()} bytes of data "
            f"for an array of dtype {dtype} and shape {shape}: it is truncated "
            "or crafted.",
        )
    buffer.seek(0)
    try:
        array = np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError as error:
        _fail(path, f"member {member!r} could not be read ({error}).")
    if buffer.tell() != len(data):
        _fail(path, f"member {member!r} has trailing bytes after its array.")
    return array


# ---------------------------------------------------------------------------
# Decoding and validating the estimator
# ---------------------------------------------------------------------------


class _Decoder:
    """Rebuild an estimator from the content of a file, checking everything."""

    def __init__(self, path, content, arrays):
        self.path = path
        self.content = content
        self.arrays = arrays
        self.used = set()

    def fail(self, problem):
        _fail(self.path, problem)

    def decode(self, node, where, depth=0):
        if depth > _MAX_DEPTH:
            self.fail(f"{where} is nested too deeply.")
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            return node
        if isinstance(node, list):
            return [
                self.decode(item, f"{where}[{i}]", depth + 1)
                for i, item in enumerate(node)
            ]
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            self.fail(f"{where} is not a value of the format.")
        kind = node["type"]
        if kind == "array":
            return self.array(node, where)
        if kind == "float":
            self.keys(node, {"type", "value"}, where)
            if node["value"] not in _NONFINITE:
                self.fail(f"{where} is a malformed non-finite float.")
            return _NONFINITE[node["value"]]
        if kind == "scalar":
            self.keys(node, {"type", "dtype", "value"}, where)
            if node["dtype"] not in _SCALAR_DTYPES:
                self.fail(f"{where} has an unsupported scalar dtype.")
            value = self.decode(node["value"], where, depth + 1)
            if not isinstance(value, (bool, int, float)):
                self.fail(f"{where} is a malformed scalar.")
            try:
                with warnings.catch_warnings():
                    # A float that overflows its dtype is refused, not cast.
                    warnings.simplefilter("error", RuntimeWarning)
                    return np.array(value, dtype=node["dtype"])[()]
            except (OverflowError, ValueError, RuntimeWarning):
                self.fail(f"{where} does not fit its dtype {node['dtype']}.")
        if kind == "tuple":
            self.keys(node, {"type", "items"}, where)
            if not isinstance(node["items"], list):
                self.fail(f"{where} is a malformed tuple.")
            return tuple(self.decode(node["items"], where, depth + 1))
        if kind == "dict":
            self.keys(node, {"type", "items"}, where)
            if not isinstance(node["items"], dict):
                self.fail(f"{where} is a malformed dict.")
            return {
                key: self.decode(item, f"{where}[{key!r}]", depth + 1)
                for key, item in node["items"].items()
            }
        if kind == "LabelBinarizer":
            return self.label_binarizer(node, where, depth)
        if kind == "RandomState":
            return self.random_state(node, where)
        self.fail(f"{where} has the unknown value type {kind!r}.")

    def keys(self, node, keys, where):
        if set(node) != keys:
            self.fail(f"{where} has keys {sorted(node)}, expected {sorted(keys)}.")

    def array(self, node, where):
        keys = set(node)
        if keys not in ({"type", "ref"}, {"type", "ref", "object"}):
            self.fail(f"{where} is a malformed array reference.")
        name = node["ref"]
        if not isinstance(name, str) or name not in self.arrays:
            self.fail(f"{where} refers to an array {name!r} the file does not hold.")
        if name in self.used:
            self.fail(f"{where} refers to array {name!r} a second time.")
        self.used.add(name)
        array = self.arrays[name]
        if "object" in node:
            if node["object"] is not True or array.dtype.kind != "U":
                self.fail(f"{where} is a malformed string array.")
            array = array.astype(object)
        return array

    def random_state(self, node, where):
        self.keys(node, {"type", "key", "pos", "has_gauss", "cached_gaussian"}, where)
        key = self.decode(node["key"], where)
        pos, has_gauss = node["pos"], node["has_gauss"]
        cached = self.decode(node["cached_gaussian"], where)
        if (
            not isinstance(key, np.ndarray)
            or key.dtype != np.uint32
            or key.shape != (624,)
            or not _is_int(pos)
            or not 0 <= pos <= 624
            or has_gauss not in (0, 1)
            or isinstance(has_gauss, bool)
            or not isinstance(cached, float)
        ):
            self.fail(f"{where} is not a valid RandomState state.")
        random_state = np.random.RandomState()
        random_state.set_state(("MT19937", key, pos, has_gauss, cached))
        return random_state

    def label_binarizer(self, node, where, depth):
        self.keys(node, {"type", "params", "state"}, where)
        params, state = node["params"], node["state"]
        if not isinstance(params, dict) or not isinstance(state, dict):
            self.fail(f"{where} is a malformed LabelBinarizer.")
        binarizer = LabelBinarizer()
        known = binarizer.get_params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            self.fail(f"{where} has unknown LabelBinarizer parameters {unknown}.")
        values = {
            k: self.decode(v, f"{where}.{k}", depth + 1) for k, v in params.items()
        }
        try:
            binarizer.set_params(**values)
            binarizer._validate_params()
        except (ValueError, TypeError) as error:
            self.fail(f"{where} has invalid parameters ({error}).")
        self.set_state(binarizer, state, where, depth)
        classes = getattr(binarizer, "classes_", None)
        if (
            getattr(binarizer, "y_type_", None) not in _LABEL_TYPES
            or not isinstance(classes, np.ndarray)
            or classes.ndim != 1
            or not isinstance(getattr(binarizer, "sparse_input_", None), bool)
            # Only a sparse multilabel y makes a fitted LabelBinarizer
            # sparse; with other targets it would decode into sparse matrices.
            or (binarizer.sparse_input_ and binarizer.y_type_ != "multilabel-indicator")
        ):
            self.fail(f"{where} is not a fitted LabelBinarizer.")
        return binarizer

    def set_state(self, obj, state, where, depth):
        """Decode and set the fitted attributes of ``obj``; return them."""
        cls = type(obj)
        values = {}
        for name, node in state.items():
            if not _is_state_name(name) or hasattr(cls, name):
                self.fail(
                    f"{where} has a state attribute {name!r}, which is no fitted "
                    "attribute (it could shadow a method): the file was crafted."
                )
            if name in obj.get_params():
                self.fail(f"{where} has the parameter {name!r} in its state.")
            if name == "_metadata_request" and depth == 0:
                # Rebuilt through the public set_*_request methods below.
                self.keys(node, {"type", "requests"}, f"{where}.{name}")
                if node["type"] != "MetadataRequest":
                    self.fail(f"{where}.{name} is not a MetadataRequest.")
                requests = self.decode(node["requests"], f"{where}.{name}", 1)
                self.apply_requests(obj, requests)
                continue
            values[name] = self.decode(node, f"{where}.{name}", depth + 1)
        vars(obj).update(values)
        return values

    def build(self):
        content = self.content
        for key in ("sknumpynet_version", "sklearn_version", "numpy_version"):
            if not isinstance(content[key], str):
                self.fail(f"its {key} is not a string.")
        name = content["estimator"]
        classes = _estimator_classes()
        if not isinstance(name, str) or name not in classes:
            self.fail(
                f"it holds a {name!r}; sknumpynet.load rebuilds only {sorted(classes)}."
            )
        cls = classes[name]
        params, state = content["params"], content["state"]
        if not isinstance(params, dict) or not isinstance(state, dict):
            self.fail("its parameters or state are not JSON objects.")
        estimator = cls()
        known = estimator.get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            writer, current = content["sknumpynet_version"], _version.__version__
            self.fail(
                f"it sets parameters {unknown} that {name} of sknumpynet "
                f"{current} does not have"
                + (
                    ": the file was crafted."
                    if writer == current
                    else f" (it was saved by sknumpynet {writer}): upgrade "
                    "sknumpynet to load it."
                )
            )
        values = {k: self.decode(v, f"{name}.{k}") for k, v in params.items()}
        try:
            estimator.set_params(**values)
            estimator._validate_params()
        except (ValueError, TypeError) as error:
            self.fail(f"it has invalid parameters: {error}")
        fitted = self.set_state(estimator, state, name, 0)
        _validate_fitted_state(self.fail, estimator, fitted)
        unused = sorted(set(self.arrays) - self.used)
        if unused:
            self.fail(f"arrays {unused} are listed but never used: it was crafted.")
        return estimator

    def apply_requests(self, estimator, requests):
        """Set metadata routing requests with the public set_*_request methods."""
        if not isinstance(requests, dict):
            self.fail("its metadata routing requests are malformed.")
        try:
            with config_context(enable_metadata_routing=True):
                for method, request in requests.items():
                    if not isinstance(request, dict):
                        raise ValueError(f"the requests of {method!r}")
                    for alias in request.values():
                        if alias is not None and not isinstance(alias, (bool, str)):
                            raise ValueError(f"the request {alias!r}")
                    if not request:
                        continue
                    if not _IDENTIFIER.fullmatch(str(method)):
                        raise ValueError(f"the method {method!r}")
                    setter = getattr(estimator, f"set_{method}_request", None)
                    if setter is None:
                        raise ValueError(f"no requests for method {method!r}")
                    setter(**request)
        except (ValueError, TypeError, AttributeError, RuntimeError) as error:
            self.fail(f"its metadata routing requests are invalid ({error}).")


_CORE_STATE = ("coefs_", "intercepts_", "n_layers_", "n_outputs_", "out_activation_")


def _validate_fitted_state(fail, estimator, state):
    """Check that the fitted state is complete and consistent, or fail."""
    if not any(name.endswith("_") for name in state):
        if state:
            fail(f"it holds private state {sorted(state)} but no fitted model.")
        return  # an unfitted estimator: its parameters only
    missing = [
        name
        for name in (*_CORE_STATE, "n_features_in_")
        if not hasattr(estimator, name)
    ]
    is_classifier = type(estimator).__name__ == "NumpyMLPClassifier"
    if is_classifier:
        missing += [n for n in ("classes_", "_label_binarizer") if n not in state]
    if missing:
        fail(f"its fitted state lacks {missing}: it is incomplete.")

    coefs, intercepts = estimator.coefs_, estimator.intercepts_
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
    n_features, n_outputs = coefs[0].shape[0], coefs[-1].shape[1]
    hidden = [coef.shape[1] for coef in coefs[:-1]]
    checks = {
        "n_features_in_": n_features,
        "n_outputs_": n_outputs,
        "n_layers_": len(coefs) + 1,
    }
    for name, value in checks.items():
        found = getattr(estimator, name)
        if not _is_int(found) or found != value:
            fail(f"{name} is {found!r}, but the weights say {value}.")
    try:
        sizes = _model.hidden_layer_sizes(estimator)
        # Per-layer parameters must fit the network the weights describe.
        _model.hidden_activations(estimator, len(hidden))
        _model.dropout_rates(estimator, len(hidden))
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

    _validate_bookkeeping(fail, estimator)
    out_activation = estimator.out_activation_
    if is_classifier:
        _validate_classes(fail, estimator, n_outputs)
    expected = _model.output_activation(estimator)
    if out_activation != expected:
        fail(
            f"out_activation_ is {out_activation!r}, but this estimator's "
            f"parameters and targets call for {expected!r}."
        )

    n_params = sum(c.size + b.size for c, b in zip(coefs, intercepts))
    flat = [("_best_params", getattr(estimator, "_best_params", None))]
    optimizer_state = getattr(estimator, "_optimizer_state", None)
    if optimizer_state is not None:
        if not isinstance(optimizer_state, dict) or not isinstance(
            optimizer_state.get("solver"), str
        ):
            fail("_optimizer_state is not a dict naming its solver.")
        required = {
            "sgd": {"velocity", "learning_rate"},
            "adam": {"first_moment", "second_moment", "t", "learning_rate"},
        }.get(optimizer_state["solver"], set())
        if not required <= set(optimizer_state):
            fail(
                f"the {optimizer_state['solver']} optimizer state lacks "
                f"{sorted(required - set(optimizer_state))}."
            )
        for key, value in optimizer_state.items():
            if isinstance(value, np.ndarray):
                flat.append((f"_optimizer_state[{key!r}]", value))
            elif key != "solver" and not _is_real(value):
                fail(f"_optimizer_state[{key!r}] is not a number or an array.")
        if not _is_real(optimizer_state.get("learning_rate", 0.0)) or not (
            0 <= optimizer_state.get("learning_rate", 0.0) < math.inf
        ):
            fail("the optimizer's learning rate is not a non-negative number.")
        if "t" in optimizer_state and (
            not _is_int(optimizer_state["t"]) or optimizer_state["t"] < 0
        ):
            fail("the optimizer's step count t is not a non-negative integer.")
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


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _validate_bookkeeping(fail, estimator):
    """The counters and curves that training updates are numbers."""
    for name in ("n_iter_", "t_", "_no_improvement_count"):
        value = getattr(estimator, name, 0)
        if not _is_int(value) or value < 0:
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
