// Follows a running match run: polls its status endpoint and reloads the page when it ends.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("run-bar");
  var done = document.getElementById("run-done");
  var total = document.getElementById("run-total");
  var noJs = box.querySelectorAll(".no-js-only");
  for (var i = 0; i < noJs.length; i++) { noJs[i].hidden = true; }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (run) {
        bar.max = run.needs_total || 1;
        bar.value = run.needs_done;
        bar.textContent = run.needs_done + " / " + run.needs_total;
        done.textContent = run.needs_done;
        total.textContent = run.needs_total;
        if (run.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        for (var j = 0; j < noJs.length; j++) { noJs[j].hidden = false; }
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 500);
})();

// Follows a running calibration: polls its status and reloads the page when it has finished.
(function () {
  "use strict";
  var box = document.getElementById("calibration-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var noJs = box.querySelectorAll(".no-js-only");
  for (var i = 0; i < noJs.length; i++) { noJs[i].hidden = true; }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (calibration) {
        if (calibration.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        for (var j = 0; j < noJs.length; j++) { noJs[j].hidden = false; }
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 500);
})();
