"""Helpers shared by the routes and webhooks tests: raw HTTP with repeated headers, tokens,
and signatures made by the providers' own libraries (the function fixtures are in
conftest.py)."""
import base64
import hashlib
import hmac
import http.client
import json
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from conftest import ROOT

WEBHOOKS_JS = ROOT / "tests" / "webhooks_js"


def put_route(server, rid, **spec):
    r = server.put(f"/v1/routes/{rid}", json=spec)
    assert r.status_code in (200, 201), r.text
    return r.json()


def raw(server, method, path, headers=(), body=b"", source=None):
    """One request with headers exactly as given (repeats included), from the local address
    `source` if given. Returns (status, [(name, value)], body bytes)."""
    u = urlparse(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30,
                                      source_address=(source, 0) if source else None)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        res = conn.getresponse()
        return res.status, res.getheaders(), res.read()
    finally:
        conn.close()


def header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def stripe_header(payload: str, secret: str, timestamp=None) -> str:
    """The Stripe-Signature Stripe's own node library makes for a test delivery."""
    assert (WEBHOOKS_JS / "node_modules" / "stripe").is_dir(), \
        "the stripe npm package is missing: run `npm ci --prefix tests/webhooks_js` (make integration does)"
    script = ("const Stripe = require('stripe');"
              "const stripe = new Stripe('sk_test_unused');"
              "const [payload, secret, ts] = process.argv.slice(1);"
              "const opts = {payload, secret};"
              "if (ts) opts.timestamp = Number(ts);"
              "process.stdout.write(stripe.webhooks.generateTestHeaderString(opts));")
    out = subprocess.run(["node", "-e", script, payload, secret, str(timestamp or "")],
                         cwd=WEBHOOKS_JS, capture_output=True, text=True, timeout=30, check=True)
    return out.stdout


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(claims: dict, secret: str, alg="HS256") -> str:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def jwt_rs256(claims: dict, private_key_path: Path) -> str:
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(private_key_path)],
                         input=f"{head}.{body}".encode(), capture_output=True, check=True).stdout
    return f"{head}.{body}.{b64url(sig)}"


def now() -> int:
    return int(time.time())
