"""Masking, attention_axes and stateful-RNN cases recorded from tf.keras 3 (shared by the
recorder and the tests): each builder takes a keras namespace (keras or tx.keras)."""
from __future__ import annotations

from typing import Any

import numpy as np

VOCAB, EMB, UNITS, STEPS = 9, 4, 3, 5
# id 0 is padding: a hole in row 0, padding at the end of rows 1 and 2
IDS = np.array([[3, 1, 0, 4, 2], [5, 6, 7, 0, 0], [8, 0, 0, 0, 0]], np.int32)


def _emb_then(k: Any, layer: Any) -> Any:
    return k.Sequential([k.Input((STEPS,), dtype="int32"),
                         k.layers.Embedding(VOCAB, EMB, mask_zero=True), layer])


def emb_lstm(k: Any) -> tuple[Any, list]:
    return _emb_then(k, k.layers.LSTM(UNITS)), [IDS]


def emb_gru_seq(k: Any) -> tuple[Any, list]:
    return _emb_then(k, k.layers.GRU(UNITS, return_sequences=True)), [IDS]


def emb_bidi(k: Any) -> tuple[Any, list]:
    return _emb_then(k, k.layers.Bidirectional(
        k.layers.LSTM(UNITS, return_sequences=True))), [IDS]


def emb_gap(k: Any) -> tuple[Any, list]:
    return _emb_then(k, k.layers.GlobalAveragePooling1D()), [IDS]


def masking_lstm(k: Any) -> tuple[Any, list]:
    x = np.random.default_rng(7).standard_normal((3, STEPS, 2)).astype(np.float32)
    x[0, 2] = 0.0
    x[1, 3:] = 0.0
    model = k.Sequential([k.Input((STEPS, 2)), k.layers.Masking(0.0),
                          k.layers.LSTM(UNITS, return_sequences=True)])
    return model, [x]


def mha_masked(k: Any) -> tuple[Any, list]:
    """Query and value from Embedding(mask_zero): Keras builds the attention mask from both."""
    q_ids, v_ids = k.Input((4,), dtype="int32"), k.Input((STEPS,), dtype="int32")
    q = k.layers.Embedding(VOCAB, EMB, mask_zero=True)(q_ids)
    v = k.layers.Embedding(VOCAB, EMB, mask_zero=True)(v_ids)
    out = k.layers.MultiHeadAttention(2, 3)(q, v)
    q_in = np.array([[1, 2, 0, 0], [3, 4, 5, 6], [7, 0, 0, 0]], np.int32)
    return k.Model([q_ids, v_ids], out), [q_in, IDS]


def mha_causal_masked(k: Any) -> tuple[Any, list]:
    ids = k.Input((STEPS,), dtype="int32")
    x = k.layers.Embedding(VOCAB, EMB, mask_zero=True)(ids)
    out = k.layers.MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)
    return k.Model(ids, out), [IDS]


def mha_axes_2d(k: Any) -> tuple[Any, list]:
    """Attention over two axes of (batch, 3, 4, features) inputs at once."""
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    inp = k.Input((3, 4, 5))
    out = k.layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))(inp, inp)
    return k.Model(inp, out), [x]


def mha_axes_last(k: Any) -> tuple[Any, list]:
    """Attention over axis 2 only (axis 1 is batch-like), output_shape given."""
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5)).astype(np.float32)
    y = np.random.default_rng(5).standard_normal((2, 3, 6, 2)).astype(np.float32)
    q, v = k.Input((3, 4, 5)), k.Input((3, 6, 2))
    out = k.layers.MultiHeadAttention(2, 3, attention_axes=(-2,), output_shape=(7,))(q, v)
    return k.Model([q, v], out), [x, y]


CASES = {f.__name__: f for f in (emb_lstm, emb_gru_seq, emb_bidi, emb_gap, masking_lstm,
                                 mha_masked, mha_causal_masked, mha_axes_2d, mha_axes_last)}


def fit_model(k: Any) -> Any:
    """A masked sequence tagger: per-step logits from a GRU over Embedding(mask_zero)."""
    return _emb_then(k, k.layers.GRU(UNITS, return_sequences=True))


FIT_Y = (IDS % UNITS).astype(np.int32)  # a label per step (padded steps too: they are masked)
FIT_STEPS = 3


def stateful_model(k: Any, cls: str) -> Any:
    return k.Sequential([k.Input((4, 2), batch_size=2),
                         getattr(k.layers, cls)(UNITS, stateful=True)])


STATEFUL = ("SimpleRNN", "LSTM", "GRU")


def stateful_inputs() -> list[np.ndarray]:
    """Three consecutive batches (the states carry over), then one after reset_states()."""
    rng = np.random.default_rng(11)
    return [rng.standard_normal((2, 4, 2)).astype(np.float32) for _ in range(4)]


STATEFUL_FIT_X = np.random.default_rng(12).standard_normal((4, 4, 2)).astype(np.float32)
STATEFUL_FIT_Y = np.random.default_rng(13).standard_normal((4, UNITS)).astype(np.float32)


def weights_for(seed: int, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Fixed weights of the given shapes (set on both the Keras and the tx model)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.6, 0.6, s).astype(np.float32) for s in shapes]
