// The report page: pick a month, watch ReportJob build it step by step, then show the table.
import { bindForm } from "./job-view.js";

function cell(tag, text) {
  const element = document.createElement(tag);
  element.textContent = String(text);
  return element;
}

function renderReport(report, into) {
  const table = document.createElement("table");
  table.append(cell("caption", `Sales, ${report.month}`));
  const head = table.createTHead().insertRow();
  for (const column of report.columns) head.append(cell("th", column));
  const body = table.createTBody();
  for (const row of report.rows) body.insertRow().append(...row.map((value) => cell("td", value)));
  into.replaceChildren(table);
}

bindForm(document.getElementById("report-form"), "/reports", (data) => ({ month: data.get("month") }), renderReport);
