// Autosave for the assessment wizard: every change of a question is posted at once, so closing the page
// loses nothing. Without JavaScript the page still works: its button saves every question of the page.
(function () {
  "use strict";
  var form = document.getElementById("wizard");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave");
  var token = form.querySelector("input[name=csrf_token]").value;
  var status = document.getElementById("save-status");
  var bar = document.getElementById("progress");
  var barText = document.getElementById("progress-text");
  var timers = {};
  var pending = 0;

  function fieldsOf(fieldset) {
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("question_id", fieldset.getAttribute("data-question"));
    Array.prototype.forEach.call(fieldset.querySelectorAll("input[name], select[name]"), function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    return data;
  }

  function showError(fieldset, message) {
    var box = fieldset.querySelector(".q-error");
    if (!box) { return; }
    box.textContent = message || "";
    box.hidden = !message;
    fieldset.classList.toggle("has-error", !!message);
  }

  function save(fieldset) {
    pending += 1;
    status.textContent = form.getAttribute("data-saving") || "…";
    fetch(url, { method: "POST", body: fieldsOf(fieldset), credentials: "same-origin",
                 headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (res) {
        if (!res.ok || !res.body.ok) {
          showError(fieldset, res.body.error);
          status.textContent = "";
          return;
        }
        showError(fieldset, "");
        fieldset.classList.toggle("complete", !!res.body.complete);
        if (bar) { bar.max = res.body.total; bar.value = res.body.answered; }
        if (barText && res.body.progress_text) { barText.textContent = res.body.progress_text; }
        status.textContent = res.body.message + " " + res.body.saved_at;
      })
      .catch(function () {
        status.textContent = form.getAttribute("data-offline") || "!";
      })
      .then(function () { pending -= 1; });
  }

  function schedule(fieldset, delay) {
    var id = fieldset.getAttribute("data-question");
    clearTimeout(timers[id]);
    timers[id] = setTimeout(function () { save(fieldset); }, delay);
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    var fieldset = target.closest("fieldset.question");
    if (!fieldset) { return; }
    if (target.type === "checkbox" && target.checked && target.name.indexOf("q-") === 0) {
      var exclusive = target.getAttribute("data-exclusive") === "1";
      Array.prototype.forEach.call(fieldset.querySelectorAll("input[type=checkbox][name='" + target.name + "']"),
        function (box) {
          if (box !== target && (exclusive || box.getAttribute("data-exclusive") === "1")) { box.checked = false; }
        });
    }
    schedule(fieldset, 50);
  });
  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset.question");
    if (fieldset && event.target.type === "number") { schedule(fieldset, 700); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (pending > 0) { event.preventDefault(); }
  });
}());
