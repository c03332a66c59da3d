// Haven: an import's progress bar, updated from /imports/{id}/status until the import ends; then the page
// reloads to show the result. Without this script the page refreshes itself every few seconds.
(function () {
  "use strict";
  var bar = document.getElementById("import-progress");
  if (!bar) { return; }
  var url = bar.getAttribute("data-status");
  var count = document.getElementById("import-count");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.max = Math.max(s.total, 1);
        bar.value = s.done;
        if (count) { count.textContent = s.done + " / " + s.total; }
        if (s.state === "running" || s.state === "waiting") {
          setTimeout(tick, 400);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
})();
