// The map (/map/, templates/atlas/map.html): every track as a point in a WebGL scatter plot (regl-scatterplot,
// vendored in static/vendor/). Points arrive as one binary of 12 bytes a point (discovery/atlas/payload.py),
// viewed in place as typed arrays. Hover names a track, a click plays it through a play button built from its
// data (the site's player does the rest), a lasso starts a station, search finds a track, and the overlay
// canvas draws the chosen station (seeds, likes, dislikes, what plays next) and a sonic path.
// Runs on every visit, boosted or not: htmx executes this script again after it swaps a page in.
(function () {
  "use strict";

  var PALETTE = ["#7cc4ff", "#ff9f6b", "#9be39b", "#d8a6ff", "#ffd86b", "#6be3d8", "#ff7fa8", "#b8d36b",
    "#8fa3ff", "#e3b36b", "#6bd3a0", "#ff6b6b", "#c9c9ff", "#a0e36b", "#ffb3e6", "#6bb3e3", "#e3e36b",
    "#b36be3", "#6be36b", "#e36bb3", "#9fd9ff", "#ffc49f", "#c4ffc4", "#e0c4ff"];
  var NONE = "#6b7280";
  var GRADIENT = ["#2b3a67", "#35508a", "#3f67a8", "#4f80c0", "#68a0d0", "#8cbfd8", "#b5d8d0", "#dbe8b0",
    "#f2e08a", "#ffc857"];
  var libs = null;

  function script(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("Could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  // The UMD bundle looks for its two peers as globals: pub-sub-es ships only as an ES module, so it is
  // imported and handed over before the bundle runs. Loaded once per page life, whatever the navigation.
  function libraries(root) {
    if (!libs) {
      libs = import(root.dataset.libPubsub).then(function (module) {
        window.createPubSub = module.default;
        return window.createREGL ? null : script(root.dataset.libRegl);
      }).then(function () {
        return window.createScatterplot ? null : script(root.dataset.libScatterplot);
      }).then(function () { return window.createScatterplot.default; });
    }
    return libs;
  }

  function csrf() {
    var holder = document.getElementById("csrf-token");
    return holder ? holder.dataset.token : "";
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function decode(buffer, meta) {
    var n = meta.points;
    if (buffer.byteLength !== 12 * n) throw new Error("The map's points arrived cut short; reload the page.");
    var ids = new Uint32Array(buffer, 0, n);
    var sx = new Uint16Array(buffer, 4 * n, n), sy = new Uint16Array(buffer, 6 * n, n);
    var x = new Float32Array(n), y = new Float32Array(n);
    var index = new Map();
    for (var i = 0; i < n; i++) {
      x[i] = sx[i] / 32767.5 - 1;
      y[i] = sy[i] / 32767.5 - 1;
      index.set(ids[i], i);
    }
    return { n: n, ids: ids, x: x, y: y, album: new Uint16Array(buffer, 8 * n, n),
      tag: new Uint8Array(buffer, 10 * n, n), index: index };
  }

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    var use = document.createElementNS(ns, "use");
    use.setAttribute("href", "#i-" + name);
    svg.appendChild(use);
    return svg;
  }

  function element(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) node.textContent = text;
    return node;
  }

  function postForm(action, fields, label, className) {
    var form = element("form", { method: "post", action: action });
    var values = Object.assign({ csrfmiddlewaretoken: csrf() }, fields);
    Object.keys(values).forEach(function (key) {
      form.appendChild(element("input", { type: "hidden", name: key, value: values[key] }));
    });
    form.appendChild(element("button", { type: "submit", "class": className || "secondary" }, label));
    return form;
  }

  function setUp(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var started = performance.now();
    var canvas = root.querySelector("#map-canvas"), overlay = root.querySelector("#map-overlay");
    var tooltip = root.querySelector("#map-tooltip"), card = root.querySelector("#map-card");
    var stage = root.querySelector("#map-stage"), loading = root.querySelector("#map-loading");
    var cards = new Map(), state = { colour: "album", station: null, path: null, pathPicks: [], lasso: false };
    var api = { ready: null, firstFrameMs: null, points: 0, hoverMs: [] };
    window.wavelengthMap = api;

    function trackUrl(id) { return root.dataset.trackUrl.replace(/0\.json$/, id + ".json"); }

    function fetchCard(id) {
      if (!cards.has(id)) {
        cards.set(id, fetch(trackUrl(id), { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) throw new Error("That track is not on the map any more.");
          return r.json();
        }));
      }
      return cards.get(id);
    }

    api.ready = Promise.all([
      libraries(root),
      fetch(root.dataset.points, { credentials: "same-origin" }).then(function (r) { return r.arrayBuffer(); }),
      fetch(root.dataset.meta, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    ]).then(function (loaded) {
      var createScatterplot = loaded[0], meta = loaded[2];
      var data = decode(loaded[1], meta);
      var rect = stage.getBoundingClientRect();
      var plot = createScatterplot({
        canvas: canvas,
        width: rect.width,
        height: rect.height,
        backgroundColor: cssVar("--panel-2", "#0b0d10"),
        pointColor: PALETTE.concat([NONE]),
        pointColorActive: cssVar("--accent", "#7cc4ff"),
        pointColorHover: "#ffffff",
        pointSize: Math.max(2, Math.min(9, 12 - 2 * Math.log10(Math.max(data.n, 1)))),
        pointSizeSelected: 2,
        colorBy: "valueA",
        lassoColor: cssVar("--accent", "#7cc4ff"),
        lassoMinDelay: 0,
        lassoMinDist: 2,
        deselectOnDblClick: false,
        performanceMode: data.n > 200000,
        // Events as they happen, not after the next frame: with software rendering a frame of 100k points
        // takes a fifth of a second, and a hover should not wait for it.
        syncEvents: true,
      });
      api.plot = plot;
      api.data = data;
      api.meta = meta;
      api.points = data.n;
      api.screenOf = function (trackId) {
        var i = data.index.get(trackId);
        return i === undefined ? null : plot.getScreenPosition(i);
      };

      function values() {
        var source = state.colour === "tag" ? data.tag : data.album, none = state.colour === "tag" ? 255 : 65535;
        var a = new Float32Array(data.n);
        for (var i = 0; i < data.n; i++) a[i] = source[i] === none ? PALETTE.length : source[i] % PALETTE.length;
        return a;
      }

      function drawPoints(valueB) {
        var points = { x: data.x, y: data.y, valueA: values() };
        if (valueB) points.valueB = valueB;
        return plot.draw(points, { zDataType: "categorical", wDataType: "continuous" });
      }

      function legend() {
        var box = root.querySelector("#map-legend");
        box.textContent = "";
        if (state.colour.indexOf("slider-") === 0) {
          var bar = element("span", { "class": "map-gradient" });
          bar.style.background = "linear-gradient(90deg, " + GRADIENT.join(", ") + ")";
          box.append(element("span", {}, "less"), bar, element("span", {}, "more"));
          return;
        }
        var names = state.colour === "tag" ? meta.tags : meta.albums;
        var source = state.colour === "tag" ? data.tag : data.album, counts = new Map();
        for (var i = 0; i < data.n; i++) counts.set(source[i], (counts.get(source[i]) || 0) + 1);
        Array.from(counts.entries()).filter(function (e) { return names[e[0]] !== undefined; })
          .sort(function (p, q) { return q[1] - p[1]; }).slice(0, 8).forEach(function (entry) {
            var item = element("span", { "class": "map-key" });
            var swatch = element("span", { "class": "map-swatch" });
            swatch.style.background = PALETTE[entry[0] % PALETTE.length];
            item.append(swatch, document.createTextNode(names[entry[0]]));
            box.appendChild(item);
          });
      }

      function recolour() {
        if (state.colour.indexOf("slider-") !== 0) {
          plot.set({ colorBy: "valueA", pointColor: PALETTE.concat([NONE]) });
          legend();
          return drawPoints();
        }
        var url = root.dataset.sliderUrl.replace(/0\.bin$/, state.colour.slice(7) + ".bin") +
          (location.search.indexOf("model=") >= 0 ? location.search : "");
        return fetch(url, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) return r.text().then(function (text) { throw new Error(text); });
          return r.arrayBuffer();
        }).then(function (buffer) {
          var bytes = new Uint8Array(buffer), w = new Float32Array(data.n);
          for (var i = 0; i < data.n; i++) w[i] = bytes[i] / 255;
          plot.set({ colorBy: "valueB", pointColor: GRADIENT });
          legend();
          return drawPoints(w);
        }).catch(function (error) { showError(error.message); });
      }

      function showError(message) {
        var box = document.getElementById("errors");
        if (box) box.textContent = message;
      }

      // The overlay: rings and lines drawn on a 2-D canvas above the WebGL one, at the points' screen
      // positions, so they follow every pan and zoom.
      function drawOverlay() {
        var ratio = window.devicePixelRatio || 1, w = stage.clientWidth, h = stage.clientHeight;
        if (overlay.width !== Math.round(w * ratio)) { overlay.width = Math.round(w * ratio); overlay.height = Math.round(h * ratio); }
        var ctx = overlay.getContext("2d");
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.clearRect(0, 0, w, h);
        function at(id) { var i = data.index.get(id); return i === undefined ? null : plot.getScreenPosition(i); }
        function line(ids, colour, width) {
          var pts = ids.map(at).filter(Boolean);
          if (pts.length < 2) return;
          ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
          pts.forEach(function (p, k) { if (k) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]); });
          ctx.stroke();
        }
        function rings(ids, colour, radius) {
          ctx.strokeStyle = colour; ctx.lineWidth = 2;
          ids.map(at).filter(Boolean).forEach(function (p) {
            ctx.beginPath(); ctx.arc(p[0], p[1], radius, 0, 2 * Math.PI); ctx.stroke();
          });
        }
        if (state.path) { line(state.path, "#ffc857", 2.5); rings(state.path, "#ffc857", 5); }
        state.pathPicks.forEach(function (id) { rings([id], "#ffc857", 9); });
        var s = state.station;
        if (s) {
          line(s.queue.slice(0, 20), "rgba(255,255,255,.35)", 1);
          (s.links || []).forEach(function (link) { line(link, cssVar("--accent", "#7cc4ff"), 1.5); });
          rings(s.queue.slice(0, 20), "#ffffff", 4);
          rings(s.dislikes, cssVar("--danger", "#ff8a80"), 6);
          rings(s.likes, cssVar("--ok", "#9be39b"), 6);
          rings(s.seeds, cssVar("--accent", "#7cc4ff"), 9);
        }
      }

      function loadStation(id) {
        state.station = null;
        if (!id) { drawOverlay(); return Promise.resolve(); }
        return fetch(root.dataset.stationUrl.replace(/0\.json$/, id + ".json"), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (overlayData) { state.station = overlayData; drawOverlay(); });
      }

      function showTooltip(i) {
        var began = performance.now(), id = data.ids[i];
        fetchCard(id).then(function (info) {
          if (api.hovered !== i) return;
          var pos = plot.getScreenPosition(i);
          tooltip.textContent = "";
          tooltip.append(element("strong", {}, info.title),
            element("span", {}, info.artist || "Unknown artist"),
            element("span", { "class": "hint" }, info.tags.join(" · ")));
          tooltip.style.left = Math.min(pos[0] + 12, stage.clientWidth - 220) + "px";
          tooltip.style.top = Math.max(pos[1] - 12, 0) + "px";
          tooltip.hidden = false;
          tooltip.dataset.trackId = id;
          api.hoverMs.push(performance.now() - began);
        }).catch(function () {});
      }

      function playButton(info) {
        var button = element("button", { type: "button", "class": "play-button primary", "data-play": "",
          "data-track-id": String(info.id), "data-src": info.src, "data-title": info.title,
          "data-artist": info.artist, "data-art": info.art, "data-why": "Chosen on the map",
          "aria-label": "Play " + info.title + (info.artist ? " by " + info.artist : "") });
        button.append(icon("play"), element("span", {}, "Play"));
        return button;
      }

      function showCard(id, play) {
        return fetchCard(id).then(function (info) {
          card.textContent = "";
          var head = element("div", { "class": "map-card-head" });
          var img = element("img", { src: info.art, alt: "", width: "64", height: "64", loading: "lazy" });
          var text = element("div");
          text.append(element("a", { href: info.url, "class": "title" }, info.title),
            element("span", { "class": "by" }, info.artist || "Unknown artist"),
            element("span", { "class": "hint" }, info.tags.join(" · ")));
          head.append(img, text);
          var actions = element("div", { "class": "map-card-actions" });
          var button = playButton(info);
          actions.appendChild(button);
          actions.appendChild(postForm("/stations/", { seed: info.id }, "Seed a station"));
          if (state.station) {
            actions.appendChild(postForm("/stations/" + state.station.station + "/thumbs/",
              { track: info.id, value: "up" }, "More like this"));
          }
          card.append(head, actions);
          card.hidden = false;
          if (play) button.click();
        }).catch(function (error) { showError(error.message); });
      }

      function pickForPath(id) {
        state.pathPicks.push(id);
        if (state.pathPicks.length < 2) { drawOverlay(); return; }
        var query = "from=" + state.pathPicks[0] + "&to=" + state.pathPicks[1] + "&steps=12";
        state.pathPicks = [];
        fetch(root.dataset.pathUrl.replace(/\/$/, ".json") + "?" + query, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t); }); })
          .then(function (answer) {
            state.path = answer.tracks;
            drawOverlay();
            var found = root.querySelector("#map-found");
            found.textContent = "";
            var item = element("li");
            item.appendChild(element("a", { href: root.dataset.pathUrl + "?" + query }, "Open this path (" +
              answer.tracks.length + " tracks): play it, export it, make it a station"));
            found.appendChild(item);
          }).catch(function (error) { showError(error.message); });
      }

      plot.subscribe("pointover", function (i) { api.hovered = i; showTooltip(i); });
      plot.subscribe("pointout", function () { api.hovered = null; tooltip.hidden = true; });
      plot.subscribe("view", drawOverlay);
      plot.subscribe("draw", drawOverlay);
      var lassoed = false;
      plot.subscribe("lassoEnd", function () { lassoed = true; });
      plot.subscribe("select", function (event) {
        var points = event.points, form = root.querySelector("#map-selection");
        if (points.length === 1 && !lassoed) {
          form.hidden = true;
          var id = data.ids[points[0]];
          if (state.pathMode) pickForPath(id); else showCard(id, true);
          return;
        }
        lassoed = false;
        // At most 2,000 ids go back (an even sample of a bigger lasso): enough to span it with ten seeds.
        var stride = Math.max(1, Math.ceil(points.length / 2000)), ids = [];
        for (var k = 0; k < points.length; k += stride) ids.push(data.ids[points[k]]);
        root.querySelector("#map-selection-tracks").value = ids.join(",");
        root.querySelector("#map-selection-count").textContent = points.length + " tracks selected";
        form.hidden = false;
      });
      plot.subscribe("deselect", function () { root.querySelector("#map-selection").hidden = true; });

      root.querySelector("#map-colour").addEventListener("change", function (event) {
        state.colour = event.target.value;
        recolour();
      });
      root.querySelector("#map-overlay-station").addEventListener("change", function (event) {
        loadStation(event.target.value);
      });
      var lassoButton = root.querySelector("#map-lasso");
      lassoButton.addEventListener("click", function () {
        state.lasso = !state.lasso;
        lassoButton.setAttribute("aria-pressed", String(state.lasso));
        plot.set({ mouseMode: state.lasso ? "lasso" : "panZoom" });
      });
      var pathButton = root.querySelector("#map-path-mode");
      pathButton.addEventListener("click", function () {
        state.pathMode = !state.pathMode;
        state.pathPicks = [];
        pathButton.setAttribute("aria-pressed", String(state.pathMode));
        drawOverlay();
      });

      function locateOne(id) {
        var i = data.index.get(id);
        if (i === undefined) return;
        plot.zoomToPoints([i], { transition: true, transitionDuration: 400, padding: 0.6 })
          .then(function () { plot.hover(i, { showReticleOnce: true }); });
        showCard(id, false);
      }
      root.querySelector("#map-search").addEventListener("submit", function (event) {
        event.preventDefault();
        var q = root.querySelector("#map-q").value.trim(), found = root.querySelector("#map-found");
        if (!q) return;
        fetch(root.dataset.locate + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t); }); })
          .then(function (answer) {
            found.textContent = "";
            if (!answer.tracks.length) { found.appendChild(element("li", {}, "Nothing on the map matches “" + q + "”.")); return; }
            answer.tracks.slice(0, 8).forEach(function (t) {
              var b = element("button", { type: "button", "class": "chip" }, t.title + (t.artist ? " · " + t.artist : ""));
              b.addEventListener("click", function () { locateOne(t.id); });
              var li = element("li"); li.appendChild(b); found.appendChild(li);
            });
            locateOne(answer.tracks[0].id);
          }).catch(function (error) { showError(error.message); });
      });

      var resize = new ResizeObserver(function () {
        var r = stage.getBoundingClientRect();
        if (r.width > 0) { plot.set({ width: r.width, height: r.height }); drawOverlay(); }
      });
      resize.observe(stage);
      document.addEventListener("htmx:beforeSwap", function destroy(event) {
        if (!document.body.contains(root) || event.detail.target.contains(root)) {
          resize.disconnect();
          plot.destroy();
          document.removeEventListener("htmx:beforeSwap", destroy);
        }
      });

      legend();
      return drawPoints().then(function () {
        api.firstFrameMs = performance.now() - started;
        loading.hidden = true;
        root.dataset.drawn = String(data.n);
        return loadStation(root.dataset.station);
      });
    }).catch(function (error) {
      loading.textContent = "The map could not be drawn: " + error.message;
    });
  }

  function run() {
    var root = document.getElementById("map-root");
    if (root && root.querySelector("#map-canvas")) setUp(root);
  }
  run();
  document.addEventListener("htmx:load", run);
})();
