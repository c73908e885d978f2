"""scikit-learn's estimator checks, for both estimators, with no expected failures.

Each configuration exercises a different solver or architecture path of the
engine (the checks fit on small data sets, so the default ``max_iter`` is
enough to reach what they require).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor

CONFIGURATIONS = [
    {},
    {"solver": "sgd", "learning_rate_init": 0.01},
    {"solver": "lbfgs"},
    {"activation": "tanh"},
    {"hidden_layer_sizes": (10, 5), "learning_rate_init": 0.01},
]

ESTIMATORS = [
    Estimator(**params)
    for Estimator in (NumpyMLPClassifier, NumpyMLPRegressor)
    for params in CONFIGURATIONS
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
