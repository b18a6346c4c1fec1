"""The embedded database is ready when the server it started answers, not any server on its port.

A port is chosen free, then bound by the server a moment later: another server (another test process's)
can take it in between. Ours then exits, and the other answered the readiness ping, so requests meant for
ours went to it: a test that froze ours saw its requests answered anyway.
"""

from __future__ import annotations

import pymongo
import pytest

from api.storage import embedded
from api.storage.embedded import EmbeddedDatabase, EmbeddedDatabaseError


def answering_pid(server: EmbeddedDatabase) -> object:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(server.uri)
    try:
        return client.admin.command("serverStatus")["pid"]
    finally:
        client.close()


def test_a_port_asked_for_that_another_server_holds_fails_the_start() -> None:
    with EmbeddedDatabase(":memory:") as first:
        second = EmbeddedDatabase(":memory:", port=first.port)
        with pytest.raises(EmbeddedDatabaseError, match=f"another server listens on port {first.port}"):
            second.start(timeout=120)
        assert answering_pid(first) == first.pid


def test_a_port_chosen_and_taken_before_the_server_binds_it_is_chosen_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with EmbeddedDatabase(":memory:") as first:
        chosen = iter([first.port])
        free = embedded.free_port
        monkeypatch.setattr(embedded, "free_port", lambda: next(chosen, None) or free())
        with EmbeddedDatabase(":memory:") as second:
            assert second.port != first.port
            assert answering_pid(second) == second.pid
