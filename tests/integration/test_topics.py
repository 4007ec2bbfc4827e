"""The topics API over HTTP: administration, the CloudEvents publish modes, reading."""
import base64
import re
import json
import threading
import time

import pytest

CE = "application/cloudevents+json"
CE_BATCH = "application/cloudevents-batch+json"


def ce(i, **extra):
    e = {"specversion": "1.0", "id": f"id-{i}", "source": "/tests", "type": "t.created",
         "data": {"n": i}}
    e.update(extra)
    return e


def error_code(resp):
    return resp.json()["error"]["code"]


def test_healthz_and_unknown_endpoint(server):
    assert server.get("/healthz").json() == {"status": "ok"}
    r = server.get("/v1/nothing-here")
    assert r.status_code == 404
    assert error_code(r) == "not_found"


def test_topic_lifecycle(server):
    r = server.put("/v1/topics/orders", json={"partitions": 3, "retention_ms": 3600000})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "orders" and body["partitions"] == 3
    assert body["retention_ms"] == 3600000 and body["retention_bytes"] == -1
    assert len(body["stats"]["partitions"]) == 3

    # Same config again is idempotent; a retention change is an update.
    assert server.put("/v1/topics/orders", json={"partitions": 3}).status_code == 200
    r = server.put("/v1/topics/orders", json={"retention_bytes": 1048576})
    assert r.status_code == 200 and r.json()["retention_bytes"] == 1048576
    # The partition count cannot change.
    r = server.put("/v1/topics/orders", json={"partitions": 4})
    assert r.status_code == 409 and error_code(r) == "conflict"

    names = [t["name"] for t in server.get("/v1/topics").json()["topics"]]
    assert names == ["orders"]
    assert server.delete("/v1/topics/orders").status_code == 204
    assert server.get("/v1/topics/orders").status_code == 404
    assert server.delete("/v1/topics/orders").status_code == 404


@pytest.mark.parametrize("body,fragment", [
    ({"partitions": 0}, "partitions"),
    ({"partitions": "two"}, "partitions"),
    ({"retention_ms": 0}, "retention_ms"),
    ({"fsync": "sometimes"}, "fsync"),
    ({"partitons": 2}, "partitons"),
])
def test_bad_topic_config_is_rejected_and_changes_nothing(server, body, fragment):
    r = server.put("/v1/topics/t", json=body)
    assert r.status_code == 400, r.text
    assert error_code(r) == "invalid_argument"
    assert fragment in r.json()["error"]["message"] or "always" in r.json()["error"]["message"]
    assert server.get("/v1/topics/t").status_code == 404


def test_bad_topic_names_are_rejected(server):
    for name in ["a%20b", "x" * 201, "%2E%2E", "a%2Fb"]:
        r = server.put(f"/v1/topics/{name}", json={})
        assert r.status_code == 400, (name, r.text)
    assert server.get("/v1/topics").json()["topics"] == []


def test_structured_batch_binary_and_plain_publish_read_back(server):
    server.put("/v1/topics/t", json={})
    r = server.post("/v1/topics/t/events", data=json.dumps(ce(1)), headers={"content-type": CE})
    assert r.status_code == 200, r.text
    assert r.json() == {"results": [{"id": "id-1", "partition": 0, "offset": 0}]}

    r = server.post("/v1/topics/t/events", data=json.dumps([ce(2), ce(3)]),
                    headers={"content-type": CE_BATCH})
    assert [x["offset"] for x in r.json()["results"]] == [1, 2]

    r = server.post("/v1/topics/t/events", data=b"\x00\x01binary",
                    headers={"content-type": "application/octet-stream", "ce-specversion": "1.0",
                             "ce-id": "bin-1", "ce-source": "/bin", "ce-type": "t.bin",
                             "ce-myext": "v%20x"})
    assert r.status_code == 200, r.text

    r = server.post("/v1/topics/t/events", json={"hello": "world"})
    assert r.status_code == 200, r.text
    plain_id = r.json()["results"][0]["id"]

    got = server.get("/v1/topics/t/events?offset=0&limit=10").json()
    assert got["next_offset"] == 5
    evs = [e["event"] for e in got["events"]]
    assert [e["offset"] for e in got["events"]] == [0, 1, 2, 3, 4]
    assert evs[0] == ce(1)
    assert evs[2]["data"] == {"n": 3}
    assert evs[3]["id"] == "bin-1" and evs[3]["myext"] == "v x"
    assert base64.b64decode(evs[3]["data_base64"]) == b"\x00\x01binary"
    assert evs[3]["datacontenttype"] == "application/octet-stream"
    assert evs[4]["id"] == plain_id and evs[4]["source"] == "/topics/t"
    assert evs[4]["type"] == "eddy.published" and evs[4]["data"] == {"hello": "world"}
    for e in got["events"]:
        assert e["time"].endswith("Z") and e["partition"] == 0


@pytest.mark.parametrize("event,attribute", [
    ({"id": "1", "source": "/s", "type": "t"}, "specversion"),
    ({"specversion": "1.0", "source": "/s", "type": "t"}, "id"),
    ({"specversion": "1.0", "id": "1", "type": "t"}, "source"),
    ({"specversion": "1.0", "id": "1", "source": "/s"}, "type"),
    ({"specversion": "0.3", "id": "1", "source": "/s", "type": "t"}, "specversion"),
    ({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "time": "yesterday"}, "time"),
    ({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "Bad_Ext": "x"}, "Bad_Ext"),
    ({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "ext": {"a": 1}}, "ext"),
])
def test_invalid_events_are_rejected_naming_the_attribute(server, event, attribute):
    server.put("/v1/topics/t", json={})
    r = server.post("/v1/topics/t/events", data=json.dumps(event), headers={"content-type": CE})
    assert r.status_code == 400, r.text
    assert error_code(r) == "invalid_event"
    assert attribute in r.json()["error"]["message"]
    assert server.get("/v1/topics/t").json()["stats"]["events"] == 0


def test_a_batch_with_one_bad_event_writes_nothing(server):
    server.put("/v1/topics/t", json={})
    batch = [ce(1), ce(2), {"specversion": "1.0", "id": "x", "type": "t"}, ce(4)]
    r = server.post("/v1/topics/t/events", data=json.dumps(batch), headers={"content-type": CE_BATCH})
    assert r.status_code == 400
    assert "2" in r.json()["error"]["message"] and "source" in r.json()["error"]["message"]
    assert server.get("/v1/topics/t/events").json()["events"] == []


def test_oversized_event_is_413(make_server):
    s = make_server("--max-event-bytes", "1000").start()
    s.put("/v1/topics/t", json={})
    r = s.post("/v1/topics/t/events", data=json.dumps(ce(1, data="x" * 2000)),
               headers={"content-type": CE})
    assert r.status_code == 413 and error_code(r) == "too_large"
    r = s.post("/v1/topics/t/events", data=json.dumps(ce(1, data="x" * 100)),
               headers={"content-type": CE})
    assert r.status_code == 200


def test_oversized_request_is_413(make_server):
    s = make_server("--max-request-bytes", "10000").start()
    s.put("/v1/topics/t", json={})
    r = s.post("/v1/topics/t/events", data=json.dumps([ce(i) for i in range(500)]),
               headers={"content-type": CE_BATCH})
    assert r.status_code == 413


def test_publish_to_a_missing_topic_is_404(server):
    r = server.post("/v1/topics/nope/events", json={"a": 1})
    assert r.status_code == 404 and "PUT /v1/topics/nope" in r.json()["error"]["message"]


def test_unsupported_content_type_is_415(server):
    server.put("/v1/topics/t", json={})
    r = server.post("/v1/topics/t/events", data="hello", headers={"content-type": "text/plain"})
    assert r.status_code == 415


def test_partition_key_is_sticky_and_round_robin_spreads(server):
    server.put("/v1/topics/p", json={"partitions": 4})
    keyed = [ce(i, partitionkey="customer-7") for i in range(20)]
    r = server.post("/v1/topics/p/events", data=json.dumps(keyed), headers={"content-type": CE_BATCH})
    parts = {x["partition"] for x in r.json()["results"]}
    assert len(parts) == 1
    r = server.post("/v1/topics/p/events", data=json.dumps([ce(i) for i in range(40)]),
                    headers={"content-type": CE_BATCH})
    spread = {x["partition"] for x in r.json()["results"]}
    assert spread == {0, 1, 2, 3}


def test_read_by_time_and_limits(server):
    server.put("/v1/topics/t", json={})
    server.post("/v1/topics/t/events", data=json.dumps([ce(i) for i in range(3)]),
                headers={"content-type": CE_BATCH})
    time.sleep(0.02)
    mark = server.get("/v1/topics/t/events?offset=2").json()["events"][0]["time"]
    time.sleep(0.02)
    server.post("/v1/topics/t/events", data=json.dumps([ce(i) for i in range(3, 6)]),
                headers={"content-type": CE_BATCH})
    later = server.get("/v1/topics/t/events?time=2099-01-01T00:00:00Z").json()
    assert later["events"] == [] and later["next_offset"] == 6
    all_ = server.get("/v1/topics/t/events?time=2000-01-01T00:00:00Z&limit=2").json()
    assert [e["offset"] for e in all_["events"]] == [0, 1] and all_["next_offset"] == 2
    assert server.get(f"/v1/topics/t/events?time={mark}").json()["events"][0]["offset"] <= 2
    for q in ["limit=0", "partition=1", "offset=-1", "time=never", "wait_ms=999999"]:
        r = server.get(f"/v1/topics/t/events?{q}")
        assert r.status_code == 400, q


def test_long_poll_returns_as_soon_as_an_event_arrives(server):
    server.put("/v1/topics/t", json={})
    result = {}

    def reader():
        t0 = time.monotonic()
        result["body"] = server.request("GET", "/v1/topics/t/events?offset=0&wait_ms=20000").json()
        result["elapsed"] = time.monotonic() - t0

    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.3)
    import requests
    requests.post(server.url + "/v1/topics/t/events", json={"x": 1})
    th.join(timeout=10)
    assert result["body"]["events"][0]["event"]["data"] == {"x": 1}
    assert result["elapsed"] < 5


def test_long_poll_times_out_empty(server):
    server.put("/v1/topics/t", json={})
    t0 = time.monotonic()
    body = server.get("/v1/topics/t/events?offset=0&wait_ms=200").json()
    assert body == {"events": [], "next_offset": 0}
    assert time.monotonic() - t0 >= 0.19


def test_metrics_count_requests_and_appends(server):
    server.put("/v1/topics/m", json={})
    server.post("/v1/topics/m/events", data=json.dumps([ce(i) for i in range(7)]),
                headers={"content-type": CE_BATCH})
    text = server.get("/_eddy/metrics").text
    assert 'eddy_events_appended_total{topic="m",partition="0"} 7' in text
    assert "eddy_http_requests_total{code=\"2xx\"}" in text
    assert 'eddy_log_size_bytes{topic="m",partition="0"}' in text
    assert 'eddy_log_fsyncs_total{topic="m",partition="0"}' in text


def test_events_and_topics_survive_a_graceful_restart(make_server):
    s = make_server().start()
    s.put("/v1/topics/keep", json={"partitions": 2})
    s.post("/v1/topics/keep/events", data=json.dumps([ce(i) for i in range(10)]),
           headers={"content-type": CE_BATCH})
    assert s.stop() == 0
    assert "the log is flushed" in s.log()
    s.start()
    assert s.get("/v1/topics/keep").json()["stats"]["events"] == 10


def test_pipelined_requests_are_answered_in_order(server):
    import socket
    server.put("/v1/topics/t", json={})
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"k": 1}).encode()
    req = (f"POST /v1/topics/t/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(req * 5 + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode()
    assert text.count("HTTP/1.1 200") == 6
    offsets = [int(x) for x in re.findall(r'"offset":(\d+)', text)]
    assert offsets == [0, 1, 2, 3, 4]


def test_malformed_http_gets_400(server):
    import socket
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        assert b"400" in sock.recv(4096).split(b"\r\n")[0]


def test_second_server_on_same_data_dir_is_refused(make_server, tmp_path):
    a = make_server().start()
    import subprocess
    from conftest import EDDY_BIN
    r = subprocess.run([EDDY_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(a.data_dir)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "in use by another eddy server" in r.stderr + r.stdout


def test_eddys_own_topics_are_hidden_from_listings_and_reserved(fserver, workdir):
    from conftest import deploy, wait_for, write_code
    s = fserver()
    code = write_code(workdir, "noop", {"index.js": "exports.handler = async () => 'ok';"})
    deploy(s, "noop", "nodejs", code, "index.handler")
    # An async invocation is queued in eddy's own topic.
    assert s.post("/v1/functions/noop/invoke?mode=async", json={}).status_code == 202
    wait_for(lambda: s.get("/v1/functions/noop/invocations").json()["invocations"],
             what="the async invocation")
    assert s.put("/v1/topics/mine", json={}).status_code == 201
    assert [t["name"] for t in s.get("/v1/topics").json()["topics"]] == ["mine"]
    internal = [t["name"] for t in s.get("/v1/topics?internal=true").json()["topics"]]
    assert "_eddy.functions.async" in internal and "mine" in internal
    # Readable like any topic, but not created, changed or deleted through the API.
    assert s.get("/v1/topics/_eddy.functions.async").status_code == 200
    for r in (s.put("/v1/topics/_eddy.mine", json={}),
              s.put("/v1/topics/_eddy.functions.async", json={"retention_ms": 1}),
              s.delete("/v1/topics/_eddy.functions.async")):
        assert r.status_code == 400, r.text
        assert "reserved" in r.json()["error"]["message"]
    assert s.get("/v1/topics/_eddy.mine").status_code == 404
    assert s.get("/v1/topics/_eddy.functions.async").json()["retention_ms"] != 1
