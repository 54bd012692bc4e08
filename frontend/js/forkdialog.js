// The "Fork it" dialog: an optional name for the copy, which the owner of the network forked
// (a teacher) sees in the class view. The server checks the name and says what is allowed.

export class ForkDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.input = dialog.querySelector("input");
  }

  /** The name typed ("" for none), or null when the student cancelled. */
  ask() {
    if (typeof this.dialog.showModal !== "function") return Promise.resolve("");
    return new Promise((resolve) => {
      this.dialog.addEventListener("close", () => {
        resolve(this.dialog.returnValue === "fork" ? this.input.value.trim() : null);
      }, { once: true });
      this.dialog.returnValue = "";
      this.dialog.showModal();
      this.input.focus();
      this.input.select();
    });
  }
}
