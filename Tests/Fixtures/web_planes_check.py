"""The viewer's linked views in a real headless Chromium: sign in, open the first case, read the
side views' names and sizes, click on the structure in the main view (the crosshair moves there and
the side views show the labels), then click in the row plane's view (the main view jumps to that
slice and the column plane moves), then brush down the coronal view through several slices and undo
it. Prints a JSON report.

usage: web_planes_check.py URL USER PASSWORD X Y ROW_VIEW_X ROW_VIEW_SLICE [SCREENSHOT BRUSH_SCREENSHOT]
X, Y: the image pixel to click with the first class on the slice the viewer opens.
ROW_VIEW_X, ROW_VIEW_SLICE: the column and the slice to click in the row plane's view.
"""
import json
import sys

from browser import headless_page

# Per canvas: pixels in a label colour (not grey), and crosshair pixels (yellow: red and green
# high, blue low).
COUNTS = """((id) => { const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let coloured = 0, cross = 0, lit = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) coloured++;
    if (d[i] > 200 && d[i + 1] > 180 && d[i + 2] < 90) cross++;
    if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
  }
  return {coloured, cross, lit, width: c.width, height: c.height}; })"""

# Crosshair pixels in one column of the main view: its vertical line after a move.
CROSS_COLUMN = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(%d, 0, 1, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 180 && d[i + 2] < 90) n++; return n; })()"""


def main() -> int:
    url, user, password = sys.argv[1:4]
    x, y, row_x, row_slice = (int(value) for value in sys.argv[4:8])
    screenshot = sys.argv[8] if len(sys.argv) > 8 else None
    with headless_page() as page:
        def counts(canvas: str):
            return page.eval(f"{COUNTS}('{canvas}')")

        page.sign_in(url, user, password)
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the worklist")
        page.open_first_case()
        shown = "[document.getElementById('row-canvas').dataset.shown, document.getElementById('column-canvas').dataset.shown]"
        page.wait(f"{shown}.every((item) => item)", "the side views")
        names = [page.eval("document.getElementById('row-name').textContent"),
                 page.eval("document.getElementById('column-name').textContent")]
        opened = {"row": counts("row-canvas"), "column": counts("column-canvas"), "slice": counts("slice-canvas")}
        opened_shown = page.eval(shown)
        page.click_image(float(x), float(y))
        page.wait(f"{shown}.every((item, index) => item !== {json.dumps(opened_shown)}[index])",
                  "the side views with the click's labels")
        clicked = {"row": counts("row-canvas"), "column": counts("column-canvas")}
        # The 3D check: every projection drawn after the click, with the clicked structure in it.
        projections = ("projection-slice", "projection-row", "projection-column")
        page.wait(" && ".join(f"document.getElementById('{name}').dataset.shown !== undefined && "
                              f"{COUNTS}('{name}').coloured > 0" for name in projections), "the 3D check")
        projected = {name: counts(name) for name in projections}
        page.eval("document.getElementById('projection-row').click()")
        enlarged = page.eval("document.getElementById('projection-row').style.width")
        # A click in the row plane's view at (ROW_VIEW_X, ROW_VIEW_SLICE): flipped views put the
        # last slice at the top.
        flipped = page.eval("getComputedStyle(document.getElementById('row-canvas')).transform !== 'none'")
        height = page.eval("document.getElementById('row-canvas').height")
        page.click_canvas("row-canvas", row_x, (height - 1 - row_slice) if flipped else row_slice)
        page.wait(f"document.getElementById('slice-label').textContent.startsWith('slice {row_slice + 1} ')",
                  "the jump to the slice")
        page.wait(f"document.getElementById('column-canvas').dataset.shown.startsWith('column:{row_x}@')",
                  "the sagittal view through the new crosshair")
        if screenshot:
            page.screenshot(screenshot)
        jumped = {"sliceLabel": page.eval("document.getElementById('slice-label').textContent"),
                  "sliceAfterJump": counts("slice-canvas"), "crossColumn": page.eval(CROSS_COLUMN % row_x)}
        page.toggle_crosshair(False)
        page.toggle_crosshair(True)
        page.toggle_crosshair(False)  # the counts below are of labels only
        # The brush in the coronal view: a vertical stroke down column ROW_VIEW_X + 10 through slices
        # 1 to 8 paints that column of the crosshair's row in each of them; undo takes it back.
        page.key("b")
        page.eval("""(() => { const r = document.getElementById('brush-radius'); r.value = 2;
            r.dispatchEvent(new Event('input')); })()""")
        before_brush = counts("row-canvas")["coloured"]
        page.eval("document.getElementById('status').textContent = ''")
        shown_rows = [(height - 1 - slice) if flipped else slice for slice in (1, 4, 8)]
        page.drag([page.canvas_point("row-canvas", row_x + 10, row) for row in shown_rows])
        page.wait("document.getElementById('status').textContent.startsWith('painted with the brush across')",
                  "the coronal stroke")
        page.wait(f"{COUNTS}('row-canvas').coloured > {before_brush}", "the coronal stroke drawn")
        if len(sys.argv) > 9:
            page.screenshot(sys.argv[9])
        side_brush = {"before": before_brush, "painted": counts("row-canvas")["coloured"],
                      "status": page.eval("document.getElementById('status').textContent")}
        page.eval("document.getElementById('undo').click()")
        page.wait("document.getElementById('status').textContent === 'undone'", "the undo")
        page.wait(f"{COUNTS}('row-canvas').coloured === {before_brush}", "the coronal stroke taken back")
        side_brush["undone"] = counts("row-canvas")["coloured"]
        print(json.dumps({"names": names, "opened": opened, "clicked": clicked, "flipped": flipped,
                          "projected": projected, "enlarged": enlarged, "sideBrush": side_brush, **jumped}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
