// The worklist's "Pull a study from PACS" panel: search a configured source, pull a study. The
// pulled series become cases once they are complete (dicom.quiet_seconds after the last instance).
import { api } from "./api.js";
import { $, queryFrom, tableRow } from "./dom.js";

/// Shows the panel to reviewers and admins when the daemon has PACS sources.
export async function preparePacsPanel(user, onPulled) {
  const panel = $("pacs-panel");
  const sources = user.role === "annotator" ? [] : await api("/pacs/sources").catch(() => []);
  panel.hidden = sources.length === 0;
  $("pacs-source").replaceChildren(...sources.map((source) => new Option(source.description, source.id)));
  $("pacs-search").onclick = () => search(onPulled);
}

async function search(onPulled) {
  const query = queryFrom([["pacs-patient-id", "patientId"], ["pacs-patient-name", "patientName"],
    ["pacs-study-date", "studyDate"], ["pacs-accession", "accessionNumber"]]);
  const source = $("pacs-source").value;
  $("pacs-status").textContent = "searching…";
  try {
    const studies = await api(`/pacs/sources/${source}/studies${query.size ? `?${query}` : ""}`);
    $("pacs-studies").querySelector("tbody").replaceChildren(...studies.map((study) => {
      const row = tableRow([study.patientID, study.patientName, study.studyDate, study.studyDescription,
        study.modalities.join(", ")]);
      const pull = document.createElement("button");
      pull.textContent = "Pull";
      pull.addEventListener("click", () => retrieve(source, study, pull, onPulled));
      row.append(Object.assign(document.createElement("td"), { className: "action" }));
      row.lastChild.append(pull);
      return row;
    }));
    $("pacs-status").textContent = `${studies.length} stud${studies.length === 1 ? "y" : "ies"} found`;
  } catch (error) {
    $("pacs-status").textContent = error.message;
  }
}

async function retrieve(source, study, button, onPulled) {
  button.disabled = true;
  $("pacs-status").textContent = `pulling ${study.studyInstanceUID}…`;
  try {
    const pulled = await api(`/pacs/sources/${source}/retrieve`, {
      method: "POST", body: { studyInstanceUID: study.studyInstanceUID },
    });
    $("pacs-status").textContent = `pulled ${pulled.completed} instance(s) by ${pulled.transport}` +
      (pulled.failed ? `, ${pulled.failed} failed` : "") + "; the case appears once the series is complete";
    onPulled();
  } catch (error) {
    $("pacs-status").textContent = error.message;
    button.disabled = false;
  }
}
