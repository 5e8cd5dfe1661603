"""A real headless Chromium driven by Selenium WebDriver (Debian's chromium-driver), shared by the
browser checks: real mouse and keyboard input through WebDriver actions, page state read with
scripts."""
import contextlib
import json
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.mouse_button import MouseButton

# Pixels of the slice view in the crosshair's yellow (red and green high, blue low).
YELLOW_PIXELS = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 180 && d[i + 2] < 90) n++; return n; })()"""


class Page:
    def __init__(self, driver: webdriver.Chrome):
        self.driver = driver

    def eval(self, expression: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        return self.driver.execute_script(f"return ({expression});")

    def wait(self, expression: str, what: str, timeout: float = 60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(expression):
                return
            time.sleep(0.1)
        status = self.eval("document.getElementById('status')?.textContent")
        raise TimeoutError(f"timed out waiting for {what}; status: {status}")

    def screenshot(self, path: str):
        """Saves what the window shows as a PNG."""
        self.driver.save_screenshot(path)

    def sign_in(self, url: str, user: str, password: str, on_form=lambda: None):
        """Opens the client at `url` and signs in (calling `on_form` while the form is shown); returns
        once the worklist is shown."""
        self.driver.get(url)
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
        """Presses a key on the keyboard (the viewer's shortcuts: b, e, x, +, ...), with nothing
        focused so that the page's shortcuts get it."""
        self.eval("document.activeElement && document.activeElement.blur()")
        ActionChains(self.driver).send_keys(name).perform()

    def toggle_crosshair(self, shown: bool):
        """Presses X (shows or hides the linked views' crosshair) and waits until the slice view
        has the crosshair's yellow pixels, or none."""
        self.key("x")
        self.wait(f"{YELLOW_PIXELS} {'>' if shown else '==='} 0", "the crosshair " + ("shown" if shown else "hidden"))

    def canvas_point(self, canvas: str, x: float, y: float) -> tuple[float, float]:
        """Where pixel (x, y) of a canvas is in the window (the middle of the pixel, as drawn)."""
        box = self.eval(f"""(() => {{ const c = document.getElementById('{canvas}'); const b = c.getBoundingClientRect();
            return [b.left, b.top, b.width / c.width, b.height / c.height]; }})()""")
        return box[0] + (x + 0.5) * box[2], box[1] + (y + 0.5) * box[3]

    def drag(self, points: list[tuple[float, float]], button: int = MouseButton.LEFT):
        """Presses a mouse button at the first window point, moves through the others, releases at
        the last (one point: a click)."""
        actions = ActionBuilder(self.driver, duration=10)
        actions.pointer_action.move_to_location(round(points[0][0]), round(points[0][1]))
        actions.pointer_action.pointer_down(button=button)
        for px, py in points[1:]:
            actions.pointer_action.move_to_location(round(px), round(py))
        actions.pointer_action.pointer_up(button=button)
        actions.perform()

    def click_canvas(self, canvas: str, x: float, y: float) -> tuple[float, float]:
        """Left-clicks pixel (x, y) of a canvas; returns the window point it clicked."""
        point = self.canvas_point(canvas, x, y)
        self.drag([point])
        return point

    def click_image(self, x: float, y: float) -> tuple[float, float]:
        """Left-clicks image pixel (x, y) of the slice canvas, waits for the click's result, and
        returns the window point it clicked."""
        self.eval("document.getElementById('status').textContent = ''")
        point = self.click_canvas("slice-canvas", x, y)
        self.wait("document.getElementById('status').textContent.startsWith('clicked in')", "the click's result")
        return point

    def drag_image(self, points: list[tuple[float, float]]):
        """Drags the left button through image pixels `points` of the slice canvas (a brush or
        eraser stroke)."""
        self.drag([self.canvas_point("slice-canvas", x, y) for x, y in points])


@contextlib.contextmanager
def headless_page():
    """A page in a fresh headless Chromium, closed afterwards."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    profile = tempfile.mkdtemp()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,900", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield Page(driver)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
