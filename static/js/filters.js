/* A list's filters on a phone: folded behind one button ("Filters (2)": how many are set), so
   the list starts on the first screen instead of after a screenful of fields. The button opens
   and closes them; Escape closes them and gives the focus back to it (static/js/fold.js).
   Without JavaScript, and on a wide screen, the filters stay in view. Forms of one or two
   fields are left alone, and so are filters someone is already in when this script runs. */
(function () {
  "use strict";
  var label = document.body.getAttribute("data-filters-label") || "Filters";
  var forms = document.querySelectorAll("main form.filters");
  Array.prototype.forEach.call(forms, function (form, index) {
    var fields = form.querySelectorAll(
      "input:not([type=hidden]):not([type=submit]):not([type=checkbox]), select, textarea"
    );
    if (fields.length < 3) { return; }
    var set = Array.prototype.filter.call(fields, function (f) {  // a choice other than "any"
      return f.tagName === "SELECT" ? f.selectedIndex > 0 : f.value !== "";
    }).length;
    if (!form.id) { form.id = "filters-" + (index + 1); }
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "filters-toggle";
    toggle.textContent = set ? label + " (" + set + ")" : label;
    toggle.setAttribute("aria-controls", form.id);
    form.parentNode.insertBefore(toggle, form);
    form.classList.add("folding");
    var open = window.sscFold(toggle, form);
    // someone already in a field (a slow page: they began before this script ran) keeps it
    // in view; folded, the field they were typing in would vanish under their finger
    if (form.contains(document.activeElement)) { open(true); }
  });
})();
