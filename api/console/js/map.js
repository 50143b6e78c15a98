// The maps of the console: Leaflet over the operator's tiles when configured, else the city's district outlines
// (vendored GeoJSON), so that the map works on a closed office network.

import * as L from "../vendor/leaflet/leaflet-src.esm.js";
import { h } from "./dom.js";

export { L };

export const TEAM_COLOURS = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
  "#393b79", "#ad494a", "#637939", "#7b4173", "#e6550d", "#3182bd", "#843c39", "#31a354", "#756bb1", "#636363",
];

export const STATE_COLOURS = {
  planned: "#ffffff", checking_in: "#ffd54f", in_progress: "#ff9800", done: "#43a047", failed: "#e53935",
  cancelled: "#9e9e9e",
};

let districts = null;
let config = { tile_url: null, tile_attribution: "" };

export function configureMaps(settings) {
  config = settings;
}

function districtOutlines() {
  districts ??= fetch("vendor/shanghai-districts.geojson").then((response) => response.json());
  return districts;
}

/** A map in `element`, centred on `centre` ([lat, lon]), with its basemap. */
export function makeMap(element, centre = [31.23, 121.47], zoom = 11) {
  // zoom limits of its own: without tiles Leaflet has none, and fitting a lone point would zoom without end
  // Leaflet focuses the map on the first press (for its keys) and restores only the window's scroll: in a screen
  // that scrolls inside, the focus would jump the map into view under the pointer and swallow that click. Focus it
  // first, without scrolling.
  element.addEventListener("mousedown", () => element.focus({ preventScroll: true }), { capture: true });
  const map = L.map(element, { zoomSnap: 0.25, minZoom: 8, maxZoom: 19 }).setView(centre, zoom);
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { maxZoom: 19, attribution: config.tile_attribution || "" }).addTo(map);
  } else {
    map.attributionControl.setPrefix(false);
    let removed = false;  // the user may leave the screen before the outlines arrive
    map.on("unload", () => { removed = true; });
    districtOutlines().then((outlines) => {
      if (removed) return;
      const layer = L.geoJSON(outlines, {
        interactive: false,
        style: { color: "#8a9bb0", weight: 1, fillColor: "#eef2f6", fillOpacity: 1, className: "fv-district" },
      });
      layer.addTo(map);
      layer.bringToBack();
    });
  }
  return map;
}

/** A numbered stop marker, coloured by state (a DOM element, its number set as text). */
export function stopMarker(latLng, number, state, colour) {
  const label = h("span", { class: "fv-stop-number", text: number });
  label.style.borderColor = colour;
  label.style.background = STATE_COLOURS[state] || "#fff";
  const icon = L.divIcon({ html: label, className: `fv-stop fv-state-${state}`, iconSize: [22, 22] });
  return L.marker(latLng, { icon, keyboard: false, riseOnHover: true });
}

/** A request on no team's sheet yet: a square tag with its priority (a star when it needs an experienced team),
shaped apart from the teams' round stops. */
export function requestMarker(latLng, requestId, priority, needsSkill) {
  const label = h("span", {
    class: "fv-request-label", text: `P${priority}${needsSkill ? "★" : ""}`, dataset: { request: requestId },
  });
  const icon = L.divIcon({ html: label, className: `fv-request fv-priority-${priority}`, iconSize: null });
  return L.marker(latLng, { icon, keyboard: true, riseOnHover: true, zIndexOffset: 500 });
}

/** A small round marker (office, check-in, photo position). */
export function dot(latLng, colour, className, radius = 6) {
  return L.circleMarker(latLng, { radius, color: "#222", weight: 1, fillColor: colour, fillOpacity: 0.9, className });
}

/** The GeoJSON LineString of a sheet's route as a Leaflet polyline. */
export function routeLine(geojson, colour) {
  const points = geojson.coordinates.map(([lon, lat]) => [lat, lon]);
  return L.polyline(points, { color: colour, weight: 3, opacity: 0.85, className: "fv-route" });
}

/** An agent's path of the day as the phone reported it: thin and dashed, so that it reads apart from the planned
route drawn in the same colour. */
export function trackLine(points, colour) {
  return L.polyline(points, { color: colour, weight: 2, opacity: 0.9, dashArray: "4 5", className: "fv-track" });
}

/** An agent's last position: a small dot in the team's colour (greyed when the position is old). */
export function agentMarker(latLng, colour, stale) {
  return L.circleMarker(latLng, {
    radius: 5, color: "#fff", weight: 2, fillColor: stale ? "#9e9e9e" : colour, fillOpacity: 1,
    className: `fv-agent${stale ? " fv-agent-stale" : ""}`,
  });
}

/** A small label beside a stop (its presence score): placed right of the stop's marker, its text set as text. */
export function stopBadge(latLng, text, className) {
  const label = h("span", { text });
  const icon = L.divIcon({ html: label, className: `fv-badge ${className}`, iconSize: null, iconAnchor: [-13, 8] });
  return L.marker(latLng, { icon, keyboard: false, zIndexOffset: -100 });
}

/** The key to the stop colours, in the map's corner. */
export function stateLegend(label) {
  const control = L.control({ position: "bottomright" });
  control.onAdd = () =>
    h("div", { class: "legend" }, Object.entries(STATE_COLOURS).map(([state, colour]) => {
      const swatch = h("span", { class: "swatch" });
      swatch.style.background = colour;
      return h("div", {}, swatch, " ", label(state));
    }));
  return control;
}

/** Take a map down, stopping any pan or zoom still under way (Leaflet fails on a removed map's animation). */
export function disposeMap(map) {
  map.stop();
  map.remove();
}
