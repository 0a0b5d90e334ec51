/**
 * The consumption device's script: it posts the form to `/client/start` and renders, as they come,
 * the events of the answer (one JSON object a line): what the client sent and received, the token
 * response and the ID token taken apart and checked. Plain browser JavaScript, no build step.
 */
import { ELEMENT_FUNCTION } from "./element.js"

export const CLIENT_SCRIPT = String.raw`
"use strict";
(function () {
  var form = document.getElementById("start");
  var log = document.getElementById("log");
  var idle = document.getElementById("idle");
  var status = document.getElementById("status");
  var shown = document.getElementById("shown");
  var shownBinding = document.getElementById("shown-binding");
  var result = document.getElementById("result");
  var tokens = document.getElementById("tokens");
  var tokensFull = document.getElementById("tokens-full");
  var tokensSource = document.getElementById("tokens-source");
  var idToken = document.getElementById("id-token");
  var verdict = document.getElementById("verdict");
  var header = document.getElementById("id-token-header");
  var claims = document.getElementById("id-token-claims");
  var checks = document.getElementById("id-token-checks");
  var more = document.getElementById("more");
  var userCode = document.getElementById("user-code");
  var userCodeHint = document.getElementById("user-code-hint");
  var running = null;

${ELEMENT_FUNCTION}

  function json(value) { return JSON.stringify(value, null, 2); }
  function oneLine(value) { return typeof value === "string" ? value : JSON.stringify(value); }
  function seconds(at) { return "+" + (at / 1000).toFixed(2) + " s"; }

  function entry(at, what, code, detail) {
    var item = el("li", {}, [
      el("span", { "class": "when", text: seconds(at) }),
      el("span", { "class": "what", text: what }),
      code ? document.createTextNode(" ") : null,
      code ? el("span", { "class": "code", text: code }) : null,
      detail ? el("details", {}, [el("summary", { text: "details" }), el("pre", { text: detail })]) : null
    ]);
    log.appendChild(item);
  }

  // Long token values, shortened for reading; the full response is one click away.
  function shorten(body) {
    var out = {};
    Object.keys(body).forEach(function (name) {
      var value = body[name];
      out[name] = typeof value === "string" && value.length > 32
        ? value.slice(0, 12) + "…" + value.slice(-6) + " (" + value.length + " characters)"
        : value;
    });
    return out;
  }

  function codeOf(status, body) {
    if (body && typeof body === "object" && typeof body.error === "string") return status + " " + body.error;
    return String(status);
  }

  function handle(event) {
    switch (event.type) {
      case "discovery":
        entry(event.at, "Discovery", null,
          "issuer: " + event.issuer + "\nbackchannel: " + event.backchannelEndpoint +
          "\ntoken: " + event.tokenEndpoint + "\njwks_uri: " + event.jwksUri);
        break;
      case "backchannel-request":
        entry(event.at, "Backchannel authentication request", "POST",
          event.endpoint + "\nclient_secret_basic as client " + event.clientId + "\n" +
          Object.keys(event.parameters).map(function (name) { return name + "=" + event.parameters[name]; }).join("\n"));
        break;
      case "backchannel-response":
        entry(event.at, "Backchannel response", codeOf(event.status, event.body), oneLine(event.body));
        break;
      case "waiting":
        entry(event.at, event.detail);
        break;
      case "token-response":
        var error = event.body && event.body.error;
        entry(event.at, "Token endpoint", codeOf(event.status, event.body) + (error ? "" : " tokens"));
        break;
      case "ping":
        entry(event.at, "Ping received", null, oneLine(event.body));
        break;
      case "push":
        var pushedError = event.body && event.body.error;
        entry(event.at, pushedError ? "Pushed error received" : "Pushed tokens received", pushedError || null,
          oneLine(pushedError ? event.body : shorten(event.body)));
        break;
      case "tokens":
        result.hidden = false;
        tokensSource.textContent = event.source === "push" ? "pushed to the client notification endpoint" : "from the token endpoint";
        tokens.textContent = json(shorten(event.body));
        tokensFull.textContent = json(event.body);
        break;
      case "id-token":
        idToken.hidden = false;
        var signature = event.report.checks.filter(function (check) { return check.name === "signature"; })[0];
        verdict.textContent = signature && signature.ok ? "Signature verified against jwks_uri" : "Signature NOT verified";
        verdict.className = "status " + (signature && signature.ok ? "ok" : "bad");
        header.textContent = json(event.report.header);
        claims.textContent = json(event.report.claims);
        checks.replaceChildren.apply(checks, event.report.checks.map(function (check) {
          return el("li", { "class": check.ok ? "ok" : "bad", text: (check.ok ? "\u2713 " : "\u2717 ") + check.name + ": " + check.detail });
        }));
        entry(event.at, "ID token checked", event.report.valid ? "valid" : "invalid");
        break;
      case "outcome":
        status.className = "status " + (event.ok ? "ok" : "bad");
        status.textContent = event.ok
          ? "Tokens received; the ID token passes every check."
          : (event.error || "error") + (event.description ? ": " + event.description : "");
        break;
    }
  }

  function finish() {
    running = null;
  }

  function syncMode() {
    var mode = form.querySelector("input[name=mode]:checked");
    var required = mode && mode.getAttribute("data-user-code-required") === "true";
    userCode.required = required;
    userCodeHint.textContent = required
      ? "This client requires a user code: type the user's code."
      : "Only for clients that require one.";
    if (required) more.open = true;
  }

  form.addEventListener("change", syncMode);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (running) running.abort();
    var data = new FormData(form);
    var body = {};
    data.forEach(function (value, name) { body[name] = String(value); });
    log.replaceChildren();
    idle.hidden = true;
    result.hidden = true;
    idToken.hidden = true;
    status.className = "status";
    status.textContent = "Waiting for the user\u2026";
    // The message as the client sends it (trimmed, like every field), so as the device shows it.
    var sentBinding = (body.bindingMessage || "").trim();
    shown.hidden = sentBinding === "";
    shownBinding.textContent = sentBinding;
    // Starting again while a request runs replaces it (the client stops waiting for the old one).
    var controller = new AbortController();
    running = controller;
    fetch("/client/start", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (answer) {
          status.className = "status bad";
          status.textContent = answer.message || "The request could not start.";
          finish();
        });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            if (running === controller) finish();
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split("\n");
          buffer = lines.pop();
          lines.forEach(function (line) { if (line) handle(JSON.parse(line)); });
          return pump();
        });
      }
      return pump();
    }).catch(function (error) {
      if (controller.signal.aborted) return;
      status.className = "status bad";
      status.textContent = "The playground cannot be reached (" + error.message + ").";
      finish();
    });
  });
  syncMode();
})();
`
