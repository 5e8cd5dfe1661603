import { api, apiBytes, login, logout, decodeRuns, ApiError } from "./api.js";
import { openAudit, openDashboard } from "./admin.js";
import { $, queryFrom, tableRow } from "./dom.js";
import { preparePacsPanel } from "./pacs.js";
const state = {
  user: null, detail: null, slice: 0, label: 1, labels: new Map(), voxels: new Map(),
  window: { center: 40, width: 400 }, hidden: new Set(), view: { zoom: 1, x: 0, y: 0 }, colours: new Map(),
  tool: "click", radius: 6, stroke: null,
  // Each view's last drawn image (canvas id → ImageData), under a stroke's preview.
  frames: new Map(),
  // The linked views: the crosshair's column and row on the slice, each side plane's values
  // ("plane:index" → Int16Array) and labels, and how many times the labels have changed.
  cross: { x: 0, y: 0, shown: true }, planeVoxels: new Map(), planeLabels: new Map(), labelsVersion: 0,
  // The 3D check's last projections, and whether one is being fetched or another is wanted.
  projections: [], projectionsBusy: false, projectionsWanted: false,
};

function show(view) {
  for (const id of ["login-view", "worklist-view", "case-view", "admin-view"]) $(id).hidden = id !== view;
  $("logout").hidden = view === "login-view";
  $("worklist-button").hidden = view === "login-view";
  $("time-button").hidden = view === "login-view" || state.user?.role !== "admin";
}

function status(text) { $("status").textContent = text; }

async function start() {
  try {
    state.user = await api("/me");
    $("who").textContent = `${state.user.displayName || state.user.username} (${state.user.role})`;
    await preparePacsPanel(state.user, refreshWorklistWhileShown);
    await openWorklist();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn();
    else throw error;
  }
}

/// The sign-in page, with the hospital's OpenID provider offered when the daemon has one.
async function showSignIn() {
  show("login-view");
  const options = await api("/sign-in-options").catch(() => null);
  $("oidc-login").hidden = !options?.openID;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await login(form.get("username"), form.get("password"));
    $("login-error").textContent = "";
    await start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => { await logout(); await showSignIn(); });
$("status-filter").addEventListener("change", openWorklist);
$("modality-filter").addEventListener("change", openWorklist);
$("created-from").addEventListener("change", openWorklist);
$("created-to").addEventListener("change", openWorklist);
$("back").addEventListener("click", openWorklist);
$("worklist-button").addEventListener("click", openWorklist);
$("time-button").addEventListener("click", async () => {
  show("admin-view");
  await Promise.all([openDashboard(), openAudit()]);
});

async function openWorklist() {
  const filters = queryFrom([["status-filter", "status"], ["modality-filter", "modality"], ["created-from", "from"],
    ["created-to", "to"]]);
  const page = await api(`/cases${filters.size ? `?${filters}` : ""}`);
  const body = $("worklist").querySelector("tbody");
  body.replaceChildren(...page.cases.map((item) => {
    const row = tableRow([item.id, item.patientID, item.modality, item.status, new Date(item.createdAt).toLocaleString()]);
    row.dataset.caseId = item.id;
    row.addEventListener("click", () => openCase(item.id));
    return row;
  }));
  show("worklist-view");
}

/// Reloads the worklist every 2 s for a minute while it is on screen (a pulled study's cases appear).
function refreshWorklistWhileShown() {
  let remaining = 30;
  const timer = setInterval(async () => {
    if (--remaining < 0 || $("worklist-view").hidden) return clearInterval(timer);
    await openWorklist().catch(() => clearInterval(timer));
  }, 2000);
}

/// The model's classes (offered on our phantoms only), then the structures named in this case, as
/// radio buttons with a box that shows or hides each; fills state.colours (label value → colour).
/// Keys 1-9 choose them in this order.
function renderClasses() {
  const detail = state.detail;
  const entries = detail.classes.map((item, index) => ({ value: index, name: item.name, colour: item.colour }))
    .slice(1).concat(detail.structures.map((item) => ({ value: item.value, name: item.name, colour: item.colour })));
  state.colours = new Map(entries.map((entry) => [entry.value, entry.colour]));
  const classes = $("classes");
  classes.querySelectorAll("label").forEach((label) => label.remove());
  for (const entry of entries) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="class" value="${entry.value}"${entry.value === state.label ? " checked" : ""}>` +
      `<span class="swatch" style="background: rgb(${entry.colour.join(",")})"></span><span class="name"></span>` +
      `<input type="checkbox" class="visible" data-class="${entry.value}" checked title="show or hide">`;
    label.querySelector(".name").textContent = entry.name;
    label.querySelector(".visible").setAttribute("aria-label", `show ${entry.name}`);
    classes.append(label);
  }
  if (!entries.length && detail.structuresEnabled) status("name the first structure to segment: type its name below the image");
}

/// Whether a label is chosen to click or paint with; says what to do when none is.
function labelChosen() {
  if (state.label !== null) return true;
  status("name a structure first (below the image), then click on it");
  return false;
}

/// The terminology's choices for what is typed (GET /structure-codes?q=), by their names.
const structureChoices = new Map();

/// A choice as the pickers show it: "Kidney, Left (SCT 64033007)".
function codeLabel(choice) {
  return `${choice.type[2]}${choice.modifier ? `, ${choice.modifier[2]}` : ""} (${choice.type[0]} ${choice.type[1]})`;
}

async function offerStructureChoices(query) {
  const choices = await api(`/structure-codes?q=${encodeURIComponent(query)}`).catch(() => []);
  for (const choice of choices) structureChoices.set(choice.name.toLowerCase(), choice);
  $("structure-choices").replaceChildren(...choices.map((choice) => new Option(codeLabel(choice), choice.name)));
  return choices;
}

let structureSearch;
$("structure-name").addEventListener("input", () => {
  Object.assign($("structure-code"), { hidden: true, required: false });
  clearTimeout(structureSearch);
  structureSearch = setTimeout(() => offerStructureChoices($("structure-name").value), 150);
});

/// A name the terminology does not know: the user chooses its code (Tissue only explicitly).
async function askForCode(name) {
  const words = name.split(/\s+/).filter((word) => word.length > 2);
  let choices = await offerStructureChoices(name);
  for (const word of words) if (!choices.length) choices = await offerStructureChoices(word);
  if (!choices.length) choices = await offerStructureChoices("");
  const select = $("structure-code");
  select.replaceChildren(new Option(`choose the code for "${name}"`, ""),
    ...choices.map((choice, index) => new Option(codeLabel(choice), String(index))),
    new Option("Tissue, generic (SCT 85756007)", "tissue"));
  select.choices = choices;
  select.hidden = false;
  select.required = true;
  select.focus();
}

$("structure-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("structure-name").value.trim();
  const select = $("structure-code");
  const picked = select.hidden ? structureChoices.get(name.toLowerCase())
    : select.value === "tissue" ? { type: ["SCT", "85756007", "Tissue"], category: ["SCT", "85756007", "Tissue"] }
      : select.choices[Number(select.value)];
  const body = { name, ...(picked && { type: picked.type, category: picked.category, modifier: picked.modifier }) };
  try {
    const structure = await api(`/cases/${state.detail.case.id}/structures`, { method: "POST", body });
    state.detail.structures.push(structure);
    state.label = structure.value;
    renderClasses();
    $("structure-name").value = "";
    Object.assign(select, { hidden: true, required: false });
    status(`structure "${structure.name}" added (${structure.type[2]}): click on it`);
  } catch (error) {
    if (error.code === "needs_code") await askForCode(name);
    status(error.message);
  }
});

async function openCase(id) {
  state.detail = await api(`/cases/${id}`);
  const detail = state.detail;
  state.label = detail.classes.length > 1 ? 1 : detail.structures[0]?.value ?? null;
  state.labels.clear();
  state.voxels.clear();
  state.planeVoxels.clear();
  state.planeLabels.clear();
  state.hidden.clear();
  $("export-status").textContent = "";
  $("case-title").textContent = `Case ${id} · patient ${detail.case.patientID} · ${detail.case.modality} · ` +
    `${detail.columns}×${detail.rows}×${detail.slices} · round ${detail.round}`;
  $("case-title").title = `study ${detail.case.studyInstanceUID}\nseries ${detail.case.seriesInstanceUID}`;
  $("window-preset").value = detail.case.modality === "CT" ? "40,400" : "500,1000";
  setWindow(...$("window-preset").value.split(",").map(Number));
  resetView();
  const canvas = $("slice-canvas");
  canvas.width = detail.columns;
  canvas.height = detail.rows;
  $("slice-slider").max = detail.slices - 1;
  state.cross = { x: Math.floor(detail.columns / 2), y: Math.floor(detail.rows / 2), shown: true };
  preparePlaneViews();
  renderClasses();
  state.projections = [];
  showProjections();
  $("structure-form").hidden = !detail.structuresEnabled;
  if (detail.structuresEnabled && !$("structure-choices").children.length) await offerStructureChoices("");
  $("accept").hidden = !["reviewer", "admin"].includes(state.user.role);
  show("case-view");
  drawQualityStrip();
  await showSlice(detail.suggestedSlice ?? Math.floor(detail.slices / 2));
}

function drawQualityStrip() {
  const strip = $("quality-strip");
  const context = strip.getContext("2d");
  const count = state.detail.slices;
  context.fillStyle = "#333";
  context.fillRect(0, 0, strip.width, strip.height);
  state.detail.quality.forEach((quality, slice) => {
    if (quality == null) return;
    context.fillStyle = `hsl(${Math.round(120 * Math.max(0, Math.min(1, quality)))}, 80%, 45%)`;
    context.fillRect(Math.floor(slice * strip.width / count), 0, Math.ceil(strip.width / count), strip.height);
  });
  state.detail.correctedSlices.forEach((slice) => {
    context.fillStyle = "#fff";
    context.fillRect(Math.floor(slice * strip.width / count), 0, Math.max(1, Math.ceil(strip.width / count)), 4);
  });
}

$("quality-strip").addEventListener("click", (event) => {
  const box = event.target.getBoundingClientRect();
  showSlice(Math.min(state.detail.slices - 1, Math.floor((event.clientX - box.left) / box.width * state.detail.slices)));
});
$("window-preset").addEventListener("change", () => {
  setWindow(...$("window-preset").value.split(",").map(Number));
  showSlice(state.slice);
});
$("opacity").addEventListener("input", () => showSlice(state.slice));

function setWindow(center, width) {
  state.window = { center: Math.round(center), width: Math.max(1, Math.round(width)) };
  $("window-label").textContent = `W ${state.window.width} / L ${state.window.center}`;
}

function resetView() {
  state.view = { zoom: 1, x: 0, y: 0 };
  applyView();
}

function applyView() {
  const { zoom, x, y } = state.view;
  $("slice-canvas").style.transform = `translate(${x}px, ${y}px) scale(${zoom})`;
}

/// Zooms by `factor` about the viewport point (px, py), between 1x and 8x.
function zoomAt(factor, px, py) {
  const view = state.view;
  const zoom = Math.min(Math.max(view.zoom * factor, 1), 8);
  view.x = px - (px - view.x) * zoom / view.zoom;
  view.y = py - (py - view.y) * zoom / view.zoom;
  view.zoom = zoom;
  if (zoom === 1) { view.x = 0; view.y = 0; }
  applyView();
}

document.addEventListener("keydown", (event) => {
  if ($("case-view").hidden || event.target.tagName === "INPUT" && event.target.type !== "range" && event.target.type !== "radio") return;
  if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    event.preventDefault();
    const next = Math.min(Math.max(state.slice + (event.key === "ArrowUp" ? -1 : 1), 0), state.detail.slices - 1);
    showSlice(next);
  } else if (event.key >= "1" && event.key <= "9" && document.querySelectorAll("#classes input[type=radio]")[event.key - 1]) {
    const radio = document.querySelectorAll("#classes input[type=radio]")[event.key - 1];
    radio.checked = true;
    state.label = Number(radio.value);
  } else if ((event.ctrlKey || event.metaKey) && event.key === "z") {
    event.preventDefault();
    $("undo").click();
  } else if (event.key === "n" || event.key === "N") {
    $("next-slice").click();
  } else if (event.key === "p" || event.key === "P") {
    $("propagate").click();
  } else if (event.key === "r" || event.key === "R") {
    resetView();
  } else if (event.key === "x" || event.key === "X") {
    state.cross.shown = !state.cross.shown;
    showSlice(state.slice);
  } else if ("cbeCBE".includes(event.key)) {
    selectTool({ c: "click", b: "brush", e: "eraser" }[event.key.toLowerCase()]);
  } else if (event.key === "[" || event.key === "]") {
    setRadius(state.radius + (event.key === "]" ? 1 : -1));
  } else if (event.key === "+" || event.key === "=" || event.key === "-") {
    zoomAt(event.key === "-" ? 1 / 1.25 : 1.25, 256, 256);
  }
});

$("classes").addEventListener("change", (event) => {
  if (event.target.classList.contains("visible")) {
    const label = Number(event.target.dataset.class);
    if (event.target.checked) state.hidden.delete(label); else state.hidden.add(label);
    showSlice(state.slice);
    drawProjections();
  } else {
    state.label = Number(event.target.value);
  }
});
$("slice-slider").addEventListener("input", (event) => showSlice(Number(event.target.value)));
$("viewport").addEventListener("wheel", (event) => {
  event.preventDefault();
  if (event.ctrlKey) {
    const box = $("viewport").getBoundingClientRect();
    zoomAt(event.deltaY < 0 ? 1.25 : 1 / 1.25, event.clientX - box.left, event.clientY - box.top);
    return;
  }
  const next = Math.min(Math.max(state.slice + Math.sign(event.deltaY), 0), state.detail.slices - 1);
  if (next !== state.slice) showSlice(next);
});

/// The slice's stored values (HU for CT), fetched once: windowing happens here, so dragging the
/// window is instant.
async function sliceVoxels(slice) {
  if (!state.voxels.has(slice)) {
    state.voxels.set(slice, new Int16Array(await apiBytes(`/cases/${state.detail.case.id}/slices/${slice}/raw`)));
  }
  return state.voxels.get(slice);
}

async function sliceLabels(slice) {
  if (!state.labels.has(slice)) {
    const result = await api(`/cases/${state.detail.case.id}/slices/${slice}/labels`);
    state.labels.set(slice, decodeRuns(result.runs, state.detail.columns * state.detail.rows));
  }
  return state.labels.get(slice);
}

async function showSlice(slice) {
  state.slice = slice;
  $("slice-slider").value = slice;
  const quality = state.detail.quality?.[slice];
  $("slice-label").textContent = `slice ${slice + 1} / ${state.detail.slices}` +
    (quality != null ? ` · predicted quality ${quality.toFixed(2)}` : "");
  const [voxels, labels] = await Promise.all([sliceVoxels(slice), sliceLabels(slice)]);
  if (slice !== state.slice) return;
  draw(voxels, labels);
  await showPlaneViews();
}

/// Sizes a view's canvas to a plane's pixels, drawn `width` px wide at the pixels' true aspect
/// (flipped so that superior or anterior is at the top).
function sizeView(canvas, view, width) {
  canvas.width = view.width;
  canvas.height = view.height;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${Math.round(width * view.height * view.aspect / view.width)}px`;
  canvas.style.transform = view.flipped ? "scaleY(-1)" : "";
}

/// The side views' captions and sizes: each plane 256 px wide.
function preparePlaneViews() {
  for (const view of state.detail.planes.filter((item) => item.plane !== "slice")) {
    sizeView($(`${view.plane}-canvas`), view, 256);
    $(`${view.plane}-name`).textContent = view.name;
  }
}

/// The 3D check: the labels seen from outside across each kind of plane, nearer brighter. Asked
/// for whenever the labels change; one request at a time, the last change always shown.
async function showProjections() {
  state.projectionsWanted = true;
  if (state.projectionsBusy) return;
  state.projectionsBusy = true;
  try {
    while (state.projectionsWanted) {
      state.projectionsWanted = false;
      const version = state.labelsVersion;
      state.projections = (await api(`/cases/${state.detail.case.id}/projections`)).projections;
      drawProjections(version);
    }
  } finally {
    state.projectionsBusy = false;
  }
}

function drawProjections(version = state.labelsVersion) {
  for (const projection of state.projections) {
    const canvas = $(`projection-${projection.plane}`);
    const view = state.detail.planes.find((item) => item.plane === projection.plane);
    sizeView(canvas, view, canvas.classList.contains("large") ? 256 : 84);
    const count = projection.width * projection.height;
    const labels = decodeRuns(projection.runs, count);
    const depth = decodeRuns(projection.depth, count);
    const context = canvas.getContext("2d");
    const frame = context.createImageData(canvas.width, canvas.height);
    for (let pixel = 0; pixel < count; pixel++) {
      frame.data[pixel * 4 + 3] = 255;
      const label = labels[pixel];
      if (label === 0 || state.hidden.has(label) || !state.colours.has(label)) continue;
      const shade = 1 - 0.7 * depth[pixel] / (projection.levels - 1);
      state.colours.get(label).forEach((channel, index) => { frame.data[pixel * 4 + index] = channel * shade; });
    }
    context.putImageData(frame, 0, 0);
    canvas.dataset.shown = String(version);
  }
}

for (const canvas of document.querySelectorAll("canvas.projection")) {
  canvas.addEventListener("click", () => {
    canvas.classList.toggle("large");
    drawProjections();
  });
}

/// The row plane through the crosshair's row and the column plane through its column, with the
/// crosshair: where the slice and the other plane cut them.
async function showPlaneViews() {
  const id = state.detail.case.id;
  const version = state.labelsVersion;
  await Promise.all(state.detail.planes.filter((item) => item.plane !== "slice").map(async (view) => {
    const index = view.plane === "row" ? state.cross.y : state.cross.x;
    const key = `${view.plane}:${index}`;
    if (!state.planeVoxels.has(key)) {
      state.planeVoxels.set(key, new Int16Array(await apiBytes(`/cases/${id}/planes/${view.plane}/${index}/raw`)));
    }
    if (!state.planeLabels.has(key)) {
      const result = await api(`/cases/${id}/planes/${view.plane}/${index}/labels`);
      state.planeLabels.set(key, decodeRuns(result.runs, view.width * view.height));
    }
    const canvas = $(`${view.plane}-canvas`);
    state.frames.set(canvas.id, render(canvas, state.planeVoxels.get(key), state.planeLabels.get(key)));
    drawCrosshair(canvas, view.plane === "row" ? state.cross.x : state.cross.y, state.slice);
    canvas.dataset.shown = `${key}@${version}`;
  }));
}

/// A click, stroke, undo or propagation changed the labels: the side views fetch theirs again and
/// the 3D check is asked for anew.
function labelsChanged() {
  state.planeLabels.clear();
  state.labelsVersion++;
  showProjections();
}

/// Dashed crosshair lines through column `x` and row `y` of a canvas.
function drawCrosshair(canvas, x, y) {
  if (!state.cross.shown) return;
  const context = canvas.getContext("2d");
  context.save();
  context.strokeStyle = "rgb(255, 220, 0)";
  context.lineWidth = Math.max(canvas.width / 256, 1);
  context.setLineDash([4 * context.lineWidth, 4 * context.lineWidth]);
  context.beginPath();
  context.moveTo(x + 0.5, 0); context.lineTo(x + 0.5, canvas.height);
  context.moveTo(0, y + 0.5); context.lineTo(canvas.width, y + 0.5);
  context.stroke();
  context.restore();
}

/// Moves the crosshair to column `x` and row `y` of the slice (kept inside it).
function moveCrosshair(x, y) {
  state.cross.x = Math.min(Math.max(Math.floor(x), 0), state.detail.columns - 1);
  state.cross.y = Math.min(Math.max(Math.floor(y), 0), state.detail.rows - 1);
}

/// A click in a side view moves the crosshair there and shows that slice in the main view; with
/// Ctrl (and Shift to erase) it also segments the selected structure in that view, across the
/// slices it crosses.
for (const plane of ["row", "column"]) {
  $(`${plane}-canvas`).addEventListener("click", (event) => {
    if (state.tool !== "click") return;
    const [across, slice] = canvasPoint(event.target, event);
    if (plane === "row") moveCrosshair(across, state.cross.y);
    else moveCrosshair(state.cross.x, across);
    const clamped = Math.min(Math.max(Math.floor(slice), 0), state.detail.slices - 1);
    if (event.ctrlKey || event.metaKey) sideViewClick(plane, across, clamped, event.shiftKey);
    else showSlice(clamped);
  });
}

/// A click in a side view: the daemon segments the plane and the slices it crosses (refused with
/// a message where slices are too thick for the plane, or for the model's classes).
async function sideViewClick(plane, across, slice, erase) {
  if (!labelChosen()) return;
  try {
    const result = await api(`/cases/${state.detail.case.id}/clicks`, {
      method: "POST",
      body: { plane, index: plane === "row" ? state.cross.y : state.cross.x, x: across, y: slice, label: state.label,
              kind: erase ? "erase" : "click", clientTimestamp: new Date().toISOString() },
    });
    showResult(result);
    status(`${erase ? "erased" : "clicked"} in the ${$(`${plane}-name`).textContent} view: ` +
      `${result.slices.length} slices in ${result.latencyMilliseconds.toFixed(0)} ms`);
    await showSlice(result.slice);
  } catch (error) { status(error.message); await showSlice(slice); }
}

function draw(voxels, labels) {
  const canvas = $("slice-canvas");
  state.frames.set(canvas.id, render(canvas, voxels, labels));
  drawCrosshair(canvas, state.cross.x, state.cross.y);
}

/// Draws stored values through the window with the labels' colours over them; returns the frame.
function render(canvas, voxels, labels) {
  const context = canvas.getContext("2d");
  const frame = context.createImageData(canvas.width, canvas.height);
  const alpha = Number($("opacity").value) / 100;
  const low = state.window.center - state.window.width / 2;
  const scale = 255 / state.window.width;
  for (let pixel = 0; pixel < voxels.length; pixel++) {
    const grey = Math.min(Math.max((voxels[pixel] - low) * scale, 0), 255);
    const offset = pixel * 4;
    frame.data[offset] = frame.data[offset + 1] = frame.data[offset + 2] = grey;
    frame.data[offset + 3] = 255;
    const label = labels[pixel];
    if (label === 0 || state.hidden.has(label) || !state.colours.has(label)) continue;
    const [r, g, b] = state.colours.get(label);
    frame.data[offset] += (r - grey) * alpha;
    frame.data[offset + 1] += (g - grey) * alpha;
    frame.data[offset + 2] += (b - grey) * alpha;
  }
  context.putImageData(frame, 0, 0);
  return frame;
}

function selectTool(tool) {
  state.tool = tool;
  document.querySelector(`#tools input[value="${tool}"]`).checked = true;
  $("slice-canvas").style.cursor = tool === "click" ? "crosshair" : "cell";
}

function setRadius(radius) {
  state.radius = Math.min(Math.max(Math.round(radius), 1), 40);
  $("brush-radius").value = state.radius;
  $("brush-radius-label").textContent = `${state.radius} px`;
}

$("tools").addEventListener("change", (event) => {
  if (event.target.name === "tool") selectTool(event.target.value);
});
$("brush-radius").addEventListener("input", (event) => setRadius(Number(event.target.value)));

/// Where an event falls on a view's canvas, in its pixels (a flipped side view counts from its
/// bottom row, the first slice).
function canvasPoint(canvas, event) {
  const box = canvas.getBoundingClientRect();
  const x = (event.clientX - box.left) * canvas.width / box.width;
  const y = (event.clientY - box.top) * canvas.height / box.height;
  return [x, canvas.style.transform.includes("scaleY(-1)") ? canvas.height - y : y];
}

/// The stroke being drawn, over its view as last drawn: the brush in its label's colour, the
/// eraser in white.
function drawStrokePreview() {
  const { points, tool, canvas } = state.stroke;
  const context = canvas.getContext("2d");
  if (state.frames.has(canvas.id)) context.putImageData(state.frames.get(canvas.id), 0, 0);
  const colour = tool === "eraser" ? [255, 255, 255] : state.colours.get(state.label) ?? [255, 255, 0];
  context.strokeStyle = context.fillStyle = `rgba(${colour.join(",")}, 0.6)`;
  context.lineWidth = 2 * state.radius;
  context.lineCap = context.lineJoin = "round";
  context.beginPath();
  context.moveTo(...points[0]);
  for (const point of points.slice(1)) context.lineTo(...point);
  if (points.length === 1) context.arc(points[0][0], points[0][1], state.radius, 0, 2 * Math.PI);
  points.length === 1 ? context.fill() : context.stroke();
}

/// Sends the finished stroke (on the slice, or on the side view's plane); the views show what the
/// daemon stored.
async function sendStroke(stroke) {
  try {
    const result = await api(`/cases/${state.detail.case.id}/strokes`, {
      method: "POST",
      body: { plane: stroke.plane, index: stroke.index, tool: stroke.tool, label: state.label, radius: state.radius,
              points: stroke.points, clientTimestamp: new Date().toISOString() },
    });
    showResult(result);
    status((stroke.tool === "eraser" ? "erased with the eraser" : "painted with the brush") +
      (stroke.plane === "slice" ? "" : ` across ${result.slices.length} slices`));
    await showSlice(result.slice ?? state.slice);
  } catch (error) { status(error.message); await showSlice(state.slice); }
}

/// Keeps a click's or stroke's labels and marks the slices it changed corrected (a side view's
/// stroke changes several: their labels are fetched again).
function showResult(result) {
  labelsChanged();
  const slices = result.slices ?? [result.slice];
  for (const slice of slices) state.labels.delete(slice);
  if (result.slice !== undefined) {
    state.labels.set(result.slice, decodeRuns(result.runs, state.detail.columns * state.detail.rows));
  }
  const fresh = slices.filter((slice) => !state.detail.correctedSlices.includes(slice));
  if (fresh.length) {
    state.detail.correctedSlices.push(...fresh);
    drawQualityStrip();
  }
}

async function interact(event, erase) {
  event.preventDefault();
  if (!labelChosen()) return;
  const [x, y] = canvasPoint($("slice-canvas"), event);
  moveCrosshair(x, y);
  try {
    const result = await api(`/cases/${state.detail.case.id}/clicks`, {
      method: "POST",
      body: { slice: state.slice, x, y, label: state.label, kind: erase ? "erase" : "click",
              clientTimestamp: new Date().toISOString() },
    });
    showResult(result);
    status(`${erase ? "erased" : "clicked"} in ${result.latencyMilliseconds.toFixed(0)} ms`);
    await showSlice(result.slice);
  } catch (error) { status(error.message); }
}

$("slice-canvas").addEventListener("click", (event) => {
  if (state.tool === "click") interact(event, event.shiftKey);
});
/// The brush and the eraser draw on the slice and on the side views alike.
for (const [id, plane] of [["slice-canvas", "slice"], ["row-canvas", "row"], ["column-canvas", "column"]]) {
  $(id).addEventListener("mousedown", (event) => {
    if (event.button !== 0 || state.tool === "click" || state.tool === "brush" && !labelChosen()) return;
    event.preventDefault();
    const index = { slice: state.slice, row: state.cross.y, column: state.cross.x }[plane];
    state.stroke = { tool: state.tool, canvas: $(id), plane, index, points: [canvasPoint($(id), event)] };
    drawStrokePreview();
  });
}

// Right button: a drag sets window (horizontal) and level (vertical); a click without dragging
// erases. Middle button: a drag pans the zoomed image.
let drag = null;
$("viewport").addEventListener("contextmenu", (event) => event.preventDefault());
$("viewport").addEventListener("mousedown", (event) => {
  if (event.button !== 1 && event.button !== 2) return;
  event.preventDefault();
  drag = { button: event.button, x: event.clientX, y: event.clientY, moved: false,
           window: { ...state.window }, view: { ...state.view } };
});
window.addEventListener("mousemove", (event) => {
  if (state.stroke) {
    const point = canvasPoint(state.stroke.canvas, event);
    const last = state.stroke.points[state.stroke.points.length - 1];
    if (Math.hypot(point[0] - last[0], point[1] - last[1]) >= 1) state.stroke.points.push(point);
    drawStrokePreview();
  }
  if (!drag) return;
  const dx = event.clientX - drag.x;
  const dy = event.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  if (!drag.moved) return;
  if (drag.button === 2) {
    const step = Math.max(drag.window.width / 256, 0.5);
    setWindow(drag.window.center + dy * step, drag.window.width + dx * 2 * step);
    showSlice(state.slice);
  } else {
    state.view.x = drag.view.x + dx;
    state.view.y = drag.view.y + dy;
    applyView();
  }
});
window.addEventListener("mouseup", (event) => {
  if (state.stroke && event.button === 0) {
    const stroke = state.stroke;
    state.stroke = null;
    sendStroke(stroke);
  }
  if (!drag) return;
  const finished = drag;
  drag = null;
  if (finished.button === 2 && !finished.moved && event.target === $("slice-canvas")) interact(event, true);
});

$("undo").addEventListener("click", async () => {
  try {
    const result = await api(`/cases/${state.detail.case.id}/undo`, { method: "POST" });
    labelsChanged();
    state.labels.clear();  // a side view's stroke spans several slices
    state.labels.set(result.slice, decodeRuns(result.runs, state.detail.columns * state.detail.rows));
    status("undone");
    await showSlice(result.slice);
  } catch (error) { status(error.message); }
});

$("propagate").addEventListener("click", async () => {
  const id = state.detail.case.id;
  const bar = $("progress");
  bar.hidden = false;
  status("propagating…");
  // Progress arrives as Server-Sent Events; the stream ends itself once nothing runs.
  const events = new EventSource(`/api/v1/cases/${id}/progress/events`);
  events.addEventListener("progress", (event) => {
    const progress = JSON.parse(event.data);
    if (progress.total > 0) { bar.max = progress.total; bar.value = progress.done; }
  });
  events.addEventListener("done", () => events.close());
  try {
    const result = await api(`/cases/${id}/propagate`, { method: "POST" });
    bar.value = bar.max;
    state.detail = await api(`/cases/${id}`);
    state.labels.clear();
    labelsChanged();
    drawQualityStrip();
    await showSlice(result.suggestedSlice ?? state.slice);
    status(`propagated to ${result.updatedSlices.length} slices in ${(result.milliseconds / 1000).toFixed(1)} s` +
      (result.keptSlices.length ? `; kept ${result.keptSlices.length} earlier slices` : ""));
  } catch (error) { status(error.message); }
  events.close();
  bar.hidden = true;
});

$("next-slice").addEventListener("click", async () => {
  const next = await api(`/cases/${state.detail.case.id}/next-slice`);
  if (next.slice == null) status("no slice to suggest yet: propagate first");
  else await showSlice(next.slice);
});

$("accept").addEventListener("click", async () => {
  try {
    const id = state.detail.case.id;
    const result = await api(`/cases/${id}/accept`, { method: "POST" });
    status(`accepted: DICOM-SEG ${result.sopInstanceUID} queued for PACS`);
    await followExport(id, result.sopInstanceUID);
  } catch (error) { status(error.message); }
});

/// Shows the SEG's delivery to the PACS until it is delivered (or for two minutes).
async function followExport(caseId, sopInstanceUID) {
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    const exports = await api(`/cases/${caseId}/exports`).catch(() => []);
    const mine = exports.filter((item) => item.sopInstanceUID === sopInstanceUID);
    if (mine.length === 0) return;
    $("export-status").textContent = mine.map((item) => item.status === "delivered"
      ? `SEG delivered to ${item.destination}`
      : `SEG to ${item.destination}: ${item.status}${item.lastError ? ` (${item.lastError})` : ""}`).join("; ");
    if (mine.every((item) => item.status === "delivered")) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

start();
