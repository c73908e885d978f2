"""
==============================================
Saving, loading safely and resuming training
==============================================

A reader of the seed article asked how to save training so that the next
run continues it. This example trains a digit classifier for a few epochs,
saves it with :func:`sknumpynet.save` -- a file that never runs code when
loaded -- loads it in a *fresh Python process*, continues training there,
and checks that the result is exactly, to the last bit, the network that
uninterrupted training gives. Then it exports the network to ONNX, to run it
in other runtimes.

Which way to save for which need:

* ``joblib.dump`` / ``pickle``: the most convenient, for files you wrote
  yourself (loading a pickle can run arbitrary code);
* :func:`sknumpynet.save` / :func:`sknumpynet.load`: for files from sources
  you do not control -- no code runs on load, and damaged or crafted files
  are refused with a clear error;
* skops (``skops.io.dump`` and ``skops.io.load(path,
  trusted=sknumpynet.trusted_types())``): whole pipelines, without pickle;
* ONNX (:func:`sknumpynet.register_onnx_converters`, then
  ``skl2onnx.to_onnx``): to predict in other runtimes and languages.
"""

# %%
# Train for a while
# -----------------
# The digits are scaled by a :class:`~sklearn.preprocessing.StandardScaler`
# fitted on the training set, then the network learns with ``partial_fit``,
# one epoch per call, as if the data arrived over several sessions.
import os
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknumpynet
from sknumpynet import ModelFileError, NumpyMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train_scaled, X_test_scaled = scaler.transform(X_train), scaler.transform(X_test)
classes = np.unique(y)


def new_network():
    return NumpyMLPClassifier(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0
    )


first_session = new_network()
for epoch in range(10):
    first_session.partial_fit(X_train_scaled, y_train, classes=classes)
print(f"after 10 epochs: test accuracy {first_session.score(X_test_scaled, y_test)}")

# %%
# Save
# ----
# The file holds the parameters, the weights, the label encoding and the
# optimizer's state (Adam's moment estimates): everything needed to predict
# and to continue training. It is a NumPy ``.npz`` archive with a JSON
# description, a format version and a SHA-256 checksum; the arrays are read
# back with ``allow_pickle=False``.
workdir = tempfile.mkdtemp()
path = sknumpynet.save(first_session, os.path.join(workdir, "digits.npz"))
np.savez(os.path.join(workdir, "data.npz"), X=X_train_scaled, y=y_train)
with np.load(path) as archive:
    print(f"{os.path.getsize(path)} bytes, members: {archive.files[:4]} ...")

# %%
# Load in a fresh process and continue training
# ---------------------------------------------
# A new Python interpreter loads the model, trains ten more epochs on the
# same data and saves the result, as a second session would.
second_session = """
import sys
import numpy as np
import sknumpynet

workdir = sys.argv[1]
model = sknumpynet.load(workdir + "/digits.npz")
data = np.load(workdir + "/data.npz")
for epoch in range(10):
    model.partial_fit(data["X"], data["y"])
sknumpynet.save(model, workdir + "/digits-resumed.npz")
print("second session: trained to epoch", len(model.loss_curve_))
"""
result = subprocess.run(
    [sys.executable, "-c", second_session, workdir],
    capture_output=True,
    text=True,
    check=True,
)
print(result.stdout.strip())
resumed = sknumpynet.load(os.path.join(workdir, "digits-resumed.npz"))

# %%
# The same network as uninterrupted training
# ------------------------------------------
# Twenty epochs in one go give the same weights, bit for bit: the optimizer's
# state travelled with the model, so the second session took exactly the
# steps the first would have taken next.
uninterrupted = new_network()
for epoch in range(20):
    uninterrupted.partial_fit(X_train_scaled, y_train, classes=classes)

same_weights = all(
    np.array_equal(a, b)
    for a, b in zip(
        resumed.coefs_ + resumed.intercepts_,
        uninterrupted.coefs_ + uninterrupted.intercepts_,
    )
)
print(f"identical weights: {same_weights}")
print(f"identical loss curves: {resumed.loss_curve_ == uninterrupted.loss_curve_}")
print(f"after 20 epochs: test accuracy {resumed.score(X_test_scaled, y_test)}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, 21), uninterrupted.loss_curve_, lw=4, alpha=0.4, label="one run")
ax.plot(range(1, 11), resumed.loss_curve_[:10], "o-", ms=4, label="first session")
ax.plot(range(11, 21), resumed.loss_curve_[10:], "s-", ms=4, label="second session")
ax.axvline(10.5, color="grey", ls=":")
ax.set(xlabel="epoch", ylabel="training loss", title="Saved, loaded, resumed")
ax.legend()
fig.tight_layout()

# %%
# A damaged file is refused
# -------------------------
# A truncated copy (an interrupted download, say) is not half-loaded: it
# raises :class:`~sknumpynet.ModelFileError`, whose message says what is
# wrong. So do corrupted, foreign and crafted files.
truncated = os.path.join(workdir, "truncated.npz")
with open(path, "rb") as source, open(truncated, "wb") as target:
    target.write(source.read()[:2000])
try:
    sknumpynet.load(truncated)
except ModelFileError as error:
    print(error)

# %%
# Export to ONNX
# --------------
# With the optional extra (``pip install 'sknumpynet[onnx]'``: skl2onnx,
# onnx, onnxruntime), :func:`sknumpynet.register_onnx_converters` teaches
# skl2onnx to convert sknumpynet estimators, alone or -- as here -- inside a
# pipeline. The ONNX graph computes the network with ``MatMul``, ``Add`` and
# activation nodes; onnxruntime then predicts the same labels, and
# probabilities equal to ours within float32 rounding.
pipeline = make_pipeline(scaler, resumed)  # both steps are already fitted
try:
    import onnxruntime
    from skl2onnx import to_onnx
except ImportError:
    print("skl2onnx and onnxruntime are not installed: skipping the ONNX export.")
else:
    sknumpynet.register_onnx_converters()
    onnx_model = to_onnx(
        pipeline, X_test[:1].astype(np.float32), options={"zipmap": False}
    )
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, probabilities = session.run(None, {"X": X_test.astype(np.float32)})
    print(f"ONNX labels equal ours: {np.array_equal(labels, pipeline.predict(X_test))}")
    difference = np.abs(probabilities - pipeline.predict_proba(X_test)).max()
    print(f"largest probability difference: {difference:.1e}")
