/* One button that folds a box away and opens it again (the header's menu, a list's filters on a
   phone): the box gets the class "open", the button says aria-expanded; Escape inside the box
   closes it and gives the focus back to the button. Loaded before the scripts that use it. */
window.sscFold = function (toggle, box) {
  "use strict";
  function set(open) {
    box.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  set(false);
  toggle.addEventListener("click", function () {
    set(toggle.getAttribute("aria-expanded") !== "true");
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      set(false);
      toggle.focus();
    }
  });
  return set;
};
