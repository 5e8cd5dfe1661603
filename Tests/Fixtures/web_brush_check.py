"""Draws with the brush and the eraser in the web client, in a real headless Chromium: sign in,
open the first case, pick the brush (key B) and drag a band, pick the eraser (key E) and drag
across it, brush a second band and undo it. Prints a JSON report with the overlay's pixel count
after each step.

usage: web_brush_check.py URL USER PASSWORD RADIUS BAND_Y ERASE_FROM ERASE_TO UNDONE_Y [SCREENSHOT]
The kept band runs from x = 16 to 56 at BAND_Y; the eraser from ERASE_FROM to ERASE_TO on it; the
undone band from 16 to 56 at UNDONE_Y. SCREENSHOT: where to save the viewer after the strokes.
"""
import json
import sys

from browser import headless_page

COLOURED = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++; return n; })()"""


def main() -> int:
    url, user, password = sys.argv[1:4]
    radius, band_y, erase_from, erase_to, undone_y = (int(value) for value in sys.argv[4:9])
    screenshot = sys.argv[9] if len(sys.argv) > 9 else None
    with headless_page() as page:
        def stroke(points, done: str):
            page.eval("document.getElementById('status').textContent = ''")
            page.drag_image(points)
            page.wait(f"document.getElementById('status').textContent.startsWith({json.dumps(done)})", done)
            return page.eval(COLOURED)

        page.sign_in(url, user, password)
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the worklist")
        page.open_first_case()
        page.toggle_crosshair(False)  # the label counts below count coloured pixels
        page.wait("document.getElementById('slice-canvas').width > 0", "the slice")
        before = page.eval(COLOURED)
        page.key("b")
        page.eval(f"""(() => {{ const r = document.getElementById('brush-radius'); r.value = {radius};
            r.dispatchEvent(new Event('input')); }})()""")
        tool = page.eval("document.querySelector('#tools input:checked').value")
        band = [(x, band_y) for x in range(16, 57, 4)]
        brushed = stroke(band, "painted with the brush")
        page.key("e")
        erased = stroke([(x, band_y) for x in range(erase_from, erase_to + 1, 2)], "erased with the eraser")
        page.key("b")
        again = stroke([(x, undone_y) for x in range(16, 57, 4)], "painted with the brush")
        page.eval("document.getElementById('status').textContent = ''")
        page.eval("document.getElementById('undo').click()")
        page.wait("document.getElementById('status').textContent === 'undone'", "the undo")
        undone = page.eval(COLOURED)
        if screenshot:
            page.screenshot(screenshot)
        print(json.dumps({"tool": tool, "before": before, "brushed": brushed, "erased": erased, "again": again,
                          "undone": undone, "radiusLabel": page.eval("document.getElementById('brush-radius-label').textContent")}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
