"""Names a new structure in the web client and annotates it, in a real headless Chromium: sign
in, open the first case, name a structure, click on it (its colour appears), propagate, and
accept. Prints a JSON report.

usage: web_structure_check.py URL USER PASSWORD NAME X Y [SLICE [SCREENSHOT]]
NAME: a name the terminology knows ("brain"), or NAME=CODE for one it does not ("blob=Nodule"):
the client then asks for the code and the check chooses the option starting with CODE.
X, Y: the image pixel to click with the new structure, on SLICE (default: the slice the viewer
opens). SCREENSHOT: where to save the viewer after the propagation.
"""
import json
import sys

from browser import headless_page

# Pixels in the structure's first palette colour (255, 200, 0) blended over grey: red and green
# well above blue, which no model class gives.
STRUCTURE_PIXELS = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] - d[i + 2] > 100 && d[i + 1] - d[i + 2] > 80) n++; return n; })()"""


def main() -> int:
    url, user, password, name, x, y = sys.argv[1:7]
    name, _, code = name.partition("=")
    slice_index = int(sys.argv[7]) if len(sys.argv) > 7 else None
    screenshot = sys.argv[8] if len(sys.argv) > 8 else None
    with headless_page() as page:
        page.sign_in(url, user, password)
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the worklist")
        page.open_first_case()
        page.toggle_crosshair(False)  # the label counts below count coloured pixels
        if slice_index is not None:
            page.eval(f"""(() => {{ const s = document.getElementById('slice-slider'); s.value = {slice_index};
                s.dispatchEvent(new Event('input')); }})()""")
            page.wait(f"document.getElementById('slice-label').textContent.startsWith('slice {slice_index + 1} ')",
                      "the slice")
        page.wait("!document.getElementById('structure-form').hidden", "the structure form")
        choices = page.eval("document.querySelectorAll('#structure-choices option').length")
        page.eval(f"""(() => {{ document.getElementById('structure-name').value = {json.dumps(name)};
            document.getElementById('structure-form').requestSubmit(); }})()""")
        asked = None
        if code:
            page.wait("!document.getElementById('structure-code').hidden", "the request for a code")
            asked = page.eval("document.getElementById('status').textContent")
            page.eval(f"""(() => {{ const select = document.getElementById('structure-code');
                select.value = [...select.options].find(o => o.text.startsWith({json.dumps(code)})).value;
                document.getElementById('structure-form').requestSubmit(); }})()""")
        page.wait("document.getElementById('status').textContent.startsWith('structure')", "the new structure")
        named = page.eval("document.getElementById('status').textContent")
        classes = page.eval("[...document.querySelectorAll('#classes label .name')].map(n => n.textContent)")
        selected = page.eval("document.querySelector('#classes input[type=radio]:checked').value")
        before = page.eval(STRUCTURE_PIXELS)
        page.click_image(float(x), float(y))
        after = page.eval(STRUCTURE_PIXELS)
        page.eval("document.getElementById('propagate').click()")
        page.wait("document.getElementById('status').textContent.startsWith('propagated to')", "the propagation", 240)
        propagated = page.eval("document.getElementById('status').textContent")
        if screenshot:
            page.toggle_crosshair(True)
            page.wait("(document.getElementById('row-canvas').dataset.shown || '').endsWith("
                      "'@' + document.getElementById('projection-row').dataset.shown)", "the 3D check of these labels")
            page.screenshot(screenshot)
        page.eval("document.getElementById('accept').click()")
        page.wait("document.getElementById('status').textContent.startsWith('accepted')", "the acceptance", 120)
        accepted = page.eval("document.getElementById('status').textContent")
        print(json.dumps({"choices": choices, "asked": asked, "named": named, "classes": classes, "selected": selected, "before": before,
                          "after": after, "propagated": propagated, "accepted": accepted}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
