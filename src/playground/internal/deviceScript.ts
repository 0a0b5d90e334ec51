/**
 * The authentication device's script: it follows `/device/events` (a snapshot of the pending
 * requests whenever they change), counts down the time left to decide, and sends the user's
 * decision to `/device/decide`. Plain browser JavaScript, no build step.
 */
import { ELEMENT_FUNCTION } from "./element.js"

export const DEVICE_SCRIPT = String.raw`
"use strict";
(function () {
  var list = document.getElementById("requests");
  var empty = document.getElementById("empty");
  var notice = document.getElementById("notice");
  var picker = document.getElementById("subject");
  var cards = new Map();
  var offset = 0;
  var source = null;

${ELEMENT_FUNCTION}

  function left(millis) {
    var seconds = Math.max(0, Math.ceil(millis / 1000));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function say(text) { notice.textContent = text; }

  function row(term, value) {
    return [el("dt", { text: term }), el("dd", { text: value })];
  }

  function add(request) {
    var titleId = "title-" + cards.size + "-" + Date.now();
    var binding = request.bindingMessage
      ? el("p", { "class": "binding", text: request.bindingMessage })
      : el("p", { "class": "binding none", text: "The client sent no binding message." });
    var countdown = el("span", { "class": "countdown", text: left(request.decideBy - Date.now() - offset) });
    var approving = [];
    (request.authorizationDetails || []).forEach(function (detail) {
      approving = approving.concat(row("Approving", detail.type));
      detail.lines.forEach(function (line) {
        approving.push(el("dd", { "class": "detail", text: line }));
      });
    });
    var details = el("dl", {}, approving
      .concat(row("Scopes", request.scopes.join(" ") || "none"))
      .concat(row("Claims", request.claimNames.join(", ") || "none"))
      .concat(row("ACR values", request.acrValues.join(" ") || "none requested"))
      .concat([el("dt", { text: "Time left" }), el("dd", {}, [countdown])]));
    var code = null;
    var codeBlock = null;
    if (request.userCodeRequired) {
      var codeId = "code-" + titleId;
      code = el("input", { type: "text", id: codeId, inputmode: "numeric", autocomplete: "off", spellcheck: "false" });
      codeBlock = el("div", {}, [
        el("label", { "for": codeId, text: "User code" }),
        el("p", { "class": "hint", text: "This client requires your user code before you approve." }),
        code
      ]);
    }
    var approve = el("button", { type: "button", "class": "approve", text: "Approve" });
    var deny = el("button", { type: "button", "class": "deny", text: "Deny" });
    var error = el("p", { "class": "bad", role: "alert" });
    var card = el("li", { "class": "card request", "aria-labelledby": titleId, "data-auth-req-id": request.authReqId }, [
      el("h2", { id: titleId }, [
        el("span", { text: request.clientName || ("Client " + request.clientId) }),
        el("span", { "class": "for", text: "for " + (request.userName || request.subject) })
      ]),
      el("p", { "class": "binding-label", text: "Binding message: check that the client shows the same" }),
      binding,
      details,
      codeBlock,
      el("div", { "class": "actions" }, [approve, deny]),
      error
    ]);
    var entry = { request: request, card: card, countdown: countdown, client: request.clientName || "the client" };
    function decide(decision) {
      approve.disabled = true;
      deny.disabled = true;
      error.textContent = "";
      var body = { authReqId: request.authReqId, decision: decision };
      if (code) body.userCode = code.value;
      fetch("/device/decide", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (answer) { return { status: response.status, answer: answer }; });
      }).then(function (result) {
        if (result.status === 200 && result.answer.decided) {
          remove(request.authReqId);
          say((decision === "allow" ? "Approved: " : "Denied: ") + entry.client);
          return;
        }
        error.textContent = result.answer.message || "The decision could not be made.";
        if (result.answer.error === "invalid_user_code") {
          approve.disabled = false;
          deny.disabled = false;
          if (code) code.focus();
        } else {
          setTimeout(function () { remove(request.authReqId); }, 4000);
        }
      }, function () {
        error.textContent = "The authorization server cannot be reached.";
        approve.disabled = false;
        deny.disabled = false;
      });
    }
    approve.addEventListener("click", function () { decide("allow"); });
    deny.addEventListener("click", function () { decide("deny"); });
    cards.set(request.authReqId, entry);
    list.appendChild(card);
    update();
  }

  function remove(authReqId) {
    var entry = cards.get(authReqId);
    if (!entry) return;
    cards.delete(authReqId);
    entry.card.remove();
    update();
  }

  function update() { empty.hidden = cards.size > 0; }

  function render(snapshot) {
    offset = snapshot.now - Date.now();
    var seen = new Set();
    snapshot.requests.forEach(function (request) {
      seen.add(request.authReqId);
      if (!cards.has(request.authReqId)) add(request);
    });
    Array.from(cards.keys()).forEach(function (authReqId) {
      if (!seen.has(authReqId)) remove(authReqId);
    });
  }

  function tick() {
    var now = Date.now() + offset;
    cards.forEach(function (entry, authReqId) {
      var millis = entry.request.decideBy - now;
      if (millis <= 0) {
        remove(authReqId);
        say("Expired: " + entry.client);
        return;
      }
      entry.countdown.textContent = left(millis);
      entry.countdown.classList.toggle("soon", millis < 10000);
    });
  }

  function follow() {
    if (source) source.close();
    var subject = picker.value;
    Array.from(cards.keys()).forEach(remove);
    source = new EventSource("/device/events" + (subject ? "?subject=" + encodeURIComponent(subject) : ""));
    source.addEventListener("requests", function (event) { render(JSON.parse(event.data)); });
    var url = new URL(window.location.href);
    if (subject) url.searchParams.set("subject", subject);
    else url.searchParams.delete("subject");
    window.history.replaceState(null, "", url);
  }

  picker.addEventListener("change", follow);
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  setInterval(tick, 250);
  follow();
})();
`
