/* The command centre's map (analytics): the children of an area on a plain background,
   coloured by overdue-now count or closure rate; click to drill down or list the tasks.
   Leaflet is vendored; tiles only when GRIDGOV_MAP_TILE_URL is set. */
(function () {
  "use strict";
  var me = document.currentScript;
  var box = document.getElementById("area-map");
  var source = document.getElementById("area-map-data");
  if (!box || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var L = window.L;
  var map = L.map(box, { zoomSnap: 0.25, attributionControl: Boolean(me.dataset.tileUrl) });
  if (me.dataset.tileUrl) { L.tileLayer(me.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }

  // Classes: [lowest value, colour, label]. Overdue: more is worse; closure: less is worse.
  var SCALES = {
    overdue: [[11, "#b71c1c", "> 10"], [6, "#e65100", "6–10"], [3, "#f9a825", "3–5"],
              [1, "#fdd835", "1–2"], [0, "#2e7d32", "0"]],
    closure: [[95, "#2e7d32", "≥ 95%"], [90, "#7cb342", "90–95%"], [80, "#fdd835", "80–90%"],
              [60, "#e65100", "60–80%"], [0, "#b71c1c", "< 60%"]]
  };
  var GREY = "#bdbdbd";
  var mode = document.querySelector("input[name=map-colour]:checked");
  mode = mode ? mode.value : "overdue";

  function value(p) { return mode === "overdue" ? p.overdue_open : p.closure_rate; }
  function colour(p) {
    var v = value(p);
    if (v === null || v === undefined) { return GREY; }
    var scale = SCALES[mode];
    for (var i = 0; i < scale.length; i++) { if (v >= scale[i][0]) { return scale[i][1]; } }
    return GREY;
  }
  function style(feature) {
    return { color: "#1d4e89", weight: 1.5, fillColor: colour(feature.properties), fillOpacity: 0.65 };
  }
  function label(p) {  // p.name is escaped by the caller
    var rate = p.closure_rate === null ? me.dataset.none : p.closure_rate.toFixed(2) + "%";
    return "<strong>" + p.name + "</strong><br>" +
      me.dataset.due + ": " + p.due + " · " + me.dataset.closed + ": " + p.closed + "<br>" +
      me.dataset.closure + ": " + rate + "<br>" + me.dataset.overdue + ": " + p.overdue_open +
      "<br><em>" + (p.has_children ? me.dataset.drill : me.dataset.tasks) + "</em>";
  }
  function escape(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  if (data.outline) {
    L.geoJSON(data.outline, { style: { color: "#1d4e89", weight: 3, fill: false } }).addTo(map);
  }
  var layer = L.geoJSON(data.features.filter(function (f) { return f.geometry; }), {
    style: style,
    onEachFeature: function (feature, shape) {
      var p = feature.properties;
      shape.bindTooltip(label(Object.assign({}, p, { name: escape(p.name) })), { sticky: true });
      shape.on("click", function () {
        if (p.has_children) {
          window.location.search = "?area=" + encodeURIComponent(p.code) + "&" +
            me.dataset.period + "&colour=" + mode;
        } else {
          window.location.href = p.links.due;
        }
      });
      shape.on("mouseover", function () { shape.setStyle({ weight: 3 }); });
      shape.on("mouseout", function () { layer.resetStyle(shape); });
    }
  }).addTo(map);

  if (data.bbox) {
    map.fitBounds([[data.bbox[1], data.bbox[0]], [data.bbox[3], data.bbox[2]]], { padding: [12, 12] });
  } else {
    map.setView([30.27, 120.13], 12);
  }

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "map-legend");
    legend.div = div;
    return div;
  };
  legend.addTo(map);
  function drawLegend() {
    var rows = SCALES[mode].map(function (c) {
      return '<div><i style="background:' + c[1] + '"></i>' + c[2] + "</div>";
    });
    if (mode === "closure") {
      rows.push('<div><i style="background:' + GREY + '"></i>' + me.dataset.none + "</div>");
    }
    legend.div.innerHTML = "<strong>" + (mode === "overdue" ? me.dataset.overdue : me.dataset.closure) +
      "</strong>" + rows.join("");
  }
  drawLegend();

  document.querySelectorAll("input[name=map-colour]").forEach(function (input) {
    input.addEventListener("change", function () {
      mode = input.value;
      layer.setStyle(style);
      drawLegend();
      var url = new URL(window.location.href);
      url.searchParams.set("colour", mode);
      var kept = document.querySelector("form input[name=colour]");
      if (kept) { kept.value = mode; }
      window.history.replaceState(null, "", url);
    });
  });
  window.addEventListener("resize", function () { map.invalidateSize(); });
})();
