"""The training loops: epochs of SGD and Adam, a fixed schedule, and L-BFGS.

The loops get the engine network, the prepared data, a :class:`TrainingConfig`
(everything they read of the estimator's settings), a :class:`Progress`
record and callables for what only the estimator knows (scoring a validation
set, splitting one off, scikit-learn's callbacks) -- never the estimator.
:func:`fit_stochastic` has scikit-learn's stopping rules, ``partial_fit`` and
warm starts; :func:`fit_scheduled` runs a fixed number of epochs over a
schedule set for the whole fit. Both share the epoch step, the divergence
checks, the best-weights rule, ``history_`` and the callbacks.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.optimize import _check_optimize_result

from ._optimizers import STEP_SCHEDULES, make_optimizer

STOCHASTIC_SOLVERS = ("sgd", "adam")

#: A training loss this many times above the lowest one seen (or above 1,
#: whichever is larger) means the solver has diverged, even while finite.
DIVERGENCE_FACTOR = 1e8

# SciPy 1.15 deprecated L-BFGS-B's ``iprint``; older versions print with it.
_SCIPY_HAS_IPRINT = tuple(int(part) for part in scipy.__version__.split(".")[:2]) < (
    1,
    15,
)


@dataclass(frozen=True)
class TrainingConfig:
    """What a training loop reads of the estimator's settings.

    Each estimator builds one from its parameters (a NumpyMLP from
    scikit-learn's, a tabular estimator from its recipe); the loops read
    nothing else of it.

    Parameters
    ----------
    solver : {"sgd", "adam", "lbfgs"}
        The optimizer.
    learning_rate : float
        The base step size of "sgd" and "adam".
    learning_rate_name : str, default="learning_rate_init"
        The estimator's name for ``learning_rate``, for error messages.
    lr_schedule : str, default="constant"
        The step-size schedule, a name of :mod:`sknumpynet._optimizers`.
    power_t, momentum, nesterov, beta_1, beta_2, epsilon
        The optimizers' constants, as scikit-learn names them.
    lr_factors : dict or None, default=None
        Learning-rate factor of each parameter group ("coefs",
        "intercepts", "feature_scale"); None: no factors.
    weight_decay : float, default=0.0
        Decoupled weight decay of Adam, per step, times the learning rate.
    wd_factors : dict or None, default=None
        Weight-decay factor of each parameter group.
    wd_schedule : str, default="constant"
        The schedule of the weight decay.
    max_epochs : int, default=200
        Epochs of the stochastic solvers and the scheduled loop; iterations
        of L-BFGS.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch.
    shuffle : bool, default=True
        Shuffle the rows every epoch (:func:`fit_stochastic`).
    early_stopping : bool, default=False
        Stop on the validation score, and keep its best epoch.
    tol, n_iter_no_change : float and int
        The stopping rule of :func:`fit_stochastic`; ``tol`` is L-BFGS's
        gradient tolerance too.
    max_fun : int, default=15000
        L-BFGS's budget of loss evaluations.
    alpha : float, default=0.0
        L2 penalty.
    max_grad_norm : float or None, default=None
        Gradient clipping.
    dropout_schedule : callable or None, default=None
        ``progress -> factor`` of the dropout rates, set per epoch
        (:func:`fit_scheduled`).
    restore_best : bool, default=False
        Keep the weights of the best validation score even without early
        stopping (:func:`fit_scheduled`).
    latest_of_ties : bool, default=False
        Of tied best scores keep the latest epoch, not the first.
    verbose : bool, default=False
        Print each epoch's loss.
    """

    solver: str
    learning_rate: float
    learning_rate_name: str = "learning_rate_init"
    lr_schedule: str = "constant"
    power_t: float = 0.5
    momentum: float = 0.9
    nesterov: bool = True
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    lr_factors: dict | None = None
    weight_decay: float = 0.0
    wd_factors: dict | None = None
    wd_schedule: str = "constant"
    max_epochs: int = 200
    batch_size: int | str = "auto"
    shuffle: bool = True
    early_stopping: bool = False
    tol: float = 1e-4
    n_iter_no_change: int = 10
    max_fun: int = 15000
    alpha: float = 0.0
    max_grad_norm: float | None = None
    dropout_schedule: object = None
    restore_best: bool = False
    latest_of_ties: bool = False
    verbose: bool = False

    def make_optimizer(self, network_or_size, dtype, state=None, total_steps=None):
        """The optimizer of this configuration.

        Parameters
        ----------
        network_or_size : sknumpynet._network.MLP or int
            The network to train (its parameter groups get the factors), or
            just the size of a flat buffer (no factors).
        dtype : numpy dtype
            The buffer's dtype.
        state : dict or None, default=None
            A saved optimizer state to resume from.
        total_steps : int, default=None
            Steps of the whole fit, for a per-step schedule.
        """
        network = None
        size = network_or_size
        if not isinstance(network_or_size, int):
            network, size = network_or_size, network_or_size.params.size

        def multipliers(factors):
            if network is None or factors is None:
                return None
            return network.lr_multipliers(**factors)

        return make_optimizer(
            self.solver,
            size,
            dtype,
            state,
            learning_rate_init=self.learning_rate,
            lr_schedule=self.lr_schedule,
            power_t=self.power_t,
            momentum=self.momentum,
            nesterov=self.nesterov,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            lr_multipliers=multipliers(self.lr_factors),
            total_steps=total_steps,
            weight_decay=self.weight_decay,
            wd_multipliers=multipliers(self.wd_factors),
            wd_schedule=self.wd_schedule,
        )


#: The fitted attributes that training reads and updates.
PROGRESS_NAMES = (
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "history_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "should_stop_",
    "_no_improvement_count",
    "_best_params",
    "_best_loss_seen",
    "_optimizer_state",
)


class Progress:
    """What training has learned so far, under the estimator's attribute names.

    Parameters
    ----------
    **state
        Initial values, a subset of :data:`PROGRESS_NAMES`.
    """

    def __init__(self, **state):
        unknown = set(state) - set(PROGRESS_NAMES)
        if unknown:
            raise TypeError(f"Not training progress: {sorted(unknown)}.")
        vars(self).update(state)

    @classmethod
    def fresh(cls, config):
        """The record of a first fit with ``config``, before any epoch."""
        state = {
            "n_iter_": 0,
            "t_": 0,
            "loss_curve_": [],
            "history_": [],
            "_optimizer_state": None,
            "_best_loss_seen": np.inf,
        }
        if config.solver in STOCHASTIC_SOLVERS:
            state["_no_improvement_count"] = 0
            if config.early_stopping or config.restore_best:
                state.update(
                    validation_scores_=[],
                    best_validation_score_=-np.inf,
                    best_loss_=None,
                )
            else:
                state.update(
                    best_loss_=np.inf,
                    validation_scores_=None,
                    best_validation_score_=None,
                )
        return cls(**state)


class Validation:
    """A validation set: inputs, encoded targets, their labels, weights."""

    def __init__(self, X, y, labels, sample_weight):
        self.X, self.y, self.labels, self.sample_weight = X, y, labels, sample_weight


class _StopTraining(Exception):
    """Raised from L-BFGS's callback when a callback asks training to stop."""


def divergence_message(config, loss=None, epoch=None, best_loss=None, cause=None):
    """Why training stopped as diverged, and what to change.

    Parameters
    ----------
    config : TrainingConfig
        The training's settings (the solver and the learning rate named as
        the estimator names it).
    loss, epoch : float and int, default=None
        The training loss that gave divergence away, and its epoch.
    best_loss : float, default=None
        The lowest training loss before it, when the loss was finite but had
        grown :data:`DIVERGENCE_FACTOR`-fold: that rule, not non-finite
        weights, is then named as the cause.
    cause : str, default=None
        Another cause to name (the first sentence of the message).
    """
    if cause is None:
        cause = _divergence_cause(loss, epoch, best_loss)
    hint = (
        f"; or {config.learning_rate_name}={config.learning_rate} is too large "
        "for this data: try a smaller one"
        if config.solver in STOCHASTIC_SOLVERS
        else ""
    )
    return (
        f"{cause}: training diverged. The input data may contain large values "
        "and need to be preprocessed, for instance with StandardScaler"
        + hint
        + ". The estimator keeps the state it had before this call."
    )


def _divergence_cause(loss, epoch, best_loss):
    if loss is not None and np.isfinite(loss) and best_loss is not None:
        return (
            f"The training loss grew to {loss} at epoch {epoch}, more than "
            f"{DIVERGENCE_FACTOR:g} times the lowest loss so far "
            f"({best_loss}, or 1 if that is smaller)"
        )
    where = "" if loss is None else f" (the training loss was {loss} at epoch {epoch})"
    return f"Solver produced non-finite parameter weights{where}"


# ---------------------------------------------------------------------------
# Stochastic solvers
# ---------------------------------------------------------------------------


def _batch_size(config, n_samples):
    if config.batch_size == "auto":
        return min(200, n_samples)
    if config.batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than "
            "sample size. It is going to be clipped"
        )
    return int(np.clip(config.batch_size, 1, n_samples))


def fit_stochastic(
    network,
    X,
    y,
    sample_weight,
    *,
    config,
    progress,
    incremental,
    random_state,
    validation,
    split_validation,
    evaluate,
    callbacks,
):
    """Train with SGD or Adam: epochs of mini-batches until a stopping rule.

    Parameters
    ----------
    network : sknumpynet._network.MLP
        The network, holding the weights to start from; trained in place.
    X, y, sample_weight : arrays
        The prepared training data (``y`` the 2-D encoded targets).
    config : TrainingConfig
        The training's settings.
    progress : Progress
        Updated in place.
    incremental : bool
        ``partial_fit``: one epoch, optimizer resumed from ``progress``.
    random_state : numpy.random.RandomState
        Draws the validation split, the shuffles and the dropout seed.
    validation : Validation or None
        The user's validation set.
    split_validation : callable
        ``(X, y, sample_weight, random_state) -> (train_rows, Validation)``,
        the early-stopping split.
    evaluate : callable
        ``(network, validation) -> (loss, score)``.
    callbacks : object
        scikit-learn's callbacks: ``begin_epoch()``, ``end_epoch() -> stop``.
    """
    if incremental and config.lr_schedule in STEP_SCHEDULES:
        raise ValueError(
            f"learning_rate={config.lr_schedule!r} is not supported by "
            "partial_fit: the schedule is a function of the fraction of the "
            "whole training done, and the number of steps of a stream is "
            "unknown. Use fit (with max_iter epochs), or another learning_rate."
        )
    early_stopping = config.early_stopping
    if early_stopping and incremental and validation is None:
        raise ValueError(
            "partial_fit does not support early_stopping=True without a "
            "validation set: pass X_val and y_val to partial_fit to stop "
            "on their score, or set early_stopping=False."
        )
    train_rows = None
    if early_stopping and validation is None:
        train_rows, validation = split_validation(X, y, sample_weight, random_state)
    n_samples = X.shape[0] if train_rows is None else train_rows.shape[0]
    if validation is not None and progress.validation_scores_ is None:
        # A validation set given to a fit without early stopping is scored
        # too, and its best epoch remembered.
        progress.validation_scores_ = []
        progress.best_validation_score_ = -np.inf
    batch_size = _batch_size(config, n_samples)
    # A per-step schedule spans the whole fit: max_iter epochs of batches.
    total_steps = config.max_epochs * -(-n_samples // batch_size)
    optimizer = config.make_optimizer(
        network,
        network.dtype,
        progress._optimizer_state if incremental else None,
        total_steps,
    )

    # The order of the rows: shuffled in place every epoch, which draws the
    # same permutations as scikit-learn's ``shuffle(sample_idx)``.
    if config.shuffle:
        rows = np.arange(n_samples) if train_rows is None else train_rows.copy()
    else:
        rows = train_rows
    dropout_rng = _dropout_generator(random_state, network.dropout)

    try:
        progress.n_iter_ = 0
        if incremental:
            progress.should_stop_ = False
        for _ in range(config.max_epochs):
            epoch_start = time.perf_counter()
            if config.shuffle:
                random_state.shuffle(rows)
            loss = _train_epoch(
                network,
                (X, y, sample_weight),
                optimizer,
                batch_size,
                rows,
                n_samples,
                config=config,
                progress=progress,
                callbacks=callbacks,
                dropout_rng=dropout_rng,
            )
            if config.verbose:
                print("Iteration %d, loss = %.8f" % (progress.n_iter_, loss))

            record = _track_progress(config, progress, network, validation, evaluate)
            stop_requested = _close_epoch(
                progress, loss, record, optimizer, epoch_start, callbacks
            )
            optimizer.iteration_ends(progress.t_)

            if progress._no_improvement_count > config.n_iter_no_change:
                if optimizer.trigger_stopping(_stall_message(config), config.verbose):
                    if incremental:
                        # Streaming: the caller decides; tell it to stop.
                        progress.should_stop_ = True
                    break
                progress._no_improvement_count = 0

            if incremental or stop_requested:
                break

            if progress.n_iter_ == config.max_epochs:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) "
                    "reached and the optimization hasn't converged yet."
                    % config.max_epochs,
                    ConvergenceWarning,
                )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")

    if early_stopping and (not incremental or progress.should_stop_):
        network.params[...] = progress._best_params
    progress._optimizer_state = optimizer.get_state()


def _dropout_generator(random_state, rates):
    """The source of the dropout masks: a generator of its own, seeded from
    ``random_state`` only when some rate is non-zero (so that without
    dropout the draws of ``random_state`` stay those of scikit-learn)."""
    if not any(rates):
        return None
    return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))


def whole_batches(n_rows, batch_size):
    """Mini-batches per epoch of :func:`fit_scheduled`: whole batches only.

    ``batch_size`` is capped at ``n_rows``; the remainder of fewer than
    ``batch_size`` rows is left out of the epoch.
    """
    return n_rows // min(batch_size, n_rows)


def fit_scheduled(
    network,
    X,
    y,
    *,
    config,
    progress,
    train_rows,
    random_state,
    validation,
    evaluate,
    callbacks,
):
    """Train for ``config.max_epochs`` epochs; keep the best epoch's weights.

    The loop of a learning-rate schedule set for the whole fit: no stopping
    rule but a callback's request, no ``partial_fit``. Every epoch trains on
    whole batches of a fresh permutation of ``train_rows``
    (:func:`whole_batches`). After every epoch the validation set is scored;
    the weights of the best score are restored at the end -- of tied best
    scores the latest with ``config.latest_of_ties``, and only finite scores
    count -- or, without a validation set, the last epoch's are kept.

    Parameters
    ----------
    network : sknumpynet._network.MLP
        The initialised network; trained in place, left with the kept weights.
    X, y : arrays
        The prepared training data (``y`` the 2-D encoded targets), all rows:
        the validation rows among them are never in ``train_rows``.
    config : TrainingConfig
        The training's settings (``batch_size`` an int).
    progress : Progress
        Updated in place; from :meth:`Progress.fresh`.
    train_rows : ndarray of int
        The rows of ``X`` to train on.
    random_state : numpy.random.RandomState
        Draws one permutation of ``train_rows`` per epoch.
    validation : Validation or None
        The rows that choose the best epoch.
    evaluate : callable
        ``(network, validation) -> (loss, score)``; a non-finite score is
        never the best.
    callbacks : object
        scikit-learn's callbacks, as for :func:`fit_stochastic`.

    Returns
    -------
    best_epoch : int
        The epoch (counted from 1) whose weights the network holds.

    Raises
    ------
    ValueError
        If training diverged: a non-finite or exploding training loss, no
        finite validation score, or non-finite kept weights.
    """
    batch_size = min(config.batch_size, len(train_rows))
    n_batches = whole_batches(len(train_rows), batch_size)
    optimizer = config.make_optimizer(
        network, network.dtype, total_steps=config.max_epochs * n_batches
    )
    progress.n_iter_ = 0
    base_dropout = list(network.dropout)
    dropout_rng = _dropout_generator(random_state, base_dropout)
    for _ in range(config.max_epochs):
        epoch_start = time.perf_counter()
        if config.dropout_schedule is not None:
            done = min(optimizer.t / optimizer.total_steps, 1.0)
            factor = config.dropout_schedule(done)
            network.dropout = [rate * factor for rate in base_dropout]
        # A fresh permutation every epoch (fit_stochastic reshuffles the last
        # epoch's order, as scikit-learn does), whole batches only, as
        # pytabkit does: a last batch of a few rows would take a full step on
        # a noisy gradient.
        rows = random_state.permutation(train_rows)[: n_batches * batch_size]
        loss = _train_epoch(
            network,
            (X, y, None),
            optimizer,
            batch_size,
            rows,
            len(rows),
            config=config,
            progress=progress,
            callbacks=callbacks,
            dropout_rng=dropout_rng,
        )
        record = remember_best(
            progress,
            network,
            validation,
            evaluate,
            latest_of_ties=config.latest_of_ties,
        )
        if config.verbose:
            scored = (
                "" if validation is None else f", validation score = {record[1]:.6f}"
            )
            print(f"Epoch {progress.n_iter_}, loss = {loss:.8f}{scored}")
        if _close_epoch(progress, loss, record, optimizer, epoch_start, callbacks):
            break

    network.dropout = base_dropout
    best_epoch = progress.n_iter_  # without a validation set, the last one
    if validation is not None:
        best = progress.best_validation_score_
        if best == -np.inf:
            raise ValueError(
                divergence_message(
                    config,
                    cause="The network's output on the validation rows was "
                    "never finite",
                )
            )
        scores = progress.validation_scores_
        best_epoch = len(scores) - scores[::-1].index(best)
        network.params[...] = progress._best_params
    if not np.isfinite(network.params).all():
        raise ValueError(divergence_message(config))
    return best_epoch


def _train_epoch(
    network,
    data,
    optimizer,
    batch_size,
    rows,
    n_samples,
    *,
    config,
    progress,
    callbacks,
    dropout_rng=None,
):
    """Open the epoch's callback task, train one epoch on ``data`` (``X, y,
    sample_weight``), check the loss for divergence and count the epoch.

    Returns the epoch's training loss, appended to ``loss_curve_``.
    """
    X, y, sample_weight = data
    callbacks.begin_epoch()
    # Overflow is detected below, from the loss, and explained.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = network.train_epoch(
            X,
            y,
            sample_weight,
            optimizer,
            batch_size,
            config.alpha,
            rows,
            dropout_rng=dropout_rng,
            max_grad_norm=config.max_grad_norm,
        )
    _check_divergence(config, progress, loss)
    progress.n_iter_ += 1
    progress.loss_ = loss
    progress.t_ += n_samples
    progress.loss_curve_.append(loss)
    return loss


def _close_epoch(progress, loss, record, optimizer, epoch_start, callbacks):
    """Record the epoch in ``history_`` and close its callback task.

    Returns True when a callback asks training to stop.
    """
    _record_epoch(
        progress,
        loss,
        record,
        optimizer.scheduled_learning_rate,
        time.perf_counter() - epoch_start,
    )
    return callbacks.end_epoch()


def _check_divergence(config, progress, loss):
    """Raise when an epoch's loss is non-finite, or finite but 1e8 times the
    best loss yet: healthy training never climbs that far."""
    epoch = len(progress.loss_curve_) + 1
    if not np.isfinite(loss):
        raise ValueError(divergence_message(config, loss, epoch))
    if loss > DIVERGENCE_FACTOR * max(progress._best_loss_seen, 1.0):
        raise ValueError(
            divergence_message(config, loss, epoch, progress._best_loss_seen)
        )


def _stall_message(config):
    watched = "Validation score" if config.early_stopping else "Training loss"
    return "%s did not improve more than tol=%f for %d consecutive epochs." % (
        watched,
        config.tol,
        config.n_iter_no_change,
    )


def _track_progress(config, progress, network, validation, evaluate):
    """Score the epoch, remember the best weights, count stalled epochs.

    Stopping follows scikit-learn: the validation score with early stopping,
    the training loss otherwise. Returns (validation loss, score) or (None,
    None).
    """
    best_score_before = progress.best_validation_score_
    val_loss, score = remember_best(progress, network, validation, evaluate)
    if config.verbose and score is not None:
        print("Validation score: %f" % score)
    last_loss = progress.loss_curve_[-1]
    if config.early_stopping:
        # Compared with the best score before this epoch, as in scikit-learn
        # (a NaN score counts as no stall, as there).
        stalled = score < best_score_before + config.tol
    else:
        stalled = last_loss > progress.best_loss_ - config.tol
        if last_loss < progress.best_loss_:
            progress.best_loss_ = last_loss
    progress._no_improvement_count = (
        progress._no_improvement_count + 1 if stalled else 0
    )
    return val_loss, score


def remember_best(progress, network, validation, evaluate, *, latest_of_ties=False):
    """Score the weights just reached and keep them if they are the best.

    The best weights are those of the best validation score when there is a
    validation set, else of the lowest training loss (the last entry of
    ``loss_curve_``). Of tied best scores the first is kept, or the latest
    with ``latest_of_ties`` (a score of -inf never counts). Returns
    (validation loss, score) or (None, None).
    """
    last_loss = progress.loss_curve_[-1]
    val_loss = score = None
    if validation is not None:
        val_loss, score = evaluate(network, validation)
        progress.validation_scores_.append(score)
        best = progress.best_validation_score_
        if score > best or (latest_of_ties and score == best > -np.inf):
            progress.best_validation_score_ = score
            progress._best_params = network.params.copy()
    elif last_loss < progress._best_loss_seen:
        progress._best_params = network.params.copy()
    progress._best_loss_seen = min(progress._best_loss_seen, last_loss)
    return val_loss, score


def _record_epoch(progress, loss, record, learning_rate, seconds):
    """Append one epoch (or L-BFGS iteration) to ``history_``."""
    val_loss, val_score = record
    entry = {"epoch": len(progress.history_) + 1, "loss": float(loss)}
    if val_loss is not None:
        entry["val_loss"] = val_loss
        entry["val_score"] = val_score
    entry["learning_rate"] = learning_rate
    entry["time"] = seconds
    progress.history_.append(entry)


# ---------------------------------------------------------------------------
# L-BFGS
# ---------------------------------------------------------------------------


def fit_lbfgs(
    network, X, y, sample_weight, *, config, progress, validation, evaluate, callbacks
):
    """Full-batch training with SciPy's L-BFGS-B on the flat parameters.

    The arguments are those of :func:`fit_stochastic`.
    """
    last = {}  # the last evaluated point and its loss as reported

    def loss_and_gradient(flat_params):
        network.params[...] = flat_params
        loss = network.loss_and_gradient(X, y, sample_weight, config.alpha)
        last["x"] = np.array(flat_params, dtype=np.float64)
        last["reported_loss"] = network.reported_loss
        return loss, network.grad.astype(np.float64)

    accepted = {"x": network.params.astype(np.float64), "n_iter": 0}
    clock = {"start": time.perf_counter()}
    if validation is not None and getattr(progress, "validation_scores_", None) is None:
        progress.validation_scores_ = []
        progress.best_validation_score_ = -np.inf
    callbacks.begin_epoch()

    def on_iteration(flat_params):
        # L-BFGS-B calls back with the point its line search accepted, which
        # is the one it evaluated last.
        accepted["x"] = np.array(flat_params, dtype=np.float64)
        accepted["n_iter"] += 1
        network.params[...] = flat_params
        loss = last["reported_loss"]
        progress.loss_curve_.append(loss)
        if config.verbose:
            print("Iteration %d, loss = %.8f" % (accepted["n_iter"], loss))
        record = remember_best(progress, network, validation, evaluate)
        if config.verbose and record[1] is not None:
            print("Validation score: %f" % record[1])
        now = time.perf_counter()
        _record_epoch(progress, loss, record, None, now - clock["start"])
        clock["start"] = now
        if callbacks.end_epoch():
            raise _StopTraining
        callbacks.begin_epoch()

    def reported_loss_at(flat_params):
        if not np.array_equal(last.get("x"), flat_params):
            loss_and_gradient(flat_params)
        return last["reported_loss"]

    options = {
        "maxfun": config.max_fun,
        "maxiter": config.max_epochs,
        "gtol": config.tol,
    }
    if _SCIPY_HAS_IPRINT:
        options["iprint"] = 1 if config.verbose else -1
    try:
        # Overflow shows up as a non-finite loss, checked below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = scipy.optimize.minimize(
                loss_and_gradient,
                accepted["x"],
                method="L-BFGS-B",
                jac=True,
                options=options,
                callback=on_iteration,
            )
    except (KeyboardInterrupt, _StopTraining) as stop:
        if isinstance(stop, KeyboardInterrupt):
            warnings.warn("Training interrupted by user.")
        progress.n_iter_ = accepted["n_iter"]
        final_params = accepted["x"]
    else:
        progress.n_iter_ = _check_optimize_result("lbfgs", result, config.max_epochs)
        final_params = result.x
    callbacks.close_epoch()
    # The loss as scikit-learn reports it (output-averaged squared error).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        progress.loss_ = reported_loss_at(final_params)
    network.params[...] = final_params
    if not np.isfinite(progress.loss_):
        raise ValueError(divergence_message(config))
