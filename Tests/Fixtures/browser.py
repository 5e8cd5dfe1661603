"""A real headless Chromium driven over the DevTools protocol, shared by the browser checks."""
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import websocket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def eval(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, what: str, timeout: float = 60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(expression):
                return
            time.sleep(0.1)
        status = self.eval("document.getElementById('status')?.textContent")
        raise TimeoutError(f"timed out waiting for {what}; status: {status}")

    def sign_in(self, url: str, user: str, password: str, on_form=lambda: None):
        """Opens the client at `url` and signs in (calling `on_form` while the form is shown); returns
        once the worklist is shown."""
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait("!!document.getElementById('login-view') && !document.getElementById('login-view').hidden",
                  "the sign-in form")
        on_form()
        self.eval(f"""(() => {{ const f = document.getElementById('login-form');
            f.username.value = {json.dumps(user)}; f.password.value = {json.dumps(password)}; f.requestSubmit(); }})()""")
        self.wait("!document.getElementById('worklist-view').hidden", "the worklist")


    def open_first_case(self):
        """Opens the worklist's first case and waits for the viewer's first slice."""
        self.eval("document.querySelector('#worklist tbody tr').click()")
        self.wait("!document.getElementById('case-view').hidden && "
                  "document.getElementById('slice-label').textContent.startsWith('slice')", "the viewer")

    def key(self, name: str):
        """Presses a key in the page (the viewer's shortcuts: b, e, x, ...)."""
        self.eval(f"document.dispatchEvent(new KeyboardEvent('keydown', {{key: {json.dumps(name)}}}))")

    def toggle_crosshair(self, shown: bool):
        """Presses X (shows or hides the linked views' crosshair) and waits until the slice view
        has the crosshair's yellow pixels, or none."""
        self.key("x")
        yellow = """(() => { const c = document.getElementById('slice-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 180 && d[i + 2] < 90) n++; return n; })()"""
        self.wait(f"{yellow} {'>' if shown else '==='} 0", "the crosshair " + ("shown" if shown else "hidden"))

    def click_image(self, x: float, y: float) -> tuple[float, float]:
        """Left-clicks image pixel (x, y) of the slice canvas, waits for the click's result, and
        returns the page position it clicked."""
        box = self.eval("""(() => { const c = document.getElementById('slice-canvas'); const b = c.getBoundingClientRect();
            return [b.left, b.top, b.width / c.width, b.height / c.height]; })()""")
        px, py = box[0] + (x + 0.5) * box[2], box[1] + (y + 0.5) * box[3]
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=px, y=py, button="left", clickCount=1)
        self.wait("document.getElementById('status').textContent.startsWith('clicked in')", "the click's result")
        return px, py

    def drag_image(self, points: list[tuple[float, float]]):
        """Drags the left button through image pixels `points` of the slice canvas (a brush or
        eraser stroke)."""
        box = self.eval("""(() => { const c = document.getElementById('slice-canvas'); const b = c.getBoundingClientRect();
            return [b.left, b.top, b.width / c.width, b.height / c.height]; })()""")
        page = [(box[0] + (x + 0.5) * box[2], box[1] + (y + 0.5) * box[3]) for x, y in points]
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=page[0][0], y=page[0][1], button="left",
                  buttons=1, clickCount=1)
        for px, py in page[1:]:
            self.call("Input.dispatchMouseEvent", type="mouseMoved", x=px, y=py, button="left", buttons=1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=page[-1][0], y=page[-1][1], button="left",
                  buttons=0, clickCount=1)


@contextlib.contextmanager
def headless_page():
    """A page in a fresh headless Chromium, closed afterwards."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    port = free_port()
    profile = tempfile.mkdtemp()
    process = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list").read())
                target = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        yield Page(target["webSocketDebuggerUrl"])
    finally:
        process.kill()
        shutil.rmtree(profile, ignore_errors=True)
