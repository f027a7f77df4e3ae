// Autosave of a programme application draft: the form is posted (with its CSRF token) 1.5 s after the last change.
(function () {
  "use strict";
  var form = document.getElementById("application-form");
  if (!form || !form.dataset.autosave) { return; }
  var status = document.getElementById("autosave-status");
  var timer = null;
  function save() {
    var data = new FormData(form);
    data.delete("action");
    fetch(form.dataset.autosave, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok && body.ok, body: body }; }); })
      .then(function (res) {
        if (status) { status.textContent = res.ok ? status.dataset.saved || "✓" : status.dataset.failed || "!"; }
        form.dataset.savedAt = res.ok ? res.body.saved_at : "";
      })
      .catch(function () { if (status) { status.textContent = status.dataset.failed || "!"; } });
  }
  form.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 1500);
  });
}());
