"""A fitted network's hidden layers as features for a Pipeline."""

from dataclasses import replace
from numbers import Integral

from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ._base import _NetworkEstimator, network_output


class HiddenLayerFeatures(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """The activations of a hidden layer of a network, as features.

    Fits a sknumpynet network -- :class:`NumpyMLPClassifier`,
    :class:`NumpyMLPRegressor`, :class:`TabularMLPClassifier` or
    :class:`TabularMLPRegressor` -- (or takes one already fitted) and
    transforms ``X`` into the activation of one of its hidden layers,
    :math:`X \\mapsto a^{(k)}`: the representation the network learned,
    ready for another estimator later in a Pipeline. The estimators
    themselves stay pure classifiers and regressors.

    Parameters
    ----------
    estimator : sknumpynet estimator
        The network. Cloned and fitted by :meth:`fit`, unless ``prefit``. A
        tabular estimator gives the hidden layers of its preprocessed input:
        ``transform`` takes the raw table.
    layer : int, default=-1
        Which hidden layer: 0 is the first, -1 the last (Python indexing over
        the hidden layers).
    prefit : bool, default=False
        Use ``estimator`` as already fitted: :meth:`fit` only checks it.

    Attributes
    ----------
    estimator_ : sknumpynet estimator
        The fitted network.
    n_features_in_ : int
        The network's number of input features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The network's input feature names, when it was fitted on a frame
        whose column names are all strings.

    See Also
    --------
    NumpyMLPClassifier : The classifier whose hidden layers can be used.
    NumpyMLPRegressor : The regressor whose hidden layers can be used.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sknumpynet import HiddenLayerFeatures, NumpyMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> network = NumpyMLPClassifier(hidden_layer_sizes=(32,),
    ...                              learning_rate_init=0.01,
    ...                              early_stopping=True, random_state=0)
    >>> pipe = make_pipeline(HiddenLayerFeatures(network),
    ...                      LogisticRegression(max_iter=1000))
    >>> pipe.fit(X / 16, y).predict(X[:3] / 16)
    array([0, 1, 2])
    >>> pipe[0].transform(X[:3] / 16).shape
    (3, 32)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "layer": [Interval(Integral, None, None, closed="neither")],
        "prefit": ["boolean"],
    }

    def __init__(self, estimator, *, layer=-1, prefit=False):
        self.estimator = estimator
        self.layer = layer
        self.prefit = prefit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the network (unless ``prefit``) and check the layer exists.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training input.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets of the network.
        **fit_params : dict
            Passed to the network's ``fit`` (``sample_weight``, ``X_val``...).

        Returns
        -------
        self : object
            The fitted transformer.
        """
        # Checked before anything is trained: only sknumpynet's networks
        # expose their hidden layers.
        if not isinstance(self.estimator, _NetworkEstimator):
            raise TypeError(
                "HiddenLayerFeatures needs a sknumpynet network (NumpyMLP* or "
                "TabularMLP*) as its estimator, got "
                f"{type(self.estimator).__name__}. (To use a scikit-learn "
                "MLPClassifier or MLPRegressor, train a sknumpynet network with "
                "the same parameters instead: they are drop-in replacements.)"
            )
        if self.prefit:
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
        else:
            self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        n_hidden = len(self.estimator_.coefs_) - 1
        if not -n_hidden <= self.layer < n_hidden:
            raise ValueError(
                f"layer={self.layer} is out of range: the network has {n_hidden} "
                f"hidden layers, so layer must be in [{-n_hidden}, {n_hidden - 1}]."
            )
        self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        return self

    @property
    def _n_features_out(self):
        """Number of units of the chosen layer."""
        return self.estimator_.coefs_[self._layer_index()].shape[1]

    def _layer_index(self):
        n_hidden = len(self.estimator_.coefs_) - 1
        return self.layer % n_hidden

    def transform(self, X):
        """The chosen hidden layer's activation for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input, as the network takes it.

        Returns
        -------
        X_hidden : ndarray of shape (n_samples, n_units)
            The activation of the layer, in the network's dtype.
        """
        check_is_fitted(self)
        return network_output(self.estimator_, X, n_layers=self._layer_index() + 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if isinstance(self.estimator, _NetworkEstimator):
            # The network's input is this transformer's: sparse matrices, or
            # raw tables with strings and missing values.
            tags.input_tags = replace(get_tags(self.estimator).input_tags)
        else:
            tags.input_tags.sparse = True
        tags.target_tags.required = not self.prefit
        return tags
