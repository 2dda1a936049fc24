/* The header's menu on a phone: the toggle folds the navigation and the tools (language,
   notices, account, sign out) behind one button, so a page starts with its own content. Without
   JavaScript the toggle stays hidden and everything is in view. Escape closes the open menu and
   gives the focus back to the toggle (static/js/fold.js). */
(function () {
  "use strict";
  var header = document.querySelector("header.top");
  var toggle = header && header.querySelector(".menu-toggle");
  if (!toggle) { return; }
  toggle.hidden = false;
  header.classList.add("folding");
  window.sscFold(toggle, header);
})();
