"""compile()'s `loss`/`loss_weights`/`metrics`/`weighted_metrics`, one entry per model output."""
from __future__ import annotations

from typing import Any

from tfx_core.keras import losses as losses_mod
from tfx_core.keras import metrics as metrics_mod
from tfx_core.keras.engine.keras_tensor import flatten
from tfx_core.keras.engine.masks import mask_sample_weight


def flat_outputs(y: Any, output_names: list[str] | None, n_pred: int | None = None) -> list:
    """The per-output values of `y` (a tensor, a list/tuple, or a dict keyed by output
    names) in the model's output order; a single value stands for a one-output model."""
    if y is None:
        return []
    if isinstance(y, dict):
        if output_names and set(y) == set(output_names):
            return [y[name] for name in output_names]
        return [y[k] for k in sorted(y)]
    if isinstance(y, (list, tuple)):
        if n_pred == 1 and len(y) != 1:  # one output: the list is its value
            return [y]
        return list(y)
    return [y]


def _per_output(spec: Any, names: list[str], what: str) -> list[Any]:
    """`spec` spread over the outputs: a list with one entry per output, a dict keyed by
    output names (missing names get None), or one value for a single output."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not output names; "
                             f"the model's outputs are {names}")
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)) and n == 1 and len(spec) == 1:
        return list(spec)
    if isinstance(spec, (list, tuple)) and n > 1:
        if len(spec) != n:
            raise ValueError(f"compile: {what} must have one entry per output ({n}: {names}) "
                             f"or be a dict keyed by output names, got {spec!r}")
        return list(spec)
    return [spec]


def output_names_of(model: Any, y_pred: Any) -> list[str]:
    """The names of a model's outputs: the layers that produce them (as Keras), else
    `output_0`, `output_1`, ... for a subclassed model; keys when `y_pred` is a dict."""
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    outputs = getattr(model, "outputs", None)
    if outputs is not None:
        if isinstance(outputs, dict):
            return list(outputs)
        flat = flatten(outputs)
        if len(flat) == len(flatten(y_pred)):
            return [t.history[0].layer.name for t in flat]
    return [f"output_{i}" for i in range(len(flatten(y_pred)))]


class CompiledLoss:
    """The compiled loss of every output, times its `loss_weights` entry; with several
    losses each also gets a Mean tracker `{output}_loss` of its value before the loss
    weight (Keras 3)."""

    def __init__(self, loss: Any, loss_weights: Any) -> None:
        if loss_weights is not None and not isinstance(
                loss_weights, (list, tuple, dict, float, int)):
            raise ValueError(f"compile: expected loss_weights to be a float, a list or a dict, "
                             f"got {loss_weights!r} of type {type(loss_weights).__name__}")
        self.loss, self.loss_weights = loss, loss_weights
        self.names: list[str] = []
        self.entries: list[tuple[int, Any, Any]] = []  # (output index, Loss, weight)
        self.trackers: list[Any] = []
        self.built = False

    def build(self, names: list[str]) -> None:
        self.names = names
        if isinstance(self.loss, (list, tuple, dict)):
            losses = _per_output(self.loss, names, "loss")
        else:  # one loss for every output, as Keras 3
            losses = [self.loss] * len(names)
            if isinstance(self.loss_weights, (list, tuple, dict)) and len(
                    self.loss_weights) != 1:
                raise ValueError(f"compile: loss_weights must match the number of losses, got "
                                 f"1 loss and {len(self.loss_weights)} weights")
        one = self.loss_weights
        if isinstance(one, (list, tuple, dict)) and not isinstance(
                self.loss, (list, tuple, dict)):
            one = list(one.values() if isinstance(one, dict) else one)[0]
        if self.loss_weights is None:
            weights = [None] * len(names)
        elif isinstance(one, (float, int)):
            weights = [float(one)] * len(names)
        else:
            weights = _per_output(self.loss_weights, names, "loss_weights")
        self.entries = [(i, losses_mod.get(loss), w)
                        for i, (loss, w) in enumerate(zip(losses, weights)) if loss is not None]
        if len(self.entries) > 1:
            self.trackers = [metrics_mod.Mean(name=f"{names[i]}_loss")
                             for i, _, _ in self.entries]
        self.built = True

    def __call__(self, y: Any, y_pred: Any, sample_weight: Any) -> Any:
        preds = flat_outputs(y_pred, self.names)
        trues = flat_outputs(y, self.names, len(preds))
        weights = _sample_weights(sample_weight, self.names, len(preds))
        if len(trues) != len(preds):
            raise ValueError(f"The model has {len(preds)} outputs {self.names} but y has "
                             f"{len(trues)} values: pass one target per output (a list or "
                             "a dict keyed by output names)")
        total = None
        for k, (i, fn, w) in enumerate(self.entries):
            # as Keras 3: a prediction's mask weighs its loss, which then averages over the
            # kept steps only
            mean = getattr(fn, "reduction", "sum_over_batch_size") in (
                "sum_over_batch_size", "mean")
            value = fn(trues[i], preds[i],
                       sample_weight=mask_sample_weight(preds[i], weights[i], mean))
            if self.trackers:
                # NOTE: tf.keras 3 means the per-output losses over batches unweighted (its
                # traced step's batch size is unknown, so the tracker's batch-size weight is
                # dropped), unlike the total loss: a short last batch counts as a full one
                self.trackers[k].update_state(value)
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        return total


def _sample_weights(sample_weight: Any, names: list[str], n: int) -> list:
    """One sample weight per output: a list/dict gives each its own, a single array is
    shared by all (Keras 3)."""
    if isinstance(sample_weight, (list, tuple, dict)) and n > 1:
        return _per_output(sample_weight, names, "sample_weight")
    return [sample_weight] * n


class CompiledMetrics:
    """`metrics` (unweighted) and `weighted_metrics` (given the sample weights) per output.

    As Keras 3: with several outputs, names are prefixed `{output}_`; a weighted metric
    whose name is taken is renamed `weighted_{name}`, a repeated unweighted one `{name}_1`.
    """

    def __init__(self, metrics: Any, weighted_metrics: Any) -> None:
        for what, spec in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if spec is not None and not isinstance(spec, (list, tuple, dict)):
                raise TypeError(f"compile: {what} must be a list, tuple or dict, got {spec!r}")
        self.specs = (metrics, weighted_metrics)
        self.entries: list[tuple[str, Any, int, bool]] = []  # (log name, metric, output, weighted)
        self.names: list[str] = []

    def build(self, y: Any, y_pred: Any, names: list[str], loss_fn: Any) -> None:
        preds = flat_outputs(y_pred, names)
        trues = flat_outputs(y, names, len(preds))
        self.names = names
        taken: dict[str, int] = {}
        for weighted, spec in zip((False, True), self.specs):
            if not spec:
                continue
            if len(preds) == 1:
                per_output = [flatten(spec) if isinstance(spec, dict) else list(spec)]
            else:
                what = "weighted_metrics" if weighted else "metrics"
                per_output = _per_output(spec, names, what)
            for i, specs in enumerate(per_output):
                if specs is None:
                    continue
                specs = specs if isinstance(specs, (list, tuple)) else [specs]
                y_true = trues[i] if i < len(trues) else None
                for spec_i in specs:
                    m = metrics_mod.get(spec_i, y_true, preds[i],
                                        loss_fn if len(preds) == 1 else None)
                    self.entries.append((self._log_name(m.name, i, weighted, taken), m, i,
                                         weighted))

    def _log_name(self, name: str, i: int, weighted: bool, taken: dict[str, int]) -> str:
        prefix = f"{self.names[i]}_" if len(self.names) > 1 else ""
        full = prefix + name
        if full not in taken:
            taken[full] = 1
            return full
        if weighted:
            full = f"{prefix}weighted_{name}"
            if full not in taken:
                taken[full] = 1
                return full
        index = taken[full]
        taken[full] += 1
        return f"{full}_{index}"

    @property
    def metrics(self) -> list[Any]:
        return [m for _, m, _, _ in self.entries]

    def update_state(self, y: Any, y_pred: Any, sample_weight: Any) -> None:
        preds = flat_outputs(y_pred, self.names)
        trues = flat_outputs(y, self.names, len(preds))
        weights = _sample_weights(sample_weight, self.names, len(preds))
        for _, m, i, weighted in self.entries:
            # the prediction's mask (masked steps weigh 0) applies to every metric (Keras 3
            # applies it inside update_state); the sample weights only to weighted_metrics
            weight = mask_sample_weight(preds[i], weights[i] if weighted else None, mean=False)
            m.update_state(trues[i], preds[i], sample_weight=weight)

    def results(self) -> dict[str, Any]:
        return {name: m.result() for name, m, _, _ in self.entries}


__all__ = ["CompiledLoss", "CompiledMetrics", "flat_outputs", "output_names_of"]
