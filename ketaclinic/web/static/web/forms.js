// A refused form: bring its error summary into view and give it focus, so that the person (and a screen
// reader) learns at once what to correct. Runs on page load and after HTMX swaps a form in.
(function () {
  function focusSummary(root) {
    var summary = (root || document).querySelector("[data-focus]");
    if (!summary) return;
    summary.scrollIntoView({ block: "center" });
    summary.focus({ preventScroll: true });
  }
  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusSummary(event.detail.target); });
})();
