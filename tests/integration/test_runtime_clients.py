"""eddy's own runtime clients (runtimes/node/runtime.js, runtimes/python/runtime.py) driven
directly over their channel, the way the server drives them, to check what shows only after
many invocations: a busy instance's memory must not grow with the number of invocations.

The channel (src/functions/instance.h): descriptor 3 is a Unix socket carrying frames of a
u32 length (LE), a type byte and fields (u32 length + bytes each). The runtime says N when
ready; a job is a J frame (request id, deadline ms, ARN, trace id, client context, init
document, payload); the answer is R (request id, late init ms, body) or E.
"""
import json
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import ROOT, write_code

RUNTIMES = {
    "nodejs": (["node", "-e", (ROOT / "runtimes/node/runtime.js").read_text()], "index.handler", {
        "index.js": """
            exports.handler = async (event) => ({ trace: process.env._X_AMZN_TRACE_ID,
                                                  n: event.n });
        """}),
    "python": (["/usr/bin/python3", "-u", "-c", (ROOT / "runtimes/python/runtime.py").read_text()],
               "app.handler", {
        "app.py": """
            import os
            def handler(event, context):
                return {"trace": os.environ.get("_X_AMZN_TRACE_ID"), "n": event["n"]}
        """}),
}


class Channel:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, kind, fields):
        body = kind + b"".join(struct.pack("<I", len(f)) + f for f in fields)
        self.sock.sendall(struct.pack("<I", len(body)) + body)

    def receive(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack_from("<I", self.buf)[0]
                if len(self.buf) >= 4 + n:
                    frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    fields, at = [], 1
                    while at < len(frame):
                        m = struct.unpack_from("<I", frame, at)[0]
                        fields.append(frame[at + 4:at + 4 + m])
                        at += 4 + m
                    return frame[:1], fields
            data = self.sock.recv(1 << 16)
            assert data, "the runtime closed its channel"
            self.buf += data


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_trace_id_per_invocation_without_memory_growth(runtime, workdir):
    argv, handler, files = RUNTIMES[runtime]
    code = write_code(workdir, runtime, files)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": str(code), "_HANDLER": handler,
           "AWS_LAMBDA_FUNCTION_NAME": "t", "_X_AMZN_TRACE_ID": "from-the-start"}
    # bash puts the channel on descriptor 3, where the runtime looks for it.
    proc = subprocess.Popen(["/bin/bash", "-c", f'exec "$@" 3<&{theirs.fileno()}', "bash", *argv],
                            cwd=code, env=env, pass_fds=[theirs.fileno()])
    theirs.close()
    chan = Channel(ours)
    try:
        assert chan.receive()[0] == b"N"

        def run(n):
            trace = f"Root=1-{n:08x}-{n:024x};Parent={n:016x};Sampled=0".encode()
            deadline = str(int(time.time() * 1000) + 3000).encode()
            chan.send(b"J", [f"req-{n}".encode(), deadline, b"arn:aws:lambda:x:0:function:t",
                             trace, b"", b"", json.dumps({"n": n}).encode()])
            kind, fields = chan.receive()
            assert kind == b"R", fields
            body = json.loads(fields[2])
            assert body == {"trace": trace.decode(), "n": n}

        for n in range(6000):  # warm up: code compiled, heaps grown to their working size
            run(n)
        before = rss_kb(proc.pid)
        for n in range(6000, 46000):
            run(n)
        grown = rss_kb(proc.pid) - before
        # Each trace id set with setenv(3) stays in glibc for good: ~150 bytes an invocation,
        # ~6 MB over these 40,000. What is left is allocator and garbage-collector noise.
        assert grown < 2500, f"{runtime} runtime grew {grown} kB over 40,000 invocations"
    finally:
        proc.kill()
        proc.wait()
        ours.close()
