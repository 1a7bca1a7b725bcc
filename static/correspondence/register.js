// The register form shows only the fields of the chosen channel (a tracking number for a letter,
// the kind of a visit…). Without this script every field is shown; the server checks them all.
(function () {
  "use strict";
  const form = document.getElementById("register-form");
  const channel = form && form.querySelector("[name=channel]");
  if (!channel) return;
  const fields = form.querySelectorAll("[data-channels]");

  function show() {
    fields.forEach(function (field) {
      field.hidden = !field.dataset.channels.split(" ").includes(channel.value);
    });
  }
  channel.addEventListener("change", show);
  show();
})();
