// Autosave for the assessment wizard: every change of a question is posted at once, so closing the page
// loses nothing. Without JavaScript the page still works: its button saves every question of the page.
//
// Saves the user can trust: a change that could not be saved stays in this page's queue and is sent again with
// growing pauses (1 s … 30 s, at once when the browser is back online) until the server has it. Until then the
// question shows "not saved yet" and the status line says so (retrying, or offline); leaving the page asks first.
// Each save carries this page's random id and a change number; only one save per question is in flight, the newest
// change goes next, and the server ignores an older change that arrives late, so a later click never loses.
(function () {
  "use strict";
  var form = document.getElementById("wizard");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave");
  var token = form.querySelector("input[name=csrf_token]").value;
  var status = document.getElementById("save-status");
  var bar = document.getElementById("progress");
  var barText = document.getElementById("progress-text");
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var pageId = randomId();
  var seq = 0;
  var timers = {};      // question id -> debounce timer of a change not yet queued
  var queue = {};       // question id -> {fieldset, seq, data}: the newest change the server has not confirmed
  var inflight = {};    // question id -> change number being sent
  var failures = 0;     // failed attempts in a row (sets the pause before the next try)
  var retryTimer = null;

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function fieldsOf(fieldset, number) {
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("question_id", fieldset.getAttribute("data-question"));
    data.append("client_page", pageId);
    data.append("client_seq", String(number));
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

  function markUnsaved(fieldset, unsaved) {
    fieldset.classList.toggle("unsaved", unsaved);
    var note = fieldset.querySelector(".q-unsaved");
    if (note) { note.hidden = !unsaved; }
  }

  function setStatus(state, message) {
    status.setAttribute("data-state", state);
    status.textContent = message;
  }

  function unsaved() {
    return Object.keys(queue).length + Object.keys(timers).length + Object.keys(inflight).length;
  }

  function offline() { return navigator.onLine === false; }

  function showTrouble() {
    if (offline()) {
      setStatus("offline", form.getAttribute("data-offline"));
    } else {
      setStatus("retrying", form.getAttribute("data-retrying"));
    }
  }

  function scheduleRetry() {
    if (retryTimer !== null) { return; }
    var base = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length) - 1] || BACKOFF_MS[0];
    retryTimer = setTimeout(retryNow, base * (0.8 + Math.random() * 0.4));
  }

  function retryNow() {
    if (retryTimer !== null) { clearTimeout(retryTimer); }
    retryTimer = null;
    Object.keys(queue).forEach(send);
  }

  function confirmed(id, item, body) {
    if (queue[id] && queue[id].seq === item.seq) {
      delete queue[id];
      if (!timers[id]) { markUnsaved(item.fieldset, false); }
    }
    failures = 0;
    showError(item.fieldset, "");
    item.fieldset.classList.toggle("complete", !!body.complete);
    if (bar) { bar.max = body.total; bar.value = body.answered; }
    if (barText && body.progress_text) { barText.textContent = body.progress_text; }
    if (queue[id]) {
      send(id);  // a newer change of this question waited for this one
    } else if (Object.keys(queue).length) {
      retryNow();  // the server answers again: send what failed before without waiting
    }
    if (!unsaved()) { setStatus("saved", body.message + " " + body.saved_at); }
  }

  function refused(id, item, message) {
    // The server refused this input (shown next to the question); sending it again would not help.
    if (queue[id] && queue[id].seq === item.seq) {
      delete queue[id];
      markUnsaved(item.fieldset, false);
    }
    showError(item.fieldset, message);
    if (!unsaved()) { setStatus("refused", ""); }
  }

  function failed() {
    failures += 1;
    showTrouble();
    scheduleRetry();
  }

  function send(id) {
    var item = queue[id];
    if (!item || inflight[id] !== undefined) { return; }
    if (offline()) { failed(); return; }
    inflight[id] = item.seq;
    setStatus("saving", form.getAttribute("data-saving") || "…");
    fetch(url, { method: "POST", body: item.data, credentials: "same-origin",
                 headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        return response.json().then(
          function (body) { return { status: response.status, body: body }; },
          function () { return { status: response.status, body: null }; });  // an error page, a login redirect
      })
      .then(function (res) {
        delete inflight[id];
        if (res.body && res.body.ok) {
          confirmed(id, item, res.body);
        } else if (res.body && (res.status === 400 || res.status === 409)) {
          refused(id, item, res.body.error);
        } else {
          failed();
        }
      }, function () {
        delete inflight[id];
        failed();
      });
  }

  function queueChange(fieldset) {
    var id = fieldset.getAttribute("data-question");
    delete timers[id];
    seq += 1;
    queue[id] = { fieldset: fieldset, seq: seq, data: fieldsOf(fieldset, seq) };
    send(id);
  }

  function schedule(fieldset, delay) {
    var id = fieldset.getAttribute("data-question");
    clearTimeout(timers[id]);
    markUnsaved(fieldset, true);
    timers[id] = setTimeout(function () { queueChange(fieldset); }, delay);
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
  var submitting = false;  // the page's own button posts every answer of the page: nothing to warn about
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("online", retryNow);
  window.addEventListener("offline", function () { if (unsaved()) { showTrouble(); } });
  window.addEventListener("beforeunload", function (event) {
    if (unsaved() && !submitting) {
      event.preventDefault();
      event.returnValue = "";  // older browsers show their own "leave this page?" question only with this set
    }
  });
}());
