"""Filters and transforms of subscriptions against the real server: many filtered
subscriptions on one topic (the topic's compiled matcher), changing one never disturbs the
others, and transforms delivered through pull, URL, topic and function targets."""
import json

from conftest import deploy, wait_for, write_code
from test_subscriptions import Endpoint, create_sub, publish, pull, pull_until, read_topic


def colored(n, prefix, colors=("red", "blue", "green")):
    return [{"specversion": "1.0", "id": f"{prefix}-{i}", "source": "/shop", "type": "paint",
             "data": {"color": colors[i % len(colors)], "n": i * 10}} for i in range(n)]


def ids(server, name, count):
    return sorted(m["event"]["id"] for m in pull_until(server, name, count))


def nothing_more(server, name):
    assert pull(server, name, 100, 200) == []


def test_many_filters_on_one_topic_each_get_their_own_events(server):
    server.put("/v1/topics/t", json={"partitions": 2})
    create_sub(server, "red", topic="t", filter={"data": {"color": ["red"]}})
    create_sub(server, "big", topic="t", filter={"data": {"n": [{"numeric": [">=", 50]}]}})
    create_sub(server, "red-or-small", topic="t",
               filter={"$or": [{"data": {"color": ["red"]}}, {"data": {"n": [{"numeric": ["<", 20]}]}}]})
    create_sub(server, "all", topic="t")
    publish(server, "t", colored(9, "a"))  # n = 0..80; red at 0, 3, 6
    assert ids(server, "red", 3) == ["a-0", "a-3", "a-6"]
    assert ids(server, "big", 4) == ["a-5", "a-6", "a-7", "a-8"]
    assert ids(server, "red-or-small", 4) == ["a-0", "a-1", "a-3", "a-6"]
    assert len(ids(server, "all", 9)) == 9
    for name in ("red", "big", "red-or-small", "all"):
        nothing_more(server, name)


def test_adding_updating_and_deleting_a_filter_leaves_the_others_alone(server):
    server.put("/v1/topics/t", json={"partitions": 2})
    create_sub(server, "red", topic="t", filter={"data": {"color": ["red"]}})
    create_sub(server, "blue", topic="t", filter={"data": {"color": ["blue"]}})
    create_sub(server, "big", topic="t", filter={"data": {"n": [{"numeric": [">=", 50]}]}})
    publish(server, "t", colored(6, "a"))
    assert ids(server, "red", 2) == ["a-0", "a-3"]
    assert ids(server, "big", 1) == ["a-5"]

    # Update one filter, delete another, add a third with the same pattern as a survivor.
    create_sub(server, "big", expect=200, topic="t", filter={"data": {"n": [{"numeric": ["<", 20]}]}})
    assert server.delete("/v1/subscriptions/blue").status_code == 204
    create_sub(server, "red-too", topic="t", filter={"data": {"color": ["red"]}})
    got = server.get("/v1/subscriptions/big").json()
    assert got["filter"] == {"data": {"n": [{"numeric": ["<", 20]}]}}

    publish(server, "t", colored(6, "b"))  # n = 0..50; red at 0, 3
    assert ids(server, "red", 2) == ["b-0", "b-3"]
    assert ids(server, "red-too", 2) == ["b-0", "b-3"]
    # Events are filtered when read: the new filter of `big` applies from here on.
    assert ids(server, "big", 2) == ["b-0", "b-1"]
    for name in ("red", "red-too", "big"):
        nothing_more(server, name)

    # Removing the filter delivers every later event; a deleted subscription's filter is gone
    # for good and a new one by its name starts afresh.
    create_sub(server, "red-too", expect=200, topic="t")
    create_sub(server, "blue", topic="t", filter={"data": {"color": ["blue"]}})
    publish(server, "t", colored(3, "c"))
    assert ids(server, "red-too", 3) == ["c-0", "c-1", "c-2"]
    assert ids(server, "blue", 1) == ["c-1"]
    assert ids(server, "red", 1) == ["c-0"]


def test_filters_survive_a_restart(make_server):
    server = make_server().start()
    server.put("/v1/topics/t", json={})
    create_sub(server, "red", topic="t", filter={"data": {"color": ["red"]}})
    create_sub(server, "blue", topic="t", filter={"data": {"color": ["blue"]}})
    server.stop()
    server.start()
    publish(server, "t", colored(3, "a"))
    assert ids(server, "red", 1) == ["a-0"]
    assert ids(server, "blue", 1) == ["a-1"]
    nothing_more(server, "red")


# --- transforms ----------------------------------------------------------------------------

ORDER = {"specversion": "1.0", "id": "o-1", "source": "/shop", "type": "order.created",
         "data": {"order": {"id": "A7", "total": 12.5, "items": [{"sku": "x"}, {"sku": "y"}]},
                  "customer": "ann"}}
TEMPLATE = {"input_paths": {"id": "$.data.order.id", "who": "$.data.customer",
                            "total": "$.data.order.total", "kind": "$.type"},
            "input_template": '{"order": <id>, "text": "<who> paid <total>", "kind": <kind>}'}
TEMPLATE_OUT = {"order": "A7", "text": "ann paid 12.5", "kind": "order.created"}


def test_pull_delivers_the_transformed_event(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "sel", topic="t", transform={"select": "$.data.order"})
    create_sub(server, "tpl", topic="t", transform=TEMPLATE)
    create_sub(server, "text", topic="t",
               transform={"input_paths": {"who": "$.data.customer"}, "input_template": "hello <who>"})
    create_sub(server, "missing", topic="t", transform={"select": "$.data.nope"})
    create_sub(server, "plain", topic="t")
    publish(server, "t", [ORDER])
    assert pull_until(server, "sel", 1)[0]["event"] == ORDER["data"]["order"]
    assert pull_until(server, "tpl", 1)[0]["event"] == TEMPLATE_OUT
    assert pull_until(server, "text", 1)[0]["event"] == "hello ann"
    assert pull_until(server, "missing", 1)[0]["event"] is None
    assert pull_until(server, "plain", 1)[0]["event"]["data"] == ORDER["data"]
    assert server.get("/v1/subscriptions/tpl").json()["transform"] == TEMPLATE


def test_transform_and_filter_together(server):
    server.put("/v1/topics/t", json={})
    create_sub(server, "s", topic="t", filter={"data": {"color": ["red"]}},
               transform={"select": "$.data.n"})
    publish(server, "t", colored(6, "a"))
    assert sorted(m["event"] for m in pull_until(server, "s", 2)) == [0, 30]
    nothing_more(server, "s")


def test_a_bad_transform_is_refused_and_changes_nothing(server):
    server.put("/v1/topics/t", json={})

    def refused(transform, mentions):
        r = server.put("/v1/subscriptions/s", json={"topic": "t", "transform": transform})
        assert r.status_code == 400, r.text
        err = r.json()["error"]
        assert err["code"] == "invalid_argument"
        assert mentions in err["message"], err["message"]

    refused({"select": "data.id"}, 'transform.select: "data.id" is not a path')
    refused({"input_paths": {"a": "$.x["}, "input_template": "<a>"}, "transform.input_paths.a")
    refused({"input_template": '{"a": <a>'}, "transform.input_template")
    refused({"selekt": "$.a"}, "transform.selekt: unknown member")
    refused("$.data", "transform: must be an object")
    assert server.get("/v1/subscriptions/s").status_code == 404

    create_sub(server, "s", topic="t", transform={"select": "$.id"})
    refused({"select": "nope"}, "is not a path")
    assert server.get("/v1/subscriptions/s").json()["transform"] == {"select": "$.id"}
    publish(server, "t", [ORDER])
    assert pull_until(server, "s", 1)[0]["event"] == "o-1"


def test_push_to_a_url_sends_the_transform_as_the_body(server):
    endpoint = Endpoint()
    try:
        server.put("/v1/topics/t", json={})
        create_sub(server, "json", topic="t", target={"url": endpoint.url}, transform=TEMPLATE)
        publish(server, "t", [ORDER])
        wait_for(lambda: endpoint.count() == 1, what="the push")
        _, headers, body = endpoint.received()[0]
        assert json.loads(body) == TEMPLATE_OUT
        assert headers["content-type"] == "application/json"
        # The CloudEvent's attributes still travel as ce-* headers.
        assert headers["ce-id"] == "o-1" and headers["ce-type"] == "order.created"
        assert server.delete("/v1/subscriptions/json").status_code == 204

        create_sub(server, "text", topic="t", target={"url": endpoint.url},
                   transform={"input_paths": {"who": "$.data.customer"},
                              "input_template": "<who> placed an order"})
        publish(server, "t", [dict(ORDER, id="o-2")])
        wait_for(lambda: endpoint.count() == 2, what="the second push")
        _, headers, body = endpoint.received()[1]
        assert body == b"ann placed an order"
        assert headers["content-type"].startswith("text/plain")
    finally:
        endpoint.close()


def test_push_to_a_topic_forwards_the_transform_as_data(server):
    server.put("/v1/topics/in", json={})
    create_sub(server, "fwd", topic="in", target={"topic": "out"}, transform=TEMPLATE)
    create_sub(server, "fwd-text", topic="in", target={"topic": "out-text"},
               transform={"input_paths": {"who": "$.data.customer"}, "input_template": "hi <who>"})
    publish(server, "in", [ORDER])
    out = wait_for(lambda: read_topic(server, "out"), what="the forwarded event")
    assert out[0]["id"] == "o-1" and out[0]["eddyhops"] == 1
    assert out[0]["data"] == TEMPLATE_OUT and out[0]["datacontenttype"] == "application/json"
    text = wait_for(lambda: read_topic(server, "out-text"), what="the forwarded text")
    assert text[0]["data"] == "hi ann" and text[0]["datacontenttype"].startswith("text/plain")
    # Numbers keep their plain form in the forwarded data (12.5, not 1.25E1).
    create_sub(server, "fwd-sel", topic="in", start="earliest", target={"topic": "out-sel"},
               transform={"select": "$.data.order"})
    wait_for(lambda: read_topic(server, "out-sel"), what="the forwarded selection")
    raw = server.get("/v1/topics/out-sel/events?partition=0&offset=0&limit=1").text
    assert '"total":12.5' in raw, raw


def test_function_target_receives_the_transform(server, workdir):
    code = write_code(workdir, "handler", {"app.py": """
        import json
        def handler(event, context):
            print('EVENT ' + json.dumps(event, sort_keys=True))
            return event
        """})
    deploy(server, "handler", "python", code, handler="app.handler")
    server.put("/v1/topics/t", json={})
    create_sub(server, "f", topic="t", target={"function": "handler"}, transform=TEMPLATE)
    publish(server, "t", [ORDER])

    def logged():
        logs = server.get("/v1/functions/handler/logs").json()["logs"]
        return [l["message"] for l in logs if "EVENT " in l["message"]]
    line = wait_for(logged, timeout=30, what="the function's log")[0]
    assert json.loads(line.split("EVENT ", 1)[1]) == TEMPLATE_OUT
