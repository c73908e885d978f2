"""What every network estimator shares, the NumpyMLP and the tabular families.

:class:`_NetworkEstimator` keeps a failed fit from changing anything, stamps
pickles with the version, holds the weight views, splits off and scores the
validation set, builds the engine network through :mod:`sknumpynet._model`
and predicts through a serving plan. Each family says only what is its own
through the hooks below.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._callbacks import CallbackSupportMixin
from ._model import build_network, fitted_state
from ._serving import current_plan, remember_plan
from ._validation import check_finite_output, check_validation_split
from ._version import VersionStampMixin


def network_output(estimator, X, n_layers=None):
    """The fitted network's output for ``X``, or the activation of an earlier
    layer: :meth:`_NetworkEstimator._network_output` (what the modules around
    the estimators use)."""
    return estimator._network_output(X, n_layers)


@dataclass
class TrainingData:
    """What a family prepares for training (and the gradient check).

    Attributes
    ----------
    network : sknumpynet._network.MLP
        The engine network, holding the weights to start from.
    X, y : arrays
        The network's input and its 2-D encoded targets.
    sample_weight : ndarray or None
        The weights of the rows.
    random_state : numpy.random.RandomState
        The generator of this fit, after the draws made so far.
    config : sknumpynet._training.TrainingConfig
        What the training loop reads.
    train_rows : ndarray of int or None
        The rows to train on, when the family splits off its validation set
        before training (else the loop does, or there is none).
    validation : sknumpynet._training.Validation or None
        That validation set.
    """

    network: object
    X: object
    y: np.ndarray
    sample_weight: object
    random_state: object
    config: object
    train_rows: object = None
    validation: object = None


class _NetworkEstimator(VersionStampMixin, CallbackSupportMixin, BaseEstimator, ABC):
    """The shared base of every sknumpynet estimator.

    Do not use directly; use one of the public estimators.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: The fewest rows a validation split may hold.
    _min_validation_rows = 1
    #: What to do when the network's output overflows (one sentence).
    _overflow_remedy = ""

    # -- hooks of the families -----------------------------------------------

    @abstractmethod
    def _prepare_training(self, X, y, sample_weight, *, from_fitted=False):
        """Validate and encode the data and build the network to train.

        With ``from_fitted``, start from the fitted model (its weights, its
        encodings) instead of a fresh one. Returns a :class:`TrainingData`.
        """

    @abstractmethod
    def _validation_score(self, validation, output, loss):
        """The score (higher is better) of the network's output on a
        validation set, whose loss is ``loss``."""

    @abstractmethod
    def _new_plan(self):
        """The serving plan of the fitted model (:mod:`sknumpynet._serving`)."""

    @abstractmethod
    def _network_input(self, X, plan):
        """``X`` validated against the fit, as the matrix the network takes;
        with a serving plan, cheap proofs may replace the slow checks."""

    # -- fit -----------------------------------------------------------------

    def _fit(self, *args, **kwargs):
        """``_fit_unguarded``, keeping the previous fitted state if anything
        goes wrong: a failed call (bad input, divergence) leaves the estimator
        as it found it, the very same objects with the same contents."""
        # A fit never writes into the arrays it finds (the engine copies the
        # weights into a buffer of its own), so references are enough; the
        # lists training appends to (a warm start's loss_curve_, ...) get
        # their contents back.
        saved = fitted_state(self)
        contents = {
            name: list(value) for name, value in saved.items() if type(value) is list
        }
        try:
            return self._fit_unguarded(*args, **kwargs)
        except BaseException:
            for name in fitted_state(self):
                delattr(self, name)
            vars(self).update(saved)
            for name, items in contents.items():
                saved[name][:] = items
            raise

    def _build_network(self, units, dtype):
        """The engine network of this estimator (:func:`_model.build_network`)."""
        return build_network(self, units, dtype)

    def _set_weight_views(self, views):
        """``coefs_``, ``intercepts_`` and, when the third view is there and
        not None, ``feature_scale_`` (a stale one of a previous model goes).

        ``views`` are views of a flat parameter buffer: a network's own
        (``[network.coefs, network.intercepts, network.scale]``) or
        :func:`~sknumpynet._parameters.layer_views` of a copy.
        """
        self.coefs_, self.intercepts_ = views[:2]
        scale = views[2] if len(views) > 2 else None
        if scale is None:
            vars(self).pop("feature_scale_", None)
        else:
            self.feature_scale_ = scale

    def _split_rows(self, n_samples, stratify, random_state, *, strict=True):
        """Rows to train on and rows held out by ``validation_fraction``.

        Stratified by ``stratify`` when given; with ``strict=False`` a class
        too small to be split falls back to a plain split (with ``strict``,
        scikit-learn's error, as its MLP gives).
        """
        rows = np.arange(n_samples)
        n_val = check_validation_split(
            n_samples, self.validation_fraction, self._min_validation_rows
        )
        if stratify is not None and not strict:
            counts = np.unique(stratify, return_counts=True)[1]
            if counts.min() < 2 or min(n_val, n_samples - n_val) < len(counts):
                stratify = None
        return train_test_split(
            rows,
            test_size=self.validation_fraction,
            random_state=random_state,
            stratify=stratify,
        )

    def _evaluate(self, network, validation):
        """Validation loss and score of the network as it is now.

        The loss is the network's data loss (without label smoothing); the
        score is :meth:`_validation_score`. A non-finite output gives NaN for
        both (the divergence checks of the loop explain it).
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            output = network.predict(validation.X)
            if not np.isfinite(output).all():
                return np.nan, np.nan
            loss = network.reported_data_loss(
                validation.y, output, validation.sample_weight
            )
            score = self._validation_score(validation, output, loss)
        return float(loss), float(score)

    # -- predict -------------------------------------------------------------

    def _network_output(self, X, n_layers=None):
        """The fitted network's output for ``X`` (or after ``n_layers`` weight
        layers).

        The first prediction of a fitted model makes its serving plan; later
        ones reuse it while it describes the model, and take ``X`` straight
        to the network when cheap checks prove that validation would pass it
        unchanged. Both paths compute bitwise the same output.

        Raises
        ------
        ValueError
            If ``X`` is invalid, or overflows the network.
        """
        plan = current_plan(self)  # a current plan means a fitted model
        if plan is None:
            check_is_fitted(self)
            values = self._network_input(X, None)  # the full validation
            new_plan = plan = self._new_plan()
        else:
            values = self._network_input(X, plan)
            new_plan = None
        # Extreme logits may overflow on the way to a finite, correct output
        # (softmax subtracts the row maximum); a non-finite one is caught.
        with np.errstate(over="ignore", invalid="ignore"):
            output = plan.forward(values, n_layers)
            finite = np.isfinite(np.add.reduce(output, axis=None))
        if not finite:  # or a sum that overflowed: count the rows
            check_finite_output(output, self._overflow_remedy)
        if new_plan is not None:
            remember_plan(self, new_plan)
        return output
