"""Cluster resolvers: TF_CONFIG parsed as TF does (chief, workers, task), the process layout it
gives (coordinator, count, id), errors naming the malformed field; and initialize's own
argument and start-up checks (in this process: none of them reaches the network)."""
from __future__ import annotations

import json

import pytest

import tfx_core as tx
from runtime import client, distributed
from tfx_core.distribute.cluster_resolver import (
    ClusterSpec,
    SimpleClusterResolver,
    TFConfigClusterResolver,
    initialize_from_resolver,
    process_layout,
)

CLUSTER = {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"],
           "ps": ["host3:2222"], "evaluator": ["host4:2222"]}


def set_tf_config(monkeypatch, config) -> None:
    monkeypatch.setenv("TF_CONFIG", config if isinstance(config, str) else json.dumps(config))


@pytest.mark.parametrize("task, expected", [
    ({"type": "chief", "index": 0}, ("host0:2222", 3, 0)),
    ({"type": "worker", "index": 0}, ("host0:2222", 3, 1)),
    ({"type": "worker", "index": 1}, ("host0:2222", 3, 2)),
])
def test_tf_config_layout_puts_the_chief_first(monkeypatch, task, expected):
    set_tf_config(monkeypatch, {"cluster": CLUSTER, "task": task, "rpc_layer": "grpc"})
    r = TFConfigClusterResolver()
    assert (r.task_type, r.task_id, r.rpc_layer) == (task["type"], task["index"], "grpc")
    assert process_layout(r) == expected
    address = CLUSTER[task["type"]][task["index"]]
    assert r.master() == f"grpc://{address}"
    assert r.master(rpc_layer="") == f"grpc://{address}"  # TF: an empty layer keeps TF_CONFIG's
    assert r.cluster_spec().as_dict() == CLUSTER


def test_without_a_chief_worker_0_coordinates(monkeypatch):
    set_tf_config(monkeypatch, {"cluster": {"worker": ["a:1", "b:2", "c:3"]},
                                "task": {"type": "worker", "index": "2"}})  # TF accepts "2"
    assert process_layout(TFConfigClusterResolver()) == ("a:1", 3, 2)
    # the constructor's task overrides TF_CONFIG's
    assert process_layout(TFConfigClusterResolver("worker", 1)) == ("a:1", 3, 1)


def test_tf_config_read_at_each_call(monkeypatch):
    r = TFConfigClusterResolver()
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert r.cluster_spec().as_dict() == {} and r.task_type is None and r.master() == ""
    set_tf_config(monkeypatch, {"cluster": {"worker": ["a:1"]}, "task": {"type": "worker",
                                                                         "index": 0}})
    assert r.master() == "a:1"


@pytest.mark.parametrize("config, field", [
    ("{not json", "TF_CONFIG: not valid JSON"),
    ("[1, 2]", "TF_CONFIG: expected a JSON object"),
    ({"cluster": ["a:1"], "task": {"type": "worker", "index": 0}}, "TF_CONFIG['cluster']"),
    ({"cluster": {"worker": "a:1"}, "task": {"type": "worker", "index": 0}},
     "TF_CONFIG['cluster']['worker']"),
    ({"cluster": {"worker": ["a:1", "nohostport"]}, "task": {"type": "worker", "index": 0}},
     "TF_CONFIG['cluster']['worker'][1]"),
    ({"cluster": {"worker": ["a:1"]}, "task": "worker"}, "TF_CONFIG['task']"),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker"}}, "TF_CONFIG['task']"),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "x"}},
     "TF_CONFIG['task']['index']"),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}},
     "TF_CONFIG['task']['index']"),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": 7, "index": 0}},
     "TF_CONFIG['task']['type']"),
    ({"cluster": CLUSTER, "task": {"type": "evaluator", "index": 0}},
     "TF_CONFIG['task']['type']"),
    ({"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}, "TF_CONFIG['cluster']"),
])
def test_malformed_tf_config_names_the_field(monkeypatch, config, field):
    set_tf_config(monkeypatch, config)
    with pytest.raises(tx.errors.InvalidArgumentError) as e:
        process_layout(TFConfigClusterResolver())
    assert field in str(e.value)
    with pytest.raises(ValueError):  # every InvalidArgumentError is a ValueError too
        initialize_from_resolver(TFConfigClusterResolver())


def test_simple_cluster_resolver_and_cluster_spec():
    r = SimpleClusterResolver(ClusterSpec({"worker": {0: "a:1", 2: "c:3"}}), task_type="worker",
                              task_id=2, num_accelerators={"GPU": 4}, rpc_layer="grpc")
    assert r.cluster_spec().task_indices("worker") == [0, 2]
    assert r.cluster_spec().as_dict() == {"worker": {0: "a:1", 2: "c:3"}}
    assert r.master() == "grpc://c:3" and r.master("worker", 0) == "grpc://a:1"
    assert r.num_accelerators() == {"GPU": 4}
    assert process_layout(r) == ("a:1", 2, 1)
    assert SimpleClusterResolver({"worker": ["a:1"]}, master="m:9").master() == "m:9"
    with pytest.raises(tx.errors.InvalidArgumentError, match="no job 'chief'"):
        r.cluster_spec().num_tasks("chief")
    with pytest.raises(tx.errors.InvalidArgumentError, match="'worker'.*'x'.*not an int"):
        ClusterSpec({"worker": {"x": "a:1"}})


@pytest.mark.parametrize("args, message", [
    (("nohost", 2, 0), "coordinator_address must be 'host:port', got 'nohost'"),
    (("localhost:99999", 2, 0), "'host:port'"),
    ((1234, 2, 0), "coordinator_address must be a 'host:port' string"),
    (("localhost:1234", 0, 0), "num_processes must be a positive int, got 0"),
    (("localhost:1234", True, 0), "num_processes must be a positive int"),
    (("localhost:1234", 2, 2), "process_id must be in [0, 1] for num_processes=2, got 2"),
    (("localhost:1234", 2, -1), "process_id must be in [0, 1]"),
    (("localhost:1234", 2, "0"), "process_id must be an int"),
])
def test_initialize_checks_its_arguments(args, message):
    with pytest.raises(tx.errors.InvalidArgumentError) as e:
        distributed.initialize(*args)
    assert message in str(e.value)


def test_initialize_checks_its_timeouts():
    with pytest.raises(tx.errors.InvalidArgumentError, match="heartbeat_timeout_seconds must be"):
        distributed.initialize("localhost:1234", 2, 0, heartbeat_timeout_seconds=0)


def test_initialize_after_the_backend_exists_is_a_clear_error():
    client.backend()  # this test process already computes on its one process
    with pytest.raises(tx.errors.FailedPreconditionError, match="at program startup"):
        distributed.initialize("localhost:1234", 2, 1, timeout_seconds=1)
    assert not distributed.is_initialized()
    assert (distributed.process_index(), distributed.process_count()) == (0, 1)
    assert distributed.global_devices() == sorted(client.backend().devices(), key=lambda d: d.id)
