"""The file format of :func:`sknumpynet.save` stays what it is: golden files.

``tests/data`` holds two model files written by sknumpynet 0.1.0 (commit
539c939) and the predictions the saved models made, made by
``tests/data/make_golden_models.py`` (which says how and why). Whatever is
rearranged in the writer and the loader:

* the files still load, into the estimators that were saved, which predict
  the same to the last bit (on the same NumPy arithmetic as the writer's);
* saving a loaded file writes it again byte for byte: the same ZIP framing
  (member order, fixed timestamps, permissions), the same JSON text and the
  same ``.npy`` members. The versions of sknumpynet, scikit-learn and NumPy
  that the writer records (and that the checksum covers) are set to the
  golden file's for that save, so what is compared is the format, not the
  versions installed.
"""

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
from numpy.testing import assert_array_equal

import sknumpynet
from sknumpynet import (
    InconsistentVersionWarning,
    NumpyMLPClassifier,
    NumpyMLPRegressor,
    load,
    save,
)

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = {
    "classifier": DATA / "golden_sgd_classifier.npz",
    "regressor": DATA / "golden_adam_regressor.npz",
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


def test_golden_classifier_loads_and_predicts_as_saved(expected):
    clf = _load_golden("classifier")
    assert type(clf) is NumpyMLPClassifier
    assert_array_equal(clf.classes_, ["cat", "dog", "emu"], strict=True)
    assert list(clf.feature_names_in_) == list(expected["classifier_columns"])
    assert isinstance(clf.random_state, np.random.RandomState)
    assert clf._optimizer_state["solver"] == "sgd"
    X = pd.DataFrame(
        expected["X_classifier"], columns=list(expected["classifier_columns"])
    )
    assert_array_equal(clf.predict_proba(X), expected["proba_classifier"], strict=True)
    assert_array_equal(clf.predict(X), expected["predict_classifier"], strict=True)


def test_golden_regressor_loads_and_predicts_as_saved(expected):
    reg = _load_golden("regressor")
    assert type(reg) is NumpyMLPRegressor
    assert reg.activation == ["tanh", "relu"] and reg.dropout == [0.1, 0.0]
    assert type(reg.alpha) is np.float64 and reg.n_iter_no_change == math.inf
    assert reg._optimizer_state["solver"] == "adam" and reg.n_outputs_ == 2
    X = expected["X_regressor"]
    assert_array_equal(reg.predict(X), expected["predict_regressor"], strict=True)


def _members(data):
    """{member name: bytes} of a model file, in archive order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


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
    # The JSON first, as text, for a readable difference.
    assert members.pop("sknumpynet.json").decode() == (
        golden_members.pop("sknumpynet.json").decode()
    )
    for member, data in members.items():
        assert data == golden_members[member], f"member {member} differs"
    assert again == golden  # and the ZIP framing around the members
