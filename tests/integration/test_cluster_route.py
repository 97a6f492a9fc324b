"""On a cluster the snapshot goes to its slot's node, and follows the slot when it moves."""

from __future__ import annotations

import pytest
import redis

from telemetry_common.cluster_route import slot_node
from telemetry_common.keys import Keys
from telemetry_common.reader import read_metric
from telemetry_common.redis_client import connect
from telemetry_stack.servers.cluster import LocalCluster
from tests.helpers import wait_for
from tests.helpers.api import put_snapshot

pytestmark = pytest.mark.integration

PREFIX = "{moving}"


def test_writes_follow_a_slot_that_moved(local_cluster: LocalCluster) -> None:
    client = connect(local_cluster.url, timeout=2)
    keys = Keys(PREFIX)
    owner = slot_node(client, keys)
    assert isinstance(owner, redis.Redis) and owner is not client
    nodes = {n.port: n.client() for n in local_cluster.nodes}
    slot = nodes[next(iter(nodes))].cluster("KEYSLOT", keys.current)
    old_port = owner.connection_pool.connection_kwargs["port"]
    new_port = next(port for port in nodes if port != old_port)
    target_id = nodes[new_port].cluster("MYID")
    # The slot is empty: hand it to another node, as a resharding would, behind the client's back.
    nodes[new_port].execute_command("CLUSTER", "BUMPEPOCH")
    for port in (new_port, old_port, *(p for p in nodes if p not in (new_port, old_port))):
        nodes[port].execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)

    def moved_everywhere() -> bool:
        slots = nodes[old_port].cluster("SLOTS")
        return any(s[0] <= slot <= s[1] and s[2][1] == new_port for s in slots)

    wait_for(moved_everywhere, 20, message="the slot's new owner known")
    with pytest.raises(redis.ResponseError, match=f"{slot} 127.0.0.1:{new_port}"):
        put_snapshot(client, prefix=PREFIX)  # sent to the old owner, which refuses it
    generation = put_snapshot(client, prefix=PREFIX)  # the slot map was read again
    assert generation == 1
    assert slot_node(client, keys).connection_pool.connection_kwargs["port"] == new_port
    assert read_metric(client, keys, "1", "Latency").value == b"0.812"
    assert nodes[new_port].get(keys.current) == b"1"
    client.close()
