/* Theme picker: turns <select multiple data-theme-picker> into chips plus a search box that
   asks /themes/suggest (fuzzy, any language) as the user types. Without JavaScript the plain
   multi-select still works; the select stays in the form and carries the chosen values. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function enhance(select) {
    var url = select.getAttribute("data-suggest-url");
    if (!url || !window.fetch) { return; }
    var id = select.id;
    var wrap = document.createElement("div");
    wrap.className = "theme-picker";
    var chips = document.createElement("ul");
    chips.className = "chips picked";
    chips.setAttribute("aria-label", select.labels && select.labels[0] ? select.labels[0].textContent : "Themes");
    var input = document.createElement("input");
    input.type = "text";
    input.id = id + "-search";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-list");
    if (select.getAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
    }
    if (select.getAttribute("aria-invalid")) { input.setAttribute("aria-invalid", "true"); }
    input.placeholder = select.getAttribute("data-placeholder") || "…";
    var list = document.createElement("ul");
    list.id = id + "-list";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");

    // The label now points at the search box; the select is kept (hidden) for submission.
    if (select.labels) {
      for (var i = 0; i < select.labels.length; i++) { select.labels[i].htmlFor = input.id; }
    }
    select.removeAttribute("required");
    // someone already on the list (a slow page: before this script ran) goes on in the box
    // that takes its place, not on the page's body with the list hidden
    var hadFocus = document.activeElement === select;
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(wrap, select);
    wrap.appendChild(chips);
    wrap.appendChild(input);
    wrap.appendChild(list);
    wrap.appendChild(live);
    if (hadFocus) { input.focus(); }

    var active = -1;
    var items = [];

    // A sentence the page gave in the reader's language, with ``value`` in place of its {}.
    function words(attribute, value) {
      var text = select.getAttribute(attribute);
      return text ? text.replace("{}", value) : value;
    }

    function optionFor(value) {
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value === value) { return select.options[i]; }
      }
      return null;
    }

    function renderChips() {
      chips.textContent = "";
      for (var i = 0; i < select.options.length; i++) {
        var opt = select.options[i];
        if (!opt.selected) { continue; }
        var li = document.createElement("li");
        var chip = document.createElement("span");
        chip.className = "chip";
        chip.textContent = opt.textContent.replace(/^—\s*/, "");
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "chip-remove";
        remove.setAttribute("aria-label", words("data-remove-label", chip.textContent));
        remove.textContent = "×";
        remove.setAttribute("data-value", opt.value);
        remove.addEventListener("click", function (ev) {
          var o = optionFor(ev.currentTarget.getAttribute("data-value"));
          if (o) { o.selected = false; }
          renderChips();
          input.focus();
        });
        chip.appendChild(remove);
        li.appendChild(chip);
        chips.appendChild(li);
      }
      // the choice changed: what listens to the form hears it (form-draft.js keeps it)
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    // Forget the suggestions shown: after a pick, or while a new query is typed, the old list
    // (and its highlight) must not come back to be chosen by Arrow/Enter.
    function forget() {
      items = [];
      list.textContent = "";
      close();
    }

    function highlight(index) {
      var nodes = list.querySelectorAll("li");
      for (var i = 0; i < nodes.length; i++) {
        nodes[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && nodes[index]) {
        input.setAttribute("aria-activedescendant", nodes[index].id);
      }
    }

    function choose(item) {
      var opt = optionFor(item.id);
      if (!opt) {
        opt = document.createElement("option");
        opt.value = item.id;
        opt.textContent = item.label;
        select.appendChild(opt);
      }
      opt.selected = true;
      input.value = "";
      forget();
      renderChips();
      live.textContent = item.label;
    }

    function show(found) {
      items = found;
      list.textContent = "";
      if (!found.length) { forget(); live.textContent = words("data-found-label", "0"); return; }
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = id + "-opt-" + i;
        li.setAttribute("role", "option");
        li.textContent = item.label;
        if (item.parent) {
          var small = document.createElement("span");
          small.className = "parent";
          small.textContent = " · " + item.parent;
          li.appendChild(small);
        }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(0);
      live.textContent = words("data-found-label", String(found.length));
    }

    var ask = debounce(function () {
      var q = input.value.trim();
      if (!q) { close(); return; }
      fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { if (input.value.trim() === q) { show(data.items || []); } })
        .catch(function () { close(); });
    }, 150);

    input.addEventListener("input", function () { forget(); ask(); });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" && items.length) {
        ev.preventDefault();
        if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        highlight(Math.min(active + 1, items.length - 1));
      } else if (ev.key === "ArrowUp" && items.length) {
        ev.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (ev.key === "Enter") {
        // never submit the form from the search box, even empty: right after a pick, an
        // Enter meant for the list would otherwise send a half-filled form
        ev.preventDefault();
        if (!list.hidden && active >= 0 && items[active]) {
          choose(items[active]);
        }
      } else if (ev.key === "Escape") {
        close();
      } else if (ev.key === "Backspace" && !input.value) {
        var picked = select.querySelectorAll("option:checked");
        if (picked.length) { picked[picked.length - 1].selected = false; renderChips(); }
      }
    });
    renderChips();
    // Back to the page: the browser puts the form's choices back after this has drawn them
    window.addEventListener("pageshow", renderChips);
  }

  function init() {
    var selects = document.querySelectorAll("select[data-theme-picker]");
    for (var i = 0; i < selects.length; i++) { enhance(selects[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
