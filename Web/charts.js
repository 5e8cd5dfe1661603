// Small canvas charts for the admin dashboard, drawn here (no library, no CDN). Each chart
// records how many marks (bars or points) it drew in canvas.dataset.marks.

const INK = "#ddd";
const GRID = "#444";
const FILL = "#4aa3df";
const MARGIN = { left: 48, right: 12, top: 24, bottom: 40 };

function prepare(canvas, title) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.font = "12px sans-serif";
  context.fillStyle = INK;
  context.textAlign = "left";
  context.fillText(title, 4, 14);
  return context;
}

/// Axis frame with horizontal grid lines up to `maximum` (one per unit for small counts); returns the plot box.
function frame(context, canvas, maximum) {
  const ticks = Number.isInteger(maximum) && maximum <= 4 ? maximum : 4;
  const box = {
    x: MARGIN.left, y: MARGIN.top,
    width: canvas.width - MARGIN.left - MARGIN.right, height: canvas.height - MARGIN.top - MARGIN.bottom,
  };
  context.strokeStyle = GRID;
  context.textAlign = "right";
  for (let tick = 0; tick <= ticks; tick++) {
    const y = box.y + box.height - (tick / ticks) * box.height;
    context.beginPath();
    context.moveTo(box.x, y);
    context.lineTo(box.x + box.width, y);
    context.stroke();
    const value = (maximum * tick) / ticks;
    context.fillText(Number.isInteger(value) ? value : value.toFixed(2), box.x - 4, y + 4);
  }
  return box;
}

/// Vertical bars, one per label; returns the number of bars.
export function barChart(canvas, labels, values, title) {
  const context = prepare(canvas, title);
  const maximum = Math.max(1, ...values);
  const box = frame(context, canvas, maximum);
  const slot = box.width / Math.max(labels.length, 1);
  context.textAlign = "center";
  values.forEach((value, index) => {
    const height = (value / maximum) * box.height;
    const x = box.x + index * slot + slot * 0.15;
    context.fillStyle = FILL;
    context.fillRect(x, box.y + box.height - height, slot * 0.7, height);
    context.fillStyle = INK;
    context.fillText(String(labels[index]).slice(0, 14), box.x + (index + 0.5) * slot, box.y + box.height + 14);
  });
  canvas.dataset.marks = String(values.length);
  return values.length;
}

/// Points (x, y) with axis names; returns the number of points.
export function scatterChart(canvas, points, title, xName, yName) {
  const context = prepare(canvas, title);
  const maximumX = Math.max(1, ...points.map((p) => p.x));
  const maximumY = Math.max(1, ...points.map((p) => p.y));
  const box = frame(context, canvas, maximumY);
  context.fillStyle = FILL;
  for (const point of points) {
    context.beginPath();
    context.arc(box.x + (point.x / maximumX) * box.width, box.y + box.height - (point.y / maximumY) * box.height,
      4, 0, 2 * Math.PI);
    context.fill();
  }
  context.fillStyle = INK;
  context.textAlign = "center";
  context.fillText(`${xName} (0 to ${maximumX.toFixed(1)})`, box.x + box.width / 2, box.y + box.height + 30);
  context.save();
  context.translate(10, box.y + box.height / 2);
  context.rotate(-Math.PI / 2);
  context.fillText(yName, 0, 0);
  context.restore();
  canvas.dataset.marks = String(points.length);
  return points.length;
}

/// Events on a time axis, one lane per kind; returns the number of events drawn.
export function timelineChart(canvas, events, title) {
  const context = prepare(canvas, title);
  const lanes = ["click", "erase", "scribble", "propagate", "accept"];
  const times = events.map((event) => new Date(event.at).getTime());
  const first = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - first);
  const box = { x: 70, y: MARGIN.top, width: canvas.width - 70 - MARGIN.right, height: canvas.height - MARGIN.top - 28 };
  const laneHeight = box.height / lanes.length;
  context.textAlign = "right";
  lanes.forEach((lane, index) => {
    context.fillStyle = INK;
    context.fillText(lane, box.x - 6, box.y + (index + 0.5) * laneHeight + 4);
    context.strokeStyle = GRID;
    context.beginPath();
    context.moveTo(box.x, box.y + (index + 0.5) * laneHeight);
    context.lineTo(box.x + box.width, box.y + (index + 0.5) * laneHeight);
    context.stroke();
  });
  context.fillStyle = FILL;
  events.forEach((event, index) => {
    const x = box.x + ((times[index] - first) / span) * box.width;
    const y = box.y + (lanes.indexOf(event.kind) + 0.5) * laneHeight;
    context.beginPath();
    context.arc(x, y, event.undone ? 2 : 4, 0, 2 * Math.PI);
    context.fill();
  });
  context.fillStyle = INK;
  context.textAlign = "center";
  context.fillText(`seconds since the first event (0 to ${(span / 1000).toFixed(1)})`, box.x + box.width / 2,
    canvas.height - 6);
  canvas.dataset.marks = String(events.length);
  return events.length;
}
