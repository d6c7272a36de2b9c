// Buttons with data-confirm ask before they submit (instead of inline onclick handlers, which CSP refuses).
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
