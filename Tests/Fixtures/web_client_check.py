"""Drives the web client in a real headless Chromium over the DevTools protocol, as a radiologist
would: sign in, open the first case, click on the structure, hide and show the class, drag the
window, zoom and reset, propagate, jump to the suggested slice with N, accept, and wait for the
SEG's delivery to the PACS; then open the admin's annotation-time dashboard. Prints a JSON report.

usage: web_client_check.py URL USER PASSWORD X Y SCREENSHOT.png [STAGES_DIR]
X, Y: the image pixel (on the slice the viewer opens) to click with the first class.
STAGES_DIR: where to save a screenshot of every screen (sign-in, worklist, viewer, annotation time),
for the docs.
"""
import json
import os
import sys
import time

from browser import MouseButton, headless_page

COLOURED = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++; return n; })()"""


def main() -> int:
    url, user, password, x, y, screenshot = sys.argv[1:7]
    stages = sys.argv[7] if len(sys.argv) > 7 else None
    with headless_page() as page:
        def stage(name: str):
            if stages:
                page.screenshot(os.path.join(stages, name))

        page.sign_in(url, user, password, on_form=lambda: stage("1-sign-in.png"))
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the worklist")
        rows = page.eval("document.querySelectorAll('#worklist tbody tr').length")
        stage("2-worklist.png")
        # The modality filter: no MR case, the CT case again.
        filter_rows = {}
        for modality in ("MR", "CT"):
            page.eval(f"""(() => {{ const s = document.getElementById('modality-filter'); s.value = '{modality}';
                s.dispatchEvent(new Event('change')); }})()""")
            expected = "=== 0" if modality == "MR" else "> 0"
            page.wait(f"document.querySelectorAll('#worklist tbody tr').length {expected}", f"the {modality} worklist")
            filter_rows[modality] = page.eval("document.querySelectorAll('#worklist tbody tr').length")
        page.open_first_case()
        page.toggle_crosshair(False)  # the label counts below count coloured pixels
        time.sleep(0.5)
        before = page.eval(COLOURED)
        px, py = page.click_image(float(x), float(y))
        time.sleep(0.3)
        after = page.eval(COLOURED)
        stage("3-viewer-after-a-click.png")
        # The class's box hides its overlay; ticking it again shows it.
        page.eval("document.querySelector('#classes input.visible[data-class=\"1\"]').click()")
        time.sleep(0.3)
        hidden = page.eval(COLOURED)
        page.eval("document.querySelector('#classes input.visible[data-class=\"1\"]').click()")
        time.sleep(0.3)
        # A right-drag to the left narrows the window: the image gains contrast, nothing is erased.
        window_before = page.eval("document.getElementById('window-label').textContent")
        brightness = """(() => { const c = document.getElementById('slice-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = 0;
            for (let i = 0; i < d.length; i += 4) s += d[i + 1]; return s; })()"""
        grey_before = page.eval(brightness)
        page.drag([(px - 20 * step, py) for step in range(6)], button=MouseButton.RIGHT)
        time.sleep(0.3)
        window_after = page.eval("document.getElementById('window-label').textContent")
        grey_after = page.eval(brightness)
        erased_by_drag = page.eval("document.getElementById('status').textContent.startsWith('erased')")
        # Zoom in with +, the canvas scales; R resets.
        page.key("+")
        time.sleep(0.2)
        zoomed = page.eval("document.getElementById('slice-canvas').style.transform")
        stage("5-viewer-zoomed-and-windowed.png")
        page.key("r")
        time.sleep(0.2)
        reset = page.eval("document.getElementById('slice-canvas').style.transform")
        page.eval("document.getElementById('propagate').click()")
        page.wait("document.getElementById('status').textContent.startsWith('propagated to')", "the propagation", 240)
        status = page.eval("document.getElementById('status').textContent")
        stage("4-viewer-after-propagation.png")
        strip = page.eval("""(() => { const c = document.getElementById('quality-strip');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++; return n; })()""")
        page.screenshot(screenshot)
        # Key N jumps to the suggested slice; Accept writes the SEG.
        page.eval("document.getElementById('status').textContent = ''")
        page.key("n")
        time.sleep(0.5)
        suggested = page.eval("document.getElementById('slice-label').textContent")
        page.eval("document.getElementById('accept').click()")
        page.wait("document.getElementById('status').textContent.startsWith('accepted')", "the acceptance", 120)
        accepted = page.eval("document.getElementById('status').textContent")
        page.wait("document.getElementById('export-status').textContent.startsWith('SEG delivered')",
                  "the SEG's delivery to the PACS", 120)
        exported = page.eval("document.getElementById('export-status').textContent")
        stage("6-accepted-and-delivered.png")
        # The admin's annotation-time dashboard: five charts from the stored clicks.
        page.eval("document.getElementById('time-button').click()")
        charts = ["chart-case-time", "chart-user-weeks", "chart-clicks-time", "chart-rounds", "chart-class-effort"]
        page.wait(" && ".join(f"document.getElementById('{c}').dataset.marks !== undefined" for c in charts),
                  "the annotation-time charts")
        marks = {c: int(page.eval(f"document.getElementById('{c}').dataset.marks")) for c in charts}
        painted = {c: page.eval(f"""(() => {{ const c = document.getElementById('{c}');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] === 0x4a && d[i + 1] === 0xa3 && d[i + 2] === 0xdf) n++;
            return n; }})()""") for c in charts}
        time_rows = page.eval("document.querySelectorAll('#time-cases tbody tr').length")
        summary = page.eval("document.getElementById('time-summary').textContent")
        csv_link = page.eval("document.getElementById('time-csv').getAttribute('href')")
        stage("7-annotation-time.png")
        # Drill down into the case: its click, propagation and accept on a time axis.
        page.eval("document.querySelector('#time-cases tbody tr').click()")
        page.wait("document.getElementById('chart-timeline').dataset.marks !== undefined", "the case timeline")
        timeline_marks = int(page.eval("document.getElementById('chart-timeline').dataset.marks"))
        # The access audit: who opened what, filtered by action.
        page.wait("document.querySelectorAll('#audit-log tbody tr').length > 0", "the access audit")
        page.eval("""(() => { document.getElementById('audit-action').value = 'case.open';
            document.getElementById('audit-apply').click(); })()""")
        # The filtered list replaces the first: wait for the CSV link to carry the filter and for a
        # list with no other action (a fixed sleep read the unfiltered list on a loaded machine).
        page.wait("(document.getElementById('audit-csv').getAttribute('href') || '').includes('action=case.open') && "
                  "[...document.querySelectorAll('#audit-log tbody tr td:nth-child(3)')]"
                  ".every(c => c.textContent === 'case.open')", "the filtered access audit")
        audit_actions = page.eval("[...document.querySelectorAll('#audit-log tbody tr td:nth-child(3)')].map(c => c.textContent)")
        audit_csv = page.eval("document.getElementById('audit-csv').getAttribute('href')")
        print(json.dumps({"marks": marks, "painted": painted, "timeRows": time_rows, "summary": summary,
                          "csvLink": csv_link, "timelineMarks": timeline_marks, "auditActions": audit_actions,
                          "auditCsv": audit_csv,"rows": rows, "filterRows": filter_rows, "colouredBefore": before, "colouredAfter": after, "colouredHidden": hidden,
                          "windowBefore": window_before, "windowAfter": window_after,
                          "greyChanged": grey_before != grey_after, "erasedByDrag": erased_by_drag,
                          "zoomed": zoomed, "reset": reset, "status": status,
                          "qualityStripPixels": strip, "suggested": suggested, "accepted": accepted,
                          "exported": exported}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
