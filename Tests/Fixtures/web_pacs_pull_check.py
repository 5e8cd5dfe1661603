"""Pulls a study from PACS in the web client, in a real headless Chromium: sign in, open the "Pull a
study from PACS" panel, search the first source by patient ID, pull the one match, and wait for its
case on the worklist. Prints a JSON report.

usage: web_pacs_pull_check.py URL USER PASSWORD PATIENT_ID
"""
import json
import sys

from browser import headless_page


def main() -> int:
    url, user, password, patient_id = sys.argv[1:5]
    with headless_page() as page:
        page.sign_in(url, user, password)
        rows_before = page.eval("document.querySelectorAll('#worklist tbody tr').length")
        page.wait("!document.getElementById('pacs-panel').hidden", "the PACS panel")
        sources = page.eval("[...document.querySelectorAll('#pacs-source option')].map(o => o.textContent)")
        page.eval(f"""(() => {{ document.getElementById('pacs-panel').open = true;
            document.getElementById('pacs-patient-id').value = {json.dumps(patient_id)};
            document.getElementById('pacs-search').click(); }})()""")
        page.wait("document.getElementById('pacs-status').textContent.endsWith('found')", "the search")
        found = page.eval("[...document.querySelectorAll('#pacs-studies tbody tr')].map(r => r.cells[0].textContent)")
        page.eval("document.querySelector('#pacs-studies tbody tr button').click()")
        page.wait("document.getElementById('pacs-status').textContent.startsWith('pulled')", "the pull")
        pulled = page.eval("document.getElementById('pacs-status').textContent")
        page.wait("document.querySelectorAll('#worklist tbody tr').length > 0", "the pulled case on the worklist")
        cases = page.eval("[...document.querySelectorAll('#worklist tbody tr')].map(r => r.cells[1].textContent)")
        print(json.dumps({"rowsBefore": rows_before, "sources": sources, "found": found, "pulled": pulled,
                          "cases": cases}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
