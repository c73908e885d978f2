"""Docstring pieces of the estimators (numpydoc sections), each written once.

The estimators' docstrings are these pieces joined; a piece with ``$name``
placeholders is completed by :func:`fill` (``string.Template``: the
docstrings hold braces of their own).
"""

from string import Template


def fill(template, **values):
    """``template`` with each ``$name`` replaced by its value."""
    return Template(template).substitute(values)


def with_doc(text):
    """Decorator: give a function the docstring ``text`` (before other
    decorators copy it)."""

    def decorate(function):
        function.__doc__ = text
        return function

    return decorate


PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : str or list of str, default='logistic'
        Activation of the hidden layers, or one per hidden layer (a list as
        long as ``hidden_layer_sizes``; not in scikit-learn). 'logistic'
        (alias 'sigmoid', the seed article's name) is :math:`1 / (1 +
        e^{-z})`, computed without overflow for any input; 'tanh' is
        :math:`\\tanh z`; 'relu' is :math:`\\max(0, z)`; 'identity' is
        :math:`z`; and, not in scikit-learn, 'leaky_relu' is :math:`\\max(z,
        0.01 z)`, 'elu' is :math:`z` for :math:`z > 0` and :math:`e^z - 1`
        otherwise, 'softplus' is :math:`\\log(1 + e^z)`, 'selu' is
        :math:`\\lambda z` for :math:`z > 0` and :math:`\\lambda \\alpha (e^z -
        1)` otherwise (the self-normalizing constants, :math:`\\lambda
        \\approx 1.0507`, :math:`\\alpha \\approx 1.6733`), 'mish' is :math:`z
        \\tanh(\\log(1 + e^z))`. The default differs
        from scikit-learn's ('relu'): it is the seed network's sigmoid.

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver: SciPy's L-BFGS-B quasi-Newton method, stochastic gradient
        descent, or Adam.

    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) sample count of
        each batch when added to the loss.

    batch_size : int or 'auto', default='auto'
        Size of minibatches for the stochastic solvers, ``min(200,
        n_samples)`` when 'auto'. Not used by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'coslog4'}, \
default='constant'
        Step-size schedule of 'sgd' and, unlike scikit-learn, of 'adam' too:
        constant; ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the
        samples seen; or divided by 5 each time ``n_iter_no_change`` epochs
        fail to improve by ``tol`` (instead of stopping). 'coslog4' (not in
        scikit-learn; RealMLP's schedule) sets every step's size to
        ``learning_rate_init`` times four cosine cycles on a log time scale,
        :math:`\\frac{1}{2}(1 - \\cos(2 \\pi \\log_2(1 + 15 p)))` of the
        fraction :math:`p` of the fit done, :math:`p = (\\text{steps taken})
        / (\\text{max\\_iter} \\times \\text{batches per epoch})`: it
        reaches 0 after ``max_iter`` epochs (stopping earlier, by ``tol`` and
        ``n_iter_no_change`` or early stopping, ends it before). Each ``fit``
        runs the whole schedule, a warm start included (``fit`` always starts
        a fresh optimizer); ``partial_fit`` refuses it, as the number of
        steps of a stream is unknown.

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch (stochastic solvers).

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the early-stopping split and the
        shuffling. The draws are made in the same order as in scikit-learn's
        MLP, so an integer seed gives the same network as there.

    tol : float, default=1e-4
        Training stops when the loss (or validation score) fails to improve
        by ``tol`` for ``n_iter_no_change`` consecutive epochs; for 'lbfgs'
        it is the gradient tolerance.

    verbose : bool, default=False
        Whether to print progress messages to stdout.

    warm_start : bool, default=False
        Reuse the previous solution as initialization of the next ``fit``.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when
        its score fails to improve by ``tol`` for ``n_iter_no_change``
        epochs; the best weights are restored. Stochastic solvers only.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Number of epochs without ``tol`` improvement before stopping.

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.

    fit_intercept : bool, default=True
        Whether the layers have intercepts (biases). False gives the seed
        article's network, whose biases stay at zero. Not in scikit-learn.

    weight_init : {'glorot', 'uniform', 'he', 'normal'}, default='glorot'
        Initial weights: 'glorot' is scikit-learn's scheme (uniform on
        :math:`\\pm\\sqrt{c / (\\text{fan\\_in} + \\text{fan\\_out})}`, c = 2
        for logistic units and 6 otherwise); 'uniform' draws weights and
        intercepts from :math:`[0, 1)`, as the seed article's
        ``np.random.rand``; 'he' draws weights from
        :math:`\\mathcal{N}(0, 2 / \\text{fan\\_in})` and zero intercepts;
        'normal' draws weights and intercepts from :math:`\\mathcal{N}(0, 1)`,
        the initialisation that goes with ``parametrization='ntk'``.
        Not in scikit-learn.

    dropout : float or list of float, default=0.0
        Probability of dropping each hidden unit during training (inverted
        dropout: kept units are scaled by ``1 / (1 - dropout)``, so prediction
        uses the whole network unchanged), one value or one per hidden layer.
        The masks are drawn from a generator seeded by ``random_state``.
        Stochastic solvers only. Not in scikit-learn.

    max_grad_norm : float or None, default=None
        Clip each mini-batch gradient to this Euclidean norm (over all
        weights and intercepts). Stochastic solvers only. Not in scikit-learn.

    scoring : None, 'loss', str or callable, default=None
        What the validation set is judged by (early stopping, best weights):
        None is scikit-learn's choice (accuracy for the classifier, R^2 for
        the regressor); 'loss' is the validation loss (``validation_scores_``
        then holds its negative, higher being better); any other string or
        callable is a scikit-learn scorer. Not in scikit-learn.

    parametrization : {'standard', 'ntk'}, default='standard'
        'standard' computes :math:`z = a W + b`, as scikit-learn; 'ntk' (the
        neural-tangent-kernel parametrization of RealMLP) computes
        :math:`z = a W / \\sqrt{\\text{fan\\_in}} + b` on every layer, the
        output layer's included. ``coefs_`` holds the stored :math:`W`. The
        parametrization is meant for :math:`\\mathcal{N}(0, 1)` weights, so
        the tabular recipe pairs it with ``weight_init='normal'``;
        ``weight_init`` is kept as given. Not in scikit-learn.

    feature_scale : bool, default=False
        Whether a learnable per-feature scale :math:`s` (initialised to 1)
        multiplies the input in front of the first layer,
        :math:`a^{(0)} = X \\odot s`; it is fitted as ``feature_scale_``.
        Prediction multiplies it (and the NTK factors) into the first
        layer's weights, so sparse input stays sparse. Not in scikit-learn.

    learning_rate_factors : dict or None, default=None
        A learning-rate multiplier per parameter group, ``{'coefs': ...,
        'intercepts': ..., 'feature_scale': ...}`` (groups left out keep 1;
        'feature_scale' is ignored without ``feature_scale=True``): each
        step of 'sgd' and 'adam' moves a group's parameters by its factor
        times their step, so 0 freezes a group. None (every factor 1) is
        scikit-learn's update. RealMLP-TD-S uses ``{'coefs': 1.0,
        'intercepts': 0.1, 'feature_scale': 6.0}``. Ignored by 'lbfgs'. Not
        in scikit-learn.
"""

ATTRIBUTES_DOC = """
    loss_ : float
        The loss at the end of fitting (data term plus L2 penalty).

    best_loss_ : float or None
        The smallest training loss reached; None with early stopping.
        Stochastic solvers only.

    loss_curve_ : list of float
        The loss at each epoch (stochastic solvers) or L-BFGS iteration.

    validation_scores_ : list of float or None
        The validation score at each epoch when ``early_stopping=True``,
        else None. Stochastic solvers only.

    best_validation_score_ : float or None
        The best validation score with early stopping, else None.
        Stochastic solvers only.

    t_ : int
        Number of training samples seen by the stochastic solver.

    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix from layer i to layer i + 1, of
        shape ``(n_units_i, n_units_i+1)``, in the dtype of the training data.

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i + 1.

    feature_scale_ : ndarray of shape (n_features_in_,)
        The learned per-feature scale, only with ``feature_scale=True``. The
        forward pass applies :math:`\\operatorname{diag}(s)\\, W^{(0)} c_0`
        for the first layer and :math:`c_i W^{(i)}` for the others
        (:math:`c_i` = 1, or :math:`1/\\sqrt{\\text{fan\\_in}}` with
        ``parametrization='ntk'``), never ``coefs_`` directly. Not in
        scikit-learn.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    n_iter_ : int
        Number of epochs (iterations) run by the last call to fit.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation.

    history_ : list of dict
        One entry per epoch (or L-BFGS iteration), across warm starts and
        ``partial_fit`` calls: ``epoch``, ``loss`` (training), ``val_loss``
        and ``val_score`` when there is a validation set, ``learning_rate``
        (the scheduled step size; None for L-BFGS) and ``time`` (seconds).
        Not in scikit-learn.

    should_stop_ : bool
        After ``partial_fit``: True once ``n_iter_no_change`` calls in a row
        brought no improvement (of the validation score with
        ``early_stopping=True`` and ``X_val``/``y_val``, which also restores
        the best weights; of the training loss otherwise). Not in
        scikit-learn, whose ``partial_fit`` refuses early stopping.
"""


#: ``partial_fit``'s docstring; ``$outputs`` names the target columns,
#: ``$classes`` is the classifier's extra parameter (empty for the
#: regressor) and ``$y_val`` what ``y_val`` holds.
PARTIAL_FIT_DOC = """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, $outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample, not all zero.
$classes        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            A validation set, scored after this call's epoch: the best weights
            so far are remembered (:meth:`restore_best_weights`) and, with
            ``early_stopping=True``, ``should_stop_`` turns True (and the best
            weights come back) once ``n_iter_no_change`` calls in a row fail to
            improve its score by ``tol``. Not in scikit-learn.
        y_val : array-like of shape (n_val,) or (n_val, $outputs), \
default=None
            $y_val of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The updated estimator.
        """

#: The classifier's ``classes`` parameter of ``partial_fit``.
CLASSES_DOC = """        classes : array-like of shape (n_classes,), default=None
            Every class across all calls to partial_fit, for instance
            ``np.unique(y_all)``. Required on the first call, optional after.
"""


#: The docstring of ``predict`` and its kin; ``$summary`` is the first line,
#: ``$returns`` the numpydoc entry of what they return.
PREDICT_DOC = """$summary

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        $returns
        """


def predict_doc(summary, returns):
    """Decorator: :data:`PREDICT_DOC` with this first line and Returns entry."""
    return with_doc(fill(PREDICT_DOC, summary=summary, returns=returns))


# ---------------------------------------------------------------------------
# The tabular estimators ($kind: "classifier" or "regressor")
# ---------------------------------------------------------------------------

#: The summary and the recipe's parameters; ``$activation`` and
#: ``$learning_rate`` are the recipe's defaults.
TABULAR_RECIPE_PARAMETERS = """Multilayer perceptron $kind with the RealMLP recipes.

    Takes raw tables -- a pandas or polars DataFrame or an array with
    numeric, string, categorical and boolean columns and missing values --
    and works well with its defaults: the preprocessing, architecture,
    initialisation, optimizer, schedule and number of epochs of the full
    RealMLP-TD, or on request of RealMLP-TD-S (the user guide's "Raw tables"
    page derives each of them).

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=None
        Units of each hidden layer (one int: one hidden layer; an empty
        sequence: no hidden layer, a linear model). None means the recipe's:
        (128, 128, 128) for "td", whose 4 members share them, and
        (256, 256, 256) for "td-s".
    activation : str, default=None
        The hidden units' activation, a name such as "selu", "mish" or
        "relu"; None means the recipe's "$activation".
    recipe : {"td", "td-s"}, default="td"
        "td": the full RealMLP-TD: a periodic embedding of every numeric
        column, a learned table for each categorical column of more than 8
        categories, a learned mixing weight per hidden unit, the
        data-dependent initialisation, dropout 0.15 and weight decay 0.02.
        "td-s": RealMLP-TD-S, a plain network on the preprocessed table (the
        default of earlier versions, and of model files saved before this
        parameter existed).
    n_epochs : int, default=256
        Number of passes over the training rows. The learning-rate schedule
        spans them all.
    batch_size : int, default=256
        Rows per mini-batch (all the training rows if there are fewer).
        Every batch is whole: each epoch leaves out the remainder of fewer
        rows, a different one each epoch.
    learning_rate : float, default=None
        The base step size of Adam; None means the recipe's ($learning_rate).
    dropout : float, default=None
        Dropout rate of the hidden units, scheduled as RealMLP-TD does:
        constant for the first half of the fit, then down to 0 along a half
        cosine ("flat_cos", set at the start of each epoch). None means the
        recipe's: 0 for "td-s", 0.15 for "td".
    weight_decay : float, default=None
        Decoupled weight decay of every parameter but the intercepts, as
        RealMLP-TD applies it: it follows the learning rate and the
        "flat_cos" schedule, each parameter group at its own rate (the
        feature scale 36 times as fast as the weights). None means the
        recipe's: 0 for "td-s", 0.02 for "td".
    numeric_embedding : {"pbld", "ple", "none"}, default=None
        With ``recipe="td"``: "pbld" embeds every numeric column by
        :math:`\\cos(2\\pi w x + b)\\, V + c` beside its value; "ple" encodes
        it piecewise-linearly on the bins of a small decision tree fitted on
        that column; "none" feeds the value alone. None means the recipe's
        ("pbld").
    n_members : int, default=None
        With ``recipe="td"``: members of a shared-weight ensemble (TabM-mini:
        each member scales the input by its own learned factors and has its
        own output layer; the hidden layers are shared; the prediction is the
        members' mean). None means the recipe's: 4 for "td" (chosen with
        the width, see the user guide); "td-s" has one.
"""

#: The parameters of the fit itself, then the first fitted attribute;
#: ``$stratified`` says how the split is stratified (or nothing).
TABULAR_FIT_PARAMETERS = """    validation_fraction : float, default=0.2
        Fraction of the training rows held out to choose the best epoch,
        whose weights the fitted model keeps; 0 trains on every row and
        keeps the last epoch.$stratified
    preprocessor : transformer, default=None
        Turns X into the network's numeric input; None means a
        :class:`TabularPreprocessor` of this ``dtype``. A clone is fitted.
    random_state : int, RandomState instance or None, default=None
        Seeds, in this order, the validation split, the initial weights and
        the shuffle of the training rows at every epoch.
    verbose : bool, default=False
        Print the training loss and validation score of every epoch.
    dtype : {"float32", "float64"}, default="float32"
        The precision the network computes in.

    Attributes
    ----------
    preprocessor_ : transformer
        The fitted preprocessor.
"""

#: The fitted network's attributes, See Also and Notes; ``$outputs`` counts
#: the output units, ``$loss``, ``$val_loss`` and ``$score`` say what the
#: curves hold, ``$other``/``$general``/``$sklearn`` name the kin.
TABULAR_NETWORK_ATTRIBUTES = """    n_features_in_ : int
        Number of columns of X seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the columns of X seen in fit, when they are all strings.
    coefs_ : list of ndarray
        ``coefs_[i]`` is the stored weight matrix of layer ``i``, of shape
        ``(fan_in, fan_out)``; the forward pass multiplies it by
        :math:`1/\\sqrt{\\text{fan\\_in}}` (and the first one, row by row, by
        ``feature_scale_``).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the intercept vector of layer ``i``.
    feature_scale_ : ndarray of shape (n_network_inputs,)
        The learned scale of each input of the first layer (the preprocessed
        features; with ``recipe="td"``, after the embeddings).
    activation_mix_ : list of ndarray
        With ``recipe="td"``: the learned mixing weight :math:`\\alpha` of
        each hidden unit, :math:`a = z + \\alpha (f(z) - z)`.
    numeric_embedding_ : dict of str to ndarray
        With ``recipe="td"`` and a numeric embedding: its "frequencies",
        "phases" (one row per numeric column), "embedding_coefs" and
        "embedding_intercepts".
    category_embedding_ : ndarray of shape (n_codes, 8)
        With ``recipe="td"`` and categorical columns of many categories: the
        learned row of each of their categories, stacked column by column.
    member_scale_ : ndarray of shape (n_members, n_network_inputs)
        With ``n_members`` > 1: each member's scaling of the first layer's
        input; ``coefs_[-1]`` and ``intercepts_[-1]`` then hold one output
        layer per member along their first axis.
    n_outputs_ : int
        Number of output units ($outputs).
    loss_curve_ : list of float
        The training loss ($loss) of each epoch.
    validation_scores_ : list of float
        $score after each epoch
        (empty with ``validation_fraction=0``).
    best_epoch_ : int
        The epoch whose weights were kept (the last with the best validation
        score; the last one without validation).
    history_ : list of dict
        One entry per epoch, as the NumpyMLP estimators': ``epoch``,
        ``loss`` (training), ``val_loss`` and ``val_score`` with
        validation, ``learning_rate`` (the scheduled step size at the end
        of the epoch) and ``time`` (seconds).
        ``val_loss`` is $val_loss.
    n_iter_ : int
        Number of epochs run: ``n_epochs``, unless a callback stopped the fit.

    See Also
    --------
    $other : The $other_kind of the same recipe.
    TabularPreprocessor : The preprocessing of raw tables it uses.
    $general : The general-purpose $kind, a superset of
        scikit-learn's $sklearn.

    Notes
    -----
    The recipe is RealMLP-TD-S; the user guide's "Raw tables" page gives
    each of its ingredients, their formulas and their provenance.

    There is no ``partial_fit`` (and no ``warm_start``): the schedule is
    defined over the whole fit -- it needs the total number of steps -- so
    a fit always trains from scratch.

    With scikit-learn >= 1.9, callbacks (``set_callbacks``) see one task per
    epoch, as with the NumpyMLP estimators, and may stop the fit early. A
    fit that diverges raises a ``ValueError`` and leaves the estimator as it
    was.

"""
