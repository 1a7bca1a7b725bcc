/* GED upload: send the chosen files one at a time and show each one's progress.
 *
 * Without this script the form still works (every file in one request, then a redirect).
 * With it, each file is a request of its own asking for JSON: {results: [{name, ok, message}],
 * redirect}. When every file is stored the page reloads to show the list; a refused file stays
 * listed with the server's reason. The texts come from the form's data-msg-* attributes,
 * translated by the template.
 */
(function () {
  "use strict";

  function setup(form) {
    if (form.dataset.gedReady) { return; }
    form.dataset.gedReady = "1";
    form.addEventListener("submit", function (event) {
      var input = form.querySelector('input[type="file"]');
      if (!input || !input.files.length || !window.FormData) { return; }
      event.preventDefault();
      upload(form, input, Array.prototype.slice.call(input.files));
    });
  }

  function row(list, file, waitingText) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    var bar = document.createElement("progress");
    var status = document.createElement("span");
    name.textContent = file.name;
    bar.max = 100;
    bar.value = 0;
    status.className = "status";
    status.textContent = waitingText;
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return { item: item, bar: bar, status: status };
  }

  function upload(form, input, files) {
    var msg = form.dataset;
    var list = form.querySelector("[data-ged-progress]");
    var button = form.querySelector('button[type="submit"]');
    list.textContent = "";
    button.disabled = true;
    var rows = files.map(function (file) { return row(list, file, msg.msgWaiting); });
    var failures = 0;
    var redirect = null;

    function done(view, ok, text) {
      view.status.textContent = text;
      view.status.className = "status " + (ok ? "ok" : "error");
      view.item.dataset.state = ok ? "done" : "failed";
      if (ok) { view.bar.value = 100; } else { failures += 1; }
    }

    function send(index) {
      if (index >= files.length) { return finish(); }
      var view = rows[index];
      var data = new FormData(form);
      data.delete("files");
      data.append("files", files[index], files[index].name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      view.status.textContent = msg.msgSending;
      view.item.dataset.state = "sending";
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.floor((e.loaded * 100) / e.total);
        view.bar.value = percent;
        view.status.textContent = percent + " %";
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        if (body && body.results && body.results.length) {
          redirect = body.redirect || redirect;
          var result = body.results[0];
          done(view, result.ok, result.message);
        } else {
          done(view, false, msg.msgRefused + " (HTTP " + xhr.status + ")");
        }
        send(index + 1);
      });
      xhr.addEventListener("error", function () {
        done(view, false, msg.msgFailed);
        send(index + 1);
      });
      xhr.send(data);
    }

    function finish() {
      button.disabled = false;
      input.value = "";
      if (!failures && redirect) {
        window.location.assign(redirect);
        return;
      }
      if (failures < files.length) {
        var reload = document.createElement("a");
        reload.href = redirect || window.location.href;
        reload.textContent = msg.msgReload;
        var item = document.createElement("li");
        item.appendChild(reload);
        list.appendChild(item);
      }
    }

    send(0);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-ged-upload]"), setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
