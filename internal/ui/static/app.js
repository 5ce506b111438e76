// Live updates for the overview: every few seconds fetch the live sections
// rendered by the server (/ui/live) and swap in those that changed. Sizes are
// reserved by the stylesheet, so nothing moves. Also: filters apply without
// a reload, and a request row opens its detail page.
(function () {
  "use strict";
  var body = document.body;

  // A click anywhere on a request row opens the request.
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.closest("a, button, input, select, label")) return;
    var row = t.closest("tr[data-href]");
    if (row) window.location.href = row.getAttribute("data-href");
  });

  var liveURL = body.getAttribute("data-live-url");
  if (!liveURL) return;
  var every = parseInt(body.getAttribute("data-refresh-ms"), 10) || 2000;
  var timer = null;
  var inflight = false;

  function setStatus(ok, text) {
    var box = document.getElementById("live-status");
    if (!box) return;
    box.classList.toggle("offline", !ok);
    document.getElementById("live-text").textContent = text;
  }

  function rowIDs(root) {
    var ids = {};
    root.querySelectorAll("tr[data-id]").forEach(function (tr) { ids[tr.getAttribute("data-id")] = true; });
    return ids;
  }

  function swap(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var fresh = tpl.content;
    var before = rowIDs(document);
    fresh.querySelectorAll("[data-live]").forEach(function (next) {
      var name = next.getAttribute("data-live");
      var cur = document.querySelector('[data-live="' + name + '"]');
      if (!cur || cur.innerHTML === next.innerHTML) return;
      var box = cur.querySelector(".table-box");
      var top = box ? box.scrollTop : 0;
      cur.innerHTML = next.innerHTML;
      var nbox = cur.querySelector(".table-box");
      if (nbox) nbox.scrollTop = top;
    });
    document.querySelectorAll("tr[data-id]").forEach(function (tr) {
      if (before[tr.getAttribute("data-id")]) return;
      tr.classList.add("fresh");
      tr.addEventListener("animationend", function () { tr.removeAttribute("class"); }, { once: true });
    });
    var stamp = fresh.getElementById ? fresh.getElementById("live-updated") : fresh.querySelector("#live-updated");
    var shown = document.getElementById("updated");
    if (stamp && shown) shown.textContent = stamp.textContent;
  }

  function poll() {
    clearTimeout(timer);
    if (document.hidden || inflight) { timer = setTimeout(poll, every); return; }
    inflight = true;
    fetch(liveURL, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (res.status === 401) {
          window.location.href = "/ui/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
          return null;
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.text();
      })
      .then(function (html) {
        if (html === null) return;
        swap(html);
        setStatus(true, "Live");
      })
      .catch(function () { setStatus(false, "Gateway unreachable, retrying"); })
      .then(function () {
        inflight = false;
        timer = setTimeout(poll, every);
      });
  }

  // Filters apply at once, without a reload; the URL keeps them.
  var form = document.getElementById("filters");
  if (form) {
    form.addEventListener("change", function () {
      var p = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (v === "" || (k === "range" && v === "1h")) return;
        p.set(k, v);
      });
      var qs = p.toString();
      history.replaceState(null, "", "/ui/" + (qs ? "?" + qs : ""));
      liveURL = "/ui/live" + (qs ? "?" + qs : "");
      poll();
    });
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  timer = setTimeout(poll, every);
})();
