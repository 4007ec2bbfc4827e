"""Functions: registry, node/python/provided runtimes, errors, timeouts, crashes, memory caps,
throttling, scale to zero, async retries and destinations, the Lambda Invoke API (boto3),
the official aws-lambda-ric client, redeploys under load, logs, metering and the CLI.
"""
import base64
import concurrent.futures
import io
import json
import os
import shutil
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, Server, deploy, wait_for, write_code

RIC_DIR = ROOT / "tests" / "functions_js" / "node_modules" / "aws-lambda-ric"


def invoke(server, name, payload=None, **kw):
    return server.post(f"/v1/functions/{name}/invoke", data=json.dumps(payload or {}), **kw)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not running either. A process reaped between open and read answers ESRCH.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


NODE_HELLO = {
    "index.js": """
        exports.handler = async (event, context) => {
          console.log('hello from', context.functionName, context.awsRequestId);
          return { hello: event.name || 'world', fn: context.functionName,
                   remaining: context.getRemainingTimeInMillis() > 0,
                   env: process.env.GREETING || null, cwd: process.cwd(),
                   uid: process.getuid() };
        };
    """,
}

PY_HELLO = {
    "app.py": """
        import os
        def handler(event, context):
            print("hello from", context.function_name, context.aws_request_id)
            return {"hello": event.get("name", "world"), "fn": context.function_name,
                    "remaining": context.get_remaining_time_in_millis() > 0,
                    "cwd": os.getcwd(), "uid": os.getuid(), "home": os.environ.get("HOME"),
                    "leak": os.environ.get("EDDY_TEST_SECRET")}
    """,
}


def test_node_function_runs_and_logs_with_its_request_id(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "hello", NODE_HELLO)
    desc = deploy(s, "hello", "nodejs", code, "index.handler", env={"GREETING": "hi"})
    assert desc["version"] == 1 and desc["memory_mb"] == 128 and desc["timeout_ms"] == 3000
    r = invoke(s, "hello", {"name": "eddy"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hello"] == "eddy" and body["fn"] == "hello" and body["remaining"]
    assert body["env"] == "hi" and body["cwd"] == str(code)
    if os.geteuid() == 0:
        assert body["uid"] != 0, "functions must not run as root"
    rid = r.headers["x-amzn-RequestId"]
    logs = wait_for(lambda: [l for l in s.get(f"/v1/functions/hello/logs?request_id={rid}").json()["logs"]
                             if "hello from" in l["message"]], what="the log line")
    assert logs[0]["stream"] == "stdout" and rid in logs[0]["message"]
    inv = s.get("/v1/functions/hello/invocations").json()["invocations"]
    assert inv[0]["request_id"] == rid and inv[0]["status"] == "success"
    assert inv[0]["billed_ms"] >= 1 and inv[0]["init_ms"] is not None and inv[0]["max_rss_kb"] > 0
    # A second call is warm: no init.
    r2 = invoke(s, "hello", {})
    assert r2.json()["hello"] == "world"
    inv = s.get("/v1/functions/hello/invocations?limit=1").json()["invocations"]
    assert inv[0]["init_ms"] is None


def test_python_function_runs_in_a_clean_environment(fserver, workdir, monkeypatch):
    monkeypatch.setenv("EDDY_TEST_SECRET", "must-not-leak")
    s = fserver()
    code = write_code(workdir, "py", PY_HELLO)
    deploy(s, "py", "python", code, "app.handler")
    r = invoke(s, "py", {"name": "snake"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hello"] == "snake" and body["fn"] == "py" and body["remaining"]
    assert body["cwd"] == str(code) and body["leak"] is None


CONTEXT_ECHO = {
    "nodejs": ({"index.js": """
        exports.handler = async (event, context) => {
          if (event.big) return { blob: 'x'.repeat(event.big) };
          return { size: event.data.length, data: event.data, id: context.awsRequestId,
                   fn: context.functionName, mem: String(context.memoryLimitInMB),
                   arn: context.invokedFunctionArn, remaining: context.getRemainingTimeInMillis(),
                   custom: context.clientContext ? context.clientContext.custom : null,
                   trace: process.env._X_AMZN_TRACE_ID };
        };
    """}, "index.handler"),
    "python": ({"app.py": """
        import os
        def handler(event, context):
            if event.get("big"):
                return {"blob": "x" * event["big"]}
            cc = context.client_context
            return {"size": len(event["data"]), "data": event["data"], "id": context.aws_request_id,
                    "fn": context.function_name, "mem": str(context.memory_limit_in_mb),
                    "arn": context.invoked_function_arn,
                    "remaining": context.get_remaining_time_in_millis(),
                    "custom": cc.get("custom") if isinstance(cc, dict) else None,
                    "trace": os.environ.get("_X_AMZN_TRACE_ID")}
    """}, "app.handler"),
}


@pytest.mark.parametrize("runtime", ["nodejs", "python"])
def test_large_payloads_and_the_context_reach_eddys_runtimes(fserver, workdir, runtime):
    s = fserver()
    files, handler = CONTEXT_ECHO[runtime]
    deploy(s, "ctx", runtime, write_code(workdir, f"ctx-{runtime}", files), handler,
           memory_mb=256, timeout_ms=10000)
    data = "d" * (5 << 20)
    cc = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    r = s.post("/2015-03-31/functions/ctx/invocations", data=json.dumps({"data": data}),
               headers={"X-Amz-Client-Context": cc})
    assert r.status_code == 200 and "X-Amz-Function-Error" not in r.headers, r.text[:300]
    body = r.json()
    assert body["size"] == len(data) and body["data"] == data
    assert body["id"] == r.headers["x-amzn-RequestId"] and body["fn"] == "ctx"
    assert body["mem"] == "256" and body["arn"].endswith(":function:ctx")
    assert 0 < body["remaining"] <= 10000 and body["custom"] == {"k": "v"}
    # The trace id is in the environment from the first invocation on, new each time.
    assert body["trace"].startswith("Root=1-"), body["trace"]
    # A result over Lambda's 6 MB limit fails the invocation; the function keeps working.
    r = invoke(s, "ctx", {"big": 7 << 20})
    assert r.headers.get("X-Amz-Function-Error") == "Unhandled", r.text[:300]
    assert r.json()["errorType"] == "Function.ResponseSizeTooLarge"
    r = invoke(s, "ctx", {"data": "small"})
    assert r.status_code == 200 and r.json().get("data") == "small", r.text[:300]
    assert r.json()["trace"].startswith("Root=1-") and r.json()["trace"] != body["trace"]


def test_provided_bootstrap_speaks_the_runtime_api(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "sh", {"bootstrap": """\
        #!/bin/sh
        set -eu
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        while true; do
          H=$(mktemp)
          EVENT=$(curl -sS -D "$H" "$API/invocation/next")
          ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | cut -d: -f2 | tr -d '[:space:]')
          rm -f "$H"
          echo "handling $ID"
          curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\"}"
        done
    """})
    deploy(s, "sh", "provided", code, handler="whatever")
    for i in range(3):
        r = invoke(s, "sh", {"n": i})
        assert r.status_code == 200, r.text
        assert r.json() == {"echo": {"n": i}, "handler": "whatever"}


def test_provided_runtime_posting_too_large_a_result_gets_413_and_goes_on(fserver, workdir):
    s = fserver()
    # One keep-alive connection throughout; each result reports how the previous POST went.
    code = write_code(workdir, "big", {"bootstrap": """\
        #!/usr/bin/python3
        import http.client, json, os
        conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
        last, connects = None, 0
        while True:
            if conn.sock is None:
                connects += 1
            conn.request("GET", "/2018-06-01/runtime/invocation/next")
            r = conn.getresponse()
            event, rid = json.loads(r.read()), r.getheader("Lambda-Runtime-Aws-Request-Id")
            body = "x" * (7 << 20) if event.get("big") else json.dumps({"last": last, "connects": connects})
            conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", body=body)
            r = conn.getresponse()
            last = [r.status, json.loads(r.read() or "null")]
    """})
    deploy(s, "big", "provided", code, handler="x")
    r = invoke(s, "big", {"big": True})
    assert r.headers.get("X-Amz-Function-Error") == "Unhandled", r.text[:300]
    assert r.json()["errorType"] == "Function.ResponseSizeTooLarge"
    r = invoke(s, "big", {})
    assert r.status_code == 200, r.text[:300]
    status, doc = r.json()["last"]
    assert status == 413 and doc["errorType"] == "RequestEntityTooLarge", doc
    assert r.json()["connects"] == 1, "the connection should survive the 413"


def test_node_esm_and_callback_handlers(fserver, workdir):
    s = fserver()
    esm = write_code(workdir, "esm", {"index.mjs": """
        export const handler = async (event) => ({ esm: true, got: event.x });
    """})
    cb = write_code(workdir, "cb", {"index.js": """
        exports.handler = function (event, context, callback) {
          setTimeout(() => callback(null, { callback: true, id: context.awsRequestId }), 5);
        };
    """})
    deploy(s, "esm", "nodejs", esm, "index.handler")
    deploy(s, "cb", "nodejs", cb, "index.handler")
    assert invoke(s, "esm", {"x": 7}).json() == {"esm": True, "got": 7}
    r = invoke(s, "cb")
    assert r.json()["callback"] is True and r.json()["id"] == r.headers["x-amzn-RequestId"]


def test_function_errors_are_reported_like_lambda(fserver, workdir):
    s = fserver()
    node = write_code(workdir, "nerr", {"index.js": """
        class OrderError extends Error { constructor(m) { super(m); this.name = 'OrderError'; } }
        exports.handler = async () => { throw new OrderError('no such order'); };
    """})
    py = write_code(workdir, "perr", {"app.py": """
        def handler(event, context):
            raise ValueError("bad input")
    """})
    deploy(s, "nerr", "nodejs", node, "index.handler")
    deploy(s, "perr", "python", py, "app.handler")
    for name, etype, msg in [("nerr", "OrderError", "no such order"), ("perr", "ValueError", "bad input")]:
        r = invoke(s, name)
        assert r.status_code == 200
        assert r.headers["X-Amz-Function-Error"] == "Unhandled"
        body = r.json()
        assert body["errorType"] == etype and body["errorMessage"] == msg
        assert isinstance(body["stackTrace"], list) and body["stackTrace"]
        inv = s.get(f"/v1/functions/{name}/invocations?limit=1").json()["invocations"][0]
        assert inv["status"] == "error" and etype in inv["error"]
    # The instance survives a handled error: the next call is warm.
    assert s.get("/v1/functions/nerr").json()["stats"]["instances"] == 1


def test_timeout_kills_the_instance_and_reports_task_timed_out(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "slow", {"index.js": """
        exports.handler = async (e) => {
          if (e.sleep) await new Promise(r => setTimeout(r, e.sleep));
          return { pid: process.pid };
        };
    """})
    deploy(s, "slow", "nodejs", code, "index.handler", timeout_ms=300)
    pid = invoke(s, "slow").json()["pid"]
    t0 = time.monotonic()
    r = invoke(s, "slow", {"sleep": 5000})
    assert time.monotonic() - t0 < 3
    assert r.status_code == 200 and r.headers["X-Amz-Function-Error"] == "Unhandled"
    assert r.json()["errorType"] == "Sandbox.Timedout"
    assert r.json()["errorMessage"] == "Task timed out after 300 ms"
    wait_for(lambda: not pid_alive(pid), what="the timed-out process to die")
    assert invoke(s, "slow").json()["pid"] != pid, "a new instance serves the next call"
    inv = s.get("/v1/functions/slow/invocations?limit=2").json()["invocations"]
    assert inv[1]["status"] == "timeout"


def test_crash_is_reported_and_the_instance_replaced(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "crash", {"app.py": """
        import os
        def handler(event, context):
            if event.get("die"):
                os._exit(3)
            return {"pid": os.getpid()}
    """})
    deploy(s, "crash", "python", code, "app.handler")
    pid = invoke(s, "crash").json()["pid"]
    r = invoke(s, "crash", {"die": True})
    assert r.headers["X-Amz-Function-Error"] == "Unhandled"
    assert r.json()["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in r.json()["errorMessage"]
    assert invoke(s, "crash").json()["pid"] != pid


def test_out_of_memory_is_reported_as_such(fserver, workdir):
    s = fserver()
    if "cgroup" not in s.log():
        pytest.skip("no writable memory cgroup on this machine")
    code = write_code(workdir, "hog", {"app.py": """
        def handler(event, context):
            chunks = []
            for _ in range(400):
                chunks.append(bytearray(1024 * 1024))
            return len(chunks)
    """})
    deploy(s, "hog", "python", code, "app.handler", memory_mb=64)
    r = invoke(s, "hog")
    assert r.headers.get("X-Amz-Function-Error") == "Unhandled", r.text
    assert r.json()["errorType"] == "Runtime.OutOfMemory"
    inv = s.get("/v1/functions/hog/invocations?limit=1").json()["invocations"][0]
    assert inv["status"] == "oom"


def test_init_errors_answer_the_invocation(fserver, workdir):
    s = fserver("--prestart", "0")
    syntax = write_code(workdir, "syn", {"index.js": "exports.handler = async () => {;\n"})
    missing = write_code(workdir, "miss", {"index.js": "exports.other = async () => 1;\n"})
    pyimp = write_code(workdir, "pyimp", {"app.py": "import no_such_module_here\n"})
    deploy(s, "syn", "nodejs", syntax, "index.handler")
    deploy(s, "miss", "nodejs", missing, "index.handler")
    deploy(s, "pyimp", "python", pyimp, "app.handler")
    for name, etype in [("syn", "Runtime.UserCodeSyntaxError"), ("miss", "Runtime.HandlerNotFound"),
                        ("pyimp", "Runtime.ImportModuleError")]:
        r = invoke(s, name)
        assert r.status_code == 200 and r.headers["X-Amz-Function-Error"] == "Unhandled", r.text
        assert r.json()["errorType"] == etype, r.text
    # Pre-started processes load code late: the same errors come back.
    s2 = fserver("--prestart", "1")
    deploy(s2, "miss", "nodejs", missing, "index.handler")
    deploy(s2, "pyimp", "python", pyimp, "app.handler")
    assert invoke(s2, "miss").json()["errorType"] == "Runtime.HandlerNotFound"
    assert invoke(s2, "pyimp").json()["errorType"] == "Runtime.ImportModuleError"


def test_sync_invokes_over_max_concurrency_are_throttled(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "one", {"index.js": """
        exports.handler = async () => { await new Promise(r => setTimeout(r, 800)); return 'done'; };
    """})
    deploy(s, "one", "nodejs", code, "index.handler", max_concurrency=1)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = [ex.submit(lambda: Server.request(s, "POST", "/v1/functions/one/invoke", data="{}"))
                for _ in range(4)]
        codes = sorted(f.result().status_code for f in futs)
    assert codes.count(200) >= 1 and codes.count(429) >= 1, codes
    assert set(codes) <= {200, 429}


def test_idle_function_scales_to_zero_processes(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "idle", {"index.js": "exports.handler = async () => process.pid;\n"})
    deploy(s, "idle", "nodejs", code, "index.handler", idle_timeout_ms=300)
    assert s.get("/v1/functions/idle").json()["instances"] == []
    pids = set()
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        for r in ex.map(lambda _: invoke(s, "idle"), range(6)):
            pids.add(r.json())
    live = [i["pid"] for i in s.get("/v1/functions/idle").json()["instances"]]
    assert live and all(pid_alive(p) for p in live)
    wait_for(lambda: s.get("/v1/functions/idle").json()["instances"] == [], timeout=10,
             what="the idle instances to stop")
    wait_for(lambda: not any(pid_alive(p) for p in pids), what="the processes to exit")
    # Counting processes: every child of eddy now is a pre-started generic runtime process
    # (none belongs to the function).
    children = {int(p) for t in Path(f"/proc/{s.proc.pid}/task").iterdir()
                for p in (t / "children").read_text().split()}
    assert not (set(children) & pids)
    assert invoke(s, "idle").status_code == 200, "a cold start brings it back"


def test_async_invocation_retries_then_goes_to_on_failure(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "flaky", {"index.js": """
        exports.handler = async (e) => { throw new Error('always fails: ' + e.order); };
    """})
    deploy(s, "flaky", "nodejs", code, "index.handler",
           retry={"max_attempts": 3, "initial_backoff_ms": 100, "max_backoff_ms": 200},
           on_failure={"topic": "failures"})
    r = s.post("/v1/functions/flaky/invoke?mode=async", data=json.dumps({"order": 42}))
    assert r.status_code == 202
    rid = r.json()["request_id"]

    def failed():
        t = s.get("/v1/topics/failures/events?limit=10")
        return t.status_code == 200 and t.json()["events"]

    events = wait_for(failed, timeout=20, what="the on_failure record")
    ev = events[0]["event"]
    assert ev["type"] == "eddy.function.failed" and ev["source"] == "/functions/flaky"
    d = ev["data"]
    assert d["requestContext"]["requestId"] == rid
    assert d["requestContext"]["condition"] == "RetriesExhausted"
    assert d["requestContext"]["approximateInvokeCount"] == 3
    assert d["requestPayload"] == {"order": 42}
    assert d["responseContext"]["functionError"] == "Unhandled"
    assert d["responsePayload"]["errorMessage"] == "always fails: 42"
    inv = s.get("/v1/functions/flaky/invocations").json()["invocations"]
    attempts = sorted(i["attempt"] for i in inv if i["request_id"] == rid)
    assert attempts == [1, 2, 3] and all(i["async"] for i in inv)


def test_on_success_chains_to_another_function(fserver, workdir):
    s = fserver()
    first = write_code(workdir, "first", {"app.py": """
        def handler(event, context):
            return {"total": event["a"] + event["b"]}
    """})
    second = write_code(workdir, "second", {"app.py": """
        import json
        def handler(event, context):
            print("GOT " + json.dumps(event))
            return "ok"
    """})
    deploy(s, "second", "python", second, "app.handler")
    deploy(s, "first", "python", first, "app.handler", on_success={"function": "second"})
    r = s.post("/2015-03-31/functions/first/invocations", data=json.dumps({"a": 2, "b": 3}),
               headers={"X-Amz-Invocation-Type": "Event"})
    assert r.status_code == 202

    def got():
        for l in s.get("/v1/functions/second/logs").json()["logs"]:
            if l["message"].startswith("GOT "):
                return json.loads(l["message"][4:])
        return None

    ev = wait_for(got, timeout=20, what="the chained invocation")
    assert ev["type"] == "eddy.function.succeeded"
    assert ev["data"]["responsePayload"] == {"total": 5}
    assert ev["data"]["requestContext"]["condition"] == "Success"


def test_lambda_invoke_api_with_boto3(fserver, workdir):
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    s = fserver()
    code = write_code(workdir, "lam", {"index.js": """
        exports.handler = async (e, ctx) => {
          console.log('lambda api call');
          if (e.fail) throw new TypeError('asked to fail');
          return { ok: true, arn: ctx.invokedFunctionArn, cc: ctx.clientContext || null };
        };
    """})
    deploy(s, "lam", "nodejs", code, "index.handler")
    client = boto3.client("lambda", endpoint_url=s.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"max_attempts": 0}))
    r = client.invoke(FunctionName="lam", Payload=json.dumps({}), LogType="Tail",
                      ClientContext=base64.b64encode(b'{"custom":{"k":"v"}}').decode())
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    body = json.loads(r["Payload"].read())
    assert body["ok"] and body["arn"].endswith(":function:lam") and body["cc"] == {"custom": {"k": "v"}}
    assert "lambda api call" in base64.b64decode(r["LogResult"]).decode()
    r = client.invoke(FunctionName="lam", Payload=json.dumps({"fail": True}))
    assert r["FunctionError"] == "Unhandled"
    assert json.loads(r["Payload"].read())["errorType"] == "TypeError"
    assert client.invoke(FunctionName="lam", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    assert client.invoke(FunctionName="lam", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope", Payload=b"{}")


def test_lambda_throttling_is_429_too_many_requests(fserver, workdir):
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    s = fserver()
    code = write_code(workdir, "busy", {"index.js": """
        exports.handler = async () => { await new Promise(r => setTimeout(r, 1000)); return 1; };
    """})
    deploy(s, "busy", "nodejs", code, "index.handler", max_concurrency=1)
    client = boto3.client("lambda", endpoint_url=s.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"max_attempts": 0}))
    t = threading.Thread(target=lambda: client.invoke(FunctionName="busy", Payload=b"{}"))
    t.start()
    wait_for(lambda: s.get("/v1/functions/busy").json()["stats"]["busy"] >= 1,
             what="the first call to occupy the only instance")
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName="busy", Payload=b"{}")
    t.join()


def test_boto3_inside_a_python_function_reaches_eddy(fserver, workdir):
    s = fserver()
    callee = write_code(workdir, "callee", {"index.js": "exports.handler = async (e) => ({ doubled: e.n * 2 });\n"})
    caller = write_code(workdir, "caller", {"app.py": """
        import json
        import boto3
        def handler(event, context):
            client = boto3.client("lambda")
            r = client.invoke(FunctionName="callee", Payload=json.dumps({"n": event["n"]}))
            return json.loads(r["Payload"].read())
    """})
    deploy(s, "callee", "nodejs", callee, "index.handler")
    deploy(s, "caller", "python", caller, "app.handler", timeout_ms=20000, memory_mb=256)
    r = invoke(s, "caller", {"n": 21}, timeout=60)
    assert r.status_code == 200 and "X-Amz-Function-Error" not in r.headers, r.text
    assert r.json() == {"doubled": 42}


@pytest.mark.skipif(not (RIC_DIR / "bin" / "index.mjs").exists(),
                    reason="tests/functions_js not installed (npm ci --prefix tests/functions_js)")
def test_official_aws_lambda_ric_runs_as_a_provided_runtime(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "ric", {
        "bootstrap": f"""\
            #!/bin/sh
            exec {shutil.which("node") or "/usr/bin/node"} {RIC_DIR}/bin/index.mjs "$_HANDLER"
        """,
        "index.js": """
            exports.handler = async (event, context) => {
              console.log('ric says hi');
              if (event.fail) throw new RangeError('ric failure');
              return { via: 'aws-lambda-ric', id: context.awsRequestId, got: event.v };
            };
        """,
    })
    deploy(s, "ric", "provided", code, "index.handler",
           env={"AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1": "true"}, timeout_ms=10000)
    r = invoke(s, "ric", {"v": 1}, timeout=60)
    assert r.status_code == 200 and "X-Amz-Function-Error" not in r.headers, r.text
    assert r.json()["via"] == "aws-lambda-ric" and r.json()["got"] == 1
    assert r.json()["id"] == r.headers["x-amzn-RequestId"]
    r = invoke(s, "ric", {"fail": True})
    assert r.headers["X-Amz-Function-Error"] == "Unhandled"
    assert r.json()["errorType"] == "RangeError" and r.json()["errorMessage"] == "ric failure"
    r = invoke(s, "ric", {"v": 2})
    assert r.json()["got"] == 2


def test_redeploy_under_load_drops_nothing(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "ver", {"index.js": """
        exports.handler = async () => {
          await new Promise(r => setTimeout(r, 20));
          return process.env.VERSION;
        };
    """})
    deploy(s, "ver", "nodejs", code, "index.handler", env={"VERSION": "v0"}, max_concurrency=8)
    stop = threading.Event()
    results, failures = [], []

    def load():
        import requests
        http = requests.Session()
        while not stop.is_set():
            r = http.post(s.url + "/v1/functions/ver/invoke", data="{}", timeout=30)
            if r.status_code == 200 and "X-Amz-Function-Error" not in r.headers:
                results.append(r.json())
            else:
                failures.append((r.status_code, r.text))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for v in range(1, 4):
            wait_for(lambda: len(results) > 10 * v, what="some load")
            deploy(s, "ver", "nodejs", code, "index.handler", env={"VERSION": f"v{v}"}, max_concurrency=8)
        wait_for(lambda: results and results[-1] == "v3", what="the last version to serve")
        n = len(results)
        wait_for(lambda: len(results) > n + 20, what="more load on v3")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures, failures[:5]
    assert {"v0", "v3"} <= set(results)
    assert s.get("/v1/functions/ver").json()["version"] == 4


def test_zip_upload_and_unsafe_archives(fserver, workdir):
    s = fserver()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def main(event, context):\n    return {'zipped': True}\n")
    r = s.put("/v1/functions/zipped/code", data=buf.getvalue())
    assert r.status_code == 200, r.text
    r = s.put("/v1/functions/zipped", json={"runtime": "python", "handler": "handler.main"})
    assert r.status_code == 201, r.text
    assert invoke(s, "zipped").json() == {"zipped": True}
    # A new upload redeploys the existing function.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def main(event, context):\n    return {'zipped': 2}\n")
    assert s.put("/v1/functions/zipped/code", data=buf.getvalue()).json()["deployed"] is True
    assert invoke(s, "zipped").json() == {"zipped": 2}
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escape.py", "x = 1\n")
    r = s.put("/v1/functions/zipped/code", data=evil.getvalue())
    assert r.status_code == 400 and "unsafe" in r.json()["error"]["message"]
    assert invoke(s, "zipped").json() == {"zipped": 2}


def test_registry_errors_and_lifecycle(fserver, workdir):
    s = fserver()
    assert invoke(s, "ghost").status_code == 404
    r = s.put("/v1/functions/bad", json={"runtime": "nodejs", "handler": "index.handler",
                                         "code": {"path": str(workdir / "missing")}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_argument"
    r = s.put("/v1/functions/bad", json={"runtime": "cobol"})
    assert r.status_code == 400 and "cobol" in r.json()["error"]["message"]
    code = write_code(workdir, "life", NODE_HELLO)
    assert s.put("/v1/functions/life", json={"runtime": "nodejs", "handler": "index.handler",
                                             "code": {"path": str(code)}}).status_code == 201
    same = s.put("/v1/functions/life", json={"runtime": "nodejs", "handler": "index.handler",
                                             "code": {"path": str(code)}})
    assert same.status_code == 200 and same.json()["version"] == 1, "no change, no new version"
    assert [f["name"] for f in s.get("/v1/functions").json()["functions"]] == ["life"]
    assert invoke(s, "life").status_code == 200
    assert s.delete("/v1/functions/life").status_code == 204
    assert s.get("/v1/functions/life").status_code == 404
    assert invoke(s, "life").status_code == 404
    # Functions survive a restart.
    code2 = write_code(workdir, "keep", NODE_HELLO)
    deploy(s, "keep", "nodejs", code2, "index.handler")
    s.stop()
    s.start()
    assert invoke(s, "keep").status_code == 200


def test_cli_deploy_invoke_logs_list_and_usage(fserver, workdir):
    s = fserver()
    code = write_code(workdir, "clifn", PY_HELLO)
    r = s.cli("function", "deploy", "clifn", "--runtime", "python", "--handler", "app.handler",
              "--code", str(code), "--memory-mb", "256")
    assert r.returncode == 0, r.stderr
    r = s.cli("function", "invoke", "clifn", '{"name":"cli"}')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["hello"] == "cli"
    r = s.cli("function", "logs", "clifn")
    assert r.returncode == 0 and "hello from clifn" in r.stdout
    time_, request_id, stream, message = r.stdout.splitlines()[0].split(" ", 3)
    assert time_.endswith("Z") and len(request_id) == 36 and stream in ("stdout", "stderr"), r.stdout
    r = s.cli("function", "list")
    assert r.returncode == 0 and "clifn" in r.stdout
    r = s.cli("usage", "--json", "--price-gb-second", "1")
    assert r.returncode == 0, r.stderr
    u = json.loads(r.stdout)
    row = [f for f in u["functions"] if f["function"] == "clifn"][0]
    assert row["requests"] == 1
    assert row["gb_seconds"] == pytest.approx(0.25 * row["billed_ms"] / 1000)
    assert u["total_cost"] == pytest.approx(row["gb_seconds"] + 1 / 1e6 * 0.20)


SDK_DIR = ROOT / "tests" / "functions_js" / "node_modules" / "@aws-sdk" / "client-lambda"


@pytest.mark.skipif(not SDK_DIR.exists(), reason="tests/functions_js not installed")
def test_aws_sdk_js_client_lambda_invokes_and_works_inside_a_function(fserver, workdir):
    s = fserver()
    callee = write_code(workdir, "callee", {"app.py": """
        def handler(event, context):
            return {"tripled": event["n"] * 3}
    """})
    deploy(s, "callee", "python", callee, "app.handler")
    # From outside, as an application would.
    script = workdir / "client.cjs"
    script.write_text(textwrap.dedent(f"""
        const {{ LambdaClient, InvokeCommand }} = require('{SDK_DIR}');
        (async () => {{
          const c = new LambdaClient({{ endpoint: '{s.url}', region: 'us-east-1',
            credentials: {{ accessKeyId: 'x', secretAccessKey: 'y' }} }});
          const r = await c.send(new InvokeCommand({{ FunctionName: 'callee',
            Payload: new TextEncoder().encode(JSON.stringify({{ n: 5 }})) }}));
          console.log(JSON.stringify({{ status: r.StatusCode,
            body: JSON.parse(new TextDecoder().decode(r.Payload)) }}));
        }})();
    """))
    import subprocess
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"status": 200, "body": {"tripled": 15}}
    # Inside a function: endpoint and credentials come from the environment only.
    caller = write_code(workdir, "jscaller", {"index.mjs": """
        import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
        const client = new LambdaClient({});
        export const handler = async (event) => {
          const r = await client.send(new InvokeCommand({ FunctionName: 'callee',
            Payload: new TextEncoder().encode(JSON.stringify({ n: event.n })) }));
          return JSON.parse(new TextDecoder().decode(r.Payload));
        };
    """})
    (caller / "node_modules").symlink_to(ROOT / "tests" / "functions_js" / "node_modules")
    deploy(s, "jscaller", "nodejs", caller, "index.handler", timeout_ms=20000, memory_mb=256)
    r = invoke(s, "jscaller", {"n": 7}, timeout=60)
    assert r.status_code == 200 and "X-Amz-Function-Error" not in r.headers, r.text
    assert r.json() == {"tripled": 21}


@pytest.mark.skipif(not shutil.which("aws"), reason="awscli not installed")
def test_aws_cli_lambda_invoke(fserver, workdir):
    import subprocess
    s = fserver()
    code = write_code(workdir, "cli", {"index.js": "exports.handler = async (e) => ({ cli: e.x });\n"})
    deploy(s, "cli", "nodejs", code, "index.handler")
    out = workdir / "out.json"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
           "AWS_DEFAULT_REGION": "us-east-1"}
    r = subprocess.run(["aws", "lambda", "invoke", "--endpoint-url", s.url, "--function-name", "cli",
                        "--payload", '{"x": 9}', "--cli-binary-format", "raw-in-base64-out", str(out)],
                       capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0 and "cli-binary-format" in r.stderr:  # awscli v1 has no such flag
        r = subprocess.run(["aws", "lambda", "invoke", "--endpoint-url", s.url, "--function-name", "cli",
                            "--payload", '{"x": 9}', str(out)], capture_output=True, text=True, env=env,
                           timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text()) == {"cli": 9}


def test_function_processes_die_with_a_killed_server(fserver, workdir):
    s = fserver()
    # Answers one invocation, then ignores the Runtime API and sleeps: only the server's
    # death can end it.
    code = write_code(workdir, "stubborn", {"bootstrap": """\
        #!/bin/sh
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        H=$(mktemp)
        curl -sS -D "$H" -o /dev/null "$API/invocation/next"
        ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | cut -d: -f2 | tr -d '[:space:]')
        curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d '{"pid":'$$'}'
        exec sleep 600
    """})
    deploy(s, "stubborn", "provided", code)
    pid = invoke(s, "stubborn").json()["pid"]
    assert pid_alive(pid)
    s.kill()
    wait_for(lambda: not pid_alive(pid), what="the function process to die with the server")


def test_min_instances_are_kept_warm_past_the_idle_timeout(fserver, workdir):
    s = fserver("--prestart", "0")
    code = write_code(workdir, "warm", {"app.py": "import os\ndef handler(e, c):\n    return os.getpid()\n"})
    deploy(s, "warm", "python", code, "app.handler", min_instances=1, idle_timeout_ms=100)
    inst = wait_for(lambda: s.get("/v1/functions/warm").json()["instances"], what="the warm instance")
    assert len(inst) == 1 and s.get("/v1/functions/warm/invocations").json()["invocations"] == []
    # Busy enough to need more instances, then idle: the surplus stops, the minimum stays.
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        list(ex.map(lambda _: invoke(s, "warm"), range(9)))
    wait_for(lambda: len(s.get("/v1/functions/warm").json()["instances"]) == 1,
             what="back to min_instances")
    time.sleep(0.3)  # three idle timeouts pass: the last instance must still be there
    left = s.get("/v1/functions/warm").json()["instances"]
    assert len(left) == 1 and pid_alive(left[0]["pid"])
    assert invoke(s, "warm").json() == left[0]["pid"], "served warm by the kept instance"
