"""TensorBoard callback beyond scalars: the compiled train step's graph (Graphs tab), weight
histograms and images per epoch, steps per second and the learning rate, read back with
TensorBoard's own EventAccumulator."""
import io
import sys
import types

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tfx_core import keras
from tfx_core.keras import callbacks, layers
from tfx_core.keras.callbacks.loggers import weight_image

# TensorBoard reads event files with TensorFlow when it can import it (~5 s); this module's
# presence makes it use its own TF-free stub, and the tests import no TensorFlow
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int32)
    return x, y


def _model():
    init = keras.initializers.GlorotUniform
    model = keras.Sequential([keras.Input((6, 2)),
                              layers.Conv1D(4, 3, kernel_initializer=init(0)),
                              layers.Flatten(),
                              layers.Dense(2, kernel_initializer=init(1))])
    model.compile(keras.optimizers.SGD(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _read(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                       "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _png(event):
    """The first channel of the PNG (grayscale is written as RGB)."""
    pixels = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))
    return pixels[..., 0] if pixels.ndim == 3 else pixels


def test_graph_histograms_images_and_rates(tmp_path):
    x, y = _data()
    model = _model()
    board = callbacks.TensorBoard(str(tmp_path), histogram_freq=1, write_images=True,
                                  update_freq=2, write_steps_per_second=True)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[board])
    train = _read(tmp_path / "train")
    # the Graphs tab: our IR of the compiled step, the same ops, wired by name
    graph = train.Graph()
    nodes = {n.name: n for n in graph.node}
    ir = model.train_function.list_concrete_functions()[-1].graph
    ops = [n.op for n in graph.node]
    for name, count in ir.op_histogram().items():
        assert ops.count(name) == count, name
    assert ops.count("Placeholder") == 2  # x and y
    step = model.train_function.list_concrete_functions()[-1]
    assert ops.count("VarHandleOp") == len(step.variables) == len(ir.inputs) - 2
    assert ops.count("AssignVariableOp") == len(step.assigned_variables)
    kernel_var = model.layers[0].kernel.name.split(":")[0]
    assert f"variables/{kernel_var}" in nodes and f"updates/{kernel_var}" in nodes
    for node in graph.node:
        for inp in node.input:
            assert inp.split(":")[0] in nodes, (node.name, inp)
    conv = next(n for n in graph.node if n.op == "convolution")
    assert "test_keras_tensorboard_extra.py" in conv.attr["source"].s.decode()
    assert conv.attr["_output_shapes"].list.shape[0].dim[0].size == 16

    weights = {v.name.split(":")[0]: v.numpy() for v in model.weights}
    tags = train.Tags()
    assert set(tags["histograms"]) == {f"{w}/histogram" for w in weights}
    assert [h.step for h in train.Histograms(f"{kernel_var}/histogram")] == [0, 1]
    # conv1d kernel (3, 2, 4): one 3x2 image per output channel, the first 3 kept
    assert {t for t in tags["images"] if t.startswith(kernel_var)} == {
        f"{kernel_var}/image/{i}" for i in range(3)}
    dense_kernel = model.layers[2].kernel.name.split(":")[0]
    bias = model.layers[2].bias.name.split(":")[0]
    img = train.Images(f"{dense_kernel}/image")[-1]
    assert (img.height, img.width) == (2, 16)  # (16, 2) drawn wide side horizontal
    np.testing.assert_array_equal(
        _png(train.Images(f"{bias}/image")[-1]).reshape(-1),
        np.clip(weights[bias] * 255.0, 0, 255).astype(np.uint8))
    first = _png(train.Images(f"{kernel_var}/image/1")[-1])
    np.testing.assert_array_equal(
        first.reshape(3, 2), np.clip(weights[kernel_var][:, :, 1] * 255, 0, 255).astype(np.uint8))

    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6]
    assert all(e.value > 0 for e in train.Scalars("batch_steps_per_second"))
    assert [e.step for e in train.Scalars("epoch_steps_per_second")] == [0, 1]
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_learning_rate")],
                               [0.05, 0.05], rtol=1e-6)


def test_no_graph_when_run_eagerly_and_no_images_without_histograms(tmp_path):
    x, y = _data(16)
    board = callbacks.TensorBoard(str(tmp_path), write_images=True)
    model = keras.Sequential([keras.Input((6, 2)), layers.Flatten(), layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[board])
    train = _read(tmp_path / "train")
    assert not train.Tags()["graph"]
    assert not train.Tags()["images"] and not train.Tags()["histograms"]
    assert train.Tags()["scalars"]


def test_weight_image_shapes_follow_keras():
    assert weight_image(np.zeros(5)).shape == (1, 1, 5, 1)
    assert weight_image(np.zeros((7, 3))).shape == (1, 3, 7, 1)
    assert weight_image(np.zeros((3, 7))).shape == (1, 3, 7, 1)
    conv1d = np.arange(24.0).reshape(3, 2, 4)
    np.testing.assert_array_equal(weight_image(conv1d)[2, :, :, 0], conv1d[:, :, 2])
    assert weight_image(np.zeros((3, 3, 2, 4))) is None  # conv2d: Keras draws nothing
    with pytest.raises(NotImplementedError, match="profile_batch"):
        callbacks.TensorBoard("logs", profile_batch=2)
