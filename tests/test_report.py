"""Tests of radiomics_aln.report: a self-contained HTML file that renders in a real browser.

The browser test drives headless Chromium over the DevTools protocol (``--remote-debugging-pipe``):
it loads the report from disk, then checks that every ``<img>`` decoded (``naturalWidth > 0``) and
that no console error, exception or failed/blocked resource load was logged. It skips only when
no Chromium binary exists (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError
from radiomics_aln.report import figure_to_data_uri, render_html, report

CHROMIUM = next(
    (
        p
        for p in (
            os.environ.get("CHROMIUM"),
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
            shutil.which("google-chrome"),
        )
        if p
    ),
    None,
)


def _content():
    fig1, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 0.2, 1], [0, 0.7, 1], label="model")
    ax.legend()
    fig2, ax2 = plt.subplots(figsize=(4, 3))
    ax2.hist(np.random.default_rng(0).normal(size=200), bins=20)
    table = pd.DataFrame(
        {"AUC": [0.81234, 0.7], "p": ["<0.001", "0.042"]}, index=["Clinical", "Nomogram <&>"]
    )
    return {
        "title": "Test report <script>alert(1)</script>",
        "subtitle": "synthetic",
        "methods": {"Cohorts": ["Training n=100", "formula: score = 1 + 2 * x"]},
        "sections": [
            {"title": "Table 3", "tables": {"Performance": table}, "items": {"cutoff": 0.42}},
            {"title": "Curves", "figures": {"ROC": fig1, "Histogram": ax2}},
        ],
    }


def test_render_escapes_and_embeds(tmp_path):
    page = render_html(_content())
    assert "<script" not in page  # the title's <script> is escaped, and no JS is ever emitted
    assert "&lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 2
    assert "Nomogram &lt;&amp;&gt;" in page
    assert "0.8123" in page  # floats shown with 4 significant digits
    assert "http://" not in page and "https://" not in page
    assert "Content-Security-Policy" in page
    # navigation lists every section
    for anchor in ('href="#methods"', 'href="#table-3"', 'href="#curves"'):
        assert anchor in page


def test_a_table_may_carry_its_note():
    # (DataFrame, note): the note is printed (escaped) right under its table
    df = pd.DataFrame({"SEN (95% CI)": ["0.900 (0.800\u20130.950)"]})
    page = render_html({"title": "T", "tables": {"Table 3": (df, "SEN: sensitivity <Wilson>"),
                                                 "Plain": df}})  # fmt: skip
    assert page.count('class="tablenote"') == 1
    assert '<p class="tablenote">SEN: sensitivity &lt;Wilson&gt;</p>' in page
    assert page.index("0.900 (0.800") < page.index("tablenote\">SEN")


def test_report_writes_file_and_accepts_study_like(tmp_path):
    class StudyLike:
        def report_content(self):
            return {"title": "From a study", "tables": {"T": pd.DataFrame({"a": [1]})}}

    out = report(StudyLike(), tmp_path / "sub" / "r.html")
    assert out.is_file() and "From a study" in out.read_text()
    assert not (tmp_path / "sub" / "r.html.tmp").exists()


def test_figure_inputs(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    png = tmp_path / "f.png"
    fig.savefig(png)
    svg = tmp_path / "f.svg"
    fig.savefig(svg)
    assert figure_to_data_uri(png).startswith("data:image/png;base64,")
    assert figure_to_data_uri(svg).startswith("data:image/svg+xml;base64,")
    assert figure_to_data_uri(png.read_bytes()).startswith("data:image/png;base64,")


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="unknown report key"):
        render_html({"title": "x", "tabels": {}})
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        render_html({"tables": {"T": [1, 2]}})
    with pytest.raises(InputError, match="cannot embed an object of type int"):
        render_html({"figures": {"F": 3}})
    with pytest.raises(InputError, match="does not exist"):
        figure_to_data_uri(tmp_path / "nope.png")
    with pytest.raises(InputError, match="must be .png or .svg"):
        (tmp_path / "a.txt").write_text("x")
        figure_to_data_uri(tmp_path / "a.txt")
    with pytest.raises(InputError, match="not a PNG"):
        figure_to_data_uri(b"GIF89a")
    with pytest.raises(InputError, match="section 0 must be a mapping with a 'title'"):
        render_html({"sections": [{"text": "x"}]})
    with pytest.raises(InputError, match="must be a Study or a mapping"):
        render_html(["x"])


# --------------------------------------------------------------------------- browser test


class _Chromium:
    """Minimal DevTools-protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str, profile: str):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def _fds():
            # copy both ends above fd 10 first: a pipe already sitting on fd 3 or 4 would
            # otherwise be clobbered, or keep its close-on-exec flag (dup2(fd, fd) is a no-op)
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)  # dup2 makes fds 3 and 4 inheritable
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=_fds,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=60.0):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, name, timeout=60.0):
        deadline = time.monotonic() + timeout
        for ev in self.events:
            if ev.get("method") == name:
                return ev
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == name:
                return ev

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._w)
        os.close(self._r)


def render_in_chromium(html_path: Path, screenshot: Path | None = None) -> dict:
    """Load ``html_path`` in headless Chromium; return image status and console errors."""
    with tempfile.TemporaryDirectory() as profile:
        browser = _Chromium(CHROMIUM, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=session)
            browser.wait_event("Page.loadEventFired")
            images = browser.send(
                "Runtime.evaluate",
                {
                    "expression": "JSON.stringify(Array.from(document.images).map(i => "
                    "({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight})))",
                    "returnByValue": True,
                },
                session=session,
            )["result"]["value"]
            if screenshot is not None:
                browser.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": 1200, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
                    session=session,
                )
                shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            time.sleep(0.2)
            browser.send("Runtime.evaluate", {"expression": "1"}, session=session)  # flush events
        finally:
            browser.close()
    errors = []
    for ev in browser.events:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(str(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            errors.append(str(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    return {"images": json.loads(images), "errors": errors}


def _need_browser():
    if CHROMIUM is None:
        pytest.skip(
            "no Chromium binary found (install Debian's `chromium`, as .ci/run does); the "
            "browser rendering check of the HTML report is skipped"
        )


def test_report_renders_in_chromium(tmp_path):
    _need_browser()
    out = report(_content(), tmp_path / "report.html")
    result = render_in_chromium(out, screenshot=tmp_path / "shot.png")
    assert len(result["images"]) == 2
    for img in result["images"]:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
    assert result["errors"] == []
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_browser_check_detects_broken_content(tmp_path):
    """The check can fail: a broken image and an external resource are both caught."""
    _need_browser()
    page = render_html({"title": "x", "figures": {"F": plt.subplots()[0]}})
    page = page.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    page = page.replace("</body>", '<img src="http://127.0.0.1:9/x.png" alt="net"></body>')
    path = tmp_path / "broken.html"
    path.write_text(page)
    result = render_in_chromium(path)
    assert any(img["w"] == 0 for img in result["images"])
    assert result["errors"], "the CSP violation / broken image must be reported"
