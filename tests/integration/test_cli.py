"""The eddy CLI against a real server."""
import json
import subprocess
import time

from conftest import EDDY_BIN


def test_topic_commands(server):
    r = server.cli("topic", "create", "clicks", "--partitions", "2")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["partitions"] == 2
    assert "clicks" in server.cli("topic", "list").stdout
    assert json.loads(server.cli("topic", "get", "clicks").stdout)["name"] == "clicks"
    r = server.cli("topic", "get", "nope")
    assert r.returncode == 1 and "does not exist" in r.stderr
    assert server.cli("topic", "delete", "clicks").returncode == 0


def test_publish_from_args_and_stdin_then_tail(server):
    server.cli("topic", "create", "t")
    r = server.cli("publish", "t", '{"a":1}')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["offset"] == 0
    lines = "\n".join([json.dumps({"specversion": "1.0", "id": f"e{i}", "source": "/cli",
                                   "type": "x"}) for i in range(3)] + ['{"plain":true}', ""])
    r = server.cli("publish", "t", input=lines)
    assert r.returncode == 0, r.stderr
    assert [json.loads(l)["offset"] for l in r.stdout.splitlines()] == [1, 2, 3, 4]

    r = server.cli("tail", "t", "--from-beginning")
    events = [json.loads(l) for l in r.stdout.splitlines()]
    assert [e["offset"] for e in events] == [0, 1, 2, 3, 4]
    assert events[1]["event"]["id"] == "e0"
    assert events[4]["event"]["data"] == {"plain": True}


def test_publish_rejects_bad_json_with_a_clear_error(server):
    server.cli("topic", "create", "t")
    r = server.cli("publish", "t", "{not json")
    assert r.returncode == 1 and "not JSON" in r.stderr


def test_tail_follow_prints_new_events(server):
    server.cli("topic", "create", "f")
    proc = subprocess.Popen([EDDY_BIN, "--endpoint", server.url, "tail", "f", "-f"],
                            stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        server.cli("publish", "f", '{"live":1}')
        line = proc.stdout.readline()
        assert json.loads(line)["event"]["data"] == {"live": 1}
    finally:
        proc.kill()
        proc.wait()


def test_unreachable_endpoint_says_so():
    r = subprocess.run([EDDY_BIN, "--endpoint", "http://127.0.0.1:1", "topic", "list"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "cannot reach eddy" in r.stderr


def test_bench_invoke_measures_every_target_in_rounds():
    # Small counts: this checks the benchmark runs and reports, not the figures' size.
    r = subprocess.run([EDDY_BIN, "bench", "invoke", "--cold", "1", "--requests", "400",
                        "--rounds", "2", "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert f["warm_rounds"] == 2
    for k in ("node_warm", "python_warm", "bare_node_http"):
        assert f[f"{k}_requests_per_sec"] > 0 and f[f"{k}_errors"] == 0, (k, f)
        assert 0 < f[f"{k}_1conn_p50_us"] <= f[f"{k}_1conn_p99_us"], (k, f)
    assert f["node_cold_p50_us"] > 0 and "node_added_1conn_p50_us" in f
    assert "sls_offline_requests_per_sec" not in f  # no --sls-dir
