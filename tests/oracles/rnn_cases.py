"""The recurrent-layer cases recorded from tf.keras (shared by the recorder and the tests)."""
from __future__ import annotations

from typing import Any

import numpy as np

BATCH, STEPS, FEATURES, UNITS = 2, 5, 3, 4

# name -> (layer class, constructor kwargs, wrapper or None, wrapper kwargs, with initial_state)
CASES: dict[str, tuple[str, dict, str | None, dict, bool]] = {
    "simple_rnn": ("SimpleRNN", {}, None, {}, False),
    "simple_rnn_seq_state": ("SimpleRNN", {"return_sequences": True, "return_state": True},
                             None, {}, False),
    "simple_rnn_back_relu": ("SimpleRNN", {"go_backwards": True, "activation": "relu",
                                           "return_sequences": True}, None, {}, False),
    "simple_rnn_init": ("SimpleRNN", {"return_sequences": True}, None, {}, True),
    "lstm": ("LSTM", {}, None, {}, False),
    "lstm_seq_state": ("LSTM", {"return_sequences": True, "return_state": True}, None, {}, False),
    "lstm_back": ("LSTM", {"go_backwards": True, "return_sequences": True}, None, {}, False),
    "lstm_init_state": ("LSTM", {"return_state": True}, None, {}, True),
    "lstm_no_bias": ("LSTM", {"use_bias": False}, None, {}, False),
    "gru": ("GRU", {}, None, {}, False),
    "gru_seq_state": ("GRU", {"return_sequences": True, "return_state": True}, None, {}, False),
    "gru_back": ("GRU", {"go_backwards": True, "return_sequences": True}, None, {}, False),
    "gru_init": ("GRU", {"return_sequences": True}, None, {}, True),
    "gru_reset_before": ("GRU", {"reset_after": False, "return_sequences": True}, None, {},
                         False),
    "bidi_concat": ("LSTM", {"return_sequences": True}, "Bidirectional", {}, False),
    "bidi_sum": ("LSTM", {"return_sequences": True}, "Bidirectional", {"merge_mode": "sum"},
                 False),
    "bidi_mul": ("GRU", {"return_sequences": True}, "Bidirectional", {"merge_mode": "mul"},
                 False),
    "bidi_ave": ("SimpleRNN", {"return_sequences": True}, "Bidirectional",
                 {"merge_mode": "ave"}, False),
    "bidi_none": ("LSTM", {"return_sequences": True}, "Bidirectional", {"merge_mode": None},
                  False),
    "bidi_last": ("SimpleRNN", {}, "Bidirectional", {}, False),
    "bidi_gru_state": ("GRU", {"return_state": True}, "Bidirectional", {}, False),
    "bidi_lstm_state": ("LSTM", {"return_sequences": True, "return_state": True},
                        "Bidirectional", {}, False),
    "time_distributed": ("Dense", {}, "TimeDistributed", {}, False),
    # masked: the inputs come with MASK (a hole in row 0, padding at the end of row 1)
    "lstm_mask": ("LSTM", {"return_sequences": True, "return_state": True}, None, {}, False),
    "gru_mask_back": ("GRU", {"go_backwards": True, "return_sequences": True}, None, {}, False),
    "simple_rnn_mask_last": ("SimpleRNN", {"return_state": True}, None, {}, False),
    "simple_rnn_mask_zero": ("SimpleRNN", {"return_sequences": True,
                                           "zero_output_for_mask": True}, None, {}, False),
    "bidi_mask": ("LSTM", {"return_sequences": True}, "Bidirectional", {}, False),
    "bidi_mask_last": ("GRU", {}, "Bidirectional", {"merge_mode": "sum"}, False),
}
MASK = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 0, 0]], bool)


def make(layers: Any, name: str) -> Any:
    """The case's layer, from `layers` (keras.layers or tx.keras.layers)."""
    cls, kwargs, wrapper, wkwargs, _ = CASES[name]
    units = 3 if cls == "Dense" else UNITS
    layer = getattr(layers, cls)(units, **kwargs)
    return layer if wrapper is None else getattr(layers, wrapper)(layer, **wkwargs)


def call_kwargs(name: str, states: list[np.ndarray] | None) -> dict[str, Any]:
    """The keyword arguments of the case's call: initial_state and mask when it has them."""
    kwargs: dict[str, Any] = {} if states is None else {"initial_state": states}
    if "mask" in name:
        kwargs["mask"] = MASK
    return kwargs


def inputs(name: str) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """The case's input sequence and initial states (None: zeros)."""
    rng = np.random.default_rng(sorted(CASES).index(name))
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    if not CASES[name][4]:
        return x, None
    n = 2 if CASES[name][0] == "LSTM" else 1
    return x, [rng.standard_normal((BATCH, UNITS)).astype(np.float32) for _ in range(n)]


def weights_for(shapes: list[tuple[int, ...]], name: str) -> list[np.ndarray]:
    """Fixed weights of the given shapes (set on both the Keras and the tx layer)."""
    rng = np.random.default_rng(1000 + sorted(CASES).index(name))
    return [rng.uniform(-0.6, 0.6, s).astype(np.float32) for s in shapes]
