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

  // The last import's source ({url, protocol} or {file}), sent again with the identity provider an
  // operator picks when the SAML metadata lists several (a federation aggregate).
  let lastSource = null;
  let lastCandidates = [];

  function request(source, entityId) {
    if (source.file) {
      const form = new FormData();
      form.append("metadata", source.file);
      if (entityId) form.append("entity_id", entityId);
      return [form, {}];
    }
    const payload = { url: source.url };
    if (source.protocol) payload.protocol = source.protocol;
    if (entityId) payload.entity_id = entityId;
    return [JSON.stringify(payload), { "Content-Type": "application/json" }];
  }

  function showCandidates(candidates) {
    const row = document.getElementById("import-candidates");
    const select = document.getElementById("import-entity-id");
    if (!row || !select) return;
    lastCandidates = candidates || [];
    select.replaceChildren();
    (candidates || []).forEach((candidate) => {
      const option = document.createElement("option");
      option.value = candidate.entity_id;
      option.textContent = candidate.display_name
        ? candidate.display_name + " — " + candidate.entity_id
        : candidate.entity_id;
      select.appendChild(option);
    });
    row.hidden = !candidates || candidates.length === 0;
  }

  async function send(source, entityId, displayName) {
    lastSource = source;
    const [body, headers] = request(source, entityId);
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
        const { candidates, ...errors } = data;
        showCandidates(candidates);
        if (candidates && candidates.length && !errors.entity_id) {
          report(
            "The metadata lists " + candidates.length + " identity providers: choose the one to import below.",
            true,
          );
        } else {
          report("Import failed: " + Object.values(errors).flat().join(" "), true);
        }
        return;
      }
      showCandidates([]);
      apply(data);
      const nameInput = document.getElementById("id_display_name");
      if (displayName && nameInput && !nameInput.value) setField("display_name", displayName);
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
        send({ url: url, protocol: protocol });
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
        send({ file: file });
      });
    }
    const candidateButton = document.getElementById("import-candidate-button");
    if (candidateButton) {
      candidateButton.addEventListener("click", () => {
        const entityId = document.getElementById("import-entity-id").value;
        const chosen = lastCandidates.find((candidate) => candidate.entity_id === entityId);
        if (lastSource && entityId) send(lastSource, entityId, chosen && chosen.display_name);
      });
    }
  });
})();
