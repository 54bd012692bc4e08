// The "share live view" dialog: a link (on the server's local-network address when it serves
// a classroom) that lets others follow this network as it trains, with a QR code to scan.

export class ShareDialog {
  constructor(api, banner) {
    this.api = api;
    this.banner = banner;
    this.dialog = document.getElementById("share-dialog");
    this.link = document.getElementById("share-link");
    this.qr = document.getElementById("share-qr");
    this.note = document.getElementById("share-note");
    // Optional hooks (presenter.js builds the link's options): makeLink(base, id) -> link,
    // onOpen() before the dialog shows.
    this.makeLink = null;
    this.onOpen = null;
    document.getElementById("share-copy").addEventListener("click", () => this.copy());
    this.link.addEventListener("focus", () => this.link.select());
  }

  async open(id) {
    let base = `${location.origin}${location.pathname}`;
    let classroom = null;
    try {
      const share = await this.api.share();
      if (share?.urls?.length) base = share.urls[0];
      classroom = share?.classroom ?? null;
    } catch {
      /* an older server: this page's own address */
    }
    this.base = base.replace(/\/?$/, "/");
    this.id = id;
    this.onOpen?.();
    const link = this.refresh();
    this.note.textContent = classroom === false
      ? "This server listens on this computer only: start it with make run HOST=0.0.0.0 for a class to reach it."
      : "Students open the link (or scan the code) on the same network.";
    if (typeof this.dialog.showModal === "function") this.dialog.showModal();
    else this.banner.show("info", "Live link:", link, { timeout: 20000 });
    this.link.focus();
  }

  /** Show the link (and its QR code) for the options chosen now; returns it. */
  refresh() {
    const link = this.makeLink ? this.makeLink(this.base, this.id) : `${this.base}#watch=${this.id}`;
    if (link === this.link.value) return link;
    this.link.value = link;
    // A QR code holds up to about 1,000 characters here (a copy link with many points is longer).
    const fits = link.length <= 1000;
    this.qr.hidden = !fits;
    if (fits) this.qr.src = this.api.qrUrl(link);
    return link;
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.link.value);
      this.note.textContent = "Copied.";
    } catch {
      this.link.select(); // no clipboard on plain http: selected for ctrl+C
      this.note.textContent = "Press Ctrl+C to copy the selected link.";
    }
  }
}
