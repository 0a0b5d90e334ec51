/**
 * The pages' HTML, written on the server with every value escaped. Scripts and the style sheet are
 * separate files of the same origin, so the pages run under a strict Content-Security-Policy.
 */
import * as Crypto from "node:crypto"
import { CLIENT_PATH, DEVICE_PATH } from "./paths.js"

/** A user as the pages show them. */
export interface PageUser {
  readonly subject: string
  readonly name?: string | undefined
}

/** A client as the consumption device offers it. */
export interface PageClient {
  readonly deliveryMode: "POLL" | "PING" | "PUSH"
  readonly clientId: string
  readonly clientName?: string | undefined
  readonly userCodeRequired: boolean
}

const ESCAPES: { readonly [c: string]: string } = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/** Text safe in an element or a quoted attribute. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

const page = (title: string, stylesheet: string, script: string | undefined, body: string) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · effect-authlete playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${stylesheet}">
${script === undefined ? "" : `<script src="${script}" defer></script>\n`}</head>
<body>
${body}
</body>
</html>
`

const nav =
  `<nav aria-label="Playground pages"><a href="/">Playground</a> · <a href="${DEVICE_PATH}">Authentication device</a> · <a href="${CLIENT_PATH}">Consumption device</a></nav>`

const userLabel = (user: PageUser) => user.name === undefined ? user.subject : `${user.name} (${user.subject})`

/** The authentication device: the users' pending requests, filled in by the script. */
export const devicePage = (users: ReadonlyArray<PageUser>, subject: string | undefined): string =>
  page(
    "Authentication device",
    `${DEVICE_PATH}/style.css`,
    `${DEVICE_PATH}/device.js`,
    `<header>
${nav}
<h1>Authentication device</h1>
<p class="lead">The user's phone: what clients ask for, to approve or deny. New requests appear here by themselves.</p>
<label for="subject">Signed in as</label>
<select id="subject" name="subject">
<option value=""${subject === undefined ? " selected" : ""}>Every user</option>
${
      users.map((user) =>
        `<option value="${escapeHtml(user.subject)}"${user.subject === subject ? " selected" : ""}>${
          escapeHtml(userLabel(user))
        }</option>`
      ).join("\n")
    }
</select>
</header>
<main>
<h2 class="visually-hidden" id="pending-heading">Pending requests</h2>
<p id="notice" role="status" aria-live="polite"></p>
<p id="empty" class="empty">No pending requests.</p>
<ul id="requests" class="requests" aria-labelledby="pending-heading"></ul>
</main>`
  )

/** A binding message to start with: four characters that are easy to compare (CIBA Core 7.1). */
const suggestedBindingMessage = () => {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
  return Array.from(Crypto.randomBytes(4), (byte) => alphabet[byte % alphabet.length]).join("")
}

/** The consumption device: the form that starts a request, and what the client sees. */
export const clientPage = (users: ReadonlyArray<PageUser>, clients: ReadonlyArray<PageClient>): string =>
  page(
    "Consumption device",
    `${CLIENT_PATH}/style.css`,
    `${CLIENT_PATH}/client.js`,
    `<header>
${nav}
<h1>Consumption device</h1>
<p class="lead">The client's side: start a CIBA request for a user, then watch what the client sees while the user decides on the authentication device.</p>
</header>
<main class="layout">
<form id="start" class="card start" aria-labelledby="start-heading">
<h2 id="start-heading">Start a request</h2>
<fieldset>
<legend>Delivery mode</legend>
<div class="modes">
${
      clients.map((client, i) =>
        `<label><input type="radio" name="mode" value="${client.deliveryMode}"${
          i === 0 ? " checked" : ""
        } data-user-code-required="${client.userCodeRequired}"> ${client.deliveryMode}</label>`
      ).join("\n")
    }
</div>
</fieldset>
<label for="user">User</label>
<select id="user" name="subject">
${users.map((user) => `<option value="${escapeHtml(user.subject)}">${escapeHtml(userLabel(user))}</option>`).join("\n")}
</select>
<label for="binding">Binding message <span class="hint">shown on both devices, to compare</span></label>
<input type="text" id="binding" name="bindingMessage" maxlength="64" autocomplete="off" value="${suggestedBindingMessage()}">
<details id="more">
<summary>More parameters</summary>
<label for="scope">Scope</label>
<input type="text" id="scope" name="scope" value="openid profile email" autocomplete="off">
<label for="acr">ACR values <span class="hint">space-separated, optional</span></label>
<input type="text" id="acr" name="acrValues" autocomplete="off">
<label for="user-code">User code <span class="hint" id="user-code-hint">Only for clients that require one.</span></label>
<input type="text" id="user-code" name="userCode" inputmode="numeric" autocomplete="off">
</details>
<div class="actions"><button type="submit" class="primary" id="start-button">Start the request</button></div>
</form>
<section class="card seen" aria-labelledby="seen-heading">
<h2 id="seen-heading">What the client sees</h2>
<p id="shown" hidden>Binding message: <span id="shown-binding" class="shown-binding"></span></p>
<p id="status" class="status" role="status" aria-live="polite"></p>
<p id="idle" class="empty">Nothing yet: start a request.</p>
<ol id="log" class="log" role="log" aria-live="polite" aria-label="What the client sees"></ol>
</section>
<section id="result" class="card result" aria-labelledby="tokens-heading" hidden>
<h2 id="tokens-heading">Token response</h2>
<p class="hint" id="tokens-source"></p>
<pre id="tokens"></pre>
<details><summary>The full response</summary><pre id="tokens-full"></pre></details>
<div id="id-token" hidden>
<h2>ID token</h2>
<p id="verdict" class="status"></p>
<h3>Header</h3>
<pre id="id-token-header"></pre>
<h3>Claims</h3>
<pre id="id-token-claims"></pre>
<h3>Checks</h3>
<ul id="id-token-checks" class="checks"></ul>
</div>
</section>
</main>`
  )

/** The playground's front page: where the two devices are. */
export const indexPage = (issuer: string): string =>
  page(
    "Playground",
    `${DEVICE_PATH}/style.css`,
    undefined,
    `<header>
<h1>effect-authlete playground</h1>
<p class="lead">A CIBA authorization server built from effect-authlete, in front of the embedded Authlete simulator. Issuer: <code>${
      escapeHtml(issuer)
    }</code></p>
</header>
<main>
<ul>
<li><a href="${DEVICE_PATH}">The authentication device</a>: the users' pending requests, to approve or deny.</li>
<li><a href="${CLIENT_PATH}">The consumption device</a>: the client's side, to start a request and see the tokens.</li>
<li><a href="/.well-known/openid-configuration">The discovery document</a></li>
</ul>
</main>`
  )
