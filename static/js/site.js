// A 400 from an HTMX request carries a message for the listener: show it in the page's error box instead
// of dropping it (htmx swaps only 2xx responses by default).
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 400 && !event.detail.boosted) {  // a boosted 400 is a whole page (pages.js)
    var box = document.getElementById("errors");
    if (box) {
      event.detail.shouldSwap = true;
      event.detail.target = box;
      event.detail.swapOverride = "innerHTML";
    }
  }
});
// A successful swap clears an old error.
document.addEventListener("htmx:afterSwap", function (event) {
  var box = document.getElementById("errors");
  if (box && event.detail.xhr.status < 400 && event.detail.target !== box) {
    box.innerHTML = "";
  }
});
// The seed picker (templates/discovery/partials/search_box.html): a track is chosen once. Each "+ seed" button
// says whether its track is a chip already and is disabled while it is; a chip that arrives twice (two quick
// clicks) is dropped; "×" removes its chip in place instead of submitting the search form (its no-JS job).
(function () {
  "use strict";

  function chipsBox() { return document.getElementById("seed-chips"); }

  function syncSeedButtons() {
    var box = chipsBox();
    if (!box) return;
    var chosen = {};
    box.querySelectorAll(".chip[data-track-id]").forEach(function (chip) {
      if (chosen[chip.dataset.trackId]) chip.remove();
      else chosen[chip.dataset.trackId] = true;
    });
    document.querySelectorAll("button[data-seed-add]").forEach(function (button) {
      if (button.classList.contains("htmx-request")) return;  // its chip is on the way
      var isChosen = Boolean(chosen[button.dataset.seedAdd]);
      button.disabled = isChosen;
      button.setAttribute("aria-pressed", String(isChosen));
      button.textContent = isChosen ? "Chosen" : "+ seed";
    });
  }

  // "Compare two models by ear" sends the new-station form's chips to /compare/ as a GET: only the seeds.
  document.addEventListener("htmx:configRequest", function (event) {
    var submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
    if (!submitter || !submitter.matches("[data-compare-seeds]")) return;
    delete event.detail.parameters.csrfmiddlewaretoken;
    delete event.detail.parameters.name;
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var button = event.detail.elt;
    if (button.matches && button.matches("button[data-seed-add]")) button.disabled = true;  // no second click
  });
  ["htmx:afterRequest", "htmx:afterSettle", "htmx:load"].forEach(function (name) {
    document.addEventListener(name, syncSeedButtons);
  });

  document.addEventListener("click", function (event) {
    var remove = event.target.closest && event.target.closest("#seed-chips .chip-remove");
    if (!remove) return;
    event.preventDefault();
    var chip = remove.closest(".chip");
    var next = chip.nextElementSibling || chip.previousElementSibling;
    chip.remove();
    syncSeedButtons();
    var focus = next ? next.querySelector(".chip-remove") : document.getElementById("search-input");
    if (focus) focus.focus();
  });

  // "More results" replaces itself with the next page: the keyboard goes on at that page's first track.
  var morePending = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.matches && event.detail.elt.matches(".more-link")) morePending = true;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!morePending) return;
    morePending = false;
    var starts = document.querySelectorAll("#search-results [data-page-start] .track-name");
    if (starts.length) starts[starts.length - 1].focus();
  });

  // "Play all" on an artist's or album's page: the playlist's first play button, which queues the rest.
  document.addEventListener("click", function (event) {
    var playAll = event.target.closest && event.target.closest("[data-play-first]");
    if (!playAll) return;
    var list = playAll.closest("[data-playlist]");
    var first = list && list.querySelector("button[data-play]");
    if (first) first.click();
  });

  if (document.readyState !== "loading") syncSeedButtons();
  else document.addEventListener("DOMContentLoaded", syncSeedButtons);
})();
