"""sknumpynet: a scikit-learn-native multilayer perceptron in plain NumPy.

The network is written by hand -- explicit forward pass, explicit chain-rule
backpropagation, sigmoid by default -- and wrapped as drop-in supersets of
scikit-learn's ``MLPClassifier`` and ``MLPRegressor``.
"""

from ._estimators import NumpyMLPClassifier, NumpyMLPRegressor

__version__ = "0.1.0"

__all__ = ["NumpyMLPClassifier", "NumpyMLPRegressor", "__version__"]
