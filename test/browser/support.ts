/**
 * What the browser tests share: Debian's Chromium through playwright-core, a playground with its
 * pages for each test, and a watch on each page for console errors, page errors, failed requests
 * and requests that leave the playground's origin.
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { Pages, Playground } from "effect-authlete/playground"
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { type Browser, type BrowserContext, chromium, type Locator, type Page, type Request } from "playwright-core"
import { shrinkPng } from "./png.js"

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

/** The flags of the issue: without the background-networking ones Chromium tries to reach Google. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

export const launch = (): Promise<Browser> => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing: apt-get install -y chromium (looked for ${CHROMIUM})`)
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 })
}

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true }
export const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 }

/** A running playground with its pages, closed with `close`. */
export interface RunningPlayground {
  readonly info: Playground.PlaygroundInfo
  readonly deviceUrl: string
  readonly clientUrl: string
  readonly close: () => Promise<void>
}

export const startPlayground = async (options: Playground.PlaygroundOptions = {}): Promise<RunningPlayground> => {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(
    Layer.buildWithScope(Playground.layer({ interval: 1, routes: Pages.pages(), ...options }), scope)
  )
  const info = Context.get(context, Playground.Playground)
  return {
    info,
    deviceUrl: `${info.issuer}/device`,
    clientUrl: `${info.issuer}/client`,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** A page whose problems are collected: read `problems` before the page closes. */
export interface WatchedPage {
  readonly page: Page
  readonly problems: Array<string>
}

export const openPage = async (context: BrowserContext, url: string): Promise<WatchedPage> => {
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const origin = new URL(url).origin
  const problems: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console.error: ${message.text()} @ ${message.location().url}`)
  })
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`))
  const answered = new WeakSet<Request>()
  page.on("response", (response) => {
    if (response.ok()) answered.add(response.request())
  })
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? ""
    // Chromium reports a body read to its end with `response.body.getReader()` (the consumption
    // device's event stream) as net::ERR_ABORTED once it was answered 2xx, even a small JSON one;
    // the page got every byte. A page that closes aborts its event stream: not a problem either.
    if (page.isClosed() || (reason === "net::ERR_ABORTED" && answered.has(request))) return
    problems.push(`requestfailed: ${request.url()} ${reason}`)
  })
  page.on("request", (request) => {
    const target = request.url()
    if (!target.startsWith(`${origin}/`) && !target.startsWith("data:")) problems.push(`left the origin: ${target}`)
  })
  // "load", not "networkidle": an open EventSource never idles.
  await page.goto(url, { waitUntil: "load" })
  return { page, problems }
}

/** Where screenshots go: `SCREENSHOT_DIR`, or test/browser/screenshots. */
export const SCREENSHOT_DIR = resolve(process.env.SCREENSHOT_DIR ?? "test/browser/screenshots")

/** The README's copies (made small by `shrinkPng`), refreshed when `UPDATE_SCREENSHOTS=1`. */
const DOCS_DIR = resolve("docs/screenshots")

/** The largest README copy allowed. */
export const MAX_DOCS_BYTES = 60_000

/**
 * A screenshot of the viewport at CSS pixels, from the top of the page or of `from`: its path, its
 * size, and the size of its README copy.
 */
export const screenshot = async (
  page: Page,
  name: string,
  from?: Locator
): Promise<{ path: string; bytes: number; docsBytes: number }> => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  if (from === undefined) {
    await page.evaluate(() => (globalThis as unknown as { scrollTo: (x: number, y: number) => void }).scrollTo(0, 0))
  } else {await from.evaluate((node) =>
      (node as { scrollIntoView: (options: unknown) => void }).scrollIntoView({ block: "start" })
    )}
  await page.screenshot({ path, scale: "css", animations: "disabled", caret: "hide" })
  const small = shrinkPng(readFileSync(path))
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(DOCS_DIR, { recursive: true })
    writeFileSync(join(DOCS_DIR, `${name}.png`), small)
  }
  return { path, bytes: statSync(path).size, docsBytes: small.length }
}
