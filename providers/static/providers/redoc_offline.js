// Redoc served offline: its footer always loads its logo from cdn.redoc.ly; this hands it a blank
// local image instead, so the page makes no request outside this server and logs no failed load
// when offline. Loaded before Redoc (templates/drf_spectacular/redoc.html).
"use strict";
(function () {
  const blank = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E";
  const local = (value) => (String(value).startsWith("https://cdn.redoc.ly/") ? blank : value);
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, this instanceof HTMLImageElement && name === "src" ? local(value) : value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    get: src.get,
    set(value) { src.set.call(this, local(value)); },
  });
})();
