"""A Display for training curves, following scikit-learn's Display API."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6 keeps it here
    from sklearn.utils._optional_dependencies import check_matplotlib_support
except ImportError:  # pragma: no cover - older layout
    from sklearn.utils import check_matplotlib_support


class TrainingCurveDisplay:
    """Training loss and validation curves of a fitted network.

    Build it with :meth:`from_estimator`; :meth:`plot` draws the training
    loss per epoch, the validation loss when known, the validation score on a
    second y axis, and the best epoch. matplotlib is needed only to plot.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss per epoch (or L-BFGS iteration).
    validation_scores : array-like of shape (n_epochs,), default=None
        Validation score per epoch.
    validation_loss : array-like of shape (n_epochs,), default=None
        Validation loss per epoch.
    best_epoch : int, default=None
        The epoch (counted from 1) whose weights are the best.
    estimator_name : str, default=None
        Name for the legend and title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the loss curves.
    ax_score_ : matplotlib Axes or None
        Second y axis with the validation scores, if any.
    figure_ : matplotlib Figure
        Figure containing the curves.
    lines_ : dict of str to matplotlib Line2D
        The drawn lines: "loss", and "val_loss", "val_score", "best_epoch"
        when present.

    See Also
    --------
    NumpyMLPClassifier : Has ``loss_curve_``, ``validation_scores_`` and
        ``history_``.
    TabularMLPClassifier : Has them too, and ``best_epoch_``.
    sklearn.model_selection.LearningCurveDisplay : Scores against training
        set size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sknumpynet import NumpyMLPClassifier, TrainingCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(32,), early_stopping=True,
    ...                          random_state=0).fit(X / 16, y)
    >>> display = TrainingCurveDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['best_epoch', 'loss', 'val_loss', 'val_score']
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_scores=None,
        validation_loss=None,
        best_epoch=None,
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.validation_loss = validation_loss
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None):
        """Build the display from a fitted network and plot it.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted network of this package (NumpyMLPClassifier,
            NumpyMLPRegressor, TabularMLPClassifier, TabularMLPRegressor),
            or a fitted pipeline (or other meta-estimator with ``steps``)
            whose final step is one.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure by default.
        name : str, default=None
            Name for the legend; the estimator's class name by default.

        Returns
        -------
        display : TrainingCurveDisplay
            The plotted display.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if hasattr(estimator, "steps"):  # a Pipeline: the network is last
            estimator = estimator.steps[-1][1]
        check_is_fitted(estimator)
        if not hasattr(estimator, "loss_curve_"):
            raise TypeError(
                f"{cls.__name__} needs a network with a loss curve "
                "(NumpyMLPClassifier, NumpyMLPRegressor, TabularMLPClassifier, "
                "TabularMLPRegressor, or a Pipeline ending in one), got "
                f"{type(estimator).__name__}."
            )
        history = getattr(estimator, "history_", [])
        loss_curve = [entry["loss"] for entry in history] or list(estimator.loss_curve_)
        validation_loss = [entry.get("val_loss") for entry in history]
        if not history or None in validation_loss:
            validation_loss = None
        validation_scores = getattr(estimator, "validation_scores_", None) or None
        if hasattr(estimator, "best_epoch_"):
            # The tabular estimators say which epoch they kept (the latest
            # of tied best scores, or the last one without validation).
            best_epoch = estimator.best_epoch_
        elif validation_scores is not None:
            best_epoch = int(np.nanargmax(validation_scores)) + 1
        else:
            best_epoch = int(np.argmin(loss_curve)) + 1
        display = cls(
            loss_curve=loss_curve,
            validation_scores=validation_scores,
            validation_loss=validation_loss,
            best_epoch=best_epoch,
            estimator_name=name or type(estimator).__name__,
        )
        return display.plot(ax=ax)

    def plot(self, ax=None, *, name=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure by default.
        name : str, default=None
            Overrides ``estimator_name`` in the title.

        Returns
        -------
        display : TrainingCurveDisplay
            This display, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        lines = {}
        (lines["loss"],) = ax.plot(epochs, self.loss_curve, label="training loss")
        if self.validation_loss is not None:
            (lines["val_loss"],) = ax.plot(
                epochs, self.validation_loss, label="validation loss"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        self.ax_score_ = None
        handles = list(lines.values())
        if self.validation_scores is not None:
            self.ax_score_ = ax.twinx()
            (lines["val_score"],) = self.ax_score_.plot(
                epochs,
                self.validation_scores,
                color="tab:green",
                label="validation score",
            )
            self.ax_score_.set_ylabel("validation score")
            handles.append(lines["val_score"])
        if self.best_epoch is not None:
            lines["best_epoch"] = ax.axvline(
                self.best_epoch, color="grey", linestyle="--", label="best epoch"
            )
            handles.append(lines["best_epoch"])
        ax.legend(handles=handles, loc="best")
        title = name or self.estimator_name
        if title:
            ax.set_title(title)
        self.ax_, self.figure_, self.lines_ = ax, ax.figure, lines
        return self
