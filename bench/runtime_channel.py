#!/usr/bin/python3
"""What one invocation costs eddy's Node runtime client by itself, and how that cost moves
with the scheduling around it: this program plays the server's side of the channel
(src/functions/instance.h) to K runtime processes, one job in flight each, and prints the
runtime processes' CPU time per job.

    bench/runtime_channel.py                 # K = 1, 2, 4; each with this program and the
                                             # runtimes on one CPU, then on separate CPUs
    bench/runtime_channel.py --jobs 40000 --processes 1

"same cpu": this program and the runtimes pinned to CPU 0; "split": this program on CPU 0,
the runtimes on CPU 1, so every job and every answer wakes a process on the other CPU.
"""
import argparse
import json
import os
import selectors
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = (ROOT / "runtimes/node/runtime.js").read_text()


def frame(kind, fields):
    body = kind + b"".join(struct.pack("<I", len(f)) + f for f in fields)
    return struct.pack("<I", len(body)) + body


class Runtime:
    def __init__(self, code, cpu):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": str(code),
               "_HANDLER": "index.handler", "AWS_LAMBDA_FUNCTION_NAME": "bench"}
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", f'exec taskset -c {cpu} "$@" 3<&{theirs.fileno()}', "bash",
             "node", "-e", RUNTIME], env=env, cwd=code, pass_fds=[theirs.fileno()])
        theirs.close()
        self.sock, self.buf = ours, b""

    def frames(self):
        """The complete frames received so far (reads once if there are none)."""
        out = []
        while not out:
            data = self.sock.recv(1 << 16)
            if not data:
                raise SystemExit("a runtime closed its channel")
            self.buf += data
            while len(self.buf) >= 4 and len(self.buf) >= 4 + struct.unpack_from("<I", self.buf)[0]:
                n = struct.unpack_from("<I", self.buf)[0]
                out.append(self.buf[4:4 + n])
                self.buf = self.buf[4 + n:]
        return out

    def send_job(self, n):
        trace = f"Root=1-{n:08x}-{n:024x};Parent={n:016x};Sampled=0".encode()
        deadline = str(int(time.time() * 1000) + 3000).encode()
        self.sock.sendall(frame(b"J", [f"req-{n}".encode(), deadline, b"arn:bench", trace,
                                       b"", b"", b"{}"]))

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(processes, jobs, split):
    os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory() as d:
        code = Path(d)
        (code / "index.js").write_text("exports.handler = async () => ({ hello: 'world' });\n")
        rts = [Runtime(code, 1 if split else 0) for _ in range(processes)]
        try:
            for rt in rts:
                assert rt.frames()[0][:1] == b"N"
            sel = selectors.DefaultSelector()
            for rt in rts:
                sel.register(rt.sock, selectors.EVENT_READ, rt)

            def window(count):
                sent = done = 0
                for rt in rts:
                    rt.send_job(sent)
                    sent += 1
                while done < sent:
                    for key, _ in sel.select():
                        for f in key.data.frames():
                            assert f[:1] == b"R", f[:200]
                            done += 1
                            if sent < count:
                                key.data.send_job(sent)
                                sent += 1
                return done

            window(3000)  # code compiled, heaps grown
            cpu0, t0 = sum(rt.cpu_seconds() for rt in rts), time.perf_counter()
            n = window(jobs)
            cpu1, t1 = sum(rt.cpu_seconds() for rt in rts), time.perf_counter()
            return {"processes": processes, "placement": "split" if split else "same cpu",
                    "runtime_cpu_us_per_job": round((cpu1 - cpu0) * 1e6 / n, 1),
                    "wall_us_per_job": round((t1 - t0) * 1e6 / n, 1)}
        finally:
            for rt in rts:
                rt.proc.kill()
                rt.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--processes", type=int, nargs="*", default=[1, 2, 4])
    args = ap.parse_args()
    if os.cpu_count() < 2:
        raise SystemExit("needs two CPUs")
    for k in args.processes:
        for split in (False, True):
            print(json.dumps(run(k, args.jobs, split)), flush=True)


if __name__ == "__main__":
    main()
