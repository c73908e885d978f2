"""sknumpynet: a scikit-learn-native multilayer perceptron in plain NumPy.

The network is written by hand -- explicit forward pass, explicit chain-rule
backpropagation, sigmoid by default -- and wrapped as drop-in supersets of
scikit-learn's ``MLPClassifier`` and ``MLPRegressor``.
"""

from ._codec import ModelFileError
from ._display import TrainingCurveDisplay
from ._estimators import NumpyMLPClassifier, NumpyMLPRegressor
from ._features import HiddenLayerFeatures
from ._gradcheck import check_gradients
from ._onnx import register_onnx_converters
from ._persistence import load, save, trusted_types
from ._tabular import TabularMLPClassifier, TabularMLPRegressor
from ._tabular_preprocessing import TabularPreprocessor
from ._version import InconsistentVersionWarning, __version__

__all__ = [
    "HiddenLayerFeatures",
    "InconsistentVersionWarning",
    "ModelFileError",
    "NumpyMLPClassifier",
    "NumpyMLPRegressor",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "TabularPreprocessor",
    "TrainingCurveDisplay",
    "__version__",
    "check_gradients",
    "load",
    "register_onnx_converters",
    "save",
    "trusted_types",
]
