"""`model.save` / `tx.keras.models.load_model`: one tx saved-model file that serves and resumes.

The file is a plain `tx.saved_model` artifact (so `tx.saved_model.load` serves it without the
source): a `serving_default` signature (the model's call in inference mode, batch dimension
None) and its variables. It also carries, under the manifest's `keras` key, the architecture
(`get_config`, rebuilt only from classes of `tx.keras`), the compile arguments and a
`tx.train.Checkpoint` of the model and its optimizer (member `keras/checkpoint`), so a loaded
model continues training exactly where the saved one stopped. Nothing is pickled; the file's
checksums and every field are checked before anything is built from it.
"""
from __future__ import annotations

import inspect
import json
import os
import tempfile
import warnings
from typing import Any

from runtime.artifact import DEFAULT_LIMITS, ArtifactError, LoadLimits, write_artifact
from tfx_core.export.load import read_checked
from tfx_core.export.saved_model import save as save_artifact
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.keras import losses as losses_mod
from tfx_core.keras import metrics as metrics_mod
from tfx_core.keras import optimizers as optimizers_mod
from tfx_core.keras import schedules as schedules_mod
from tfx_core.keras import serialization
from tfx_core.keras.engine.functional_config import (
    FUNCTIONAL,
    SEQUENTIAL,
    NotSerializable,
    deserialize_layer,
    functional_config,
    serialize_layer,
)
from tfx_core.keras.engine.keras_tensor import flatten
from tfx_core.keras.serialization import (
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from tfx_core.polymorphic_function.function import function
from tfx_core.training.checkpoint import Checkpoint, CheckpointLoadStatus
from tfx_core.training.optimizers import Optimizer

FORMAT = 1  # version of the `keras` section
CHECKPOINT_MEMBER = "keras/checkpoint"
_ARTIFACT_KEYS = ("format", "format_version", "members")  # write_artifact sets them again


# ---------------------------------------------------------------- save
def serving_specs(model: Any) -> Any:
    """The input signature of a built model: its Input specs, or the shape of its first call,
    with the batch dimension None."""
    if getattr(model, "inputs", None) is not None:
        specs = [TensorSpec([None, *list(t.shape)[1:]], t.dtype) for t in flatten(model.inputs)]
        return specs[0] if len(specs) == 1 else specs
    shape = getattr(model, "_tfx_build_shape", None)
    if shape is None or not model.built:
        raise ValueError(f"{model.name}.save: the model is not built yet; call it on a batch, "
                         "fit it or call build(input_shape) first (the saved signature needs "
                         "the input shape)")
    if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
        return [TensorSpec([None, *list(s)[1:]], model.dtype) for s in shape]
    return TensorSpec([None, *list(shape)[1:]], model.dtype)


def _json_or_none(value: Any, what: str, name: str) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        warnings.warn(f"{name}.save: the {what} cannot be saved ({value!r} is not plain data); "
                      "load_model will return the model without it", stacklevel=4)
        return None
    return value


def _entry(obj: Any, what: str, name: str) -> Any:
    """`serialization.serialize(obj)`: a tx.keras class or function by name, a user's by its
    class name (and registered name); None (with a warning) if it has no plain-data form."""
    if not (inspect.isfunction(obj) or hasattr(obj, "get_config")):
        warnings.warn(f"{name}.save: the {what} {obj!r} has no get_config; load_model will "
                      "return the model without its compile settings", stacklevel=4)
        return None
    if inspect.isfunction(obj) and obj.__name__ == "<lambda>":
        warnings.warn(f"{name}.save: the {what} is a lambda, which cannot be saved by name; "
                      "load_model will return the model without its compile settings",
                      stacklevel=4)
        return None
    entry = serialization.serialize(obj)
    if what == "optimizer":
        lr = getattr(obj, "_learning_rate", None)  # Optimizer.get_config keeps no registry name
        if callable(lr):
            entry["config"]["learning_rate"] = _entry(lr, "learning rate schedule", name)
            if entry["config"]["learning_rate"] is None:
                return None
    return _json_or_none(entry, what, name)


def _compile_section(model: Any) -> Any:
    """The compile arguments as plain data, or None (with a warning) when one of them cannot
    be saved: a model compiled differently from what was asked is worse than none."""
    if not getattr(model, "compiled", False):
        return None
    opt = _entry(model.optimizer, "optimizer", model.name)
    if opt is None:
        return None
    section = {"optimizer": opt}
    for key, what in (("loss", "loss"), ("loss_weights", "loss weight"),
                      ("metrics", "metric"), ("weighted_metrics", "metric")):
        value = model._tfx_compile_args[key]  # the Trainer's own compile arguments
        encoded = _encode(value, what, model.name)
        if encoded is _UNSAVABLE:
            return None
        section[key] = encoded
    jit = model.jit_compile
    section.update(jit_compile=jit if isinstance(jit, (bool, str)) else "auto",
                   run_eagerly=bool(model.run_eagerly))
    return section


_UNSAVABLE = object()


def _encode(value: Any, what: str, name: str) -> Any:
    """A compile argument as plain data: names and numbers as they are, objects as their
    `{"class_name", "config"}` entries, a per-output list as {"list": [...]} and a dict keyed
    by output names as {"by_output": {...}}; _UNSAVABLE (after a warning) if a part is not."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_encode(v, what, name) for v in value]
        return _UNSAVABLE if _UNSAVABLE in items else {"list": items}
    if isinstance(value, dict):
        items = {str(k): _encode(v, what, name) for k, v in value.items()}
        return _UNSAVABLE if _UNSAVABLE in items.values() else {"by_output": items}
    entry = _entry(value, what, name)
    return _UNSAVABLE if entry is None else entry


def _architecture(model: Any) -> Any:
    from tfx_core.keras.engine.sequential import Sequential

    try:
        if type(model) is Sequential:
            entry = serialize_layer(model)
        elif not isinstance(model, Sequential) and model._tfx_graph is not None:
            # NOTE: a subclass built from (inputs, outputs) comes back as a plain Model
            entry = {"class_name": FUNCTIONAL, "config": functional_config(model)}
        else:
            entry = serialization.serialize(model)  # a subclass: its class and get_config()
    except NotSerializable as e:
        warnings.warn(f"{model.name}.save: the layer graph cannot be saved ({e}); "
                      "load_model will not rebuild it", stacklevel=3)
        return None
    return _json_or_none(entry, "architecture", model.name)


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write `model` to the file `filepath` (keras.Model.save); see the module docstring."""
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{model.name}.save: {path} exists (overwrite=False)")
    spec = serving_specs(model)
    serve = function(lambda x: model(x, training=False), input_signature=[spec])
    with tempfile.TemporaryDirectory() as tmp:
        artifact = os.path.join(tmp, "model.tfx")
        save_artifact(model, artifact, signatures={"serving_default": serve})
        manifest, members = read_checked(artifact)
        ckpt_path = Checkpoint(model=model).write(os.path.join(tmp, "ckpt"))
        with open(ckpt_path, "rb") as f:
            members[CHECKPOINT_MEMBER] = f.read()
    manifest = {k: v for k, v in manifest.items() if k not in _ARTIFACT_KEYS}
    build_shape = getattr(model, "_tfx_build_shape", None)
    manifest["keras"] = {
        "format": FORMAT, "checkpoint": CHECKPOINT_MEMBER, "model": _architecture(model),
        "compile": _compile_section(model),
        "build_input_shape": _json_or_none(
            None if build_shape is None else json.loads(json.dumps(build_shape)),
            "input shape", model.name)}
    write_artifact(path, manifest, members)


# ---------------------------------------------------------------- load
def _section(manifest: dict, path: str) -> dict:
    keras = manifest.get("keras")
    if keras is None:
        raise ValueError(f"load_model: {path} holds no tx.keras model (it was written by "
                         "tx.saved_model.save); load it with tx.saved_model.load")
    if not isinstance(keras, dict) or keras.get("format") != FORMAT or \
            keras.get("checkpoint") != CHECKPOINT_MEMBER:
        raise ArtifactError(f"{path}: manifest: keras: not a tx.keras section of format {FORMAT}")
    for key in ("model", "compile"):
        if keras.get(key) is not None and not isinstance(keras[key], dict):
            raise ArtifactError(f"{path}: manifest: keras.{key}: expected an object")
    return keras


def _make(entry: Any, builtins: dict[str, Any], base: type, where: str, path: str,
          custom_objects: dict | None, function_ok: bool = False) -> Any:
    """The object of a saved entry: a class of `builtins` (a tx.keras module's), of
    custom_objects, a custom_object_scope or the registry, that is a `base`."""
    try:
        found = serialization.lookup(entry, builtins, where, custom_objects)
    except ValueError as e:  # UnknownObjectError too: a missing custom object or a bad file
        raise ArtifactError(f"{path}: manifest: {e}") from None
    if inspect.isfunction(found):
        if not function_ok:
            raise ArtifactError(f"{path}: manifest: {where}: {entry['config']!r} is a function, "
                                "not a class")
        return found
    if not issubclass(found, base):
        raise ArtifactError(f"{path}: manifest: {where}: {entry['class_name']!r} is not a "
                            f"{base.__name__} class")
    config = entry["config"]
    if not isinstance(config, dict):
        raise ArtifactError(f"{path}: manifest: {where}: the config must be an object")
    try:
        if base is Optimizer and isinstance(config.get("learning_rate"), dict):
            config = {**config, "learning_rate": _make(
                config["learning_rate"], serialization.module_table(schedules_mod),
                schedules_mod.LearningRateSchedule, f"{where}.learning_rate", path,
                custom_objects, function_ok=True)}
        if hasattr(found, "from_config"):
            return found.from_config(dict(config))
        return found(**config)
    except (TypeError, ValueError, KeyError, IndexError) as e:
        if isinstance(e, ArtifactError):
            raise
        raise ArtifactError(f"{path}: manifest: {where}: cannot rebuild "
                            f"{entry['class_name']}: {e}") from e


def _model(keras: dict, path: str, custom_objects: dict | None) -> Any:
    from tfx_core.keras.engine.model import Model
    from tfx_core.keras.engine.sequential import Sequential

    arch = keras.get("model")
    if arch is None:
        raise NotImplementedError(
            f"load_model: {path} holds no architecture (its config was not plain data): serve "
            "it with tx.saved_model.load, or build the model in code and call "
            "model.load_weights on a file of save_weights")
    name = arch.get("class_name")
    if name in (FUNCTIONAL, SEQUENTIAL) and "registered_name" not in arch:
        try:
            return deserialize_layer(arch, custom_objects)
        except serialization.UnknownObjectError as e:
            raise ArtifactError(f"{path}: manifest: keras.model: {e}") from None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
            raise ArtifactError(f"{path}: manifest: keras.model: cannot rebuild the layer "
                                f"graph: {type(e).__name__}: {e}") from e
    model = _make(arch, {"Sequential": Sequential}, Model, "keras.model", path, custom_objects)
    shape = keras.get("build_input_shape")
    if not model.built:
        if not isinstance(shape, list):
            raise ArtifactError(f"{path}: manifest: keras.build_input_shape: the model needs "
                                "an input shape to be built")
        model.build(tuple(shape))
    return model


def _compile(model: Any, section: dict, path: str, custom_objects: dict | None) -> None:
    optimizer = _make(section.get("optimizer"),
                      serialization.module_table(optimizers_mod, Optimizer), Optimizer,
                      "keras.optimizer", path, custom_objects)
    loss_table = serialization.module_table(losses_mod, losses_mod.Loss, True)
    metric_table = {**serialization.module_table(losses_mod, None, True),
                    **serialization.module_table(metrics_mod, metrics_mod.Metric, True)}

    def loss_leaf(entry: Any, where: str) -> Any:
        return _make(entry, loss_table, losses_mod.Loss, where, path, custom_objects,
                     function_ok=True)

    def metric_leaf(entry: Any, where: str) -> Any:
        return _make(entry, metric_table, metrics_mod.Metric, where, path, custom_objects,
                     function_ok=True)

    def number_leaf(entry: Any, where: str) -> Any:
        raise ArtifactError(f"{path}: manifest: {where}: expected a number")

    args = {}
    for key, leaf in (("loss", loss_leaf), ("loss_weights", number_leaf),
                      ("metrics", metric_leaf), ("weighted_metrics", metric_leaf)):
        value = section.get(key)
        if key == "metrics" and isinstance(value, list):  # files before nested arguments
            value = {"list": value}
        args[key] = _decode(value, leaf, f"keras.compile.{key}", path)
    jit, eager = section.get("jit_compile", "auto"), section.get("run_eagerly", False)
    if not isinstance(jit, (bool, str)) or not isinstance(eager, bool):
        raise ArtifactError(f"{path}: manifest: keras.compile: jit_compile/run_eagerly: "
                            "expected booleans")
    try:
        model.compile(optimizer=optimizer, jit_compile=jit, run_eagerly=eager, **args)
    except (TypeError, ValueError) as e:
        raise ArtifactError(f"{path}: manifest: keras.compile: {e}") from e


def _decode(value: Any, leaf: Any, where: str, path: str, depth: int = 0) -> Any:
    """The inverse of _encode; `leaf(entry, where)` rebuilds an object entry. Per-output
    structures nest at most two levels (a list of metrics per output)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if not isinstance(value, dict) or depth > 2:
        raise ArtifactError(f"{path}: manifest: {where}: unexpected {type(value).__name__}")
    if "class_name" in value:
        return leaf(value, where)
    if set(value) == {"list"} and isinstance(value["list"], list):
        return [_decode(v, leaf, f"{where}[{i}]", path, depth + 1)
                for i, v in enumerate(value["list"])]
    if set(value) == {"by_output"} and isinstance(value["by_output"], dict):
        return {k: _decode(v, leaf, f"{where}.{k}", path, depth + 1)
                for k, v in value["by_output"].items()}
    raise ArtifactError(f"{path}: manifest: {where}: expected an object entry, a list or a "
                        "per-output dict")


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True, limits: LoadLimits | None = None) -> Any:  # noqa: A002
    """The model saved by `model.save(filepath)`, with its weights and (compiled) optimizer
    state (keras.models.load_model).

    Args:
        custom_objects: {name: class or function} for the user's own model, layer, loss,
            metric, optimizer or schedule classes (a subclassed model must take its
            `get_config()` as keyword arguments); classes registered with
            `register_keras_serializable` or in a `custom_object_scope` need not be given.
        compile: compile with the saved optimizer, loss and metrics, and restore the
            optimizer's state; False gives an uncompiled model with the weights only.
        limits: size limits for the file (tx.saved_model.LoadLimits).

    Raises:
        ArtifactError: the file is modified, truncated or malformed (nothing is built).
    """
    path = os.fspath(filepath)
    manifest, members = read_checked(path, DEFAULT_LIMITS if limits is None else limits)
    keras = _section(manifest, path)
    model = _model(keras, path, custom_objects)
    section = keras.get("compile")
    if compile and section is not None:
        _compile(model, section, path, custom_objects)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "ckpt")
        with open(ckpt, "wb") as f:
            f.write(members[CHECKPOINT_MEMBER])
        status = Checkpoint(model=model).restore(ckpt)
    if getattr(model, "compiled", False):
        status.assert_existing_objects_matched()
    else:
        status.expect_partial()  # the optimizer's values have no optimizer to go to
    return model


# ---------------------------------------------------------------- weights only
def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write the model's weights (and its optimizer's state, as TF's checkpoint format) to a
    `tx.train.Checkpoint` file."""
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{model.name}.save_weights: {path} exists (overwrite=False)")
    Checkpoint(model=model).write(path)


def load_weights(model: Any, filepath: str | os.PathLike,
                 limits: LoadLimits = DEFAULT_LIMITS) -> CheckpointLoadStatus:
    """Restore weights written by `save_weights` (or `tx.train.Checkpoint(model=...)`).
    An unbuilt model gets them when it builds (deferred restoration); values of an optimizer
    the model does not have yet wait for it. Returns the checkpoint's load status."""
    return Checkpoint(model=model).restore(os.fspath(filepath), limits)


__all__ = ["custom_object_scope", "get_registered_name", "get_registered_object", "load_model",
           "load_weights", "register_keras_serializable", "save_model", "save_weights",
           "serving_specs"]
