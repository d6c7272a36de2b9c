// A checkbox with data-select-all="NAME" ticks or clears every checkbox named NAME in its form.
document.addEventListener("change", function (event) {
  const box = event.target.closest("[data-select-all]");
  if (!box) return;
  box.form.querySelectorAll('input[type="checkbox"][name="' + box.dataset.selectAll + '"]').forEach(function (item) {
    item.checked = box.checked;
  });
});
