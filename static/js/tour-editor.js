// The study tour editor: "Add a member" / "Add a session" add an empty row in place (without
// script they submit the form, which comes back with the row); a ticked "Remove" box dims its row.
(function () {
  'use strict';
  var form = document.getElementById('tour-form');
  if (!form) { return; }

  function renumber(row, prefix, index) {
    var pattern = new RegExp('^' + prefix + '-\\d+-');
    row.querySelectorAll('[name], [id], [for], [aria-describedby]').forEach(function (el) {
      ['name', 'id', 'for'].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && pattern.test(value)) {
          el.setAttribute(attr, value.replace(pattern, prefix + '-' + index + '-'));
        }
      });
    });
  }

  function addRow(prefix) {
    var body = form.querySelector('tbody[data-rows="' + prefix + '"]');
    var rows = body.querySelectorAll('tr.edit-row');
    var last = rows[rows.length - 1];
    if (!last) { return false; }
    var row = last.cloneNode(true);
    row.classList.remove('removed');
    row.querySelectorAll('.error').forEach(function (el) { el.remove(); });
    row.querySelectorAll('.has-error').forEach(function (el) { el.classList.remove('has-error'); });
    row.querySelectorAll('input, select').forEach(function (el) {
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-describedby');
      if (el.type === 'checkbox') { el.checked = false; }
      else if (el.type !== 'number' && el.tagName !== 'SELECT') { el.value = ''; }
    });
    renumber(row, prefix, rows.length);
    body.appendChild(row);
    var first = row.querySelector('input:not([type=checkbox]), select');
    if (first) { first.focus(); }
    return true;
  }

  form.querySelectorAll('button[data-add]').forEach(function (button) {
    button.addEventListener('click', function (event) {
      if (addRow(button.getAttribute('data-add'))) { event.preventDefault(); }
    });
  });

  // Back with errors: the keyboard starts on the first field to correct (every error is
  // listed beside its field; the summary above is announced as an alert).
  var firstBad = form.querySelector('[aria-invalid="true"], .has-error input, .has-error select');
  window.sscFocusOnLoad(firstBad);  // not away from a field someone is typing in

  form.addEventListener('change', function (event) {
    var box = event.target;
    if (box.type === 'checkbox' && /-remove$/.test(box.name)) {
      box.closest('tr').classList.toggle('removed', box.checked);
    }
  });
}());
