// Helpers every srlib widget module starts with (views.py puts this file in front of each one).

function imageUrl(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return URL.createObjectURL(new Blob([bytes], { type: bytes[0] === 0x89 ? "image/png" : "image/webp" }));
}

function make(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// Keys a widget uses stay in it: JupyterLab would take them as notebook shortcuts (change cell, make a heading).
function keepKeys(root) {
  root.addEventListener("keydown", (event) => {
    const plainEnter = event.key === "Enter" && !(event.shiftKey || event.ctrlKey || event.metaKey || event.altKey);
    if (/^(Arrow|Page|Home$|End$|[0-9+=_ -]$)/.test(event.key) || plainEnter) event.stopPropagation();
  });
}
