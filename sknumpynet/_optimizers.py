"""Stochastic optimizers, NumPy only.

All parameters of the network live in one flat buffer, so a step is a handful
of vectorized operations over that buffer, whatever the number of layers.
Every update is computed in the same order of floating-point operations as
scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer``, which keeps the two
packages' weights equal to the last bit or nearly so.

An optimizer's whole state is plain arrays and numbers (:meth:`get_state`),
so an estimator can store it, pickle it and resume from it.
"""

import copy
import inspect
import math

import numpy as np


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
    lr_schedule : {"constant", "invscaling", "adaptive"}
        How :math:`\eta` changes over epochs, as in scikit-learn.
    momentum : float
        Momentum :math:`\mu` in [0, 1].
    nesterov : bool
        Whether to use Nesterov's momentum.
    power_t : float
        Exponent of the "invscaling" schedule.
    state : dict or None
        A state from :meth:`get_state` to resume from.
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
    ):
        super().__init__(learning_rate_init, lr_schedule, power_t)
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

    def step(self, params, grad):
        """Update ``params`` in place with the gradient ``grad``."""
        # Python floats keep float32 buffers in float32 (NumPy >= 2).
        momentum, learning_rate = float(self.momentum), self.learning_rate
        scaled_grad = np.multiply(grad, learning_rate, out=self._scaled_grad)
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
    lr_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        How :math:`\eta` changes over epochs, as for :class:`SGD`
        (scikit-learn's Adam has only "constant").
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    state : dict or None
        A state from :meth:`get_state` to resume from.

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
    ):
        super().__init__(learning_rate_init, lr_schedule, power_t)
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

    def step(self, params, grad):
        """Update ``params`` in place with the gradient ``grad``."""
        beta_1, beta_2 = self.beta_1, self.beta_2
        self.t += 1
        m, v, scratch = self.first_moment, self.second_moment, self._scratch
        m *= beta_1
        m += np.multiply(grad, 1 - beta_1, out=scratch)
        v *= beta_2
        squared = np.multiply(grad, grad, out=scratch)
        squared *= 1 - beta_2
        v += squared
        self.learning_rate = (
            self.base_learning_rate
            * math.sqrt(1 - beta_2**self.t)
            / (1 - beta_1**self.t)
        )
        denominator = np.sqrt(v, out=scratch)
        denominator += self.epsilon
        update = np.multiply(m, -self.learning_rate, out=self._update)
        update /= denominator
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
