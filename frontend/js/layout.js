// The page's layout on every screen (the widths themselves are in main.css):
// - from 1,280 px three columns: data, network, output;
// - from 900 to 1,280 px the network and the output side by side, the data column a drawer
//   that the top bar's "Data" button opens (Esc or × closes it);
// - below 900 px one column; the top bar's fields wrap and scroll away while the training
//   row (reset, train, steps, epoch) stays on screen: the bar is sticky at minus the height
//   above that row, which this module measures; a message sticks just under that row.
const DRAWER = "(max-width: 1279.98px)";
const ONE_COLUMN = "(max-width: 899.98px)";

export class PageLayout {
  /** topbar: the header; runbar: its training row; drawer: the data column; toggle, close: its buttons. */
  constructor({ topbar, runbar, drawer, toggle, close }) {
    this.topbar = topbar;
    this.runbar = runbar;
    this.drawer = drawer;
    this.toggle = toggle;
    this.drawerQuery = matchMedia(DRAWER);
    this.oneColumnQuery = matchMedia(ONE_COLUMN);

    toggle.addEventListener("click", () => this.setDrawer(!this.drawerOpen));
    close.addEventListener("click", () => { this.setDrawer(false); toggle.focus(); });
    drawer.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.drawerOpen && this.drawerQuery.matches) {
        e.stopPropagation();
        this.setDrawer(false);
        toggle.focus();
      }
    });
    // A click on the page outside the open drawer closes it (the network and plot stay usable).
    document.addEventListener("pointerdown", (e) => {
      if (this.drawerOpen && this.drawerQuery.matches && !drawer.contains(e.target)
        && !toggle.contains(e.target)) this.setDrawer(false);
    });
    this.drawerQuery.addEventListener("change", () => this.setDrawer(false));
    this.oneColumnQuery.addEventListener("change", () => this.stickRunbar());
    new ResizeObserver(() => this.stickRunbar()).observe(topbar);
    this.setDrawer(false);
  }

  get drawerOpen() {
    return document.body.classList.contains("data-open");
  }

  setDrawer(open) {
    document.body.classList.toggle("data-open", open);
    this.toggle.setAttribute("aria-expanded", String(open));
    // Opened: the focus goes to the chosen dataset (the radio group's tab stop).
    if (open) (this.drawer.querySelector("[role=radio][tabindex='0']") ?? this.drawer.querySelector("button"))?.focus();
  }

  /** In one column the bar sticks with only its training row showing, and a message sticks
   * under it (scrolled down to the plot, a message at the top of the page would go unseen). */
  stickRunbar() {
    const offset = this.oneColumnQuery.matches
      ? Math.max(0, this.runbar.getBoundingClientRect().top - this.topbar.getBoundingClientRect().top - 6) : 0;
    this.topbar.style.setProperty("--stick-top", `${-offset}px`);
    document.body.style.setProperty("--bar-shown", `${this.topbar.getBoundingClientRect().height - offset}px`);
  }
}
