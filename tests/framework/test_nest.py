"""tx.nest against tf.nest's answers recorded from TensorFlow 2.21 (tests/oracles/nest.json, made by
tests/oracles/record_nest.py), plus round trips and where jax.tree_util differs."""
from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from jax import tree_util

import tfx_core as tx
from tests.oracles.nest_cases import CASES, PAIRS, Point, encode

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "nest.json").read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_flatten_matches_tf(name):
    assert encode(tx.nest.flatten(CASES[name]())) == ORACLE["flatten"][name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_paths_match_tf(name):
    got = [[p, encode(v)] for p, v in tx.nest.flatten_with_joined_string_paths(CASES[name]())]
    assert got == ORACLE["paths"][name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_is_nested_matches_tf(name):
    assert tx.nest.is_nested(CASES[name]()) == ORACLE["is_nested"][name]


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("check_types", [True, False])
def test_assert_same_structure_matches_tf(name, check_types):
    a, b = PAIRS[name]
    want = ORACLE["same_structure"][name][str(check_types)]
    if want == "ok":
        tx.nest.assert_same_structure(a(), b(), check_types=check_types)
    else:
        with pytest.raises({"TypeError": TypeError, "ValueError": ValueError}[want]):
            tx.nest.assert_same_structure(a(), b(), check_types=check_types)


@pytest.mark.parametrize("name", sorted(CASES))
def test_pack_sequence_as_inverts_flatten(name):
    s = CASES[name]()
    back = tx.nest.pack_sequence_as(s, tx.nest.flatten(s))
    assert back == s and type(back) is type(s)


def test_packed_mappings_keep_their_key_order_and_type():
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    back = tx.nest.pack_sequence_as(od, [20, 10])  # leaves in sorted key order: a, b
    assert type(back) is collections.OrderedDict and list(back.items()) == [("b", 10), ("a", 20)]
    dd = collections.defaultdict(list, {"y": 1, "x": 2})
    back = tx.nest.pack_sequence_as(dd, [5, 6])
    assert back.default_factory is list and dict(back) == {"x": 5, "y": 6}


def test_map_structure_over_several_structures_and_tensors():
    a = {"w": tx.constant([1.0, 2.0]), "b": (tx.constant(3.0), None)}
    b = {"w": tx.constant([10.0, 20.0]), "b": (tx.constant(30.0), None)}
    out = tx.nest.map_structure(lambda x, y: None if x is None else x + y, a, b)
    assert out["b"][1] is None
    assert out["w"].numpy().tolist() == [11.0, 22.0] and float(out["b"][0]) == 33.0
    p = tx.nest.map_structure(lambda v: v * 2, Point(1, (2, 3)))
    assert p == Point(2, (4, 6))


def test_map_structure_checks_types_unless_told_not_to():
    with pytest.raises(TypeError):
        tx.nest.map_structure(lambda x, y: x + y, [1, 2], (3, 4))
    assert tx.nest.map_structure(lambda x, y: x + y, [1, 2], (3, 4), check_types=False) == [4, 6]
    with pytest.raises(ValueError, match="unexpected keyword"):
        tx.nest.map_structure(lambda x: x, [1], check_typess=False)


def test_pack_sequence_as_counts_leaves():
    with pytest.raises(ValueError, match="3 leaves but flat_sequence has 2"):
        tx.nest.pack_sequence_as([1, [2, 3]], [1, 2])
    assert tx.nest.pack_sequence_as(7, ["x"]) == "x"


def test_unsortable_keys_are_a_clear_error():
    with pytest.raises(TypeError, match="sortable keys"):
        tx.nest.flatten({1: "a", "b": 2})


def test_where_jax_tree_util_differs():
    # None: a leaf for tf.nest, an empty node for jax
    assert tx.nest.flatten([None, 1]) == [None, 1]
    assert tree_util.tree_leaves([None, 1]) == [1]
    # OrderedDict: sorted keys for tf.nest, insertion order for jax
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    assert tx.nest.flatten(od) == [2, 1]
    assert tree_util.tree_leaves(od) == [1, 2]
