"""Seller onboarding in a real headless Chromium (Debian's chromium and
chromium-driver, driven by selenium): the link, the stand-in's consent page and
its Authorize button, the callback, the Login-URI path; and the failure pages a
seller can meet (expired link, another browser, a reused link). Cookies,
redirects and headers are handled by the browser itself.

Started here, on 127.0.0.1 only, and stopped at the end: moto, the LWA stand-in
and `cargo lambda watch` serving seller-onboarding and token-reader.

    make test-browser       (installs the browser packages when missing)
    .venv/bin/python -m unittest tests/browser/test_onboarding_browser.py -v
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import onboarding_local  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
HOST = "sellercentral-europe.amazon.com"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=390,844",  # a phone
]


def start_peer(script, log):
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tools", script), "--host", "127.0.0.1", "--port", "0",
         "--parent-pid", str(os.getpid())],
        stdout=subprocess.PIPE, stderr=log, text=True,
    )
    m = re.fullmatch(r"LISTENING (\d+)\n", proc.stdout.readline())
    if not m:
        proc.kill()
        raise RuntimeError(f"{script} did not start")
    return proc, int(m.group(1))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=900):
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class BrowserOnboarding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from selenium import webdriver  # noqa: F401  (fail early if the venv lacks it)

        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.path.exists(path):
                raise unittest.SkipTest(f"{path} missing: run `make test-browser` (it installs chromium, chromium-driver)")
        cls.tmp = tempfile.mkdtemp(prefix="onboarding-browser-")
        cls.log = open(os.path.join(cls.tmp, "peers.log"), "w")
        cls.procs = []
        moto, moto_port = start_peer("moto_peer.py", cls.log)
        lwa, lwa_port = start_peer("lwa_standin.py", cls.log)
        cls.procs += [moto, lwa]
        cls.lwa = f"http://127.0.0.1:{lwa_port}"
        cls.port = free_port()
        env_file = os.path.join(cls.tmp, "functions.env")
        with open(env_file, "w") as f:
            f.write(
                f"AWS_ENDPOINT_URL=http://127.0.0.1:{moto_port}\nAWS_REGION=us-east-1\n"
                "AWS_ACCESS_KEY_ID=testing\nAWS_SECRET_ACCESS_KEY=testing\nRUST_LOG=info\n"
            )
        os.environ.update(ONB_MOTO=f"http://127.0.0.1:{moto_port}", ONB_LWA=cls.lwa, ONB_NS="browser",
                          ONB_PORT=str(cls.port))
        cls.key = onboarding_local.setup(env_file)
        cls.base = f"http://127.0.0.1:{cls.port}/lambda-url/seller-onboarding"
        cls.watch_log = open(os.path.join(cls.tmp, "watch.log"), "w")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LWA_", "TOKEN_", "ONBOARDING_", "SPAPI_"))}
        # cargo-lambda is pinned in the venv next to this python.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        cls.watch = subprocess.Popen(
            ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", str(cls.port),
             "--env-file", env_file, "--ignore-changes"],
            cwd=ROOT, stdout=cls.watch_log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), 0.5).close()
                break
            except OSError:
                if cls.watch.poll() is not None or time.monotonic() > deadline:
                    cls.tearDownClass()
                    raise RuntimeError("cargo lambda watch did not start; see " + cls.watch_log.name)
                time.sleep(0.2)
        cls.drivers = []

    @classmethod
    def tearDownClass(cls):
        for d in getattr(cls, "drivers", []):
            try:
                d.quit()
            except Exception:
                pass
        watch = getattr(cls, "watch", None)
        if watch and watch.poll() is None:
            os.killpg(watch.pid, signal.SIGTERM)  # our own process group (start_new_session)
            try:
                watch.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(watch.pid, signal.SIGKILL)
        for p in getattr(cls, "procs", []):
            p.terminate()
            p.wait(10)
            p.stdout.close()
        if os.environ.get("KEEP_BROWSER_LOGS"):
            print("logs in", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers

    def browser(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for f in FLAGS:
            opts.add_argument(f)
        opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=self.tmp)}")
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        d.set_page_load_timeout(900)  # the first request builds the function
        self.drivers.append(d)
        return d

    def invoke(self, function, event):
        return http("POST", f"http://127.0.0.1:{self.port}/2015-03-31/functions/{function}/invocations",
                    json.dumps(event).encode())

    def link(self, profile, marketplace="DE"):
        out = self.invoke("seller-onboarding", {"action": "link", "profile": profile, "marketplace": marketplace})
        self.assertTrue(out["url"].startswith(f"{self.base}/authorize?ticket="), out)
        return out["url"]

    def responses(self, driver):
        """(url, status, headers) of every response from the function, as the browser saw it."""
        seen = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            r = None
            if msg["method"] == "Network.responseReceived":
                r = params["response"]
            elif msg["method"] == "Network.requestWillBeSent" and "redirectResponse" in params:
                r = params["redirectResponse"]
            if r and r["url"].startswith(self.base):
                seen.append((r["url"], r["status"], {k.lower(): v for k, v in r["headers"].items()}))
        return seen

    def assert_headers(self, driver):
        seen = self.responses(driver)
        self.assertTrue(seen)
        for url, status, h in seen:
            path = urllib.parse.urlsplit(url).path
            self.assertEqual(h.get("referrer-policy"), "no-referrer", path)
            self.assertEqual(h.get("cache-control"), "no-store", path)
            if status != 302:
                self.assertEqual(h.get("x-content-type-options"), "nosniff", path)
                self.assertTrue(h.get("content-security-policy", "").startswith("default-src 'none'"), path)
                self.assertTrue(h.get("content-type", "").startswith("text/html"), path)
        return seen

    def heading(self, driver, timeout=60):
        """The page's h1, once the navigation has landed (clicks do not wait for it)."""
        from selenium.webdriver.common.by import By

        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = driver.find_element(By.TAG_NAME, "h1").text
                if driver.execute_script("return document.readyState") == "complete":
                    return last
            except Exception:
                pass
            time.sleep(0.05)
        return last

    def click_authorize(self, driver):
        from selenium.webdriver.common.by import By

        self.assertEqual(self.heading(driver), "Authorize the app")
        self.assertTrue(driver.current_url.startswith(f"{self.lwa}/{HOST}/apps/authorize/"), driver.current_url)
        button = driver.find_element(By.ID, "authorize")
        button.click()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the consent page is gone
            try:
                button.is_displayed()
            except Exception:
                return
            time.sleep(0.05)

    def assert_no_secret_in_page(self, driver):
        src = driver.page_source
        for needle in ("Atza|", "Atzr|", "amzn1.oa2-cs", self.key, "spapi_oauth_code", "ticket="):
            self.assertNotIn(needle, src)
        self.assertNotIn("<script", src.lower())

    # ---- tests

    def test_connect_then_reused_link_then_login_uri(self):
        b = self.browser()
        link = self.link("browser-acme-de")
        b.get(link)
        self.click_authorize(b)
        self.assertEqual(self.heading(b), "Your account is connected")
        self.assert_no_secret_in_page(b)
        seen = self.assert_headers(b)
        statuses = [(urllib.parse.urlsplit(u).path.rsplit("/", 1)[1], s) for u, s, _ in seen]
        self.assertIn(("authorize", 302), statuses)
        self.assertIn(("callback", 200), statuses)
        cookie = b.get_cookie("spapi-onboarding")
        self.assertTrue(cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax", cookie)
        # The reader serves the seller's token at once.
        token = self.invoke("token-reader", {"action": "get", "profile": "browser-acme-de"})
        self.assertTrue(token["access_token"].startswith("Atza|"))
        # The same link again: used up.
        b.get(link)
        self.assertEqual(self.heading(b), "This link was already used")
        # Re-authorization through the Login URI (Appstore / yearly): the stand-in's
        # Appstore sends the browser to /login, which finds the seller by tag.
        start = f"{self.lwa}/{HOST}/appstore/authorize?" + urllib.parse.urlencode(
            {"login_uri": f"{self.base}/login", "selling_partner_id": "A1STANDINSELLER"})
        b.get(start)
        self.click_authorize(b)
        self.assertEqual(self.heading(b), "Your account is connected")
        self.assert_headers(b)

    def test_expired_link(self):
        b = self.browser()
        t = onboarding_local.ticket(self.key, "browser-expired", "DE", time.time() - 60)
        b.get(f"{self.base}/authorize?ticket={t}")
        self.assertEqual(self.heading(b), "This link has expired")
        self.assertIn("new one", b.page_source)
        self.assert_headers(b)

    def test_other_browser_then_the_first_finishes(self):
        first, other = self.browser(), self.browser()
        link = self.link("browser-other")
        first.get(link)
        consent = first.current_url
        other.get(consent)  # the consent page's URL carried to another browser
        self.click_authorize(other)
        self.assertEqual(self.heading(other), "Please use one browser")
        self.assert_no_secret_in_page(other)
        self.assert_headers(other)
        # Nothing was written and the link still works in the first browser.
        self.click_authorize(first)
        self.assertEqual(self.heading(first), "Your account is connected")


if __name__ == "__main__":
    unittest.main()
