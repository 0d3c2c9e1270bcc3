// Starts GOV.UK Frontend's components (menus, notification banners, error summaries…).
// An external module because the Content-Security-Policy allows no inline script without a
// nonce; every page works without it, this only enhances.
import * as GOVUKFrontend from "./govuk-frontend.min.js";

const frontend = window.GOVUKFrontend ?? GOVUKFrontend;
if (typeof frontend.initAll === "function") {
  frontend.initAll();
}
