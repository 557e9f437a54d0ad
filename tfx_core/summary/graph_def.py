"""Our IR of a traced function as a TensorBoard GraphDef, built with tensorboardX's protos."""
from __future__ import annotations

import re
from typing import Any

from compiler.ir.graph import Graph, Op, Value, loc_scope
from compiler.ir.types import TensorType

# TF's DataType enum names for our dtypes (the rest are "DT_" + the upper-cased name)
_TF_TYPE_NAMES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF"}
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-/]")


def _protos() -> Any:
    try:
        from tensorboardX.proto import (
            attr_value_pb2,
            graph_pb2,
            node_def_pb2,
            tensor_shape_pb2,
            types_pb2,
            versions_pb2,
        )
    except ImportError:
        raise ImportError("Writing a graph for TensorBoard needs tensorboardX: "
                          "`pip install tfx[tensorboard]` (or tensorboardX)") from None
    return attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, types_pb2, versions_pb2


class _Builder:
    """Collects NodeDefs: one per graph input, op, output and assigned variable; the ops of
    control-flow regions (while bodies, cond branches) nested under their op's name."""

    def __init__(self) -> None:
        (self.attr_pb, self.graph_pb, self.node_pb, self.shape_pb, self.types_pb,
         self.versions_pb) = _protos()
        self.nodes: list[Any] = []
        self.used: dict[str, int] = {}

    def unique(self, name: str) -> str:
        name = _BAD_NAME_CHARS.sub("_", name).strip("/") or "node"
        if name[0] in "_-/":  # TF node names start with a letter, digit or '.'
            name = "n" + name
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def dtype(self, t: TensorType) -> int:
        name = _TF_TYPE_NAMES.get(t.dtype.name, "DT_" + t.dtype.name.upper())
        try:
            return self.types_pb.DataType.Value(name)
        except ValueError:
            return self.types_pb.DataType.Value("DT_INVALID")

    def shape(self, t: TensorType) -> Any:
        dims = [self.shape_pb.TensorShapeProto.Dim(size=-1 if d is None else int(d))
                for d in t.shape]
        return self.shape_pb.TensorShapeProto(dim=dims)

    def add(self, name: str, op: str, inputs: list[str], types: list[TensorType],
            attrs: dict[str, Any] | None = None) -> str:
        node = self.node_pb.NodeDef(name=name, op=op, input=inputs)
        if types:  # TensorBoard labels edges with "_output_shapes"
            node.attr["_output_shapes"].CopyFrom(self.attr_pb.AttrValue(
                list=self.attr_pb.AttrValue.ListValue(shape=[self.shape(t) for t in types])))
            node.attr["T"].CopyFrom(self.attr_pb.AttrValue(type=self.dtype(types[0])))
        for key, value in (attrs or {}).items():
            node.attr[key].CopyFrom(self.attr_value(value))
        self.nodes.append(node)
        return name

    def attr_value(self, value: Any) -> Any:
        av = self.attr_pb.AttrValue
        if isinstance(value, bool):
            return av(b=value)
        if isinstance(value, int):
            return av(i=value)
        if isinstance(value, float):
            return av(f=value)
        if isinstance(value, tuple) and value and all(isinstance(v, int) and not isinstance(
                v, bool) for v in value):
            return av(list=av.ListValue(i=list(value)))
        text = str(value)
        return av(s=(text if len(text) <= 200 else text[:197] + "...").encode())

    def graph(self, graph: Graph, scope: str, inputs: list[str], named: str = "") -> list[str]:
        """Add `graph`'s ops under `scope`, its inputs being the tensors named `inputs`, where
        `scope` already shows the name scope `named`; returns the names of its outputs."""
        env: dict[Value, str] = dict(zip(graph.inputs, inputs))
        for op in graph.ops:
            name = self.op(op, scope, [env[v] for v in op.inputs], named)
            for k, v in enumerate(op.outputs):
                env[v] = name if k == 0 else f"{name}:{k}"
        return [env[v] for v in graph.outputs]

    def op(self, op: Op, scope: str, inputs: list[str], named: str) -> str:
        bound = loc_scope(op.loc) or ""  # the tx.name_scope the op was bound in
        # inside a region of an op bound in scope "a", ops bound in "a/b" add only "b"
        inside = named and (bound == named or bound.startswith(named + "/"))
        shown = bound[len(named):].strip("/") if inside else bound
        prefix = "/".join(p for p in (scope, shown) if p)
        name = self.unique(f"{prefix}/{op.name}" if prefix else op.name)
        attrs: dict[str, Any] = {}
        if op.loc:
            attrs["source"] = op.loc.split(" @ ")[-1]  # the user's file:line
        regions: list[tuple[str, Graph]] = []
        for key, value in op.attrs:
            if isinstance(value, Graph):
                regions.append((key, value))
                attrs[key] = f"region {key}: {len(value.ops)} ops"
            elif isinstance(value, tuple) and value and all(isinstance(v, Graph) for v in value):
                regions.extend((f"{key}_{i}", g) for i, g in enumerate(value))
                attrs[key] = f"{len(value)} regions"
            else:
                attrs[key] = value
        self.add(name, op.name, inputs, [v.type for v in op.outputs], attrs)
        for key, region in regions:  # shown inside the op's group: arguments, ops, results
            inner = f"{name}/{key}"
            args = [self.add(self.unique(f"{inner}/arg_{i}"), "_Arg", [], [v.type])
                    for i, v in enumerate(region.inputs)]
            for i, out in enumerate(self.graph(region, inner, args, bound or named)):
                self.add(self.unique(f"{inner}/retval_{i}"), "_Retval", [out],
                         [region.outputs[i].type])
        return name


def graph_def(function: Any) -> Any:
    """A TensorBoard GraphDef (tensorboardX's proto) of a traced function.

    `function` is a `tx.function` (its latest trace), a ConcreteFunction or an IR Graph. Nodes
    are named by op ("dot_general", "add_3"), nested under the tx.name_scope they were bound in
    and, inside while/cond, under their op; each carries its output shapes, dtype, attributes
    and the user's `source` line. Explicit arguments are "inputs/arg_<i>" (Placeholder),
    captured Variables "variables/<name>" (VarHandleOp), results "outputs/result_<i>"
    (Identity) and each assigned Variable's new value "updates/<name>" (AssignVariableOp).
    """
    concrete = function
    if hasattr(function, "list_concrete_functions"):
        traced = function.list_concrete_functions()
        if not traced:
            raise ValueError("graph_def: the function has not been traced yet: call it (or "
                             "get_concrete_function) first")
        concrete = traced[-1]
    b = _Builder()
    if isinstance(concrete, Graph):
        graph, n_args, captures, n_results, updates = concrete, len(concrete.inputs), [], \
            len(concrete.outputs), []
    else:
        graph, n_args = concrete.graph, concrete.num_tensor_inputs
        captures, n_results = concrete.captured_inputs, concrete.num_outputs
        updates = concrete.assigned_variables
    inputs = []
    for i, v in enumerate(graph.inputs):
        if i < n_args:
            inputs.append(b.add(b.unique(f"inputs/arg_{i}"), "Placeholder", [], [v.type]))
            continue
        captured = captures[i - n_args] if i - n_args < len(captures) else None
        vname = getattr(captured, "name", None) if getattr(captured, "_is_variable",
                                                           False) else None
        if vname:
            inputs.append(b.add(b.unique(f"variables/{vname.split(':')[0]}"), "VarHandleOp", [],
                                [v.type]))
        else:
            inputs.append(b.add(b.unique(f"captures/capture_{i - n_args}"), "Const", [],
                                [v.type]))
    outs = b.graph(graph, "", inputs)
    for i, (out, v) in enumerate(zip(outs, graph.outputs)):
        if i < n_results:
            b.add(b.unique(f"outputs/result_{i}"), "Identity", [out], [v.type])
        else:
            var = updates[i - n_results] if i - n_results < len(updates) else None
            vname = str(getattr(var, "name", f"variable_{i - n_results}")).split(":")[0]
            b.add(b.unique(f"updates/{vname}"), "AssignVariableOp", [out], [v.type])
    return b.graph_pb.GraphDef(node=b.nodes, versions=b.versions_pb.VersionDef(producer=22))


__all__ = ["graph_def"]
