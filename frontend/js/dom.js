/** el("div", {class: "x", text: "hi", "aria-label": "…"}, child, …): one DOM element.
 * Attributes that are null or false are left out; true sets an empty attribute. A style is
 * set through the element's style object: the page's Content-Security-Policy refuses style
 * attributes. */
export function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...kids.filter((k) => k != null));
  return node;
}

/** Size a canvas's pixels to its displayed size (times the device pixel ratio); true if it
 * changed, so that the caller redraws. */
export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * dpr);
  const h = Math.round(canvas.clientHeight * dpr);
  if (!w || !h || (w === canvas.width && h === canvas.height)) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}
