// Sends the page's form at once (a SAML message posted on to where it goes); the button stays for
// browsers without JavaScript.
"use strict";
document.querySelectorAll("form[data-autosubmit]").forEach((form) => form.submit());
