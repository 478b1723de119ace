// Add music: drag-and-drop uploads with a progress bar, and "Choose all" for iTunes hits.
// Uploads go through XMLHttpRequest because fetch() reports no upload progress. The request says it is an
// HTMX one, so the server answers as it answers HTMX: a 400 carries the sentence to show, success an
// HX-Redirect to the job's page. Without this script the form still works as a plain upload.
(function () {
  "use strict";

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function showError(html) {
    var box = document.getElementById("upload-errors");
    if (box) {
      box.innerHTML = html;
      box.scrollIntoView({ block: "nearest" });
    }
  }

  function showSentence(text) {
    var div = document.createElement("div");
    div.className = "error-box";
    div.setAttribute("role", "alert");
    div.textContent = text;
    showError(div.outerHTML);
  }

  function upload(form, files) {
    var maxBytes = Number(form.dataset.maxBytes);
    var maxFiles = Number(form.dataset.maxFiles);
    var tooBig = files.filter(function (file) { return file.size > maxBytes; });
    if (tooBig.length) {
      showSentence("“" + tooBig[0].name + "” is " + megabytes(tooBig[0].size) + ", over the limit of " +
        form.dataset.maxMb + " MB a file (MAX_UPLOAD_MB); nothing was uploaded. Leave it out and try again.");
      return;
    }
    if (files.length > maxFiles) {
      showSentence("Drop at most " + maxFiles + " files at once; you chose " + files.length + ".");
      return;
    }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    files.forEach(function (file) { data.append("files", file, file.name); });
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);

    var status = document.getElementById("upload-status");
    var bar = document.getElementById("upload-progress");
    var text = document.getElementById("upload-text");
    var zone = document.getElementById("drop-zone");
    status.hidden = false;
    zone.classList.add("busy");
    bar.value = 0;
    text.textContent = "Uploading " + files.length + " file" + (files.length === 1 ? "" : "s") + " (" +
      megabytes(total) + ")…";
    showError("");

    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("HX-Request", "true");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        bar.value = Math.round(100 * event.loaded / event.total);
        text.textContent = "Uploading: " + megabytes(event.loaded) + " of " + megabytes(event.total);
      }
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // the server is storing the files: an indeterminate bar
      text.textContent = "Uploaded; handing the files to the worker…";
    });
    request.addEventListener("load", function () {
      var target = request.getResponseHeader("HX-Redirect");
      if (request.status < 300 && target) {
        window.location.assign(target);
        return;
      }
      zone.classList.remove("busy");
      status.hidden = true;
      if (request.status === 400) {
        showError(request.responseText);
      } else {
        showSentence("The upload did not work (the server answered " + request.status + "). Try again.");
      }
    });
    request.addEventListener("error", function () {
      zone.classList.remove("busy");
      status.hidden = true;
      showSentence("The upload was cut off before it finished. Check the connection and try again.");
    });
    request.send(data);
  }

  function setUp() {
    var form = document.getElementById("upload-form");
    if (form) {
      var zone = document.getElementById("drop-zone");
      var input = form.querySelector("input[type=file]");
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dragging");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        var files = Array.prototype.slice.call(event.dataTransfer.files);
        if (files.length) upload(form, files);
      });
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files);
        if (files.length) upload(form, files);
        input.value = "";
      });
      // Dropped outside the zone, a file would replace the page: keep the page.
      window.addEventListener("dragover", function (event) { event.preventDefault(); });
      window.addEventListener("drop", function (event) { event.preventDefault(); });
    }
  }

  // "Choose all" ticks every enabled checkbox of the hits it belongs to (hits may arrive later, via HTMX).
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-choose-all]");
    if (!all) return;
    var form = all.closest("form");
    form.querySelectorAll("input[name='" + all.dataset.chooseAll + "']:not(:disabled)").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
