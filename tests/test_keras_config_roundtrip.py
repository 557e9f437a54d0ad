"""get_config -> JSON -> from_config round trips: every tx.keras layer, functional graphs
(shared layers, dict/list inputs and outputs, nested models), user classes via custom_objects,
custom_object_scope and register_keras_serializable, and unknown class names."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from runtime.artifact import ArtifactError
from tests.oracles.keras_config_cases import CASES, arrays
from tfx_core import keras
from tfx_core.keras import layers as L
from tfx_core.keras.serialization import UnknownObjectError

RNG = np.random.default_rng(7)


def _f(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


CASES = {k: v for k, v in CASES.items() if hasattr(L, k)}  # Masking lands with masks
KERAS = json.loads(Path(__file__).with_name("oracles").joinpath("keras_configs.json")
                   .read_text())
NOT_LAYER_CASES = {
    "Input": "a function, not a class",
    "InputLayer": "no weights and no call: covered by the functional tests below",
    "Layer": "the base class",
    "Lambda": "holds a Python function: not plain data (Keras 3 refuses it in safe mode too)",
}


def test_every_layer_class_has_a_round_trip_case() -> None:
    assert sorted(set(L.__all__) - set(NOT_LAYER_CASES)) == sorted(CASES)


def _randomize(layer) -> None:
    # NOTE: random values (not the initializers' zeros/ones) so a weight read from the wrong
    # place, or a config value lost, changes the outputs; variances stay positive
    values = []
    for var, w in zip(layer.weights, layer.get_weights(), strict=True):
        r = RNG.standard_normal(w.shape).astype(w.dtype)
        values.append(np.abs(r) + 0.5 if "variance" in var.name else r)
    layer.set_weights(values)


def _inner_names_dropped(config, depth=0):
    if isinstance(config, dict):
        return {k: _inner_names_dropped(v, depth + 1) for k, v in config.items()
                if not (k == "name" and depth > 0)}
    return config


def _values(out):
    return [np.asarray(t) for t in (out if isinstance(out, (list, tuple)) else [out])
            for t in (t if isinstance(t, (list, tuple)) else [t])]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_config_round_trip(name: str) -> None:
    make, _ = CASES[name]
    layer, args = make(L), arrays(name, RNG)
    out = layer(*args, training=False)
    _randomize(layer)
    out = layer(*args, training=False)
    config = layer.get_config()
    plain = json.loads(json.dumps(config))  # what model.save writes
    copy = type(layer).from_config(plain)
    assert type(copy) is type(layer) and copy.name == layer.name
    assert _inner_names_dropped(json.loads(json.dumps(copy.get_config()))) == \
        _inner_names_dropped(plain)  # a wrapped layer or cell is fresh: a fresh name
    copy(*args, training=False)
    copy.set_weights(layer.get_weights())
    again = copy(*args, training=False)  # activity penalties are those of the last call
    for u, v in zip(layer.losses, copy.losses, strict=True):  # regularizers kept
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    for u, v in zip(_values(out), _values(again), strict=True):
        np.testing.assert_array_equal(u, v)
    if not isinstance(copy, (L.GRUCell, L.LSTMCell, L.SimpleRNNCell)):  # the same compiled
        @tx.function
        def run(*a):
            return copy(*a, training=False)

        for u, v in zip(_values(out), _values(run(*args)), strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ vs tf.keras 3
# Keras 3 keys for arguments our layers do not take (renorm, quantization, ...) are not
# compared.
# Same meaning, another spelling: Keras stores LayerNormalization's axis as a list, and
# MultiHeadAttention's default attention_axes resolved at build; Bidirectional's "layer" is
# Keras's forward half (zero_output_for_mask set to return_sequences), ours the layer as given
# (both rebuild the same halves)
KNOWN_VALUE_DIFFS = {"LayerNormalization": {"axis"}, "MultiHeadAttention": {"attention_axes"},
                     "Bidirectional": {"layer.zero_output_for_mask"}}


def _params(cls) -> set[str]:
    return {p for c in cls.__mro__ if "__init__" in vars(c)
            for p in inspect.signature(c.__init__).parameters}


def _differences(ours, theirs, where: str) -> list[str]:
    """Where two configs disagree: nested objects by class name and common config keys,
    tuples as lists."""
    if isinstance(theirs, dict) and "class_name" in theirs:
        if not isinstance(ours, dict) or ours.get("class_name") != theirs["class_name"]:
            return [f"{where}: {ours!r} != {theirs['class_name']!r}"]
        if not isinstance(theirs.get("config"), dict):
            return []
        return [d for k in set(ours["config"]) & set(theirs["config"]) - {"name", "dtype"}
                for d in _differences(ours["config"][k], theirs["config"][k], f"{where}.{k}")]
    if isinstance(theirs, (list, tuple)) and isinstance(ours, (list, tuple)):
        if len(ours) != len(theirs):
            return [f"{where}: {ours!r} != {theirs!r}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs))
                for d in _differences(a, b, f"{where}[{i}]")]
    if isinstance(ours, float) and isinstance(theirs, float):  # Keras keeps some as float32
        return [] if np.isclose(ours, theirs, rtol=1e-6) else [f"{where}: {ours} != {theirs}"]
    return [] if ours == theirs else [f"{where}: {ours!r} != {theirs!r}"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_configs_have_keras_3_keys_and_values(name: str) -> None:
    layer = CASES[name][0](L)
    args = arrays(name, RNG)
    layer(*args, training=False)
    ours, theirs = json.loads(json.dumps(layer.get_config())), KERAS["layers"][name]
    dropped = (set(theirs) - set(ours)) & _params(type(layer))
    assert dropped == set()  # a constructor argument that get_config loses
    # NOTE: Keras 3 writes dtype as a DTypePolicy object; ours is the dtype's name
    problems = [d for key in sorted(set(ours) & set(theirs) - {"name", "dtype"})
                for d in _differences(ours[key], theirs[key], key)
                if d.split(":")[0] not in KNOWN_VALUE_DIFFS.get(name, set())]
    assert problems == []


def test_functional_config_lists_what_keras_3_lists() -> None:
    """The layout differs (ours: calls as `nodes` by layer index; Keras: `inbound_nodes` per
    layer, tensors by layer name), but the layers, their order, their calls and the input and
    output structure are Keras's."""
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = L.Dense(2, name="shared")
    out = L.Add(name="add")([shared(a), shared(b)])
    ours = keras.Model({"a": a, "b": b}, {"sum": out}, name="model").get_config()
    theirs = KERAS["functional"]
    assert (ours["name"], ours["trainable"]) == (theirs["name"], theirs["trainable"])
    assert [(e["class_name"], e["config"]["name"]) for e in ours["layers"]] == \
        [(e["class_name"], e["name"]) for e in theirs["layers"]]
    calls = [sum(n["layer"] == i for n in ours["nodes"]) for i in range(len(ours["layers"]))]
    assert calls[2:] == [len(e["inbound_nodes"]) for e in theirs["layers"]][2:]  # 2, 1
    assert [k for k, _ in ours["inputs"]["dict"]] == list(theirs["input_layers"])
    assert [k for k, _ in ours["outputs"]["dict"]] == list(theirs["output_layers"])


# ------------------------------------------------------------------ functional graphs
def _same_model(model, inputs) -> keras.Model:
    """from_config(JSON(get_config())) with the weights copied; outputs must be identical."""
    copy = type(model).from_config(json.loads(json.dumps(model.get_config())))
    copy.set_weights(model.get_weights())
    want, got = model.predict(inputs, verbose=0), copy.predict(inputs, verbose=0)
    if isinstance(want, dict):
        assert sorted(want) == sorted(got)
        want, got = [want[k] for k in sorted(want)], [got[k] for k in sorted(got)]
    for u, v in zip(_values(want), _values(got), strict=True):
        np.testing.assert_array_equal(u, v)
    assert [la.name for la in copy.layers] == [la.name for la in model.layers]
    return copy


def test_shared_layer_called_twice_and_a_layer_reused_in_depth() -> None:
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared, twice = L.Dense(3, activation="tanh", name="shared"), L.Dense(3, name="twice")
    h = L.Add()([shared(a), shared(b)])
    out = twice(twice(h))  # the same layer applied to its own output
    m = keras.Model([a, b], [out, h])
    copy = _same_model(m, [_f(4, 3), _f(4, 3)])
    assert len(copy.weights) == 4  # shared weights stay shared
    assert copy.get_layer("shared") is copy.layers[2]


def test_dict_inputs_and_dict_outputs() -> None:
    ins = {"img": keras.Input((4, 4, 2), name="img"), "meta": keras.Input((3,), name="meta")}
    f = L.Flatten()(L.Conv2D(2, 2)(ins["img"]))
    joined = L.Concatenate()([f, ins["meta"]])
    m = keras.Model(ins, {"score": L.Dense(1)(joined), "probs": L.Softmax()(L.Dense(2)(joined))})
    _same_model(m, {"img": _f(3, 4, 4, 2), "meta": _f(3, 3)})


def test_nested_sequential_and_functional_models() -> None:
    inner_seq = keras.Sequential([L.Dense(4, activation="relu"), L.Dense(3)], name="inner_seq")
    i = keras.Input((3,))
    inner_fn = keras.Model(i, L.Dense(2, name="head")(i), name="inner_fn")
    x = keras.Input((5,))
    outer = keras.Model(x, inner_fn(inner_seq(x)), name="outer")
    config = json.loads(json.dumps(outer.get_config()))
    kinds = [entry["class_name"] for entry in config["layers"]]
    assert kinds == ["InputLayer", "Sequential", "Functional"]
    copy = _same_model(outer, _f(6, 5))
    assert type(copy.layers[1]) is keras.Sequential and type(copy.layers[2]) is keras.Model
    # and a functional model inside a Sequential
    seq = keras.Sequential([keras.Input((5,)), outer, L.Dense(1)])
    _same_model(seq, _f(6, 5))


class Scale(keras.Layer):
    """A user's layer with a weight and a config argument."""

    def __init__(self, factor: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _custom_model(layer_cls):
    x = keras.Input((3,))
    return keras.Model(x, L.Dense(2)(layer_cls(factor=2.5, name="scale")(x)))


def test_custom_layer_by_custom_objects_scope_and_registry(tmp_path) -> None:
    m = _custom_model(Scale)
    m.get_layer("scale").set_weights([_f(3)])
    config = json.loads(json.dumps(m.get_config()))
    with pytest.raises(UnknownObjectError, match="could not locate class 'Scale'"):
        keras.Model.from_config(config)
    copy = keras.Model.from_config(config, custom_objects={"Scale": Scale})
    assert copy.get_layer("scale").factor == 2.5
    with keras.saving.custom_object_scope({"Scale": Scale}):
        keras.Model.from_config(config)
    copy.set_weights(m.get_weights())
    x = _f(4, 3)
    np.testing.assert_array_equal(copy.predict(x, verbose=0), m.predict(x, verbose=0))

    @keras.saving.register_keras_serializable(package="tests")
    class Scale2(Scale):
        pass

    assert keras.saving.get_registered_name(Scale2) == "tests>Scale2"
    m2 = _custom_model(Scale2)
    m2.compile("sgd", "mse")
    m2.save(tmp_path / "m.tfx")
    loaded = keras.models.load_model(tmp_path / "m.tfx")  # no custom_objects needed
    assert type(loaded.get_layer("scale")) is Scale2
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m2.predict(x, verbose=0))
    m3 = _custom_model(Scale)
    m3.save(tmp_path / "m3.tfx")
    with pytest.raises(ArtifactError, match="custom_objects=.'Scale'"):
        keras.models.load_model(tmp_path / "m3.tfx")
    loaded = keras.models.load_model(tmp_path / "m3.tfx", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), m3.predict(x, verbose=0))


def test_unknown_and_malformed_configs_are_clear_errors() -> None:
    x = keras.Input((3,))
    config = json.loads(json.dumps(keras.Model(x, L.Dense(2)(x)).get_config()))
    config["layers"][1]["class_name"] = "Denso"
    with pytest.raises(TypeError, match="could not locate class 'Denso'.*"
                       "register_keras_serializable"):
        keras.Model.from_config(config)
    config["layers"][1] = {"class_name": "function", "config": "os.system"}
    with pytest.raises(ValueError, match="could not locate function 'os.system'"):
        keras.Model.from_config(config)
    with pytest.raises(UnknownObjectError, match="Popen"):
        keras.Sequential.from_config({"name": "s", "layers": [
            {"class_name": "Popen", "config": {}}]})
