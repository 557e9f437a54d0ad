"""Record what TF 2.21's samplers return for edge and invalid parameters (deterministic
answers: NaN, 0, n, the smallest normal number...), for tests/ops/test_random_distributions.py.

Run once: `python -m tests.oracles.record_random_more` writes tests/oracles/random_more.json.
Each case stores the NaN pattern and the finite values TF gives for a row of parameters whose
answer does not depend on the random bits (where it does, only "finite" is recorded).
`make test` never imports TensorFlow.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("random_more.json")
SEED = [3, 4]


def cases(tf):
    """name -> (params as lists, fn() -> an array)."""
    g_alpha = [-1.0, 0.0, 1e-30, 0.5, float("nan")]
    p_lam = [-1.0, 0.0, 2.0, float("nan")]
    b_counts = [-1.0, 0.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    b_probs = [0.5, 0.5, 0.0, 1.0, -0.1, 1.1, float("nan")]
    t_args = ([0.0, 0.0, 0.0, 0.0], [1.0, 0.0, -1.0, 1.0], [1.0, -1.0, -1.0, 2.0],
              [0.0, 1.0, 1.0, 2.0])
    return {
        "stateless_gamma": (g_alpha, lambda: tf.random.stateless_gamma(
            [5], SEED, g_alpha)),
        "gamma": (g_alpha, lambda: tf.random.gamma([1], g_alpha, seed=1)[0]),
        "stateless_poisson_float": (p_lam, lambda: tf.random.stateless_poisson(
            [4], SEED, p_lam, dtype=tf.float32)),
        "poisson": (p_lam, lambda: tf.random.poisson([1], p_lam, seed=1)[0]),
        "stateless_binomial_float": ([b_counts, b_probs], lambda: tf.random.stateless_binomial(
            [7], SEED, b_counts, b_probs, output_dtype=tf.float32)),
        "stateless_parameterized_truncated_normal": (list(t_args), lambda: tf.random.
                                                     stateless_parameterized_truncated_normal(
                                                         [4], SEED, *t_args)),
    }


def _one(name: str) -> dict:
    import tensorflow as tf

    params, fn = cases(tf)[name]
    try:
        v = np.asarray(fn()).astype(np.float64)
    except Exception as e:  # noqa: BLE001  (TF's refusal is the answer)
        return {"params": params, "error": type(e).__name__, "message": str(e)[:300]}
    again = np.asarray(cases(tf)[name][1]()).astype(np.float64)  # another draw (or seed)
    if name.startswith("stateless"):
        again = np.asarray(_reseeded(tf, name)).astype(np.float64)
    return {"params": params, "nan": np.isnan(v).tolist(), "inf": np.isinf(v).tolist(),
            "values": [float(x) if np.isfinite(x) else None for x in v],
            "random": [bool(a != b) for a, b in zip(v, again)]}


def _reseeded(tf, name: str):
    """The stateless case again with another seed: values that change depend on the bits."""
    global SEED
    SEED = [5, 6]
    return cases(tf)[name][1]()


def main() -> None:
    import subprocess
    import sys

    # each case in its own process: some invalid parameters make TF's rejection loops spin
    out = {}
    for name in cases(_Names()):
        try:
            r = subprocess.run([sys.executable, "-m", "tests.oracles.record_random_more", name],
                               capture_output=True, text=True, timeout=90, check=True)
            out[name] = json.loads(r.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            out[name] = {"error": "timeout", "message": "TF did not return within 90 s"}
    OUT.write_text(json.dumps(out, indent=1) + "\n")


class _Names:
    """Stands in for `tf` to list the case names without importing TensorFlow."""

    def __getattr__(self, _):
        return self


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:
        print(json.dumps(_one(sys.argv[1])))
    else:
        main()
