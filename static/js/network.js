/* The cooperation network drawing, in SVG with d3 (vendored in static/vendor, see its README).
 *
 * Data: node-link JSON from data-src (the server's filters, metrics and layout). The map layout
 * places each country at its capital on a Natural Earth basemap (world-atlas, drawn from the
 * package's data: no tiles from the internet) and nudges overlapping circles apart; the force
 * layout starts from the server's positions and keeps circles from colliding. Labels are placed
 * greedily, biggest countries first, and a label that would overlap another waits for zoom,
 * hover or focus. Focus on a country shows its neighbourhood; the slider shows the network as it
 * stood at the end of a year. Keyboard: Tab to the drawing, arrows move between countries,
 * Enter lists the country's exchanges, F focuses it, Escape clears, + and - zoom, 0 resets.
 * Touch: drag to pan, pinch to zoom, tap a country. No inline script (CSP script-src 'self'); the
 * tables on the page are the no-script version. */
(function () {
  "use strict";
  var root = document.getElementById("net");
  if (!root || !window.d3) { return; }
  var d3 = window.d3;
  var panel = document.getElementById("net-panel");
  var tip = root.querySelector(".net-tip");
  var status = document.getElementById("net-status");
  var focusSelect = document.getElementById("net-focus");
  var yearInput = document.getElementById("net-year");
  var yearOut = document.getElementById("net-year-out");
  var byCommunity = document.getElementById("net-colour");
  var msg = function (k) { return root.getAttribute("data-msg-" + k) || k; };
  // "1 brindado", "3 brindados": a count with the word in the form the reader's language
  // wants for it (the page gives both forms, {n} standing for the number).
  var lang = document.documentElement.lang || "en";
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  var counted = function (k, n) {
    var form = plurals ? plurals.select(n) : (n === 1 ? "one" : "other");
    var text = root.getAttribute("data-msg-" + k + "-" + (form === "one" ? "one" : "other"));
    return text ? text.replace("{n}", n.toLocaleString(lang)) : n + " " + msg(k);
  };
  var layoutKind = root.getAttribute("data-layout") || "geo";
  var palette = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442",
    "#999999", "#882255", "#44aa99"];

  // The drawing is as many units wide as the box is pixels, so labels keep their size on a phone.
  var W = Math.max(320, Math.round(root.clientWidth || 800));
  var H = Math.max(300, Math.round(W * (W < 600 ? 0.9 : 0.52)));
  var svg = d3.select(root).append("svg")
    .attr("class", "net-svg")
    .attr("viewBox", "0 0 " + W + " " + H)
    .attr("role", "application")
    .attr("aria-roledescription", msg("roledescription"))
    .attr("aria-label", msg("loading"))
    .attr("tabindex", 0);
  var scene = svg.append("g").attr("class", "net-scene");
  var mapLayer = scene.append("g").attr("class", "net-map").attr("aria-hidden", "true");
  var linkLayer = scene.append("g").attr("class", "net-links").attr("aria-hidden", "true");
  var nodeLayer = scene.append("g").attr("class", "net-nodes").attr("aria-hidden", "true");
  var labelLayer = svg.append("g").attr("class", "net-labels").attr("aria-hidden", "true");
  svg.append("defs").append("marker")
    .attr("id", "net-arrow").attr("viewBox", "0 0 10 10").attr("refX", 9).attr("refY", 5)
    .attr("markerWidth", 5).attr("markerHeight", 5).attr("orient", "auto-start-reverse")
    .append("path").attr("d", "M0,0 L10,5 L0,10 z").attr("class", "net-arrow");

  var data = null, byId = {}, transform = d3.zoomIdentity;
  var focusId = null, activeId = null, selected = null, hoverId = null;
  var projection = d3.geoNaturalEarth1().fitExtent([[10, 10], [W - 10, H - 10]], { type: "Sphere" });

  var zoom = d3.zoom().scaleExtent([0.6, 24]).on("zoom", function (ev) {
    transform = ev.transform;
    scene.attr("transform", transform);
    nodeLayer.selectAll("circle").attr("r", function (n) { return n.r / Math.sqrt(transform.k); })
      .attr("stroke-width", 1 / transform.k);
    linkLayer.selectAll("line").attr("stroke-width", function (e) { return e.width / Math.sqrt(transform.k); });
    placeLabels();
  });
  svg.call(zoom).on("dblclick.zoom", null);

  // ------------------------------------------------------------------ basemap
  var basemap = root.getAttribute("data-basemap");
  if (layoutKind === "geo" && basemap && window.topojson) {
    fetch(basemap, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (world) {
      var land = window.topojson.feature(world, world.objects.countries);
      var path = d3.geoPath(projection);
      mapLayer.append("path").attr("class", "net-sphere").attr("d", path({ type: "Sphere" }));
      mapLayer.selectAll("path.net-land").data(land.features).join("path")
        .attr("class", "net-land").attr("d", path);
    }).catch(function () { /* the drawing stands without its basemap */ });
  }

  // ------------------------------------------------------------------ layout
  function colour(n) {
    if (byCommunity && byCommunity.checked) {
      return n.community >= 0 ? palette[n.community % palette.length] : "#bbbbbb";
    }
    var colours = (data.graph && data.graph.region_colours) || {};
    return colours[n.region] || "#888888";
  }

  function position(nodes, links) {
    var sim;
    if (layoutKind === "geo") {
      nodes.forEach(function (n) {
        var p = (n.lat !== null && n.lon !== null) ? projection([n.lon, n.lat]) : null;
        n.hx = p ? p[0] : n.x * W / 1000; n.hy = p ? p[1] : n.y * H / 500;
        n.x = n.hx; n.y = n.hy;
      });
      // circles near their capital, nudged apart where capitals crowd (the Caribbean, Europe)
      sim = d3.forceSimulation(nodes)
        .force("x", d3.forceX(function (n) { return n.hx; }).strength(0.5))
        .force("y", d3.forceY(function (n) { return n.hy; }).strength(0.5))
        .force("collide", d3.forceCollide(function (n) { return n.r + 1.5; }).iterations(2));
    } else {
      nodes.forEach(function (n) { n.x = n.x * W / 1000; n.y = n.y * H / 500; });
      sim = d3.forceSimulation(nodes)
        .force("link", d3.forceLink(links).id(function (n) { return n.id; })
          .distance(90).strength(function (e) { return Math.min(0.5, 0.08 + 0.04 * e.exchanges); }))
        .force("charge", d3.forceManyBody().strength(-320).distanceMax(400))
        .force("collide", d3.forceCollide(function (n) { return n.r + 14; }).iterations(2))
        .force("x", d3.forceX(W / 2).strength(0.04))
        .force("y", d3.forceY(H / 2).strength(0.07));
    }
    sim.stop();
    for (var i = 0; i < 300; i++) { sim.tick(); }
    if (layoutKind !== "geo") { fitNodes(nodes); }
  }

  function fitNodes(nodes) {
    var xs = nodes.map(function (n) { return n.x; }), ys = nodes.map(function (n) { return n.y; });
    var minX = d3.min(xs), maxX = d3.max(xs), minY = d3.min(ys), maxY = d3.max(ys);
    var k = Math.min((W - 80) / Math.max(maxX - minX, 1), (H - 80) / Math.max(maxY - minY, 1));
    nodes.forEach(function (n) { n.x = 40 + (n.x - minX) * k; n.y = 40 + (n.y - minY) * k; });
  }

  // ------------------------------------------------------------------ drawing
  function draw() {
    var links = data.links.filter(function (e) { return byId[endId(e.source)] && byId[endId(e.target)]; });
    linkLayer.selectAll("line").data(links, function (e) { return endId(e.source) + ">" + endId(e.target) + e.kind; })
      .join("line")
      .attr("class", function (e) { return "net-link net-" + e.kind; })
      .attr("x1", function (e) { return byId[endId(e.source)].x; })
      .attr("y1", function (e) { return byId[endId(e.source)].y; })
      .attr("x2", function (e) { return end(e)[0]; })
      .attr("y2", function (e) { return end(e)[1]; })
      .attr("stroke-width", function (e) { return e.width / Math.sqrt(transform.k); })
      .attr("marker-end", function (e) { return e.kind === "directed" ? "url(#net-arrow)" : null; })
      .on("click", function (ev, e) { select(e); })
      .on("mousemove", function (ev, e) { showTip(ev, describe(e)); })
      .on("mouseleave", hideTip);
    nodeLayer.selectAll("circle").data(data.nodes, function (n) { return n.id; })
      .join("circle")
      .attr("class", "net-node")
      .attr("data-id", function (n) { return n.id; })
      .attr("cx", function (n) { return n.x; }).attr("cy", function (n) { return n.y; })
      .attr("r", function (n) { return n.r / Math.sqrt(transform.k); })
      .attr("stroke-width", 1 / transform.k)
      .attr("fill", colour)
      .on("click", function (ev, n) { activate(n.id); select(n); })
      .on("mousemove", function (ev, n) { hoverId = n.id; showTip(ev, describe(n)); placeLabels(); })
      .on("mouseleave", function () { hoverId = null; hideTip(); placeLabels(); });
    restyle();
  }

  function endId(v) { return typeof v === "object" ? v.id : v; }
  function end(e) {  // the arrow stops at the target's circle
    var a = byId[endId(e.source)], b = byId[endId(e.target)];
    var dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    var back = e.kind === "directed" ? (b.r + 2) : 0;
    return [b.x - dx / len * back, b.y - dy / len * back];
  }

  function neighbourhood(id) {
    var set = {}; set[id] = true;
    data.links.forEach(function (e) {
      var s = endId(e.source), t = endId(e.target);
      if (s === id) { set[t] = true; } else if (t === id) { set[s] = true; }
    });
    return set;
  }

  function restyle() {
    var near = focusId ? neighbourhood(focusId) : null;
    nodeLayer.selectAll("circle")
      .classed("faded", function (n) { return near !== null && !near[n.id]; })
      .classed("active", function (n) { return n.id === activeId; })
      .attr("fill", colour);
    linkLayer.selectAll("line").classed("faded", function (e) {
      return near !== null && endId(e.source) !== focusId && endId(e.target) !== focusId;
    });
    placeLabels();
  }

  // Greedy labels in screen space: biggest first, each where it overlaps no placed label and no
  // other circle (right, left, above, below); the focused, active or hovered ones always show.
  function placeLabels() {
    if (!data) { return; }
    var near = focusId ? neighbourhood(focusId) : null;
    var boxes = [], out = [];
    var circles = data.nodes.map(function (n) {
      var p = transform.apply([n.x, n.y]);
      return { x: p[0], y: p[1], r: n.r * Math.sqrt(transform.k), id: n.id };  // on screen
    });
    var order = data.nodes.slice().sort(function (a, b) {
      var pa = (a.id === activeId || a.id === hoverId || a.id === focusId) ? 1e9 : 0;
      var pb = (b.id === activeId || b.id === hoverId || b.id === focusId) ? 1e9 : 0;
      return (pb + (near && near[b.id] ? 1e6 : 0) + b.total) - (pa + (near && near[a.id] ? 1e6 : 0) + a.total);
    });
    order.forEach(function (n) {
      if (near && !near[n.id]) { return; }
      var p = transform.apply([n.x, n.y]), r = n.r * Math.sqrt(transform.k);
      var w = n.label.length * 6.4 + 4, h = 13;
      var must = n.id === activeId || n.id === hoverId || n.id === focusId;
      var spots = [[p[0] + r + 3, p[1] - h / 2], [p[0] - r - 3 - w, p[1] - h / 2],
        [p[0] - w / 2, p[1] - r - 2 - h], [p[0] - w / 2, p[1] + r + 2]];
      for (var i = 0; i < spots.length; i++) {
        var b = { x: spots[i][0], y: spots[i][1], w: w, h: h };
        if (b.x < 0 || b.y < 0 || b.x + w > W || b.y + h > H) { continue; }
        if (!must && (overlapsBoxes(b, boxes) || overlapsCircles(b, circles, n.id))) { continue; }
        boxes.push(b); out.push({ n: n, x: b.x + 2, y: b.y + h - 3 }); return;
      }
      if (must) { out.push({ n: n, x: p[0] + r + 5, y: p[1] + 4 }); }
    });
    labelLayer.selectAll("text").data(out, function (d) { return d.n.id; }).join("text")
      .attr("class", function (d) { return "net-label" + (d.n.id === activeId ? " active" : ""); })
      .attr("x", function (d) { return d.x; }).attr("y", function (d) { return d.y; })
      .text(function (d) { return d.n.label; });
  }
  function overlapsBoxes(b, boxes) {
    for (var i = 0; i < boxes.length; i++) {
      var o = boxes[i];
      if (b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h) { return true; }
    }
    return false;
  }
  function overlapsCircles(b, circles, own) {
    for (var i = 0; i < circles.length; i++) {
      var c = circles[i];
      if (c.id === own) { continue; }
      var cx = Math.max(b.x, Math.min(c.x, b.x + b.w)), cy = Math.max(b.y, Math.min(c.y, b.y + b.h));
      if (Math.hypot(cx - c.x, cy - c.y) < c.r) { return true; }
    }
    return false;
  }

  // ------------------------------------------------------------------ reading out
  function describe(item) {
    if (item.id) {
      return item.label + ": " + counted("provided", item.provided) + ", " +
        counted("received", item.received) + ", " + counted("joint", item.joint) + " · " +
        counted("partners", item.partners);
    }
    var a = byId[endId(item.source)], b = byId[endId(item.target)];
    var verb = item.kind === "directed" ? msg("directed") : msg("together");
    return a.label + " " + verb + " " + b.label + ": " + counted("exchanges", item.exchanges);
  }
  function showTip(ev, text) {
    var r = root.getBoundingClientRect();
    tip.textContent = text; tip.hidden = false;
    tip.style.left = (ev.clientX - r.left + 12) + "px"; tip.style.top = (ev.clientY - r.top + 12) + "px";
  }
  function hideTip() { tip.hidden = true; }
  function say(text) { if (status) { status.textContent = text; } }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function select(item) {
    selected = item;
    var url = root.getAttribute("data-details") + currentYearQuery();
    var q = item.id ? "&node=" + encodeURIComponent(item.id) :
      "&source=" + encodeURIComponent(endId(item.source)) + "&target=" + encodeURIComponent(endId(item.target)) +
      "&kind=" + encodeURIComponent(item.kind);
    panel.textContent = "";
    panel.appendChild(el("h2", item.id ? item.label : describe(item).split(":")[0]));
    panel.appendChild(el("p", describe(item)));
    if (item.id) {
      var href = root.getAttribute("data-profile").replace("XXX", encodeURIComponent(item.id));
      var p = el("p"); p.appendChild(el("a", msg("profile"), { href: href })); panel.appendChild(p);
    }
    var line = el("p", msg("loading"), { "class": "hint" });
    panel.appendChild(line);
    fetch(url + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (found) {
        if (found.error) { line.textContent = found.message; return; }
        line.textContent = counted("exchanges", found.total);
        var ul = el("ul", null, { "class": "net-exchanges" });
        found.exchanges.forEach(function (x) {
          var li = el("li");
          li.appendChild(el("span", x.when + " ", { "class": "id" }));
          li.appendChild(x.url ? el("a", x.label, { href: x.url }) : el("span", x.label));
          if (x.role) { li.appendChild(el("span", " (" + msg(x.role) + ")", { "class": "hint" })); }
          ul.appendChild(li);
        });
        panel.appendChild(ul);
        if (found.shown < found.total) { panel.appendChild(el("p", (found.total - found.shown) + " " + msg("more"), { "class": "hint" })); }
      })
      .catch(function () { line.textContent = msg("error"); });
  }

  // ------------------------------------------------------------------ focus and keyboard
  function activate(id) {
    activeId = id;
    restyle();
    if (id && byId[id]) { say(describe(byId[id])); }
  }
  // What the reader sets on the drawing is kept in the address (focus, until, community), so a
  // link shared or a page reloaded shows the same; the filters are already there (a GET form).
  function keep(name, value) {
    var url = new URL(window.location.href);
    if (value) { url.searchParams.set(name, value); } else { url.searchParams.delete(name); }
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
  function setFocus(id) {
    focusId = id && byId[id] ? id : null;
    if (focusSelect) { focusSelect.value = focusId || ""; }
    keep("focus", focusId);
    restyle();
    if (focusId) {
      var near = neighbourhood(focusId), pts = data.nodes.filter(function (n) { return near[n.id]; });
      zoomTo(pts);
      // "Alemania: 1 país socio": the count with its word in the form the number wants
      say(byId[focusId].label + ": " + counted("partners", pts.length - 1));
    } else {
      svg.transition().duration(300).call(zoom.transform, d3.zoomIdentity);
    }
  }
  function zoomTo(pts) {
    var xs = pts.map(function (n) { return n.x; }), ys = pts.map(function (n) { return n.y; });
    var x0 = d3.min(xs) - 40, x1 = d3.max(xs) + 40, y0 = d3.min(ys) - 30, y1 = d3.max(ys) + 30;
    var k = Math.max(0.6, Math.min(8, 0.9 / Math.max((x1 - x0) / W, (y1 - y0) / H)));
    var t = d3.zoomIdentity.translate(W / 2, H / 2).scale(k).translate(-(x0 + x1) / 2, -(y0 + y1) / 2);
    svg.transition().duration(300).call(zoom.transform, t);
  }
  function nextInDirection(dx, dy) {
    var from = byId[activeId];
    if (!from) { return data.nodes[0]; }
    var best = null, bestScore = Infinity;
    data.nodes.forEach(function (n) {
      if (n === from) { return; }
      var vx = n.x - from.x, vy = n.y - from.y, along = vx * dx + vy * dy;
      if (along <= 0) { return; }
      var across = Math.abs(vx * dy - vy * dx), score = along + 2 * across;
      if (score < bestScore) { best = n; bestScore = score; }
    });
    return best || from;
  }
  svg.on("keydown", function (ev) {
    if (!data || !data.nodes.length) { return; }
    var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (moves[ev.key]) {
      var n = nextInDirection(moves[ev.key][0], moves[ev.key][1]);
      activate(n.id);
    } else if (ev.key === "Enter" || ev.key === " ") {
      if (!activeId) { activate(data.nodes[0].id); }
      select(byId[activeId]);
    } else if (ev.key === "f" || ev.key === "F") {
      setFocus(activeId || data.nodes[0].id);
    } else if (ev.key === "Escape") {
      activeId = null; setFocus(null); say("");
    } else if (ev.key === "+" || ev.key === "=") {
      svg.transition().duration(150).call(zoom.scaleBy, 1.4);
    } else if (ev.key === "-") {
      svg.transition().duration(150).call(zoom.scaleBy, 1 / 1.4);
    } else if (ev.key === "0") {
      svg.transition().duration(150).call(zoom.transform, d3.zoomIdentity);
    } else { return; }
    ev.preventDefault();
  });
  svg.on("focus", function () { if (!activeId && data && data.nodes.length) { activate(data.nodes[0].id); } });

  root.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var how = b.getAttribute("data-zoom");
      if (how === "in") { svg.transition().call(zoom.scaleBy, 1.4); }
      else if (how === "out") { svg.transition().call(zoom.scaleBy, 1 / 1.4); }
      else { setFocus(null); }
    });
  });
  if (focusSelect) { focusSelect.addEventListener("change", function () { setFocus(focusSelect.value); }); }
  if (byCommunity) {
    byCommunity.addEventListener("change", function () { keep("community", byCommunity.checked ? "1" : null); restyle(); });
  }

  // ------------------------------------------------------------------ loading, the time slider
  function currentYearQuery() {
    if (!yearInput || yearInput.hidden || !yearInput.dataset.ready) { return ""; }
    return Number(yearInput.value) < Number(yearInput.max) ? "&year_to=" + yearInput.value : "";
  }
  function load(src) {
    svg.attr("aria-busy", "true");
    return fetch(src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.error) { throw new Error(d.message); }
        data = d; byId = {};
        d.nodes.forEach(function (n) { byId[n.id] = n; });
        d.links.sort(function (a, b) { return a.exchanges - b.exchanges; });  // strong ones on top
        position(d.nodes, d.links);
        draw();
        fillFocus();
        if (focusId && !byId[focusId]) { focusId = null; }
        if (activeId && !byId[activeId]) { activeId = null; }
        restyle();
        svg.attr("aria-busy", null);
        // each count with its word in the form its number wants ("1 vínculo", "3 vínculos")
        svg.attr("aria-label", msg("network").replace("{words}", counted("countries", d.nodes.length) +
          ", " + counted("links", d.links.length) + ", " + counted("exchanges", d.graph.exchanges)) +
          ". " + msg("keys"));
        if (!d.nodes.length) { say(msg("empty")); }
        return d;
      })
      .catch(function () { svg.attr("aria-busy", null); svg.attr("aria-label", msg("error")); say(msg("error")); });
  }
  function fillFocus() {
    if (!focusSelect) { return; }
    var keep = focusSelect.value;
    while (focusSelect.options.length > 1) { focusSelect.remove(1); }
    data.nodes.slice().sort(function (a, b) { return a.label.localeCompare(b.label); }).forEach(function (n) {
      focusSelect.appendChild(new Option(n.label, n.id));
    });
    focusSelect.value = byId[keep] ? keep : "";
    focusSelect.closest(".net-control").hidden = false;
  }
  function setupSlider(graph) {
    if (!yearInput || !graph.years) { return; }
    var src = new URL(root.getAttribute("data-src"), window.location.href);
    var lo = Number(src.searchParams.get("year_from") || graph.years[0]);
    var hi = Number(src.searchParams.get("year_to") || graph.years[1]);
    if (!(hi > lo)) { return; }
    yearInput.min = String(lo); yearInput.max = String(hi); yearInput.value = String(hi);
    yearInput.dataset.ready = "1";
    yearOut.textContent = String(hi);
    yearInput.closest(".net-control").hidden = false;
    var timer = null;
    function until() {
      var url = new URL(src.href);
      url.searchParams.set("year_to", yearInput.value);
      var before = Number(yearInput.value) < hi;
      keep("until", before ? yearInput.value : null);
      // the downloads give the network drawn, as the side panel's lists do
      document.querySelectorAll(".net-downloads a[href]").forEach(function (a) {
        var link = new URL(a.getAttribute("href"), window.location.href);
        if (before) { link.searchParams.set("year_to", yearInput.value); }
        else if (src.searchParams.get("year_to")) { link.searchParams.set("year_to", src.searchParams.get("year_to")); }
        else { link.searchParams.delete("year_to"); }
        a.setAttribute("href", link.pathname + link.search);
      });
      return load(url.pathname + url.search);
    }
    yearInput.addEventListener("input", function () {
      yearOut.textContent = yearInput.value;
      clearTimeout(timer);
      timer = setTimeout(function () {
        until().then(function (d) {
          if (d) { say(msg("until").replace("%(year)s", yearInput.value) + " " + svg.attr("aria-label")); }
        });
      }, 200);
    });
    var asked = Number(params.get("until"));
    if (asked >= lo && asked < hi) {  // a shared link's year: the drawing as it stood then
      yearInput.value = String(asked); yearOut.textContent = String(asked);
      return until();
    }
    return null;
  }

  var params = new URLSearchParams(window.location.search);
  if (byCommunity && params.get("community") === "1") { byCommunity.checked = true; }
  load(root.getAttribute("data-src")).then(function (d) {
    if (!d) { return null; }
    return Promise.resolve(setupSlider(d.graph));
  }).then(function () {
    if (data && params.get("focus")) { setFocus(params.get("focus").toUpperCase()); }
  });
}());
