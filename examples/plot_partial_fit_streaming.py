"""
=============================
Streaming data to partial_fit
=============================

When data arrives in chunks -- from a stream, or from files too large to
load at once -- :meth:`~sknumpynet.NumpyMLPClassifier.partial_fit` trains the
network one chunk at a time: one epoch over each chunk, with the weights and
the optimizer's state carried from call to call. This example streams the
digits data in chunks of 100 images, tracks the accuracy on a held-out set
after every chunk, and shows why the order of the stream matters.
"""

# %%
# A held-out set and a stream
# ---------------------------
# The pixel intensities lie in 0..16, a scale known in advance, so each chunk
# can be scaled on its own (no scaler to fit on the whole stream).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sknumpynet import NumpyMLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_stream, X_test, y_stream, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
classes = np.unique(y)  # every class, known before the first chunk arrives
chunk_size = 100
n_passes = 3


def stream(X, y, chunk_size):
    """Yield the data in consecutive chunks, as a stream would deliver it."""
    for start in range(0, X.shape[0], chunk_size):
        yield X[start : start + chunk_size], y[start : start + chunk_size]


# %%
# Learning chunk by chunk
# -----------------------
# ``classes=`` is required on the first call (a chunk need not contain every
# class); later calls may omit it. Each call runs one epoch over the chunk in
# mini-batches of ``batch_size`` rows. After each chunk the classifier is
# scored on the held-out set. The stream is passed three times.
def learn_from_stream(X, y):
    clf = NumpyMLPClassifier(
        hidden_layer_sizes=(32,),
        batch_size=20,  # five optimizer steps per chunk
        learning_rate_init=0.01,
        random_state=0,
    )
    seen, scores = [], []
    for _ in range(n_passes):
        for X_chunk, y_chunk in stream(X, y, chunk_size):
            if not hasattr(clf, "classes_"):
                clf.partial_fit(X_chunk, y_chunk, classes=classes)
            else:
                clf.partial_fit(X_chunk, y_chunk)
            seen.append(clf.t_)
            scores.append(clf.score(X_test, y_test))
    return clf, np.array(seen), np.array(scores)


clf, seen, scores = learn_from_stream(X_stream, y_stream)
print(f"{len(clf.loss_curve_)} calls to partial_fit, {clf.t_} samples seen")
print(f"held-out accuracy after the first chunk: {scores[0]:.3f}")
print(f"held-out accuracy at the end:            {scores[-1]:.3f}")

# %%
# The same stream, sorted by class
# --------------------------------
# ``partial_fit`` shuffles the rows *within* a chunk, not across chunks. If
# the stream is ordered -- here sorted by digit, so that each chunk holds one
# or two classes -- the network keeps adapting to the latest classes and
# forgets the others.
order = np.argsort(y_stream, kind="stable")
_, seen_sorted, scores_sorted = learn_from_stream(X_stream[order], y_stream[order])
print(f"held-out accuracy at the end, sorted stream: {scores_sorted[-1]:.3f}")

# %%
# The held-out accuracy after every chunk, for both streams (the dotted lines
# mark the end of each pass over the stream).
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(seen, scores, marker=".", label="shuffled stream")
ax.plot(seen_sorted, scores_sorted, marker=".", label="stream sorted by class")
for end_of_pass in range(1, n_passes):
    ax.axvline(end_of_pass * X_stream.shape[0], color="gray", linestyle=":")
ax.set_xlabel("training samples seen (t_)")
ax.set_ylabel("held-out accuracy")
ax.set_ylim(0, 1)
ax.set_title(f"partial_fit on digits, chunks of {chunk_size} images")
ax.legend(loc="center right")
fig.tight_layout()
plt.show()
