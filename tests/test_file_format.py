"""The file format of :func:`sknumpynet.save` stays what it is: golden files.

``tests/data`` holds two model files written by sknumpynet 0.1.0 (commit
539c939), a third one of a TabularMLPClassifier with its preprocessor
(written when save learned the tabular estimators), and the predictions the
saved models made, made by ``tests/data/make_golden_models.py`` (which says
how and why). Whatever is rearranged in the writer and the loader:

* the files still load, into the estimators that were saved, which predict
  the same to the last bit on the writer's NumPy release (another release
  bundles another OpenBLAS, whose matrix products may round differently:
  there the predictions agree to round-off, the weights to the bit);
* saving a loaded file writes it again byte for byte: the same ZIP framing
  (member order, fixed timestamps, permissions), the same JSON text and the
  same ``.npy`` members. The versions of sknumpynet, scikit-learn and NumPy
  that the writer records (and that the checksum covers) are set to the
  golden file's for that save, so what is compared is the format, not the
  versions installed;
* the checksum is computed as docs/user_guide/file_format.rst documents it, so a
  file edited and signed again by that recipe is checked by its content
  alone: the loader refuses what is inconsistent in it.
"""

import hashlib
import io
import json
import math
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal

import sknumpynet
from sknumpynet import (
    InconsistentVersionWarning,
    ModelFileError,
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
    TabularPreprocessor,
    load,
    save,
)

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = {
    "classifier": DATA / "golden_sgd_classifier.npz",
    "regressor": DATA / "golden_adam_regressor.npz",
    "tabular_classifier": DATA / "golden_tabular_classifier.npz",
}


@pytest.fixture(scope="module")
def expected():
    with np.load(DATA / "golden_predictions.npz") as predictions:
        return dict(predictions)


def _load_golden(name):
    with warnings.catch_warnings():
        # Once sknumpynet is past 0.1.0, loading warns that the file is older.
        warnings.simplefilter("ignore", InconsistentVersionWarning)
        return load(GOLDEN[name])


def _assert_predicts_as_saved(name, predicted, saved, rtol=1e-13):
    """To round-off: the loaded weights are checked to the byte by
    test_save_writes_the_golden_file_again, but the matrix products that
    predict with them round differently in the last bits with the OpenBLAS
    kernel, which NumPy's release and the processor choose (NumPy 1.24.0's
    differ from 2.4.6's by up to 12 units in the last place on the
    regressor's output; 2.4.6's Haswell kernel from the writer's by one).
    Dtype and shape are checked exactly. A float32 network (the tabular
    classifier's) rounds at float32's precision: ``rtol``.
    """
    assert predicted.dtype == saved.dtype and predicted.shape == saved.shape
    assert_allclose(predicted, saved, rtol=rtol, atol=0)


def test_golden_classifier_loads_and_predicts_as_saved(expected):
    clf = _load_golden("classifier")
    assert type(clf) is NumpyMLPClassifier
    assert_array_equal(clf.classes_, ["cat", "dog", "emu"], strict=True)
    assert list(clf.feature_names_in_) == list(expected["classifier_columns"])
    assert isinstance(clf.random_state, np.random.RandomState)
    assert clf._optimizer_state["solver"] == "sgd"
    # Python strings as column names: with pandas < 3 the NumPy strings of the
    # .npz file would stay numpy.str_, which scikit-learn takes for no names.
    X = pd.DataFrame(
        expected["X_classifier"], columns=expected["classifier_columns"].tolist()
    )
    _assert_predicts_as_saved(
        "classifier", clf.predict_proba(X), expected["proba_classifier"]
    )
    assert_array_equal(clf.predict(X), expected["predict_classifier"], strict=True)


def test_golden_regressor_loads_and_predicts_as_saved(expected):
    reg = _load_golden("regressor")
    assert type(reg) is NumpyMLPRegressor
    assert reg.activation == ["tanh", "relu"] and reg.dropout == [0.1, 0.0]
    assert type(reg.alpha) is np.float64 and reg.n_iter_no_change == math.inf
    assert reg._optimizer_state["solver"] == "adam" and reg.n_outputs_ == 2
    X = expected["X_regressor"]
    _assert_predicts_as_saved(
        "regressor", reg.predict(X), expected["predict_regressor"]
    )


def _tabular_probe(predictions):
    """The raw probe frame, rebuilt from its columns as make_golden_models
    stored them: "" marks a missing color, -1 a missing member."""
    color = predictions["X_color"].astype(object)
    color[color == ""] = None
    member = pd.array(predictions["X_member"] == 1, dtype="boolean")
    member[predictions["X_member"] == -1] = pd.NA
    return pd.DataFrame(
        {"size": predictions["X_size"], "color": color, "member": member}
    )


def test_golden_tabular_classifier_loads_and_predicts_as_saved():
    with np.load(DATA / "golden_tabular_predictions.npz") as stored:
        expected = dict(stored)
    clf = _load_golden("tabular_classifier")
    assert type(clf) is TabularMLPClassifier
    # The file predates the parameter: its model is RealMLP-TD-S, whatever
    # today's default.
    assert clf.recipe == "td-s"
    assert type(clf.preprocessor_) is TabularPreprocessor
    assert_array_equal(clf.classes_, ["high", "low"], strict=True)
    assert clf.feature_names_in_.tolist() == ["size", "color", "member"]
    assert clf.preprocessor_.feature_kinds_.tolist() == [
        "numeric",
        "categorical",
        "boolean",
    ]
    assert clf.preprocessor_.categories_[1].tolist() == ["blue", "green", "red"]
    X = _tabular_probe(expected)
    assert X["color"][0] == "purple" and X["color"].isna()[1]  # unseen, missing
    _assert_predicts_as_saved(
        "tabular_classifier", clf.predict_proba(X), expected["proba"], rtol=1e-6
    )
    assert_array_equal(clf.predict(X), expected["predict"], strict=True)


def _members(data):
    """{member name: bytes} of a model file, in archive order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


#: Constructor parameters an estimator gained after its golden file was
#: written, with their defaults: the file loads with them at their defaults,
#: and saving it again adds exactly them.
PARAMETERS_ADDED_SINCE = {
    "classifier": {
        "label_smoothing": 0.0,
        "parametrization": "standard",
        "feature_scale": False,
        "learning_rate_factors": None,
    },
    "regressor": {
        "parametrization": "standard",
        "feature_scale": False,
        "learning_rate_factors": None,
    },
    # None: the recipe's, which is 0 for "td-s", the recipe of the files
    # written before the parameter existed (not today's default).
    "tabular_classifier": {
        "dropout": None,
        "weight_decay": None,
        "recipe": "td-s",
        "numeric_embedding": None,
        "n_members": None,
    },
}
#: The same for an estimator held in the fitted state (the tabular
#: estimators' ``preprocessor_``), by the attribute that holds it.
NESTED_PARAMETERS_ADDED_SINCE = {
    "tabular_classifier": {
        "preprocessor_": {"max_one_hot": None, "datetime_periodic": True},
    },
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_save_writes_the_golden_file_again(name, tmp_path, monkeypatch):
    golden = GOLDEN[name].read_bytes()
    estimator = _load_golden(name)
    content = json.loads(_members(golden)["sknumpynet.json"])["content"]
    with monkeypatch.context() as patch:
        patch.setattr(sknumpynet._version, "__version__", content["sknumpynet_version"])
        patch.setattr(sklearn, "__version__", content["sklearn_version"])
        patch.setattr(np, "__version__", content["numpy_version"])
        again = Path(save(estimator, tmp_path / "again.npz")).read_bytes()
    golden_members, members = _members(golden), _members(again)
    assert list(members) == list(golden_members)
    added = PARAMETERS_ADDED_SINCE.get(name)
    if added:
        # The arrays are the same bytes; the JSON differs by the new
        # parameters alone, at their defaults.
        again_content = json.loads(members.pop("sknumpynet.json"))["content"]
        golden_members.pop("sknumpynet.json")
        assert {key: again_content["params"].pop(key) for key in added} == added
        for owner, nested in NESTED_PARAMETERS_ADDED_SINCE.get(name, {}).items():
            params = again_content["state"][owner]["params"]
            assert {key: params.pop(key) for key in nested} == nested
        assert again_content == content
        for member, data in members.items():
            assert data == golden_members[member], f"member {member} differs"
        return
    # The JSON first, as text, for a readable difference.
    assert members.pop("sknumpynet.json").decode() == (
        golden_members.pop("sknumpynet.json").decode()
    )
    for member, data in members.items():
        assert data == golden_members[member], f"member {member} differs"
    assert again == golden  # and the ZIP framing around the members


def _framed(data):
    return len(data).to_bytes(8, "little") + data


def _documented_checksum(content, members):
    """The SHA-256 of a file, by the recipe of docs/user_guide/file_format.rst."""
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")
    digest = hashlib.sha256(b"sknumpynet-model\n" + _framed(canonical))
    for name in sorted(name for name in members if name.endswith(".npy")):
        digest.update(_framed(name.encode("ascii")) + _framed(members[name]))
    return digest.hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_checksum_is_the_documented_one(name):
    members = _members(GOLDEN[name].read_bytes())
    header = json.loads(members["sknumpynet.json"])
    assert set(header) == {"format", "format_version", "sha256", "content"}
    assert (header["format"], header["format_version"]) == ("sknumpynet-model", 1)
    assert header["sha256"] == _documented_checksum(header["content"], members)


def _signed_again(path, edit, tmp_path):
    """A copy of a model file with its content edited and its checksum redone."""
    members = _members(Path(path).read_bytes())
    header = json.loads(members["sknumpynet.json"])
    edit(header["content"])
    header["sha256"] = _documented_checksum(header["content"], members)
    members["sknumpynet.json"] = json.dumps(header, indent=1, sort_keys=True).encode()
    copy = tmp_path / "edited.npz"
    with zipfile.ZipFile(copy, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return copy


def _set_solver(solver):
    def edit(content):
        content["state"]["_optimizer_state"]["items"]["solver"] = solver

    return edit


def _add_state(name, value):
    def edit(content):
        content["state"][name] = value

    return edit


def test_a_tabular_file_without_recipe_loads_as_td_s(tmp_path):
    # A file written before recipe existed holds a RealMLP-TD-S model, which
    # the default ("td") would not rebuild: load takes the older value.
    X = pd.DataFrame({"a": np.linspace(-1.0, 1.0, 40), "b": ["u", "v"] * 20})
    y = X["a"].to_numpy() * 2.0
    reg = TabularMLPRegressor((4,), recipe="td-s", n_epochs=2, random_state=0)
    reg.fit(X, y)
    path = _signed_again(
        save(reg, tmp_path / "reg.npz"),
        lambda content: content["params"].pop("recipe"),
        tmp_path,
    )
    loaded = load(path)
    assert loaded.recipe == "td-s"
    assert_array_equal(loaded.predict(X), reg.predict(X), strict=True)


def test_a_file_signed_again_unchanged_loads(tmp_path):
    path = _signed_again(GOLDEN["regressor"], lambda content: None, tmp_path)
    X = np.zeros((1, 2))
    assert_array_equal(load(path).predict(X), _load_golden("regressor").predict(X))


@pytest.mark.parametrize(
    "edit, match",
    [
        (_set_solver("rmsprop"), "unknown solver 'rmsprop'"),
        (_set_solver("adam"), "adam optimizer state lacks"),
        # The callbacks' bookkeeping is no fitted state: never in a file.
        (_add_state("_skl_callbacks", []), "'_skl_callbacks', which is no fitted"),
        (_add_state("bad-name_", 1), "'bad-name_', which is no fitted"),
    ],
    ids=["unknown-solver", "other-solver", "callbacks", "not-an-identifier"],
)
def test_loader_refuses_inconsistent_content(edit, match, tmp_path):
    path = _signed_again(GOLDEN["classifier"], edit, tmp_path)
    with pytest.raises(ModelFileError, match=match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            load(path)
