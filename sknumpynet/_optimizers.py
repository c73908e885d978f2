r"""Stochastic optimizers, NumPy only.

All parameters of the network live in one flat buffer, so a step is a handful
of vectorized operations over that buffer, whatever the number of layers.
Every update is computed in the same order of floating-point operations as
scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer``, which keeps the two
packages' weights equal to the last bit or nearly so. An optimizer's state is
plain arrays and numbers (:meth:`get_state`), so an estimator can store it
and resume from it. Per-parameter learning-rate multipliers and per-step
schedules (:func:`coslog_schedule`, from RealMLP-TD-S: see the tabular page's
credits) go beyond scikit-learn.
"""

import copy
import inspect
import math

import numpy as np


def coslog_schedule(progress, n_cycles=4):
    r"""The "coslog" learning-rate schedule: cosine cycles on a log time scale.

    .. math:: \eta(t) = \frac{1}{2}\left(1 - \cos\left(2 \pi
              \log_2\left(1 + (2^{n} - 1)\, t\right)\right)\right)

    with :math:`t \in [0, 1]` the training progress and :math:`n` the number
    of cycles. Each cycle rises from 0 to 1 and falls back to 0, and each
    lasts twice as long as the one before: with :math:`n = 4` they end at
    :math:`t = 1/15, 3/15, 7/15` and 1: RealMLP's "coslog4".

    Parameters
    ----------
    progress : float or ndarray
        :math:`t`, the fraction of training done, in [0, 1].
    n_cycles : int, default=4
        :math:`n`.

    Returns
    -------
    factor : float or ndarray
        The multiplier of the learning rate, in [0, 1].

    Examples
    --------
    >>> from sknumpynet._optimizers import coslog_schedule
    >>> round(coslog_schedule(0.0), 12), round(coslog_schedule(1.0), 12)
    (0.0, 0.0)
    >>> round(coslog_schedule(3 / 15), 12)  # the end of the second cycle
    0.0
    >>> round(coslog_schedule((2**0.5 - 1) / 15), 12)  # the first one's peak
    1.0
    """
    cycles = np.log2(1.0 + (2.0**n_cycles - 1.0) * np.asarray(progress, float))
    factor = 0.5 * (1.0 - np.cos(2.0 * np.pi * cycles))
    return float(factor) if np.ndim(factor) == 0 else factor


def flat_cos_schedule(progress):
    r"""The "flat_cos" schedule: flat for the first half, then a cosine to 0.

    .. math:: \rho(t) = 1 \text{ for } t < 1/2, \qquad
              \rho(t) = \frac{1}{2}\left(1 + \cos\left(\pi (2t - 1)\right)
              \right) \text{ for } t \ge 1/2

    RealMLP-TD's "flat_cos", with which it schedules its dropout rate and
    weight decay.

    Parameters
    ----------
    progress : float or ndarray
        :math:`t`, the fraction of training done, in [0, 1].

    Returns
    -------
    factor : float or ndarray
        The multiplier, in [0, 1].

    Examples
    --------
    >>> from sknumpynet._optimizers import flat_cos_schedule
    >>> flat_cos_schedule(0.25), flat_cos_schedule(0.75), flat_cos_schedule(1.0)
    (1.0, 0.5, 0.0)
    """
    t = np.asarray(progress, float)
    factor = np.where(t < 0.5, 1.0, 0.5 * (1.0 + np.cos(np.pi * (2.0 * t - 1.0))))
    factor = np.round(factor, 15)  # cos(pi/2) is 6e-17, not 0
    return float(factor) if np.ndim(factor) == 0 else factor


#: Learning-rate schedules applied at every step, as a function of the
#: training progress (they need the optimizer's ``total_steps``).
STEP_SCHEDULES = {"coslog4": coslog_schedule, "flat_cos": flat_cos_schedule}


def _check_total_steps(scheduled, lr_schedule, total_steps):
    """Refuse a schedule that follows the training progress without
    ``total_steps``, the number of steps of the whole training."""
    if scheduled and not (total_steps and total_steps > 0):
        raise ValueError(
            f"lr_schedule={lr_schedule!r} follows the training progress: "
            f"give total_steps, the number of steps of the whole training "
            f"(got {total_steps!r})."
        )


def _multipliers(lr_multipliers, n_params, dtype):
    """Per-parameter learning-rate multipliers as a vector of the buffer's
    dtype, or None (no multipliers: the plain update)."""
    if lr_multipliers is None:
        return None
    multipliers = np.array(lr_multipliers, dtype=dtype)
    if multipliers.shape != (n_params,):
        raise ValueError(
            f"lr_multipliers has shape {multipliers.shape}; the parameters "
            f"need ({n_params},)."
        )
    return multipliers


class _Optimizer:
    """Shared learning-rate schedule: its current value and when to stop.

    ``base_learning_rate`` follows the schedule of scikit-learn's SGD for every
    solver: "constant"; "invscaling", ``learning_rate_init / (t + 1) **
    power_t`` after each epoch, ``t`` being the number of samples seen; and
    "adaptive", divided by 5 each time training stalls, until it falls below
    1e-6.
    """

    def __init__(self, learning_rate_init, lr_schedule, power_t):
        self.learning_rate_init = learning_rate_init
        self.lr_schedule = lr_schedule
        self.power_t = power_t

    def iteration_ends(self, time_step):
        """Apply the "invscaling" schedule at the end of an epoch.

        Parameters
        ----------
        time_step : int
            Number of training samples seen so far.
        """
        if self.lr_schedule == "invscaling":
            self.base_learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    @property
    def scheduled_learning_rate(self):
        """The step size the schedule sets after the steps taken so far.

        The base learning rate, for the schedules that change it per epoch
        (what the training history reports as an epoch's ``learning_rate``).
        """
        return self.base_learning_rate

    def trigger_stopping(self, message, verbose):
        """Decide whether training stops after too many epochs without progress.

        With the "adaptive" schedule the step is divided by 5 instead, until
        it is too small to matter.

        Parameters
        ----------
        message : str
            Why training has stalled; printed when ``verbose``.
        verbose : bool
            Whether to print the decision.

        Returns
        -------
        is_stopping : bool
            True when training should stop.
        """
        if self.lr_schedule != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if self.base_learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.base_learning_rate /= 5.0
        if verbose:
            print(message + " Setting learning rate to %f" % self.base_learning_rate)
        return False

    def get_state(self):
        """Return a copy of the optimizer's state: a dict of arrays and numbers.

        Its ``"solver"`` entry names the optimizer (:data:`OPTIMIZERS`), the
        others are :attr:`state_names`.
        """
        state = {name: copy.copy(getattr(self, name)) for name in self.state_names}
        return {"solver": self.name, **state}


class SGD(_Optimizer):
    r"""Stochastic gradient descent with (Nesterov) momentum.

    .. math::
        v \leftarrow \mu v - \eta g, \qquad
        \theta \leftarrow \theta + \begin{cases}
            \mu v - \eta g & \text{(Nesterov)}\\ v & \text{otherwise}
        \end{cases}

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : numpy dtype
        Floating dtype of the parameters.
    learning_rate_init : float
        Initial step size :math:`\eta`.
    lr_schedule : str
        How :math:`\eta` changes: over epochs, "constant", "invscaling" or
        "adaptive", as in scikit-learn; or at every step, a key of
        :data:`STEP_SCHEDULES` (then :math:`\eta` at step :math:`t` of
        :math:`T` = ``total_steps`` is ``learning_rate_init`` times
        :math:`\rho((t - 1) / T)`, as for :class:`Adam`).
    momentum : float
        Momentum :math:`\mu` in [0, 1].
    nesterov : bool
        Whether to use Nesterov's momentum.
    power_t : float
        Exponent of the "invscaling" schedule.
    state : dict or None
        A state from :meth:`get_state` to resume from.
    lr_multipliers : array-like of shape (n_params,), default=None
        A multiplier of :math:`\eta` for each parameter: the step of
        parameter :math:`j` uses :math:`\eta\, r_j` (not part of the state).
        None: every :math:`r_j = 1`, scikit-learn's update.
    total_steps : int, default=None
        :math:`T`, the number of steps of the whole training, for a per-step
        schedule.
    """

    name = "sgd"
    #: The entries of :meth:`get_state` besides "solver".
    state_names = ("velocity", "learning_rate")
    #: Entries a state may lack (states written by older versions).
    optional_state_names = ()

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
        state=None,
        *,
        lr_multipliers=None,  # not in scikit-learn
        total_steps=None,
    ):
        self._schedule = STEP_SCHEDULES.get(lr_schedule)
        _check_total_steps(self._schedule is not None, lr_schedule, total_steps)
        super().__init__(learning_rate_init, lr_schedule, power_t)
        self.total_steps = total_steps
        # Steps taken by this optimizer (a per-step schedule's progress; not
        # part of the state: such a schedule is never resumed).
        self._steps = 0
        self.momentum = momentum
        self.nesterov = nesterov
        if state is None:
            self.velocity = np.zeros(n_params, dtype=dtype)
            self.learning_rate = float(learning_rate_init)
        else:
            self.velocity = np.array(state["velocity"], dtype=dtype)
            self.learning_rate = float(state["learning_rate"])
        self._scaled_grad = np.empty(n_params, dtype=dtype)
        self._update = np.empty(n_params, dtype=dtype)
        self.lr_multipliers = _multipliers(lr_multipliers, n_params, dtype)

    @property
    def scheduled_learning_rate(self):
        """The learning rate; with a per-step schedule, the one the next step
        takes (0 at the end of "coslog4")."""
        if self._schedule is None:
            return self.learning_rate
        progress = min(self._steps / self.total_steps, 1.0)
        return float(self.learning_rate_init) * self._schedule(progress)

    def step(self, params, grad):
        """Update ``params`` in place with the gradient ``grad``."""
        if self._schedule is not None:
            # The progress before this step: 0 at the first.
            self.learning_rate = self.scheduled_learning_rate
            self._steps += 1
        # Python floats keep float32 buffers in float32 (NumPy >= 2).
        momentum, learning_rate = float(self.momentum), self.learning_rate
        scaled_grad = np.multiply(grad, learning_rate, out=self._scaled_grad)
        if self.lr_multipliers is not None:
            scaled_grad *= self.lr_multipliers
        velocity = self.velocity
        velocity *= momentum
        velocity -= scaled_grad
        if self.nesterov:
            update = np.multiply(velocity, momentum, out=self._update)
            update -= scaled_grad
            params += update
        else:
            params += velocity

    # For SGD the current step size is the schedule's value itself.
    @property
    def base_learning_rate(self):
        """The scheduled step size (for SGD, the learning rate itself)."""
        return self.learning_rate

    @base_learning_rate.setter
    def base_learning_rate(self, value):
        self.learning_rate = value


class Adam(_Optimizer):
    r"""Adam, with the bias corrections folded into the step size.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
        \eta_t = \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}, \quad
        \theta \leftarrow \theta - \eta_t \frac{m}{\sqrt{v} + \epsilon}

    With a per-step schedule :math:`\rho` (``lr_schedule="coslog4"``),
    :math:`\eta` is :math:`\eta\, \rho\left((t - 1) / T\right)` at step
    :math:`t` of :math:`T` = ``total_steps``: the progress before the step,
    0 at the first. With multipliers :math:`r`, parameter :math:`j` moves by
    :math:`r_j` times its step. The RealMLP-TD-S recipe is
    ``beta_1=0.9, beta_2=0.95, lr_schedule="coslog4"`` with the multipliers
    of :data:`sknumpynet._parameters.REALMLP_TD_S_LR_FACTORS`.

    Parameters
    ----------
    n_params, dtype : int and numpy dtype
        Size and floating dtype of the flat parameter buffer.
    learning_rate_init : float
        Step size :math:`\eta` (before any schedule).
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to :math:`\sqrt{v}` for numerical stability.
    lr_schedule : str, default="constant"
        How :math:`\eta` changes: over epochs, "constant", "invscaling" or
        "adaptive", as for :class:`SGD` (scikit-learn's Adam has only
        "constant"); or at every step, a key of :data:`STEP_SCHEDULES`
        ("coslog4"; then ``total_steps`` is needed).
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    state : dict or None
        A state from :meth:`get_state` to resume from.
    lr_multipliers : array-like of shape (n_params,), default=None
        A multiplier of the step of each parameter (not part of the state);
        None for scikit-learn's update.
    total_steps : int, default=None
        The number of steps of the whole training, :math:`T` of a per-step
        schedule (steps past it keep the schedule's value at 1).
    weight_decay : float, default=0.0
        :math:`\lambda` of decoupled weight decay (not part of the state):
        before each step, :math:`\theta_j \leftarrow \theta_j (1 - \lambda\,
        \sigma((t - 1) / T)\, \eta\, d_j)` with :math:`\eta` the scheduled
        (not bias-corrected) step size, :math:`\sigma` the ``wd_schedule`` and
        :math:`d_j` the ``wd_multipliers``. This is pytabkit's weight decay,
        in which a parameter group's learning-rate and decay factors enter
        squared: RealMLP-TD's :math:`d_j` is
        :math:`(\text{lr factor} \times \text{wd factor})^2`.
        0 means none: scikit-learn's ``alpha`` is the L2 penalty instead.
    wd_multipliers : array-like of shape (n_params,), default=None
        :math:`d_j` per parameter; None means 1.
    wd_schedule : str, default="constant"
        :math:`\sigma`: "constant" (1) or a key of :data:`STEP_SCHEDULES`
        (then ``total_steps`` is needed).

    Attributes
    ----------
    base_learning_rate : float
        The scheduled step size :math:`\eta`.
    learning_rate : float
        The bias-corrected step size :math:`\eta_t` of the last step.

    References
    ----------
    Kingma, D. P. and Ba, J. (2014). Adam: A method for stochastic
    optimization. arXiv:1412.6980.
    """

    name = "adam"
    #: The entries of :meth:`get_state` besides "solver".
    state_names = (
        "first_moment",
        "second_moment",
        "t",
        "learning_rate",
        "base_learning_rate",
    )
    #: Entries a state may lack: states saved before Adam had schedules.
    optional_state_names = ("base_learning_rate",)

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        lr_schedule="constant",
        power_t=0.5,
        state=None,
        *,
        lr_multipliers=None,
        total_steps=None,
        weight_decay=0.0,
        wd_multipliers=None,
        wd_schedule="constant",
    ):
        scheduled = lr_schedule in STEP_SCHEDULES or (
            weight_decay and wd_schedule in STEP_SCHEDULES
        )
        _check_total_steps(scheduled, lr_schedule, total_steps)
        super().__init__(learning_rate_init, lr_schedule, power_t)
        self.total_steps = total_steps
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        if state is None:
            self.first_moment = np.zeros(n_params, dtype=dtype)
            self.second_moment = np.zeros(n_params, dtype=dtype)
            self.t = 0
            self.learning_rate = float(learning_rate_init)
            self.base_learning_rate = float(learning_rate_init)
        else:
            self.first_moment = np.array(state["first_moment"], dtype=dtype)
            self.second_moment = np.array(state["second_moment"], dtype=dtype)
            self.t = int(state["t"])
            self.learning_rate = float(state["learning_rate"])
            self.base_learning_rate = float(
                state.get("base_learning_rate", learning_rate_init)
            )
        self._scratch = np.empty(n_params, dtype=dtype)
        self._update = np.empty(n_params, dtype=dtype)
        self.lr_multipliers = _multipliers(lr_multipliers, n_params, dtype)
        if wd_schedule != "constant" and wd_schedule not in STEP_SCHEDULES:
            raise ValueError(
                f"Unknown wd_schedule {wd_schedule!r}; expected 'constant' or "
                f"one of {sorted(STEP_SCHEDULES)}."
            )
        self.weight_decay = float(weight_decay)
        self.wd_schedule = wd_schedule
        self.wd_multipliers = _multipliers(wd_multipliers, n_params, dtype)
        # The schedules are at most 1, so this bounds every step's decay: at
        # 1 or more a parameter would be zeroed or flip its sign.
        largest = 1.0 if self.wd_multipliers is None else self.wd_multipliers.max()
        strongest = self.weight_decay * float(learning_rate_init) * float(largest)
        if strongest >= 1.0:
            raise ValueError(
                f"weight_decay={weight_decay!r} is too strong for the learning "
                f"rate {learning_rate_init!r}: a step would multiply some "
                f"parameters by {1.0 - strongest:.3g} (weight_decay * learning "
                f"rate * the largest decay multiplier {float(largest):g} must "
                "be below 1)."
            )

    def _decay_weights(self, params):
        """Decoupled weight decay before step ``self.t`` (pytabkit's order)."""
        progress = min((self.t - 1) / self.total_steps, 1.0) if self.total_steps else 0
        schedule = STEP_SCHEDULES.get(self.wd_schedule)
        rate = (
            self.weight_decay
            * (1.0 if schedule is None else schedule(progress))
            * self._scheduled_learning_rate(self.t - 1)
        )
        if rate == 0.0:
            return
        if self.wd_multipliers is None:
            params *= params.dtype.type(1.0 - rate)
        else:
            keep = np.multiply(self.wd_multipliers, -rate, out=self._scratch)
            keep += 1.0
            params *= keep

    def _scheduled_learning_rate(self, steps_done):
        r""":math:`\eta` after ``steps_done`` steps: the base rate, times the
        per-step schedule at that progress if there is one."""
        schedule = STEP_SCHEDULES.get(self.lr_schedule)
        if schedule is None:
            return self.base_learning_rate
        progress = min(steps_done / self.total_steps, 1.0)
        return self.base_learning_rate * schedule(progress)

    @property
    def scheduled_learning_rate(self):
        r""":math:`\eta` as the schedule sets it after the steps taken so far
        (with a per-step schedule, the rate the next step starts from; 0 at
        the end of "coslog4")."""
        return self._scheduled_learning_rate(self.t)

    def step(self, params, grad):
        """Update ``params`` in place with the gradient ``grad``."""
        beta_1, beta_2 = self.beta_1, self.beta_2
        self.t += 1
        if self.weight_decay:
            self._decay_weights(params)
        m, v, scratch = self.first_moment, self.second_moment, self._scratch
        m *= beta_1
        m += np.multiply(grad, 1 - beta_1, out=scratch)
        v *= beta_2
        squared = np.multiply(grad, grad, out=scratch)
        squared *= 1 - beta_2
        v += squared
        self.learning_rate = (
            # The progress before this step: 0 at the first.
            self._scheduled_learning_rate(self.t - 1)
            * math.sqrt(1 - beta_2**self.t)
            / (1 - beta_1**self.t)
        )
        denominator = np.sqrt(v, out=scratch)
        denominator += self.epsilon
        update = np.multiply(m, -self.learning_rate, out=self._update)
        update /= denominator
        if self.lr_multipliers is not None:
            update *= self.lr_multipliers
        params += update


#: The stochastic optimizers by solver name.
OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_optimizer(solver, n_params, dtype, state=None, **hyperparameters):
    """Build the optimizer of ``solver``, resumed from ``state`` if it is its own.

    Parameters
    ----------
    solver : {"sgd", "adam"}
        A key of :data:`OPTIMIZERS`.
    n_params, dtype : int and numpy dtype
        Size and dtype of the flat parameter buffer.
    state : dict or None, default=None
        A :meth:`~_Optimizer.get_state` result. A state of another solver is
        ignored: the new optimizer starts afresh.
    **hyperparameters
        Keyword arguments of :class:`SGD` and :class:`Adam`; each optimizer
        takes those it has (``momentum`` is for SGD, ``beta_1`` for Adam...).

    Returns
    -------
    optimizer : SGD or Adam
    """
    if state is not None and state.get("solver") != solver:
        state = None
    optimizer = OPTIMIZERS[solver]
    accepted = inspect.signature(optimizer).parameters
    own = {name: value for name, value in hyperparameters.items() if name in accepted}
    return optimizer(n_params, dtype, state=state, **own)


def required_state_names(solver):
    """The entries a saved state of ``solver`` must have, "solver" aside."""
    optimizer = OPTIMIZERS[solver]
    return set(optimizer.state_names) - set(optimizer.optional_state_names)
