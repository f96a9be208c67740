"""The portal in a real browser against `make run`'s system: the launcher runs whole (its own data folder, RabbitMQ
vhost, SeaweedFS, gateway port and demo car port, so it can run beside a `make run`), and Playwright drives Debian's
chromium. Every screen checked gets a screenshot in var/test-artifacts/browser and an axe-core scan."""
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
import requests

from deploy.ports import stop_with_parent, unclaimed_ports
from deploy.processes import PROCESSES
from services.programming.settings import ProgrammingSettings
from services.shared import config as settings
from services.shared.config import ROOT

def pytest_sessionstart(session):
    from eventlet import patcher
    if patcher.is_monkey_patched("socket"):
        pytest.exit("the browser tests run without eventlet: `make test-browser` "
                    "(pytest tests/browser --confcutdir=tests/browser)", returncode=4)


CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps calling home, which this kind of machine refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]
ARTIFACTS = Path(os.environ.get("AOS_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "browser"
MANAGEMENT = "http://127.0.0.1:15672/api/vhosts/"
DEMO_VIN = "WBA7K7109MW240891"


@dataclass
class System:
    base: str
    data_dir: Path
    env: dict
    car_port: int
    car_control_port: int  # the demo car's hands: repairs, delivery (deploy.demo car ...)

    @property
    def manufacturer_key(self):
        return settings.build(ProgrammingSettings, self.env).manufacturer_key_file


def _wait_for_banner(process, log, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "AOS is running." in text:
            return
        if process.poll() is not None:
            pytest.fail(f"`make run`'s launcher stopped (exit {process.returncode}):\n{text[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"the system did not come up within {seconds} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    if not (ROOT / "portal" / "dist" / "index.html").exists():
        pytest.fail("the portal is not built: `make portal` (make test does it)")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run installs it)")
    data_dir = tmp_path_factory.mktemp("aos-browser")
    vhost = f"aos-browser-{uuid.uuid4().hex[:8]}"
    requests.put(MANAGEMENT + vhost, auth=("guest", "guest"), timeout=10).raise_for_status()
    # metrics: the block after it is the processes' (each its metrics_port on), then the stand-ins' ports
    ports = unclaimed_ports(5 + max(p.metrics_port for p in PROCESSES) + 4)
    gateway, car, blob, mail, metrics = ports[:5]
    control, vies, sermi, receiver = ports[-4:]
    # the portal at localhost: a passkey's relying party is a host name (Chromium takes no IP address for one)
    env = os.environ | {"AOS_PROFILE": "development", "AOS_SMTP_PORT": str(mail),
                        "AOS_PORTAL_URL": f"http://localhost:{gateway}",
        "AOS_DATA_DIR": str(data_dir), "AOS_GATEWAY_ADDRESS": f"127.0.0.1:{gateway}",
        "AOS_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}", "AOS_BLOB_ENDPOINT": f"127.0.0.1:{blob}",
        "AOS_VIES_URL": f"http://127.0.0.1:{vies}", "AOS_SERMI_ISSUER": f"http://127.0.0.1:{sermi}",
        "AOS_METRICS_BASE_PORT": str(metrics), "AOS_DEMO_CAR_PORT": str(car),
        "AOS_DEMO_CAR_CONTROL_PORT": str(control), "AOS_DEMO_RECEIVER_PORT": str(receiver),
        "PYTHONUNBUFFERED": "1"}
    env.pop("AOS_DATABASE_URL", None)  # the embedded default, as `make run` on a fresh machine
    log = data_dir / "launcher.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "deploy.launcher"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=stop_with_parent)  # a killed test run leaves nothing behind
    try:
        _wait_for_banner(process, log)
        yield System(f"http://localhost:{gateway}", data_dir, env, car, control)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        requests.delete(MANAGEMENT + vhost, auth=("guest", "guest"), timeout=10)
        users = requests.get(MANAGEMENT.replace("vhosts/", "users/"), auth=("guest", "guest"), timeout=10).json()
        for user in [u["name"] for u in users if u["name"].startswith(f"aos-{vhost}-")]:  # the launcher's
            requests.delete(MANAGEMENT.replace("vhosts/", "users/") + user, auth=("guest", "guest"), timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Screens:
    """Each screen the test reaches: a screenshot to look at, and an axe-core scan that must find nothing serious
    or critical. Script errors on the page fail the test too."""

    def __init__(self, page, prefix):
        from axe_playwright_python.sync_playwright import Axe
        self.page, self.prefix, self.axe, self.errors = page, prefix, Axe(), []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and "status of 4" not in m.text
                else None)

    def check(self, name):
        page = self.page
        page.wait_for_load_state("networkidle")
        page.screenshot(path=ARTIFACTS / f"{self.prefix}-{name}.png", full_page=True)
        found = self.axe.run(page).response["violations"]
        serious = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                   for v in found if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: accessibility violations:\n" + "\n".join(serious)
        assert not self.errors, f"{name}: script errors on the page: {self.errors}"


@pytest.fixture
def page(browser, system, request):
    context = browser.new_context(base_url=system.base, viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  locale="en-GB")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.visit = lambda url: visit(tab, url)
    tab.nav = lambda name: nav(tab, name)
    tab.screens = Screens(tab, request.node.name.removeprefix("test_").split("_")[0])
    tab.mail_folder = system.data_dir / "mail"  # what AOS mailed, kept by make run's SMTP catcher
    yield tab
    context.close()


def arrived(page, url):
    """Wait until the portal shows the screen of `url` (its <main data-route>): a test that acts right after a
    navigation would otherwise fill a field of the screen it is leaving (both have a "VIN")."""
    route = url.split("#/", 1)[1].split("?", 1)[0].strip("/") if "#/" in url else ""
    page.wait_for_selector(f'main[data-route="{route}"]', state="attached")


def visit(page, url):
    page.goto(url)
    arrived(page, url)


def nav(page, name):
    """A link of the main navigation followed, and its screen shown."""
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
    href = link.get_attribute("href")
    link.click()
    arrived(page, href)


class Technician:
    """A person at the workshop: their login, and codes from their authenticator app (never the same one twice:
    AOS refuses a code that was used)."""

    def __init__(self, email, password, secret=None):
        self.email, self.password, self.secret, self.last_step = email, password, secret, 0

    def code(self):
        """AOS takes each step's code once and never an older one; it accepts the next step's (phones run a
        little ahead), so a second code within the same 30 s is the next step's."""
        while True:
            now = int(time.time() // 30)
            step = max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return pyotp.TOTP(self.secret).at(step * 30)
            time.sleep(1)


def new_email(name="meister"):
    return f"{name}.{uuid.uuid4().hex[:8]}@werkstatt.example"
