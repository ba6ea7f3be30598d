/* The resident's report page.
 *
 * 1. The category's questions: only the fieldset[data-type] of the chosen category is
 *    shown (without JavaScript every category's questions show; only the chosen one's
 *    answers are used).
 * 2. Where: tapping the Leaflet map, or "use my location" (navigator.geolocation), sets
 *    the hidden lon/lat inputs (WGS84) and a marker. The map shows the grids' outlines
 *    (and tiles when GRIDGOV_MAP_TILE_URL is set), so a point can be found offline too.
 */
(function () {
  "use strict";
  var form = document.getElementById("resident-report");
  if (!form) return;

  var select = form.querySelector("select[name=task_type]");
  function showQuestions() {
    form.querySelectorAll("fieldset[data-type]").forEach(function (set) {
      set.hidden = set.getAttribute("data-type") !== select.value;
    });
  }
  if (select) { select.addEventListener("change", showQuestions); showQuestions(); }

  var lon = form.querySelector("input[name=lon]");
  var lat = form.querySelector("input[name=lat]");
  var where = form.querySelector("[data-where]");
  var holder = document.getElementById("resident-map");
  var map = null, marker = null;

  function say(key) { where.textContent = where.getAttribute("data-msg-" + key) || ""; }
  function put(lng, la) {
    lon.value = lng.toFixed(6);
    lat.value = la.toFixed(6);
    say("set");
    if (!map) return;
    if (marker) marker.setLatLng([la, lng]); else marker = window.L.marker([la, lng]).addTo(map);
  }

  if (holder && window.L) {
    map = window.L.map(holder);
    var tiles = holder.getAttribute("data-tiles");
    if (tiles) window.L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    var grids = JSON.parse(document.getElementById("resident-grids").textContent || "null");
    var layer = grids && grids.features && grids.features.length
      ? window.L.geoJSON(grids, { style: { weight: 1, fillOpacity: 0.05 } }).addTo(map) : null;
    if (layer) map.fitBounds(layer.getBounds()); else map.setView([30.27, 120.15], 13);
    map.on("click", function (e) { put(e.latlng.lng, e.latlng.lat); });
    if (lon.value && lat.value) put(parseFloat(lon.value), parseFloat(lat.value));
  }

  var button = form.querySelector("[data-locate]");
  if (button) button.addEventListener("click", function () {
    if (!("geolocation" in navigator)) { say("denied"); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      put(pos.coords.longitude, pos.coords.latitude);
      if (map) map.setView([pos.coords.latitude, pos.coords.longitude], 17);
    }, function () { say("denied"); }, { enableHighAccuracy: true, timeout: 20000 });
  });
})();
