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
 *    Photo inputs (input[data-preview]) show small previews of the chosen photos.
 * 4. Resilient sending: a form[data-resilient] (feedback, report) is posted with fetch,
 *    files included, and the page stays as it is until the server has answered. On a
 *    failed connection everything entered stays (note, chosen photos, location) and
 *    [data-send-status] shows what happened with a retry button (also offered while a
 *    try goes unanswered for data-slow-after ms, 30 s by default). The form's hidden
 *    idempotency_key is sent again unchanged, so a retry after a lost answer repeats
 *    nothing on the server. The server answers {"redirect": url} (header
 *    X-Gridgov-Form: fetch) on success, or the form again with its errors (400), which
 *    replaces the page while the chosen files are kept. Without JavaScript the forms
 *    post as usual.
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
    function locate(fresh) {
      if (!("geolocation" in navigator)) { say("unsupported"); return; }
      say("waiting");
      navigator.geolocation.getCurrentPosition(function (pos) {
        lon.value = pos.coords.longitude.toFixed(6);
        lat.value = pos.coords.latitude.toFixed(6);
        say("found", Math.round(pos.coords.accuracy));
      }, function (err) {
        say(err.code === err.PERMISSION_DENIED ? "denied" : "failed");
      // A position up to a minute old will do on opening the page; the button asks for
      // a new one (the worker has probably just walked up to the target).
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: fresh ? 0 : 60000 });
    }
    var retry = block.querySelector("[data-geo-retry]");
    if (retry) retry.addEventListener("click", function () { locate(true); });
    if (!lon.value) locate(false);
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

  function resilient(form) {
    var box = document.querySelector("[data-send-status]");
    var text = box && box.querySelector("[data-send-text]");
    var retry = box && box.querySelector("[data-send-retry]");
    var button = form.querySelector("[type=submit]");

    function say(key, status) {
      if (!box) return;
      var msg = box.getAttribute("data-msg-" + key) || "";
      text.textContent = msg.replace("{status}", status === undefined ? "" : String(status));
      box.setAttribute("data-state", key);
      box.hidden = false;
      if (retry) retry.hidden = key === "sending";
    }

    function swap(html) {
      // The form again with the server's errors: take the new page's content, but keep
      // the file inputs as they are (a browser cannot refill a file input).
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.querySelector("main.page");
      var main = document.querySelector("main.page");
      if (!fresh || !main) { say("failed", 400); return; }
      var files = {};
      form.querySelectorAll("input[type=file]").forEach(function (el) { files[el.name] = el; });
      main.innerHTML = fresh.innerHTML;
      var kept = false;
      main.querySelectorAll("form[data-resilient] input[type=file]").forEach(function (el) {
        var old = files[el.name];
        if (!old) return;
        old.className = el.className;
        el.parentNode.replaceChild(old, el);
        if (old.files && old.files.length) kept = true;
      });
      if (kept) main.querySelectorAll("[data-files-lost]").forEach(function (el) { el.remove(); });
      setUp(main);
      var first = main.querySelector("[role=alert], .has-error");
      if (first && first.scrollIntoView) first.scrollIntoView({ block: "start" });
    }

    // A try that has not been answered after this long (ms, data-slow-after on the form)
    // offers the retry button while it goes on: on a stalled connection the worker need
    // not wait for the browser to give up. A retry abandons the try before it.
    var attempt = 0;
    var controller = null;
    var slow = false;
    var slowTimer = null;

    function send() {
      if (controller) controller.abort();
      var mine = ++attempt;
      controller = window.AbortController ? new window.AbortController() : null;
      slow = false;
      if (button) button.disabled = true;
      say("sending");
      window.clearTimeout(slowTimer);
      var slowAfter = parseInt(form.getAttribute("data-slow-after") || "30000", 10);
      slowTimer = window.setTimeout(function () {
        if (mine === attempt) { slow = true; say("slow"); }
      }, slowAfter);
      var options = {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Gridgov-Form": "fetch" }
      };
      if (controller) options.signal = controller.signal;
      window.fetch(form.action, options).then(function (response) {
        if (mine !== attempt) return false;
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("application/json") === 0) {
          return response.json().then(function (data) {
            // The server has it: forget the draft now, before leaving the page (the
            // next page's gridgov-draft-clear meta does the same for a plain post).
            var store = storage();
            var key = form.getAttribute("data-draft");
            if (store && key) store.removeItem(PREFIX + key);
            window.location.assign(data.redirect);
            return true;
          });
        }
        if (response.status === 400 && type.indexOf("text/html") === 0) {
          return response.text().then(function (html) { swap(html); return false; });
        }
        // Anything else: a redirect followed to the login page (the session ended),
        // a CSRF refusal, a server error. Nothing was saved; keep the form.
        say(response.redirected ? "session" : "failed", response.status);
        return false;
      }).catch(function () {
        if (mine === attempt) say("offline");
        return false;
      }).then(function (leaving) {
        if (mine !== attempt) return;
        window.clearTimeout(slowTimer);
        controller = null;
        if (!leaving && button && document.body.contains(button)) button.disabled = false;
      });
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) return; // an old browser: post as usual
      event.preventDefault();
      if (controller && !slow) return; // a double tap while the first try is under way
      send();
    });
    if (retry) retry.addEventListener("click", send);
  }

  function preview(input) {
    var list = document.createElement("ul");
    list.className = "thumbs picked";
    list.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", list);
    function show() {
      list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
      list.textContent = "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (!/^image\//.test(file.type)) return;
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        img.width = 72; img.height = 72;
        item.appendChild(img);
        list.appendChild(item);
      });
    }
    input.addEventListener("change", show);
    show();
  }

  function setUp(root) {
    root.querySelectorAll("[data-geolocate]").forEach(geolocate);
    if (window.URL && URL.createObjectURL) {
      root.querySelectorAll("input[type=file][data-preview]").forEach(preview);
    }
    root.querySelectorAll("form[data-draft]").forEach(function (f) {
      draft(f);
      if (f.hasAttribute("data-resilient")) resilient(f);
      else oneTap(f);
    });
    root.querySelectorAll("form.one-tap").forEach(oneTap);
  }

  function start() {
    var clear = document.querySelector("meta[name=gridgov-draft-clear]");
    var store = storage();
    if (clear && store) store.removeItem(PREFIX + clear.getAttribute("content"));
    setUp(document);
    var mapEl = document.getElementById("task-map");
    if (mapEl) {
      if (window.L) map(mapEl);
      else window.addEventListener("load", function () { map(mapEl); });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
