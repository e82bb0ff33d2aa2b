"""Headless Chromium for the report tests, over the DevTools protocol (no third-party package).

Chromium is started with ``--remote-debugging-pipe``: DevTools messages are NUL-terminated JSON
on file descriptors 3 (to the browser) and 4 (from it). :func:`open_page` yields a
:class:`Page` with the few commands the tests need:

- ``set_viewport(width)``: the window width in CSS pixels (1280 for the screen checks);
- ``emulate_media("print")``: apply the ``@media print`` rules while laying out on screen;
- ``table_fit()``: for every ``<table>``, its width against its container's and the body's
  content box (the overflow check), and ``page_width()``: the document's scroll width;
- ``images()`` (decoded or not), ``console_errors()``;
- ``screenshot_sections(folder)``: one PNG per ``<section>`` (clipped to its box);
- ``print_pdf()``: the PDF bytes as Chromium prints the page (``@page`` size and margins).

Import it from a test module as ``from browser import ...`` (pytest puts ``tests/`` on the path,
as for ``roi_helpers``). Tests call :func:`need_chromium` first: it skips when no binary exists.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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

#: The screen width the report must fit without horizontal scrolling.
SCREEN_WIDTH = 1280
#: CSS pixels per millimetre (96 px per inch).
PX_PER_MM = 96 / 25.4
#: Paper sizes in mm (width, height): A4 and US Letter, portrait.
PAPER_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}


def printable_width_px(paper: str = "A4", *, margin_mm: float) -> int:
    """Width in CSS px between the left and right page margins (rounded down)."""
    return int((PAPER_MM[paper][0] - 2 * margin_mm) * PX_PER_MM)


def need_chromium() -> str:
    """The Chromium binary, or skip the test with a message saying how to get one."""
    if CHROMIUM is None:
        pytest.skip(
            "no Chromium binary found (install Debian's `chromium`, as .ci/run does, or set "
            "CHROMIUM=/path/to/chrome); the browser rendering checks of the HTML report are skipped"
        )
    return CHROMIUM


class Chromium:
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
                "--hide-scrollbars",
                "--font-render-hinting=none",
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

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60.0) -> dict:  # fmt: skip
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
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

    def wait_event(self, name: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        for ev in self.events:
            if ev.get("method") == name:
                return ev
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == name:
                return ev

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._w)
        os.close(self._r)


# For every table shown (display:none ones are skipped): its box against its container's and against the body's content box. The
# container is the nearest block ancestor that is not a table part; a table inside a scrolling
# wrapper still reports its full width (the wrapper is only a safety net, never the fix).
_TABLE_FIT_JS = r"""
(() => {
  const body = document.body, bs = getComputedStyle(body), br = body.getBoundingClientRect();
  const contentLeft = br.left + parseFloat(bs.paddingLeft);
  const contentRight = br.right - parseFloat(bs.paddingRight);
  const caption = t => {
    const block = t.closest('.tbl'), cap = block && block.querySelector('.caption');
    return cap ? cap.textContent.trim() : '';
  };
  const shown = Array.from(document.querySelectorAll('table')).filter(t => t.getClientRects().length);
  return shown.map((t, i) => {
    const wrap = t.parentElement, r = t.getBoundingClientRect(), w = wrap.getBoundingClientRect();
    const cs = getComputedStyle(wrap);
    const inner = wrap.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    return {
      index: i, section: (t.closest('section') || {}).id || '', caption: caption(t),
      width: r.width, scroll_width: t.scrollWidth, left: r.left, right: r.right,
      container_width: inner, container_scroll_width: wrap.scrollWidth,
      container_right: w.right, content_left: contentLeft, content_right: contentRight,
      viewport: document.documentElement.clientWidth,
    };
  });
})()
"""


def table_overflows(fits: list[dict], *, tolerance: float = 0.5) -> list[dict]:
    """The entries of ``Page.table_fit()`` whose table is wider than its container, scrolls
    inside it, or reaches past the body's content box or the viewport."""
    bad = []
    for f in fits:
        reasons = []
        if f["width"] > f["container_width"] + tolerance:
            reasons.append(f"table {f['width']:.0f} px > container {f['container_width']:.0f} px")
        if f["container_scroll_width"] > f["container_width"] + tolerance:
            reasons.append("its container scrolls horizontally")
        if f["right"] > f["content_right"] + tolerance or f["left"] < f["content_left"] - tolerance:
            reasons.append(
                f"reaches past the content box ({f['left']:.0f}-{f['right']:.0f} px, content "
                f"{f['content_left']:.0f}-{f['content_right']:.0f} px)"
            )
        if f["right"] > f["viewport"] + tolerance:
            reasons.append(f"right edge {f['right']:.0f} px > viewport {f['viewport']} px")
        if reasons:
            bad.append(f | {"reasons": reasons})
    return bad


class Page:
    """One browser tab attached in flat mode (every command carries the session id)."""

    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session

    def send(self, method: str, params: dict | None = None, timeout: float = 60.0) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression: str) -> Any:
        out = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in out:
            raise RuntimeError(f"page script failed: {out['exceptionDetails']}")
        return out["result"].get("value")

    def navigate(self, path: Path) -> None:
        events = self.browser.events
        self.browser.events = [e for e in events if e.get("method") != "Page.loadEventFired"]
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.browser.wait_event("Page.loadEventFired")

    def set_viewport(self, width: int, height: int = 900) -> None:
        """Lay the page out in a window ``width`` CSS px wide (device scale 1)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": int(width), "height": int(height), "deviceScaleFactor": 1, "mobile": False},
        )
        self.evaluate("document.body.offsetWidth")  # force a layout

    def emulate_media(self, media: str) -> None:
        """``"print"`` applies the ``@media print`` rules on screen; ``""`` restores screen."""
        self.send("Emulation.setEmulatedMedia", {"media": media})
        self.evaluate("document.body.offsetWidth")

    def table_fit(self) -> list[dict]:
        return self.evaluate(_TABLE_FIT_JS)

    def page_width(self) -> dict:
        """The document's scroll width and the viewport width (horizontal scrolling if larger)."""
        return self.evaluate(
            "({scroll_width: document.documentElement.scrollWidth, "
            "viewport: document.documentElement.clientWidth})"
        )

    def images(self) -> list[dict]:
        return self.evaluate(
            "Array.from(document.images).map(i => "
            "({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, "
            "shown_w: i.getBoundingClientRect().width}))"
        )

    def screenshot(self, path: Path, clip: dict | None = None) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is not None:
            params["clip"] = clip | {"scale": 1}
        shot = self.send("Page.captureScreenshot", params, timeout=120)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def screenshot_sections(self, folder: Path, prefix: str = "") -> list[Path]:
        """One PNG per ``<section>`` (and the header with the contents) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        boxes = self.evaluate(
            "Array.from(document.querySelectorAll('header, section')).map((s, i) => {"
            " const r = s.getBoundingClientRect();"
            " const nav = s.tagName === 'HEADER' ? document.querySelector('nav') : null;"
            " const shown = nav && nav.getClientRects().length;"
            " const bottom = shown ? nav.getBoundingClientRect().bottom : r.bottom;"
            " return {id: s.id || s.tagName.toLowerCase(), x: Math.max(0, r.left - 8),"
            " y: r.top + window.scrollY - 8, width: r.width + 16, height: bottom - r.top + 16}; })"
        )
        out = []
        for i, box in enumerate(boxes):
            clip = {k: max(0.0, float(box[k])) for k in ("x", "y", "width", "height")}
            name = f"{prefix}{i:02d}_{box['id']}.png"
            out.append(self.screenshot(folder / name, clip))
        return out

    def print_pdf(self, paper: str = "A4") -> bytes:
        """The page printed to PDF on ``paper`` (the page's ``@page`` margins apply)."""
        width, height = PAPER_MM[paper]
        out = self.send(
            "Page.printToPDF",
            {"printBackground": True, "paperWidth": width / 25.4, "paperHeight": height / 25.4},
            timeout=180,
        )
        return base64.b64decode(out["data"])

    def console_errors(self) -> list[str]:
        """Console errors, exceptions and failed or blocked loads logged so far."""
        self.evaluate("1")  # flush pending events
        errors = []
        for ev in self.browser.events:
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(str(params.get("args")))
            elif method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return errors


@contextlib.contextmanager
def open_page(html_path: Path | None = None, *, width: int = SCREEN_WIDTH) -> Iterator[Page]:
    """Start headless Chromium, open a tab ``width`` px wide, load ``html_path``, yield it."""
    binary = need_chromium()
    with tempfile.TemporaryDirectory() as profile:
        browser = Chromium(binary, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
            page = Page(browser, session)
            for domain in ("Page", "Runtime", "Log"):
                page.send(f"{domain}.enable")
            page.set_viewport(width)
            if html_path is not None:
                page.navigate(html_path)
            yield page
        finally:
            browser.close()


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF as Chromium writes it (page objects are plain dictionaries)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def render_in_chromium(html_path: Path, screenshot: Path | None = None) -> dict:
    """Load ``html_path`` at 1280 px; return ``{"images": [...], "errors": [...]}``."""
    with open_page(html_path) as page:
        images = page.images()
        if screenshot is not None:
            page.screenshot(screenshot)
        time.sleep(0.2)
        errors = page.console_errors()
    return {"images": images, "errors": errors}
