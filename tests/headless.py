"""Headless Chromium driven over the DevTools protocol on a pipe (standard
library only): open a page from disk with the network switched off, collect
every console error, uncaught exception and failed load, check the images,
and take a screenshot.

Chromium reads commands on its file descriptor 3 and writes replies and events
on 4 (`--remote-debugging-pipe`), each message JSON ended by a NUL byte.
"""

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# As the workplace's machines need them: no sandbox as root, no GPU, and no
# background connections (this machine's closed network refuses them noisily).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
         # Nothing can leave: any request that escapes offline emulation meets a dead proxy.
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
IMAGES_LOADED = "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0) ? document.images.length : -1"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    images: int = 0  # images that decoded; -1 when one did not


class Chromium:
    def __init__(self, executable: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="zjsim-chromium-")
        to_browser, from_browser = _pipe_above(4), _pipe_above(4)

        def child_fds():  # runs in the child before exec: fds 3 and 4 are the protocol's
            os.dup2(to_browser[0], 3)
            os.dup2(from_browser[1], 4)

        self.process = subprocess.Popen([executable, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                                         "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, preexec_fn=child_fds, close_fds=False)
        os.close(to_browser[0])
        os.close(from_browser[1])
        self.writer = os.fdopen(to_browser[1], "wb", buffering=0)
        self.reader = os.fdopen(from_browser[0], "rb", buffering=0)
        self.messages: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # drain, never block the browser

    def _read(self) -> None:
        pending = b""
        while chunk := self.reader.read(65536):
            pending += chunk
            *complete, pending = pending.split(b"\0")
            for message in complete:
                self.messages.put(json.loads(message))
        self.messages.put(None)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.writer.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._next(deadline, method)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for index, seen in enumerate(self.events):
            if seen.get("method") == event:
                return self.events.pop(index)
        while True:
            message = self._next(deadline, event)
            if message.get("method") == event:
                return message
            self.events.append(message)

    def _next(self, deadline: float, waiting_for: str) -> dict:
        try:
            message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"Chromium did not answer {waiting_for} within {self.timeout:.0f} s") from None
        if message is None:
            raise RuntimeError(f"Chromium closed its pipe while waiting for {waiting_for}")
        return message

    def visit(self, url: str, width: int = 1280, height: int = 1600) -> PageVisit:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.send(method, session=session)
        self.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                       "uploadThroughput": -1}, session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": False}, session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired")
        images = self.send("Runtime.evaluate", {"expression": IMAGES_LOADED, "returnByValue": True}, session)
        shot = self.send("Page.captureScreenshot", {"format": "png"}, session)
        visit = PageVisit(screenshot=base64.b64decode(shot["data"]), images=images["result"]["value"])
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                visit.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.errors.append("log: " + params["entry"].get("text", ""))
            elif method == "Network.loadingFailed":
                visit.errors.append("load failed: " + params.get("errorText", ""))
        return visit

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.writer, self.reader):
            stream.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def _pipe_above(lowest: int) -> list[int]:
    """A pipe whose ends are numbered above `lowest` (so that moving them to 3
    and 4 in the child cannot overwrite one with the other), close-on-exec."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest + 1))
        os.close(fd)
    return ends


def open_from_disk(path: Path, executable: str) -> PageVisit:
    browser = Chromium(executable)
    try:
        return browser.visit(path.resolve().as_uri())
    finally:
        browser.close()
