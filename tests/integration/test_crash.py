"""kill -9 under load: every event that got a 2xx is readable after restart, with the same
content, and every partition's offsets run without a gap.

Several publisher threads send single events and batches to a 3-partition topic while the
server is killed at a random moment; the same data directory is restarted and loaded
again, CRASH_ROUNDS times, so recovery also runs over logs that crashed before.
"""
import http.client
import json
import os
import random
import threading
import time

CRASH_ROUNDS = int(os.environ.get("EDDY_CRASH_ROUNDS", "20"))
PUBLISHERS = 4


def publisher(url, topic, worker, stop, acked, lock):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    seq = 0
    while not stop.is_set():
        batch = random.choice([1, 1, 5, 50])
        events = []
        for _ in range(batch):
            seq += 1
            events.append({"specversion": "1.0", "id": f"w{worker}-{seq}-{random.random()}",
                           "source": "/crash", "type": "crash.test",
                           "partitionkey": random.choice(["a", "b", "c", "d", "e"]),
                           "data": {"worker": worker, "seq": seq, "pad": "x" * random.randint(0, 300)}})
        try:
            if batch == 1:
                conn.request("POST", f"/v1/topics/{topic}/events", json.dumps(events[0]),
                             {"content-type": "application/cloudevents+json"})
            else:
                conn.request("POST", f"/v1/topics/{topic}/events", json.dumps(events),
                             {"content-type": "application/cloudevents-batch+json"})
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException):
            return  # the server died: whatever was not answered was not acknowledged
        if resp.status != 200:
            continue
        results = json.loads(body)["results"]
        with lock:
            for ev, res in zip(events, results):
                assert ev["id"] == res["id"]
                acked.append((res["partition"], res["offset"], ev))


def read_partition(server, topic, partition):
    out, offset = [], 0
    while True:
        body = server.get(f"/v1/topics/{topic}/events?partition={partition}&offset={offset}&limit=5000").json()
        if not body["events"]:
            return out
        out.extend(body["events"])
        offset = body["next_offset"]


def test_every_acknowledged_event_survives_kill_9(make_server):
    s = make_server("--fsync", "always").start()
    assert s.put("/v1/topics/crash", json={"partitions": 3}).status_code == 201
    acked = []
    lock = threading.Lock()
    rng = random.Random(int(os.environ.get("EDDY_CRASH_SEED", str(time.time_ns()))))
    for round_ in range(CRASH_ROUNDS):
        stop = threading.Event()
        threads = [threading.Thread(target=publisher, args=(s.url, "crash", w, stop, acked, lock))
                   for w in range(PUBLISHERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.6))
        s.kill()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        s.start()

        stored = {}
        for p in range(3):
            events = read_partition(s, "crash", p)
            offsets = [e["offset"] for e in events]
            assert offsets == list(range(len(offsets))), f"round {round_}: gap in partition {p}"
            for e in events:
                stored[(p, e["offset"])] = e["event"]
        with lock:
            for partition, offset, ev in acked:
                got = stored.get((partition, offset))
                assert got == ev, f"round {round_}: acked event at {partition}/{offset} lost or changed"
        assert acked, "no event was acknowledged at all"
