"""tx.summary: writers, the default step, scalar/histogram/image/text/graph summaries read back
with TensorBoard's EventAccumulator, and clear errors."""
import io
import sys
import types

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import tfx_core as tx

# TensorBoard reads event files with TensorFlow when it can import it (~5 s); this module's
# presence makes it use its own TF-free stub, and the tests import no TensorFlow
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


def _read(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                       "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_summaries_round_trip(tmp_path):
    writer = tx.summary.create_file_writer(str(tmp_path))
    rng = np.random.default_rng(0)
    values = rng.standard_normal(500).astype(np.float32)
    pictures = rng.uniform(-0.2, 1.2, (4, 3, 5, 1)).astype(np.float32)
    step = tx.Variable(0, dtype=tx.int64)
    with writer.as_default(step=step):
        for i in range(3):
            step.assign(i * 10)
            assert tx.summary.scalar("loss", tx.constant(1.5 / (i + 1)))
        with tx.name_scope("net"):
            assert tx.summary.histogram("w", tx.constant(values), step=7)
        assert tx.summary.image("pics", pictures, step=1, max_outputs=2)
        assert tx.summary.image("one", pictures[:1] * 0 + 0.5, step=1)
        assert tx.summary.text("note", "hello **tb**", step=2)
    assert tx.summary.experimental.get_step() is None  # as_default(step=) is undone
    acc = _read(tmp_path)
    tags = acc.Tags()
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == [0, 10, 20]
    np.testing.assert_allclose([e.value for e in loss], [1.5, 0.75, 0.5], rtol=1e-6)
    hist = acc.Histograms("net/w")[0]
    assert hist.step == 7 and hist.histogram_value.num == 500
    np.testing.assert_allclose(
        [hist.histogram_value.min, hist.histogram_value.max, hist.histogram_value.sum],
        [values.min(), values.max(), values.astype(np.float64).sum()], rtol=1e-5)
    assert set(tags["images"]) == {"pics/0", "pics/1", "one"}
    for i in range(2):
        event = acc.Images(f"pics/{i}")[0]
        pixels = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))[..., 0]
        np.testing.assert_array_equal(
            pixels, np.clip(pictures[i, :, :, 0] * 255.0, 0, 255).astype(np.uint8))
    text = acc.Tensors("note/text_summary")[0]
    assert text.step == 2 and b"hello **tb**" in text.tensor_proto.string_val[0]


def test_graph_summary_of_a_traced_function(tmp_path):
    @tx.function
    def f(x):
        with tx.name_scope("block"):
            y = tx.matmul(x, x) + 1.0
        return tx.cond(tx.reduce_sum(y) > 0, lambda: tx.nn.relu(y), lambda: -y)

    with pytest.raises(ValueError, match="not been traced"):
        tx.summary.graph_def(f)
    x = np.eye(2, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(f(x)), np.maximum(x @ x + 1, 0))
    writer = tx.summary.create_file_writer(str(tmp_path / "g"))
    with writer.as_default():
        assert tx.summary.graph(f)
    nodes = {n.name: n for n in _read(tmp_path / "g").Graph().node}
    assert nodes["block/dot_general"].input == ["inputs/arg_0", "inputs/arg_0"]
    assert nodes["block/add"].input[0] == "block/dot_general"
    branch_ops = {n.op for name, n in nodes.items() if name.startswith("case/branches_")}
    assert {"_Arg", "_Retval", "negate", "maximum"} <= branch_ops
    assert nodes["outputs/result_0"].input == ["case"]
    assert "test_summary.py" in nodes["block/add"].attr["source"].s.decode()


def test_no_writer_no_step_inside_a_function_and_closed(tmp_path):
    assert not tx.summary.should_record_summaries()
    assert tx.summary.scalar("x", 1.0, step=0) is False  # no default writer: nothing written
    writer = tx.summary.create_file_writer(tmp_path)
    with writer.as_default():
        assert tx.summary.should_record_summaries()
        with pytest.raises(ValueError, match="no step set"):
            tx.summary.scalar("x", 1.0)
        with pytest.raises(ValueError, match="must be a scalar"):
            tx.summary.scalar("x", [1.0, 2.0], step=0)
        with pytest.raises(ValueError, match=r"\(k, height, width, channels\)"):
            tx.summary.image("x", np.zeros((2, 2)), step=0)
        with pytest.raises(RuntimeError, match="tx.summary.scalar: summaries are written "
                           "eagerly"):
            tx.function(lambda v: tx.summary.scalar("x", v, step=0))(tx.constant(1.0))
    assert not _read(tmp_path).Tags()["scalars"]  # the refused calls wrote nothing
    writer.close()
    with pytest.raises(RuntimeError, match="is closed"):
        writer.scalar("x", 1.0, step=0)
