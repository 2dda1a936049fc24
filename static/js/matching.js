// Follows what the matching pages compute in the background: a match run (its bar counts the
// needs ranked) and a calibration. Each polls its status address and reloads the page when the
// work has finished; without a connection the "Refresh" link shows instead.
(function () {
  "use strict";

  function follow(box, show) {
    var url = box.getAttribute("data-status-url");
    var noJs = box.querySelectorAll(".no-js-only");
    function fallback(hidden) {
      for (var i = 0; i < noJs.length; i++) { noJs[i].hidden = hidden; }
    }
    fallback(true);
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (state) {
          show(state);
          if (state.finished) {
            window.location.reload();
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          fallback(false);
          window.setTimeout(poll, 5000);
        });
    }
    window.setTimeout(poll, 500);
  }

  var run = document.getElementById("run-progress");
  if (run) {
    var bar = document.getElementById("run-bar");
    var done = document.getElementById("run-done");
    var total = document.getElementById("run-total");
    follow(run, function (state) {
      bar.max = state.needs_total || 1;
      bar.value = state.needs_done;
      bar.textContent = state.needs_done + " / " + state.needs_total;
      done.textContent = state.needs_done;
      total.textContent = state.needs_total;
    });
  }
  var calibration = document.getElementById("calibration-progress");
  if (calibration) {
    follow(calibration, function () {});
  }
})();
