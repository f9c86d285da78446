// Provider form: offer only the credential types the chosen provider type accepts, show only the
// inputs of the chosen credential type, and show the type's default URLs as placeholders. The
// server validates the same rules; without JavaScript every input stays visible.
"use strict";
(function () {
  function row(name) {
    const input = document.getElementById("id_" + name);
    return input ? input.closest(".form-row") : null;
  }

  function setHidden(name, hidden) {
    const element = row(name);
    if (element) element.hidden = hidden;
  }

  function note(id, anchorName, text) {
    let element = document.getElementById(id);
    const anchor = row(anchorName);
    if (!element && anchor) {
      element = document.createElement("div");
      element.id = id;
      element.className = "help";
      element.setAttribute("role", "status");
      (anchor.firstElementChild || anchor).appendChild(element);
    }
    if (element) element.textContent = text;
  }

  function init(catalog) {
    const typeSelect = document.getElementById("id_type");
    const credentialSelect = document.getElementById("id_credential_type");
    if (!credentialSelect) return;
    const allInputs = [...new Set(Object.values(catalog.credentialTypes).flatMap((c) => c.inputs))];
    const creating = catalog.creating;

    function providerType() {
      // On edit the type may be read-only: the catalogue then names it.
      return (typeSelect && typeSelect.value) || catalog.currentType || "";
    }

    function showCredentialInputs() {
      const chosen = catalog.credentialTypes[credentialSelect.value];
      const shown = new Set(chosen ? chosen.inputs : []);
      allInputs.forEach((name) => setHidden(name, !shown.has(name)));
      setHidden("credential_expires_at", !chosen);
      note("credential-type-help", "credential_type", chosen ? chosen.help : "");
    }

    function applyType() {
      const type = catalog.types[providerType()];
      const accepted = type ? type.credentialTypes : Object.keys(catalog.credentialTypes);
      [...credentialSelect.options].forEach((option) => {
        const offered = option.value === "" || accepted.includes(option.value);
        option.hidden = !offered;
        option.disabled = !offered;
      });
      if (credentialSelect.value && !accepted.includes(credentialSelect.value)) credentialSelect.value = "";
      // Creating needs credentials: preselect the type's first credential type.
      if (creating && !credentialSelect.value && type) credentialSelect.value = accepted[0];
      ["base_url", "api_base_url"].forEach((name) => {
        const input = document.getElementById("id_" + name);
        if (input) input.placeholder = type && type[name] ? type[name] + " (default)" : "";
      });
      note(
        "provider-type-help",
        "type",
        type ? type.label + " · " + type.capability + " · accepts " + accepted.map((k) => catalog.credentialTypes[k].label).join(", ") : "",
      );
      showCredentialInputs();
    }

    if (typeSelect) typeSelect.addEventListener("change", applyType);
    credentialSelect.addEventListener("change", showCredentialInputs);
    applyType();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const data = document.getElementById("provider-form-catalog");
    if (data) init(JSON.parse(data.textContent));
  });
})();
