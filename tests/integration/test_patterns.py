"""Event patterns over HTTP: /v1/patterns/test (with explain), backtest, and the CLI."""
import json

CE_BATCH = "application/cloudevents-batch+json"


def order(i, amount, **extra):
    e = {"specversion": "1.0", "id": f"o-{i}", "source": "/shop", "type": "order.created",
         "data": {"amount": amount, "customer": {"tier": "gold" if i % 2 else "basic"}}}
    e.update(extra)
    return e


def test_pattern_test_matches_and_explains(server):
    pattern = {"type": ["order.created"], "data": {"amount": [{"numeric": [">", 100]}]}}
    r = server.post("/v1/patterns/test", json={"pattern": pattern, "event": order(1, 250)})
    assert r.status_code == 200, r.text
    assert r.json()["match"] is True
    assert r.json()["pattern"]["branches"] == 1

    r = server.post("/v1/patterns/test",
                    json={"pattern": pattern, "event": order(1, 50), "explain": True})
    body = r.json()
    assert body["match"] is False
    assert body["explanation"]["mismatches"][0]["path"] == "$.data.amount"
    assert "50" in body["explanation"]["message"]


def test_numbers_compare_by_value(server):
    r = server.post("/v1/patterns/test",
                    json={"pattern": {"data": {"amount": [300]}}, "event": order(1, 3.0e2)})
    assert r.json()["match"] is True


def test_a_bad_pattern_names_the_path_and_reason(server):
    r = server.post("/v1/patterns/test",
                    json={"pattern": {"data": {"amount": [{"numeric": [">"]}]}},
                          "event": order(1, 1)})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_pattern"
    assert err["message"].startswith("$.data.amount")


def test_missing_fields_are_clear_errors(server):
    assert server.post("/v1/patterns/test", json={"event": order(1, 1)}).status_code == 400
    assert server.post("/v1/patterns/test", json={"pattern": {"type": ["x"]}}).status_code == 400
    assert server.get("/v1/patterns/test").status_code == 405


def test_backtest_counts_matches_over_the_retained_log(server):
    server.put("/v1/topics/orders", json={"partitions": 2})
    events = [order(i, i * 10) for i in range(50)]
    r = server.post("/v1/topics/orders/events", data=json.dumps(events),
                    headers={"content-type": CE_BATCH})
    assert r.status_code == 200
    pattern = {"data": {"amount": [{"numeric": [">=", 300]}], "customer": {"tier": ["gold"]}}}
    r = server.post("/v1/patterns/backtest", json={"topic": "orders", "pattern": pattern,
                                                    "samples": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = [e for e in events if e["data"]["amount"] >= 300 and
                e["data"]["customer"]["tier"] == "gold"]
    assert body["scanned"] == 50
    assert body["matched"] == len(expected)
    assert len(body["samples"]) == 3
    for s in body["samples"]:
        assert s["event"]["data"]["amount"] >= 300

    later = server.post("/v1/patterns/backtest", json={"topic": "orders", "pattern": pattern,
                                                        "from": "2099-01-01T00:00:00Z"}).json()
    assert later["scanned"] == 0 and later["matched"] == 0
    assert server.post("/v1/patterns/backtest",
                       json={"topic": "nope", "pattern": pattern}).status_code == 404


def test_cli_pattern_test_exit_codes(server, tmp_path):
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps(order(1, 500)))
    r = server.cli("pattern", "test", "--pattern", '{"data":{"amount":[{"numeric":[">",100]}]}}',
                   "--event", f"@{ev}")
    assert r.returncode == 0, r.stderr
    r = server.cli("pattern", "test", "--pattern", '{"data":{"amount":[1]}}', "--event", f"@{ev}",
                   "--explain")
    assert r.returncode == 1
    assert "$.data.amount" in r.stdout
    r = server.cli("pattern", "test", "--pattern", '{"data":', "--event", f"@{ev}")
    assert r.returncode == 2
