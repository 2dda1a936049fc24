// After a refused form, the focus goes to the first field in error (or, when no field is
// marked, to the error message); after a step taken, to the message that says what it did
// (base.html marks the flashed messages data-result): a keyboard user otherwise starts again
// from the top of the page, through the whole menu. A page that sets its own focus (autofocus)
// keeps it, and so does someone who has already moved it: on a slow page the scripts may run
// after they clicked into a field and began to type, and the focus taken from them sent the
// rest of their typing into the field in error (a journey's note ended up after its evidence).
// It runs once every deferred script has run (DOMContentLoaded comes after them): a page's own
// script may replace a field by a box of its own (the theme picker hides its select behind a
// search box), and the focus given before that was lost with the hidden field.
(function () {
  "use strict";
  // Whether the focus is still where the page began (nobody, no autofocus, has moved it).
  function focusUnmoved() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement;
  }
  // The one way a page's script puts the focus on load (the tour editor's first field in
  // error too, loaded after this file): never away from where someone already is.
  window.sscFocusOnLoad = function (el) {
    if (el && focusUnmoved()) { el.focus(); }
  };
  function focusError() {
    if (document.querySelector("[autofocus]") || !focusUnmoved()) { return; }
    var visible = function (el) { return el.offsetParent !== null || el.getClientRects().length > 0; };
    var fields = document.querySelectorAll('main [aria-invalid="true"]');
    for (var i = 0; i < fields.length; i++) {
      if (visible(fields[i])) { fields[i].focus(); return; }
    }
    // else the message of the step just taken (a refusal, or what was done: "Saved…"), so Tab
    // goes on from it rather than from the top of the page
    var message = document.querySelector("main .flash-error") ||
      document.querySelector("main [data-result]");
    if (message) {
      message.setAttribute("tabindex", "-1");
      message.focus();
    }
  }
  if (document.readyState === "complete") {
    focusError();
  } else {
    document.addEventListener("DOMContentLoaded", focusError);
  }
})();
