// Follows a job (templates/_jobs.html): polls its status, says what it waits for and which
// attempt it is on; with data-job-follow it also moves the bar and reloads the page at the end.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-job-status-url");
  var follow = box.hasAttribute("data-job-follow");
  var bar = document.getElementById("job-bar");
  var step = document.getElementById("job-step");
  var count = document.getElementById("job-count");
  var line = document.getElementById("job-state");
  var noJs = box.querySelectorAll(".no-js-only");
  var i;
  for (i = 0; i < noJs.length; i++) { noJs[i].hidden = true; }

  function message(name, job) {
    var text = box.getAttribute("data-msg-" + name) || "";
    var again = name === "requeued" || name === "retry";
    return text.replace("{n}", String(again ? job.attempts + 1 : job.attempts))
      .replace("{max}", String(job.max_attempts))
      .replace("{when}", job.retry_at ? job.retry_at.slice(11, 19) + " UTC" : "");
  }

  function show(job) {
    if (!job) { return; }
    if (job.waiting_for_worker) {
      line.textContent = message("waiting", job);
    } else if (job.state === "queued") {
      line.textContent = message(job.retry_at ? "retry" : job.attempts ? "requeued" : "queued", job);
    } else if (job.state === "running") {
      line.textContent = message("running", job);
    }
    if (follow && bar) {
      bar.max = job.total || 1;
      bar.value = job.done;
      bar.textContent = job.done + " / " + job.total;
      step.textContent = box.getAttribute("data-step-" + job.step) || job.step || "";
      count.textContent = job.total ? job.done + " / " + job.total : "";
    }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var job = data.job !== undefined ? data.job : data;
        show(job);
        if (follow && job && job.finished) {
          window.location.reload();
        } else if (!job || !job.finished) {
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
