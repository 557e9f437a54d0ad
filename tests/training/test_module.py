"""tx.Module: variable/submodule tracking through attributes and containers, order, names."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import tfx_core as tx


class Dense(tx.Module):
    def __init__(self, n_in: int, n_out: int, name: str | None = None):
        super().__init__(name=name)
        self.w = tx.Variable(np.ones((n_in, n_out), np.float32), name="w")
        self.b = tx.Variable(np.zeros(n_out, np.float32), name="b")

    def __call__(self, x):
        return tx.matmul(x, self.w) + self.b


class MLP(tx.Module):
    def __init__(self):
        super().__init__()
        self.layers = [Dense(2, 3, name="l0"), Dense(3, 1, name="l1")]
        self.extra = {"scale": tx.Variable(1.0, name="scale"),
                      "count": tx.Variable(0, trainable=False, name="count")}

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x * self.extra["scale"]


def names(vs) -> list[str]:
    return [v.name for v in vs]


def test_nested_list_and_dict_tracking_in_tf_order():
    m = MLP()
    # Own attributes first, sorted ("extra" < "layers"; dict keys sorted), then each submodule.
    assert names(m.variables) == ["count:0", "scale:0", "b:0", "w:0", "b:0", "w:0"]
    assert m.variables[2] is m.layers[0].b and m.variables[5] is m.layers[1].w
    assert names(m.trainable_variables) == ["scale:0", "b:0", "w:0", "b:0", "w:0"]
    assert names(m.non_trainable_variables) == ["count:0"]
    assert m.submodules == tuple(m.layers)
    assert all(isinstance(v, tx.Variable) for v in m.variables)
    assert isinstance(m.variables, tuple)


def test_submodules_order_children_before_grandchildren():
    root, a, b, c, d = (tx.Module(name=n) for n in "rabcd")
    a.child = c
    c.child = d
    root.x_first = a
    root.y_second = b
    assert [s.name for s in root.submodules] == ["a", "b", "c", "d"]
    assert [s.name for s in a.submodules] == ["c", "d"]
    assert d.submodules == ()


def test_attribute_order_is_sorted_not_insertion():
    m = tx.Module()
    m.zeta = tx.Variable(1.0, name="zeta")
    m.alpha = tx.Variable(2.0, name="alpha")
    m.mid = [tx.Variable(3.0, name="m0"), (tx.Variable(4.0, name="m1"),)]
    assert names(m.variables) == ["alpha:0", "m0:0", "m1:0", "zeta:0"]


def test_deduplicated_by_identity():
    shared = tx.Variable([1.0, 2.0], name="shared")
    layer = Dense(1, 1, name="layer")
    m = tx.Module()
    m.a = shared
    m.b = [shared, {"again": shared}]
    m.l1 = layer
    m.l2 = layer                       # the same module twice
    m.l3 = [layer]
    layer.tied = shared                # reachable from the submodule too
    assert names(m.variables) == ["shared:0", "b:0", "w:0"]
    assert m.submodules == (layer,)
    twin = tx.Variable([1.0, 2.0], name="shared")  # equal value and name, different object
    m.c = twin
    assert len(m.variables) == 4 and m.variables[1] is twin


def test_cycles_terminate():
    a, b = tx.Module(name="a"), tx.Module(name="b")
    a.b, b.a = b, a
    a.me = a
    a.v = tx.Variable(1.0, name="va")
    b.v = tx.Variable(2.0, name="vb")
    loop: list = [a.v]
    loop.append(loop)                  # a list that contains itself
    a.loop = loop
    assert names(a.variables) == ["va:0", "vb:0"]
    assert a.submodules == (b,)
    assert b.submodules == (a,)
    assert names(b.variables) == ["vb:0", "va:0"]


def test_namedtuple_and_tuple_containers():
    Pair = collections.namedtuple("Pair", ["first", "second"])
    m = tx.Module()
    m.pair = Pair(tx.Variable(1.0, name="p0"), Dense(1, 1, name="inner"))
    m.tup = (tx.Variable(2.0, name="t0"),)
    assert names(m.variables) == ["p0:0", "t0:0", "b:0", "w:0"]
    assert [s.name for s in m.submodules] == ["inner"]


def test_non_tracked_objects_are_ignored():
    m = tx.Module()
    m.tensor = tx.constant([1.0])       # tensors are not variables
    m.number = 3
    m.text = "abc"
    m.array = np.ones(3)
    m.fn = lambda: None
    m.opt = tx.optimizers.SGD(0.1)      # not a Module: its iterations variable is not tracked
    m.some_set = {1, 2}
    assert m.variables == () and m.submodules == ()


def test_tfx_prefixed_attributes_are_skipped():
    m = tx.Module()
    m._tfx_cache = [tx.Variable(1.0, name="hidden")]
    m._private = tx.Variable(2.0, name="private")  # plain private attributes are tracked (as TF)
    assert names(m.variables) == ["private:0"]


def test_dict_with_mixed_key_types():
    m = tx.Module()
    m.d = {2: tx.Variable(1.0, name="two"), "a": tx.Variable(2.0, name="a"),
           1: tx.Variable(3.0, name="one")}
    got = names(m.variables)
    assert sorted(got) == ["a:0", "one:0", "two:0"]
    assert got == names(m.variables)  # deterministic


@pytest.mark.parametrize("cls_name,expected", [
    ("MLP", "mlp"), ("DenseLayer", "dense_layer"), ("HTTPServer", "http_server"),
    ("Conv2D", "conv2_d"), ("Module", "module"), ("simple", "simple"),
])
def test_default_names_are_snake_case(cls_name, expected):
    cls = type(cls_name, (tx.Module,), {})
    assert cls().name == expected


def test_explicit_names_and_validation():
    assert tx.Module(name="encoder").name == "encoder"
    assert Dense(1, 1).name == "dense"
    for bad in ("has space", "1abc", "a/b", "", "é"):
        with pytest.raises(ValueError, match="not a valid module name"):
            tx.Module(name=bad)
    assert "name='encoder'" in repr(tx.Module(name="encoder"))


def test_subclass_without_super_init_still_works():
    class Lazy(tx.Module):
        def __init__(self):
            self.v = tx.Variable(1.0, name="v")

    m = Lazy()
    assert m.name == "lazy" and names(m.variables) == ["v:0"]


def test_variables_recomputed_after_attribute_changes():
    m = MLP()
    m.layers.append(Dense(1, 2, name="l2"))
    assert len(m.variables) == 8 and len(m.submodules) == 3
    del m.extra
    assert names(m.variables)[:2] == ["b:0", "w:0"] and len(m.variables) == 6


def test_module_with_optimizer_trains_compiled():
    """Module variables feed an optimizer inside one compiled step (end to end)."""
    model = Dense(2, 1, name="lin")
    opt = tx.optimizers.SGD(0.1)
    x = tx.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tx.constant([[1.0], [2.0]])

    @tx.function
    def step():
        with tx.GradientTape() as tape:
            loss = tx.reduce_mean(tx.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    xn, yn = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [2.0]])
    w, b = np.ones((2, 1)), np.zeros(1)
    for _ in range(3):
        loss = step()
        err = xn @ w + b - yn
        np.testing.assert_allclose(float(loss), np.mean(err**2), rtol=1e-5)
        w, b = w - 0.1 * (2 / 2) * xn.T @ err, b - 0.1 * (2 / 2) * err.sum(0)
        np.testing.assert_allclose(model.w.numpy(), w, rtol=1e-5)
        np.testing.assert_allclose(model.b.numpy(), b, rtol=1e-5)
    assert step.experimental_get_tracing_count() == 1
