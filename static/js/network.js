/* The cooperation network drawing: a small canvas renderer with pan, zoom, hover and click.
 * Data: node-link JSON from the element's data-src (positions computed on the server).
 * Click a country or a link: its exchanges are fetched from data-details into the side panel.
 * No inline script (CSP script-src 'self'); the tables on the page are the no-script version. */
(function () {
  "use strict";
  var root = document.getElementById("net");
  if (!root) { return; }
  var panel = document.getElementById("net-panel");
  var tip = root.querySelector(".net-tip");
  var msg = function (k) { return root.getAttribute("data-msg-" + k) || k; };
  var canvas = document.createElement("canvas");
  canvas.className = "net-canvas";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", msg("loading"));
  canvas.tabIndex = 0;
  root.appendChild(canvas);
  var ctx = canvas.getContext("2d");
  var W = 1000, H = 500;               // the server's layout plane
  var view = { k: 1, x: 0, y: 0 };     // screen = plane * k + (x, y)
  var data = null, byId = {}, hover = null, selected = null, colours = {};

  function resize() {
    var ratio = window.devicePixelRatio || 1;
    var w = root.clientWidth || 800;
    var h = Math.max(320, Math.round(w * 0.5));
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    canvas.style.width = w + "px";
    canvas.style.height = h + "px";
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    draw();
  }
  function fit() {
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (!data || !data.nodes.length) { view = { k: w / W, x: 0, y: 0 }; return; }
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    data.nodes.forEach(function (n) {
      minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x);
      minY = Math.min(minY, n.y); maxY = Math.max(maxY, n.y);
    });
    var pad = 40, sw = Math.max(maxX - minX, 50), sh = Math.max(maxY - minY, 50);
    var k = Math.min((w - 2 * pad) / sw, (h - 2 * pad) / sh);
    view = { k: k, x: pad - minX * k + (w - 2 * pad - sw * k) / 2, y: pad - minY * k + (h - 2 * pad - sh * k) / 2 };
  }
  function sx(n) { return n.x * view.k + view.x; }
  function sy(n) { return n.y * view.k + view.y; }
  function radius(n) { return n.r * Math.sqrt(Math.max(view.k, 0.3)); }
  function colour(n) { return colours[n.region] || "#888888"; }

  function draw() {
    var w = canvas.clientWidth, h = canvas.clientHeight;
    ctx.clearRect(0, 0, w, h);
    if (!data) { return; }
    if (!data.nodes.length) {
      ctx.fillStyle = "#5a6475"; ctx.font = "16px system-ui, sans-serif";
      ctx.fillText(msg("empty"), 20, 30); return;
    }
    var focus = selected || hover;
    data.links.forEach(function (e) {
      var a = byId[e.source], b = byId[e.target];
      if (!a || !b) { return; }
      var on = focus && (focus === e || focus === a || focus === b);
      ctx.globalAlpha = focus ? (on ? 0.95 : 0.08) : 0.45;
      ctx.strokeStyle = on ? "#1d2330" : "#5a6475";
      ctx.lineWidth = e.width * Math.min(Math.max(view.k, 0.5), 2);
      ctx.setLineDash(e.kind === "joint" ? [6, 4] : []);
      var x1 = sx(a), y1 = sy(a), x2 = sx(b), y2 = sy(b);
      ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      if (e.kind === "directed") {
        var ang = Math.atan2(y2 - y1, x2 - x1), rb = radius(b) + 2, s = 5 + ctx.lineWidth;
        var tx = x2 - Math.cos(ang) * rb, ty = y2 - Math.sin(ang) * rb;
        ctx.setLineDash([]); ctx.fillStyle = ctx.strokeStyle; ctx.beginPath();
        ctx.moveTo(tx, ty);
        ctx.lineTo(tx - s * Math.cos(ang - 0.4), ty - s * Math.sin(ang - 0.4));
        ctx.lineTo(tx - s * Math.cos(ang + 0.4), ty - s * Math.sin(ang + 0.4));
        ctx.closePath(); ctx.fill();
      }
    });
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    data.nodes.forEach(function (n) {
      var on = !focus || focus === n || (focus.source && (focus.source === n.id || focus.target === n.id)) ||
        (focus.id && n.neighbours[focus.id]);
      ctx.globalAlpha = on ? 1 : 0.25;
      ctx.beginPath(); ctx.arc(sx(n), sy(n), radius(n), 0, 2 * Math.PI);
      ctx.fillStyle = colour(n); ctx.fill();
      ctx.lineWidth = (focus === n) ? 3 : 1; ctx.strokeStyle = "#ffffff"; ctx.stroke();
    });
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#1d2330"; ctx.font = "11px system-ui, sans-serif";
    var labelFrom = view.k > 1.6 ? 0 : 10;
    data.nodes.forEach(function (n, i) {
      if (i < labelFrom || radius(n) > 7 || focus === n || view.k > 2.5) {
        ctx.fillText(n.label, sx(n) + radius(n) + 2, sy(n) + 4);
      }
    });
  }

  function nodeAt(px, py) {
    var best = null, bestD = Infinity;
    data.nodes.forEach(function (n) {
      var d = Math.hypot(px - sx(n), py - sy(n));
      if (d <= radius(n) + 3 && d < bestD) { best = n; bestD = d; }
    });
    return best;
  }
  function linkAt(px, py) {
    var best = null, bestD = 6;
    data.links.forEach(function (e) {
      var a = byId[e.source], b = byId[e.target];
      if (!a || !b) { return; }
      var x1 = sx(a), y1 = sy(a), x2 = sx(b), y2 = sy(b), dx = x2 - x1, dy = y2 - y1;
      var len = dx * dx + dy * dy; if (!len) { return; }
      var t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len));
      var d = Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
      if (d < bestD) { best = e; bestD = d; }
    });
    return best;
  }
  function hit(ev) {
    var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
    return nodeAt(px, py) || linkAt(px, py);
  }
  function describe(item) {
    if (item.id) {
      return item.label + ": " + item.provided + " " + msg("provided") + ", " + item.received + " " +
        msg("received") + ", " + item.joint + " " + msg("joint") + " · " + item.partners + " " + msg("partners");
    }
    var a = byId[item.source], b = byId[item.target];
    var verb = item.kind === "directed" ? msg("directed") : msg("together");
    return a.label + " " + verb + " " + b.label + ": " + item.exchanges + " " + msg("exchanges");
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function showDetails(item) {
    var url = root.getAttribute("data-details");
    var q = item.id ? "&node=" + encodeURIComponent(item.id) :
      "&source=" + encodeURIComponent(item.source) + "&target=" + encodeURIComponent(item.target) +
      "&kind=" + encodeURIComponent(item.kind);
    panel.textContent = "";
    panel.appendChild(el("h2", item.id ? item.label : describe(item).split(":")[0]));
    panel.appendChild(el("p", describe(item)));
    if (item.id) {
      var href = root.getAttribute("data-profile").replace("XXX", encodeURIComponent(item.id));
      var p = el("p"); p.appendChild(el("a", msg("profile"), { href: href })); panel.appendChild(p);
    }
    var status = el("p", msg("loading"), { "class": "hint" });
    panel.appendChild(status);
    fetch(url + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (found) {
        if (found.error) { status.textContent = found.message; return; }
        status.textContent = found.total + " " + msg("exchanges");
        var ul = el("ul", null, { "class": "net-exchanges" });
        found.exchanges.forEach(function (x) {
          var li = el("li");
          li.appendChild(el("span", x.start + " ", { "class": "id" }));
          li.appendChild(x.url ? el("a", x.label, { href: x.url }) : el("span", x.label));
          if (x.role) { li.appendChild(el("span", " (" + (msg(x.role) || x.role) + ")", { "class": "hint" })); }
          ul.appendChild(li);
        });
        panel.appendChild(ul);
        if (found.shown < found.total) { panel.appendChild(el("p", (found.total - found.shown) + " " + msg("more"), { "class": "hint" })); }
      })
      .catch(function () { status.textContent = msg("error"); });
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false }; });
  window.addEventListener("mouseup", function (ev) {
    if (drag && !drag.moved && data) {
      var item = hit(ev);
      selected = item; draw();
      if (item) { showDetails(item); }
    }
    drag = null;
  });
  canvas.addEventListener("mousemove", function (ev) {
    if (!data) { return; }
    if (drag) {
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
      view.x = drag.vx + dx; view.y = drag.vy + dy; draw(); return;
    }
    var item = hit(ev);
    if (item !== hover) { hover = item; draw(); }
    if (item) {
      var r = root.getBoundingClientRect();
      tip.textContent = describe(item); tip.hidden = false;
      tip.style.left = (ev.clientX - r.left + 12) + "px"; tip.style.top = (ev.clientY - r.top + 12) + "px";
      canvas.style.cursor = "pointer";
    } else { tip.hidden = true; canvas.style.cursor = "grab"; }
  });
  canvas.addEventListener("mouseleave", function () { hover = null; tip.hidden = true; draw(); });
  function zoom(f, cx, cy) {
    var k = Math.max(0.2, Math.min(40, view.k * f));
    f = k / view.k;
    view.x = cx - (cx - view.x) * f; view.y = cy - (cy - view.y) * f; view.k = k; draw();
  }
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = canvas.getBoundingClientRect();
    zoom(ev.deltaY < 0 ? 1.2 : 1 / 1.2, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  canvas.addEventListener("keydown", function (ev) {
    var step = 40, c = { "+": 1.2, "=": 1.2, "-": 1 / 1.2 };
    if (c[ev.key]) { zoom(c[ev.key], canvas.clientWidth / 2, canvas.clientHeight / 2); }
    else if (ev.key === "ArrowLeft") { view.x += step; draw(); }
    else if (ev.key === "ArrowRight") { view.x -= step; draw(); }
    else if (ev.key === "ArrowUp") { view.y += step; draw(); }
    else if (ev.key === "ArrowDown") { view.y -= step; draw(); }
    else if (ev.key === "0") { fit(); draw(); }
    else { return; }
    ev.preventDefault();
  });
  root.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var how = b.getAttribute("data-zoom"), cx = canvas.clientWidth / 2, cy = canvas.clientHeight / 2;
      if (how === "in") { zoom(1.4, cx, cy); } else if (how === "out") { zoom(1 / 1.4, cx, cy); } else { fit(); draw(); }
    });
  });
  window.addEventListener("resize", function () { resize(); });

  resize();
  fetch(root.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      if (d.error) { throw new Error(d.message); }
      data = d; colours = (d.graph && d.graph.region_colours) || {};
      d.nodes.forEach(function (n) { n.neighbours = {}; byId[n.id] = n; });
      d.links.forEach(function (e) {
        if (byId[e.source] && byId[e.target]) {
          byId[e.source].neighbours[e.target] = true; byId[e.target].neighbours[e.source] = true;
        }
      });
      // draw thin links first, strong ones on top
      d.links.sort(function (a, b) { return a.exchanges - b.exchanges; });
      canvas.setAttribute("aria-label", d.nodes.length + " / " + d.links.length + " — " + msg("exchanges") + ": " + d.graph.exchanges);
      fit(); draw();
    })
    .catch(function () {
      data = { nodes: [], links: [] };
      ctx.fillStyle = "#a11d2b"; ctx.font = "16px system-ui, sans-serif"; ctx.fillText(msg("error"), 20, 30);
    });
}());
