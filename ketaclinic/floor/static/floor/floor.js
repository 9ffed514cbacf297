// The treatment-floor board: tick every countdown once a second between the board's refreshes.
// A <time class="countdown" datetime="..."> shows "in 12:05" until its moment, then its data-late text
// ("overdue", "due now") and how long ago, e.g. "(overdue, 3:05 ago)", marked late.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(r);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) { return; }
      var left = at - now;
      if (left > 0) {
        el.textContent = "(in " + span(left) + ")";
        el.classList.remove("late");
      } else {
        el.textContent = "(" + (el.dataset.late || "due") + ", " + span(left) + " ago)";
        el.classList.toggle("late", el.dataset.late !== "time reached");
      }
    });
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
