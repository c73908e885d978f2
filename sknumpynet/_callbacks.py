"""scikit-learn's callbacks (``sklearn.callback``, scikit-learn >= 1.9) per epoch.

:class:`EpochCallbacks` is what the training loop calls at the start and end
of every epoch; it is a no-op when the estimator has no callbacks or
scikit-learn has no callback support.
"""

try:  # scikit-learn >= 1.9: estimators can take callbacks (progress bars...)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older scikit-learn: no callbacks, nothing else changes

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's callback mixin (scikit-learn < 1.9)."""


class EpochCallbacks:
    """scikit-learn's callbacks (``sklearn.callback``, scikit-learn >= 1.9).

    One task per fit with one subtask per epoch (or L-BFGS iteration); a
    no-op when the estimator has no callbacks or scikit-learn has no callback
    support.
    """

    def __init__(self, estimator, X, y, sample_weight, max_epochs):
        self.estimator, self.X, self.y = estimator, X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self.context = self.epoch_context = None
        if getattr(estimator, "_skl_callbacks", None) and hasattr(
            estimator, "_init_callback_context"
        ):
            # L-BFGS may open one more, empty, iteration task than it runs.
            self.context = estimator._init_callback_context(max_subtasks=max_epochs + 1)
            self.context.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=self.metadata
            )

    def _weights(self):
        # A snapshot: the live weights keep changing after the callback returns.
        weights = {
            "coefs_": [c.copy() for c in self.estimator.coefs_],
            "intercepts_": [b.copy() for b in self.estimator.intercepts_],
        }
        if hasattr(self.estimator, "feature_scale_"):  # the tabular estimators
            weights["feature_scale_"] = self.estimator.feature_scale_.copy()
        return weights

    def begin_epoch(self):
        if self.context is None:
            return
        self.epoch_context = self.context.subcontext(task_name="epoch")
        self.epoch_context.call_on_fit_task_begin(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=self._weights,
        )

    def end_epoch(self):
        """Close the epoch's task; True when a callback asks to stop."""
        if self.epoch_context is None:
            return False
        stop = self.epoch_context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=self._weights,
        )
        self.epoch_context = None
        return bool(stop)

    def close_epoch(self):
        """Close an epoch task that was opened but never run (L-BFGS)."""
        if self.epoch_context is not None:
            self.epoch_context.call_on_fit_task_end(estimator=self.estimator)
            self.epoch_context = None

    def end_fit(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes={},
            )
