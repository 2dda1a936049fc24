// A half-filled form survives the browser's Back. Signed-in pages are not kept by the browser
// (Cache-Control: no-store), so going back to a form answered with a refusal met "Confirm form
// resubmission" (ERR_CACHE_MISS), and what was typed was out of reach. A form marked
// data-draft keeps what is typed in this tab's sessionStorage while it is being filled; the
// page that answers the form with the form again (data-answered: a refusal, or the
// confirmation a decision asks for) turns its history entry into the form's address, and when
// Back (or Forward) comes to the form again, what was typed is put back. A form sent and
// accepted is not put back (its draft is marked sent, and a refusal unmarks it). The one-time
// key and the CSRF token are the new page's; the record's version is the draft's, so a record
// changed meanwhile is said by the edit-conflict page rather than overwritten.
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft]");
  if (!form || !window.sessionStorage || !window.JSON) { return; }
  // one person's draft is never put back for another signed in later in the same tab
  var key = "sscmatch-draft:" + form.getAttribute("data-draft") + ":" + form.getAttribute("action");
  var kept = function (el) {
    return el.name && !el.disabled && (el.type !== "hidden" || el.name === "version");
  };
  function read() {
    var values = {};
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!kept(el)) { continue; }
      if (el.type === "checkbox" || el.type === "radio") {
        values[el.name] = values[el.name] || [];
        if (el.checked) { values[el.name].push(el.value); }
      } else if (el.multiple) {
        values[el.name] = [];
        for (var j = 0; j < el.options.length; j++) {
          if (el.options[j].selected) { values[el.name].push(el.options[j].value); }
        }
      } else {
        values[el.name] = el.value;
      }
    }
    return values;
  }
  function save(sent) {
    try {
      sessionStorage.setItem(key, JSON.stringify({ values: read(), sent: !!sent }));
    } catch (e) { /* storage full or refused: the form works as before */ }
  }
  // Whether the field still holds what the page came with: on a slow page the person may
  // have begun to type before this script ran, and the draft never goes over their words.
  function untouched(el) {
    if (el.type === "checkbox" || el.type === "radio") { return el.checked === el.defaultChecked; }
    if (el.options && !el.multiple) {  // with no option marked, the first one is shown
      var shown = el.options.length ? 0 : -1;
      for (var k = 0; k < el.options.length; k++) {
        if (el.options[k].defaultSelected) { shown = k; }
      }
      return el.selectedIndex === shown;
    }
    if (el.options) {
      for (var j = 0; j < el.options.length; j++) {
        if (el.options[j].selected !== el.options[j].defaultSelected) { return false; }
      }
      return true;
    }
    return el.value === el.defaultValue;
  }
  function restore(values) {
    var touched = {};  // by name: a radio or box of a group changed leaves its whole group
    for (var t = 0; t < form.elements.length; t++) {
      if (!untouched(form.elements[t])) { touched[form.elements[t].name] = true; }
    }
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!kept(el) || !(el.name in values) || touched[el.name]) { continue; }
      var value = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = value.indexOf(el.value) >= 0;
      } else if (el.multiple) {
        for (var j = 0; j < el.options.length; j++) {
          el.options[j].selected = value.indexOf(el.options[j].value) >= 0;
        }
      } else {
        el.value = value;
      }
    }
  }
  var navigation = window.performance && performance.getEntriesByType
    ? performance.getEntriesByType("navigation")[0] : null;
  if (form.hasAttribute("data-answered")) {
    save(false);
    if (window.history.replaceState) {
      window.history.replaceState(window.history.state, "", window.location.href);
    }
  } else if (navigation && navigation.type === "back_forward") {
    var draft = null;
    try { draft = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { draft = null; }
    if (draft && !draft.sent && draft.values) { restore(draft.values); }
  }
  form.addEventListener("input", function () { save(false); });
  form.addEventListener("change", function () { save(false); });
  form.addEventListener("submit", function () { save(true); });
})();
