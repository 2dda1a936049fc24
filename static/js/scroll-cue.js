/* A box wider than the screen scrolls inside itself (app.css: on a phone a list's table scrolls
   sideways rather than the page), and nothing showed that more of it lay to the right: a phone
   user saw three columns of seven. Above every box of the page that scrolls sideways, this puts
   a line in the reader's language ("Scroll sideways to see more →", the page's
   data-scroll-label), kept while the box is wider than its place (checked again on resize). A
   box in a grid or flex row gets the line as its first child, so the row keeps its cells.
   Such a box also takes the keyboard's focus (tabindex 0, given back when it no longer
   scrolls), so that the arrow keys scroll it: a box of text alone (the demo accounts on the
   sign-in page) had nothing to tab to, and Safari does not make a scrolling box focusable by
   itself (WCAG 2.1.1; axe's rule scrollable-region-focusable). Without JavaScript the boxes
   still scroll. */
(function () {
  "use strict";
  var words = document.body.getAttribute("data-scroll-label");
  var main = document.querySelector("main");
  if (!words || !main) { return; }
  var cues = [];

  function scrolls(el) {
    var x = getComputedStyle(el).overflowX;
    return (x === "auto" || x === "scroll") && el.scrollWidth > el.clientWidth + 1;
  }

  function cueFor(el) {
    for (var i = 0; i < cues.length; i++) {
      if (cues[i].box === el) { return cues[i].cue; }
    }
    var cue = document.createElement("p");
    cue.className = "scroll-cue";
    cue.setAttribute("aria-hidden", "true");  // a visual hint: the cells are all read anyway
    cue.textContent = words;
    var parent = el.parentNode;
    var row = getComputedStyle(parent).display;
    if (el.tagName !== "TABLE" && (row.indexOf("grid") >= 0 || row.indexOf("flex") >= 0)) {
      el.insertBefore(cue, el.firstChild);
    } else {
      parent.insertBefore(cue, el);
    }
    cues.push({ box: el, cue: cue });
    return cue;
  }

  function focusable(el, on) {
    if (on && !el.hasAttribute("tabindex")) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("data-scroll-focus", "");
    } else if (!on && el.hasAttribute("data-scroll-focus")) {
      el.removeAttribute("tabindex");
      el.removeAttribute("data-scroll-focus");
    }
  }

  function update() {
    // Only what changed is touched: a box that keeps scrolling keeps its focus on a resize.
    var now = [];
    var all = main.querySelectorAll("*");
    for (var j = 0; j < all.length; j++) {
      if (all[j].className !== "scroll-cue" && scrolls(all[j])) { now.push(all[j]); }
    }
    for (var k = 0; k < now.length; k++) { cueFor(now[k]); }
    for (var i = 0; i < cues.length; i++) {
      var on = now.indexOf(cues[i].box) >= 0;
      cues[i].cue.hidden = !on;
      focusable(cues[i].box, on);
    }
  }

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
  update();
})();
