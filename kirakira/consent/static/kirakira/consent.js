// Progressive enhancement of the cookie settings: links marked data-consent-open open the
// settings dialog in place instead of going to the settings page. Nothing is stored here.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-consent-open]");
  const dialog = document.getElementById("consent-settings");
  if (!opener || !dialog || typeof dialog.showModal !== "function") return;
  event.preventDefault();
  dialog.showModal();
});
