"""The file format of :func:`sknumpynet.save`: objects stored without pickle.

Writes and reads an object's constructor parameters and fitted state in a
file that never runs code when it is read. It knows nothing of neural
networks: the caller gives the classes a file may hold (an allow-list, by
class name) and checks the fitted state it reads, as
:mod:`sknumpynet._persistence` does. The format is specified field by field
in the user guide (docs/user_guide/file_format.rst).
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

from . import _version
from ._model import is_fitted_state_name
from ._validation import is_int

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
# NumPy's scalar types (np.float32...), given as parameters such as dtype.
_SCALAR_TYPES = {np.dtype(name).type: name for name in _SCALAR_DTYPES}
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_MAX_JSON_BYTES = 256 * 2**20
_MAX_NPY_HEADER = 65536 + 16
_MAX_DEPTH = 32
_LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")
_VERSION_KEYS = ("sknumpynet_version", "sklearn_version", "numpy_version")
_CONTENT_KEYS = {"estimator", *_VERSION_KEYS, "params", "state", "arrays"}


# ---------------------------------------------------------------------------
# Errors
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
    """Whether a file may hold an attribute of this name as fitted state.

    Fitted state as :func:`~sknumpynet._model.is_fitted_state_name` says,
    under a name that is a Python identifier (a crafted file could name
    anything).
    """
    return is_fitted_state_name(name) and _IDENTIFIER.fullmatch(name) is not None


class _Encoder:
    """Turn an object's values into JSON values and a set of arrays.

    ``nested`` (class name -> class) lists the classes whose instances may
    be stored as values, parameters and fitted state (the caller's second
    allow-list, such as a fitted transformer inside an estimator).
    """

    def __init__(self, owner, nested=None):
        self.owner = owner
        self.nested = nested or {}
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
            if any(item.endswith("\x00") for item in value.flat):
                # NumPy's fixed-width strings drop trailing NULs: it would
                # come back as another string.
                self._refuse(where, value, " (a string ending in a NUL character)")
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
            return {"type": "tuple", "items": self.encode(list(value), where, depth)}
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
                "params": self.attributes(params, where, depth + 1),
                "state": self.attributes(state, where, depth + 1),
            }
        name = type(value).__name__
        if self.nested.get(name) is type(value):
            params, state = _split_vars(value, where, self._refuse)
            return {
                "type": "estimator",
                "estimator": name,
                "params": self.attributes(params, where, depth + 1),
                "state": self.attributes(state, where, depth + 1),
            }
        if isinstance(value, type) and value in _SCALAR_TYPES:
            return {"type": "scalar_type", "dtype": _SCALAR_TYPES[value]}
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

    def attributes(self, values, where, depth=0):
        """Encode the attributes of an object, attribute name -> value.

        The saved object's own ``_metadata_request`` (``depth`` 0) holds the
        metadata routing requests.
        """
        return {
            name: (
                self.metadata_request(value, f"{where}.{name}")
                if name == "_metadata_request" and depth == 0
                else self.encode(value, f"{where}.{name}", depth)
            )
            for name, value in values.items()
        }

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
    """SHA-256 over the content and the array members (see the file format page)."""
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
# Writing
# ---------------------------------------------------------------------------


def write(obj, path, classes, nested=None):
    """Write ``obj`` to ``path`` in this format: the work of ``sknumpynet.save``.

    ``obj`` must be an instance of one of ``classes`` (the caller's
    allow-list, class name -> class), not of a subclass: the reader could not
    rebuild it. Instances of the classes of ``nested`` (class name -> class)
    may be values inside it, stored as ``{"type": "estimator", ...}``. A
    value the format cannot store raises ``TypeError`` naming the attribute.
    The file is written to a temporary file and then renamed, so an
    interrupted write leaves no half-written file. Returns the path.
    """
    cls = type(obj)
    if classes.get(cls.__name__) is not cls:
        raise TypeError(
            f"sknumpynet.save stores {' and '.join(sorted(classes))} "
            f"estimators, not {cls.__module__}.{cls.__qualname__}. To save a "
            "pipeline or another estimator, use skops (skops.io.dump) or "
            "joblib."
        )
    return _write_members(os.fspath(path), _encode_members(obj, nested))


def _encode_members(obj, nested=None):
    """The archive's members, {name: bytes}, metadata first."""
    owner = type(obj).__name__
    encoder = _Encoder(owner, nested)
    params, state = _split_vars(obj, owner, encoder._refuse)
    content = {
        "estimator": owner,
        "sknumpynet_version": _version.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "params": encoder.attributes(params, owner),
        "state": encoder.attributes(state, owner),
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
    return {_METADATA_MEMBER: metadata, **members}


def _write_members(path, members):
    """Write the archive atomically: to a temporary file, then renamed."""
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
                for name, data in members.items():
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
# Reading
# ---------------------------------------------------------------------------


def read(path, classes, validate, nested=None):
    """Read the object of a file of this format: the work of ``sknumpynet.load``.

    Only the classes of ``classes`` (class name -> class) are rebuilt, and
    inside it only those of ``nested`` (and scikit-learn's
    ``LabelBinarizer``). ``validate(fail, obj, state)`` checks the fitted
    state just read into ``obj`` (attribute name -> value) -- the object of
    the file and each nested one -- and calls ``fail(problem)``, which
    raises :class:`ModelFileError`, if it is not consistent. Returns ``(obj,
    the sknumpynet version that wrote the file)``. A parameter the file
    lacks (it was written before the parameter existed) keeps the class's
    default, or takes the value the class's ``_older_file_defaults``
    (parameter name -> value) gives it. Every problem of the file
    raises :class:`ModelFileError`, before anything is returned; a missing
    ``path`` raises ``FileNotFoundError``, a directory ``IsADirectoryError``.
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
        content, arrays = _read_archive(path)
        obj = _Decoder(path, content, arrays, validate, nested).build(classes)
    except (ModelFileError, MemoryError, PermissionError):
        raise
    except Exception as error:
        # Every problem of the file itself is caught with a specific message
        # below; this is the net under them, so that no file crashes load.
        _fail(
            path,
            f"the file could not be read as a sknumpynet model ({type(error).__name__}"
            f": {error}); it is damaged or was not written by sknumpynet.save.",
        )
    return obj, content["sknumpynet_version"]


def _read_archive(path):
    """The checked content and arrays of the file: (dict, {name: ndarray})."""
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
        return _read_members(path, archive)


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


def _read_members(path, archive):
    """Check the archive's members and read them: (content, {name: ndarray})."""
    names = [info.filename for info in archive.infolist()]
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
    content, digest = _read_header(path, archive)
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

    members = {}
    for name, (_, _, nbytes) in manifest.items():
        info = archive.getinfo(f"{name}.npy")
        members[info.filename] = _read_member(
            path, archive, info, _MAX_NPY_HEADER + nbytes
        )
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
    return content, arrays


def _read_header(path, archive):
    """The metadata member's checked content and checksum: (dict, str)."""
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
    if not is_int(version) or version < 1:
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
    _expect_keys(path, content, _CONTENT_KEYS, "content")
    return content, digest


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
            or not all(is_int(n) and n >= 0 for n in shape)
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
# Decoding values and rebuilding the object
# ---------------------------------------------------------------------------


class _Decoder:
    """Rebuild an object from the content of a file, checking everything."""

    def __init__(self, path, content, arrays, validate, nested=None):
        self.path = path
        self.content = content
        self.arrays = arrays
        self.validate = validate
        self.nested = nested or {}
        self.used = set()

    def fail(self, problem):
        _fail(self.path, problem)

    def decode(self, node, where, depth=0):
        if depth > _MAX_DEPTH:
            self.fail(f"{where} is nested too deeply.")
        if node is None or isinstance(node, (bool, int, float, str)):
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
            if (
                not isinstance(node["dtype"], str)
                or node["dtype"] not in _SCALAR_DTYPES
            ):
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
        if kind == "scalar_type":
            self.keys(node, {"type", "dtype"}, where)
            if (
                not isinstance(node["dtype"], str)
                or node["dtype"] not in _SCALAR_DTYPES
            ):
                self.fail(f"{where} has an unsupported scalar type.")
            return np.dtype(node["dtype"]).type
        if kind == "LabelBinarizer":
            return self.label_binarizer(node, where, depth)
        if kind == "estimator":
            return self.nested_estimator(node, where, depth)
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
            or not is_int(pos)
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

    def nested_estimator(self, node, where, depth):
        """An object of a ``nested`` class inside the file's object."""
        self.keys(node, {"type", "estimator", "params", "state"}, where)
        name = node["estimator"]
        if not isinstance(name, str) or name not in self.nested:
            self.fail(
                f"{where} holds a {name!r}; inside a model sknumpynet.load "
                f"rebuilds only {sorted(self.nested)}."
            )
        return self.instantiate(
            self.nested[name], node["params"], node["state"], where, depth + 1
        )

    def instantiate(self, cls, params, state, where, depth):
        """An object of ``cls`` with these parameters and checked state."""
        if not isinstance(params, dict) or not isinstance(state, dict):
            self.fail(f"the parameters or state of {where} are not JSON objects.")
        estimator = cls()
        known = estimator.get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            writer = self.content["sknumpynet_version"]
            current = _version.__version__
            why = (
                ": the file was crafted."
                if writer == current
                else f" (it was saved by sknumpynet {writer}): upgrade sknumpynet "
                "to load it."
            )
            self.fail(
                f"it sets parameters {unknown} that {cls.__name__} of sknumpynet "
                f"{current} does not have{why}"
            )
        # A parameter missing from the file was added after it was written:
        # it takes its default, unless the class says which value the older
        # files' models had (a default that has changed since).
        older = getattr(cls, "_older_file_defaults", {})
        values = {k: v for k, v in older.items() if k not in params}
        values.update(
            (k, self.decode(v, f"{where}.{k}", depth + 1 if depth else 0))
            for k, v in params.items()
        )
        try:
            estimator.set_params(**values)
            estimator._validate_params()
        except (ValueError, TypeError) as error:
            self.fail(f"{where} has invalid parameters: {error}")
        fitted = self.set_state(estimator, state, where, depth)
        self.validate(self.fail, estimator, fitted)
        return estimator

    def build(self, classes):
        """The object of the file, of one of ``classes``, checked by ``validate``."""
        content = self.content
        for key in _VERSION_KEYS:
            if not isinstance(content[key], str):
                self.fail(f"its {key} is not a string.")
        name = content["estimator"]
        if not isinstance(name, str) or name not in classes:
            self.fail(
                f"it holds a {name!r}; sknumpynet.load rebuilds only {sorted(classes)}."
            )
        estimator = self.instantiate(
            classes[name], content["params"], content["state"], name, 0
        )
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
