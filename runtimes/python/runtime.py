# eddy's Python runtime client: speaks the AWS Lambda Runtime API (AWS_LAMBDA_RUNTIME_API)
# and runs `module.function(event, context)` handlers unmodified, reporting errors as
# {errorType, errorMessage, stackTrace}.
#
# eddy passes this file to `python3 -u -c`. A process started ahead of need
# (EDDY_PRESTARTED=1) loads no code until its first invocation, which carries the
# function's environment, task root and handler in the `eddy-function-init` header.
#
# Older botocore (before 1.31, e.g. Debian 12's) ignores AWS_ENDPOINT_URL: when a function
# imports it, create_client is patched to use AWS_ENDPOINT_URL_<SERVICE> or
# AWS_ENDPOINT_URL, so boto3 inside a function reaches eddy without code changes.
import importlib
import importlib.abc
import importlib.util
import json
import os
import socket
import sys
import time
import traceback

_host, _, _port = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001").partition(":")
_BASE = "/2018-06-01/runtime"


class _RuntimeConnection:
    """A minimal HTTP/1.1 client for the Runtime API over one keep-alive socket. eddy's
    Runtime API always answers with Content-Length; requests may be pipelined."""

    def __init__(self):
        self.sock = socket.create_connection((_host, int(_port or 80)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, method, route, body=None, headers=None):
        data = body.encode() if isinstance(body, str) else (body or b"")
        head = f"{method} {_BASE}{route} HTTP/1.1\r\nHost: {_host}\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(data)}\r\n\r\n"
        self.sock.sendall(head.encode("latin-1") + data)

    def receive(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("runtime API closed")
            self.buf += chunk
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < end + 4 + length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("runtime API closed")
            self.buf += chunk
        body = self.buf[end + 4:end + 4 + length]
        self.buf = self.buf[end + 4 + length:]
        return status, headers, body


_conn = _RuntimeConnection()


def _call(method, route, body=None, headers=None):
    _conn.send(method, route, body, headers)
    return _conn.receive()


def _patch_botocore_session(mod):
    try:
        import botocore
        version = tuple(int(x) for x in botocore.__version__.split(".")[:2])
    except Exception:
        version = (0, 0)
    if version >= (1, 31):
        return
    original = mod.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        if kwargs.get("endpoint_url") is None and len(args) < 5:
            specific = "AWS_ENDPOINT_URL_" + service_name.upper().replace("-", "_")
            url = os.environ.get(specific) or os.environ.get("AWS_ENDPOINT_URL")
            if url:
                kwargs["endpoint_url"] = url
        return original(self, service_name, *args, **kwargs)

    mod.Session.create_client = create_client


class _BotocorePatcher(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            _patch_botocore_session(module)

        spec.loader.exec_module = patched
        return spec


sys.meta_path.insert(0, _BotocorePatcher())


class _UserCodeError(Exception):
    def __init__(self, error_type, message, tb=None):
        super().__init__(message)
        self.error_type = error_type
        self.tb = tb or []


def _error_doc(exc, error_type=None):
    if isinstance(exc, _UserCodeError):
        return {"errorType": exc.error_type, "errorMessage": str(exc), "stackTrace": exc.tb}
    tb = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return {"errorType": error_type or type(exc).__name__, "errorMessage": str(exc), "stackTrace": tb}


def _load_handler(task_root, spec):
    module_path, _, fn_name = spec.rpartition(".")
    if not module_path or not fn_name:
        raise _UserCodeError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': use module.function")
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        module = importlib.import_module(module_path.replace("/", "."))
    except ImportError as e:
        raise _UserCodeError("Runtime.ImportModuleError",
                             f"Unable to import module '{module_path}': {e}",
                             traceback.format_list(traceback.extract_tb(e.__traceback__)))
    except SyntaxError as e:
        raise _UserCodeError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_path}': {e}",
                             traceback.format_list(traceback.extract_tb(e.__traceback__)))
    except Exception as e:
        raise _UserCodeError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {type(e).__name__}: {e}",
                             traceback.format_list(traceback.extract_tb(e.__traceback__)))
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise _UserCodeError("Runtime.HandlerNotFound", f"Handler '{fn_name}' missing on module '{module_path}'")
    return fn


class LambdaContext:
    def __init__(self, headers, deadline_ms):
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        cc = headers.get("lambda-runtime-client-context")
        if cc:
            try:
                self.client_context = json.loads(cc)
            except ValueError:
                pass
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _post_init_error(exc):
    doc = _error_doc(exc, "Runtime.ImportModuleError")
    _call("POST", "/init/error", json.dumps(doc),
          {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc["errorType"]})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


def main():
    handler = None
    if not os.environ.get("EDDY_PRESTARTED"):
        try:
            handler = _load_handler(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd(), os.environ.get("_HANDLER", ""))
        except Exception as e:
            _post_init_error(e)
    _conn.send("GET", "/invocation/next")
    while True:
        status, headers, body = _conn.receive()
        if status != 200:
            os._exit(0)
        request_id = headers.get("lambda-runtime-aws-request-id")
        post_headers = {"Content-Type": "application/json"}
        init = headers.get("eddy-function-init")
        if init:
            t0 = time.perf_counter()
            doc = json.loads(init)
            os.environ.clear()
            os.environ.update(doc["env"])
            try:
                os.chdir(doc["task_root"])
                handler = _load_handler(doc["task_root"], doc["handler"])
            except Exception as e:
                _post_init_error(e)
            post_headers["Eddy-Init-Duration-Ms"] = "%.3f" % ((time.perf_counter() - t0) * 1000)
        deadline = int(headers.get("lambda-runtime-deadline-ms") or (time.time() * 1000 + 3000))
        try:
            event = json.loads(body) if body else {}
            result = handler(event, LambdaContext(headers, deadline))
            try:
                out = json.dumps(result)
            except (TypeError, ValueError) as e:
                raise _UserCodeError("Runtime.MarshalError", f"Unable to marshal response: {e}")
            route = f"/invocation/{request_id}/response"
        except Exception as e:
            doc = _error_doc(e)
            traceback.print_exc()
            post_headers["Lambda-Runtime-Function-Error-Type"] = doc["errorType"]
            route = f"/invocation/{request_id}/error"
            out = json.dumps(doc)
        sys.stdout.flush()
        sys.stderr.flush()
        # The result and the request for the next job go out back to back (pipelined).
        _conn.send("POST", route, out, post_headers)
        _conn.send("GET", "/invocation/next")
        _conn.receive()

main()
