/**
 * Read one entry of a zip archive (some corpora are published only as .zip). Supports the two
 * methods such archives use, 0 (stored) and 8 (deflate); the raw-deflate decoder is passed in so that
 * this module stays free of Node (node-fs.ts has one; a browser can wrap DecompressionStream).
 *
 * Layout (PKWARE APPNOTE): the "end of central directory" record at the end points to the central
 * directory, one record per entry with its name, method, sizes and the offset of its local header;
 * the entry's data follows that local header.
 */

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The entries listed in the central directory. */
export function listZip(zip: Uint8Array, source = 'zip archive'): ZipEntry[] {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // The EOCD record is 22 bytes plus a comment of up to 65535 bytes: search backwards for it.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${source}: not a zip archive (no end-of-central-directory record in its ${zip.length} bytes)`);
  const count = dv.getUint16(eocd + 10, true);
  let at = dv.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > zip.length || dv.getUint32(at, true) !== CENTRAL_SIG) {
      throw new Error(`${source}: corrupt zip central directory (entry ${k} of ${count} at byte ${at})`);
    }
    const nameLen = dv.getUint16(at + 28, true);
    entries.push({
      method: dv.getUint16(at + 10, true),
      compressedSize: dv.getUint32(at + 20, true),
      size: dv.getUint32(at + 24, true),
      name: decoder.decode(zip.subarray(at + 46, at + 46 + nameLen)),
      localOffset: dv.getUint32(at + 42, true),
    });
    at += 46 + nameLen + dv.getUint16(at + 30, true) + dv.getUint16(at + 32, true);
  }
  return entries;
}

/** The uncompressed bytes of the entry called `name` (its full path inside the archive). */
export function readZipEntry(zip: Uint8Array, name: string, inflateRaw: (b: Uint8Array) => Uint8Array, source = 'zip archive'): Uint8Array {
  const entries = listZip(zip, source);
  const e = entries.find((x) => x.name === name);
  if (!e) {
    const names = entries.map((x) => x.name);
    throw new Error(`${source}: no entry "${name}"; it holds ${names.length} entries: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`);
  }
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  if (dv.getUint32(e.localOffset, true) !== LOCAL_SIG) throw new Error(`${source}: corrupt zip (no local header for "${name}")`);
  const start = e.localOffset + 30 + dv.getUint16(e.localOffset + 26, true) + dv.getUint16(e.localOffset + 28, true);
  const raw = zip.subarray(start, start + e.compressedSize);
  let out: Uint8Array;
  if (e.method === 0) out = raw.slice();
  else if (e.method === 8) out = inflateRaw(raw);
  else throw new Error(`${source}: entry "${name}" uses compression method ${e.method}; only 0 (stored) and 8 (deflate) are supported`);
  if (out.length !== e.size) throw new Error(`${source}: entry "${name}" unpacked to ${out.length} bytes, the archive says ${e.size}`);
  return out;
}
