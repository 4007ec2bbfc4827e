# eddy's Python runtime client: runs `module.function(event, context)` AWS Lambda handlers
# unmodified, reporting errors as {errorType, errorMessage, stackTrace}.
#
# eddy passes this file to `python3 -u -c` and talks to it over descriptor 3, a Unix
# socket, in length-prefixed frames (see src/functions/instance.h): a job arrives as a J
# frame, the answer goes back as R (response) or E (error); N says the runtime is ready, I
# that the code did not load. A process started ahead of need (EDDY_PRESTARTED=1) loads no
# code until its first job, which carries the function's environment, task root and
# handler.
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
import struct
import sys
import time
import traceback

class _Channel:
    """The channel to eddy: frames are a u32 length (LE), a type byte and fields (u32 length
    + bytes each)."""

    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.buf = bytearray()

    def send(self, kind, fields):
        parts = [b""]
        total = 1
        for f in fields:
            b = f if isinstance(f, (bytes, bytearray)) else str(f).encode()
            parts.append(struct.pack("<I", len(b)))
            parts.append(b)
            total += 4 + len(b)
        parts[0] = struct.pack("<I", total) + kind
        self.sock.sendall(b"".join(parts))

    def receive(self):
        """The next frame as (type, [fields]); exits when eddy closes the channel."""
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack_from("<I", self.buf)
                if len(self.buf) >= 4 + n:
                    frame = bytes(self.buf[4:4 + n])
                    del self.buf[:4 + n]
                    fields, at = [], 1
                    while at < len(frame):
                        (k,) = struct.unpack_from("<I", frame, at)
                        fields.append(frame[at + 4:at + 4 + k])
                        at += 4 + k
                    return frame[:1], fields
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                os._exit(0)
            self.buf += chunk


_chan = _Channel(3)


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
    def __init__(self, request_id, arn, client_context, deadline_ms):
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        if client_context:
            try:
                self.client_context = json.loads(client_context)
            except ValueError:
                pass
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _init_failed(exc):
    _chan.send(b"I", [json.dumps(_error_doc(exc, "Runtime.ImportModuleError"))])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


_TRACE_KEY = "_X_AMZN_TRACE_ID"


def _set_trace_id(value):
    # The trace id changes with every invocation. os.environ[...] = v would call setenv(3),
    # and glibc keeps every value it is given for good (about 150 bytes an invocation), so a
    # busy instance would grow until its memory limit stopped it. The variable lives in
    # os.environ alone, which is what handlers and the AWS SDKs read; the C environment, which
    # subprocesses started without env= inherit, does not carry it.
    env = os.environ
    env._data[env.encodekey(_TRACE_KEY)] = env.encodevalue(value)


def main():
    os.environ.pop(_TRACE_KEY, None)
    handler = None
    if not os.environ.get("EDDY_PRESTARTED"):
        try:
            handler = _load_handler(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd(), os.environ.get("_HANDLER", ""))
        except Exception as e:
            _init_failed(e)
    _chan.send(b"N", [])
    while True:
        kind, f = _chan.receive()
        if kind != b"J":
            continue
        # request id, deadline, ARN, trace id, client context, init document, payload
        request_id = f[0].decode()
        late_init = ""
        if f[5]:
            t0 = time.perf_counter()
            doc = json.loads(f[5])
            os.environ.clear()
            os.environ.update(doc["env"])
            try:
                os.chdir(doc["task_root"])
                handler = _load_handler(doc["task_root"], doc["handler"])
            except Exception as e:
                _init_failed(e)
            late_init = "%.3f" % ((time.perf_counter() - t0) * 1000)
        _set_trace_id(f[3].decode())
        deadline = int(f[1] or 0) or int(time.time() * 1000 + 3000)
        try:
            event = json.loads(f[6]) if f[6] else {}
            context = LambdaContext(request_id, f[2].decode(), f[4].decode(), deadline)
            result = handler(event, context)
            try:
                out = json.dumps(result)
            except (TypeError, ValueError) as e:
                raise _UserCodeError("Runtime.MarshalError", f"Unable to marshal response: {e}")
            kind = b"R"
        except Exception as e:
            traceback.print_exc()
            kind = b"E"
            out = json.dumps(_error_doc(e))
        sys.stdout.flush()
        sys.stderr.flush()
        _chan.send(kind, [request_id, late_init, out])


main()
