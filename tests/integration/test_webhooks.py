"""Webhooks: deliveries signed by Stripe's own library (the `stripe` npm package), GitHub's
and generic HMAC schemes; bad signatures, stale timestamps and replays refused; topic
targets (a CloudEvent per delivery, durable before the 200) and function targets (a
Stripe-style handler behind an API Gateway proxy event); replay detection across restarts;
the CLI."""
import hashlib
import hmac
import json

from conftest import deploy, write_code
from http_sources_util import now, stripe_header

SECRET = "whsec_eddy_test_secret"


def stripe_event(evt_id="evt_1", type_="payment_intent.succeeded"):
    return json.dumps({"id": evt_id, "object": "event", "type": type_,
                       "data": {"object": {"id": "pi_1", "amount": 4200}}})


def put_hook(s, name, **spec):
    r = s.put(f"/v1/webhooks/{name}", json=spec)
    assert r.status_code in (200, 201), r.text
    return r.json()


def events(s, topic):
    r = s.get(f"/v1/topics/{topic}/events?offset=0&limit=100")
    assert r.status_code == 200, r.text
    return [e["event"] for e in r.json()["events"]]


def deliver(s, name, payload, headers):
    return s.post(f"/hooks/{name}", data=payload.encode(),
                  headers={"Content-Type": "application/json", **headers})


def test_stripe_delivery_is_published_as_a_cloudevent(fserver):
    s = fserver()
    desc = put_hook(s, "stripe", verify={"scheme": "stripe", "secret": SECRET},
                    target={"topic": "payments"})
    assert desc["verify"]["secrets"] == ["<redacted>"] and desc["url"] == "/hooks/stripe"
    payload = stripe_event()
    r = deliver(s, "stripe", payload, {"Stripe-Signature": stripe_header(payload, SECRET)})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "evt_1" and r.json()["topic"] == "payments"
    [ev] = events(s, "payments")
    assert ev["id"] == "evt_1"
    assert ev["type"] == "payment_intent.succeeded"
    assert ev["source"] == "/hooks/stripe"
    assert ev["datacontenttype"] == "application/json"
    assert ev["data"] == json.loads(payload)


def test_bad_missing_and_stale_signatures_are_refused_and_nothing_is_published(fserver):
    s = fserver()
    put_hook(s, "stripe", verify={"scheme": "stripe", "secret": SECRET}, target={"topic": "payments"})
    payload = stripe_event()
    cases = {
        "wrong secret": stripe_header(payload, "whsec_wrong"),
        "tampered": stripe_header(payload.replace("4200", "4201"), SECRET),
        "stale": stripe_header(payload, SECRET, timestamp=now() - 301 - 5),
        "future": stripe_header(payload, SECRET, timestamp=now() + 600),
        "garbage": "t=abc,v1=zz",
    }
    for what, header in cases.items():
        r = deliver(s, "stripe", payload, {"Stripe-Signature": header})
        assert r.status_code == 401, what
        assert r.json()["error"]["code"] == "unauthorized", what
    r = deliver(s, "stripe", payload, {})
    assert r.status_code == 401 and "Stripe-Signature" in r.json()["error"]["message"]
    assert events(s, "payments") == []
    # Within the tolerance is fine.
    r = deliver(s, "stripe", payload, {"Stripe-Signature": stripe_header(payload, SECRET, timestamp=now() - 200)})
    assert r.status_code == 200
    assert len(events(s, "payments")) == 1


def test_replays_are_answered_but_published_once_even_after_a_restart(fserver):
    s = fserver()
    put_hook(s, "stripe", verify={"scheme": "stripe", "secret": SECRET}, target={"topic": "payments"})
    payload = stripe_event("evt_replay")
    header = stripe_header(payload, SECRET)
    assert deliver(s, "stripe", payload, {"Stripe-Signature": header}).status_code == 200
    r = deliver(s, "stripe", payload, {"Stripe-Signature": header})
    assert r.status_code == 200 and r.json() == {"id": "evt_replay", "duplicate": True}
    # Stripe retries the same event with a fresh signature: still the same event.
    r = deliver(s, "stripe", payload, {"Stripe-Signature": stripe_header(payload, SECRET)})
    assert r.json().get("duplicate") is True
    assert [e["id"] for e in events(s, "payments")] == ["evt_replay"]
    s.stop()
    s.start()
    r = deliver(s, "stripe", payload, {"Stripe-Signature": header})
    assert r.status_code == 200 and r.json().get("duplicate") is True
    other = stripe_event("evt_other")
    assert deliver(s, "stripe", other, {"Stripe-Signature": stripe_header(other, SECRET)}).json()["id"] == "evt_other"
    assert [e["id"] for e in events(s, "payments")] == ["evt_replay", "evt_other"]


def test_stripe_secret_rotation(fserver):
    s = fserver()
    put_hook(s, "stripe", verify={"scheme": "stripe", "secrets": ["whsec_new"]}, target={"topic": "t"})
    payload = stripe_event("evt_rot")
    ts = now()
    old = stripe_header(payload, "whsec_old", timestamp=ts)
    new = stripe_header(payload, "whsec_new", timestamp=ts)
    # While rolling a secret Stripe signs with both: t=..,v1=<old>,v1=<new>.
    both = old + "," + new.split(",", 1)[1]
    assert deliver(s, "stripe", payload, {"Stripe-Signature": both}).status_code == 200
    assert deliver(s, "stripe", stripe_event("evt_x"),
                   {"Stripe-Signature": stripe_header(stripe_event("evt_x"), "whsec_old")}).status_code == 401


def test_github_delivery(fserver):
    s = fserver()
    put_hook(s, "gh", verify={"scheme": "github", "secret": "gh-secret"}, target={"topic": "repo"})
    payload = json.dumps({"ref": "refs/heads/main", "commits": []})
    sig = "sha256=" + hmac.new(b"gh-secret", payload.encode(), hashlib.sha256).hexdigest()
    h = {"X-Hub-Signature-256": sig, "X-GitHub-Event": "push",
         "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    assert deliver(s, "gh", payload, h).status_code == 200
    assert deliver(s, "gh", payload, h).json().get("duplicate") is True
    bad = {**h, "X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Delivery": "other"}
    assert deliver(s, "gh", payload, bad).status_code == 401
    [ev] = events(s, "repo")
    assert ev["type"] == "push" and ev["id"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert ev["data"]["ref"] == "refs/heads/main"


def test_generic_hmac_with_timestamp_and_id_headers(fserver):
    s = fserver()
    put_hook(s, "generic", verify={"scheme": "hmac", "secret": "k", "header": "X-Signature",
                                   "prefix": "sha256=", "timestamp_header": "X-Timestamp",
                                   "id_header": "X-Delivery", "tolerance_s": 60},
             target={"topic": "generic"})
    body = "binary\x00ish"
    ts = str(now())
    sig = hmac.new(b"k", f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    h = {"X-Signature": "sha256=" + sig, "X-Timestamp": ts, "X-Delivery": "d-1",
         "Content-Type": "application/octet-stream"}
    r = s.post("/hooks/generic", data=body.encode(), headers=h)
    assert r.status_code == 200, r.text
    [ev] = events(s, "generic")
    assert ev["id"] == "d-1" and ev["type"] == "eddy.webhook" and "data_base64" in ev
    stale = str(now() - 120)
    sig = hmac.new(b"k", f"{stale}.{body}".encode(), hashlib.sha256).hexdigest()
    r = s.post("/hooks/generic", data=body.encode(),
               headers={**h, "X-Signature": "sha256=" + sig, "X-Timestamp": stale, "X-Delivery": "d-2"})
    assert r.status_code == 401
    assert len(events(s, "generic")) == 1


STRIPE_HANDLER = {"index.js": """
    exports.handler = async (event) => {
      const body = JSON.parse(event.body);
      if (body.type !== 'payment_intent.succeeded') {
        return { statusCode: 400, body: JSON.stringify({ error: 'unexpected ' + body.type }) };
      }
      return { statusCode: 200, headers: { 'content-type': 'application/json' },
               body: JSON.stringify({ received: true, id: body.id,
                                      amount: body.data.object.amount,
                                      signed: !!event.headers['stripe-signature'] }) };
    };
"""}


def test_stripe_style_function_handler(fserver, workdir):
    s = fserver()
    deploy(s, "stripe-handler", "nodejs", write_code(workdir, "stripe", STRIPE_HANDLER), "index.handler")
    put_hook(s, "pay", verify={"scheme": "stripe", "secret": SECRET}, target={"function": "stripe-handler"})
    payload = stripe_event("evt_fn")
    r = deliver(s, "pay", payload, {"Stripe-Signature": stripe_header(payload, SECRET)})
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "id": "evt_fn", "amount": 4200, "signed": True}
    # The handler's own refusal is passed through, and a refused event is not remembered.
    other = stripe_event("evt_wrong", "charge.refunded")
    r = deliver(s, "pay", other, {"Stripe-Signature": stripe_header(other, SECRET)})
    assert r.status_code == 400 and "charge.refunded" in r.json()["error"]
    r = deliver(s, "pay", other, {"Stripe-Signature": stripe_header(other, SECRET)})
    assert r.status_code == 400
    # An accepted one is not handed to the function twice.
    r = deliver(s, "pay", payload, {"Stripe-Signature": stripe_header(payload, SECRET)})
    assert r.json() == {"id": "evt_fn", "duplicate": True}
    # A bad signature never reaches the function.
    r = deliver(s, "pay", stripe_event("evt_bad"), {"Stripe-Signature": stripe_header(payload, "whsec_no")})
    assert r.status_code == 401
    invocations = s.get("/v1/functions/stripe-handler/invocations").json()["invocations"]
    assert len(invocations) == 3


def test_webhook_admin_api_and_cli(fserver):
    s = fserver()
    r = s.put("/v1/webhooks/nosig", json={"target": {"topic": "x"}})
    assert r.status_code == 400 and "verify" in r.json()["error"]["message"]
    r = s.put("/v1/webhooks/bad", json={"verify": {"scheme": "stripe", "secret": "s"}, "target": {"queue": "x"}})
    assert r.status_code == 400
    out = s.cli("webhook", "put", "cli-hook", "--scheme", "github", "--secret", "abc", "--topic", "gh-events")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["target"] == {"topic": "gh-events"}
    assert s.get("/v1/topics/gh-events").status_code == 200  # created as a target
    names = [h["name"] for h in json.loads(s.cli("webhook", "list").stdout)["webhooks"]]
    assert names == ["cli-hook"]
    assert json.loads(s.cli("webhook", "get", "cli-hook").stdout)["verify"]["scheme"] == "github"
    assert s.post("/hooks/missing", data=b"{}").status_code == 404
    assert s.get("/hooks/cli-hook").status_code == 405
    assert s.cli("webhook", "delete", "cli-hook").returncode == 0
    assert s.post("/hooks/cli-hook", data=b"{}").status_code == 404
