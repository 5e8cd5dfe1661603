// Small DOM helpers the views share.

export const $ = (id) => document.getElementById(id);

/// A table row with one cell per value, shown as text.
export function tableRow(values) {
  const row = document.createElement("tr");
  for (const value of values) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  return row;
}

/// Query parameters from form fields: [field id, parameter name] pairs, those with a value only.
export function queryFrom(fields, parameters = new URLSearchParams()) {
  for (const [id, name] of fields) {
    if ($(id).value) parameters.set(name, $(id).value);
  }
  return parameters;
}
