"""`tx.print`: print tensors' run-time values, eagerly and inside compiled code (tf.print)."""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from tfx_core.debugging.effects import emit_print
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import Variable

_STREAMS = {"stdout": lambda: sys.stdout, "stderr": lambda: sys.stderr}


def stream_object(stream: str) -> Any:
    """The stream a print writes to (looked up at print time: pytest and notebooks swap them)."""
    return _STREAMS[stream]()


def _stream_name(output_stream: Any) -> str:
    if output_stream is sys.stdout or output_stream == "stdout" or \
            output_stream is sys.__stdout__:
        return "stdout"
    if output_stream is sys.stderr or output_stream == "stderr" or \
            output_stream is sys.__stderr__:
        return "stderr"
    raise ValueError(f"tx.print: output_stream must be sys.stdout or sys.stderr, got "
                     f"{output_stream!r} (files and logging levels are not supported: a "
                     "saved model must not write files)")


def _items(x: Any, top: bool) -> list[Any]:
    """One print argument as template items: strings as they are (quoted inside structures, as
    Python shows them), tensors as slots, structures in Python's notation."""
    if isinstance(x, Variable):
        x = x.read_value()
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, np.ndarray):
        return [convert_to_tensor(x)]
    if isinstance(x, str):
        return [x if top else repr(x)]
    if isinstance(x, dict):
        out: list[Any] = ["{"]
        for i, k in enumerate(sorted(x, key=str)):
            out += ([", "] if i else []) + [repr(k) + ": "] + _items(x[k], False)
        return out + ["}"]
    if isinstance(x, (list, tuple)):
        o, c = ("[", "]") if isinstance(x, list) else ("(", ")")
        out = [o]
        for i, v in enumerate(x):
            out += ([", "] if i else []) + _items(v, False)
        return out + [(",)" if len(x) == 1 else ")") if c == ")" else c]
    return [str(x)]


def print_(*inputs: Any, output_stream: Any = sys.stderr, summarize: int = 3, sep: str = " ",
           end: str = "\n", name: str | None = None) -> None:
    """Print the inputs at run time (tf.print): eagerly now; inside `@tx.function` each time
    the compiled program reaches this point (every loop iteration, the branch taken), in
    program order. Tensors show like numpy's repr without commas, with each axis longer than
    2*summarize cut to its first and last `summarize` entries (summarize=-1: all)."""
    items: list[Any] = []
    for i, x in enumerate(inputs):
        items += ([sep] if i else []) + _items(x, True)
    emit_print(_merge(items), int(summarize if summarize is not None else 3),
               _stream_name(output_stream), end)


def _merge(items: list[Any]) -> list[Any]:
    """Adjacent strings joined (a shorter template)."""
    out: list[Any] = []
    for x in items:
        if isinstance(x, str) and out and isinstance(out[-1], str):
            out[-1] += x
        else:
            out.append(x)
    return out
