"""Subscriptions against the real server: fan-out, pull/ack/nack with deadlines, dead
letters with their history, push to a local HTTP endpoint (retries, Retry-After, permanent
failures), forwarding, function targets, stream mode, seek, redrive, restarts and kill -9."""
import json
import os
import random
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from conftest import wait_for


# --- helpers -------------------------------------------------------------------------------

def make_events(n, prefix="e", **extra):
    return [{"specversion": "1.0", "id": f"{prefix}-{i}", "source": "/test", "type": "test.event",
             "data": {"i": i}, **extra} for i in range(n)]


def publish(server, topic, events):
    r = server.post(f"/v1/topics/{topic}/events", data=json.dumps(events),
                    headers={"content-type": "application/cloudevents-batch+json"})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def create_sub(server, name, expect=201, **spec):
    r = server.put(f"/v1/subscriptions/{name}", json=spec)
    assert r.status_code == expect, r.text
    return r.json()


def pull(server, name, max_events=100, wait_ms=0):
    r = server.post(f"/v1/subscriptions/{name}/pull",
                    json={"max_events": max_events, "wait_ms": wait_ms})
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def ack(server, name, msgs):
    r = server.post(f"/v1/subscriptions/{name}/ack", json={"ack_ids": [m["ack_id"] for m in msgs]})
    assert r.status_code == 200, r.text
    return r.json()["acked"]


def nack(server, name, msgs, **kw):
    r = server.post(f"/v1/subscriptions/{name}/nack",
                    json={"ack_ids": [m["ack_id"] for m in msgs], **kw})
    assert r.status_code == 200, r.text
    return r.json()["nacked"]


def stats(server, name):
    r = server.get(f"/v1/subscriptions/{name}")
    assert r.status_code == 200, r.text
    return r.json()["stats"]


def read_topic(server, topic, partition=0):
    r = server.get(f"/v1/topics/{topic}/events?partition={partition}&offset=0&limit=10000")
    assert r.status_code == 200, r.text
    return [e["event"] for e in r.json()["events"]]


def pull_until(server, name, count, timeout=15.0, do_ack=True):
    """Pulls (and acks) until `count` messages arrived; returns them."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} messages arrived"
        msgs = pull(server, name, 100, 500)
        if do_ack and msgs:
            ack(server, name, msgs)
        got.extend(msgs)
    return got


class Endpoint:
    """A local HTTP server that push subscriptions deliver to. `behaviour(n)` gets the
    1-based number of the request and returns (status, headers)."""

    def __init__(self, behaviour=lambda n: (200, {}), tls=None):
        self.behaviour = behaviour
        self.requests = []  # (monotonic time, lower-cased headers, body)
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with endpoint.lock:
                    endpoint.requests.append(
                        (time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body))
                    n = len(endpoint.requests)
                status, headers = endpoint.behaviour(n)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls:  # an ssl.SSLContext: serve https
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        port = self.httpd.server_address[1]
        self.url = f"https://localhost:{port}/hook" if tls else f"http://127.0.0.1:{port}/hook"

    def count(self):
        with self.lock:
            return len(self.requests)

    def received(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- fan-out and queue semantics -------------------------------------------------------------

def test_fan_out_three_subscriptions_each_receive_every_event_exactly_once(server):
    assert server.put("/v1/topics/orders", json={"partitions": 3}).status_code == 201
    for name in ("a", "b", "c"):
        create_sub(server, name, topic="orders")
    results = publish(server, "orders", make_events(300))
    assert {r["partition"] for r in results} == {0, 1, 2}
    for name in ("a", "b", "c"):
        got = pull_until(server, name, 300)
        ids = [m["event"]["id"] for m in got]
        assert sorted(ids) == sorted(f"e-{i}" for i in range(300)), name
        assert all(m["delivery_attempt"] == 1 for m in got)
        assert pull(server, name, 100, 200) == []
        st = wait_for(lambda: (s := stats(server, name))["backlog"] == 0 and s, what="backlog 0")
        assert st["deliveries"] == 300 and st["acks"] == 300 and st["retries"] == 0


def test_competing_pullers_share_the_events_without_duplicates(server):
    server.put("/v1/topics/jobs", json={"partitions": 2})
    create_sub(server, "workers", topic="jobs")
    publish(server, "jobs", make_events(400))
    seen, lock = [], threading.Lock()

    def worker():
        s = requests.Session()
        while True:
            r = s.post(server.url + "/v1/subscriptions/workers/pull",
                       json={"max_events": 25, "wait_ms": 300}, timeout=10)
            msgs = r.json()["messages"]
            if not msgs:
                return
            s.post(server.url + "/v1/subscriptions/workers/ack",
                   json={"ack_ids": [m["ack_id"] for m in msgs]}, timeout=10)
            with lock:
                seen.extend(m["event"]["id"] for m in msgs)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(seen) == sorted(f"e-{i}" for i in range(400))


def test_long_poll_returns_as_soon_as_an_event_arrives(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t")
    out = {}

    def waiter():
        t0 = time.monotonic()
        out["msgs"] = pull(server, "s", 10, 10000)
        out["took"] = time.monotonic() - t0

    th = threading.Thread(target=waiter)
    th.start()
    wait_for(lambda: stats(server, "s")["waiting_pullers"] == 1, what="the puller to wait")
    publish(server, "t", make_events(1))
    th.join(timeout=15)
    assert [m["event"]["id"] for m in out["msgs"]] == ["e-0"]
    assert out["took"] < 5


def test_start_positions(server):
    server.put("/v1/topics/t", json={})
    publish(server, "t", make_events(5, "old"))
    create_sub(server, "latest", topic="t")
    create_sub(server, "earliest", topic="t", start="earliest")
    create_sub(server, "from3", topic="t", start=3)
    publish(server, "t", make_events(2, "new"))
    assert [m["event"]["id"] for m in pull_until(server, "latest", 2)] == ["new-0", "new-1"]
    assert len(pull_until(server, "earliest", 7)) == 7
    assert [m["offset"] for m in pull_until(server, "from3", 4)] == [3, 4, 5, 6]


def test_unacked_event_is_redelivered_after_its_ack_deadline(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t", ack_deadline_ms=300)
    publish(server, "t", make_events(2))
    first = pull(server, "s", 10, 1000)
    assert len(first) == 2
    ack(server, "s", [m for m in first if m["event"]["id"] == "e-1"])
    t0 = time.monotonic()
    assert pull(server, "s") == []  # still leased
    again = pull(server, "s", 10, 5000)
    assert time.monotonic() - t0 >= 0.2
    assert [(m["event"]["id"], m["delivery_attempt"]) for m in again] == [("e-0", 2)]
    ack(server, "s", again)
    assert wait_for(lambda: stats(server, "s")["expired"] == 1, what="expiry count")


def test_nack_redelivers_at_once_or_after_the_delay(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t")
    publish(server, "t", make_events(1))
    m = pull(server, "s", 1, 1000)
    assert nack(server, "s", m) == 1
    m2 = pull(server, "s", 1, 0)
    assert m2[0]["delivery_attempt"] == 2
    assert nack(server, "s", m) == 0  # a stale lease changes nothing
    assert nack(server, "s", m2, delay_ms=400) == 1
    t0 = time.monotonic()
    assert pull(server, "s") == []
    m3 = pull(server, "s", 1, 5000)
    assert time.monotonic() - t0 >= 0.3
    assert m3[0]["delivery_attempt"] == 3


def test_poison_event_reaches_the_dead_letter_topic_with_its_history(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t", dead_letter_topic="t-dead", retry={"max_attempts": 3})
    # The dead-letter topic is created with the subscription.
    assert server.get("/v1/topics/t-dead").status_code == 200
    publish(server, "t", make_events(1, "good") + [
        {"specversion": "1.0", "id": "poison", "source": "/test", "type": "test.poison",
         "subject": "bad/1", "data": {"boom": True}}])
    t_start = time.time()
    attempts = 0
    deadline = time.monotonic() + 15
    while attempts < 3:
        assert time.monotonic() < deadline
        for m in pull(server, "s", 10, 500):
            if m["event"]["id"] == "poison":
                attempts += 1
                assert m["delivery_attempt"] == attempts
                nack(server, "s", [m])
            else:
                ack(server, "s", [m])
    assert pull(server, "s", 10, 300) == []
    dead = wait_for(lambda: read_topic(server, "t-dead"), what="the dead letter")
    assert len(dead) == 1
    d = dead[0]
    assert (d["id"], d["source"], d["type"], d["subject"], d["data"]) == (
        "poison", "/test", "test.poison", "bad/1", {"boom": True})
    assert d["eddysubscription"] == "s"
    assert d["eddyattempts"] == 3
    assert "nack" in d["eddyerror"]
    assert "eddystatus" not in d
    first = time.mktime(time.strptime(d["eddyfirstattempt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(first - t_start) < 30
    assert d["eddyfirstattempt"] <= d["eddylastattempt"]
    st = wait_for(lambda: (s := stats(server, "s"))["backlog"] == 0 and s, what="backlog 0")
    assert st["dead_lettered"] == 1


def test_redrive_delivers_dead_letters_again(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t", dead_letter_topic="dl", retry={"max_attempts": 1})
    create_sub(server, "other", topic="t", dead_letter_topic="dl", retry={"max_attempts": 1})
    publish(server, "t", make_events(3))
    for name in ("s", "other"):
        msgs = pull_until(server, name, 3, do_ack=False)
        nack(server, name, msgs)
    wait_for(lambda: len(read_topic(server, "dl")) == 6, what="six dead letters")
    r = server.post("/v1/subscriptions/s/redrive", json={})
    assert r.status_code == 200, r.text
    again = pull_until(server, "s", 3)
    assert sorted(m["event"]["id"] for m in again) == ["e-0", "e-1", "e-2"]
    assert all(m.get("redriven") for m in again)
    # The delivery history is not part of the redriven event.
    assert all("eddyattempts" not in m["event"] for m in again)
    assert pull(server, "s", 10, 300) == []
    assert pull(server, "other", 10, 0) == []  # only this subscription's dead letters came back
    # A second redrive finds nothing new.
    assert server.post("/v1/subscriptions/s/redrive").json()["scanned"] == 0
    wait_for(lambda: stats(server, "s")["backlog"] == 0, what="backlog 0")


def test_filter_delivers_only_matching_events(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "big", topic="t", filter={"data": {"i": [{"numeric": [">=", 8]}]}})
    publish(server, "t", make_events(10))
    got = pull_until(server, "big", 2)
    assert [m["event"]["id"] for m in got] == ["e-8", "e-9"]
    assert pull(server, "big", 10, 200) == []
    st = wait_for(lambda: (s := stats(server, "big"))["backlog"] == 0 and s, what="backlog 0")
    assert st["filtered"] == 8


# --- stream mode and seek ------------------------------------------------------------------

def test_stream_mode_keeps_one_batch_in_flight_and_commits_by_offset(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t", mode="stream")
    publish(server, "t", make_events(10))
    b1 = pull(server, "s", 4, 1000)
    assert [m["offset"] for m in b1] == [0, 1, 2, 3]
    assert pull(server, "s", 4, 0) == []  # the partition's batch is still in flight
    assert ack(server, "s", [b1[-1]]) == 4  # one ack commits the batch
    b2 = pull(server, "s", 4, 1000)
    assert [m["offset"] for m in b2] == [4, 5, 6, 7]
    assert ack(server, "s", [b2[1]]) == 2  # commit up to 5; 6 and 7 stay leased
    assert stats(server, "s")["partitions"][0]["committed"] == 6


def test_seek_replays_from_an_offset_or_a_time(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t")
    publish(server, "t", make_events(3, "a"))
    pull_until(server, "s", 3)
    mid = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1)) + ".000Z"
    time.sleep(1.2)  # events after `mid` must be appended after it
    publish(server, "t", make_events(2, "b"))
    pull_until(server, "s", 2)
    r = server.post("/v1/subscriptions/s/seek", json={"offset": 1})
    assert r.status_code == 200, r.text
    assert [m["offset"] for m in pull_until(server, "s", 4)] == [1, 2, 3, 4]
    r = server.post("/v1/subscriptions/s/seek", json={"time": mid})
    assert r.status_code == 200, r.text
    assert [m["event"]["id"] for m in pull_until(server, "s", 2)] == ["b-0", "b-1"]
    assert server.post("/v1/subscriptions/s/seek", json={"offset": "earliest"}).status_code == 200
    assert len(pull_until(server, "s", 5)) == 5


# --- push ----------------------------------------------------------------------------------

def test_push_retries_until_the_endpoint_succeeds(server):
    ep = Endpoint(lambda n: (503, {}) if n <= 2 else (200, {}))
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "p", topic="t", target={"url": ep.url},
                   retry={"initial_backoff_ms": 50, "max_backoff_ms": 200})
        publish(server, "t", [{"specversion": "1.0", "id": "x1", "source": "/src", "type": "t.push",
                               "subject": "s1", "data": {"hello": "world"}}])
        wait_for(lambda: ep.count() >= 3, what="three push attempts")
        reqs = ep.received()
        for n, (_, headers, body) in enumerate(reqs, 1):
            assert headers["ce-id"] == "x1"
            assert headers["ce-specversion"] == "1.0"
            assert headers["ce-source"] == "/src"
            assert headers["ce-type"] == "t.push"
            assert headers["ce-subject"] == "s1"
            assert headers["content-type"] == "application/json"
            assert headers["eddy-delivery-attempt"] == str(n)
            assert json.loads(body) == {"hello": "world"}
        assert reqs[1][0] - reqs[0][0] >= 0.02  # backed off
        st = wait_for(lambda: (s := stats(server, "p"))["acks"] == 1 and s, what="the ack")
        assert st["retries"] == 2 and st["backlog"] == 0
        time.sleep(0.3)
        assert ep.count() == 3  # acked: no more deliveries
    finally:
        ep.close()


def test_push_honours_retry_after(server):
    ep = Endpoint(lambda n: (429, {"Retry-After": "1"}) if n == 1 else (200, {}))
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "p", topic="t", target={"url": ep.url},
                   retry={"initial_backoff_ms": 10, "max_backoff_ms": 20})
        publish(server, "t", make_events(1))
        wait_for(lambda: ep.count() >= 2, what="the retry")
        reqs = ep.received()
        assert reqs[1][0] - reqs[0][0] >= 0.95
    finally:
        ep.close()


def test_push_client_error_goes_straight_to_the_dead_letter_topic(server):
    ep = Endpoint(lambda n: (400, {}))
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "p", topic="t", target={"url": ep.url}, dead_letter_topic="p-dead",
                   retry={"initial_backoff_ms": 10})
        publish(server, "t", make_events(1))
        dead = wait_for(lambda: read_topic(server, "p-dead"), what="the dead letter")
        assert dead[0]["id"] == "e-0"
        assert dead[0]["eddystatus"] == 400
        assert dead[0]["eddyattempts"] == 1
        assert ep.count() == 1
    finally:
        ep.close()


def test_push_gives_up_after_max_attempts_on_an_unreachable_endpoint(server):
    ep = Endpoint()
    url = ep.url
    ep.close()  # nothing listens there any more
    server.put("/v1/topics/t", json={})
    create_sub(server, "p", topic="t", target={"url": url}, dead_letter_topic="dead",
               retry={"max_attempts": 2, "initial_backoff_ms": 10, "max_backoff_ms": 10})
    publish(server, "t", make_events(1))
    dead = wait_for(lambda: read_topic(server, "dead"), what="the dead letter")
    assert dead[0]["eddyattempts"] == 2
    assert "connect" in dead[0]["eddyerror"]


def self_signed(tmp_path, name):
    """A self-signed certificate for localhost / 127.0.0.1; returns (cert, key) paths."""
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_push_over_https_verifies_the_endpoints_certificate(make_server, tmp_path, monkeypatch):
    trusted, trusted_key = self_signed(tmp_path, "trusted")
    stranger, stranger_key = self_signed(tmp_path, "stranger")
    # The server trusts only `trusted` (OpenSSL reads SSL_CERT_FILE for its default paths).
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
    server = make_server().start()
    endpoints = []
    for cert, key in ((trusted, trusted_key), (stranger, stranger_key)):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        endpoints.append(Endpoint(tls=ctx))
    good, bad = endpoints
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "good", topic="t", target={"url": good.url})
        create_sub(server, "bad", topic="t", target={"url": bad.url}, dead_letter_topic="bad-dead",
                   retry={"max_attempts": 2, "initial_backoff_ms": 10, "max_backoff_ms": 10})
        publish(server, "t", make_events(3))
        wait_for(lambda: good.count() == 3, what="3 deliveries over https")
        assert sorted(json.loads(body)["i"] for _, _, body in good.received()) == [0, 1, 2]
        assert all(h["ce-source"] == "/test" for _, h, _ in good.received())
        # An endpoint whose certificate is not trusted gets nothing; the events dead-letter.
        dead = wait_for(lambda: len(d := read_topic(server, "bad-dead")) == 3 and d,
                        what="the dead letters")
        assert bad.count() == 0
        assert "TLS" in dead[0]["eddyerror"] and "certificate" in dead[0]["eddyerror"], dead[0]
    finally:
        for ep in endpoints:
            ep.close()


def test_a_slow_endpoint_does_not_hold_up_another_subscription(server):
    release = threading.Event()

    def slow(n):
        release.wait(20)
        return 200, {}

    slow_ep, fast_ep = Endpoint(slow), Endpoint()
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "slow", topic="t", target={"url": slow_ep.url}, max_concurrency=2)
        create_sub(server, "fast", topic="t", target={"url": fast_ep.url})
        publish(server, "t", make_events(50))
        wait_for(lambda: fast_ep.count() == 50, what="the fast endpoint to get every event")
        assert slow_ep.count() <= 2  # concurrency limit
    finally:
        release.set()
        slow_ep.close()
        fast_ep.close()


def test_stream_push_delivers_in_order_one_at_a_time(server):
    failed_once = set()
    lock = threading.Lock()
    ep = None

    def fail_each_event_once(n):
        _, headers, _ = ep.received()[n - 1]
        with lock:
            if headers["ce-id"] in failed_once:
                return 200, {}
            failed_once.add(headers["ce-id"])
        return 503, {}

    ep = Endpoint(fail_each_event_once)
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "ordered", topic="t", mode="stream", target={"url": ep.url},
                   retry={"initial_backoff_ms": 5, "max_backoff_ms": 10})
        publish(server, "t", make_events(10))
        wait_for(lambda: ep.count() == 20, what="every event twice (one failure each)")
        ids = [h["ce-id"] for _, h, _ in ep.received()]
        # Each event is retried until it succeeds before the next one is sent.
        assert ids == [f"e-{i // 2}" for i in range(20)]
    finally:
        ep.close()


def test_forwarding_to_a_topic_keeps_the_id_and_adds_the_hop(server):
    server.put("/v1/topics/in", json={})
    create_sub(server, "fwd", topic="in", target={"topic": "out"})
    assert server.get("/v1/topics/out").status_code == 200
    publish(server, "in", make_events(2))
    out = wait_for(lambda: len(e := read_topic(server, "out")) == 2 and e, what="forwarded events")
    assert [e["id"] for e in out] == ["e-0", "e-1"]
    assert all(e["eddyhops"] == 1 and e["data"] == {"i": i} for i, e in enumerate(out))


# --- administration and errors ---------------------------------------------------------------

def test_subscription_api_errors_are_clear(server):
    server.put("/v1/topics/t", json={})

    def err(r, status, code):
        assert r.status_code == status, r.text
        assert r.json()["error"]["code"] == code
        return r.json()["error"]["message"]

    err(server.put("/v1/subscriptions/s", json={"topic": "nope"}), 404, "not_found")
    msg = err(server.put("/v1/subscriptions/s", json={"topic": "t", "target": {"function": "f"}}),
              404, "not_found")
    assert "function 'f' does not exist" in msg
    err(server.put("/v1/subscriptions/s", json={"topic": "t", "filter": {"a": 1}}), 400,
        "invalid_pattern")
    err(server.put("/v1/subscriptions/s", data="{", headers={"content-type": "application/json"}),
        400, "invalid_argument")
    err(server.get("/v1/subscriptions/missing"), 404, "not_found")
    err(server.post("/v1/subscriptions/missing/pull", json={}), 404, "not_found")
    create_sub(server, "s", topic="t")
    create_sub(server, "s", expect=200, topic="t", ack_deadline_ms=1000)  # an update
    err(server.put("/v1/subscriptions/s", json={"topic": "t", "mode": "stream"}), 409, "conflict")
    err(server.post("/v1/subscriptions/s/ack", json={"ack_ids": ["garbage"]}), 400,
        "invalid_argument")
    err(server.post("/v1/subscriptions/s/pull", json={"max_events": 0}), 400, "invalid_argument")
    err(server.post("/v1/subscriptions/s/seek", json={}), 400, "invalid_argument")
    err(server.post("/v1/subscriptions/s/redrive"), 409, "conflict")
    err(server.get("/v1/subscriptions/s/pull"), 405, "invalid_argument")
    assert [s["name"] for s in server.get("/v1/subscriptions").json()["subscriptions"]] == ["s"]
    assert server.delete("/v1/subscriptions/s").status_code == 204
    err(server.get("/v1/subscriptions/s"), 404, "not_found")


def test_metrics_show_subscriptions(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "m", topic="t")
    publish(server, "t", make_events(3))
    text = server.get("/_eddy/metrics").text
    assert 'eddy_subscription_backlog{subscription="m"} 3' in text


def test_cli_creates_pulls_and_acks(server):
    server.put("/v1/topics/t", json={})
    r = server.cli("sub", "create", "c", "--topic", "t", "--ack-deadline-ms", "60000")
    assert r.returncode == 0, r.stderr
    publish(server, "t", make_events(2))
    r = server.cli("sub", "pull", "c", "--wait-ms", "2000", "--max-events", "1")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout.strip())
    r = server.cli("sub", "ack", "c", first["ack_id"])
    assert r.returncode == 0 and json.loads(r.stdout)["acked"] == 1
    r = server.cli("sub", "pull", "c", "--wait-ms", "2000", "--ack")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip())["event"]["id"] == "e-1"
    r = server.cli("sub", "get", "c")
    assert json.loads(r.stdout)["stats"]["backlog"] == 0
    r = server.cli("sub", "seek", "c", "--offset", "earliest")
    assert r.returncode == 0, r.stderr
    r = server.cli("sub", "pull", "c", "--wait-ms", "2000")
    assert len(r.stdout.strip().splitlines()) == 2
    r = server.cli("sub", "get", "nope")
    assert r.returncode != 0 and "does not exist" in r.stderr


def test_cli_sets_filter_and_transform_inline_or_from_a_file(server, tmp_path):
    server.put("/v1/topics/t", json={})
    (tmp_path / "transform.json").write_text(json.dumps({"select": "$.data.n"}))
    r = server.cli("sub", "create", "odd", "--topic", "t", "--filter", '{"data":{"odd":[true]}}',
                   "--transform", "@" + str(tmp_path / "transform.json"))
    assert r.returncode == 0, r.stderr
    desc = json.loads(r.stdout)
    assert desc["filter"] == {"data": {"odd": [True]}} and desc["transform"] == {"select": "$.data.n"}
    publish(server, "t", [{"specversion": "1.0", "id": f"e-{n}", "source": "/s", "type": "t",
                           "data": {"n": n, "odd": n % 2 == 1}} for n in range(4)])
    r = server.cli("sub", "pull", "odd", "--wait-ms", "2000", "--max-events", "10", "--ack")
    assert [json.loads(line)["event"] for line in r.stdout.splitlines()] == [1, 3], r.stdout
    # Bad input is refused before anything is sent.
    r = server.cli("sub", "create", "bad", "--topic", "t", "--transform", "{nope")
    assert r.returncode != 0 and "--transform must be JSON" in r.stderr
    r = server.cli("sub", "create", "bad", "--topic", "t", "--url", "http://x", "--function", "f")
    assert r.returncode != 0 and "give one of" in r.stderr


# --- restarts ------------------------------------------------------------------------------

def test_ack_state_survives_a_restart(make_server):
    s = make_server().start()
    s.put("/v1/topics/t", json={"partitions": 2})
    create_sub(s, "q", topic="t")
    publish(s, "t", make_events(20))
    got = pull_until(s, "q", 20, do_ack=False)
    ack(s, "q", [m for m in got if int(m["event"]["id"].split("-")[1]) % 2 == 0])
    assert s.stop() == 0
    s.start()
    again = pull_until(s, "q", 10)
    assert sorted(m["event"]["id"] for m in again) == sorted(f"e-{i}" for i in range(1, 20, 2))
    assert pull(s, "q", 100, 300) == []


def test_delivery_attempts_count_on_across_a_restart(make_server):
    ep = Endpoint(lambda n: (503, {}))
    try:
        s = make_server().start()
        s.put("/v1/topics/t", json={})
        create_sub(s, "p", topic="t", target={"url": ep.url}, dead_letter_topic="dead",
                   retry={"max_attempts": 3, "initial_backoff_ms": 1000, "max_backoff_ms": 1000})
        create_sub(s, "q", topic="t", ack_deadline_ms=60000)
        publish(s, "t", make_events(1))
        wait_for(lambda: ep.count() == 2, what="two failed deliveries")
        msgs = pull(s, "q", 1, 2000)
        r = s.post("/v1/subscriptions/q/nack", json={"ack_ids": [msgs[0]["ack_id"]]})
        assert r.status_code == 200, r.text
        assert s.stop() == 0
        s.start()
        # The third delivery is the last: the restart did not start the count again.
        dead = wait_for(lambda: read_topic(s, "dead"), what="the dead letter")
        assert dead[0]["eddyattempts"] == 3 and dead[0]["eddystatus"] == 503
        assert ep.count() == 3
        # A pulled and nacked message comes back as its second delivery.
        again = pull(s, "q", 1, 2000)
        assert again[0]["event"]["id"] == "e-0" and again[0]["delivery_attempt"] == 2
    finally:
        ep.close()


def test_every_acknowledged_event_is_delivered_after_kill_9(make_server):
    """Publishers, a pulling consumer and a push endpoint run while the server is killed
    with SIGKILL and restarted, several times. In the end every event whose publish got a
    2xx reached both subscriptions at least once."""
    rounds = int(os.environ.get("EDDY_SUB_CRASH_ROUNDS", "5"))
    rng = random.Random(int(os.environ.get("EDDY_CRASH_SEED", str(time.time_ns()))))

    def on_push(n):
        return (503, {}) if rng.random() < 0.05 else (200, {})

    ep = Endpoint(on_push)
    acked, pulled, lock = set(), set(), threading.Lock()
    s = make_server("--fsync", "always").start()
    try:
        s.put("/v1/topics/crash", json={"partitions": 3})
        create_sub(s, "pulled", topic="crash", ack_deadline_ms=1000)
        create_sub(s, "pushed", topic="crash", target={"url": ep.url}, ack_deadline_ms=2000,
                   retry={"initial_backoff_ms": 20, "max_backoff_ms": 200, "max_attempts": 1000})

        def publisher(url, w, stop):
            sess, seq = requests.Session(), 0
            while not stop.is_set():
                evs = []
                for _ in range(rng.choice([1, 10, 50])):
                    seq += 1
                    evs.append({"specversion": "1.0", "id": f"r{w}-{seq}-{rng.random()}",
                                "source": "/crash", "type": "crash"})
                try:
                    r = sess.post(url + "/v1/topics/crash/events", data=json.dumps(evs),
                                  headers={"content-type": "application/cloudevents-batch+json"},
                                  timeout=10)
                except requests.RequestException:
                    return
                if r.status_code == 200:
                    with lock:
                        acked.update(e["id"] for e in evs)

        def consumer(url, stop):
            sess = requests.Session()
            while not stop.is_set():
                try:
                    r = sess.post(url + "/v1/subscriptions/pulled/pull",
                                  json={"max_events": 200, "wait_ms": 200}, timeout=10)
                    msgs = r.json()["messages"]
                    with lock:
                        pulled.update(m["event"]["id"] for m in msgs)
                    if msgs and rng.random() < 0.9:  # sometimes forget to ack
                        sess.post(url + "/v1/subscriptions/pulled/ack",
                                  json={"ack_ids": [m["ack_id"] for m in msgs]}, timeout=10)
                except (requests.RequestException, ValueError, KeyError):
                    return

        for _ in range(rounds):
            stop = threading.Event()
            threads = [threading.Thread(target=publisher, args=(s.url, w, stop)) for w in range(2)]
            threads.append(threading.Thread(target=consumer, args=(s.url, stop)))
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.0))
            s.kill()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            s.start()

        assert acked, "no publish was acknowledged"
        stop = threading.Event()
        th = threading.Thread(target=consumer, args=(s.url, stop))
        th.start()
        try:
            def all_delivered():
                with lock:
                    missing_pull = acked - pulled
                pushed_ids = {h["ce-id"] for _, h, _ in ep.received()}
                return not missing_pull and not (acked - pushed_ids)
            wait_for(all_delivered, timeout=90, interval=0.2,
                     what="every acknowledged event to reach both subscriptions")
        finally:
            stop.set()
            th.join(timeout=30)
    finally:
        ep.close()


# --- function targets ----------------------------------------------------------------------

def test_function_target_invokes_the_function_and_dead_letters_its_failures(server):
    # Functions may run as `nobody`: their code must be readable by everyone.
    code = Path(tempfile.mkdtemp(prefix="eddy-sub-fn-", dir="/tmp"))
    try:
        os.chmod(code, 0o755)
        (code / "app.py").write_text(
            "def handler(event, context):\n"
            "    if event['id'] == 'poison':\n"
            "        raise ValueError('cannot handle ' + event['id'])\n"
            "    return {'seen': event['id'], 'data': event['data']}\n")
        os.chmod(code / "app.py", 0o644)
        r = server.put("/v1/functions/handler",
                       json={"runtime": "python", "handler": "app.handler",
                             "code": {"path": str(code)}})
        assert r.status_code in (200, 201), r.text
        server.put("/v1/topics/t", json={})
        r = server.put("/v1/subscriptions/f", json={"topic": "t", "target": {"function": "nope"}})
        assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
        create_sub(server, "f", topic="t", target={"function": "handler"}, dead_letter_topic="f-dead",
                   retry={"max_attempts": 2, "initial_backoff_ms": 10, "max_backoff_ms": 10})
        publish(server, "t", make_events(3) + [
            {"specversion": "1.0", "id": "poison", "source": "/test", "type": "t", "data": {}}])
        dead = wait_for(lambda: read_topic(server, "f-dead"), timeout=30, what="the dead letter")
        assert dead[0]["id"] == "poison" and dead[0]["eddyattempts"] == 2
        assert "cannot handle poison" in dead[0]["eddyerror"]
        st = wait_for(lambda: (s := stats(server, "f"))["acks"] == 3 and s, timeout=30,
                      what="three successful deliveries")
        assert st["backlog"] == 0 and st["dead_lettered"] == 1
        inv = server.get("/v1/functions/handler/invocations").json()["invocations"]
        assert sorted(i["status"] for i in inv) == ["error", "error", "success", "success", "success"]
    finally:
        shutil.rmtree(code, ignore_errors=True)


def test_function_target_batches_records_and_honours_batch_item_failures(server):
    code = Path(tempfile.mkdtemp(prefix="eddy-sub-fn-", dir="/tmp"))
    try:
        os.chmod(code, 0o755)
        (code / "app.py").write_text(
            "def handler(event, context):\n"
            "    bad = [r['id'] for r in event['Records'] if r['data']['i'] % 3 == 0]\n"
            "    return {'batchItemFailures': [{'itemIdentifier': i} for i in bad]}\n")
        os.chmod(code / "app.py", 0o644)
        r = server.put("/v1/functions/batcher",
                       json={"runtime": "python", "handler": "app.handler",
                             "code": {"path": str(code)}})
        assert r.status_code in (200, 201), r.text
        server.put("/v1/topics/t", json={})
        create_sub(server, "b", topic="t", target={"function": "batcher"},
                   batch={"max_events": 10, "window_ms": 500}, dead_letter_topic="b-dead",
                   retry={"max_attempts": 2, "initial_backoff_ms": 10, "max_backoff_ms": 10})
        # Two publishes 100 ms apart land in one invocation: the window holds the first.
        publish(server, "t", make_events(5))
        time.sleep(0.1)
        publish(server, "t", [dict(e, id=f"e-{i + 5}", data={"i": i + 5})
                              for i, e in enumerate(make_events(5))])
        dead = wait_for(lambda: len(d := read_topic(server, "b-dead")) == 4 and d, timeout=30,
                        what="the four failed events in the dead-letter topic")
        assert sorted(e["id"] for e in dead) == ["e-0", "e-3", "e-6", "e-9"]
        assert all(e["eddyattempts"] == 2 for e in dead)
        st = wait_for(lambda: (s := stats(server, "b"))["acks"] == 6 and s, timeout=30,
                      what="six events acked")
        assert st["backlog"] == 0
        inv = server.get("/v1/functions/batcher/invocations").json()["invocations"]
        # One invocation for all ten, then the four failures again (one or a few batches).
        assert 2 <= len(inv) <= 5, inv
    finally:
        shutil.rmtree(code, ignore_errors=True)
