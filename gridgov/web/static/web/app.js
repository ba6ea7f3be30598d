/* gridgov web: small behaviours, no framework.
 *
 * 1. Location: a [data-geolocate] block fills its hidden lon/lat inputs from
 *    navigator.geolocation (WGS84) and says what happened in [data-geo-status].
 * 2. Drafts: a form[data-draft=KEY] keeps what was typed in localStorage
 *    ("gridgov-draft:KEY"), so a failed upload or a reload on a bad connection loses
 *    nothing; it is restored on a fresh page (data-draft-restore) and cleared when the
 *    server confirms (a <meta name="gridgov-draft-clear" content=KEY>). Files are never
 *    stored: a browser cannot put them back in a file input.
 * 3. One tap: a form.one-tap or a draft form disables its submit button once sent.
 */
(function () {
  "use strict";
  var PREFIX = "gridgov-draft:";

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function geolocate(block) {
    var status = block.querySelector("[data-geo-status]");
    var lon = block.querySelector("input[name=lon]");
    var lat = block.querySelector("input[name=lat]");
    function say(key, metres) {
      var text = status.getAttribute("data-msg-" + key) || "";
      status.textContent = text.replace("{m}", metres === undefined ? "" : String(metres));
      status.setAttribute("data-state", key);
    }
    function locate() {
      if (!("geolocation" in navigator)) { say("unsupported"); return; }
      say("waiting");
      navigator.geolocation.getCurrentPosition(function (pos) {
        lon.value = pos.coords.longitude.toFixed(6);
        lat.value = pos.coords.latitude.toFixed(6);
        say("found", Math.round(pos.coords.accuracy));
      }, function (err) {
        say(err.code === err.PERMISSION_DENIED ? "denied" : "failed");
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    }
    var retry = block.querySelector("[data-geo-retry]");
    if (retry) retry.addEventListener("click", locate);
    if (!lon.value) locate();
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "hidden" && el.type !== "submit"
        && el.name !== "csrfmiddlewaretoken";
    });
  }

  function draft(form) {
    var store = storage();
    if (!store) return;
    var key = PREFIX + form.getAttribute("data-draft");
    if (form.hasAttribute("data-draft-restore")) {
      var saved = null;
      try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
      if (saved) {
        draftFields(form).forEach(function (el) {
          if (!(el.name in saved)) return;
          if (el.type === "checkbox") el.checked = !!saved[el.name];
          else el.value = saved[el.name];
        });
      }
    }
    function save() {
      var data = {};
      draftFields(form).forEach(function (el) {
        data[el.name] = el.type === "checkbox" ? el.checked : el.value;
      });
      try { store.setItem(key, JSON.stringify(data)); } catch (e) { /* full: ignore */ }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }

  function oneTap(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[type=submit]");
      if (button) {
        // After the request is on its way: disabling at once would drop the button's value.
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  }

  function map(el) {
    if (!window.L) return;
    var lon = parseFloat(el.getAttribute("data-lon"));
    var lat = parseFloat(el.getAttribute("data-lat"));
    // No tiles (a closed network): the point on a plain background, with a scale.
    var m = window.L.map(el, { attributionControl: false, zoomControl: true })
      .setView([lat, lon], 17);
    window.L.circleMarker([lat, lon], { radius: 9, weight: 3, color: "#1d4e89", fillOpacity: 0.6 })
      .addTo(m);
    window.L.control.scale({ imperial: false }).addTo(m);
  }

  function start() {
    var clear = document.querySelector("meta[name=gridgov-draft-clear]");
    var store = storage();
    if (clear && store) store.removeItem(PREFIX + clear.getAttribute("content"));
    document.querySelectorAll("[data-geolocate]").forEach(geolocate);
    document.querySelectorAll("form[data-draft]").forEach(function (f) { draft(f); oneTap(f); });
    document.querySelectorAll("form.one-tap").forEach(oneTap);
    var mapEl = document.getElementById("task-map");
    if (mapEl) {
      if (window.L) map(mapEl);
      else window.addEventListener("load", function () { map(mapEl); });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
