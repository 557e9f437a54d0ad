"""`Model.summary()`: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def readable_size(n_bytes: float) -> str:
    """`1234` -> `1.21 KB` (powers of 1024, as Keras prints parameter memory)."""
    units = ["B", "KB", "MB", "GB", "TB"]
    i = 0
    while n_bytes >= 1024 and i < len(units) - 1:
        n_bytes /= 1024
        i += 1
    return f"{n_bytes:.2f} {units[i]}"


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    if isinstance(shape, dict):
        return ", ".join(_shape_text(shape[k]) for k in sorted(shape))
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _params(layer: Any) -> str:
    if not layer.built:
        return "0 (unbuilt)"
    return f"{sum(math.prod(w.shape.as_list()) for w in layer.weights):,}"


def _weights_bytes(weights: list) -> tuple[int, int]:
    count = sum(math.prod(w.shape.as_list()) for w in weights)
    size = sum(math.prod(w.shape.as_list()) * w.dtype.np_dtype.itemsize for w in weights)
    return count, size


def _connected(layer: Any) -> str:
    parts = []
    for node in layer._tfx_nodes[:1] if hasattr(layer, "_tfx_nodes") else []:
        for t in node.input_tensors:
            source, index = t.history
            parts.append(f"{source.layer.name}[0][{index}]")
    return ", ".join(parts) or "-"


def _table(headers: list[str], rows: list[list[str]], widths: list[int],
           right: set[int]) -> list[str]:
    def line(cells: list[str], left: str, mid: str, end: str) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            cell = cell if len(cell) <= w else cell[:w - 1] + "…"
            out.append(" " + (cell.rjust(w) if i in right else cell.ljust(w)) + " ")
        return left + mid.join(out) + end

    def rule(left: str, fill: str, mid: str, end: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + end

    lines = [rule("┏", "━", "┳", "┓"), line(headers, "┃", "┃", "┃"), rule("┡", "━", "╇", "┩")]
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        lines.append(line(row, "│", "│", "│"))
    lines.append(rule("└", "─", "┴", "┘"))
    return lines


def summary_text(model: Any, layers: list[Any], chain: bool) -> str:
    """The summary of `model` listing `layers`; a non-chain graph adds a "Connected to" column."""
    headers = ["Layer (type)", "Output Shape", "Param #"]
    widths = [31, 22, 13]
    rows = [[f"{layer.name} ({type(layer).__name__})", _shape_text(layer._tfx_output_shape),
             _params(layer)] for layer in layers]
    if not chain:
        headers.append("Connected to")
        widths = [25, 18, 10, 20]
        for layer, row in zip(layers, rows):
            row.append(_connected(layer))
    lines = [f'Model: "{model.name}"']
    lines += _table(headers, rows, widths, right={2})
    total, total_b = _weights_bytes(model.weights if model.built else [])
    train, train_b = _weights_bytes(model.trainable_weights if model.built else [])
    lines.append(f" Total params: {total:,} ({readable_size(total_b)})")
    lines.append(f" Trainable params: {train:,} ({readable_size(train_b)})")
    lines.append(f" Non-trainable params: {total - train:,} ({readable_size(total_b - train_b)})")
    optimizer = getattr(model, "optimizer", None)
    slots = list(getattr(optimizer, "variables", []))
    if optimizer is not None and len(slots) > 1:
        count, size = _weights_bytes(slots)
        lines.append(f" Optimizer params: {count:,} ({readable_size(size)})")
    return "\n".join(lines)


def print_summary(text: str, print_fn: Callable[..., Any] | None = None) -> None:
    if print_fn is None:
        print(text)
    else:
        for line in text.split("\n"):
            print_fn(line)


__all__ = ["print_summary", "readable_size", "summary_text"]
