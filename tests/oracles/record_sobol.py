"""Record TF 2.21's Sobol direction numbers (the product's data) and sample points (the tests').

Run once: `python -m tests.oracles.record_sobol` writes
- tfx_core/ops/math/sobol_directions.npz: per dimension d >= 1 the degree s[d] and the
  coefficients a[d] (bit i-1 = a_i) of its primitive polynomial and the initial direction
  integers m_1..m_s (m_j has j bits, packed in order into `m_bits`), from which
  tfx_core/ops/math/sobol.py rebuilds all 29 direction numbers. They are read off TF's own
  sequence: the point at index 2**(j+1) - 1 is v_j / 2**32 (its gray code has only bit j), and
  s, a are the smallest degree and coefficients whose recurrence reproduces v_s..v_28.
- tests/oracles/sobol.npz: sobol_sample outputs (last 64 dimensions) for SOBOL_CASES.
TF's sequence is usable below index 2**29 (past it TF 2.21 returns negative numbers), hence 29
direction numbers. `make test` never imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_DIM = 21200  # TF: "dim must be at most 21200"
BITS = 29
# (dim, num_results, skip, dtype); the points' last 64 dimensions are kept
SOBOL_CASES = [(1, 5, 0, "float32"), (3, 8, 0, "float64"), (7, 6, 1000, "float32"),
               (40, 3, 12345, "float64"), (21200, 2, 2**28, "float64"),
               (5, 3, 2**29 - 4, "float64")]


def _solve(v: np.ndarray, s: int) -> int | None:
    """Coefficients a (bit i-1 = a_i) with v_k = XOR_i a_i v_(k-i) ^ v_(k-s) ^ (v_(k-s) >> s)
    for every k in s..BITS-1, by Gaussian elimination over GF(2) (rows packed in one int)."""
    def pack(vals):
        r = 0
        for x in vals:
            r = (r << 32) | int(x)
        return r

    target = pack([v[k] ^ v[k - s] ^ (v[k - s] >> s) for k in range(s, BITS)])
    basis: list[tuple[int, int]] = []
    for i in range(1, s):
        vec, mask = pack([v[k - i] for k in range(s, BITS)]), 1 << (i - 1)
        for bv, bm in basis:
            if vec ^ bv < vec:
                vec, mask = vec ^ bv, mask ^ bm
        if vec:
            basis.append((vec, mask))
            basis.sort(reverse=True)
    vec, mask = target, 0
    for bv, bm in basis:
        if vec ^ bv < vec:
            vec, mask = vec ^ bv, mask ^ bm
    return mask if vec == 0 else None


def main() -> None:
    import tensorflow as tf

    cols = [tf.math.sobol_sample(MAX_DIM, 1, skip=2 ** (j + 1) - 2, dtype=tf.float64).numpy()[0]
            for j in range(BITS)]
    v = (np.array(cols) * 2.0**32).astype(np.uint64).T  # [dim, j]
    s_all = np.zeros(MAX_DIM, np.uint8)
    a_all = np.zeros(MAX_DIM, np.uint32)
    bits = []
    for d in range(1, MAX_DIM):
        for s in range(1, 19):
            a = _solve(v[d], s)
            if a is not None:
                break
        else:
            raise RuntimeError(f"no recurrence of degree <= 18 for dimension {d}")
        s_all[d], a_all[d] = s, a
        for j in range(s):  # m_(j+1) = v_j >> (31 - j), j + 1 bits
            m = int(v[d, j]) >> (31 - j)
            bits.extend((m >> b) & 1 for b in range(j, -1, -1))
    root = Path(__file__).parents[2]
    np.savez_compressed(root / "tfx_core" / "ops" / "math" / "sobol_directions.npz", s=s_all,
                        a=a_all, m_bits=np.packbits(np.array(bits, np.uint8)))
    cases = {f"case{i}": tf.math.sobol_sample(d, n, skip=k, dtype=getattr(tf, dt)).numpy()[:, -64:]
             for i, (d, n, k, dt) in enumerate(SOBOL_CASES)}
    np.savez(Path(__file__).with_name("sobol.npz"), **cases)
    print("wrote sobol_directions.npz and sobol.npz")


if __name__ == "__main__":
    main()
