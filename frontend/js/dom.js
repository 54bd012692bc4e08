/** el("div", {class: "x", text: "hi", "aria-label": "…"}, child, …): one DOM element.
 * Attributes that are null or false are left out; true sets an empty attribute. */
export function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...kids.filter((k) => k != null));
  return node;
}
