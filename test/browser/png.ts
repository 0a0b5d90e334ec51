/**
 * Makes Chromium's screenshots small enough to commit: the image goes down to at most 128 colours
 * (the most frequent ones; any other pixel takes the nearest of them) and is written as a palette
 * PNG. A page of text on a few backgrounds looks the same, at a third of the bytes or less.
 * Only what Chromium writes is read: 8-bit RGB or RGBA, not interlaced, opaque.
 */
import { deflateSync, inflateSync } from "node:zlib"

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

const crc32 = (bytes: Buffer) => {
  let c = 0xffffffff
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const chunk = (type: string, data: Buffer) => {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, "latin1"), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

interface Rgb {
  readonly width: number
  readonly height: number
  /** 3 bytes a pixel. */
  readonly pixels: Uint8Array
}

/** The pixels of an 8-bit RGB(A) PNG, or undefined for anything else (or any transparency). */
const decode = (png: Buffer): Rgb | undefined => {
  if (!png.subarray(0, 8).equals(SIGNATURE)) return undefined
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const data: Array<Buffer> = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.toString("latin1", offset + 4, offset + 8)
    const body = png.subarray(offset + 8, offset + 8 + length)
    if (type === "IHDR") {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]]
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6)) return undefined
      channels = colour === 6 ? 4 : 3
    } else if (type === "IDAT") data.push(body)
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const rows = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const out = y * stride
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? rows[out + x - channels]! : 0
      const b = y > 0 ? rows[out - stride + x]! : 0
      const c = x >= channels && y > 0 ? rows[out - stride + x - channels]! : 0
      const predictor = filter === 0
        ? 0
        : filter === 1
        ? a
        : filter === 2
        ? b
        : filter === 3
        ? (a + b) >> 1
        : (() => {
          const p = a + b - c
          const pa = Math.abs(p - a)
          const pb = Math.abs(p - b)
          const pc = Math.abs(p - c)
          return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
        })()
      rows[out + x] = (line[x]! + predictor) & 0xff
    }
  }
  const pixels = new Uint8Array(width * height * 3)
  for (let i = 0; i < width * height; i++) {
    if (channels === 4 && rows[i * 4 + 3] !== 255) return undefined
    pixels[i * 3] = rows[i * channels]!
    pixels[i * 3 + 1] = rows[i * channels + 1]!
    pixels[i * 3 + 2] = rows[i * channels + 2]!
  }
  return { width, height, pixels }
}

/** The screenshot with at most `colours` colours (up to 256), as a palette PNG; the original when it cannot be read. */
export const shrinkPng = (png: Buffer, colours = 128): Buffer => {
  const image = decode(png)
  if (image === undefined) return png
  const { height, pixels, width } = image
  const count = new Map<number, number>()
  for (let i = 0; i < pixels.length; i += 3) {
    const key = (pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!
    count.set(key, (count.get(key) ?? 0) + 1)
  }
  const palette = [...count.entries()].sort((a, b) => b[1] - a[1]).slice(0, colours).map(([key]) => key)
  const index = new Map<number, number>(palette.map((key, i) => [key, i]))
  const nearest = (key: number) => {
    let found = index.get(key)
    if (found !== undefined) return found
    const [r, g, b] = [key >> 16, (key >> 8) & 0xff, key & 0xff]
    let best = Infinity
    found = 0
    palette.forEach((other, i) => {
      const distance = ((other >> 16) - r) ** 2 + (((other >> 8) & 0xff) - g) ** 2 + ((other & 0xff) - b) ** 2
      if (distance < best) {
        best = distance
        found = i
      }
    })
    index.set(key, found)
    return found
  }
  const raw = Buffer.alloc(height * (width + 1))
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      raw[y * (width + 1) + 1 + x] = nearest((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!)
    }
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 3, 0, 0, 0], 8)
  const plte = Buffer.alloc(palette.length * 3)
  palette.forEach((key, i) => plte.set([key >> 16, (key >> 8) & 0xff, key & 0xff], i * 3))
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("PLTE", plte),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0))
  ])
}
