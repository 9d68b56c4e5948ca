#!/usr/bin/env python3
"""moto's server (Secrets Manager, SSM, KMS, ...) for tests and local runs, with a parent watchdog.

Usage (with the project venv, which has moto[server] pinned):
    .venv/bin/python tools/moto_peer.py [--host 127.0.0.1] [--port 0] [--parent-pid PID]

Starts moto's ThreadedMotoServer in-process (port 0 = any free port), waits until it
answers HTTP, then prints exactly one line ``LISTENING <port>`` to stdout. Nothing else
ever reaches stdout: after that line, file descriptor 1 points at stderr, where moto's
and werkzeug's logging goes (warnings only). With --parent-pid the process exits within
about a second once that pid is gone, so a dying test harness never leaks it. SIGTERM and
SIGINT stop it cleanly (exit status 0).

Point the AWS SDK at it with AWS_ENDPOINT_URL=http://127.0.0.1:<port>, any region and
dummy credentials.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import signal
import sys
import threading
import time


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # A zombie (exited, not yet reaped) still answers kill(0): treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        i = stat.rindex(b")")
        return stat[i + 2 : i + 3] not in (b"Z", b"X")
    except (OSError, ValueError):
        return True


def start_parent_watchdog(parent_pid, interval=0.25):
    initial_ppid = os.getppid()

    def watch():
        while True:
            if (initial_ppid == parent_pid and os.getppid() != initial_ppid) or not _pid_alive(parent_pid):
                try:
                    sys.stderr.write(f"moto-peer: parent {parent_pid} is gone, exiting\n")
                    sys.stderr.flush()
                finally:
                    os._exit(0)
            time.sleep(interval)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _wait_ready(host, port, timeout=60.0):
    """Until moto answers any HTTP request."""
    probe_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    deadline = time.monotonic() + timeout
    while True:
        try:
            c = http.client.HTTPConnection(probe_host, port, timeout=5)
            c.request("GET", "/moto-api/")
            c.getresponse().read()
            c.close()
            return
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def patch_moto():
    """Where moto differs from the real Secrets Manager API, make it behave like AWS.

    moto 5.x: after ``UpdateSecretVersionStage`` moves ``AWSCURRENT`` (MoveToVersionId),
    ``GetSecretValue`` without a stage still returns the old version, and the next
    ``PutSecretValue`` leaves two versions labelled ``AWSCURRENT``. The real API
    returns the version now labelled ``AWSCURRENT`` and keeps the label unique
    (API reference: UpdateSecretVersionStage, PutSecretValue). Pinned by
    tests/rotation.rs (moto_matches_the_real_staging_rules).

    moto 5.x: ``PutSecretValue`` staged ``AWSCURRENT`` replaces every label of the
    version it moves ``AWSCURRENT`` away from by ``AWSPREVIOUS``; the real API moves
    only ``AWSCURRENT`` and ``AWSPREVIOUS`` and leaves other labels (``AWSPENDING``,
    custom ones) where they are.

    moto 5.x: ``ListSecretVersionIds`` answers the time of the call as every
    version's ``CreatedDate``, and a version's creation time is whole seconds;
    the real API answers when each version was created, with milliseconds. The rotator orders a notification's ``eventTime`` against the
    creation of the version that stored the current client secret, so the
    stand-in's notifications and moto's versions need the same precision.
    """
    from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

    def reset_default_version(self, secret_version, version_id):
        for old in self.versions.values():
            if "AWSPREVIOUS" in old["version_stages"]:
                old["version_stages"].remove("AWSPREVIOUS")
        if self.default_version_id and self.default_version_id in self.versions:
            stages = self.versions[self.default_version_id]["version_stages"]
            if "AWSCURRENT" in stages:
                stages.remove("AWSCURRENT")
            stages.append("AWSPREVIOUS")
        self.versions[version_id] = secret_version
        self.default_version_id = version_id

    FakeSecret.reset_default_version = reset_default_version

    original_add = SecretsManagerBackend._add_secret
    if not getattr(original_add, "_patched", False):
        def _add_secret(self, secret_id, *args, **kwargs):
            import time

            before = set(self.secrets[secret_id].versions) if secret_id in self.secrets else set()
            created = time.time()
            result = original_add(self, secret_id, *args, **kwargs)
            secret = self.secrets[secret_id] if secret_id in self.secrets else None
            for vid, version in (secret.versions.items() if secret is not None else ()):
                if vid not in before:
                    version["createdate"] = round(created, 3)
            return result

        _add_secret._patched = True
        SecretsManagerBackend._add_secret = _add_secret

    original_list = SecretsManagerBackend.list_secret_version_ids
    if not getattr(original_list, "_patched", False):
        def list_secret_version_ids(self, secret_id):
            import json

            answer = json.loads(original_list(self, secret_id))
            versions = self.secrets[secret_id].versions
            for v in answer.get("Versions", []):
                created = versions.get(v.get("VersionId"), {}).get("createdate")
                if created is not None:
                    v["CreatedDate"] = created
            return json.dumps(answer)

        list_secret_version_ids._patched = True
        SecretsManagerBackend.list_secret_version_ids = list_secret_version_ids

    original = SecretsManagerBackend.update_secret_version_stage
    if getattr(original, "_patched", False):
        return

    def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        result = original(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            secret = self.secrets[secret_id]
            for vid, version in secret.versions.items():
                if vid != move_to_version_id and "AWSCURRENT" in version["version_stages"]:
                    version["version_stages"].remove("AWSCURRENT")
            secret.set_default_version_id(move_to_version_id)
        return result

    update_secret_version_stage._patched = True
    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage


def main(argv=None):
    ap = argparse.ArgumentParser(description="moto server with a parent watchdog")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--parent-pid", type=int)
    args = ap.parse_args(argv)

    if args.parent_pid is not None:
        start_parent_watchdog(args.parent_pid)

    # Keep the real stdout for the one LISTENING line; everything else written to
    # fd 1 or sys.stdout (moto/werkzeug prints, stray logging) lands on stderr.
    announce = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="moto-peer %(name)s: %(message)s")
    for name in ("werkzeug", "moto", "botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)

    stop_event = threading.Event()

    def on_signal(signum, frame):
        stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    from moto.server import ThreadedMotoServer  # slow import: after the signal handlers

    patch_moto()

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    if not stop_event.is_set():
        _wait_ready(args.host, port)
        announce.write(f"LISTENING {port}\n")
        announce.flush()

    while not stop_event.wait(0.5):
        pass

    # Clean stop, but never hang on it.
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(3.0)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
