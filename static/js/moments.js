/* Moments in the reader's own time zone. The server writes each stored moment in UTC and says
   so ("3 dic 2026 13:05 UTC", the `moment` filter of sscmatch/web/templating.py), inside a
   <time datetime="…Z" data-moment="minute|second|day">. Here the browser, which knows the
   reader's time zone, writes it again in that zone and in the page's language; the UTC text
   stays as the element's title. Without JavaScript the UTC text is what the reader sees. */
(function () {
  "use strict";
  var STYLES = {
    minute: { dateStyle: "medium", timeStyle: "short" },
    second: { dateStyle: "medium", timeStyle: "medium" },
    day: { dateStyle: "medium" }
  };
  var lang = document.documentElement.lang || undefined;
  var formats = {};

  function format(kind) {
    if (!formats[kind]) {
      formats[kind] = new Intl.DateTimeFormat(lang, STYLES[kind]);
    }
    return formats[kind];
  }

  function localise(root) {
    var found = (root || document).querySelectorAll("time[data-moment]:not([data-local])");
    for (var i = 0; i < found.length; i++) {
      var el = found[i];
      var when = new Date(el.getAttribute("datetime"));
      var kind = el.getAttribute("data-moment");
      if (isNaN(when.getTime()) || !STYLES[kind]) { continue; }
      try {
        var text = format(kind).format(when);
      } catch (e) {
        return; /* an old browser without these options keeps the UTC text */
      }
      el.title = el.textContent;
      el.textContent = text;
      el.setAttribute("data-local", "");
    }
  }

  localise(document);
  /* Parts of a page replaced later (a dashboard refreshed, a job's progress) are done again. */
  new MutationObserver(function () { localise(document); })
    .observe(document.body, { childList: true, subtree: true });
})();
