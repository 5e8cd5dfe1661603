"""Names structures in the web client and annotates them, in a real headless Chromium: sign in,
open the first case, and for each structure name it and click on it (its colour appears); then
propagate and accept. Prints a JSON report: per structure, the coloured (label) pixels of the view
before its click and the pixels its click changed.

usage: web_structure_check.py URL USER PASSWORD [--slice N] [--screenshot PATH] NAME@X,Y ...
NAME: a name the terminology knows ("brain"), or NAME=CODE for one it does not ("blob=Nodule"):
the client then asks for the code and the check chooses the option starting with CODE.
X, Y: the image pixel to click with the new structure, on the slice N (default: the slice the
viewer opens). PATH: where to save the viewer after the propagation.
"""
import argparse
import json
import sys

from browser import headless_page

# Pixels of the slice view in any colour (the image is grey: red, green and blue equal), i.e. labels.
COLOURED = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++; return n; })()"""
# Snapshots the slice view's pixels (`remember`) and counts those that differ from the snapshot
# (`changed`): the image stays as it is, so a click's changed pixels are its new labels.
REMEMBER = """(() => { const c = document.getElementById('slice-canvas');
  window.__frame = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; return true; })()"""
CHANGED = """(() => { const c = document.getElementById('slice-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i] !== window.__frame[i] || d[i + 1] !== window.__frame[i + 1] || d[i + 2] !== window.__frame[i + 2]) n++;
  return n; })()"""


def structure(text: str) -> tuple[str, str, float, float]:
    """NAME[=CODE]@X,Y as (name, code, x, y)."""
    label, _, point = text.rpartition("@")
    name, _, code = label.partition("=")
    x, y = point.split(",")
    return name, code, float(x), float(y)


def name_structure(page, name: str, code: str) -> dict:
    """Names a structure through the structure form (choosing its code when asked); returns what
    the client said and selected."""
    page.eval("document.getElementById('status').textContent = ''")
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
    return {"asked": asked, "named": page.eval("document.getElementById('status').textContent"),
            "selected": page.eval("document.querySelector('#classes input[type=radio]:checked').value")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("user")
    parser.add_argument("password")
    parser.add_argument("--slice", type=int)
    parser.add_argument("--screenshot")
    parser.add_argument("structures", nargs="+", type=structure)
    args = parser.parse_args()
    with headless_page() as page:
        page.sign_in(args.url, args.user, args.password)
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the worklist")
        page.open_first_case()
        page.toggle_crosshair(False)  # the counts below count the pixels the labels change
        if args.slice is not None:
            page.eval(f"""(() => {{ const s = document.getElementById('slice-slider'); s.value = {args.slice};
                s.dispatchEvent(new Event('input')); }})()""")
            page.wait(f"document.getElementById('slice-label').textContent.startsWith('slice {args.slice + 1} ')",
                      "the slice")
        page.wait("!document.getElementById('structure-form').hidden", "the structure form")
        choices = page.eval("document.querySelectorAll('#structure-choices option').length")
        report = []
        for name, code, x, y in args.structures:
            entry = name_structure(page, name, code)
            entry["before"] = page.eval(COLOURED)
            page.eval(REMEMBER)
            page.click_image(x, y)
            entry["painted"] = page.eval(CHANGED)
            report.append(entry)
        classes = page.eval("[...document.querySelectorAll('#classes label .name')].map(n => n.textContent)")
        page.eval("document.getElementById('propagate').click()")
        page.wait("document.getElementById('status').textContent.startsWith('propagated to')", "the propagation", 240)
        propagated = page.eval("document.getElementById('status').textContent")
        if args.screenshot:
            page.toggle_crosshair(True)
            page.wait("(document.getElementById('row-canvas').dataset.shown || '').endsWith("
                      "'@' + document.getElementById('projection-row').dataset.shown)", "the 3D check of these labels")
            page.screenshot(args.screenshot)
        page.eval("document.getElementById('accept').click()")
        page.wait("document.getElementById('status').textContent.startsWith('accepted')", "the acceptance", 120)
        accepted = page.eval("document.getElementById('status').textContent")
        print(json.dumps({"choices": choices, "structures": report, "classes": classes, "propagated": propagated,
                          "accepted": accepted}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
