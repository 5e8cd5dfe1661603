// The admin's annotation-time dashboard: figures from /api/v1/admin/annotation-time, drawn on
// canvas, with CSV and JSON downloads and a printable view.
import { api } from "./api.js";
import { barChart, scatterChart, timelineChart } from "./charts.js";
import { $, queryFrom, tableRow } from "./dom.js";

/// Manual contouring of a series with classical tools, and with the SIM tool, in the SIM paper's user study.
const MANUAL_SECONDS = 25 * 60;
const PAPER_TOOL_SECONDS = 5 * 60 + 56;

const minutes = (seconds) => seconds / 60;
const clock = (seconds) => `${Math.floor(seconds / 60)}′${String(Math.round(seconds % 60)).padStart(2, "0")}″`;

/// Counts of `values` in bins of `width` from 0 to the largest value.
function histogram(values, width) {
  const bins = Math.max(1, Math.floor(Math.max(0, ...values) / width) + 1);
  const counts = new Array(bins).fill(0);
  for (const value of values) counts[Math.floor(value / width)]++;
  return counts;
}

export async function openDashboard() {
  const parameters = queryFrom([["time-from", "from"], ["time-to", "to"], ["time-user", "user"],
    ["time-modality", "modality"], ["time-model", "model"], ["time-idle", "idleSeconds"]]);
  const report = await api(`/admin/annotation-time?${parameters}`);
  const cases = report.cases;
  const active = cases.map((item) => item.activeSeconds).sort((a, b) => a - b);
  const median = active.length ? active[Math.floor(active.length / 2)] : 0;
  $("time-summary").textContent = cases.length
    ? `${cases.length} case(s); median active time ${clock(median)} per case (idle gaps over ` +
      `${report.idleThresholdSeconds} s excluded) against ${clock(MANUAL_SECONDS)} by hand and ` +
      `${clock(PAPER_TOOL_SECONDS)} with the SIM paper's tool`
    : "no annotation in this period";

  const perCase = histogram(active.map(minutes), 2);
  barChart($("chart-case-time"), perCase.map((_, i) => `${2 * i}–${2 * i + 2} min`), perCase,
    "time per case (cases per 2-minute bin)");
  barChart($("chart-user-weeks"), report.weeks.map((w) => `${w.username} ${w.week}`),
    report.weeks.map((w) => minutes(w.activeSeconds)), "active minutes per user and week");
  scatterChart($("chart-clicks-time"), cases.map((item) => ({ x: minutes(item.activeSeconds), y: item.clicks })),
    "clicks against active time", "active minutes", "clicks");
  const rounds = histogram(cases.filter((item) => item.accepted).map((item) => item.rounds - 1), 1);
  barChart($("chart-rounds"), rounds.map((_, i) => `${i + 1}`), cases.some((item) => item.accepted) ? rounds : [],
    "rounds to accept (accepted cases)");
  const perClass = new Map();
  for (const item of cases) {
    for (const [label, count] of Object.entries(item.clicksPerClass)) perClass.set(label, (perClass.get(label) || 0) + count);
  }
  const classes = [...perClass.keys()].sort((a, b) => a - b);
  barChart($("chart-class-effort"), classes.map((label) => `class ${label}`), classes.map((label) => perClass.get(label)),
    "clicks per class");

  $("time-cases").querySelector("tbody").replaceChildren(...cases.map((item) => {
    const row = tableRow([item.caseID, item.username, item.modality, new Date(item.firstAt).toLocaleString(),
      clock(item.activeSeconds), clock(item.idleSeconds), item.clicks, item.strokes, item.rounds, item.accepted ? "yes" : "no",
      `${item.propagationWaitSeconds.toFixed(1)} s`, `${item.meanClickLatencyMilliseconds.toFixed(0)} ms`, item.model]);
    row.dataset.caseId = item.caseID;
    row.addEventListener("click", () => openTimeline(item.caseID));
    return row;
  }));
  $("time-csv").href = `/api/v1/admin/annotation-time?${parameters}&format=csv`;
  $("time-json").href = `/api/v1/admin/annotation-time?${parameters}`;
}

/// Drill-down: every event of a case on a time axis.
async function openTimeline(caseId) {
  const timeline = await api(`/admin/annotation-time/cases/${caseId}`);
  $("chart-timeline").hidden = false;
  timelineChart($("chart-timeline"), timeline.events, `case ${caseId}: every interaction in time`);
}

/// The PHI access audit trail, newest first, with the same filters as its CSV export.
export async function openAudit() {
  const parameters = queryFrom([["audit-user", "username"], ["audit-patient", "patientId"], ["audit-action", "action"],
    ["audit-from", "from"], ["audit-to", "to"]], new URLSearchParams({ limit: "500" }));
  const entries = await api(`/admin/audit?${parameters}`);
  $("audit-log").querySelector("tbody").replaceChildren(...entries.map((entry) => tableRow([
    new Date(entry.at).toLocaleString(), entry.username, entry.action, entry.patientID || "", entry.caseID ?? "",
    entry.clientAddress || "", entry.detailJSON])));
  $("audit-csv").href = `/api/v1/admin/audit?${parameters}&format=csv`;
}

$("time-apply").addEventListener("click", () => openDashboard());
$("audit-apply").addEventListener("click", () => openAudit());
$("time-print").addEventListener("click", () => window.print());
