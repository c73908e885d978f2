"""
====================================
Side by side with scikit-learn's MLP
====================================

:class:`~sknumpynet.NumpyMLPClassifier` is a drop-in superset of
scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`. Given the same
hyper-parameters and the same integer ``random_state``, the ``"sgd"`` and
``"adam"`` solvers draw the same initial weights, shuffle the data in the same
order and make the same updates, so the two classifiers learn the same
network. This example fits both on the digits data, overlays their loss
curves, compares their weights and times the two fits.
"""

# %%
# The data and the shared hyper-parameters
# ----------------------------------------
# The activation is passed explicitly: the two defaults differ (sknumpynet's
# is the seed article's sigmoid, ``"logistic"``; scikit-learn's is
# ``"relu"``).
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

params = dict(
    hidden_layer_sizes=(64,),
    activation="logistic",
    solver="adam",
    learning_rate_init=0.01,
    max_iter=200,
    random_state=0,
)

# %%
# Fit both, timing each fit
# -------------------------
# Each fit is repeated three times and the fastest run is kept, which
# filters out some of the noise of a busy machine.


def time_fit(estimator_class, n_repeats=3):
    """Fit a fresh estimator n_repeats times; return the last one and the best time."""
    times = []
    for _ in range(n_repeats):
        estimator = estimator_class(**params)
        start = time.perf_counter()
        estimator.fit(X, y)
        times.append(time.perf_counter() - start)
    return estimator, min(times)


ours, ours_time = time_fit(NumpyMLPClassifier)
theirs, theirs_time = time_fit(MLPClassifier)
print(f"epochs: sknumpynet {ours.n_iter_}, scikit-learn {theirs.n_iter_}")

# %%
# The same network
# ----------------
# The loss curves and the weights agree to round-off error.
loss_difference = np.max(np.abs(np.subtract(ours.loss_curve_, theirs.loss_curve_)))
coef_difference = max(np.max(np.abs(a - b)) for a, b in zip(ours.coefs_, theirs.coefs_))
intercept_difference = max(
    np.max(np.abs(a - b)) for a, b in zip(ours.intercepts_, theirs.intercepts_)
)
print(f"max |loss difference| over all epochs: {loss_difference:.2e}")
print(f"max |coefs_ difference|:               {coef_difference:.2e}")
print(f"max |intercepts_ difference|:          {intercept_difference:.2e}")
print(
    "same predictions on every sample:",
    bool(np.array_equal(ours.predict(X), theirs.predict(X))),
)

# %%
# The two loss curves, drawn one over the other: the dashed curve of
# scikit-learn lies exactly on sknumpynet's.
epochs = np.arange(1, ours.n_iter_ + 1)
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(epochs, ours.loss_curve_, linewidth=4, alpha=0.5, label="sknumpynet")
ax.plot(
    np.arange(1, theirs.n_iter_ + 1),
    theirs.loss_curve_,
    linestyle="--",
    color="black",
    label="scikit-learn",
)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log-loss)")
ax.set_title("Same hyper-parameters, same seed: the same loss curve")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Fit times
# ---------
# Both packages run the same arithmetic through NumPy; sknumpynet arranges it
# differently (one flat parameter buffer, reused work buffers, batches
# gathered into a preallocated array; see the user guide's performance page).
# The ratio below is one measurement on the machine that built this page:
# timings vary by machine, BLAS library and load, so run the example on yours.
ratio = theirs_time / ours_time
print(f"fit time: sknumpynet {ours_time:.3f} s, scikit-learn {theirs_time:.3f} s")
print(f"scikit-learn time / sknumpynet time: {ratio:.2f}")

fig, ax = plt.subplots(figsize=(6.5, 2.5))
ax.barh(["scikit-learn", "sknumpynet"], [theirs_time, ours_time], color=["C7", "C0"])
ax.set_xlabel("fit time (s), best of 3")
ax.set_title(f"Fit time on this machine (ratio {ratio:.2f})")
fig.tight_layout()
plt.show()
