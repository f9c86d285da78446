// The page that shows a new API token once: a click in the field selects the whole token.
"use strict";
document.getElementById("api-token-value")?.addEventListener("click", (event) => event.target.select());
