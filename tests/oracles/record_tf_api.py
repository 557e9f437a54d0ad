"""Record the public names of TF 2.21's op namespaces into tests/data/tf_api.json (run once)."""
# Issue 16's contract: the names TF exports in these namespaces, minus what is out of scope
# (string ops and dtype, ragged and sparse tensors, graph-mode internals, quantized dtypes, image
# codecs, candidate samplers and CTC decoders, LinearOperator classes). Submodules are
# namespaces, not names. Run with the `bench` extra installed:
#     python tests/oracles/record_tf_api.py
import inspect
import json
import pathlib
import re

import tensorflow as tf

NAMESPACES = ["tf", "tf.math", "tf.nn", "tf.linalg", "tf.random", "tf.signal", "tf.image",
              "tf.bitwise", "tf.dtypes"]

# graph-mode internals, TF-runtime plumbing and Python-only helpers tied to TF's own runtime
GRAPH_INTERNALS = {
    "Graph", "Operation", "import_graph_def", "load_op_library", "load_library",
    "get_current_name_scope", "init_scope", "inside_function", "is_symbolic_tensor",
    "make_tensor_proto", "make_ndarray", "register_tensor_conversion_function",
    "variable_creator_scope", "CriticalSection", "DeviceSpec", "device", "get_logger",
    "check_pinned", "guarantee_const", "no_gradient", "RegisterGradient", "AggregationMethod",
    "variant", "resource", "TypeSpec", "type_spec_from_value", "OptionalSpec", "NoneTensorSpec",
    "TensorArraySpec", "nondifferentiable_batch_function", "numpy_function", "py_function",
    "timestamp", "fingerprint", "executing_eagerly", "gradients", "hessians",
}
STRING = re.compile(r"(^|_)(string|strings|as_string|substr|regex|unicode)(_|$)|^edit_distance$")
# sparse *tensors* (not sparse_softmax_cross_entropy_with_logits, which takes dense labels)
RAGGED_SPARSE = re.compile(r"ragged|_sparse$|^Ragged|^Sparse|IndexedSlices")
QUANTIZED = re.compile(r"^q(u)?int\d+$|quantize|^QUANTIZED")
CODECS = re.compile(r"^(decode|encode)_|^extract_jpeg_shape$|^is_jpeg$")
SAMPLERS_CTC = re.compile(r"candidate_sampler|^ctc_\w*decoder$|^compute_accidental_hits$|"
                          r"^(sampled_softmax_loss|nce_loss)$")
LINEAR_OPERATOR = re.compile(r"^LinearOperator")


def out_of_scope(name: str) -> str | None:
    """Why `name` is outside issue 16's scope, or None."""
    rules = [("graph internals", name in GRAPH_INTERNALS), ("strings", STRING.search(name)),
             ("ragged/sparse", RAGGED_SPARSE.search(name)), ("quantized", QUANTIZED.search(name)),
             ("image codecs", CODECS.search(name)), ("samplers/CTC", SAMPLERS_CTC.search(name)),
             ("LinearOperator", LINEAR_OPERATOR.search(name))]
    return next((why for why, hit in rules if hit), None)


def main() -> None:
    result: dict = {"tensorflow": tf.__version__, "namespaces": {}, "excluded": {}}
    for ns in NAMESPACES:
        mod = tf if ns == "tf" else eval(ns, {"tf": tf})  # a dotted attribute path
        names, excluded = [], {}
        for name in sorted(n for n in dir(mod) if not n.startswith("_")):
            if inspect.ismodule(getattr(mod, name)):
                continue
            why = out_of_scope(name)
            if why:
                excluded[name] = why
            else:
                names.append(name)
        result["namespaces"][ns] = names
        result["excluded"][ns] = excluded
    out = pathlib.Path(__file__).resolve().parents[1] / "data" / "tf_api.json"
    out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    for ns in NAMESPACES:
        print(f"{ns}: {len(result['namespaces'][ns])} names, "
              f"{len(result['excluded'][ns])} out of scope")


if __name__ == "__main__":
    main()
