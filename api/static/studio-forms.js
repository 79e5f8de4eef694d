/* The studio's forms editor: asks the server for the preview again while the process owner types.
   Progressive only: without this script the "Opdatér forhåndsvisningen" button does the same. */
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form || !window.fetch || !window.FormData) { return; }
  var url = form.getAttribute("data-preview-url");
  var target = document.getElementById("forhaandsvisning");
  var status = document.getElementById("forhaandsvisning-status");
  var timer = null;

  function refresh() {
    var data = new FormData(form);
    data.set("handling", "vis");
    fetch(url, { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { return null; }
      return response.text();
    }).then(function (html) {
      if (html === null || html === undefined) { return; }
      target.innerHTML = html;
      status.textContent = "Forhåndsvisningen er opdateret.";
    }).catch(function () { /* the button still works */ });
  }

  function changed(event) {
    if (target.contains(event.target)) { return; }  // typing in the preview itself changes no form
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
})();
