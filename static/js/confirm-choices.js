/* A confirmation's "What will happen" follows the choices made on its form: the lines that hold
   only with the override (data-when="override") show while its box is ticked, and the sentence
   for the unticked box (data-when="no-override") while it is not. The server renders the same
   for the choices it received; this keeps it true between two submissions. */
(function () {
  "use strict";
  var box = document.querySelector('input[data-choice="override"]');
  if (!box) {
    return;
  }
  function follow() {
    document.querySelectorAll("[data-when]").forEach(function (el) {
      var when = el.getAttribute("data-when");
      el.hidden = when === "override" ? !box.checked : when === "no-override" ? box.checked : el.hidden;
    });
  }
  box.addEventListener("change", follow);
  follow();
})();
