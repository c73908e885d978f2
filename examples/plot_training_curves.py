"""
==================================
Training curves and early stopping
==================================

With ``early_stopping=True``, a :class:`~sknumpynet.NumpyMLPClassifier` holds
out ``validation_fraction`` of its training data, scores the network on it
after every epoch (``validation_scores_``) and stops once the score has not
improved by ``tol`` for ``n_iter_no_change`` epochs. It then restores the
weights of the best epoch. This example plots ``loss_curve_`` and
``validation_scores_``, marks the best epoch, and checks that the fitted
weights are indeed that epoch's.
"""

# %%
# Fit with early stopping
# -----------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

params = dict(
    hidden_layer_sizes=(64,),
    learning_rate_init=0.01,
    early_stopping=True,
    validation_fraction=0.1,
    n_iter_no_change=10,
    random_state=0,
)
clf = NumpyMLPClassifier(**params).fit(X_train, y_train)

best_epoch = int(np.argmax(clf.validation_scores_)) + 1
print(f"epochs run: {clf.n_iter_}")
print(f"best epoch: {best_epoch}, validation accuracy {clf.best_validation_score_:.3f}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Training stopped ``n_iter_no_change`` epochs after the last improvement of
# the validation score, that is, after epoch ``best_epoch + n_iter_no_change``
# (plus one, as in scikit-learn: the count must *exceed* it).
#
# The curves
# ----------
# The training loss keeps falling after the best epoch, while the validation
# accuracy stalls: the network starts to fit the training set more closely
# without generalizing better.
epochs = np.arange(1, clf.n_iter_ + 1)
fig, (ax_loss, ax_score) = plt.subplots(2, 1, sharex=True, figsize=(6.5, 6))
ax_loss.plot(epochs, clf.loss_curve_, marker=".")
ax_loss.set_ylabel("training loss (log-loss)")
ax_loss.set_title("NumpyMLPClassifier on digits, early_stopping=True")
ax_score.plot(epochs, clf.validation_scores_, marker=".", color="tab:green")
ax_score.set_ylabel("validation accuracy")
ax_score.set_xlabel("epoch")
for ax in (ax_loss, ax_score):
    ax.axvline(best_epoch, color="tab:red", linestyle="--")
ax_score.plot(
    best_epoch,
    clf.best_validation_score_,
    marker="o",
    markersize=10,
    color="tab:red",
    label=f"best epoch ({best_epoch}): weights restored",
)
ax_score.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The best weights are restored
# -----------------------------
# With the same ``random_state``, a fit limited to ``max_iter=best_epoch``
# follows exactly the same path (same initial weights, same validation
# split, same shuffles) and ends at the best epoch. Its weights are those of
# the early-stopped model: the model kept the best epoch, not the last one.
# (The short fit stops at ``max_iter`` on purpose, so its ConvergenceWarning
# is silenced.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    short = NumpyMLPClassifier(**{**params, "max_iter": best_epoch}).fit(
        X_train, y_train
    )
same = all(
    np.array_equal(a, b)
    for a, b in zip(clf.coefs_ + clf.intercepts_, short.coefs_ + short.intercepts_)
)
print(f"weights of the early-stopped model == weights after epoch {best_epoch}: {same}")
