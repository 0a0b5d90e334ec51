/**
 * The playground's pages in a real browser (Debian's Chromium, through playwright-core): a person
 * approves on the authentication device while the consumption device waits, and the client shows
 * the tokens and the ID token checked against jwks_uri; deny; expiry; the user code prompt; on a
 * phone and on a desktop, with no console error and no request leaving the playground.
 */
import type { Browser, BrowserContext, Locator, Page } from "playwright-core"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "vitest"
import {
  DESKTOP,
  launch,
  MAX_DOCS_BYTES,
  openPage,
  PHONE,
  type RunningPlayground,
  screenshot,
  SCREENSHOT_DIR,
  startPlayground,
  type WatchedPage
} from "./support.js"

let browser: Browser
const open: Array<{ context: BrowserContext; playground: RunningPlayground }> = []
const shots: Array<string> = []

/** Takes a screenshot, and checks that its README copy stays small. */
const shoot = async (page: Page, name: string, from?: Locator) => {
  const shot = await screenshot(page, name, from)
  shots.push(`${shot.path} (${shot.bytes} bytes; README copy ${shot.docsBytes} bytes)`)
  assert.isBelow(shot.docsBytes, MAX_DOCS_BYTES, `${name}: the README copy is too large`)
}

beforeAll(async () => {
  browser = await launch()
}, 60_000)

afterEach(async () => {
  for (const { context, playground } of open.splice(0)) {
    await context.close()
    await playground.close()
  }
})

afterAll(async () => {
  await browser?.close()
  if (shots.length > 0) console.log(`Screenshots in ${SCREENSHOT_DIR}:\n  ${shots.join("\n  ")}`)
})

/** A playground, a browser context of that size, and both pages open on it. */
const setUp = async (
  size: typeof PHONE | typeof DESKTOP,
  options: Parameters<typeof startPlayground>[0] = {}
) => {
  const playground = await startPlayground(options)
  const context = await browser.newContext(size)
  open.push({ context, playground })
  const device = await openPage(context, playground.deviceUrl)
  const client = await openPage(context, playground.clientUrl)
  return { playground, device, client }
}

const noProblems = (...pages: ReadonlyArray<WatchedPage>) =>
  assert.deepStrictEqual(pages.flatMap((page) => page.problems), [])

/**
 * Nothing wider than the viewport: the page reads without scrolling sideways, and no element (a
 * long URL, say) sticks out of it. (A phone's browser would widen `innerWidth` to the content.)
 */
const fitsTheWidth = async (page: Page) => {
  const width = page.viewportSize()!.width
  // Runs in the page (this file is type-checked without the DOM's types).
  const found = await page.evaluate((width) => {
    type Node = {
      tagName: string
      className: string
      textContent: string | null
      getBoundingClientRect: () => { right: number; width: number }
    }
    const view = globalThis as unknown as {
      document: { documentElement: { scrollWidth: number }; querySelectorAll: (s: string) => ArrayLike<Node> }
    }
    const out = Array.from(view.document.querySelectorAll("body *"))
      .filter((node) => node.getBoundingClientRect().width > 0 && node.getBoundingClientRect().right > width + 1)
      .map((node) => `${node.tagName}.${node.className} "${(node.textContent ?? "").slice(0, 40)}"`)
    return { scroll: view.document.documentElement.scrollWidth, out }
  }, width)
  assert.isAtMost(found.scroll, width, `${page.url()} is ${found.scroll} px wide in a ${width} px viewport`)
  assert.deepStrictEqual(found.out, [], `${page.url()}: these stick out of the ${width} px viewport`)
}

interface Start {
  readonly mode: "POLL" | "PING" | "PUSH"
  readonly subject: string
  readonly bindingMessage: string
  readonly acrValues?: string
  readonly userCode?: string
}

const startOnClient = async (page: Page, start: Start) => {
  await page.getByRole("radio", { name: start.mode }).check()
  await page.getByLabel("User", { exact: true }).selectOption(start.subject)
  await page.getByLabel("Binding message").fill(start.bindingMessage)
  if (start.acrValues !== undefined || start.userCode !== undefined) {
    const more = page.locator("details#more")
    if ((await more.getAttribute("open")) === null) await page.getByText("More parameters").click()
    if (start.acrValues !== undefined) await page.getByLabel("ACR values").fill(start.acrValues)
    if (start.userCode !== undefined) await page.getByLabel("User code").fill(start.userCode)
  }
  await page.getByRole("button", { name: "Start the request" }).click()
}

/** The device's card that shows this binding message. */
const cardOf = (device: Page, bindingMessage: string) =>
  device.getByRole("listitem").filter({ has: device.getByText(bindingMessage, { exact: true }) })

const clientStatus = (client: Page, text: string | RegExp) =>
  client.getByRole("status").filter({ hasText: text }).waitFor({ timeout: 15_000 })

/** The client page once it holds tokens and a verified ID token. */
const assertVerifiedTokens = async (client: Page, subject: string, source: RegExp) => {
  await clientStatus(client, "Tokens received; the ID token passes every check.")
  assert.match((await client.locator("#tokens-source").textContent()) ?? "", source)
  const tokens = JSON.parse((await client.locator("#tokens-full").textContent()) ?? "{}") as Record<string, unknown>
  assert.isString(tokens.access_token)
  assert.isString(tokens.id_token)
  assert.strictEqual(await client.locator("#verdict").textContent(), "Signature verified against jwks_uri")
  const header = JSON.parse((await client.locator("#id-token-header").textContent()) ?? "{}") as Record<string, unknown>
  assert.strictEqual(header.alg, "ES256")
  const claims = JSON.parse((await client.locator("#id-token-claims").textContent()) ?? "{}") as Record<string, unknown>
  assert.strictEqual(claims.sub, subject)
  const checks = await client.locator("#id-token-checks li").allTextContents()
  assert.isAtLeast(checks.length, 6)
  for (const check of checks) assert.match(check, /^✓ /)
  assert.match(checks[0]!, /^✓ signature: ES256, verified with key .+ from http:\/\/127\.0\.0\.1:\d+\/jwks$/)
  return claims
}

describe("the playground's pages in Chromium", () => {
  it(
    "POLL: a person approves on the device while the client polls; the client shows the tokens and the verified ID token",
    async () => {
      const { client, device } = await setUp(DESKTOP)
      await device.page.getByText("No pending requests.").waitFor()

      await startOnClient(client.page, {
        mode: "POLL",
        subject: "user-1",
        bindingMessage: "W4SCT",
        acrValues: "urn:example:acr:device"
      })
      // The client waits: each poll is authorization_pending.
      await client.page.getByRole("log").getByText("400 authorization_pending").first().waitFor()
      assert.strictEqual(await client.page.locator("#shown-binding").textContent(), "W4SCT")

      // The request appears on the device without a reload.
      const card = cardOf(device.page, "W4SCT")
      await card.waitFor()
      assert.isTrue(await device.page.getByText("No pending requests.").isHidden())
      const text = (await card.textContent()) ?? ""
      for (
        const part of [
          "Playground POLL client",
          "for Taro Yamada",
          "openid profile email",
          "given_name",
          "email",
          "urn:example:acr:device"
        ]
      ) assert.include(text, part)
      const binding = card.locator(".binding")
      assert.isAtLeast(
        Number.parseFloat(
          await binding.evaluate((node) =>
            (globalThis as unknown as { getComputedStyle: (node: unknown) => { fontSize: string } })
              .getComputedStyle(node).fontSize
          )
        ),
        32,
        "the binding message is large"
      )
      const before = (await card.locator(".countdown").textContent()) ?? ""
      assert.match(before, /^[12]:\d\d$/)
      await device.page.waitForTimeout(1_300)
      const after = (await card.locator(".countdown").textContent()) ?? ""
      assert.notStrictEqual(after, before, "the time left counts down")
      await shoot(device.page, "device-desktop")

      await card.getByRole("button", { name: "Approve" }).click()
      await device.page.getByRole("status").filter({ hasText: "Approved: Playground POLL client" }).waitFor()
      await card.waitFor({ state: "detached" })

      const claims = await assertVerifiedTokens(client.page, "user-1", /token endpoint/)
      assert.strictEqual(claims.name, "Taro Yamada")
      assert.strictEqual(claims.acr, "urn:example:acr:device")
      await shoot(client.page, "client-desktop")
      await fitsTheWidth(device.page)
      await fitsTheWidth(client.page)
      noProblems(device, client)
    },
    60_000
  )

  it(
    "PUSH on a phone: the pushed tokens arrive at the client's notification endpoint, and the ID token verifies",
    async () => {
      const { client, device } = await setUp(PHONE)
      await startOnClient(client.page, { mode: "PUSH", subject: "user-2", bindingMessage: "PX7Q" })
      await client.page.getByRole("log").getByText(/Waiting for the tokens at .*\/client\/callback\/push/).waitFor()
      const card = cardOf(device.page, "PX7Q")
      await card.waitFor()
      assert.include((await card.textContent()) ?? "", "Playground PUSH client")
      await fitsTheWidth(device.page)
      await shoot(device.page, "device-phone")

      await card.getByRole("button", { name: "Approve" }).click()
      await client.page.getByRole("log").getByText("Pushed tokens received").waitFor({ timeout: 15_000 })
      const claims = await assertVerifiedTokens(client.page, "user-2", /pushed/)
      assert.strictEqual(claims.email, "alice@example.com")
      const checks = await client.page.locator("#id-token-checks li").allTextContents()
      assert.isTrue(checks.some((check) => check.startsWith("✓ auth_req_id")))
      assert.isTrue(checks.some((check) => check.startsWith("✓ rt_hash")))
      await fitsTheWidth(client.page)
      await shoot(client.page, "client-phone", client.page.locator("section.seen"))
      noProblems(device, client)
    },
    60_000
  )

  it("PING: the ping arrives, then the client asks the token endpoint", async () => {
    const { client, device } = await setUp(DESKTOP)
    await startOnClient(client.page, { mode: "PING", subject: "user-3", bindingMessage: "PING-1" })
    const card = cardOf(device.page, "PING-1")
    await card.waitFor()
    await card.getByRole("button", { name: "Approve" }).click()
    await client.page.getByRole("log").getByText("Ping received").waitFor({ timeout: 15_000 })
    await assertVerifiedTokens(client.page, "user-3", /token endpoint/)
    noProblems(device, client)
  }, 60_000)

  it("deny: the request leaves the device and the client sees access_denied", async () => {
    const { client, device } = await setUp(DESKTOP)
    await startOnClient(client.page, { mode: "POLL", subject: "user-2", bindingMessage: "NOPE" })
    const card = cardOf(device.page, "NOPE")
    await card.getByRole("button", { name: "Deny" }).click()
    await device.page.getByRole("status").filter({ hasText: "Denied: Playground POLL client" }).waitFor()
    await card.waitFor({ state: "detached" })
    await clientStatus(client.page, /^access_denied: /)
    await client.page.getByRole("log").getByText("400 access_denied").waitFor()
    assert.isTrue(await client.page.locator("#result").isHidden(), "no tokens")
    noProblems(device, client)
  }, 60_000)

  it("expiry: an undecided request leaves the device list, and the client sees expired_token", async () => {
    const { client, device } = await setUp(DESKTOP, { expiresIn: 3 })
    const started = Date.now()
    await startOnClient(client.page, { mode: "POLL", subject: "user-1", bindingMessage: "LATE" })
    const card = cardOf(device.page, "LATE")
    await card.waitFor()
    assert.match((await card.locator(".countdown").textContent()) ?? "", /^0:0[1-3]$/)
    await card.waitFor({ state: "detached", timeout: 6_000 })
    assert.isBelow(Date.now() - started, 6_000)
    await device.page.getByText("No pending requests.").waitFor()
    await clientStatus(client.page, /^expired_token/)
    assert.isTrue(await client.page.locator("#result").isHidden(), "no tokens")
    noProblems(device, client)
  }, 60_000)

  it("user_code: the device asks for the user's code before it approves, and refuses a wrong one", async () => {
    const { client, device } = await setUp(DESKTOP, { userCodeRequired: ["POLL"] })
    await client.page.getByRole("radio", { name: "POLL" }).check()
    await client.page.getByText("This client requires a user code").waitFor()
    await startOnClient(client.page, { mode: "POLL", subject: "user-1", bindingMessage: "CODE", userCode: "1111" })
    const card = cardOf(device.page, "CODE")
    await card.waitFor()
    const code = card.getByLabel("User code")
    const approve = card.getByRole("button", { name: "Approve" })

    await approve.click()
    await card.getByRole("alert").filter({ hasText: "Type your user code" }).waitFor()
    await code.fill("9999")
    await approve.click()
    await card.getByRole("alert").filter({ hasText: "That is not your user code (4 more tries)." }).waitFor()
    await code.fill("1111")
    await approve.click()
    await card.waitFor({ state: "detached" })
    await assertVerifiedTokens(client.page, "user-1", /token endpoint/)
    noProblems(device, client)
  }, 60_000)

  it("authorization_details: the device says what exactly is approved, in words, as text", async () => {
    const { device, playground } = await setUp(PHONE)
    const poll = playground.info.clients.find((client) => client.deliveryMode === "POLL")!
    const details = [{
      type: "payment_initiation",
      actions: ["initiate"],
      locations: ["https://bank.example/payments"],
      instructedAmount: { currency: "EUR", amount: "123.50" },
      creditorName: "<b>Merchant</b> A"
    }]
    const answer = await fetch(playground.info.backchannelAuthenticationEndpoint, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${poll.clientId}:${poll.clientSecret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded"
      },
      body: new URLSearchParams({
        scope: "openid",
        login_hint: "user-1",
        binding_message: "PAY",
        authorization_details: JSON.stringify(details)
      }).toString()
    })
    assert.strictEqual(answer.status, 200, await answer.text())
    const card = cardOf(device.page, "PAY")
    await card.waitFor()
    const shown = await card.locator("dl").innerText()
    for (
      const line of [
        "payment_initiation",
        "Actions: initiate",
        "Locations: https://bank.example/payments",
        "Instructed amount: 123.50 EUR",
        "Creditor name: <b>Merchant</b> A"
      ]
    ) assert.include(shown, line)
    // Shown as text: the markup in a value is not an element of the page.
    assert.strictEqual(await card.locator("dl b").count(), 0)
    await fitsTheWidth(device.page)
    noProblems(device)
  }, 60_000)

  it("the device shows only the chosen user's requests", async () => {
    const { client, device } = await setUp(DESKTOP)
    await device.page.getByLabel("Signed in as").selectOption("user-3")
    await startOnClient(client.page, { mode: "POLL", subject: "user-2", bindingMessage: "ALICE" })
    await client.page.getByRole("log").getByText("400 authorization_pending").first().waitFor()
    await startOnClient(client.page, { mode: "POLL", subject: "user-3", bindingMessage: "BOB" })
    await cardOf(device.page, "BOB").waitFor()
    assert.strictEqual(await cardOf(device.page, "ALICE").count(), 0)
    assert.match(device.page.url(), /\?subject=user-3$/)
    noProblems(device, client)
  }, 60_000)
})
