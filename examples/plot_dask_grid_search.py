"""
======================================================
Grid search and incremental training on a Dask cluster
======================================================

scikit-learn's searches distribute their fits with joblib, and joblib can
send them to a `Dask <https://www.dask.org>`_ cluster: the same
:class:`~sklearn.model_selection.GridSearchCV`, run under
``joblib.parallel_config(backend="dask")``, fits its candidates on the
cluster's workers and gives the same results as in one process. For data in
a chunked ``dask.array``, dask-ml's ``Incremental`` wrapper feeds the chunks to
:meth:`~sknumpynet.NumpyMLPClassifier.partial_fit` one after the other and
predicts and scores lazily, chunk by chunk.

This example starts a small local cluster, runs both, and shuts the cluster
down. It needs ``pip install "sknumpynet[dask]"`` (dask, distributed and
dask-ml).
"""

# %%
# A local cluster
# ---------------
# Two workers of one thread each. They are threads of this process here
# (``processes=False``), so that the script runs as it is, in the
# documentation build and anywhere else; with worker *processes* -- the
# usual choice, see :ref:`scaling_out` -- the code that starts the cluster
# must sit under ``if __name__ == "__main__":``, because the workers import
# the main script. Worker threads share this process's BLAS library, so it is
# limited to one thread: two workers times one BLAS thread, no
# oversubscription. (Worker processes started by Dask's nanny get one BLAS
# thread each by default.)
import time

import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sknumpynet import NumpyMLPClassifier

blas_limits = threadpool_limits(limits=1, user_api="blas")
cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
)
client = Client(cluster)
print(f"{len(client.scheduler_info()['workers'])} workers")

# %%
# A grid search on the cluster
# ----------------------------
# The search is written as usual; only the ``parallel_config`` block differs.
# ``n_jobs=-1`` means every thread of every worker.
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
pipe = make_pipeline(
    StandardScaler(),
    NumpyMLPClassifier(learning_rate_init=0.01, early_stopping=True, random_state=0),
)
param_grid = {
    "numpymlpclassifier__hidden_layer_sizes": [(16,), (64,)],
    "numpymlpclassifier__alpha": [1e-4, 1e-2, 1.0],
}
search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=-1)
start = time.perf_counter()
with joblib.parallel_config(backend="dask"):
    search.fit(X_train, y_train)
n_candidates = len(search.cv_results_["params"])
elapsed = time.perf_counter() - start
print(f"{n_candidates} candidates x 3 folds on the cluster in {elapsed:.1f} s")
print(f"best parameters: {search.best_params_}")
print(f"test accuracy of the refitted pipeline: {search.score(X_test, y_test):.3f}")

results = pd.DataFrame(search.cv_results_)
results = results.rename(columns=lambda name: name.replace("numpymlpclassifier__", ""))
print(
    results[["param_hidden_layer_sizes", "param_alpha", "mean_test_score"]]
    .sort_values("mean_test_score", ascending=False)
    .to_string(index=False)
)

# %%
# With an integer ``random_state``, where a fit runs does not change it: the
# same search in one process gives the same scores and the same choice.
local_search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=1).fit(X_train, y_train)
same_scores = np.array_equal(
    local_search.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
)
print(f"same scores as n_jobs=1: {same_scores}")
print(f"same best parameters: {local_search.best_params_ == search.best_params_}")

# %%
# Incremental training on a dask array
# ------------------------------------
# The training set as a dask array of 7 chunks of 200 rows (in practice, an
# array too large for one machine's memory, read from disk chunk by chunk).
# Pixel intensities lie in 0..16, a scale known in advance, so each chunk is
# scaled on its own. ``Incremental.partial_fit`` makes one pass over the
# chunks -- one call to the network's ``partial_fit`` per chunk, in a random
# order of the chunks -- and ``classes=`` is passed on to every call.
X_train_dask = da.from_array(X_train / 16.0, chunks=(200, X.shape[1]))
y_train_dask = da.from_array(y_train, chunks=200)
X_test_dask = da.from_array(X_test / 16.0, chunks=(200, X.shape[1]))
y_test_dask = da.from_array(y_test, chunks=200)
print(f"training chunks: {X_train_dask.numblocks[0]}")

incremental = Incremental(
    NumpyMLPClassifier(
        hidden_layer_sizes=(64,), batch_size=50, learning_rate_init=0.01, random_state=0
    ),
    scoring="accuracy",
    random_state=0,
)
classes = np.unique(y)
test_scores = []
for _ in range(15):
    incremental.partial_fit(X_train_dask, y_train_dask, classes=classes)
    test_scores.append(incremental.score(X_test_dask, y_test_dask))
print(f"{incremental.estimator_.t_} samples seen in 15 passes")
print(f"test accuracy after the first pass: {test_scores[0]:.3f}")
print(f"test accuracy after the last pass: {test_scores[-1]:.3f}")

# %%
# Prediction is lazy: ``predict`` returns a dask array, computed chunk by
# chunk on the workers only when asked for.
predictions = incremental.predict(X_test_dask)
print(predictions)
print(predictions[:10].compute(), y_test[:10])

# %%
# The grid search's scores and the incremental learning curve.
fig, (ax_grid, ax_inc) = plt.subplots(1, 2, figsize=(9, 3.6))
for hidden, group in results.groupby(results["param_hidden_layer_sizes"].astype(str)):
    ax_grid.plot(
        group["param_alpha"].astype(float),
        group["mean_test_score"],
        marker="o",
        label=f"hidden_layer_sizes={hidden}",
    )
ax_grid.set_xscale("log")
ax_grid.set_xlabel("alpha")
ax_grid.set_ylabel("mean cross-validated accuracy")
ax_grid.set_title("GridSearchCV on the Dask cluster")
ax_grid.legend(loc="lower left")
ax_inc.plot(range(1, len(test_scores) + 1), test_scores, marker=".")
ax_inc.set_xlabel("passes over the dask array")
ax_inc.set_ylabel("test accuracy")
ax_inc.set_title("dask-ml Incremental")
fig.tight_layout()
plt.show()

# %%
# Shutting down
# -------------
# Close the client and the cluster, and lift the BLAS limit.
client.close()
cluster.close()
blas_limits.restore_original_limits()
print(f"cluster closed: {cluster.status.name}")
