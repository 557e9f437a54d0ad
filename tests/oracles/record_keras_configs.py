"""Record tf.keras 3's `get_config()` of each layer in keras_config_cases.py (tensorflow-cpu
2.21), and the config of a small functional model, for tests/test_keras_config_roundtrip.py.

Run once: `python -m tests.oracles.record_keras_configs` writes tests/oracles/keras_configs.json
(plain JSON). `make test` never imports TensorFlow; it reads the file.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.oracles.keras_config_cases import CASES, arrays


def main() -> None:
    import keras

    layers: dict[str, dict] = {}
    rng = np.random.default_rng(0)
    for name, (make, _) in CASES.items():
        layer = make(keras.layers)
        args = arrays(name, rng)
        if name.endswith("Cell"):
            layer(args[0], args[1])
        else:
            layer(*args)
        # keras's own serialization makes the nested objects (initializers, ...) plain data
        layers[name] = keras.saving.serialize_keras_object(layer)["config"]
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = keras.layers.Dense(2, name="shared")
    out = keras.layers.Add(name="add")([shared(a), shared(b)])
    model = keras.Model({"a": a, "b": b}, {"sum": out}, name="model")
    doc = {"keras_version": keras.__version__, "layers": layers,
           "functional": json.loads(json.dumps(model.get_config()))}
    path = Path(__file__).with_name("keras_configs.json")
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({len(layers)} layers, keras {keras.__version__})")


if __name__ == "__main__":
    main()
