"""Each error class, with the server's code, message, status and request id."""

from __future__ import annotations

import asyncio

import pytest

from engram import (Conflict, ConnectionFailed, Engram, EngramError, EngramSync, Forbidden,
                    InvalidRequest, NotFound, RateLimited, ServerError, Unauthorized)

run = asyncio.run


def check(err, cls, status):
    assert isinstance(err, cls) and isinstance(err, EngramError)
    assert err.status == status
    assert err.code and isinstance(err.code, str) and err.code != f"http_{status}"
    assert err.message
    assert err.request_id
    assert str(err.status) in str(err)


def test_not_found(server):
    memory = Engram(base_url=server.url).memory(context_id="assistant")
    s = memory.sessions.open("ses_nope")
    with pytest.raises(NotFound) as ei:
        run(s.turn(role="user", content="hello"))
    check(ei.value, NotFound, 404)
    with pytest.raises(NotFound):
        run(s.refresh())
    with pytest.raises(NotFound):
        run(s.context(query="x"))


def test_invalid_request(server):
    memory = Engram(base_url=server.url).memory(context_id="assistant")
    with pytest.raises(InvalidRequest) as ei:
        run(memory.sessions.create(scope={"Bad Name!": "x"}))
    check(ei.value, InvalidRequest, 400)
    with pytest.raises(InvalidRequest):
        run(memory.profile(scope={"user": "a/b"}))  # "/" inside a value
    with pytest.raises(InvalidRequest):
        run(memory.profile(scope={f"d{i}": "x" for i in range(9)}))  # 9 dimensions


def test_payload_too_large(server, user):
    memory = Engram(base_url=server.url).memory(context_id="assistant")
    with pytest.raises(InvalidRequest) as ei:
        run(memory.turn(scope={"user": user}, role="user", content="x" * (2 * 1024 * 1024)))
    assert ei.value.status == 413


def test_client_side_validation(server):
    memory = Engram(base_url=server.url).memory(context_id="assistant")
    with pytest.raises(ValueError):
        run(memory.turn(scope={"user": "a"}, role="robot", content="hi"))
    with pytest.raises(TypeError):
        run(memory.profile(scope=42))


def test_connection_refused():
    from conftest import free_port
    port = free_port()
    client = Engram(base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(ConnectionFailed) as ei:
        run(client.memory(context_id="assistant").profile(scope={"user": "a"}))
    assert ei.value.status is None and ei.value.code == "connection_refused"


def test_unauthorized_and_forbidden(keyed_server):
    srv, keys = keyed_server["server"], keyed_server["keys"]
    anon = EngramSync(base_url=srv.url).memory(context_id="assistant")
    with pytest.raises(Unauthorized) as ei:
        anon.profile(scope={"user": "alice"})
    check(ei.value, Unauthorized, 401)
    bad = EngramSync(base_url=srv.url, api_key="not-a-key").memory(context_id="assistant")
    with pytest.raises(Unauthorized):
        bad.profile(scope={"user": "alice"})

    full = EngramSync(base_url=srv.url, api_key=keys["full"]).memory(context_id="assistant")
    s = full.sessions.create(scope={"user": "alice"})
    s.turn(role="user", content="I live in Berlin.")
    assert "Berlin" in full.profile(scope={"user": "alice"}).summary

    # confined to user/alice: bob is outside its floor
    alice = EngramSync(base_url=srv.url, api_key=keys["alice"]).memory(context_id="assistant")
    assert "Berlin" in alice.profile(scope={"user": "alice"}).summary
    with pytest.raises(Forbidden) as ei:
        alice.profile(scope={"user": "bob"})
    check(ei.value, Forbidden, 403)

    # read-only: may read, may not write or forget
    ro = EngramSync(base_url=srv.url, api_key=keys["read"]).memory(context_id="assistant")
    ro.profile(scope={"user": "alice"})
    with pytest.raises(Forbidden):
        ro.turn(scope={"user": "alice"}, role="user", content="I live in Rome.")
    with pytest.raises(Forbidden):
        ro.forget(scope={"user": "alice"}, attribute_key="location")

    # a key for another context
    other = EngramSync(base_url=srv.url, api_key=keys["other"]).memory(context_id="assistant")
    with pytest.raises(Forbidden):
        other.profile(scope={"user": "alice"})


# The remaining classes cannot be provoked on demand from a healthy server, so a scripted stub
# answers with the status and the server's error shape.
@pytest.mark.parametrize("status,cls", [(409, Conflict), (429, RateLimited), (500, ServerError),
                                        (405, InvalidRequest), (415, InvalidRequest)])
def test_status_mapping(stub_factory, status, cls):
    body = {"error": {"code": f"code_{status}", "message": f"message {status}"}}
    stub = stub_factory([(status, body, {})] * 5)
    client = EngramSync(base_url=stub.url, max_retries=0)
    with pytest.raises(cls) as ei:
        client.memory(context_id="assistant").import_("{}\n")  # never retried
    e = ei.value
    assert e.code == f"code_{status}" and e.message == f"message {status}"
    assert e.status == status and e.request_id == "req_stub_1"
    assert e.body == body


def test_non_json_error_body(stub_factory):
    stub = stub_factory([(502, "<html>bad gateway</html>", {})])
    client = EngramSync(base_url=stub.url, max_retries=0)
    with pytest.raises(ServerError) as ei:
        client.memory(context_id="assistant").erase(scope={"user": "a"})
    assert ei.value.code == "http_502" and "bad gateway" in ei.value.message


def test_conflict_on_reused_idempotency_key(server, user):
    memory = EngramSync(base_url=server.url).memory(context_id="assistant")
    s = memory.sessions.create(scope={"user": user})
    s.turn(role="user", content="I live in Berlin.", idempotency_key="same-" + user)
    with pytest.raises(Conflict) as ei:
        s.turn(role="user", content="Something else entirely.", idempotency_key="same-" + user)
    check(ei.value, Conflict, 409)
