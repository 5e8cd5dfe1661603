"""A correction in a side view, in a real headless Chromium: sign in, open the first case, name a
structure, move the crosshair onto it with a plain click in the other side view, then Ctrl+click
on it in PLANE's view (the daemon segments that plane and the slices it crosses), and undo it.
Prints a JSON report.

usage: web_side_view_check.py URL USER PASSWORD NAME PLANE X Y SLICE [SCREENSHOT]
PLANE: row or column, the side view to click in. X, Y, SLICE: an image pixel inside the structure
(column X, row Y of slice SLICE). SCREENSHOT: where to save the viewer after the side view's click.
"""
import json
import sys

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from browser import headless_page

# Pixels of a canvas in the structure's first palette colour (255, 200, 0) blended over grey.
STRUCTURE_PIXELS = """((id) => { const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] - d[i + 2] > 100 && d[i + 1] - d[i + 2] > 80) n++; return n; })"""


def main() -> int:
    url, user, password, name, plane = sys.argv[1:6]
    x, y, slice_index = (int(value) for value in sys.argv[6:9])
    screenshot = sys.argv[9] if len(sys.argv) > 9 else None
    # The other view's click moves the crosshair to (index) and the plane's click lands at (along).
    other = "column" if plane == "row" else "row"
    index, along = (y, x) if plane == "row" else (x, y)
    with headless_page() as page:
        def shown_row(canvas: str, slice_number: int) -> int:
            """The canvas row that shows `slice_number` (flipped views put the last slice on top)."""
            flipped = page.eval(f"getComputedStyle(document.getElementById('{canvas}')).transform !== 'none'")
            height = page.eval(f"document.getElementById('{canvas}').height")
            return (height - 1 - slice_number) if flipped else slice_number

        page.sign_in(url, user, password)
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the worklist")
        page.open_first_case()
        page.wait("!document.getElementById('structure-form').hidden", "the structure form")
        page.eval(f"""(() => {{ document.getElementById('structure-name').value = {json.dumps(name)};
            document.getElementById('structure-form').requestSubmit(); }})()""")
        page.wait("document.getElementById('status').textContent.startsWith('structure')", "the new structure")
        page.toggle_crosshair(False)  # the counts below are of labels only
        page.wait("['row-canvas', 'column-canvas'].every((id) => document.getElementById(id).dataset.shown)",
                  "the side views")
        # A plain click in the other side view at INDEX, SLICE: the crosshair moves there, the slice
        # view to SLICE and PLANE's view to INDEX (a pixel either way: the window rounds the point).
        page.click_canvas(f"{other}-canvas", index, shown_row(f"{other}-canvas", slice_index))
        page.wait(f"document.getElementById('slice-label').textContent.startsWith('slice {slice_index + 1} ')",
                  "the jump to the slice")
        page.wait(f"[{index - 1}, {index}, {index + 1}].some((index) => document.getElementById('{plane}-canvas')"
                  f".dataset.shown.startsWith(`{plane}:${{index}}@`))", "the side view through the structure")
        before = {"plane": page.eval(f"{STRUCTURE_PIXELS}('{plane}-canvas')"),
                  "slice": page.eval(f"{STRUCTURE_PIXELS}('slice-canvas')")}
        page.eval("document.getElementById('status').textContent = ''")
        # Ctrl+click on the structure in PLANE's view at ALONG, SLICE.
        ActionChains(page.driver).key_down(Keys.CONTROL).perform()
        page.click_canvas(f"{plane}-canvas", along, shown_row(f"{plane}-canvas", slice_index))
        ActionChains(page.driver).key_up(Keys.CONTROL).perform()
        page.wait("document.getElementById('status').textContent.startsWith('clicked in the')", "the side click", 120)
        clicked_status = page.eval("document.getElementById('status').textContent")
        page.wait(f"{STRUCTURE_PIXELS}('{plane}-canvas') > {before['plane']}", "the side view's labels")
        page.wait(f"{STRUCTURE_PIXELS}('slice-canvas') > {before['slice']}", "the slice's labels")
        after = {"plane": page.eval(f"{STRUCTURE_PIXELS}('{plane}-canvas')"),
                 "slice": page.eval(f"{STRUCTURE_PIXELS}('slice-canvas')")}
        if screenshot:
            page.toggle_crosshair(True)
            page.wait("(document.getElementById('row-canvas').dataset.shown || '').endsWith("
                      "'@' + document.getElementById('projection-row').dataset.shown)", "the 3D check of these labels")
            page.screenshot(screenshot)
            # Hidden again: the structure's colour counts as the crosshair's yellow on the slice, so
            # wait for the side view's count instead.
            page.key("x")
            page.wait(f"{STRUCTURE_PIXELS}('{plane}-canvas') === {after['plane']}", "the crosshair hidden")
        page.eval("document.getElementById('undo').click()")
        page.wait("document.getElementById('status').textContent === 'undone'", "the undo")
        page.wait(f"{STRUCTURE_PIXELS}('{plane}-canvas') === {before['plane']}", "the side click taken back")
        undone = {"plane": page.eval(f"{STRUCTURE_PIXELS}('{plane}-canvas')"),
                  "slice": page.eval(f"{STRUCTURE_PIXELS}('slice-canvas')")}
        print(json.dumps({"before": before, "after": after, "undone": undone, "status": clicked_status,
                          "planeName": page.eval(f"document.getElementById('{plane}-name').textContent")}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
