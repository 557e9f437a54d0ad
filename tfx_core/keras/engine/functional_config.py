"""A functional model's architecture as plain data (layers, and the calls that wire them) and back.

    {"name": ..., "layers": [{"class_name", "config"}, ...],          # graph.layers order
     "nodes": [{"layer": i, "args": ..., "kwargs": ...}, ...],          # execution order
     "inputs": ..., "outputs": ...}

Inside args/kwargs/inputs/outputs a tensor is {"input": k} (the k-th model input) or
{"node": [n, j]} (output j of node n); containers are {"list"|"tuple": [...]} or
{"dict": [[key, value], ...]}; None, bools, numbers and strings stand for themselves.
A layer is `serialization.serialize`'s entry; a nested `Sequential` or functional model is
`{"class_name": "Sequential"|"Functional", "config": ...}` with its layers serialized the same
way. Rebuilding instantiates only classes of `tx.keras.layers`, `custom_objects`, the
`custom_object_scope`s and the `register_keras_serializable` registry, and calls them again.
"""
from __future__ import annotations

from typing import Any

from tfx_core.keras import serialization
from tfx_core.keras.engine.keras_tensor import KerasTensor, flatten

SEQUENTIAL, FUNCTIONAL = "Sequential", "Functional"  # class names of nested models (Keras 3)


class NotSerializable(ValueError):
    """The graph holds something that is not plain data (a tensor constant, an object)."""


def _encode(x: Any, ref: dict[int, Any]) -> Any:
    if isinstance(x, KerasTensor):
        if id(x) not in ref:
            raise NotSerializable(f"a KerasTensor {x} that no node of the model produces")
        return ref[id(x)]
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (list, tuple)):
        return {"list" if isinstance(x, list) else "tuple": [_encode(v, ref) for v in x]}
    if isinstance(x, dict) and all(isinstance(k, str) for k in x):
        return {"dict": [[k, _encode(v, ref)] for k, v in x.items()]}
    raise NotSerializable(f"a {type(x).__name__} argument")


def functional_config(model: Any) -> dict[str, Any]:
    """The architecture of a functional `Model(inputs, outputs)`; NotSerializable if a layer
    call has a non-data argument."""
    graph = model._tfx_graph  # the engine's own graph of the model
    layers = graph.layers
    index = {id(layer): i for i, layer in enumerate(layers)}
    ref: dict[int, Any] = {id(t): {"input": k} for k, t in enumerate(flatten(graph.inputs))}
    nodes = []
    for n, node in enumerate(graph.nodes):
        nodes.append({"layer": index[id(node.layer)],
                      "args": _encode(list(node.args), ref),
                      "kwargs": _encode(dict(node.kwargs), ref)})
        for j, t in enumerate(node.output_tensors):
            ref[id(t)] = {"node": [n, j]}
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(layer) for layer in layers],
            "nodes": nodes, "inputs": _encode(graph.inputs, ref),
            "outputs": _encode(graph.outputs, ref)}


def _decode(x: Any, inputs: list[Any], produced: list[list[Any]]) -> Any:
    if isinstance(x, dict):
        if len(x) != 1:
            raise ValueError(f"malformed entry {x!r}")
        (kind, body), = x.items()
        if kind == "input":
            return inputs[body]
        if kind == "node":
            n, j = body
            return produced[n][j]
        if kind in ("list", "tuple"):
            items = [_decode(v, inputs, produced) for v in body]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            return {str(k): _decode(v, inputs, produced) for k, v in body}
        raise ValueError(f"unknown entry kind {kind!r}")
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise ValueError(f"malformed entry {x!r}")


def serialize_layer(layer: Any) -> dict[str, Any]:
    """A layer's entry; a plain Sequential or functional Model inside is written with its own
    layers' entries (so it rebuilds with them, custom ones included)."""
    from tfx_core.keras.engine.model import Model
    from tfx_core.keras.engine.sequential import Sequential

    if type(layer) is Sequential:
        config = layer.get_config()
        config["layers"] = [serialize_layer(sub) for sub in layer._tfx_layers]
        return {"class_name": SEQUENTIAL, "config": config}
    if type(layer) is Model and getattr(layer, "_tfx_graph", None) is not None:
        return {"class_name": FUNCTIONAL, "config": functional_config(layer)}
    return serialization.serialize(layer)


def deserialize_layer(entry: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """A new layer (or nested model) from `serialize_layer`'s entry.

    Raises:
        UnknownObjectError: the class is not one of tx.keras.layers, custom_objects, a scope
            or the registry; ValueError & co: a malformed entry.
    """
    from tfx_core.keras import layers as layer_classes
    from tfx_core.keras.engine.layer import Layer
    from tfx_core.keras.engine.sequential import Sequential

    if isinstance(entry, dict) and entry.get("class_name") == SEQUENTIAL and \
            "registered_name" not in entry:
        config = dict(entry["config"])
        made = [deserialize_layer(sub, custom_objects) for sub in config.pop("layers")]
        shape = config.pop("build_input_shape", None)
        model = Sequential(made, **config)
        if not model.built and shape is not None:
            model.build(tuple(shape))
        return model
    if isinstance(entry, dict) and entry.get("class_name") == FUNCTIONAL and \
            "registered_name" not in entry:
        return from_functional_config(entry["config"], custom_objects)
    cls = serialization.lookup(entry, serialization.module_table(layer_classes, Layer),
                               "layer", custom_objects)
    if not issubclass(cls, Layer):
        raise serialization.UnknownObjectError(
            f"layer: {entry['class_name']!r} is not a tx.keras Layer class")
    return cls.from_config(dict(entry["config"]))


def from_functional_config(config: dict[str, Any],
                           custom_objects: dict[str, Any] | None = None) -> Any:
    """A new functional Model (fresh weights) from `functional_config`'s dict.

    Raises:
        ValueError, TypeError, KeyError, IndexError: a malformed config or an unknown class.
    """
    # imported here: tx.keras.layers and Model import this engine package
    from tfx_core.keras.engine.input_layer import InputLayer
    from tfx_core.keras.engine.model import Model

    made = [deserialize_layer(entry, custom_objects) for entry in config["layers"]]
    ins = [layer.output for layer in made if isinstance(layer, InputLayer)]
    inputs_struct = _decode(config["inputs"], ins, [])
    inputs = flatten(inputs_struct)
    produced: list[list[Any]] = []
    for node in config["nodes"]:
        args = _decode(node["args"], inputs, produced)
        kwargs = _decode(node["kwargs"], inputs, produced)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError("a node's args must be a list and its kwargs a dict")
        out = made[node["layer"]](*args, **kwargs)
        produced.append([t for t in flatten(out) if isinstance(t, KerasTensor)])
    outputs = _decode(config["outputs"], inputs, produced)
    model = Model(inputs_struct, outputs, name=config.get("name"))
    model.trainable = bool(config.get("trainable", True))
    return model


__all__ = ["FUNCTIONAL", "SEQUENTIAL", "NotSerializable", "deserialize_layer",
           "from_functional_config", "functional_config", "serialize_layer"]
