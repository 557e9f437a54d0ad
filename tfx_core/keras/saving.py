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
from tfx_core.keras.engine.functional_config import (
    NotSerializable,
    from_functional_config,
    functional_config,
)
from tfx_core.keras.engine.keras_tensor import flatten
from tfx_core.polymorphic_function.function import function
from tfx_core.training.checkpoint import Checkpoint, CheckpointLoadStatus

FORMAT = 1  # version of the `keras` section
CHECKPOINT_MEMBER = "keras/checkpoint"
_ARTIFACT_KEYS = ("format", "format_version", "members")  # write_artifact sets them again
FUNCTIONAL = "Functional"  # the class name of a `Model(inputs, outputs)` architecture


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


def _class_entry(obj: Any, module: Any, what: str, name: str) -> Any:
    """{"class_name", "config"} of an instance of a class of `module` (found by its name)."""
    cls_name = type(obj).__name__
    if getattr(module, cls_name, None) is not type(obj) or not hasattr(obj, "get_config"):
        warnings.warn(f"{name}.save: the {what} {cls_name} is not a class of tx.keras; "
                      "load_model will return the model without it", stacklevel=4)
        return None
    return _json_or_none({"class_name": cls_name, "config": obj.get_config()}, what, name)


def _compile_section(model: Any) -> Any:
    if not getattr(model, "compiled", False):
        return None
    opt = _class_entry(model.optimizer, optimizers_mod, "optimizer", model.name)
    if opt is None:
        return None
    loss = model.loss
    if loss is not None and not isinstance(loss, str):
        loss = _class_entry(loss, losses_mod, "loss", model.name)
        if loss is None:
            return None
    metrics = []
    for m in model._tfx_metric_specs:  # the Trainer's own compile arguments
        metrics.append(m if isinstance(m, str) else
                       _class_entry(m, metrics_mod, "metric", model.name))
    if any(m is None for m in metrics):
        return None
    return {"optimizer": opt, "loss": loss, "metrics": metrics}


def _architecture(model: Any) -> Any:
    from tfx_core.keras.engine.sequential import Sequential

    if isinstance(model, Sequential) or getattr(model, "_tfx_graph", None) is None:
        name, config = type(model).__name__, model.get_config()
    else:
        try:
            name, config = FUNCTIONAL, functional_config(model)
        except NotSerializable as e:
            warnings.warn(f"{model.name}.save: the layer graph cannot be saved ({e}); "
                          "load_model will not rebuild it", stacklevel=3)
            return None
    config = _json_or_none(config, "architecture", model.name)
    return None if config is None else {"class_name": name, "config": config}


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


def _make(entry: Any, module: Any, base: type, where: str, path: str) -> Any:
    """An instance of the tx.keras class `entry["class_name"]` of `module`, from its config."""
    if not (isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
            and isinstance(entry.get("config"), dict)):
        raise ArtifactError(f"{path}: manifest: {where}: expected class_name and config")
    cls = getattr(module, entry["class_name"], None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ArtifactError(f"{path}: manifest: {where}: {entry['class_name']!r} is not a "
                            f"{base.__name__} class of tx.keras")
    try:
        if hasattr(cls, "from_config"):
            return cls.from_config(dict(entry["config"]))
        return cls(**entry["config"])
    except (TypeError, ValueError, KeyError, IndexError) as e:
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
    if arch.get("class_name") == FUNCTIONAL:
        try:
            return from_functional_config(arch["config"])
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
            raise ArtifactError(f"{path}: manifest: keras.model: cannot rebuild the layer "
                                f"graph: {type(e).__name__}: {e}") from e
    classes = {"Sequential": Sequential, **(custom_objects or {})}
    name = arch.get("class_name")
    if name not in classes:
        raise ValueError(f"load_model: {path} holds a {name!r} model: pass its class in "
                         f"custom_objects={{{name!r}: {name}}} (only Sequential is built in)")
    model = _make(arch, _Namespace(classes), Model, "keras.model", path)
    shape = keras.get("build_input_shape")
    if not model.built:
        if not isinstance(shape, list):
            raise ArtifactError(f"{path}: manifest: keras.build_input_shape: the model needs "
                                "an input shape to be built")
        model.build(tuple(shape))
    return model


class _Namespace:
    def __init__(self, classes: dict[str, type]) -> None:
        self.__dict__.update(classes)


def _compile(model: Any, section: dict, path: str) -> None:
    from tfx_core.training.optimizers import Optimizer

    optimizer = _make(section.get("optimizer"), optimizers_mod, Optimizer, "keras.optimizer",
                      path)
    loss = section.get("loss")
    if isinstance(loss, dict):
        loss = _make(loss, losses_mod, losses_mod.Loss, "keras.compile.loss", path)
    elif loss is not None and not isinstance(loss, str):
        raise ArtifactError(f"{path}: manifest: keras.compile.loss: expected a name or class")
    metrics = section.get("metrics")
    if not isinstance(metrics, list):
        raise ArtifactError(f"{path}: manifest: keras.compile.metrics: expected a list")
    metrics = [m if isinstance(m, str) else
               _make(m, metrics_mod, metrics_mod.Metric, "keras.compile.metrics", path)
               for m in metrics]
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except (TypeError, ValueError) as e:
        raise ArtifactError(f"{path}: manifest: keras.compile: {e}") from e


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None,
               compile: bool = True, limits: LoadLimits | None = None) -> Any:  # noqa: A002
    """The model saved by `model.save(filepath)`, with its weights and (compiled) optimizer
    state (keras.models.load_model).

    Args:
        custom_objects: {class name: class} for a subclassed model (it must take its
            `get_config()` as keyword arguments); layers come from tx.keras.layers.
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
        _compile(model, section, path)
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


__all__ = ["load_model", "load_weights", "save_model", "save_weights", "serving_specs"]
