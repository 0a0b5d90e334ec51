/**
 * The HTTP details the client's retry policy and error bodies rest on, and which addresses a
 * client-chosen URL may lead to.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { BlockList } from "node:net"
import { bodyForError, isLoopbackHost, requestedRetryDelayMillis } from "../src/internal/http.js"
import { addressClass, addressRefusal, hostRefusal, transportFailureReason } from "../src/internal/transport.js"

const NOW = Date.parse("2026-11-26T12:00:00Z")

describe("requestedRetryDelayMillis", () => {
  it("reads Retry-After in seconds and as an HTTP date", () => {
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "7" }, NOW), 7_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "Thu, 26 Nov 2026 12:00:30 GMT" }, NOW), 30_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "Thu, 26 Nov 2026 11:00:00 GMT" }, NOW), 0)
  })

  it("falls back to RateLimit-Reset and X-RateLimit-Reset, in seconds or as an epoch time", () => {
    assert.strictEqual(requestedRetryDelayMillis({ "ratelimit-reset": "3" }, NOW), 3_000)
    assert.strictEqual(requestedRetryDelayMillis({ "x-ratelimit-reset": "4" }, NOW), 4_000)
    assert.strictEqual(requestedRetryDelayMillis({ "x-ratelimit-reset": String(NOW / 1000 + 12) }, NOW), 12_000)
    assert.strictEqual(requestedRetryDelayMillis({ "retry-after": "2", "ratelimit-reset": "9" }, NOW), 2_000)
  })

  it("gives nothing for absent or unreadable hints", () => {
    assert.isUndefined(requestedRetryDelayMillis({}, NOW))
    assert.isUndefined(requestedRetryDelayMillis({ "retry-after": "soon" }, NOW))
    assert.isUndefined(requestedRetryDelayMillis({ "ratelimit-reset": "-1" }, NOW))
  })
})

describe("transportFailureReason", () => {
  it("tells a connection never made from one broken in flight, at any depth of the cause chain", () => {
    assert.strictEqual(transportFailureReason({ cause: { cause: { code: "ECONNREFUSED" } } }), "Connect")
    assert.strictEqual(transportFailureReason({ code: "ENOTFOUND" }), "Connect")
    assert.strictEqual(transportFailureReason({ errors: [{ code: "ECONNREFUSED" }] }), "Connect")
    assert.strictEqual(transportFailureReason({ cause: { code: "ECONNRESET" } }), "Transport")
    assert.strictEqual(transportFailureReason(new Error("other side closed")), "Transport")
  })
})

describe("isLoopbackHost", () => {
  it("takes localhost, 127.0.0.0/8 and [::1] only", () => {
    for (const host of ["localhost", "127.0.0.1", "127.255.0.9", "[::1]"]) assert.isTrue(isLoopbackHost(host), host)
    for (const host of ["127.0.0.1.example.com", "10.0.0.1", "example.com", "[::2]"]) {
      assert.isFalse(isLoopbackHost(host), host)
    }
  })
})

describe("bodyForError", () => {
  it("removes known secrets and the values of token fields, and cuts long bodies", () => {
    const body = JSON.stringify({ accessToken: "minted-token-123456", resultMessage: "bad secret-value-abcdef" })
    const kept = bodyForError(body, ["secret-value-abcdef"], 4096)
    assert.notInclude(kept, "minted-token-123456")
    assert.notInclude(kept, "secret-value-abcdef")
    assert.include(kept, "<redacted>")
    assert.strictEqual(bodyForError("x".repeat(5000), [], 100).length, 101)
  })
})

describe("which addresses are public", () => {
  // Each special-purpose block that is not globally reachable (RFC 6890, IANA's registries), with the
  // addresses just outside it and at its two ends; `public` where IANA says "Globally Reachable".
  const ipv4: ReadonlyArray<readonly [string, "public" | "private" | "loopback"]> = [
    ["0.0.0.0", "private"],
    ["0.255.255.255", "private"],
    ["1.0.0.0", "public"],
    ["9.255.255.255", "public"],
    ["10.0.0.0", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.0", "public"],
    ["100.63.255.255", "public"],
    ["100.64.0.0", "private"],
    ["100.127.255.255", "private"],
    ["100.128.0.0", "public"],
    ["126.255.255.255", "public"],
    ["127.0.0.0", "loopback"],
    ["127.255.255.255", "loopback"],
    ["128.0.0.0", "public"],
    ["169.253.255.255", "public"],
    ["169.254.0.0", "private"],
    ["169.254.169.254", "private"],
    ["169.254.255.255", "private"],
    ["169.255.0.0", "public"],
    ["172.15.255.255", "public"],
    ["172.16.0.0", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "public"],
    ["191.255.255.255", "public"],
    ["192.0.0.0", "private"],
    ["192.0.0.8", "private"],
    ["192.0.0.9", "public"], // Port Control Protocol anycast: globally reachable
    ["192.0.0.10", "public"], // TURN anycast: globally reachable
    ["192.0.0.11", "private"],
    ["192.0.0.170", "private"],
    ["192.0.0.255", "private"],
    ["192.0.1.0", "public"],
    ["192.0.1.255", "public"],
    ["192.0.2.0", "private"],
    ["192.0.2.255", "private"],
    ["192.0.3.0", "public"],
    ["192.167.255.255", "public"],
    ["192.168.0.0", "private"],
    ["192.168.255.255", "private"],
    ["192.169.0.0", "public"],
    ["198.17.255.255", "public"],
    ["198.18.0.0", "private"],
    ["198.19.255.255", "private"],
    ["198.20.0.0", "public"],
    ["198.51.99.255", "public"],
    ["198.51.100.0", "private"],
    ["198.51.100.255", "private"],
    ["198.51.101.0", "public"],
    ["203.0.112.255", "public"],
    ["203.0.113.0", "private"],
    ["203.0.113.255", "private"],
    ["203.0.114.0", "public"],
    ["223.255.255.255", "public"],
    ["224.0.0.0", "private"],
    ["239.255.255.255", "private"],
    ["240.0.0.0", "private"],
    ["255.255.255.254", "private"],
    ["255.255.255.255", "private"],
    ["8.8.8.8", "public"]
  ]

  const ipv6: ReadonlyArray<readonly [string, "public" | "private" | "loopback"]> = [
    ["::", "private"],
    ["::1", "loopback"],
    ["::2", "private"], // IPv4-compatible 0.0.0.2
    // IPv4-mapped, IPv4-translated and NAT64 addresses are what they carry.
    ["::ffff:0.0.0.0", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:100.64.0.1", "private"],
    ["::ffff:192.0.2.1", "private"],
    ["::ffff:198.51.100.7", "private"],
    ["::ffff:203.0.113.9", "private"],
    ["::ffff:224.0.0.1", "private"],
    ["::ffff:255.255.255.255", "private"],
    ["::ffff:0:169.254.169.254", "private"],
    ["64:ff9b::8.8.8.8", "public"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::198.18.0.1", "private"],
    ["64:ff9b::203.0.113.1", "private"],
    ["64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "public"],
    ["64:ff9b:1::", "private"],
    ["64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "private"],
    ["64:ff9b:2::", "public"],
    ["ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["100::", "private"],
    ["100::ffff:ffff:ffff:ffff", "private"],
    ["100:0:0:1::", "private"],
    ["100:0:0:1:ffff:ffff:ffff:ffff", "private"],
    ["100:0:0:2::", "public"],
    ["2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2001::", "private"], // Teredo
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "private"],
    ["2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2001:1::", "private"],
    ["2001:1::1", "public"], // Port Control Protocol anycast
    ["2001:1::2", "public"], // TURN anycast
    ["2001:1::4", "private"],
    ["2001:2::", "private"], // benchmarking
    ["2001:2:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2001:3::", "public"], // AMT
    ["2001:3:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2001:4::", "private"],
    ["2001:4:111:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2001:4:112::", "public"], // AS112
    ["2001:4:112:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2001:4:113::", "private"],
    ["2001:10::", "private"], // ORCHID, deprecated
    ["2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2001:20::", "public"], // ORCHIDv2
    ["2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2001:30::", "public"], // drone remote ID
    ["2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2001:40::", "private"],
    ["2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2001:200::", "public"],
    ["2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2001:db8::", "private"],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2001:db9::", "public"],
    ["2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["2002::", "private"], // 6to4
    ["2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2003::", "public"],
    ["3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["3fff::", "private"],
    ["3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["3fff:1000::", "public"],
    ["5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["5f00::", "private"],
    ["5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["5f01::", "public"],
    ["fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["fc00::", "private"],
    ["fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["fe00::", "public"],
    ["fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "public"],
    ["fe80::", "private"],
    ["fe80::1%eth0", "private"],
    ["febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["fec0::", "private"], // site-local, deprecated
    ["feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["ff00::", "private"],
    ["ff02::1", "private"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
    ["2606:4700:4700::1111", "public"]
  ]

  it("IPv4: each side of every special-purpose boundary", () => {
    for (const [address, kind] of ipv4) assert.strictEqual(addressClass(address), kind, address)
  })

  it("IPv6: each side of every special-purpose boundary, and IPv4 carried inside judged as IPv4", () => {
    for (const [address, kind] of ipv6) {
      assert.strictEqual(addressClass(address), kind, address)
      if (!address.includes("%")) assert.strictEqual(addressClass(`[${address}]`), kind, `[${address}]`)
    }
  })

  it("the policy refuses what is not public unless allowed, as a URL names it and as a lookup answers", () => {
    const none = { allowLoopback: false, allowPrivate: false }
    const all = { allowLoopback: true, allowPrivate: true }
    for (const [address, kind] of [...ipv4, ...ipv6]) {
      const refused = addressRefusal(address, none)
      assert.strictEqual(refused === undefined, kind === "public", address)
      assert.isUndefined(addressRefusal(address, all), address)
    }
    // As `new URL` writes hosts: IPv6 in brackets, IPv4 forms normalized.
    for (
      const url of [
        "https://[64:ff9b::a00:1]/",
        "https://198.51.100.1/",
        "https://3405803777/",
        "https://[2001:db8::1]/"
      ]
    ) {
      assert.isDefined(hostRefusal(new URL(url).hostname, none), url)
    }
    assert.isUndefined(hostRefusal(new URL("https://[2001:4860:4860::8888]/").hostname, none))
    assert.isUndefined(hostRefusal("notify.example.com", none), "a DNS name is judged on its addresses")
  })

  // The same blocks in Node's `net.BlockList`, as an independent reading of the prefixes: every IPv4
  // address agrees with it.
  const blocks = [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4],
    ["240.0.0.0", 4]
  ] as const
  const blocked = new BlockList()
  for (const [network, prefix] of blocks) blocked.addSubnet(network, prefix, "ipv4")
  const reachable = new BlockList()
  reachable.addAddress("192.0.0.9", "ipv4")
  reachable.addAddress("192.0.0.10", "ipv4")

  const toNumber = (address: string) => address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0)
  const toAddress = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".")
  // Any address, or one within a few of a block's first or last address.
  const nearBoundaries = fc.tuple(fc.constantFrom(...blocks), fc.boolean(), fc.integer({ min: -3, max: 3 })).map(
    ([[network, prefix], last, offset]) => {
      const first = toNumber(network)
      const edge = last ? first + 2 ** (32 - prefix) - 1 : first
      return toAddress(Math.min(2 ** 32 - 1, Math.max(0, edge + offset)))
    }
  )

  it("IPv4: agrees with net.BlockList on any address, and around every boundary", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), nearBoundaries), (address) => {
        const expected = reachable.check(address, "ipv4") || !blocked.check(address, "ipv4") ? "public" : "not"
        assert.strictEqual(addressClass(address) === "public" ? "public" : "not", expected, address)
      }),
      { numRuns: 5_000 }
    )
  })
})
