// CrowdCX page glue: CSRF header for htmx requests, and live updates over Server-Sent Events.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (evt) {
    if (meta) { evt.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box || !text) { return; }
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }
  window.crowdcxToast = toast;

  // Offer countdowns: mm:ss until the offer runs out.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-expires]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.expires) - now) / 1000);
      if (left <= 0) {
        // The label around the count ("1:55 left to claim") gives way to "expired".
        var label = el.closest(".offer-time") || el;
        label.textContent = el.dataset.expired || "0:00";
        return;
      }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    });
  }
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSwap", tick);

  // Counts beside menu entries (unread notifications): fetched after the page is shown.
  function refreshCounts() {
    document.querySelectorAll("a[data-count-src]").forEach(function (link) {
      var badge = link.querySelector(".nav-count");
      if (!badge || !window.fetch) { return; }
      fetch(link.dataset.countSrc, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          var n = body && typeof body.count === "number" ? body.count : 0;
          badge.textContent = n > 99 ? "99+" : String(n);
          badge.hidden = n <= 0;
        })
        .catch(function () { /* the count is a hint; the page works without it */ });
    });
  }
  refreshCounts();
  window.crowdcxRefreshCounts = refreshCounts;

  if (document.body.dataset.live === "1" && window.EventSource) {
    var source = new EventSource("/live");
    source.addEventListener("notice", function (evt) {
      try { toast(JSON.parse(evt.data).text); } catch (e) { /* ignore malformed */ }
      refreshCounts();
    });
    source.addEventListener("offer", function (evt) {
      try {
        // "New offer: …" in the reader's language (the page carries the sentence).
        var subject = JSON.parse(evt.data).subject, said = document.body.dataset.offerText;
        toast(said && subject ? said.replace("%(subject)s", subject) : subject);
      } catch (e) { /* ignore malformed */ }
      document.body.dispatchEvent(new CustomEvent("crowdcx-offer"));
    });
    source.addEventListener("message", function () {
      document.body.dispatchEvent(new CustomEvent("crowdcx-message"));
    });
    // Capabilities listen for their own event names on window.
    source.onmessage = function (evt) { window.dispatchEvent(new CustomEvent("crowdcx:live", { detail: evt.data })); };
    window.crowdcxLive = source;
  }
})();
