// The estimate's Print button (no inline scripts: the CSP allows only our own files).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});
