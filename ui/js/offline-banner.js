// A banner on every screen while the server cannot be reached, cleared as soon as it answers again.
// It follows the live-events socket (live.js), which already reconnects with backoff: no polling here.

import { h } from "./dom.js";
import { onLiveState } from "./live.js";

const GRACE_MS = 1500; // a socket that reconnects at once (a server restart) is not worth a banner

/** Mount the banner once, at the top of the page. */
export function mountOfflineBanner(root = document.body) {
  const banner = h("div", { class: "offline-banner hidden", role: "alert" },
    h("strong", null, "Qorven is not reachable. "),
    "The server stopped or the connection dropped; this page reconnects by itself when it is back.");
  root.prepend(banner);
  let wasLive = false;
  let timer = 0;
  onLiveState((state) => {
    if (state === "live") {
      wasLive = true;
      clearTimeout(timer);
      timer = 0;
      banner.classList.add("hidden");
    } else if (wasLive && !timer && banner.classList.contains("hidden")) {
      timer = setTimeout(() => { timer = 0; banner.classList.remove("hidden"); }, GRACE_MS);
    }
  });
  return banner;
}
