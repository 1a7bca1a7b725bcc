// A form with data-confirm asks before it is sent (an action that cannot be undone, such as
// closing an item). Without JavaScript the form is sent as it is; the server's rules still hold.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
