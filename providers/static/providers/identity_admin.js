// Identity-provider form: show the section of the chosen protocol, and fill the form from an
// OIDC discovery document or SAML metadata through the import-config API (nothing is saved).
"use strict";
(function () {
  const endpoint = "/api/identity-providers/import-config";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function setField(name, value) {
    const input = document.getElementById("id_" + name);
    if (!input || value === undefined || value === null) return;
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function showProtocol() {
    const select = document.getElementById("id_protocol");
    if (!select || select.disabled) return;
    const protocol = select.value;
    document.querySelectorAll("fieldset.protocol-oidc").forEach((el) => {
      el.hidden = protocol === "saml";
    });
    document.querySelectorAll("fieldset.protocol-saml").forEach((el) => {
      el.hidden = protocol === "oidc" || protocol === "oauth2";
    });
  }

  function apply(result) {
    if (result.protocol) setField("protocol", result.protocol);
    if (result.entity_id) setField("entity_id", result.entity_id);
    const config = result.oidc_config || result.saml_config || {};
    Object.keys(config).forEach((name) => setField(name, config[name]));
    showProtocol();
  }

  function report(message, isError) {
    const status = document.getElementById("import-status");
    if (!status) return;
    status.textContent = message;
    status.style.color = isError ? "var(--error-fg, #ba2121)" : "";
  }

  async function send(body, headers) {
    report("Importing…", false);
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: Object.assign({ "X-CSRFToken": csrfToken(), Accept: "application/json" }, headers),
        body: body,
      });
      const data = await response.json();
      if (!response.ok) {
        const messages = Object.values(data).flat().join(" ");
        report("Import failed: " + messages, true);
        return;
      }
      apply(data);
      report("Imported. Review the fields, then save.", false);
    } catch (error) {
      report("Import failed: " + error, true);
    }
  }

  async function runMappers(panel) {
    const status = document.getElementById("dry-run-status");
    const output = document.getElementById("dry-run-result");
    let claims;
    try {
      claims = JSON.parse(document.getElementById("dry-run-claims").value);
    } catch (error) {
      status.textContent = "The claims are not valid JSON: " + error.message;
      return;
    }
    status.textContent = "Running…";
    const response = await fetch(panel.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ claims: claims }),
    });
    const data = await response.json();
    if (!response.ok) {
      status.textContent = "Refused: " + Object.values(data).flat().join(" ");
      output.hidden = true;
      return;
    }
    status.textContent = data.applied.length + " mapper(s) applied.";
    output.textContent = JSON.stringify(data, null, 2);
    output.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const select = document.getElementById("id_protocol");
    if (select) select.addEventListener("change", showProtocol);
    showProtocol();
    const urlButton = document.getElementById("import-url-button");
    if (urlButton) {
      urlButton.addEventListener("click", () => {
        const url = document.getElementById("import-url").value.trim();
        const protocol = document.getElementById("import-protocol").value;
        const payload = protocol ? { url: url, protocol: protocol } : { url: url };
        send(JSON.stringify(payload), { "Content-Type": "application/json" });
      });
    }
    const dryRun = document.getElementById("mapper-dry-run");
    if (dryRun) {
      document.getElementById("dry-run-button").addEventListener("click", () => runMappers(dryRun));
    }
    const fileButton = document.getElementById("import-file-button");
    if (fileButton) {
      fileButton.addEventListener("click", () => {
        const file = document.getElementById("import-file").files[0];
        if (!file) {
          report("Choose a metadata file first.", true);
          return;
        }
        const form = new FormData();
        form.append("metadata", file);
        send(form, {});
      });
    }
  });
})();
