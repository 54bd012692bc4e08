const status = document.getElementById("server-status");
fetch("api/health")
  .then((r) => r.json())
  .then((h) => { status.textContent = `server ${h.status} (v${h.version})`; })
  .catch(() => { status.textContent = "server unreachable"; });
