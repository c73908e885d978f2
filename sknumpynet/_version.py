"""The package version, and the stamp that pickled estimators carry of it.

A leaf module: it imports nothing from the package, so every other module
(the estimators, the file format, the package ``__init__``) can ask it.
"""

import warnings

__version__ = "0.1.0"

#: Key under which pickled state records the sknumpynet version.
VERSION_KEY = "_sknumpynet_version"


class InconsistentVersionWarning(UserWarning):
    """Warning: an estimator saved by another sknumpynet version is loaded.

    scikit-learn warns with its own ``InconsistentVersionWarning`` when one
    of its estimators is unpickled under another scikit-learn version, but it
    does this only for its own classes. sknumpynet's estimators stamp their
    pickled state (and the files of :func:`save`) with the sknumpynet
    version and warn in the same way. The estimator may still work; to be
    sure, refit it, or load it under the original version and re-save it
    with :func:`save`.

    Parameters
    ----------
    estimator_name : str
        The estimator's class name.
    current_sknumpynet_version : str
        The version of sknumpynet loading the estimator.
    original_sknumpynet_version : str
        The version that saved it (``"unknown"`` for pickles made before
        version stamps).

    Attributes
    ----------
    estimator_name, current_sknumpynet_version, original_sknumpynet_version : str
        The parameters, kept as given.

    See Also
    --------
    sklearn.exceptions.InconsistentVersionWarning : scikit-learn's warning.

    Examples
    --------
    >>> import pickle, warnings
    >>> from sknumpynet import InconsistentVersionWarning, NumpyMLPRegressor
    >>> data = pickle.dumps(NumpyMLPRegressor())
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", InconsistentVersionWarning)
    ...     reg = pickle.loads(data)  # same version: no warning
    >>> str(InconsistentVersionWarning(
    ...     estimator_name="NumpyMLPRegressor", current_sknumpynet_version="0.2.0",
    ...     original_sknumpynet_version="0.1.0"))[:60]
    'Loading estimator NumpyMLPRegressor saved with sknumpynet 0.'
    """

    def __init__(
        self,
        *,
        estimator_name,
        current_sknumpynet_version,
        original_sknumpynet_version,
    ):
        self.estimator_name = estimator_name
        self.current_sknumpynet_version = current_sknumpynet_version
        self.original_sknumpynet_version = original_sknumpynet_version

    def __str__(self):
        return (
            f"Loading estimator {self.estimator_name} saved with sknumpynet "
            f"{self.original_sknumpynet_version} under sknumpynet "
            f"{self.current_sknumpynet_version}. This might lead to breaking "
            "code or invalid results. Use at your own risk: refit the "
            "estimator, or load it under sknumpynet "
            f"{self.original_sknumpynet_version} and save it again."
        )


class VersionStampMixin:
    """Stamp pickled state with the sknumpynet version; warn on mismatch.

    Cooperates with :class:`sklearn.base.BaseEstimator`'s own
    ``__getstate__`` / ``__setstate__`` (which stamp only scikit-learn's
    classes) through ``super()``.
    """

    def __getstate__(self):
        # A copy: Python's default __getstate__ returns the __dict__ itself.
        state = dict(super().__getstate__())
        state[VERSION_KEY] = __version__
        return state

    def __setstate__(self, state):
        warn_if_other_version(self, state.pop(VERSION_KEY, "unknown"), stacklevel=3)
        super().__setstate__(state)


def warn_if_other_version(estimator, saved_version, stacklevel):
    """Warn when a model saved by another sknumpynet version is loaded."""
    current = __version__
    if saved_version != current:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=type(estimator).__name__,
                current_sknumpynet_version=current,
                original_sknumpynet_version=saved_version,
            ),
            stacklevel=stacklevel,
        )
