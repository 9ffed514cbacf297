// The rules page's filter: shows the rules (and policy settings) whose id, text or sources match what is
// typed. A rule's sources count by tag and by full citation. Without this script the page lists everything.
(function () {
  "use strict";
  var box = document.querySelector("[data-rule-filter]");
  if (!box) return;
  var input = box.querySelector("input");
  var count = box.querySelector("#rule-filter-count");
  var citations = {};
  document.querySelectorAll(".citations dt[id]").forEach(function (dt) {
    var dd = dt.nextElementSibling;
    citations["#" + dt.id] = dt.textContent + " " + (dd ? dd.textContent : "");
  });
  var rows = Array.prototype.map.call(document.querySelectorAll("[data-filter-row]"), function (row) {
    var text = row.textContent;
    row.querySelectorAll(".sources a").forEach(function (a) {
      text += " " + (citations[a.getAttribute("href")] || "");
    });
    return { row: row, text: text.toLowerCase() };
  });
  var sections = document.querySelectorAll("[data-filter-section]");

  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (r) {
      var match = words.every(function (w) { return r.text.indexOf(w) !== -1; });
      r.row.hidden = !match;
      if (match) shown += 1;
    });
    sections.forEach(function (section) {
      section.hidden = !section.querySelector("[data-filter-row]:not([hidden])");
    });
    count.textContent = words.length ? shown + " of " + rows.length + " rules and settings match" : "";
  }

  input.addEventListener("input", apply);
  box.hidden = false;
  if (input.value) apply();
})();
