"""The layer graph of a functional model: nodes from `Input`s to outputs, run in order."""
from __future__ import annotations

from typing import Any

from tfx_core.keras.engine.keras_tensor import KerasTensor, Node, flatten, map_structure


class LayerGraph:
    """The `Node`s between `inputs` and `outputs` (KerasTensor structures), topologically sorted.

    Raises:
        ValueError: an output does not depend only on `inputs` (a disconnected graph), or a
            leaf of `inputs`/`outputs` is not a KerasTensor.
    """

    def __init__(self, inputs: Any, outputs: Any) -> None:
        for what, struct in (("inputs", inputs), ("outputs", outputs)):
            for t in flatten(struct):
                if not isinstance(t, KerasTensor) or t.history is None:
                    raise ValueError(f"Model: all {what} must be KerasTensors (from "
                                     f"tx.keras.Input or a layer called on one), got {t!r}")
        self.inputs, self.outputs = inputs, outputs
        self._input_ids = {id(t) for t in flatten(inputs)}
        self.nodes: list[Node] = []
        seen: set[int] = set()
        for t in flatten(outputs):
            self._visit(t, seen, set())

    def _visit(self, t: KerasTensor, seen: set[int], active: set[int]) -> None:
        node = t.history[0]
        if id(t) in self._input_ids or id(node) in seen:
            return
        if not node.input_tensors:
            raise ValueError(f"Graph disconnected: cannot obtain value for tensor {t} from layer "
                             f"'{node.layer.name}': it is not one of the model's inputs")
        active.add(id(node))
        for source in node.input_tensors:
            self._visit(source, seen, active)
        seen.add(id(node))
        self.nodes.append(node)

    @property
    def input_layers(self) -> list[Any]:
        return [t.history[0].layer for t in flatten(self.inputs)]

    @property
    def layers(self) -> list[Any]:
        """Input layers, then each called layer once, in execution order."""
        out: list[Any] = []
        for layer in self.input_layers + [n.layer for n in self.nodes]:
            if not any(layer is o for o in out):
                out.append(layer)
        return out

    def is_chain(self) -> bool:
        """Whether every node has one input and one output (summary() omits "Connected to")."""
        return (len(flatten(self.inputs)) == 1 and len(flatten(self.outputs)) == 1
                and all(len(n.input_tensors) == 1 and len(n.output_tensors) == 1
                        for n in self.nodes))

    def run(self, inputs: Any) -> Any:
        """Call each node's layer on the values that replace the input KerasTensors."""
        expected = flatten(self.inputs)
        given = flatten(inputs) if not isinstance(self.inputs, dict) or isinstance(
            inputs, dict) else [inputs]
        if len(given) != len(expected):
            raise ValueError(f"Model expects {len(expected)} input(s) with shapes "
                             f"{[t.shape for t in expected]}, got {len(given)}")
        values = {id(k): v for k, v in zip(expected, given)}
        for node in self.nodes:
            args, kwargs = map_structure(
                lambda t: values[id(t)] if isinstance(t, KerasTensor) else t,
                (list(node.args), dict(node.kwargs)))
            out = node.layer(*args, **kwargs)
            for k, v in zip(node.output_tensors, flatten(out)):
                values[id(k)] = v
        return map_structure(lambda t: values[id(t)], self.outputs)


__all__ = ["LayerGraph"]
