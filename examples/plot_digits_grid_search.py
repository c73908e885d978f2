"""
===============================================
Grid search over a pipeline on the digits data
===============================================

A :class:`~sknumpynet.NumpyMLPClassifier` is an ordinary scikit-learn
estimator, so it goes into a :class:`~sklearn.pipeline.Pipeline` after a
:class:`~sklearn.preprocessing.StandardScaler` and the whole pipeline is
tuned with :class:`~sklearn.model_selection.GridSearchCV`. The scaler is then
refitted on the training folds of every split, never on the data it is
scored on.
"""

# %%
# The data
# --------
# 1797 images of handwritten digits, 8 x 8 pixels each, with intensities from
# 0 to 16. A quarter is held out for the final test, stratified by class.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import NumpyMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# The pipeline and the grid
# -------------------------
# The sigmoid network learns best from standardized inputs, so the scaler
# comes first. :func:`~sklearn.pipeline.make_pipeline` names the network's
# step ``numpymlpclassifier``; its parameters are searched under that prefix:
# the width of the hidden layer and the L2 penalty ``alpha``. Each fit stops
# early, once the accuracy on 10% of its training fold stops improving.
pipe = make_pipeline(
    StandardScaler(),
    NumpyMLPClassifier(learning_rate_init=0.01, early_stopping=True, random_state=0),
)
param_grid = {
    "numpymlpclassifier__hidden_layer_sizes": [(8,), (64,)],
    "numpymlpclassifier__alpha": [1e-4, 1e-1],
}
# n_jobs=-1 fits the candidates in parallel processes, one per core.
search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=-1)
search.fit(X_train, y_train)

# %%
# The results
# -----------
# Every candidate with its mean cross-validated accuracy, then the best one,
# refitted on the whole training set and scored on the held-out test set.
for params, mean, std in zip(
    search.cv_results_["params"],
    search.cv_results_["mean_test_score"],
    search.cv_results_["std_test_score"],
):
    print(
        f"hidden_layer_sizes={params['numpymlpclassifier__hidden_layer_sizes']}, "
        f"alpha={params['numpymlpclassifier__alpha']:g}: "
        f"accuracy {mean:.3f} +/- {std:.3f}"
    )
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(
    f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}"
)

# %%
# Which digits are confused?
# --------------------------
# The confusion matrix of the best pipeline on the test set: rows are the
# true digits, columns the predicted ones; off-diagonal cells are mistakes.
fig, ax = plt.subplots(figsize=(6, 5.5))
ConfusionMatrixDisplay.from_estimator(search, X_test, y_test, ax=ax, colorbar=False)
ax.set_title("Best NumpyMLPClassifier pipeline on the test digits")
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
fig.tight_layout()
plt.show()
