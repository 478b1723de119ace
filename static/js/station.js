// A station's list (#station-live) after a re-rank: which tracks are new and which moved, said on each row and
// once for a screen reader; keyboard focus stays on the control that was used; the steering buttons of a
// result are one toolbar (one Tab stop, arrow keys inside) so that a result costs at most three Tab stops.
(function () {
  "use strict";

  var before = null; // the list as it was, and what had the focus, while a new one is on its way

  function rows(live) { return Array.prototype.slice.call(live.querySelectorAll("#results .result")); }
  function ids(live) { return rows(live).map(function (row) { return row.dataset.trackId; }); }

  function focusKey(element) {
    return element.dataset.focusKey || (element.matches("[data-play]") ? "play" : null);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var live = document.getElementById("station-live");
    var target = event.detail.target; // the whole live part (the player's requests) or the list alone
    if (!live || !(target === live || target.id === "station-results") || event.detail.xhr.status >= 400) return;
    var active = document.activeElement, focus = null;
    if (active && live.contains(active)) {
      var row = active.closest(".result");
      focus = { key: focusKey(active), trackId: row ? row.dataset.trackId : null,
        index: row ? rows(live).indexOf(row) : -1 };
    }
    before = { ids: ids(live), focus: focus };
  });

  document.addEventListener("htmx:afterSettle", function () {
    var live = document.getElementById("station-live");
    if (!live || !before) return;
    var previous = before;
    before = null;
    annotate(live, previous.ids);
    if (previous.focus) restoreFocus(live, previous.focus);
  });

  // Moves are counted among the tracks on both lists, so a track leaving (thumbed down, now playing) does not
  // make every track below it "move up".
  function annotate(live, oldIds) {
    var newIds = ids(live);
    var kept = newIds.filter(function (id) { return oldIds.indexOf(id) >= 0; });
    var oldKept = oldIds.filter(function (id) { return kept.indexOf(id) >= 0; });
    var fresh = 0, moved = 0;
    rows(live).forEach(function (row) {
      var id = row.dataset.trackId, badge = row.querySelector(".change");
      var text = "", kind = "";
      if (oldIds.indexOf(id) < 0) { text = "new"; kind = "new"; fresh += 1; }
      else {
        var shift = oldKept.indexOf(id) - kept.indexOf(id);
        if (shift > 0) { text = "↑ " + shift; kind = "up"; moved += 1; }
        else if (shift < 0) { text = "↓ " + -shift; kind = "down"; moved += 1; }
      }
      if (!badge) return;
      badge.textContent = text;
      badge.dataset.change = kind;
      badge.title = kind === "new" ? "New on the list" : kind ? "Moved " + kind + " " + text.slice(2) : "";
      row.dataset.change = kind;
    });
    var summary = document.getElementById("rerank-summary");
    if (summary) {
      summary.textContent = fresh || moved ? "Re-ranked: " + fresh + " new, " + moved + " moved." : "";
    }
  }

  function restoreFocus(live, focus) {
    var all = rows(live), row = null;
    if (focus.trackId) row = live.querySelector('.result[data-track-id="' + focus.trackId + '"]');
    if (!row && focus.index >= 0 && all.length) row = all[Math.min(focus.index, all.length - 1)];
    var target = null;
    if (row && focus.key) target = row.querySelector('[data-focus-key="' + focus.key + '"]') ||
      (focus.key === "play" ? row.querySelector("[data-play]") : null);
    if (!target) target = document.getElementById("results-heading");
    if (!target) return;
    var toolbar = target.closest("[role=toolbar]");
    if (toolbar) rove(toolbar, target);
    target.focus({ preventScroll: true });
  }

  // Roving tabindex: the toolbar's current button is the one Tab reaches.
  function rove(toolbar, target) {
    toolbar.querySelectorAll("button").forEach(function (button) {
      button.tabIndex = button === target ? 0 : -1;
    });
  }

  document.addEventListener("keydown", function (event) {
    var toolbar = event.target.closest && event.target.closest("[role=toolbar]");
    if (!toolbar || ["ArrowLeft", "ArrowRight", "Home", "End"].indexOf(event.key) < 0) return;
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button:not([hidden])"));
    var at = buttons.indexOf(event.target);
    if (at < 0) return;
    var to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: buttons.length - 1 }[event.key];
    to = (to + buttons.length) % buttons.length;
    event.preventDefault();
    rove(toolbar, buttons[to]);
    buttons[to].focus();
  });

  // A result's "Rate" loads the rating widget below it. One listener for the list instead of an hx-get on each
  // button, which htmx would set up again (and tear down) twenty times per re-rank.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#results button[data-rate]");
    if (!button || !window.htmx) return;
    htmx.ajax("GET", button.dataset.rate, { target: "#" + button.getAttribute("aria-controls"), swap: "innerHTML" });
  });

  document.addEventListener("focusin", function (event) {
    var toolbar = event.target.closest && event.target.closest("[role=toolbar]");
    if (toolbar && event.target.matches("button")) rove(toolbar, event.target);
  });
})();

// On a phone the station's knobs start folded, so that the first track is above the fold; wide screens show them.
(function () {
  "use strict";
  function fold() {
    if (!window.matchMedia("(max-width: 720px)").matches) return;
    document.querySelectorAll("details[data-open-wide]:not([data-folded])").forEach(function (details) {
      details.open = false;
      details.dataset.folded = "1";
    });
  }
  document.addEventListener("htmx:afterSettle", fold);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fold);
  else fold();
})();
