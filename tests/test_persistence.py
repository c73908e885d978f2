"""Saving, resuming and loading safely: pickle, joblib and sknumpynet.save/load.

* pickle and joblib round-trip fitted, partially fitted and unfitted
  estimators, pipelines and grid-search winners, and stamp the sknumpynet
  version (a mismatch warns);
* ``partial_fit`` after a reload gives the weights of training that never
  stopped, to the last bit (the optimizer's state travels with the model);
* ``save``/``load`` round-trip every configuration exactly, and every bad file
  (truncated, flipped bytes, foreign, crafted, newer format, checksum
  mismatch, object arrays, pickles) gets a ``ModelFileError`` that says what is
  wrong -- never a crash, never a half-loaded model, never code run.
"""

import copy
import io
import json
import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from _helpers import (
    METADATA,
    assert_same_value,
    classification,
    data,
    documented_checksum,
    npy_bytes,
    predictions,
    regression,
    seed_article_network,
)
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import (
    make_multilabel_classification,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

import sknumpynet
from sknumpynet import (
    InconsistentVersionWarning,
    ModelFileError,
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    load,
    save,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ---------------------------------------------------------------------------
# Data and configurations
# ---------------------------------------------------------------------------


def _binary_strings():
    X, y = classification(80, 2, labels=["no", "yes"])
    return NumpyMLPClassifier((6,), max_iter=5, random_state=0), X, y, {}


def _multiclass_strings_sgd():
    X, y = classification(80, labels=["cat", "dog", "emu"])
    est = NumpyMLPClassifier((6, 4), solver="sgd", max_iter=5, random_state=0)
    return est, X, y, {}


def _multilabel():
    X, y = make_multilabel_classification(
        n_samples=80, n_features=5, n_classes=3, random_state=0
    )
    return NumpyMLPClassifier((6,), max_iter=5, random_state=0), X / 10, y, {}


def _regressor():
    X, y = regression(80)
    return (
        NumpyMLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
        X,
        y,
        {},
    )


def _multioutput_sgd():
    X, y = regression(80, 2)
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate="invscaling",
        max_iter=5,
        random_state=0,
    )
    return est, X, y, {}


def _poisson():
    X, _ = regression(80)
    y = np.random.RandomState(0).poisson(np.exp(0.3 * X[:, 0]))
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(6,), loss="poisson", max_iter=5, random_state=0
    )
    return est, X, y, {}


def _float32():
    X, y = classification(80)
    return NumpyMLPClassifier((6,), max_iter=5, random_state=0), X.astype("f4"), y, {}


def _sparse():
    X, y = regression(80)
    X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    return (
        NumpyMLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
        X,
        y,
        {},
    )


def _partial_fit_only():
    X, y = classification(80)
    est = NumpyMLPClassifier((6,), solver="sgd", random_state=0)
    return est, X, y, {"partial_fit": True}


def _early_stopped():
    X, y = classification(120)
    est = NumpyMLPClassifier(
        (6,), early_stopping=True, n_iter_no_change=2, max_iter=30, random_state=0
    )
    return est, X, y, {}


def _lbfgs():
    X, y = regression(80)
    return (
        NumpyMLPRegressor(
            hidden_layer_sizes=(6,), solver="lbfgs", max_iter=20, random_state=0
        ),
        X,
        y,
        {},
    )


def _seed_network():
    # The seed article's network: no intercepts, uniform weights, logistic
    # output; and a RandomState instance as random_state.
    X, y = regression(80)
    y = (y - y.min()) / (y.max() - y.min())
    est = seed_article_network(
        activation="sigmoid",  # the alias, as written
        n_iter_no_change=np.inf,
        max_iter=5,
        random_state=np.random.RandomState(0),
    )
    return est, X, y, {}


def _dataframe():
    X, y = classification(80)
    X = pd.DataFrame(X, columns=[f"feature {i}" for i in range(X.shape[1])])
    return NumpyMLPClassifier((6,), max_iter=5, random_state=0), X, y, {}


CONFIGURATIONS = {
    "binary-strings": _binary_strings,
    "multiclass-strings-sgd": _multiclass_strings_sgd,
    "multilabel": _multilabel,
    "regressor": _regressor,
    "multioutput-sgd": _multioutput_sgd,
    "poisson": _poisson,
    "float32": _float32,
    "sparse": _sparse,
    "partial_fit": _partial_fit_only,
    "early-stopped": _early_stopped,
    "lbfgs": _lbfgs,
    "seed-network-randomstate": _seed_network,
    "dataframe": _dataframe,
}


def _fitted(name):
    est, X, y, options = CONFIGURATIONS[name]()
    if options.get("partial_fit"):
        for _ in range(3):
            est.partial_fit(X, y, classes=np.unique(y))
    else:
        est.fit(X, y)
    return est, X, y


def _continue(est, X, y):
    """Train further the way this configuration allows: partial_fit or warm start."""
    if est.solver == "lbfgs" or est.early_stopping:
        return est.set_params(warm_start=True, max_iter=3).fit(X, y)
    for _ in range(2):
        est.partial_fit(X, y)
    return est


def assert_same_estimator(a, b):
    """Same class, parameters and fitted state, value by value and dtype by dtype."""
    assert type(a) is type(b)
    assert_same_value(vars(a), vars(b), type(a).__name__)


# ---------------------------------------------------------------------------
# pickle and joblib
# ---------------------------------------------------------------------------


def _pickle_round_trip(est):
    return pickle.loads(pickle.dumps(est))


def _joblib_round_trip(est, tmp_path):
    joblib.dump(est, tmp_path / "model.joblib")
    return joblib.load(tmp_path / "model.joblib")


def _save_round_trip(est, tmp_path):
    return load(save(est, tmp_path / "model.npz"))


ROUND_TRIPS = {
    "pickle": lambda est, tmp_path: _pickle_round_trip(est),
    "joblib": _joblib_round_trip,
    "save-load": _save_round_trip,
}


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("name", ["multiclass-strings-sgd", "partial_fit", "lbfgs"])
def test_round_trip_fitted_and_partially_fitted(name, round_trip, tmp_path):
    est, X, y = _fitted(name)
    copy_ = ROUND_TRIPS[round_trip](est, tmp_path)
    assert_same_estimator(est, copy_)
    for method, expected in predictions(est, X).items():
        assert_array_equal(getattr(copy_, method)(X), expected, strict=True)


@pytest.mark.parametrize("round_trip", ["pickle", "joblib"])
def test_pipeline_round_trip(round_trip, tmp_path):
    X, y = classification(80, labels=["cat", "dog", "emu"])
    pipe = make_pipeline(
        StandardScaler(), NumpyMLPClassifier((6,), max_iter=5, random_state=0)
    ).fit(X, y)
    copy_ = ROUND_TRIPS[round_trip](pipe, tmp_path)
    assert_array_equal(copy_.predict(X), pipe.predict(X), strict=True)
    assert_array_equal(copy_.predict_proba(X), pipe.predict_proba(X), strict=True)


def test_grid_search_best_estimator_round_trip(tmp_path):
    X, y = classification(80)
    pipe = make_pipeline(StandardScaler(), NumpyMLPClassifier((6,), random_state=0))
    search = GridSearchCV(pipe, {"numpymlpclassifier__alpha": [1e-4, 1e-1]}, cv=2).fit(
        X, y
    )
    best = search.best_estimator_
    for round_trip in ("pickle", "joblib"):
        copy_ = ROUND_TRIPS[round_trip](best, tmp_path)
        assert_array_equal(copy_.predict_proba(X), best.predict_proba(X), strict=True)
    # The network itself also goes through the safe format.
    network = _save_round_trip(best[-1], tmp_path)
    assert_same_estimator(network, best[-1])


def test_unfitted_round_trip(tmp_path):
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(3, 2), activation="tanh", alpha=0.5, random_state=3
    )
    for round_trip in ROUND_TRIPS.values():
        copy_ = round_trip(est, tmp_path)
        assert_same_estimator(est, copy_)
        assert not hasattr(copy_, "coefs_")


# ---------------------------------------------------------------------------
# Resuming training after a reload
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", [NumpyMLPClassifier, NumpyMLPRegressor])
def test_resume_partial_fit_is_bitwise_identical(
    Estimator, solver, round_trip, tmp_path
):
    X, y = data(Estimator, 80)
    chunks = np.array_split(np.arange(X.shape[0]), 4)
    kwargs = {"classes": np.unique(y)} if Estimator is NumpyMLPClassifier else {}

    def make():
        return Estimator(
            hidden_layer_sizes=(6,),
            solver=solver,
            learning_rate_init=0.05,
            random_state=0,
        )

    uninterrupted = make()
    for rows in chunks:
        uninterrupted.partial_fit(X[rows], y[rows], **kwargs)

    interrupted = make()
    for rows in chunks[:2]:
        interrupted.partial_fit(X[rows], y[rows], **kwargs)
    resumed = ROUND_TRIPS[round_trip](interrupted, tmp_path)
    del interrupted
    for rows in chunks[2:]:
        resumed.partial_fit(X[rows], y[rows])

    # Weights, optimizer state (momentum or Adam's moments), loss curve: all
    # identical to the last bit.
    assert_same_estimator(uninterrupted, resumed)


def test_resume_without_optimizer_state_differs():
    """The optimizer state matters: dropping it changes the resumed weights."""
    X, y = regression(80)
    est = NumpyMLPRegressor(hidden_layer_sizes=(6,), solver="adam", random_state=0)
    est.partial_fit(X, y)
    est.partial_fit(X, y)
    stripped = copy.deepcopy(est)
    stripped._optimizer_state = None
    est.partial_fit(X, y)
    stripped.partial_fit(X, y)
    assert not np.array_equal(est.coefs_[0], stripped.coefs_[0])


def test_fitted_state_is_arrays_and_plain_values():
    """No optimizer objects or functions: arrays, numbers, strings, containers."""

    def check(value, where):
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                check(item, f"{where}[{i}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str), where
                check(item, f"{where}[{key!r}]")
        elif isinstance(value, LabelBinarizer):
            check(vars(value), where)
        else:
            assert value is None or isinstance(
                value, (np.ndarray, bool, int, float, str, np.random.RandomState)
            ), f"{where} is a {type(value)}"
            assert not callable(value), where

    for name in CONFIGURATIONS:
        est, _, _ = _fitted(name)
        check(vars(est), name)


# ---------------------------------------------------------------------------
# Version stamp
# ---------------------------------------------------------------------------


def test_pickled_state_records_version_without_touching_the_estimator():
    est, _, _ = _fitted("regressor")
    state = est.__getstate__()
    assert state["_sknumpynet_version"] == sknumpynet.__version__
    assert "_sknumpynet_version" not in vars(est)
    assert "_sknumpynet_version" not in vars(_pickle_round_trip(est))


def test_same_version_loads_silently(tmp_path):
    est, _, _ = _fitted("binary-strings")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        _pickle_round_trip(est)
        _save_round_trip(est, tmp_path)
        copy.deepcopy(est)
        clone(est)


@pytest.mark.parametrize("how", ["pickle", "joblib", "save-load"])
def test_other_version_warns(how, tmp_path, monkeypatch):
    est, X, _ = _fitted("binary-strings")
    with monkeypatch.context() as patch:
        # The version lives in sknumpynet._version (the package re-exports it).
        patch.setattr(sknumpynet._version, "__version__", "0.0.1")
        if how == "pickle":
            data = pickle.dumps(est)
        elif how == "joblib":
            joblib.dump(est, tmp_path / "model.joblib")
        else:
            save(est, tmp_path / "model.npz")
    with pytest.warns(InconsistentVersionWarning) as record:
        if how == "pickle":
            copy_ = pickle.loads(data)
        elif how == "joblib":
            copy_ = joblib.load(tmp_path / "model.joblib")
        else:
            copy_ = load(tmp_path / "model.npz")
    warning = record[0].message
    assert warning.estimator_name == "NumpyMLPClassifier"
    assert warning.original_sknumpynet_version == "0.0.1"
    assert warning.current_sknumpynet_version == sknumpynet.__version__
    assert "saved with sknumpynet 0.0.1" in str(warning)
    # A warning, not a failure: the model still works.
    assert_array_equal(copy_.predict(X), est.predict(X))


def test_pickle_without_stamp_warns_unknown_version():
    est, _, _ = _fitted("regressor")
    state = est.__getstate__()
    del state["_sknumpynet_version"]
    copy_ = NumpyMLPRegressor.__new__(NumpyMLPRegressor)
    with pytest.warns(InconsistentVersionWarning, match="sknumpynet unknown"):
        copy_.__setstate__(state)
    assert_array_equal(copy_.coefs_[0], est.coefs_[0])


# ---------------------------------------------------------------------------
# save / load: every configuration
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_save_load_every_configuration(name, tmp_path):
    est, X, y = _fitted(name)
    loaded = load(save(est, tmp_path / "model.npz"))
    assert_same_estimator(est, loaded)
    for method, expected in predictions(est, X).items():
        assert_array_equal(getattr(loaded, method)(X), expected, strict=True)
    # Continued training is identical too.
    _continue(est, X, y)
    _continue(loaded, X, y)
    assert_same_estimator(est, loaded)


def test_save_load_metadata_routing_requests(tmp_path):
    X, y = classification(80)
    weights = np.linspace(0.5, 1.5, X.shape[0])
    with sklearn.config_context(enable_metadata_routing=True):
        est = NumpyMLPClassifier((6,), max_iter=5, random_state=0)
        est.set_fit_request(sample_weight=True).set_score_request(sample_weight="w")
        est.fit(X, y, sample_weight=weights)
        loaded = load(save(est, tmp_path / "model.npz"))
        assert_same_estimator(est, loaded)
        requests = loaded.get_metadata_routing()._serialize()
        assert requests["fit"]["sample_weight"] is True
        assert {requests["fit"][name] for name in ("X_val", "y_val")} == {None}
        assert requests["score"] == {"sample_weight": "w"}


def test_save_writes_an_inspectable_npz_deterministically(tmp_path):
    est, _, _ = _fitted("multiclass-strings-sgd")
    first = save(est, tmp_path / "first.npz")
    second = save(est, tmp_path / "second.npz")
    assert Path(first).read_bytes() == Path(second).read_bytes()
    # numpy.load opens it: the arrays, and the metadata as bytes.
    with np.load(first, allow_pickle=False) as archive:
        header = json.loads(archive[METADATA])
        arrays = {name: archive[name] for name in archive.files if name != METADATA}
    content = header["content"]
    assert header["format"] == "sknumpynet-model"
    assert header["format_version"] == 1
    assert content["sknumpynet_version"] == sknumpynet.__version__
    coefs = content["state"]["coefs_"]
    assert [arrays[node["ref"]].shape for node in coefs] == [(5, 6), (6, 4), (4, 3)]
    # The checksum is the documented one.
    with zipfile.ZipFile(first) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != METADATA}
    assert header["sha256"] == documented_checksum(content, members)


def test_save_replaces_the_file_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old content")
    est, X, _ = _fitted("regressor")
    assert save(est, path) == str(path)
    assert_array_equal(load(path).predict(X), est.predict(X))
    assert os.listdir(tmp_path) == ["model.npz"]
    # Created as any file is: permissions from the umask, not private ones.
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_save_into_a_missing_directory(tmp_path):
    est, _, _ = _fitted("regressor")
    with pytest.raises(FileNotFoundError, match="No such directory"):
        save(est, tmp_path / "missing" / "model.npz")


class _MyClassifier(NumpyMLPClassifier):
    pass


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: make_pipeline(StandardScaler(), NumpyMLPRegressor()),
            "use skops",
        ),
        (lambda: _MyClassifier(), "not .*_MyClassifier"),
        (lambda: StandardScaler(), "not sklearn"),
    ],
    ids=["pipeline", "subclass", "foreign"],
)
def test_save_refuses_other_estimators(make, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        save(make(), tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    "attribute, value, match",
    [
        ("callback_", lambda: None, r"NumpyMLPRegressor\.callback_ holds function"),
        ("mixed_", np.array([1, "a"], dtype=object), "object array not all strings"),
        ("_keyed", {1: 2}, "non-string keys"),
        ("notes", "hello", "neither a constructor parameter nor fitted state"),
        ("complex_", np.ones(2, dtype=complex), "dtype complex128"),
    ],
)
def test_save_refuses_what_it_cannot_store_safely(attribute, value, match, tmp_path):
    est, _, _ = _fitted("regressor")
    setattr(est, attribute, value)
    with pytest.raises(TypeError, match=match):
        save(est, tmp_path / "model.npz")
    assert not os.listdir(tmp_path)


def test_save_load_new_attributes_generically(tmp_path):
    """Attributes added later (history_, ...) go through without code changes."""
    est, X, _ = _fitted("regressor")
    est.history_ = {
        "loss": [0.5, 0.25, float("inf")],
        "lr": np.array([0.1, 0.01], dtype=np.float32),
        "epochs": (1, np.int64(2)),
        "note": None,
        "score": np.float64("nan"),
        "scalar_array": np.array(2.5),
        "names": np.array(["a", "bc"], dtype=object),
        "flags": np.array([True, False]),
    }
    loaded = load(save(est, tmp_path / "model.npz"))
    assert_same_estimator(est, loaded)


# ---------------------------------------------------------------------------
# save / load: bad files
# ---------------------------------------------------------------------------


def _read(path):
    with zipfile.ZipFile(path) as archive:
        header = json.loads(archive.read(METADATA))
        members = {n: archive.read(n) for n in archive.namelist() if n != METADATA}
    return header, members


def _read_with_a_weight_changed(path, layer, change):
    """_read(path), with the first weight of coefs_[layer] set to
    change(that weight)."""
    header, members = _read(path)
    ref = header["content"]["state"]["coefs_"][layer]["ref"]
    array = np.lib.format.read_array(io.BytesIO(members[f"{ref}.npy"]))
    array[0, 0] = change(array[0, 0])
    members[f"{ref}.npy"] = npy_bytes(array)
    return header, members


def _write(path, header, members, metadata=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, metadata or json.dumps(header).encode())
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _craft(source, target, edit_content=None, edit_members=None, checksum=True):
    """A modified copy of a model file, its checksum recomputed (a forger's)."""
    header, members = _read(source)
    if edit_content is not None:
        edit_content(header["content"])
    if edit_members is not None:
        edit_members(members)
    if checksum:
        header["sha256"] = documented_checksum(header["content"], members)
    return _write(target, header, members)


class _Payload:
    """Pickled, it would create a file when unpickled: code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def model_file(tmp_path):
    est, X, _ = _fitted("multiclass-strings-sgd")
    return save(est, tmp_path / "model.npz"), est, X


def _assert_refused(path, match):
    with pytest.raises(ModelFileError, match=match) as excinfo:
        load(path)
    assert excinfo.value.path == os.fspath(path)
    assert str(excinfo.value).startswith(f"Cannot load {os.fspath(path)!r}: ")
    return excinfo.value


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.1, 0.5, 0.9, 0.99, "-1", "-22"])
def test_truncated_file(model_file, fraction, tmp_path):
    path, _, _ = model_file
    data = Path(path).read_bytes()
    size = (
        len(data) + int(fraction)
        if isinstance(fraction, str)
        else int(len(data) * fraction)
    )
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[:size])
    _assert_refused(truncated, "not a ZIP .*or it is truncated")


def test_random_byte_flips(model_file, tmp_path):
    """Flipped bytes are detected; a flip that changes nothing loads the same model.

    Most bytes of the file are covered by the ZIP structure, the members' CRCs
    and the checksum; a few (a timestamp or attribute field of the ZIP
    directory) carry no meaning, and a file differing there loads exactly the
    same estimator. Either way, never a crash and never a different model.
    """
    path, est, X = model_file
    data = Path(path).read_bytes()
    rng = np.random.RandomState(0)
    positions = rng.choice(len(data), size=40, replace=False)
    refused = 0
    for position in positions:
        damaged = bytearray(data)
        damaged[position] ^= 1 << rng.randint(8)
        target = tmp_path / "damaged.npz"
        target.write_bytes(bytes(damaged))
        try:
            loaded = load(target)
        except ModelFileError:
            refused += 1
        else:
            assert_same_estimator(est, loaded)
    assert refused >= 35


def test_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, coefs=np.ones((2, 2)))
    _assert_refused(path, "a plain NumPy .npz archive, not a model file")


def test_other_zip(tmp_path):
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _assert_refused(path, "a ZIP archive, not a model file")


def test_pickle_file(tmp_path):
    est, _, _ = _fitted("regressor")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    _assert_refused(path, "not a ZIP")


def test_extra_member(model_file, tmp_path):
    path, _, _ = model_file
    marker = tmp_path / "code-ran"
    crafted = _craft(
        path,
        tmp_path / "crafted.npz",
        edit_members=lambda m: m.update(
            {"payload.pkl": pickle.dumps(_Payload(marker))}
        ),
    )
    _assert_refused(crafted, r"unexpected members \['payload.pkl'\]")
    assert not marker.exists()


def test_missing_member(model_file, tmp_path):
    path, _, _ = model_file
    crafted = _craft(
        path, tmp_path / "crafted.npz", lambda c: None, lambda m: m.pop("a0003.npy")
    )
    _assert_refused(crafted, r"members \['a0003.npy'\] are missing")


@pytest.mark.parametrize(
    "version, match",
    [
        (2, "format version 2, written by a newer sknumpynet .*Upgrade sknumpynet"),
        (0, "invalid format version 0"),
        ("1", "invalid format version '1'"),
        (None, "invalid format version None"),
    ],
)
def test_wrong_format_version(model_file, version, match, tmp_path):
    path, _, _ = model_file
    header, members = _read(path)
    header["format_version"] = version
    _assert_refused(_write(tmp_path / "crafted.npz", header, members), match)


def test_foreign_json(model_file, tmp_path):
    path, _, _ = model_file
    _, members = _read(path)
    crafted = _write(tmp_path / "crafted.npz", {"format": "something-else"}, members)
    _assert_refused(crafted, "does not describe a sknumpynet model")
    crafted = _write(tmp_path / "crafted.npz", None, members, metadata=b"\xff{not json")
    _assert_refused(crafted, "not valid JSON")


def test_checksum_mismatch_in_metadata(model_file, tmp_path):
    path, _, _ = model_file

    def edit(content):
        content["params"]["alpha"] = 0.5

    crafted = _craft(path, tmp_path / "crafted.npz", edit, checksum=False)
    _assert_refused(crafted, "checksum mismatch: .*corrupted or modified")


def test_checksum_mismatch_in_an_array(model_file, tmp_path):
    path, _, _ = model_file
    # A valid ZIP with valid CRCs.
    header, members = _read_with_a_weight_changed(path, 0, lambda w: w + 1.0)
    _assert_refused(_write(tmp_path / "crafted.npz", header, members), "checksum")


def test_crafted_object_array_is_never_unpickled(model_file, tmp_path):
    path, _, _ = model_file
    marker = tmp_path / "code-ran"
    header, _ = _read(path)
    ref = header["content"]["state"]["coefs_"][0]["ref"]
    evil = np.array([_Payload(marker)], dtype=object)

    def replace(members):
        members[f"{ref}.npy"] = npy_bytes(evil, allow_pickle=True)

    # The manifest still says float64: the member's header gives it away.
    crafted = _craft(path, tmp_path / "a.npz", edit_members=replace)
    _assert_refused(crafted, "holds an object array, which could run code")

    # The manifest admits an object array: refused before reading it.
    def admit(content):
        content["arrays"][ref] = {"dtype": "|O", "shape": [1]}

    crafted = _craft(path, tmp_path / "b.npz", admit, replace)
    _assert_refused(crafted, "never objects")
    assert not marker.exists()


def test_crafted_pickle_members_are_never_unpickled(model_file, tmp_path):
    path, _, _ = model_file
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    header, _ = _read(path)
    ref = header["content"]["state"]["coefs_"][0]["ref"]

    def replace(members):
        members[f"{ref}.npy"] = payload

    crafted = _craft(path, tmp_path / "a.npz", edit_members=replace)
    _assert_refused(crafted, f"member '{ref}.npy' is not a valid .npy array")
    header, members = _read(path)
    crafted = _write(tmp_path / "b.npz", header, members, metadata=payload)
    _assert_refused(crafted, "not valid JSON")
    assert not marker.exists()


def _set(path, value):
    def edit(content):
        *parents, last = path
        node = content
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def _delete(*path):
    def edit(content):
        node = content
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return edit


CRAFTED = {
    "estimator-class": (
        _set(["estimator"], "Pipeline"),
        r"holds a 'Pipeline'; sknumpynet.load rebuilds only",
    ),
    "unknown-parameter": (
        _set(["params", "momentum_decay"], 0.5),
        r"parameters \['momentum_decay'\] that NumpyMLPClassifier .*does not have: "
        "the file",
    ),
    "newer-parameter": (
        lambda c: c.update(
            sknumpynet_version="9.0.0", params={**c["params"], "momentum_decay": 0.5}
        ),
        r"\['momentum_decay'\] .*saved by sknumpynet 9.0.0\): upgrade sknumpynet",
    ),
    "invalid-parameter": (
        _set(["params", "activation"], "evil"),
        "invalid parameters: The 'activation' parameter",
    ),
    "method-shadowing": (
        _set(["state", "_fit"], 1),
        "state attribute '_fit', which is no fitted attribute",
    ),
    "not-fitted-attribute-name": (
        _set(["state", "predict"], 1),
        "state attribute 'predict'",
    ),
    "parameter-in-state": (
        _set(["state", "_label_binarizer", "state", "neg_label"], 1),
        "state attribute 'neg_label'",
    ),
    "missing-weights": (_delete("state", "intercepts_"), "lacks"),
    "feature-count": (_set(["state", "n_features_in_"], 4), "n_features_in_ is 4"),
    "hidden-layers": (
        _set(["params", "hidden_layer_sizes"], [6, 5]),
        r"hidden layers of \[6, 4\] units",
    ),
    "output-activation": (
        _set(["state", "out_activation_"], "identity"),
        "out_activation_ is 'identity'",
    ),
    "unknown-value-type": (
        _set(["state", "loss_"], {"type": "function", "name": "os.system"}),
        "unknown value type 'function'",
    ),
    "dangling-array": (
        _set(["state", "coefs_", 0, "ref"], "a9999"),
        "refers to an array 'a9999' the file does not hold",
    ),
    "object-flag": (
        _set(["state", "coefs_", 0, "object"], True),
        "malformed string array",
    ),
    "loss-curve": (_set(["state", "loss_curve_"], "abc"), "loss_curve_ is not a list"),
    "iteration-count": (_set(["state", "n_iter_"], -1), "n_iter_ is -1"),
    "adam-step": (
        _set(["state", "_optimizer_state", "items", "t"], -3),
        "step count t is not a non-negative integer",
    ),
    "malformed-manifest": (
        _set(["arrays", "a0000", "shape"], [-1]),
        "invalid shape",
    ),
    "partial-state": (
        lambda c: c.update(state={"_best_params": c["state"]["_best_params"]}),
        "private state",
    ),
}


@pytest.mark.parametrize("case", CRAFTED)
def test_crafted_inconsistent_files(model_file, case, tmp_path):
    """A forger can recompute the checksum; the content is still checked."""
    path, _, _ = model_file
    edit, match = CRAFTED[case]
    crafted = _craft(path, tmp_path / "crafted.npz", edit)
    _assert_refused(crafted, match)


@pytest.mark.parametrize("dtype", ["int64", "float16"])
def test_crafted_weight_dtype(model_file, dtype, tmp_path):
    path, _, _ = model_file
    header, members = _read(path)
    content = header["content"]
    for node in content["state"]["coefs_"] + content["state"]["intercepts_"]:
        ref = node["ref"]
        array = np.lib.format.read_array(io.BytesIO(members[f"{ref}.npy"]))
        members[f"{ref}.npy"] = npy_bytes(array.astype(dtype))
        content["arrays"][ref]["dtype"] = np.dtype(dtype).str
    crafted = _craft(_write(tmp_path / "a.npz", header, members), tmp_path / "b.npz")
    _assert_refused(crafted, "only float32 and float64")


def test_crafted_non_finite_weights(model_file, tmp_path):
    path, _, _ = model_file
    header, members = _read_with_a_weight_changed(path, 1, lambda w: np.nan)
    crafted = _craft(_write(tmp_path / "a.npz", header, members), tmp_path / "b.npz")
    _assert_refused(crafted, "layer 1 has non-finite weights")


def test_compressed_member(model_file, tmp_path):
    path, _, _ = model_file
    header, members = _read(path)
    crafted = tmp_path / "crafted.npz"
    with zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(METADATA, json.dumps(header))
        for name, data in members.items():
            archive.writestr(name, data)
    _assert_refused(crafted, "is compressed")


def test_nonexistent_path(tmp_path):
    path = tmp_path / "missing.npz"
    with pytest.raises(FileNotFoundError, match="No such sknumpynet model file"):
        load(path)


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory, not a model file"):
        load(tmp_path)


def test_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)
    assert re.search("Parameters", ModelFileError.__doc__)


@pytest.fixture
def scaled_model_file(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3))
    est = NumpyMLPRegressor(
        hidden_layer_sizes=(2,), max_iter=2, feature_scale=True, random_state=0
    )
    est.fit(X, X[:, 0])
    return save(est, tmp_path / "scaled.npz"), est


@pytest.mark.parametrize(
    "value",
    [np.ones(4), np.ones(3, dtype=np.float32), np.array([1.0, np.nan, 1.0])],
    ids=["shape", "dtype", "nan"],
)
def test_bad_feature_scale_is_refused(scaled_model_file, tmp_path, value):
    path, _ = scaled_model_file
    header, _ = _read(path)
    ref = header["content"]["state"]["feature_scale_"]["ref"]
    buffer = io.BytesIO()
    np.save(buffer, value)

    def manifest(content):  # the manifest agrees: only the loader can object
        content["arrays"][ref] = {"dtype": value.dtype.str, "shape": [value.size]}

    crafted = _craft(
        path,
        tmp_path / "crafted.npz",
        manifest,
        edit_members=lambda m: m.update({ref + ".npy": buffer.getvalue()}),
    )
    _assert_refused(crafted, "feature_scale_ is not a finite float64 value per input")


def test_feature_scale_must_match_its_parameter(scaled_model_file, tmp_path):
    path, est = scaled_model_file
    assert_same_estimator(est, load(path))
    crafted = _craft(
        path,
        tmp_path / "crafted.npz",
        lambda content: content["params"].update(feature_scale=False),
    )
    _assert_refused(crafted, "feature_scale=False, but its fitted state holds")

    def drop_scale(content):
        del content["state"]["feature_scale_"]

    crafted = _craft(path, tmp_path / "dropped.npz", drop_scale)
    _assert_refused(crafted, "lacks feature_scale_|feature_scale_")
