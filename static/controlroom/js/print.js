// Buttons marked data-print print the page (no inline handler: the Content Security Policy
// allows scripts from our own files only).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
