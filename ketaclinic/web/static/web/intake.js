// Intake form: "Add another" asks the server for the next row of its section, numbered after the last one.
document.addEventListener("htmx:configRequest", function (event) {
  var button = event.detail.elt;
  var section = button && button.dataset ? button.dataset.section : null;
  if (!section) return;
  var rows = document.querySelectorAll("#" + section + "-rows > .row-card");
  var next = 0;
  rows.forEach(function (row) {
    var index = parseInt(row.id.split("-row-")[1], 10);
    if (index >= next) next = index + 1;
  });
  event.detail.path = event.detail.path.replace(/\/\d+\/$/, "/" + next + "/");
});
