// An import's progress: polled every second while the worker reads the file, then the report.

const box = document.getElementById("import");

async function poll() {
  const response = await fetch(box.dataset.url, { credentials: "same-origin",
    headers: { Accept: "application/json" } });
  const run = await response.json();
  document.getElementById("import-progress").value = run.progress;
  box.dataset.status = run.status;
  if (run.status === "pending" || run.status === "running") {
    setTimeout(poll, 1000);
  } else {
    window.location.reload();
  }
}

if (box.dataset.status === "pending" || box.dataset.status === "running") setTimeout(poll, 1000);
