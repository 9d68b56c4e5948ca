#!/usr/bin/env python3
"""make bench: size, cold start, first and warm invocation latency, and peak
RSS of the release bootstraps, under a local Lambda Runtime API.

Every figure is the median of repeated runs with min and max beside it. The
table goes to stdout and the same figures, as JSON, to target/bench/.

How each figure is taken:
- size: `cargo lambda build --release` bootstraps and zips (scripts/build.sh),
  arm64 and x86_64.
- cold start: wall time from just before the process is spawned to the first
  `GET /runtime/invocation/next` it sends to the Runtime API served here, over
  fresh processes.
- first invocation: a fresh process gets one event. For the refresher a forced
  full refresh against moto and the LWA stand-in; for the reader a function
  URL GET. Round trip = event handed out -> response received. Own work = CPU
  time the function's threads used during the invocation (from
  /proc/<pid>/task/*/schedstat); waiting = round trip - own work (time spent
  waiting on moto, the stand-in and this harness).
- warm: 1,000 invocations in one process. The refresher's skipped path (one
  SSM read per invocation) and the reader's GET served from memory. Handler
  time is the function's own `handler_us` log field; round trip is measured
  here.
- peak RSS: VmHWM of each process just before it is stopped (max over runs).

The host runs the x86_64 bootstraps; arm64 ones are sized, not run.
"""

import argparse
import http.server
import json
import os
import queue
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
CLIENT_ID = "amzn1.application-oa2-client.bench"
CLIENT_SECRET = "amzn1.oa2-cs.v1.BENCH-SECRET"
REFRESH_TOKEN = "Atzr|BENCH-REFRESH"
PARAMETER = "/spapi/lwa/bench/access-token"
SECRET_ID = "spapi/lwa/bench"


def now_ns():
    return time.perf_counter_ns()


# ---------------------------------------------------------------- Runtime API


class RuntimeApi:
    """A minimal Lambda Runtime API (2018-06-01) for one function process."""

    def __init__(self):
        self.events = queue.Queue()
        self.first_poll = None
        self.first_poll_event = threading.Event()
        self.results = queue.Queue()
        self.init_error = None
        self.sent_at = {}
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    if api.first_poll is None:
                        api.first_poll = now_ns()
                        api.first_poll_event.set()
                    item = api.events.get()
                    if item is None:  # stop
                        self.close_connection = True
                        self._reply(500, b"{}")
                        return
                    payload, allowance_s = item
                    rid = str(uuid.uuid4())
                    deadline = int(time.time() * 1000) + allowance_s * 1000
                    body = json.dumps(payload).encode()
                    api.sent_at[rid] = now_ns()
                    self._reply(200, body, [
                        ("Lambda-Runtime-Aws-Request-Id", rid),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                        ("Lambda-Runtime-Invoked-Function-Arn",
                         "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                        ("Content-Type", "application/json"),
                    ])
                else:
                    self._reply(404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if "/init/error" in self.path:
                    api.init_error = body
                    api.first_poll_event.set()
                    self._reply(202, b"{}")
                    return
                parts = self.path.split("/")
                rid, kind = parts[-2], parts[-1]
                done = now_ns()
                self._reply(202, b"{}")
                api.results.put((kind, api.sent_at.pop(rid, done), done, body))

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, payload, timeout=60, allowance_s=30):
        self.events.put((payload, allowance_s))
        kind, sent, done, body = self.results.get(timeout=timeout)
        return kind, (done - sent) / 1e6, body

    def close(self):
        self.events.put(None)
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- processes


def cpu_ns(pid):
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except FileNotFoundError:
        pass
    return total


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Function:
    """One fresh function process under its own Runtime API."""

    def __init__(self, bootstrap, env):
        self.api = RuntimeApi()
        full = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.api.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
            **env,
        }
        self.logs = []
        self.started = now_ns()
        self.proc = subprocess.Popen([bootstrap], env=full, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.api.first_poll_event.wait(30):
            raise RuntimeError(f"{bootstrap} never polled the Runtime API")
        if self.api.init_error:
            raise RuntimeError(f"init error: {self.api.init_error!r}")
        self.cold_ms = (self.api.first_poll - self.started) / 1e6
        self.cold_cpu_ms = cpu_ns(self.proc.pid) / 1e6

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.logs.append(json.loads(line))
            except ValueError:
                self.logs.append({"raw": line.decode(errors="replace")})

    def invoke(self, payload, timeout=60, allowance_s=30):
        before = cpu_ns(self.proc.pid)
        kind, rtt_ms, body = self.api.invoke(payload, timeout=timeout, allowance_s=allowance_s)
        own_ms = (cpu_ns(self.proc.pid) - before) / 1e6
        if kind != "response":
            raise RuntimeError(f"invocation failed: {body[:300]!r}")
        return rtt_ms, own_ms, json.loads(body)

    def stop(self):
        rss = peak_rss_kib(self.proc.pid)
        self.proc.kill()
        self.proc.wait()
        self.api.close()
        return rss

    def handler_us(self, since=0):
        return [l["handler_us"] for l in self.logs[since:] if "handler_us" in l]


# ---------------------------------------------------------------- peers


def start_peer(script, *extra):
    p = subprocess.Popen([PY, os.path.join(ROOT, "tools", script), "--port", "0",
                          "--parent-pid", str(os.getpid()), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode().strip()
    if not line.startswith("LISTENING "):
        raise RuntimeError(f"{script} did not start: {line!r}")
    return p, int(line.split()[1])


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def fleet_bench(bootstrap, n, concurrency=8, delay_ms=100):
    """One fleet run over n profiles against fresh peers: the stand-in answers
    each token request after delay_ms, writes are unpaced. Returns wall time,
    the bound ceil(n / concurrency) * delay, and the peak RSS."""
    import concurrent.futures
    import boto3
    moto, moto_port = start_peer("moto_peer.py")
    lwa, lwa_port = start_peer("lwa_standin.py", "--quiet")
    try:
        tokens = [f"Atzr|BENCH-{i}" for i in range(n)]
        http_json("PUT", f"http://127.0.0.1:{lwa_port}/_control/default", {
            "clients": [{"client_id": CLIENT_ID, "client_secrets": [CLIENT_SECRET], "refresh_tokens": tokens}],
            "delay_ms": delay_ms})
        endpoint = f"http://127.0.0.1:{moto_port}"
        sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        sm.create_secret(Name="spapi/bench/app", SecretString=json.dumps(
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
        started = time.time()
        def create(i):
            sm.create_secret(Name=f"spapi/bench/sellers/s-{i:05d}",
                             SecretString=json.dumps({"refresh_token": tokens[i]}))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(n)))
        setup_s = time.time() - started
        env = {
            "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "LWA_SECRET_PREFIX": "spapi/bench/sellers/",
            "TOKEN_PARAMETER_PREFIX": "/spapi/bench/sellers/",
            "LWA_APP_SECRET_ID": "spapi/bench/app",
            "LWA_TOKEN_URL": f"http://127.0.0.1:{lwa_port}/auth/o2/token",
            "REFRESH_CONCURRENCY": str(concurrency),
            "SSM_WRITE_TPS": "0",
        }
        f = Function(bootstrap, env)
        wall_ms, own_ms, body = f.invoke({"action": "refresh"}, timeout=1800, allowance_s=900)
        rss = f.stop()
        assert body["refreshed"] == n and body["failed"] == 0, {k: v for k, v in body.items() if k != "failures"}
        bound_s = max(-(-n // concurrency) * delay_ms / 1000, 1e-9)
        return {"profiles": n, "concurrency": concurrency, "lwa_delay_ms": delay_ms,
                "wall_s": wall_ms / 1000, "bound_s": bound_s, "ratio": wall_ms / 1000 / bound_s,
                "cpu_s": own_ms / 1000, "peak_rss_kib": rss, "setup_s": setup_s}
    finally:
        moto.kill()
        lwa.kill()


def setup_peers():
    moto, moto_port = start_peer("moto_peer.py")
    lwa, lwa_port = start_peer("lwa_standin.py", "--quiet")
    http_json("PUT", f"http://127.0.0.1:{lwa_port}/_control/default", {
        "clients": [{"client_id": CLIENT_ID, "client_secrets": [CLIENT_SECRET],
                     "refresh_tokens": [REFRESH_TOKEN]}]})
    import boto3  # from the venv (moto depends on it)
    sm = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{moto_port}",
                      region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}))
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LWA_CREDENTIALS_SECRET_ID": SECRET_ID,
        "TOKEN_PARAMETER_NAME": PARAMETER,
        "LWA_TOKEN_URL": f"http://127.0.0.1:{lwa_port}/auth/o2/token",
    }
    return (moto, lwa), env


# ---------------------------------------------------------------- stats


def summary(values):
    values = sorted(values)
    if not values:
        return None
    def pct(p):
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
    return {"median": statistics.median(values), "min": values[0], "max": values[-1],
            "p50": pct(50), "p99": pct(99), "n": len(values)}


def url_get_event():
    with open(os.path.join(ROOT, "events", "reader-url-get.json")) as f:
        return json.load(f)


# ---------------------------------------------------------------- main


def build_sizes(skip_build):
    sizes = {}
    for arch in ("arm64", "x86_64"):
        out = os.path.join(ROOT, "target", f"lambda-{arch}")
        if not skip_build:
            r = subprocess.run([os.path.join(ROOT, "scripts", "build.sh")],
                               env={**os.environ, "ARCH": arch}, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                print(r.stdout[-3000:], file=sys.stderr)
                raise SystemExit(f"bench: the {arch} build failed")
        for fn in ("token-refresher", "token-reader"):
            b = os.path.join(out, fn, "bootstrap")
            z = os.path.join(f"{out}-zip", fn, "bootstrap.zip")
            if os.path.exists(b):
                sizes[f"{fn}/{arch}"] = {"bootstrap_bytes": os.path.getsize(b),
                                        "zip_bytes": os.path.getsize(z) if os.path.exists(z) else None}
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warm", type=int, default=1000)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--fleet", default="1000,10000",
                    help="profile counts for the fleet benchmark, comma-separated; empty to skip")
    args = ap.parse_args()

    sizes = build_sizes(args.skip_build)
    host = os.path.join(ROOT, "target", "lambda-x86_64")
    refresher = os.path.join(host, "token-refresher", "bootstrap")
    reader = os.path.join(host, "token-reader", "bootstrap")
    peers, env = setup_peers()
    results = {"sizes": sizes}
    try:
        for name, bootstrap, first_event, warm_event in (
            ("token-refresher", refresher, {"action": "refresh", "force": True}, {"action": "refresh"}),
            ("token-reader", reader, url_get_event(), url_get_event()),
        ):
            cold, cold_cpu, rtt, own, rss = [], [], [], [], []
            for _ in range(args.runs):
                f = Function(bootstrap, env)
                cold.append(f.cold_ms)
                cold_cpu.append(f.cold_cpu_ms)
                r, o, body = f.invoke(first_event)
                if name == "token-refresher":
                    assert body["outcome"] == "refreshed", body
                else:
                    assert body["statusCode"] == 200, body
                rtt.append(r)
                own.append(o)
                rss.append(f.stop())
            # warm
            f = Function(bootstrap, env)
            f.invoke(first_event)
            mark = len(f.logs)
            warm_rtt = []
            for _ in range(args.warm):
                r, _, body = f.invoke(warm_event)
                warm_rtt.append(r)
            time.sleep(0.2)
            handler = [us / 1000 for us in f.handler_us(mark)]
            rss.append(f.stop())
            results[name] = {
                "cold_start_ms": summary(cold),
                "cold_start_cpu_ms": summary(cold_cpu),
                "first_invocation_ms": summary(rtt),
                "first_invocation_own_work_ms": summary(own),
                "first_invocation_waiting_ms": summary([a - b for a, b in zip(rtt, own)]),
                "warm_round_trip_ms": summary(warm_rtt),
                "warm_handler_ms": summary(handler),
                "peak_rss_kib": {"max": max(rss), "median": statistics.median(rss), "min": min(rss)},
            }
    finally:
        for p in peers:
            p.kill()
    results["fleet"] = []
    for n in [int(x) for x in args.fleet.split(",") if x.strip()]:
        print(f"fleet benchmark: {n} profiles…", file=sys.stderr, flush=True)
        results["fleet"].append(fleet_bench(refresher, n))

    os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
    out = os.path.join(ROOT, "target", "bench", "results.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print_table(results, args)
    print(f"\nJSON: {os.path.relpath(out, ROOT)}")


def fmt(s, unit="ms", digits=2):
    if s is None:
        return "n/a"
    return f"{s['median']:.{digits}f} {unit} (min {s['min']:.{digits}f}, max {s['max']:.{digits}f})"


def print_table(r, args):
    print(f"\n{'figure':<52} {'token-refresher':<40} token-reader")
    print("-" * 132)
    for arch in ("arm64", "x86_64"):
        a = r["sizes"].get(f"token-refresher/{arch}")
        b = r["sizes"].get(f"token-reader/{arch}")
        def mb(x, k):
            return f"{x[k] / 1e6:.2f} MB" if x and x.get(k) else "n/a"
        print(f"{'bootstrap size, ' + arch:<52} {mb(a, 'bootstrap_bytes'):<40} {mb(b, 'bootstrap_bytes')}")
        print(f"{'zip size, ' + arch:<52} {mb(a, 'zip_bytes'):<40} {mb(b, 'zip_bytes')}")
    rows = [
        (f"cold start to first poll ({args.runs} processes)", "cold_start_ms", "ms", 2),
        ("  CPU used by then", "cold_start_cpu_ms", "ms", 2),
        ("first invocation, round trip", "first_invocation_ms", "ms", 2),
        ("  own work (CPU)", "first_invocation_own_work_ms", "ms", 2),
        ("  waiting on peers and harness", "first_invocation_waiting_ms", "ms", 2),
    ]
    for label, key, unit, d in rows:
        print(f"{label:<52} {fmt(r['token-refresher'][key], unit, d):<40} {fmt(r['token-reader'][key], unit, d)}")
    for label, key in ((f"warm round trip ({args.warm})", "warm_round_trip_ms"),
                       (f"warm handler time ({args.warm})", "warm_handler_ms")):
        cells = []
        for fn in ("token-refresher", "token-reader"):
            s = r[fn][key]
            cells.append(f"p50 {s['p50'] * 1000:.0f} µs, p99 {s['p99'] * 1000:.0f} µs" if s else "n/a")
        print(f"{label:<52} {cells[0]:<40} {cells[1]}")
    for fl in r.get("fleet", []):
        print(f"{'fleet run, %d profiles (c=%d, LWA %d ms)' % (fl['profiles'], fl['concurrency'], fl['lwa_delay_ms']):<52} "
              f"{fl['wall_s']:.1f} s = {fl['ratio']:.2f}x the {fl['bound_s']:.1f} s bound, CPU {fl['cpu_s']:.1f} s, "
              f"peak RSS {fl['peak_rss_kib'] / 1024:.1f} MB")
    print(f"{'peak RSS (max over runs)':<52} {r['token-refresher']['peak_rss_kib']['max'] / 1024:.1f} MB{'':<33} "
          f"{r['token-reader']['peak_rss_kib']['max'] / 1024:.1f} MB")


if __name__ == "__main__":
    main()
