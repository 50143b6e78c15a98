// Charts by the vendored Chart.js (its UMD build sets globalThis.Chart when imported): a figure's daily values over
// a span, and a row's sparkline. Each is a canvas with its values in words for screen readers; the caller destroys
// the charts it made when the screen is left or drawn again.

import "../vendor/chartjs/chart.umd.js";
import { figure, formatted } from "./figures.js";

const { Chart } = globalThis;
const INK = "#1565c0";

Chart.defaults.animation = false;  // drawn once per load: a chart that grows in would be caught half-drawn
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = "#1c2430";

/** The values in words: "12-01 3, 12-02 0, …". */
function spoken(field, labels, values) {
  return labels.map((label, index) => `${label} ${formatted(field, values[index])}`).join(", ");
}

/** A figure's value each day (`days` YYYY-MM-DD): bars of a count or an amount, a line of a share (a day with
nothing to divide by is a gap); the axis reads as the figure does. */
export function trendChart(canvas, field, days, values, title) {
  const share = figure(field).kind === "share";
  const labels = days.map((day) => day.slice(5));
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `${title}${spoken(field, labels, values)}`);
  return new Chart(canvas, {
    type: share ? "line" : "bar",
    data: {
      labels,
      datasets: [{
        data: values, backgroundColor: INK, borderColor: INK, pointRadius: 3, spanGaps: false, maxBarThickness: 56,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => formatted(field, item.raw) } } },
      scales: {
        x: { grid: { display: false } },
        y: {
          beginAtZero: true,
          max: share ? 1 : undefined,
          ticks: { precision: 0, callback: (value) => formatted(field, value) },
        },
      },
    },
  });
}

/** A small line of the values, no axes: how a row's figure went day by day. */
export function sparkline(canvas, field, days, values) {
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", spoken(field, days.map((day) => day.slice(5)), values));
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: days,
      datasets: [{ data: values, borderColor: INK, backgroundColor: INK, borderWidth: 1.5, pointRadius: 1.5 }],
    },
    options: {
      responsive: false,
      events: [],
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
      scales: {
        x: { display: false },
        y: { display: false, beginAtZero: true, suggestedMax: figure(field).kind === "share" ? 1 : undefined },
      },
    },
  });
}
