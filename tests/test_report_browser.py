"""Issue 10's acceptance check: both reports open in headless Chromium without errors.

They make no network requests either.

Chromium is driven through its DevTools protocol over a pipe (``--remote-debugging-pipe``: JSON
messages separated by NUL bytes on file descriptors 3 and 4), so no Python package or browser
download is needed. Skips with the reason when Chromium is not installed (``apt-get install
chromium`` on Debian; ``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from test_report import SCRIPT_LABEL, make_report_outputs

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}


CHROMIUM = (
    os.environ.get("TMSTARGET_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM,
    reason="Chromium not found (install Debian's 'chromium' "
    "package, or set TMSTARGET_CHROMIUM); the browser "
    "check needs it",
)


def _high_fd(fd: int) -> int:
    """Move a descriptor above 9 (close-on-exec).

    Then placing the pipe ends on 3 and 4 cannot clobber the descriptor.
    """
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_browser, self._w = map(_high_fd, os.pipe())
        self._r, from_browser = map(_high_fd, os.pipe())

        def pipes_on_3_and_4() -> None:  # runs in the child: dup2 leaves 3 and 4 open across exec
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=pipes_on_3_and_4,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buf, self._id, self.events = b"", 0, []

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the debugging pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}} | (
            {"sessionId": session} if session else {}
        )
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._w, data) :]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for k, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(k)
            self.events.append(self._message(deadline))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    tools = DevTools(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    yield tools
    tools.close()


@pytest.fixture(scope="module")
def reports(sim_dataset, tmp_path_factory) -> dict[str, Path]:
    from tmstarget.report import write_cohort_report, write_participant_report

    out = make_report_outputs(sim_dataset[0], tmp_path_factory.mktemp("browser") / "out")
    madrs = out / "madrs.tsv"
    # MADRS tables accept only participant labels (letters and digits), so the page with the MADRS
    # figure is
    # sub-01's; the participant named like a script is checked in the cohort table (and escaped in
    # test_report.py)
    madrs.write_text("participant\ttimepoint\ttotal\n01\tbaseline\t30\n01\tweek4\t12\n")
    # the treatment figures (issue 29): an MEP trials table and a session log of two sessions
    trials = out / "trials.tsv"
    trials.write_text(
        "session\tintensity_pct_mso\tamplitude_uv\n"
        + "".join(f"day1\t48\t{a}\n" for a in (60, 20, 55, 70, 10, 52, 30, 80, 40, 20))
        + "day1\t47\t10\n" * 10
    )
    log = out / "log.tsv"
    log.write_text(
        "session\tday\tplanned_start\tpulses_planned\tpulses_delivered\n"
        "1\t1\t2026-12-07T08:00\t1800\t1800\n2\t1\t2026-12-07T09:00\t1800\t0\n"
    )
    extras = {
        "madrs": madrs,
        "mt_trials": trials,
        "session_log": log,
        "head_measurements": {
            "nasion_inion_cm": 36,
            "tragus_tragus_cm": 35,
            "circumference_cm": 57,
        },
    }
    return {
        "participant": write_participant_report(out, "01", extras=extras),
        "cohort": write_cohort_report(out, _trial_analysis(tmp_path_factory.mktemp("trial"))),
    }


def _trial_analysis(folder: Path) -> dict:
    """Return the ``trial analyze --report`` JSON of a simulated trial (cohort trial figures)."""
    import contextlib
    import json

    from tmstarget.cli.main import main
    from tmstarget.trial import TrialDesign, simulate_trial
    from tmstarget.trial.io import write_table

    table, analysis = folder / "trial.tsv", folder / "analysis.json"
    write_table(simulate_trial(TrialDesign(record_days=True, dropout=0.2), seed=1), table)
    argv = ["trial", "analyze", str(table), "--imputations", "3", "--report", str(analysis)]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*argv, "--quiet"]) == 0
    return json.loads(analysis.read_text())


def open_page(tools: DevTools, path: Path, viewport: dict) -> dict:
    """Load a file in a fresh tab; return its requests, errors, images, layout and a screenshot."""
    target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log", "Network"):
        tools.call(f"{domain}.enable", session=session)
    tools.call("Emulation.setDeviceMetricsOverride", viewport, session=session)
    tools.events.clear()
    tools.call("Page.navigate", {"url": path.as_uri()}, session=session)
    tools.wait_for("Page.loadEventFired", session)
    page = tools.call(
        "Runtime.evaluate",
        {
            "returnByValue": True,
            "expression": """({
        images: Array.from(document.images).map(i => {
            const r = i.getBoundingClientRect();
            return {ok: i.complete && i.naturalWidth > 0, alt: i.alt,
                    x: r.left + window.scrollX, y: r.top + window.scrollY,
                    width: r.width, height: r.height};
        }),
        scripts: document.scripts.length,
        heading: document.querySelector('h1').textContent,
        cells: Array.from(document.querySelectorAll('td.participant')).map(td => td.textContent),
        notice: document.getElementById('notice').textContent,
        width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth})""",
        },
        session=session,
    )["result"]["value"]
    shot = tools.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    for img in page["images"]:  # each figure as drawn on the page, at its laid-out size
        clip = {k: img[k] for k in ("x", "y", "width", "height")}
        img["pixels"] = (
            base64.b64decode(
                tools.call(
                    "Page.captureScreenshot",
                    {"format": "png", "clip": {**clip, "scale": 1}, "captureBeyondViewport": True},
                    session=session,
                )["data"]
            )
            if img["width"] >= 1 and img["height"] >= 1
            else b""
        )
    if os.environ.get("TMSTARGET_SCREENSHOTS"):  # docs/report.md's pictures
        full = tools.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=session,
        )["data"]
        out = Path(os.environ["TMSTARGET_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        name = f"{path.stem}-{viewport['width']}px.png"
        (out / name).write_bytes(base64.b64decode(full))
    events = [e for e in tools.events if e.get("sessionId") == session]
    tools.call("Target.closeTarget", {"targetId": target})
    page["requests"] = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    page["errors"] = [
        e["params"]
        for e in events
        if e["method"] in ("Runtime.exceptionThrown",)
        or (
            e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
        )
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    page["screenshot"] = base64.b64decode(shot)
    return page


def _not_blank(png: bytes) -> bool:
    import matplotlib.image as mpimg

    pixels = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    return float(pixels.std()) > 0.05 and float((pixels.mean(axis=-1) < 0.9).mean()) > 0.02


def _figure_drawn(png: bytes) -> bool:
    """Return whether a figure's screenshot shows lines or colour, not an empty box."""
    import matplotlib.image as mpimg

    if not png:
        return False
    pixels = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    return float(pixels.std()) > 0.02 and float((pixels.mean(axis=-1) < 0.8).mean()) > 0.002


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("which", ["participant", "cohort"])
def test_report_in_headless_chromium(reports, browser, which, viewport):
    path = reports[which]
    page = open_page(browser, path, viewport)
    assert page["errors"] == []
    assert [u for u in page["requests"] if not u.startswith("data:")] == [
        path.as_uri()
    ]  # the file itself, nothing else
    assert page["images"] and all(img["ok"] for img in page["images"]), page["images"]
    assert page["scripts"] == 0
    assert "research use; not a medical device" in page["notice"]
    assert (
        page["scrollWidth"] <= page["width"] == viewport["width"]
    )  # the viewport meta works; nothing overflows
    assert _not_blank(page["screenshot"])
    for img in page["images"]:  # every figure is laid out, fits the page and shows something
        assert img["alt"] and img["width"] >= 100 and img["x"] + img["width"] <= viewport["width"]
        assert _figure_drawn(img["pixels"]), img["alt"]
    if which == "participant":
        assert "sub-01" in page["heading"]
        # score slices, glass brain, FD, tSNR, MEP curve, session timeline, MADRS, and the coil
        # section's two figures (default placement on the head, its E-field on cortex: no coil JSON)
        assert len(page["images"]) == 9
    else:
        assert f"sub-{SCRIPT_LABEL}" in page["cells"]
        alts = " | ".join(img["alt"] for img in page["images"])
        for figure in (
            "each with one line joining their session targets",  # sub-02's two sessions
            "Forest plot of the difference in MADRS reduction",
            "Bar chart of response and remission",
        ):
            assert figure in alts


def test_a_blank_figure_is_not_counted_as_drawn():
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    plt.imsave(buf, np.ones((60, 200, 3)), format="png")
    assert not _figure_drawn(buf.getvalue()) and not _figure_drawn(b"")
    line = np.ones((60, 200, 3))
    line[28:32, 10:190] = 0.1
    buf = io.BytesIO()
    plt.imsave(buf, line, format="png")
    assert _figure_drawn(buf.getvalue())
