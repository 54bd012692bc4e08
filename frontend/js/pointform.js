// The small form that adds a point by its coordinates: the same as a click on the output
// plot, for the keyboard (the class is the one picked above it).
export class PointForm {
  /** form: with inputs x1 and x2; onAdd(x1, x2) adds the point. */
  constructor(form, onAdd) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const x1 = Number(form.elements.x1.value);
      const x2 = Number(form.elements.x2.value);
      if (!Number.isFinite(x1) || !Number.isFinite(x2)) return;
      onAdd(x1, x2);
    });
  }
}
