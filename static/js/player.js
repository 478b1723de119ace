// The site's one player (templates/partials/player.html): a single <audio> in #player that keeps playing
// across pages (the body is boosted and #player is hx-preserve'd), a queue, and on a station an endless radio.
//
// What plays: any button[data-play] (templates/partials/play_button.html). Clicking one plays it and queues the
// play buttons after it in the same [data-playlist] container. A container with data-station is a station's
// upcoming list: playing from it (or pressing "Play station") turns the radio on. On the radio the server
// decides what is still to come: each started track is reported (POST /plays/now/), which takes it off the
// station's list, and the list is fetched again, on the page (#station-live) when it is showing, else as
// queue.json. A thumb or a knob re-ranks that list while the current track keeps playing; the player then
// takes its upcoming tracks from the new list. Each track that stops is reported as a play (POST /plays/):
// seconds actually listened, and whether it was finished or skipped.
(function () {
  "use strict";

  var state = {
    queue: [], // [{id, src, title, artist, art, why}], the current track at state.index
    index: -1,
    station: null, // station id while the radio plays
    listened: 0, // seconds heard of the current track (seeking does not count)
    lastTime: 0,
    reported: true, // the current track's play has been sent
    liked: false,
  };

  function el() { return document.getElementById("player"); }
  function audio() { return document.getElementById("player-audio"); }
  function part(role) { var p = el(); return p && p.querySelector('[data-role="' + role + '"]'); }
  function control(action) { var p = el(); return p && p.querySelector('[data-action="' + action + '"]'); }
  function current() { return state.queue[state.index] || null; }
  function url(name, id) { return el().dataset[name].replace("/0/", "/" + id + "/"); }

  function csrf() {
    var holder = document.getElementById("csrf-token");
    return holder ? holder.dataset.token : "";
  }

  function post(target, values) {
    return fetch(target, {
      method: "POST",
      body: new URLSearchParams(values),
      headers: { "X-CSRFToken": csrf() },
      credentials: "same-origin",
      keepalive: true, // a play reported as the page goes away still arrives
    });
  }

  function trackOf(button) {
    var d = button.dataset;
    return { id: d.trackId || null, src: d.src, title: d.title || "", artist: d.artist || "", art: d.art || "",
      why: d.why || "" };
  }

  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) seconds = 0;
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function announce(text) { var box = part("status"); if (box) box.textContent = text; }

  // --- what the player shows ------------------------------------------------------------------------------

  function render() {
    var p = el(), track = current(), a = audio();
    if (!p) return;
    p.classList.toggle("is-idle", !track);
    p.classList.toggle("is-playing", !!track && !a.paused);
    part("title").textContent = track ? track.title : "Nothing playing";
    part("artist").textContent = track ? track.artist : "Press play on any track, or Play station on a station.";
    part("why").textContent = track ? track.why : "";
    var art = part("art");
    if (track && track.art) { art.src = track.art; art.hidden = false; } else { art.hidden = true; }
    var toggle = control("toggle");
    toggle.disabled = !track;
    toggle.setAttribute("aria-label", a.paused ? "Play" : "Pause");
    control("next").disabled = !track || (!state.station && state.index >= state.queue.length - 1);
    var steerable = !!(track && track.id && state.station);
    part("steer").hidden = !steerable;
    control("up").setAttribute("aria-pressed", state.liked ? "true" : "false");
    control("rate").hidden = !(track && track.id);
    part("seek").disabled = !track;
    markCurrent();
    if ("mediaSession" in navigator && track && window.MediaMetadata) {
      navigator.mediaSession.metadata = new MediaMetadata({ title: track.title, artist: track.artist,
        artwork: track.art ? [{ src: track.art }] : [] });
    }
  }

  // The playing track's rows anywhere on the page carry .is-current, so lists show what is playing.
  function markCurrent() {
    var track = current();
    document.querySelectorAll("[data-track-id].is-current").forEach(function (row) {
      if (!track || row.dataset.trackId !== track.id) row.classList.remove("is-current");
    });
    if (track && track.id) {
      document.querySelectorAll('[data-playlist] [data-track-id="' + track.id + '"]').forEach(function (row) {
        if (!row.matches("button")) row.classList.add("is-current");
      });
    }
  }

  function renderTime() {
    var a = audio(), seek = part("seek");
    if (!seek) return;
    var duration = isFinite(a.duration) ? a.duration : 0;
    seek.max = String(duration);
    if (!seek.matches(":active")) seek.value = String(a.currentTime);
    part("elapsed").textContent = clock(a.currentTime);
    part("duration").textContent = clock(duration);
  }

  // --- playing -----------------------------------------------------------------------------------------------

  function report(ended) {
    var track = current();
    if (state.reported || !track || !track.id) return;
    state.reported = true;
    var values = { track: track.id, seconds: state.listened.toFixed(1), ended: ended };
    if (state.station) values.station = state.station;
    post(el().dataset.playsUrl, values);
  }

  function playAt(index) {
    var track = state.queue[index];
    if (!track) return;
    report("skipped");
    state.index = index;
    state.listened = 0;
    state.lastTime = 0;
    state.reported = false;
    state.liked = false;
    var a = audio();
    a.src = track.src;
    a.play().catch(function () { render(); }); // a browser that refuses autoplay leaves it paused, not broken
    render();
    announce("Playing " + track.title + (track.artist ? " by " + track.artist : ""));
    closeRating();
    save();
    if (state.station && track.id) {
      post(el().dataset.nowUrl, { track: track.id, station: state.station }).then(refillRadio);
    }
  }

  function next() {
    if (state.index + 1 < state.queue.length) playAt(state.index + 1);
    else if (state.station) refillRadio().then(function () { playAt(state.index + 1); });
    else { report("skipped"); audio().pause(); render(); }
  }

  function toggle() {
    var a = audio();
    if (!current()) return;
    if (a.paused) a.play(); else a.pause();
  }

  // Play button `button` and queue what follows it in its list.
  function playFrom(button) {
    var list = button.closest("[data-playlist]");
    var buttons = list ? Array.prototype.slice.call(list.querySelectorAll("button[data-play]")) : [button];
    var start = buttons.indexOf(button);
    var station = list && list.dataset.station ? list.dataset.station : null;
    var tracks = buttons.slice(start).map(trackOf);
    report("skipped");
    state.reported = true;
    state.station = station;
    state.queue = tracks;
    playAt(0);
  }

  // --- the radio ---------------------------------------------------------------------------------------------

  function stationLive() {
    var live = document.getElementById("station-live");
    return live && state.station && live.dataset.stationId === state.station ? live : null;
  }

  // The radio's upcoming tracks: the station's list as the page shows it, else as queue.json gives it.
  function upcomingFromPage(live) {
    return Array.prototype.slice.call(live.querySelectorAll("#results button[data-play]")).map(trackOf);
  }

  function setUpcoming(tracks) {
    var track = current();
    var playing = track ? [track] : [];
    state.queue = playing.concat(tracks.filter(function (t) { return !track || t.id !== track.id; }));
    state.index = playing.length ? 0 : -1;
    render();
  }

  function refillRadio() {
    if (!state.station) return Promise.resolve();
    var live = stationLive();
    if (live && window.htmx) {
      return htmx.ajax("GET", url("resultsUrl", state.station), { target: "#station-live", swap: "outerHTML" });
    }
    return fetch(url("queueUrl", state.station), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { next: [], tracks: {} }; })
      .then(function (queue) {
        setUpcoming(queue.next.map(function (id) {
          var t = queue.tracks[String(id)];
          return { id: String(id), src: t.audio, title: t.title, artist: t.artist, art: t.art, why: t.why };
        }));
      });
  }

  function playStation() {
    var live = document.getElementById("station-live");
    var first = live && live.querySelector("#results button[data-play]");
    if (first) playFrom(first);
    else announce("This station has nothing to play yet.");
  }

  // Thumb what is playing: on the station's page through the list (so it re-ranks in place), elsewhere directly.
  function thumb(value) {
    var track = current();
    if (!track || !track.id || !state.station) return;
    var values = { track: track.id, value: value };
    var sent;
    if (stationLive() && window.htmx) {
      sent = htmx.ajax("POST", url("thumbsUrl", state.station), { target: "#station-live", swap: "outerHTML",
        values: values });
    } else {
      sent = post(url("thumbsUrl", state.station), values).then(refillRadio);
    }
    if (value === "up") {
      state.liked = true;
      render();
      announce("More like " + track.title + ": the rest of the station is re-ranked.");
    } else {
      announce("Not " + track.title + ": it will not play on this station again.");
      sent.then(next);
    }
  }

  // --- rating what is playing on the listener's sliders -------------------------------------------------

  function closeRating() {
    var panel = part("rate-panel"), button = control("rate");
    if (panel) { panel.hidden = true; panel.innerHTML = ""; }
    if (button) button.setAttribute("aria-expanded", "false");
  }

  function toggleRating() {
    var panel = part("rate-panel"), button = control("rate"), track = current();
    if (!track || !track.id) return;
    if (!panel.hidden) { closeRating(); return; }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    htmx.ajax("GET", url("rateUrl", track.id), { target: "#player-rate", swap: "innerHTML" });
  }

  // --- wiring ------------------------------------------------------------------------------------------------

  function wireAudio() {
    var a = audio();
    if (!a || a.dataset.wired) return;
    a.dataset.wired = "1";
    var volume = parseFloat(localStorage.getItem("wavelength-volume"));
    if (isFinite(volume)) { a.volume = volume; part("volume").value = String(volume); }
    a.addEventListener("timeupdate", function () {
      var step = a.currentTime - state.lastTime;
      if (step > 0 && step < 2) state.listened += step; // a seek jumps further and is not listening
      state.lastTime = a.currentTime;
      renderTime();
    });
    a.addEventListener("seeked", function () { state.lastTime = a.currentTime; });
    a.addEventListener("loadedmetadata", renderTime);
    a.addEventListener("play", render);
    a.addEventListener("pause", render);
    a.addEventListener("ended", function () { report("finished"); next(); });
    a.addEventListener("error", function () {
      var track = current();
      if (!track) return;
      announce("Could not play " + track.title + "; playing the next one.");
      state.reported = true;
      if (state.index + 1 < state.queue.length || state.station) setTimeout(next, 1500);
    });
    part("seek").addEventListener("input", function (event) { a.currentTime = parseFloat(event.target.value); });
    part("volume").addEventListener("input", function (event) {
      a.volume = parseFloat(event.target.value);
      localStorage.setItem("wavelength-volume", event.target.value);
    });
    if ("mediaSession" in navigator) {
      navigator.mediaSession.setActionHandler("play", toggle);
      navigator.mediaSession.setActionHandler("pause", toggle);
      navigator.mediaSession.setActionHandler("nexttrack", next);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.matches("[data-play]")) { event.preventDefault(); playFrom(button); return; }
    if (button.matches("[data-play-station]")) { event.preventDefault(); playStation(); return; }
    if (!button.closest("#player")) return;
    var action = button.dataset.action;
    if (action === "toggle") toggle();
    else if (action === "next") next();
    else if (action === "up") thumb("up");
    else if (action === "down") thumb("down");
    else if (action === "rate") toggleRating();
    else if (action === "keys") showKeys();
  });

  // After the station's list is swapped (a thumb, a knob, a refill), the radio takes its upcoming tracks from it.
  document.addEventListener("htmx:afterSettle", function () {
    wireAudio();
    var live = stationLive();
    if (live) setUpcoming(upcomingFromPage(live));
    markCurrent();
  });

  // --- keyboard ----------------------------------------------------------------------------------------------

  function showKeys() {
    var dialog = document.getElementById("keys-dialog");
    if (dialog && !dialog.open) dialog.showModal();
  }

  var searchWanted = false; // "/" on a page without a search box goes home, then focuses its box

  document.addEventListener("htmx:afterSettle", function () {
    var box = searchWanted && document.querySelector("input[type=search]");
    if (box) { searchWanted = false; box.focus(); }
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], dialog");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (key === " " && !event.target.closest("button, a, summary")) { event.preventDefault(); toggle(); }
    else if (key === "n") { event.preventDefault(); next(); }
    else if (key === "+" || key === "=") { event.preventDefault(); thumb("up"); }
    else if (key === "-") { event.preventDefault(); thumb("down"); }
    else if (key === "?") { event.preventDefault(); showKeys(); }
    else if (key === "/") {
      var search = document.querySelector("input[type=search]");
      var home = document.querySelector(".topbar a.brand");
      event.preventDefault();
      if (search) search.focus();
      else if (home) { searchWanted = true; home.click(); } // a boosted link: the music keeps playing
    }
  });

  // --- surviving a full page load ----------------------------------------------------------------------------
  // Boosted navigation keeps the music playing; a full load (a typed address, the admin and back, a reload)
  // starts a new document. The queue, the position and how much of the track was heard are kept in this tab's
  // sessionStorage, so that the player comes back where it was, paused (browsers do not let a page start sound
  // by itself), and the track's play is reported once, by the document where it ends.

  var SAVED = "wavelength-player";

  function save() {
    try {
      sessionStorage.setItem(SAVED, JSON.stringify({ queue: state.queue, index: state.index, station: state.station,
        time: audio() ? audio().currentTime : 0, listened: state.listened, reported: state.reported }));
    } catch (error) { /* storage full or disabled: nothing to keep */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(SAVED) || "null"); } catch (error) { saved = null; }
    if (!saved || !saved.queue || !saved.queue[saved.index] || !audio()) return;
    state.queue = saved.queue;
    state.index = saved.index;
    state.station = saved.station;
    // The same play goes on in this document: it is reported once, when it ends here (a tab closed mid-track
    // reports nothing, rather than a skip it was not).
    state.listened = saved.listened || 0;
    state.reported = saved.reported !== false;
    var a = audio();
    a.preload = "metadata";
    a.src = current().src;
    a.addEventListener("loadedmetadata", function seek() {
      a.removeEventListener("loadedmetadata", seek);
      if (saved.time > 0 && saved.time < a.duration) a.currentTime = saved.time;
      state.lastTime = a.currentTime;
    });
    render();
  }

  var lastSave = 0;
  document.addEventListener("timeupdate", function () {
    if (Date.now() - lastSave > 2000) { lastSave = Date.now(); save(); }
  }, true);
  window.addEventListener("pagehide", save);

  function start() {
    wireAudio();
    restore();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  // For tests and outside tools: the player's state, read-only.
  window.wavelengthPlayer = {
    get queue() { return state.queue.map(function (t) { return t.id; }); },
    get index() { return state.index; },
    get station() { return state.station; },
    get listened() { return state.listened; },
  };
})();
