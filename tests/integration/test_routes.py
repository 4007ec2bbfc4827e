"""User HTTP routes: both API Gateway payload formats against Node and Python handlers
(path parameters, query strings, repeated headers, cookies, binary bodies, base64 replies),
route matching (most specific wins, 404, 405), function errors and timeouts, CORS, API keys,
JWT (HS256, RS256), async routes, size limits, the CLI and restarts."""
import json
import subprocess

import pytest

from conftest import deploy, wait_for, write_code
from http_sources_util import header_values, jwt_hs256, jwt_rs256, now, put_route, raw

NODE_ECHO = {"index.js": """
    exports.handler = async (event) => {
      const path = event.version === '2.0' ? event.rawPath : event.path;
      if (path.endsWith('/binary')) {
        const got = Buffer.from(event.body || '', event.isBase64Encoded ? 'base64' : 'utf8');
        return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' },
                 isBase64Encoded: true,
                 body: Buffer.concat([Buffer.from([0xff, 0x00]), got]).toString('base64') };
      }
      if (path.endsWith('/cookies')) {
        if (event.version === '2.0') return { statusCode: 200, cookies: ['a=1; Path=/', 'b=2'], body: 'ok' };
        return { statusCode: 200, multiValueHeaders: { 'Set-Cookie': ['a=1; Path=/', 'b=2'] }, body: 'ok' };
      }
      if (path.endsWith('/plain')) return { plain: 'object', n: 1, price: 9.99 };
      if (path.endsWith('/numbers')) return { statusCode: 200, headers: { 'x-ratio': 0.5 }, body: 'ok' };
      if (path.endsWith('/fail')) throw new Error('boom');
      if (path.endsWith('/slow')) { await new Promise(r => setTimeout(r, 3000)); return { statusCode: 200 }; }
      if (path.endsWith('/malformed')) return { body: 'no status code' };
      return { statusCode: 201, headers: { 'content-type': 'application/json', 'x-handler': 'node' },
               body: JSON.stringify({ event }) };
    };
"""}

PY_ECHO = {"app.py": """
    import asyncio, base64, json, time

    def handler(event, context):
        path = event["rawPath"] if event.get("version") == "2.0" else event["path"]
        if path.endswith("/binary"):
            got = base64.b64decode(event["body"]) if event["isBase64Encoded"] else (event.get("body") or "").encode()
            return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                    "isBase64Encoded": True, "body": base64.b64encode(b"\\xff\\x00" + got).decode()}
        if path.endswith("/cookies"):
            if event.get("version") == "2.0":
                return {"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "body": "ok"}
            return {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2"]}, "body": "ok"}
        if path.endswith("/plain"):
            return {"plain": "object", "n": 1, "price": 9.99}
        if path.endswith("/numbers"):
            return {"statusCode": 200, "headers": {"x-ratio": 0.5}, "body": "ok"}
        if path.endswith("/fail"):
            raise RuntimeError("boom")
        if path.endswith("/slow"):
            time.sleep(3)
            return {"statusCode": 200}
        if path.endswith("/malformed"):
            return {"body": "no status code"}
        return {"statusCode": 201, "headers": {"content-type": "application/json", "x-handler": "python"},
                "body": json.dumps({"event": event})}
"""}

RUNTIMES = {"nodejs": (NODE_ECHO, "index.handler"), "python": (PY_ECHO, "app.handler")}


def setup_echo(s, workdir, runtime, version, **fn_fields):
    code, handler = RUNTIMES[runtime]
    deploy(s, "echo", runtime, write_code(workdir, f"echo-{runtime}", code), handler, **fn_fields)
    put_route(s, "items", method="ANY", path="/shop/{shop}/items/{id}", function="echo",
              payload_version=version)
    put_route(s, "files", method="ANY", path="/files/{proxy+}", function="echo",
              payload_version=version)


REQUEST_HEADERS = [("X-Multi", "one"), ("x-multi", "two"), ("Cookie", "c1=v1; c2=v2"),
                   ("Cookie", "c3=v3"), ("Content-Type", "application/json"),
                   ("User-Agent", "eddy-test")]
REQUEST_PATH = "/shop/main%20st/items/42?a=1&a=2&b=x%20y&empty"


@pytest.mark.parametrize("runtime", ["nodejs", "python"])
def test_payload_2_0_reaches_the_handler(fserver, workdir, runtime):
    s = fserver()
    setup_echo(s, workdir, runtime, "2.0")
    status, headers, body = raw(s, "POST", REQUEST_PATH, REQUEST_HEADERS, b'{"order":7}')
    assert status == 201, body
    assert header_values(headers, "x-handler") == [("node" if runtime == "nodejs" else "python")]
    e = json.loads(body)["event"]
    assert e["version"] == "2.0"
    assert e["routeKey"] == "ANY /shop/{shop}/items/{id}"
    assert e["rawPath"] == "/shop/main%20st/items/42"
    assert e["rawQueryString"] == "a=1&a=2&b=x%20y&empty"
    assert e["queryStringParameters"] == {"a": "1,2", "b": "x y", "empty": ""}
    assert e["pathParameters"] == {"shop": "main st", "id": "42"}
    assert e["headers"]["x-multi"] == "one,two"
    assert "cookie" not in e["headers"]
    assert e["cookies"] == ["c1=v1", "c2=v2", "c3=v3"]
    assert e["headers"]["user-agent"] == "eddy-test"
    assert all(k == k.lower() for k in e["headers"])
    http = e["requestContext"]["http"]
    assert http["method"] == "POST" and http["path"] == "/shop/main%20st/items/42"
    assert http["sourceIp"] == "127.0.0.1" and http["userAgent"] == "eddy-test"
    assert e["requestContext"]["routeKey"] == "ANY /shop/{shop}/items/{id}"
    assert abs(e["requestContext"]["timeEpoch"] / 1000 - now()) < 60
    assert e["body"] == '{"order":7}' and e["isBase64Encoded"] is False


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_source_ip_is_the_clients_address(fserver, workdir, version):
    s = fserver()
    setup_echo(s, workdir, "nodejs", version)
    # Every 127.x address reaches the loopback listener: the event names the one used, not
    # the listener's nor a client-supplied X-Forwarded-For.
    status, _, body = raw(s, "GET", "/files/x", [("X-Forwarded-For", "203.0.113.9")],
                          source="127.0.0.7")
    assert status == 201, body
    rc = json.loads(body)["event"]["requestContext"]
    assert (rc["http"] if version == "2.0" else rc["identity"])["sourceIp"] == "127.0.0.7"


@pytest.mark.parametrize("runtime", ["nodejs", "python"])
def test_payload_1_0_reaches_the_handler(fserver, workdir, runtime):
    s = fserver()
    setup_echo(s, workdir, runtime, "1.0")
    status, _, body = raw(s, "PUT", REQUEST_PATH, REQUEST_HEADERS, b"plain text")
    assert status == 201, body
    e = json.loads(body)["event"]
    assert e["resource"] == "/shop/{shop}/items/{id}"
    assert e["path"] == "/shop/main%20st/items/42"
    assert e["httpMethod"] == "PUT"
    assert e["headers"]["X-Multi"] == "two"
    assert e["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert e["multiValueHeaders"]["Cookie"] == ["c1=v1; c2=v2", "c3=v3"]
    assert e["queryStringParameters"] == {"a": "2", "b": "x y", "empty": ""}
    assert e["multiValueQueryStringParameters"]["a"] == ["1", "2"]
    assert e["pathParameters"] == {"shop": "main st", "id": "42"}
    assert e["requestContext"]["resourcePath"] == "/shop/{shop}/items/{id}"
    assert e["requestContext"]["httpMethod"] == "PUT"
    assert e["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert e["body"] == "plain text" and e["isBase64Encoded"] is False
    # Absent parts are null in 1.0.
    status, _, body = raw(s, "GET", "/files/x")
    e = json.loads(body)["event"]
    assert e["queryStringParameters"] is None and e["body"] is None
    assert e["pathParameters"] == {"proxy": "x"}


@pytest.mark.parametrize("runtime", ["nodejs", "python"])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_binary_bodies_and_base64_replies(fserver, workdir, runtime, version):
    s = fserver()
    setup_echo(s, workdir, runtime, version)
    payload = bytes(range(256))
    status, headers, body = raw(s, "POST", "/files/a/b/binary", [("Content-Type", "image/png")], payload)
    assert status == 200, body
    assert header_values(headers, "content-type") == ["application/octet-stream"]
    assert body == b"\xff\x00" + payload


@pytest.mark.parametrize("runtime", ["nodejs", "python"])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_reply_cookies_become_set_cookie_headers(fserver, workdir, runtime, version):
    s = fserver()
    setup_echo(s, workdir, runtime, version)
    status, headers, body = raw(s, "GET", "/files/cookies")
    assert status == 200 and body == b"ok"
    assert header_values(headers, "set-cookie") == ["a=1; Path=/", "b=2"]


@pytest.mark.parametrize("runtime", ["nodejs", "python"])
def test_greedy_path_and_shapeless_2_0_replies(fserver, workdir, runtime):
    s = fserver()
    setup_echo(s, workdir, runtime, "2.0")
    r = s.get("/files/deep/er/path?x=1")
    assert r.status_code == 201
    assert r.json()["event"]["pathParameters"] == {"proxy": "deep/er/path"}
    r = s.get("/files/plain")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"plain": "object", "n": 1, "price": 9.99}
    assert "9.99" in r.text and "E0" not in r.text, r.text
    r = s.get("/files/numbers")
    assert r.status_code == 200 and r.headers["x-ratio"] == "0.5"


def test_function_errors_timeouts_and_malformed_replies(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "1.0", timeout_ms=1000)
    r = s.get("/files/fail")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "function_error"
    assert "Error" in r.json()["error"]["message"]
    r = s.get("/files/slow")
    assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"
    r = s.get("/files/malformed")  # 1.0 needs statusCode
    assert r.status_code == 502 and r.json()["error"]["code"] == "bad_reply"
    put_route(s, "ghost", path="/ghost", function="nope")
    r = s.get("/ghost")
    assert r.status_code == 502 and r.json()["error"]["code"] == "function_not_found"


def test_most_specific_route_wins_and_404_405(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "which", {"index.js": """
        exports.handler = async (event, context) => ({ statusCode: 200,
            body: JSON.stringify({ fn: context.functionName, route: event.routeKey,
                                   params: event.pathParameters || null }) });
    """})
    for name in ("literal", "param", "greedy", "anyfn"):
        deploy(s, name, "nodejs", code, "index.handler")
    put_route(s, "r1", method="GET", path="/orders/{proxy+}", function="greedy")
    put_route(s, "r2", method="GET", path="/orders/{id}", function="param")
    put_route(s, "r3", method="GET", path="/orders/latest", function="literal")
    put_route(s, "r4", method="ANY", path="/things", function="anyfn")
    put_route(s, "r5", method="DELETE", path="/orders/{id}", function="param")
    assert s.get("/orders/latest").json()["fn"] == "literal"
    r = s.get("/orders/7").json()
    assert r["fn"] == "param" and r["params"] == {"id": "7"} and r["route"] == "GET /orders/{id}"
    assert s.get("/orders/7/lines/2").json()["fn"] == "greedy"
    assert s.request("PATCH", "/things").json()["fn"] == "anyfn"
    r = s.post("/orders/7")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET"
    assert r.json()["error"]["code"] == "method_not_allowed"
    r = s.get("/nowhere/at/all")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "/nowhere/at/all" in r.json()["error"]["message"]
    # eddy's own paths are never routes.
    assert s.get("/healthz").json() == {"status": "ok"}
    r = s.put("/v1/routes/bad", json={"path": "/v1/things", "function": "x"})
    assert r.status_code == 400
    r = s.put("/v1/routes/dup", json={"method": "GET", "path": "/orders/{other}", "function": "x"})
    assert r.status_code == 409 and "r2" in r.json()["error"]["message"]
    # Deleting a route stops serving it.
    assert s.delete("/v1/routes/r3").status_code == 204
    assert s.get("/orders/latest").json()["fn"] == "param"
    assert s.get("/v1/routes/r3").status_code == 404


def test_cors_preflight_and_response_headers(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "2.0")
    put_route(s, "cors", method="POST", path="/api/{x}", function="echo",
              cors={"allow_origins": ["https://app.example"], "allow_headers": ["content-type"],
                    "allow_methods": ["POST"], "max_age": 300, "expose_headers": ["x-handler"]})
    r = s.request("OPTIONS", "/api/1", headers={"Origin": "https://app.example",
                                                "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "Content-Type"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["access-control-allow-methods"] == "POST"
    assert r.headers["access-control-allow-headers"] == "content-type"
    assert r.headers["access-control-max-age"] == "300"
    # Another origin gets no CORS headers: the browser refuses.
    r = s.request("OPTIONS", "/api/1", headers={"Origin": "https://evil.example",
                                                "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204 and "access-control-allow-origin" not in r.headers
    r = s.post("/api/1", json={}, headers={"Origin": "https://app.example"})
    assert r.status_code == 201
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["access-control-expose-headers"] == "x-handler"


def test_api_key_auth(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "1.0")
    put_route(s, "keyed", method="GET", path="/keyed", function="echo",
              auth={"type": "api_key", "keys": ["key-aaaa-1111", "key-bbbb-2222"]}, payload_version="1.0")
    r = s.get("/keyed")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert s.get("/keyed", headers={"x-api-key": "key-aaaa-111"}).status_code == 401
    r = s.get("/keyed", headers={"x-api-key": "key-bbbb-2222"})
    assert r.status_code == 201
    assert r.json()["event"]["requestContext"]["identity"]["apiKey"] == "key-bbbb-2222"
    # Keys are never shown back.
    assert s.get("/v1/routes/keyed").json()["auth"]["keys"] == ["<redacted>", "<redacted>"]


def test_jwt_hs256_auth(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "2.0")
    put_route(s, "jwt", method="GET", path="/me", function="echo",
              auth={"type": "jwt", "algorithm": "HS256", "secret": "topsecret",
                    "issuer": "https://issuer.example", "audience": "eddy-api"})
    good = {"sub": "user-1", "iss": "https://issuer.example", "aud": "eddy-api",
            "exp": now() + 300, "scope": "read write"}
    r = s.get("/me", headers={"Authorization": "Bearer " + jwt_hs256(good, "topsecret")})
    assert r.status_code == 201, r.text
    jwt = r.json()["event"]["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "user-1" and jwt["scopes"] == ["read", "write"]
    for bad in [jwt_hs256(good, "wrong"), jwt_hs256({**good, "exp": now() - 10}, "topsecret"),
                jwt_hs256({**good, "aud": "other"}, "topsecret"),
                jwt_hs256({**good, "iss": "https://evil"}, "topsecret"),
                jwt_hs256(good, "topsecret", alg="none")]:
        r = s.get("/me", headers={"Authorization": "Bearer " + bad})
        assert r.status_code == 401, bad
        assert r.headers["www-authenticate"] == "Bearer"
    assert s.get("/me").status_code == 401


def test_jwt_rs256_auth(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "python", "1.0")
    key = workdir / "key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(key)], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True,
                         capture_output=True, text=True).stdout
    put_route(s, "rs", method="GET", path="/svc", function="echo", payload_version="1.0",
              auth={"type": "jwt", "algorithm": "RS256", "public_key": pub})
    token = jwt_rs256({"sub": "svc-1", "exp": now() + 60}, key)
    r = s.get("/svc", headers={"Authorization": "Bearer " + token})
    assert r.status_code == 201, r.text
    assert r.json()["event"]["requestContext"]["authorizer"]["claims"]["sub"] == "svc-1"
    # An HS256 token made with the public key as its secret (key confusion) is refused.
    assert s.get("/svc", headers={"Authorization": "Bearer " + jwt_hs256({"sub": "x", "exp": now() + 60}, pub)}).status_code == 401


def test_async_route_answers_202_and_runs_later(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "2.0")
    put_route(s, "later", method="POST", path="/later", function="echo", **{"async": True})
    r = s.post("/later", json={"n": 1})
    assert r.status_code == 202, r.text
    rid = r.json()["request_id"]

    def ran():
        inv = s.get("/v1/functions/echo/invocations").json()["invocations"]
        return [i for i in inv if i["request_id"] == rid and i["status"] == "success"]
    wait_for(ran, timeout=20, what="the async invocation")


def test_route_body_limit(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "2.0")
    put_route(s, "small", method="POST", path="/small", function="echo", max_body_bytes=10)
    assert s.post("/small", data=b"0123456789").status_code == 201
    r = s.post("/small", data=b"0123456789x")
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_routes_cli_and_restart(fserver, workdir):
    s = fserver()
    setup_echo(s, workdir, "nodejs", "2.0")
    out = s.cli("route", "put", "cli-route", "--method", "GET", "--path", "/cli/{x}", "--function",
                "echo", "--payload-version", "1.0", "--cors")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["payload_version"] == "1.0"
    listed = json.loads(s.cli("route", "list").stdout)["routes"]
    assert {r["id"] for r in listed} == {"items", "files", "cli-route"}
    assert json.loads(s.cli("route", "get", "cli-route").stdout)["path"] == "/cli/{x}"
    bad = s.cli("route", "put", "x", "--path", "/hooks/x", "--function", "echo")
    assert bad.returncode != 0 and "reserved" in bad.stderr
    s.stop()
    s.start()
    r = s.get("/cli/abc")
    assert r.status_code == 201 and r.json()["event"]["pathParameters"] == {"x": "abc"}
    assert s.cli("route", "delete", "cli-route").returncode == 0
    assert s.get("/cli/abc").status_code == 404
